"""The extension with TLS to the proxy itself: s3_store_proxy_scheme = https and
s3_store_proxy_cacert, through a real Squid built with OpenSSL (https_port,
certificate signed by the lab CA, Basic auth), with real glance_store stores."""

import base64
from urllib.parse import quote

import pytest

from lab.netlab import USERS, access_log_len, access_log_lines, tls_proxy

USER = 'glance-s3'
PASSWORD = USERS[USER]


@pytest.fixture
def tls(lab):
    return tls_proxy(lab)


def tls_section(lab, name, bucket='glance', endpoint=None, user=USER, password=PASSWORD, scheme='https',
                cacert='lab', port=None, extra=''):
    ident = lab['s3']['identities']['glance']
    text = ('[{name}]\ns3_store_host = {ep}\ns3_store_bucket = {bucket}\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_create_bucket_on_put = false\n'
            's3_store_large_object_size = 10\ns3_store_large_object_chunk_size = 5\n'
            's3_store_cacert = {ca}\n'
            's3_store_enable_proxy = true\ns3_store_proxy_host = {h}\ns3_store_proxy_port = {p}\n'
            's3_store_proxy_user = {u}\ns3_store_proxy_password = {pw}\ns3_store_proxy_scheme = {scheme}\n').format(
        name=name, ep=endpoint or lab['s3']['http_endpoint'], bucket=bucket, ak=ident['access_key'],
        sk=ident['secret_key'], ca=lab['certs']['ca'], h=lab['proxy']['host'], p=port or lab['proxy']['tls_port'],
        u=user, pw=password.replace('$', '$$'), scheme=scheme)
    if cacert:
        text += 's3_store_proxy_cacert = %s\n' % (lab['certs']['ca'] if cacert == 'lab' else cacert)
    return text + extra


def multi_conf(*sections):
    names = [s.split(']')[0][1:] for s in sections]
    return ('[DEFAULT]\nenabled_backends = {eb}\n\n[glance_store]\ndefault_backend = {d}\n\n'
            '[os_glance_staging_store]\nfilesystem_store_datadir = @TMP@/staging\n\n'
            '[os_glance_tasks_store]\nfilesystem_store_datadir = @TMP@/tasks\n\n').format(
        eb=', '.join('%s:s3' % n for n in names), d=names[0]) + '\n'.join(sections)


def assert_no_secret(run, user=USER, password=PASSWORD):
    forms = (password, quote(password, safe=''), quote(password), password.replace('$', '$$'),
             base64.b64encode(('%s:%s' % (user, password)).encode()).decode())
    for secret in forms:
        assert secret not in run.log, 'a secret form leaked: %r' % secret


def key_lines(lab, before, location):
    key = location.rsplit('/', 1)[-1]
    return [line for line in access_log_lines(lab, before, squid='squid_tls') if key in line]


def proxy_line(lab, name):
    return 'S3 store %s uses proxy https://%s:***@%s:%d' % (name, USER, lab['proxy']['host'], lab['proxy']['tls_port'])


# ---------------------------------------------------------------- success

def test_http_endpoint_multipart_through_tls_proxy(lab, tls, run_store):
    before_tls, before_plain = access_log_len(lab, 'squid_tls'), access_log_len(lab)
    run = run_store(multi_conf(tls_section(lab, 'fast')), backend='fast', size=12 * 1024 * 1024,
                    env={'DRIVER_DEBUG': '1', 'DRIVER_DUMP_OPTS': '1'})
    assert run.report.get('ok'), run.log
    assert run.report['md5_equal'] is True
    assert run.report['written'] == 12 * 1024 * 1024
    lines = key_lines(lab, before_tls, run.report['location'])
    # 12 MiB over a 10 MiB threshold in 5 MiB chunks: multipart, each request logged by the TLS Squid.
    assert any('?uploads' in line for line in lines), lines
    assert len([line for line in lines if 'partNumber=' in line]) == 3, lines
    assert any(line.split()[5] == 'DELETE' for line in lines), lines
    assert all(' %s ' % USER in line for line in lines), lines
    key = run.report['location'].rsplit('/', 1)[-1]
    assert not [line for line in access_log_lines(lab, before_plain) if key in line]
    assert proxy_line(lab, 'fast') in run.log
    assert 'InsecureRequestWarning' not in run.log
    assert_no_secret(run)


