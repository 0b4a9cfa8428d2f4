# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from botocore import exceptions as bex

from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import classify_exception


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
