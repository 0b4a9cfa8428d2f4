# -*- coding: utf-8 -*-
# The verdicts on proxy hosts are in tests/unit/validation_cases.json, run against
# this module and against oslo.config itself (through the extension's options).
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.glancestore.s3proxy.plugins.module_utils.host_address import (
    host_address_problem,
    oslo_host_address,
    shown_host,
)
from ansible_collections.glancestore.s3proxy.plugins.module_utils.validation import validate_settings


@pytest.mark.parametrize('value,host', [
    ('proxy.example.com', 'proxy.example.com'), ('proxy.example.com.', 'proxy.example.com'), ('Proxy', 'Proxy'),
    ('10.0.0.1', '10.0.0.1'), ('2001:db8::1', '2001:db8::1'), ('::1', '::1'),
])
def test_host_addresses(value, host):
    assert oslo_host_address(value) == host


@pytest.mark.parametrize('value', ['', 'proxy_1.example.com', '010.0.0.1', '10.0.0.256', '-proxy.example.com',
                                   'proxy.123', '[::1]', 'http://proxy', 'a' * 64 + '.com', 'p\nq'])
def test_bad_host_addresses(value):
    with pytest.raises(ValueError):
        oslo_host_address(value)


@pytest.mark.parametrize('value', ['host\n', 'prox\u212a.example', 'proxy.\u017fxample'])
def test_stricter_than_oslo_config_only_outside_printable_ascii(value):
    assert oslo_host_address(value)  # oslo.config takes it (IGNORECASE, '$' before a newline)
    assert host_address_problem(value)


@pytest.mark.parametrize('value,needle', [
    ('[::1]', 'an IPv6 address is written without brackets'),
    ('fe80::1%eth0', 'not an IPv6 address'),
    ('host name', 'whitespace or control characters'),
    ('a' * 254, 'at most 253 characters'),
    ('256.1.1.1', 'not an IPv4 address'),
    ('example.123', 'its last label is empty or all digits'),
    ('a..b', 'empty label'),
    ('a' * 64 + '.example', 'longer than 63 characters'),
    ('-x', 'starts or ends with a hyphen'),
    ('under_score.example', "label 'under_score' has characters other than letters"),
    ('h\u00f6st.example', 'has characters other than letters'),
])
def test_the_problem_is_named(value, needle):
    assert needle in host_address_problem(value)


@pytest.mark.parametrize('value', ['[::1', 'host#', 'host name', '-x', 'a..b', 'proxy..', '256.1.1.1', '[::1]'])
def test_validate_settings_names_the_problem(value):
    errors = validate_settings({'endpoint_url': 'http://s3.example.com', 'bucket': 'glance', 'proxy_host': value,
                                'proxy_port': 3128})
    assert len(errors) == 1, errors
    assert 'proxy_host %r is not a valid host address' % value in errors[0]
    assert 'HostAddressOpt' in errors[0]


def test_credentials_in_a_host_are_never_shown():
    assert shown_host('glance:S3cret@proxy') == '***@proxy'
    errors = validate_settings({'endpoint_url': 'http://s3.example.com', 'bucket': 'glance',
                                'proxy_host': 'glance:S3cret@proxy', 'proxy_port': 3128})
    assert len(errors) == 1 and 'S3cret' not in errors[0] and '***@proxy' in errors[0]
