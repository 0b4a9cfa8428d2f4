# -*- coding: utf-8 -*-
"""tests/unit/validation_cases.json against module_utils: validate_settings (the module's and the role's check)
and glance_config's reader (which mirrors the extension). tests/unit/extension runs the same table against the
extension itself."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_config
from ansible_collections.glancestore.s3proxy.plugins.module_utils.host_address import normalize_host_address
from ansible_collections.glancestore.s3proxy.plugins.module_utils.validation import validate_settings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
import validation_cases  # noqa: E402 pylint: disable=wrong-import-position

CASES = validation_cases.cases()
PARAMETERS = {'host': 'proxy_host', 'port': 'proxy_port', 'user': 'proxy_user', 'password': 'proxy_password',
              'scheme': 'proxy_scheme', 'cacert': 'proxy_ca_bundle'}
DEFAULTS = {'port': 8080, 'scheme': 'http'}  # the module's argument spec, the role's PROXY_DEFAULTS


def module_errors(case):
    settings = {'endpoint_url': 'http://s3.example.com:8333', 'bucket': 'glance'}
    for field, value in case.settings.items():
        settings[PARAMETERS[field]] = DEFAULTS.get(field) if value is None else value
    return validate_settings(settings)


def reader_problems(case):
    """glance_config's reader on the same values: oslo.config's conversion, then the extension's checks."""
    opts = {'s3_store_enable_proxy': True}
    for field, value in case.settings.items():
        name = 's3_store_proxy_' + field
        kind, default, limits = glance_config.S3_OPTIONS[name]
        text = validation_cases.as_text(value)
        try:
            opts[name] = default if text is None else glance_config.convert(kind, text, limits)
        except ValueError as exc:
            return ['%s: %s' % (name, exc)]
    return glance_config._proxy_problems(opts, 's3', 'glance-api.conf')  # pylint: disable=protected-access


# ------------------------------------------------------------ the table itself

def test_every_case_is_well_formed():
    seen = set()
    for case in CASES:
        assert case.field in validation_cases.FIELDS, case.raw
        assert set(case.raw.get('with') or {}) <= set(validation_cases.FIELDS), case.raw
        assert case.module in validation_cases.VERDICTS and case.extension in validation_cases.VERDICTS, case.raw
        if 'verdict' in case.raw:
            assert not {'module', 'extension', 'why'} & set(case.raw), 'a verdict for both, or one per side: %r' % case.raw
        else:
            assert case.module != case.extension and case.raw.get('why'), 'a difference needs a why: %r' % case.raw
        assert set(case.message) <= {'module', 'extension'}, case.raw
        key = (case.field, repr(case.value), repr(sorted((case.raw.get('with') or {}).items())))
        assert key not in seen, 'duplicate case %r' % case.raw
        seen.add(key)


def test_every_field_has_cases_both_ways():
    for field in validation_cases.FIELDS:
        verdicts = set(case.module for case in CASES if case.field == field)
        assert verdicts == set(validation_cases.VERDICTS), field


def test_host_cases_are_many_and_mixed():
    hosts = [case for case in CASES if case.field == 'host']
    assert len(hosts) > 40
    accepted = [case for case in hosts if case.extension == 'valid']
    assert 15 < len(accepted) < len(hosts) - 15


def test_the_base_is_valid():
    assert module_errors(validation_cases.Case(-1, {'field': 'host', 'value': 'proxy.example.com'})) == []


# ------------------------------------------------------------ module_utils

@pytest.mark.parametrize('case', CASES, ids=[case.id for case in CASES])
def test_module_utils(case):
    validation_cases.assert_outcome(case, 'module', module_errors(case))
    if case.field == 'host' and case.module == 'valid' and case.value:
        assert normalize_host_address(case.value) == case.normalized


@pytest.mark.parametrize('case', [case for case in CASES if case.field != 'cacert'],
                         ids=[case.id for case in CASES if case.field != 'cacert'])
def test_glance_config_reader_agrees_with_the_extension(case):
    problems = reader_problems(case)
    assert ('invalid' if problems else 'valid') == case.extension, problems
