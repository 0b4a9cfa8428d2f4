# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.glancestore.s3proxy.plugins.module_utils.proxy_url import (
    MASK,
    build_proxy_url,
    mask_proxy_url,
    scrub,
)

RESERVED = 'p@ss:w/rd%#'


# ------------------------------------------------------------ URL building and encoding

def test_build_proxy_url_percent_encodes_reserved_characters():
    url = build_proxy_url('proxy.example.com', 3128, 'glance@corp', RESERVED)
    assert url == 'http://glance%40corp:p%40ss%3Aw%2Frd%25%23@proxy.example.com:3128'


def test_build_proxy_url_round_trips_through_botocore():
    from botocore.httpsession import ProxyConfiguration
    url = build_proxy_url('proxy.example.com', 3128, 'glance-s3', RESERVED)
    headers = ProxyConfiguration(proxies={'http': url}).proxy_headers_for(url)
    import base64
    user_pass = base64.b64decode(headers['Proxy-Authorization'].split()[1]).decode('ascii')
    assert user_pass == 'glance-s3:' + RESERVED


def test_build_proxy_url_without_credentials_and_https_scheme():
    assert build_proxy_url('10.0.0.1', 8443, scheme='https') == 'https://10.0.0.1:8443'


def test_build_proxy_url_brackets_ipv6():
    assert build_proxy_url('fd00::1', 3128) == 'http://[fd00::1]:3128'


# ------------------------------------------------------------ masking

def test_mask_proxy_url_keeps_user_hides_password():
    url = build_proxy_url('proxy', 3128, 'glance-s3', RESERVED)
    assert mask_proxy_url(url) == 'http://glance-s3:%s@proxy:3128' % MASK


def test_mask_proxy_url_without_credentials_is_unchanged():
    assert mask_proxy_url('http://proxy:3128') == 'http://proxy:3128'
    assert mask_proxy_url(None) is None


@pytest.mark.parametrize('text', [
    'failed: %s' % RESERVED,
    'failed: p%40ss%3Aw%2Frd%25%23',
    "Unable to connect to proxy https://glance-s3:p%40ss%3Aw%2Frd%25%23@proxy:3128",
    "botocore left https://***:p%40ss@proxy:3128 visible",
])
def test_scrub_removes_raw_and_encoded_secret(text):
    out = scrub(text, [RESERVED])
    assert RESERVED not in out
    assert 'p%40ss' not in out
    assert MASK in out


def test_scrub_masks_longest_secret_first():
    assert scrub('abc-abcdef', ['abc', 'abcdef']) == '%s-%s' % (MASK, MASK)
