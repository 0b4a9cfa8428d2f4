"""s3_proxy_check with TLS to the proxy itself (proxy_scheme: https, proxy_ca_bundle),
against a real Squid built with OpenSSL (https_port, certificate signed by the lab
CA), with Basic auth, in front of a real SeaweedFS reachable only through Squid."""

import base64
import uuid

import pytest

from lab.netlab import USERS, access_log_lines, access_log_len, tls_proxy

USER = 'glance-s3'
PASSWORD = USERS[USER]  # reserved characters on purpose (lab/constants.yml): the URL must encode them


@pytest.fixture
def tls(lab):
    """The TLS Squid of the lab (fails, never skips, when it is missing)."""
    return tls_proxy(lab)


def tls_args(lab, endpoint=None, **over):
    ident = lab['s3']['identities']['glance']
    args = {
        'endpoint_url': endpoint or lab['s3']['http_endpoint'],
        'bucket': 'glance',
        'access_key': ident['access_key'],
        'secret_key': ident['secret_key'],
        'addressing_style': 'path',
        'ca_bundle': lab['certs']['ca'],
        'proxy_host': lab['proxy']['host'],
        'proxy_port': lab['proxy']['tls_port'],
        'proxy_scheme': 'https',
        'proxy_ca_bundle': lab['certs']['ca'],
        'proxy_user': USER,
        'proxy_password': PASSWORD,
        'object_prefix': 'https-proxy-%s/' % uuid.uuid4().hex,
        'connect_timeout': 5,
        'read_timeout': 30,
    }
    args.update(over)
    return args


def secret_forms(user, password):
    """Raw, percent-encoded (both ways) and the Basic credentials of user:password."""
    from urllib.parse import quote
    return (password, quote(password, safe=''), quote(password),
            base64.b64encode(('%s:%s' % (user, password)).encode()).decode())


def assert_no_secret(lab, text, user=USER, password=PASSWORD):
    for secret in secret_forms(user, password) + (lab['s3']['identities']['glance']['secret_key'],):
        assert secret not in text, 'a secret form leaked: %r' % secret


def own_lines(lab, squid, before, prefix):
    return [line for line in access_log_lines(lab, before, squid=squid) if prefix in line]


# ---------------------------------------------------------------- success

def test_http_endpoint_multipart_through_tls_proxy(lab, tls, run_check):
    before_tls, before_plain = access_log_len(lab, 'squid_tls'), access_log_len(lab)
    args = tls_args(lab, probe='multipart', expect_direct_blocked=True)
    result = run_check(args)
    assert result['reachable'] is True, result['msg']
    assert result['stage'] is None
    assert result['probes_run'] == ['read', 'write', 'multipart', 'direct']
    assert result['direct_path']['blocked'] is True
    assert result['multipart']['etag'].endswith('-2')
    assert result['proxy_url'] == 'https://%s:********@%s:%d' % (USER, lab['proxy']['host'], lab['proxy']['tls_port'])
    assert 'through proxy https://%s:********@' % USER in result['msg']
    lines = own_lines(lab, 'squid_tls', before_tls, args['object_prefix'])
    # Absolute-URI forwarding inside TLS: Squid sees (and logs) each request and the proxy user.
    assert any('?uploads' in line for line in lines), lines
    assert sum(1 for line in lines if 'partNumber=' in line and 'uploadId=' in line) == 2, lines
    assert {line.split()[5] for line in lines} >= {'PUT', 'GET', 'DELETE', 'POST'}, lines
    assert all(' %s ' % USER in line and 'TCP_MISS/' in line for line in lines), lines
    # Nothing of this run went through the plain Squid.
    assert not own_lines(lab, 'squid', before_plain, args['object_prefix'])
    assert_no_secret(lab, result.output)


def test_https_endpoint_tls_in_tls_through_tls_proxy(lab, tls, run_check):
    before_tls = access_log_len(lab, 'squid_tls')
    args = tls_args(lab, endpoint=lab['s3']['https_endpoint'], probe='multipart', expect_direct_blocked=True)
    result = run_check(args)
    assert result['reachable'] is True, result['msg']
    assert result['probes_run'] == ['read', 'write', 'multipart', 'direct']
    assert result['multipart']['etag'].endswith('-2')
    # CONNECT inside the TLS connection to the proxy, then TLS to S3 inside the tunnel.
    lines = access_log_lines(lab, before_tls, squid='squid_tls')
    tunnels = [line for line in lines if 'TCP_TUNNEL/200' in line and 'CONNECT s3.lab.test:8443' in line
               and ' %s ' % USER in line]
    assert tunnels, lines
    # 2 x 8 MiB went through the tunnel (bytes column), proof the data used the TLS proxy.
    assert sum(int(line.split()[4]) for line in tunnels) >= 16 * 1024 * 1024, tunnels
    assert_no_secret(lab, result.output)


def test_second_user_with_dollar_in_password(lab, tls, run_check):
    user = 'glance-s3b'
    before = access_log_len(lab, 'squid_tls')
    args = tls_args(lab, proxy_user=user, proxy_password=USERS[user], probe='write')
    result = run_check(args)
    assert result['reachable'] is True, result['msg']
    lines = own_lines(lab, 'squid_tls', before, args['object_prefix'])
    assert lines and all(' %s ' % user in line for line in lines), lines
    assert_no_secret(lab, result.output, user=user, password=USERS[user])


