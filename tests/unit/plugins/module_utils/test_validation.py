# -*- coding: utf-8 -*-
# The rules of the store's own settings. The proxy's host, port, user, password,
# scheme and CA bundle are judged by tests/unit/validation_cases.json, the
# table shared with the extension (test_validation_cases.py).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.glancestore.s3proxy.plugins.module_utils.validation import (
    credential_problems,
    is_dns_bucket,
    validate_settings,
)

RESERVED = 'p@ss:w/rd%#'


def good(**over):
    settings = {'endpoint_url': 'http://s3:8333', 'bucket': 'glance', 'proxy_host': 'proxy', 'proxy_port': 3128,
                'proxy_user': 'u', 'proxy_password': RESERVED, 'proxy_scheme': 'http'}
    settings.update(over)
    return settings


def test_valid_settings_have_no_errors():
    assert validate_settings(good()) == []


@pytest.mark.parametrize('over,needle', [
    ({'endpoint_url': 's3:8333'}, 'has no scheme'),
    ({'endpoint_url': ''}, 'endpoint_url is empty'),
    ({'bucket': ''}, 'bucket is empty'),
    ({'proxy_host': None}, 'proxy_host is empty'),
    ({'addressing_style': 'virtual', 'bucket': 'Bad_Bucket'}, 'not DNS-safe'),
    ({'ca_bundle': '/nonexistent.pem'}, 'does not exist on this host'),
])
def test_each_validation_rule(over, needle):
    errors = validate_settings(good(**over))
    assert len(errors) == 1, errors
    assert needle in errors[0]


def test_validation_never_echoes_the_password():
    errors = validate_settings(good(proxy_password='pässword', proxy_port=0))
    assert len(errors) == 2
    assert not any('pässword' in e for e in errors)


def test_source_prefix_names_the_file():
    errors = validate_settings(good(proxy_port=0), source='/etc/glance/glance-api.conf [s3]')
    assert errors[0].startswith('/etc/glance/glance-api.conf [s3]: proxy_port')


def test_credential_problems_come_in_the_extensions_order():
    assert credential_problems('glänce', None) == [('proxy_user', 'alone'), ('proxy_user', 'non_ascii')]
    assert credential_problems(None, 'pässword') == [('proxy_password', 'alone'), ('proxy_password', 'non_ascii')]
    assert credential_problems('glänce', 'pässword') == [('proxy_user', 'non_ascii'), ('proxy_password', 'non_ascii')]
    assert credential_problems(None, None) == [] and credential_problems('', '') == []


@pytest.mark.parametrize('name,ok', [('glance', True), ('glance-images-1', True), ('Glance', False),
                                     ('gl', False), ('a_b', False), ('192.168.0.1', False), ('-ab', False)])
def test_is_dns_bucket(name, ok):
    assert is_dns_bucket(name) is ok
