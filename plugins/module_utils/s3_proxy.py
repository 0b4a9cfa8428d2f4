# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared helpers for glancestore.s3proxy: proxy URLs, masking, validation
and naming the layer that failed (Glance's configuration: glance_config.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

try:
    from urllib.parse import quote, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urllib import quote  # type: ignore
    from urlparse import urlsplit  # type: ignore


MASK = '********'
MIB = 1024 * 1024

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


# --------------------------------------------------------------------------
# URLs and masking
# --------------------------------------------------------------------------

def _quote_cred(value):
    # botocore unquote()s the user info of a proxy URL, so every reserved
    # character has to be percent-encoded: '@' ':' '/' '%' '#' and friends.
    return quote(value, safe='')


def build_proxy_url(host, port, user=None, password=None, scheme='http'):
    """Return the proxy URL botocore expects, credentials percent-encoded."""
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host  # a bare IPv6 address
    userinfo = ''
    if user:
        userinfo = '%s:%s@' % (_quote_cred(user), _quote_cred(password or ''))
    return '%s://%s%s:%d' % (scheme, userinfo, host, int(port))


def mask_proxy_url(url):
    """Hide the password of a proxy URL; keep the user name visible."""
    if not url:
        return url
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url
    userinfo, hostport = parts.netloc.rsplit('@', 1)
    user = userinfo.split(':', 1)[0]
    return '%s://%s:%s@%s%s' % (parts.scheme, user, MASK, hostport, parts.path or '')


def secret_variants(secrets):
    """Every form in which a secret could surface in a message."""
    out = set()
    for secret in secrets:
        if not secret:
            continue
        out.add(secret)
        out.add(_quote_cred(secret))
        out.add(quote(secret))
    # Longest first, so a secret that contains another is masked whole.
    return sorted(out, key=len, reverse=True)


def scrub(text, secrets):
    """Mask every secret (raw or percent-encoded) inside ``text``."""
    if text is None:
        return None
    text = str(text)
    for variant in secret_variants(secrets):
        text = text.replace(variant, MASK)
    # Any user:password@ left in a URL (botocore's masking can leak).
    return re.sub(r'(://[^:/@\s]*):[^@\s/]*@', r'\1:%s@' % MASK, text)


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def _is_ascii(value):
    try:
        value.encode('ascii')
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return True


def validate_settings(settings, source='module'):
    """Return a list of (field, problem and fix) strings; empty when valid.

    ``settings`` uses the module's parameter names. ``source`` says where the
    values came from, so a message points at the right thing to edit.
    """
    errors = []
    endpoint = settings.get('endpoint_url') or ''
    if not endpoint:
        errors.append('endpoint_url is empty: set the S3 endpoint, for example https://s3.example.com:443.')
    elif not re.match(r'^https?://[^/\s]+', endpoint):
        errors.append("endpoint_url %r has no scheme: write it as http://%s or https://%s"
                      " (botocore rejects a bare host:port)." % (endpoint, endpoint, endpoint))
    if not settings.get('bucket'):
        errors.append('bucket is empty: set the bucket Glance stores images in.')

    addressing = settings.get('addressing_style') or 'auto'
    if addressing not in ('auto', 'path', 'virtual'):
        errors.append('addressing_style %r is not one of auto, path, virtual.' % addressing)
    elif addressing == 'virtual' and settings.get('bucket') and not is_dns_bucket(settings['bucket']):
        errors.append('bucket %r is not DNS-safe, so virtual addressing cannot work:'
                      ' use addressing_style path, or a bucket of lower-case letters,'
                      ' digits and hyphens.' % settings['bucket'])

    host = settings.get('proxy_host')
    if host:
        port = settings.get('proxy_port')
        try:
            port_ok = 1 <= int(port) <= 65535
        except (TypeError, ValueError):
            port_ok = False
        if not port_ok:
            errors.append('proxy_port %r is outside 1-65535: set the port the proxy listens on (often 3128 or 8080).' % (port,))
        if settings.get('proxy_scheme', 'http') not in ('http', 'https'):
            errors.append('proxy_scheme %r is not http or https.' % settings.get('proxy_scheme'))
        if '://' in host or '/' in host or '@' in host:
            errors.append('proxy_host %r must be a bare host name or address, without scheme, credentials or path.' % shown_host(host))
        else:
            problem = host_address_problem(host)
            if problem:
                errors.append('proxy_host %r is not a valid host address (%s). Glance reads s3_store_proxy_host as an'
                              ' oslo.config HostAddressOpt and refuses it: use an IPv4 or IPv6 address (IPv6 without'
                              ' brackets) or a host name of dot-separated labels of letters, digits and inner hyphens.'
                              % (shown_host(host), problem))
    user = settings.get('proxy_user')
    password = settings.get('proxy_password')
    if user and not password:
        errors.append('proxy_user is set but proxy_password is empty: set both, or neither for a proxy without authentication.')
    if password and not user:
        errors.append('proxy_password is set but proxy_user is empty: set both, or neither for a proxy without authentication.')
    if user and not _is_ascii(user):
        errors.append('proxy_user contains non-ASCII characters: botocore sends Basic proxy auth in ASCII only; use an ASCII user name.')
    if password and not _is_ascii(password):
        errors.append('proxy_password contains non-ASCII characters: botocore sends Basic proxy auth in ASCII only;'
                      ' use an ASCII password (reserved characters such as @ : / %% # are fine).')
    if (user or password) and not host:
        errors.append('proxy credentials are set but proxy_host is empty: set proxy_host.')

    for field in ('ca_bundle', 'proxy_ca_bundle'):
        path = settings.get(field)
        if path and not os.path.isfile(path):
            errors.append('%s %r does not exist on this host: copy the CA bundle there or fix the path.' % (field, path))

    if source != 'module':
        errors = ['%s: %s' % (source, e) for e in errors]
    return errors


def is_dns_bucket(name):
    """A bucket name usable in virtual-hosted addressing."""
    if not 3 <= len(name) <= 63:
        return False
    if not re.match(r'^[a-z0-9][a-z0-9-]*[a-z0-9]$', name):
        return False
    return not re.match(r'^\d+\.\d+\.\d+\.\d+$', name)


# --------------------------------------------------------------------------
# Glance's configuration
# --------------------------------------------------------------------------

def backend_entries(enabled_backends):
    """``[DEFAULT] enabled_backends`` (``id:type, ...``) as a list of (id, type), in order."""
    entries = []
    for entry in (enabled_backends or '').split(','):
        if ':' in entry:
            name, kind = entry.split(':', 1)
            entries.append((name.strip(), kind.strip()))
    return entries


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


# --------------------------------------------------------------------------
# Host addresses, as oslo.config's HostAddressOpt checks them
# --------------------------------------------------------------------------

# oslo_config.types.Hostname.HOSTNAME_REGEX is '(?!-)[A-Z0-9-]{1,63}(?<!-)$'
# matched with re.IGNORECASE. Two deliberate differences, both stricter: the
# class is ASCII only (under IGNORECASE oslo's [A-Z] also takes U+212A KELVIN
# SIGN, U+017F LONG S and dotted/dotless I) and the label must end at \Z (oslo's
# '$' also matches before a trailing newline). Neither form can come out of an
# INI file, and botocore cannot connect to either.
_HOST_LABEL_RE = re.compile(r'^(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z')
_TLD_NON_NUMERIC_RE = re.compile(r'[a-zA-Z-]')


def _is_ipv4(value):
    # netaddr.valid_ipv4(value, INET_PTON): no ':' and no octet with a
    # leading zero, then the platform's inet_pton (four decimal octets 0-255).
    import socket  # here, not at the top: this section is appended to a shared file
    if ':' in value or any(len(p) > 1 and p.startswith('0') for p in value.split('.')):
        return False
    try:
        socket.inet_pton(socket.AF_INET, value)
    except (OSError, ValueError):  # ValueError: NUL or non-ASCII characters
        return False
    return True


def _is_ipv6(value):
    # netaddr.valid_ipv6(value, INET_PTON) is inet_pton(AF_INET6): no
    # brackets, no zone index ('%eth0'), no prefix length.
    import socket
    try:
        socket.inet_pton(socket.AF_INET6, value)
    except (OSError, ValueError):
        return False
    return True


def shown_host(host):
    """A proxy host as it may appear in a message: anything up to an '@' may be credentials, never shown."""
    host = str(host)
    if '@' in host:
        return '***@' + host.rsplit('@', 1)[1]
    return host


def host_address_problem(value):
    """Why ``value`` is not an oslo.config ``HostAddress``; None when it is one.

    Mirrors ``oslo_config.types.HostAddress()``: a valid IPv4 or IPv6 address
    (``IPAddress``), else a valid host name (``Hostname``: at most 253
    characters, one trailing dot allowed, labels of 1-63 letters, digits and
    hyphens that neither start nor end with a hyphen, and a top-level label that
    is not all digits).
    """
    value = str(value)
    if not value:
        return 'it is empty'
    if _is_ipv4(value) or _is_ipv6(value):
        return None
    if value.startswith('[') or value.endswith(']'):
        return 'an IPv6 address is written without brackets'
    if ':' in value:
        return 'not an IPv6 address: write it without brackets, zone index or prefix length, or give a host name without a port'
    if re.search(r'[\s\x00-\x1f\x7f]', value):
        return 'it contains whitespace or control characters'
    if len(value) > 253:
        return 'a host name has at most 253 characters'
    name = value[:-1] if value.endswith('.') else value
    labels = name.split('.')
    if not _TLD_NON_NUMERIC_RE.search(labels[-1]):
        if re.match(r'^[0-9.]*[0-9][0-9.]*\Z', name):
            return 'not an IPv4 address (four decimal octets 0-255 without leading zeros)'
        return 'its last label is empty or all digits'
    for label in labels:
        if not _HOST_LABEL_RE.match(label):
            if not label:
                return 'it has an empty label (two dots in a row, or a leading dot)'
            if len(label) > 63:
                return 'label %r is longer than 63 characters' % label[:20]
            if label.startswith('-') or label.endswith('-'):
                return 'label %r starts or ends with a hyphen' % label
            return 'label %r has characters other than letters, digits and hyphens' % label
    return None


def normalize_host_address(value):
    """The host oslo.config hands Glance: a host name loses one trailing dot."""
    if value and not _is_ipv4(value) and not _is_ipv6(value) and value.endswith('.'):
        return value[:-1]
    return value
