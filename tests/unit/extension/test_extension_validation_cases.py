"""tests/unit/validation_cases.json against the extension: each value converted by its option's oslo.config type
(options.py), as Glance reads it, then proxy.validate(). tests/unit/plugins/module_utils runs the same table against
module_utils."""

import os
import sys

import pytest

from glance_store_s3proxy import options, proxy

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import validation_cases  # noqa: E402 pylint: disable=wrong-import-position

CASES = validation_cases.cases()
OPTIONS = {opt.name: opt for opt in options.store_opts()}


def extension_problems(case):
    """(problems, values): the store's values as the extension gets them, and what it refuses."""
    values = {'s3_store_enable_proxy': True, 's3_store_max_retries': None}
    for field, value in case.settings.items():
        opt = OPTIONS['s3_store_proxy_' + field]
        text = validation_cases.as_text(value)
        try:
            values[opt.name] = opt.default if text is None else opt.type(text)
        except ValueError as exc:  # the extension reports it as BadStoreConfiguration (patch._store_values)
            return ['%s has an invalid value: %s' % (opt.name, exc)], values
    return proxy.validate(values), values


def test_every_field_is_an_option_of_the_extension():
    for field in validation_cases.FIELDS:
        assert 's3_store_proxy_' + field in options.OPTION_NAMES


@pytest.mark.parametrize('case', CASES, ids=[case.id for case in CASES])
def test_extension(case):
    problems, values = extension_problems(case)
    validation_cases.assert_outcome(case, 'extension', problems)
    if case.field == 'host' and case.extension == 'valid':
        assert values['s3_store_proxy_host'] == case.normalized
