# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from botocore import exceptions as bex

from ansible_collections.glancestore.s3proxy.plugins.module_utils.s3_proxy import (
    MASK,
    build_proxy_url,
    classify_exception,
    is_dns_bucket,
    mask_proxy_url,
    scrub,
    validate_settings,
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


# ------------------------------------------------------------ validation

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
    ({'proxy_port': 0}, 'outside 1-65535'),
    ({'proxy_port': 65536}, 'outside 1-65535'),
    ({'proxy_port': 'abc'}, 'outside 1-65535'),
    ({'proxy_password': None}, 'proxy_user is set but proxy_password is empty'),
    ({'proxy_user': None}, 'proxy_password is set but proxy_user is empty'),
    ({'proxy_user': 'jöhn'}, 'proxy_user contains non-ASCII'),
    ({'proxy_password': 'pässword'}, 'proxy_password contains non-ASCII'),
    ({'proxy_host': 'http://proxy'}, 'bare host name'),
    ({'proxy_host': None}, 'proxy_host is empty'),
    ({'addressing_style': 'virtual', 'bucket': 'Bad_Bucket'}, 'not DNS-safe'),
    ({'ca_bundle': '/nonexistent.pem'}, 'does not exist on this host'),
    ({'proxy_ca_bundle': '/nonexistent.pem'}, 'proxy_ca_bundle'),
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


@pytest.mark.parametrize('name,ok', [('glance', True), ('glance-images-1', True), ('Glance', False),
                                     ('gl', False), ('a_b', False), ('192.168.0.1', False), ('-ab', False)])
def test_is_dns_bucket(name, ok):
    assert is_dns_bucket(name) is ok


# ------------------------------------------------------------ classification of real botocore exceptions

def client_error(status, code, headers=None, op='ListObjectsV2'):
    return bex.ClientError({'Error': {'Code': code, 'Message': 'x'},
                            'ResponseMetadata': {'HTTPStatusCode': status, 'HTTPHeaders': headers or {}}}, op)


@pytest.mark.parametrize('exc,stage,status', [
    (client_error(407, '407', {'proxy-authenticate': 'Basic realm="x"'}), 'proxy_auth', 407),
    (client_error(403, '403', {'x-squid-error': 'ERR_ACCESS_DENIED 0'}), 'proxy_denied', 403),
    (client_error(503, '503', {'x-squid-error': 'ERR_CONNECT_FAIL 111'}), 'upstream_connect', 503),
    (client_error(502, '502', {'x-squid-error': 'ERR_READ_ERROR 104'}), 'upstream_connect', 502),
    (client_error(403, 'SignatureDoesNotMatch', {'x-amz-request-id': '1'}), 's3_auth', 403),
    (client_error(403, 'InvalidAccessKeyId', {'x-amz-request-id': '1'}), 's3_auth', 403),
    (client_error(403, 'AccessDenied', {'x-amz-request-id': '1'}), 's3_permission', 403),
    (client_error(404, 'NoSuchBucket', {'x-amz-request-id': '1'}), 'bucket', 404),
    (client_error(403, '403', {'x-amz-request-id': '1'}, op='HeadBucket'), 's3_permission', 403),
    (client_error(404, '404', {'x-amz-request-id': '1'}, op='HeadBucket'), 'bucket', 404),
    (client_error(500, 'InternalError', {'x-amz-request-id': '1'}), 'upstream_connect', 500),
])
def test_classify_client_errors(exc, stage, status):
    got_stage, got_status = classify_exception(exc)[:2]
    assert (got_stage, got_status) == (stage, status)


@pytest.mark.parametrize('inner,stage,status', [
    (OSError('Tunnel connection failed: 407 Proxy Authentication Required'), 'proxy_auth', 407),
    (OSError('Tunnel connection failed: 403 Forbidden'), 'proxy_denied', 403),
    (OSError('Tunnel connection failed: 503 Service Unavailable'), 'upstream_connect', 503),
    (ConnectionRefusedError(111, 'Connection refused'), 'proxy_connect', None),
    (OSError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'), 'tls', None),
])
def test_classify_proxy_connection_errors_look_inside(inner, stage, status):
    exc = bex.ProxyConnectionError(proxy_url='http://u:***@proxy:3128', error=inner)
    got_stage, got_status, detail = [classify_exception(exc)[i] for i in (0, 1, 3)]
    assert (got_stage, got_status) == (stage, status)
    assert str(inner) in detail


def test_classify_ssl_error():
    exc = bex.SSLError(endpoint_url='https://s3', error=OSError('certificate verify failed'))
    assert classify_exception(exc)[0] == 'tls'


def test_classify_endpoint_connection_error():
    exc = bex.EndpointConnectionError(endpoint_url='http://s3:8333')
    assert classify_exception(exc)[0] == 'upstream_connect'


def test_classify_read_timeout():
    exc = bex.ReadTimeoutError(endpoint_url='http://s3:8333', error='timed out')
    assert classify_exception(exc)[0] == 'upstream_connect'


def test_classify_param_validation_is_config():
    exc = bex.ParamValidationError(report='Invalid bucket name')
    assert classify_exception(exc)[0] == 'config'