def test_https_endpoint_tls_in_tls_through_tls_proxy(lab, tls, run_store):
    before = access_log_len(lab, 'squid_tls')
    size = 12 * 1024 * 1024
    section = tls_section(lab, 'tls', endpoint=lab['s3']['https_endpoint'])
    run = run_store(multi_conf(section), backend='tls', size=size)
    assert run.report.get('ok'), run.log
    assert run.report['md5_equal'] is True
    assert run.report['location'].startswith('s3+https://')
    connect = 'CONNECT %s:%d' % (lab['s3']['name'], lab['s3']['https_port'])
    tunnels = [line for line in access_log_lines(lab, before, squid='squid_tls')
               if 'TCP_TUNNEL/200' in line and connect in line and ' %s ' % USER in line]
    assert tunnels
    # Squid logs the bytes sent to the client: the image read back came through the tunnels.
    assert sum(int(line.split()[4]) for line in tunnels) >= size, tunnels
    assert proxy_line(lab, 'tls') in run.log
    assert_no_secret(run)


def test_legacy_store_second_user_through_tls_proxy(lab, tls, run_store):
    user = 'glance-s3b'
    before = access_log_len(lab, 'squid_tls')
    conf = '[glance_store]\nstores = s3\ndefault_store = s3\n' + tls_section(
        lab, 'glance_store', bucket='glance-legacy', user=user, password=USERS[user]).split(']', 1)[1]
    run = run_store(conf, mode='legacy')
    assert run.report.get('ok'), run.log
    lines = key_lines(lab, before, run.report['location'])
    assert lines and all(' %s ' % user in line and '/glance-legacy/' in line for line in lines), lines
    assert 'S3 store glance_store uses proxy https://%s:***@' % user in run.log
    assert_no_secret(run, user=user, password=USERS[user])


# ---------------------------------------------------------------- failures

@pytest.mark.parametrize('endpoint', ['http_endpoint', 'https_endpoint'])
def test_wrong_proxy_ca_fails_closed(lab, tls, run_store, endpoint):
    before = access_log_len(lab, 'squid_tls')
    section = tls_section(lab, 'fast', endpoint=lab['s3'][endpoint], cacert=lab['certs']['other_ca'])
    run = run_store(multi_conf(section), backend='fast', env={'DRIVER_DEBUG': '1'})
    assert run.report['ok'] is False, run.log
    assert run.report['error'] == 'ProxyConnectionError: Failed to connect to proxy URL: "https://***:***@%s:%d"' % (
        lab['proxy']['host'], lab['proxy']['tls_port']), run.report
    # The reason is only in botocore's debug log (Glance's debug = true).
    assert 'CERTIFICATE_VERIFY_FAILED' in run.log
    # No request reached Squid: the credentials were never sent.
    assert not [line for line in access_log_lines(lab, before, squid='squid_tls') if ' %s ' % USER in line]
    assert_no_secret(run)


def test_missing_proxy_cacert_file_refused(lab, tls, run_store):
    section = tls_section(lab, 'fast', cacert='/nonexistent/proxy-ca.pem')
    run = run_store(multi_conf(section), backend='fast')
    assert run.report.get('ok') is not True
    assert 's3_store_proxy_cacert /nonexistent/proxy-ca.pem does not exist' in run.log
    assert_no_secret(run)


def test_https_proxy_without_cacert_verifies_proxy(lab, tls, run_store):
    before = access_log_len(lab, 'squid_tls')
    run = run_store(multi_conf(tls_section(lab, 'fast', cacert=None)), backend='fast')
    lines = [line for line in access_log_lines(lab, before, squid='squid_tls') if ' %s ' % USER in line]
    # The lab CA is in no default bundle: an upload must not succeed through an unverified proxy.
    assert run.report['ok'] is False, (run.report, lines)
    assert not lines


@pytest.mark.parametrize('endpoint', ['http_endpoint', 'https_endpoint'])
def test_plain_http_scheme_to_tls_port_fails(lab, tls, run_store, endpoint):
    before = access_log_len(lab, 'squid_tls')
    section = tls_section(lab, 'fast', endpoint=lab['s3'][endpoint], scheme='http', cacert=None)
    run = run_store(multi_conf(section), backend='fast', env={'DRIVER_DEBUG': '1'})
    assert run.report['ok'] is False, run.log
    if endpoint == 'http_endpoint':
        assert run.report['error'] == 'ProxyConnectionError: Failed to connect to proxy URL: "http://***:***@%s:%d"' % (
            lab['proxy']['host'], lab['proxy']['tls_port']), run.report
        assert 'Connection reset by peer' in run.log  # botocore's debug log (Glance's debug = true)
    else:
        # CONNECT reset by the TLS port: botocore names the S3 URL, not the proxy (its wording, not ours).
        assert run.report['error'].startswith('ConnectionClosedError: Connection was closed before we received'), \
            run.report
    assert 'S3 store fast uses proxy http://%s:***@' % USER in run.log
    assert not [line for line in access_log_lines(lab, before, squid='squid_tls') if ' %s ' % USER in line]
    assert_no_secret(run)