def test_check_mode_through_tls_proxy_only_reads(lab, tls, run_check):
    before = access_log_len(lab, 'squid_tls')
    result = run_check(tls_args(lab, probe='multipart'), check=True)
    assert result['reachable'] is True, result['msg']
    assert result['changed'] is False
    assert result['probes_run'] == ['read']
    methods = [line.split()[5] for line in access_log_lines(lab, before, squid='squid_tls') if ' %s ' % USER in line]
    assert methods and set(methods) == {'GET'}, methods


# ---------------------------------------------------------------- failures

@pytest.mark.parametrize('endpoint', ['http_endpoint', 'https_endpoint'])
def test_stage_tls_wrong_proxy_ca(lab, tls, run_check, endpoint):
    """The proxy's certificate is not signed by proxy_ca_bundle: stage tls, before any credentials are sent."""
    before = access_log_len(lab, 'squid_tls')
    args = tls_args(lab, endpoint=lab['s3'][endpoint], proxy_ca_bundle=lab['certs']['other_ca'], probe='write')
    result = run_check(args, verbosity=3)
    assert result['reachable'] is False
    assert result['stage'] == 'tls', result['msg']
    assert result['error_code'] == 'ProxyTLSError'
    assert 'proxy_ca_bundle' in result['msg']
    assert 'CERTIFICATE_VERIFY_FAILED' in result['msg']
    assert result['probes_run'] == []
    # The handshake failed, so Squid never saw a request, let alone the credentials.
    lines = access_log_lines(lab, before, squid='squid_tls')
    assert not any(' %s ' % USER in line for line in lines), lines
    assert_no_secret(lab, result.output)


def test_stage_tls_proxy_ca_omitted_https_endpoint(lab, tls, run_check):
    """Without proxy_ca_bundle the proxy must be trusted by the S3 CA bundle; the system CAs do not know the lab CA."""
    args = tls_args(lab, endpoint=lab['s3']['https_endpoint'], proxy_ca_bundle=None, ca_bundle=None)
    result = run_check(args)
    assert result['stage'] == 'tls', result['msg']
    assert 'CERTIFICATE_VERIFY_FAILED' in result['msg']
    assert_no_secret(lab, result.output)


def test_stage_tls_proxy_ca_omitted_http_endpoint_is_verified(lab, tls, run_check):
    """The proxy's certificate (lab CA) is unknown to the default CA bundle: this must fail at stage tls."""
    before = access_log_len(lab, 'squid_tls')
    args = tls_args(lab, proxy_ca_bundle=None, probe='read')
    result = run_check(args)
    lines = access_log_lines(lab, before, squid='squid_tls')
    assert result['stage'] == 'tls', (result['msg'], lines)
    assert not any(' %s ' % USER in line for line in lines), lines


def test_plain_http_client_to_tls_port_http_endpoint(lab, tls, run_check):
    """proxy_scheme http against the https_port: Squid resets the connection; the layer is the proxy."""
    args = tls_args(lab, proxy_scheme='http', proxy_ca_bundle=None, probe='read')
    result = run_check(args, verbosity=3)
    assert result['reachable'] is False
    assert result['stage'] == 'proxy_connect', result['msg']
    assert result['http_status'] is None
    assert result['proxy_url'].startswith('http://%s:********@' % USER)
    # Says which layer and what to check, with the transport error.
    assert 'the proxy could not be reached' in result['msg']
    assert 'proxy_host/proxy_port' in result['msg']
    assert 'Connection reset by peer' in result['msg']
    assert_no_secret(lab, result.output)


def test_plain_http_client_to_tls_port_https_endpoint(lab, tls, run_check):
    args = tls_args(lab, endpoint=lab['s3']['https_endpoint'], proxy_scheme='http', proxy_ca_bundle=None)
    result = run_check(args)
    assert result['reachable'] is False
    assert 'could not reach S3' not in result['msg'], result['msg']
    assert result['stage'] == 'proxy_connect', result['msg']
    assert_no_secret(lab, result.output)


def test_https_client_to_plain_http_port(lab, tls, run_check):
    """The reverse mistake: proxy_scheme https against Squid's plain http_port fails at stage tls."""
    args = tls_args(lab, proxy_port=lab['proxy']['port'])
    result = run_check(args)
    assert result['reachable'] is False
    assert result['stage'] == 'tls', result['msg']
    assert 'proxy_ca_bundle' in result['msg']
    assert_no_secret(lab, result.output)


@pytest.mark.parametrize('endpoint', ['http_endpoint', 'https_endpoint'])
def test_stage_proxy_auth_wrong_password_over_tls(lab, tls, run_check, endpoint):
    before = access_log_len(lab, 'squid_tls')
    result = run_check(tls_args(lab, endpoint=lab['s3'][endpoint], proxy_password='wrong-password'), verbosity=3)
    assert result['stage'] == 'proxy_auth', result['msg']
    assert result['http_status'] == 407
    assert 'proxy_user and proxy_password' in result['msg']
    assert any('TCP_DENIED/407' in line for line in access_log_lines(lab, before, squid='squid_tls'))
    assert_no_secret(lab, result.output, password='wrong-password')
