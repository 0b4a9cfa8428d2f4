# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Which layer of the Glance host -> proxy -> S3 path failed, and what to do about it.

``CheckError`` carries a stage; ``classify_exception`` maps a botocore or
urllib3 exception to one; ``advice`` says what to check for each stage.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re


S3_AUTH_CODES = frozenset((
    'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AuthorizationHeaderMalformed',
    'InvalidToken', 'ExpiredToken', 'RequestTimeTooSkewed', 'InvalidSecurity',
    'MissingSecurityHeader', 'AuthorizationQueryParametersError',
))
S3_PERMISSION_CODES = frozenset(('AccessDenied', 'AllAccessDisabled', 'AccountProblem'))
BUCKET_CODES = frozenset(('NoSuchBucket', 'PermanentRedirect', 'InvalidBucketName', 'IllegalLocationConstraintException'))


class CheckError(Exception):
    """A failure tied to one layer of the Glance host -> proxy -> S3 path."""

    def __init__(self, stage, msg, http_status=None, error_code=None):
        super(CheckError, self).__init__(msg)
        self.stage = stage
        self.msg = msg
        self.http_status = http_status
        self.error_code = error_code


_STATUS_RE = re.compile(r'\b(40[37]|50[234])\b')


def _proxy_stage_from_text(text):
    match = _STATUS_RE.search(text or '')
    status = int(match.group(1)) if match else None
    if status == 407:
        return 'proxy_auth', status
    if status == 403:
        return 'proxy_denied', status
    if status in (502, 503, 504):
        return 'upstream_connect', status
    return None, None


def _is_tls_text(text):
    text = (text or '').lower()
    return 'ssl' in text or 'certificate' in text or 'tls' in text


_ADVICE = {
    'proxy_connect': 'the proxy could not be reached: check proxy_host/proxy_port, that the proxy runs, and that this host may connect to it.',
    'proxy_auth': 'the proxy refused the credentials (407 Proxy Authentication Required): check proxy_user and proxy_password.',
    'proxy_denied': 'the proxy denied the request (403): allow this host, the S3 host and its port in the proxy ACLs'
                    ' (for Squid: http_access, SSL_ports for CONNECT, Safe_ports).',
    'upstream_connect': 'the proxy could not reach S3: check the endpoint host and port from the proxy, its DNS, and that S3 runs.',
    'tls': 'a TLS handshake failed: check ca_bundle for the S3 endpoint (or proxy_ca_bundle for an https proxy) and the certificate name.',
    's3_auth': 'S3 rejected the credentials: check access_key and secret_key.',
    's3_permission': 'S3 denied the operation: give the access key read, write and delete rights on the bucket.',
    'bucket': 'the bucket is missing or unusable: create it or fix the bucket name and region.',
    'data': 'the object read back differs from what was written: something between Glance and S3 alters data.',
    'direct_path_open': 'S3 answered without the proxy: this host can bypass the proxy; block the direct route to S3.',
    'config': 'the settings are invalid.',
}


def advice(stage):
    return _ADVICE.get(stage, '')


def classify_exception(exc, proxied=True):
    """Map a botocore/urllib3 exception to (stage, http_status, error_code, detail)."""
    # Imported lazily: module_utils must import without botocore.
    from botocore import exceptions as bex

    detail = str(exc)
    if isinstance(exc, bex.ClientError):
        err = exc.response.get('Error', {}) or {}
        meta = exc.response.get('ResponseMetadata', {}) or {}
        code = err.get('Code')
        status = meta.get('HTTPStatusCode')
        headers = dict((k.lower(), v) for k, v in (meta.get('HTTPHeaders') or {}).items())
        from_proxy = 'x-squid-error' in headers or 'proxy-authenticate' in headers or (
            code is not None and str(code).isdigit() and not headers.get('x-amz-request-id'))
        if status == 407 or code == '407':
            return 'proxy_auth', 407, code, detail
        if code in S3_AUTH_CODES:
            return 's3_auth', status, code, detail
        if code in S3_PERMISSION_CODES:
            return 's3_permission', status, code, detail
        if code in BUCKET_CODES:
            return 'bucket', status, code, detail
        if from_proxy and proxied and status == 403:
            return 'proxy_denied', status, code, detail
        if status in (502, 503, 504) and (from_proxy or not proxied):
            return 'upstream_connect', status, code, detail
        if status is not None and status >= 500:
            return 'upstream_connect', status, code, detail
        if status == 403:
            return 's3_permission', status, code, detail
        if status == 404:
            return 'bucket', status, code, detail
        return 'config', status, code, detail

    if isinstance(exc, bex.ProxyConnectionError):
        inner = exc.kwargs.get('error')
        text = str(inner) if inner is not None else detail
        stage, status = _proxy_stage_from_text(text)
        if stage:
            return stage, status, str(status), text
        if _is_tls_text(text):
            return 'tls', None, 'ProxyTLSError', text
        return 'proxy_connect', None, 'ProxyConnectionError', text

    if isinstance(exc, bex.SSLError):
        return 'tls', None, 'SSLError', detail
    if isinstance(exc, (bex.ConnectTimeoutError, bex.EndpointConnectionError)):
        text = str(exc.kwargs.get('error', detail))
        if _is_tls_text(text):
            return 'tls', None, 'SSLError', text
        return 'upstream_connect', None, type(exc).__name__, text
    if isinstance(exc, bex.ConnectionClosedError) and proxied and 'reset by peer' in (
            '%s %r' % (detail, exc.kwargs.get('error'))).lower():
        # The proxy itself reset the connection before any answer (Squid answers an unreachable S3 with 503):
        # typically plain http sent to a TLS proxy port.
        return 'proxy_connect', None, 'ProxyConnectionReset', (
            '%s (the proxy reset the connection: if its port speaks TLS, set proxy_scheme https,'
            ' s3_store_proxy_scheme in Glance)' % detail)
    if isinstance(exc, (bex.ReadTimeoutError, bex.ConnectionClosedError)):
        return 'upstream_connect', None, type(exc).__name__, detail
    if isinstance(exc, (bex.ParamValidationError, bex.InvalidDNSNameError, ValueError)):
        return 'config', None, type(exc).__name__, detail
    if _is_tls_text(detail):
        return 'tls', None, type(exc).__name__, detail
    return 'config', None, type(exc).__name__, detail
