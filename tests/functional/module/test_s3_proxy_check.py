"""s3_proxy_check against a real Squid (basic auth) and a real SeaweedFS that
is reachable only through Squid. Every stage is produced for real. Input that
is refused before any request is tested without the lab, in
tests/unit/plugins/modules/test_s3_proxy_check.py."""

import os
import signal
import subprocess
import time
from urllib.parse import quote

import pytest

from lab.constants import PASSWORD, USER
from lab.netlab import access_log_len, access_log_lines
from probe_faults import SlowRelay, unique_prefix


def base_args(lab, endpoint=None, **over):
    ident = lab['s3']['identities']['glance']
    args = {
        'endpoint_url': endpoint or lab['s3']['http_endpoint'],
        'bucket': 'glance',
        'access_key': ident['access_key'],
        'secret_key': ident['secret_key'],
        'addressing_style': 'path',
        'ca_bundle': lab['certs']['ca'],
        'proxy_host': lab['proxy']['host'],
        'proxy_port': lab['proxy']['port'],
        'proxy_user': USER,
        'proxy_password': PASSWORD,
        'connect_timeout': 5,
        'read_timeout': 30,
    }
    args.update(over)
    return args


def assert_no_secret(lab, text):
    for secret in (PASSWORD, quote(PASSWORD, safe=''), lab['s3']['identities']['glance']['secret_key'],
                   lab['s3']['identities']['reader']['secret_key']):
        assert secret not in text


# ---------------------------------------------------------------- success

def test_http_endpoint_multipart_through_forwarding_proxy(lab, run_check):
    before = access_log_len(lab)
    prefix = unique_prefix('forwarding')  # the lab is shared: count only this run's lines
    result = run_check(base_args(lab, probe='multipart', expect_direct_blocked=True, object_prefix=prefix))
    assert result['reachable'] is True, result['msg']
    assert result['stage'] is None
    assert result['probes_run'] == ['read', 'write', 'multipart', 'direct']
    assert result['direct_path']['blocked'] is True
    assert result['multipart']['etag'].endswith('-2')
    assert result['multipart']['size'] == 2 * 8 * 1024 * 1024
    assert result['proxy_url'] == 'http://glance-s3:********@%s:%d' % (lab['proxy']['host'], lab['proxy']['port'])
    for phase in ('client', 'list_objects', 'put_object', 'get_object', 'multipart_part_1', 'multipart_part_2',
                  'direct', 'total'):
        assert result['timings_ms'][phase] >= 0
    lines = [line for line in access_log_lines(lab, before) if prefix in line]
    # Multipart went through Squid, under the proxy user, with the password
    # containing @ : / % # percent-encoded correctly.
    assert any('?uploads' in line and USER in line for line in lines), lines
    assert sum(1 for line in lines if 'partNumber=' in line and 'uploadId=' in line and USER in line) == 2
    assert not any('TCP_DENIED' in line for line in lines)
    assert_no_secret(lab, result.output)


def test_https_endpoint_through_connect_tunnel(lab, run_check):
    before = access_log_len(lab)
    args = base_args(lab, endpoint=lab['s3']['https_endpoint'], probe='write', expect_direct_blocked=True)
    result = run_check(args)
    assert result['reachable'] is True, result['msg']
    assert result['probes_run'] == ['read', 'write', 'direct']
    lines = access_log_lines(lab, before)
    assert any('TCP_TUNNEL/200' in line and 'CONNECT s3.lab.test:8443' in line and USER in line for line in lines)
    assert_no_secret(lab, result.output)


def test_check_mode_runs_only_non_writing_probes(lab, run_check):
    # Through a relay of its own in front of Squid: the lab's access.log is shared.
    relay = SlowRelay((lab['proxy']['host'], lab['proxy']['port']))
    try:
        result = run_check(base_args(lab, probe='multipart', proxy_host='127.0.0.1', proxy_port=relay.port),
                           check=True)
    finally:
        relay.close()
    assert result['reachable'] is True
    assert result['changed'] is False
    assert result['probes_run'] == ['read']
    assert result['skipped_probes'] == ['write', 'multipart']
    methods = [line.split()[0] for line in relay.requests]
    assert methods and set(methods) == {'GET'}, methods


def test_no_secret_at_vvv_even_on_failure(lab, run_check):
    result = run_check(base_args(lab, proxy_password='x' + PASSWORD), verbosity=3)
    assert result['stage'] == 'proxy_auth'
    assert_no_secret(lab, result.output)
    assert 'x' + PASSWORD not in result.output


# ---------------------------------------------------------------- stages

def test_stage_proxy_connect_when_proxy_is_stopped(lab, run_check):
    """A second Squid is started and used, then stopped: the check must say proxy_connect."""
    port = 3129
    d = os.path.join(lab['dir'], 'squid-stopped')  # writable by Squid's user, unlike tmp_path
    os.makedirs(d, mode=0o777, exist_ok=True)
    os.chmod(d, 0o777)
    conf = open(lab['squid']['conf']).read()
    conf = conf.replace('%s:%d' % (lab['proxy']['host'], lab['proxy']['port']), '%s:%d' % (lab['proxy']['host'], port))
    for name in ('squid.pid', 'access.log', 'cache.log'):
        conf = conf.replace(os.path.join(lab['squid']['dir'], name), os.path.join(d, name))
    conf_file = os.path.join(d, 'squid.conf')
    with open(conf_file, 'w') as f:
        f.write(conf)
    proc = subprocess.Popen(['nsenter', '--net=/run/netns/gs3p-proxy', 'squid', '-N', '-n', 'gs3pstop',
                             '-f', conf_file],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    args = base_args(lab, proxy_port=port)
    try:
        deadline = time.time() + 20
        while True:
            first = run_check(args)
            if first['reachable'] or time.time() > deadline:
                break
            time.sleep(0.5)
        assert first['reachable'] is True, first['msg']
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    result = run_check(args)
    assert result['reachable'] is False
    assert result['stage'] == 'proxy_connect', result['msg']
    assert 'proxy could not be reached' in result['msg']
    assert_no_secret(lab, result.output)


@pytest.mark.parametrize('endpoint', ['http_endpoint', 'https_endpoint'])
def test_stage_proxy_auth_wrong_password(lab, run_check, endpoint):
    before = access_log_len(lab)
    result = run_check(base_args(lab, endpoint=lab['s3'][endpoint], proxy_password='wrong-password'))
    assert result['stage'] == 'proxy_auth'
    assert result['http_status'] == 407
    assert 'proxy_user and proxy_password' in result['msg']
    assert any('TCP_DENIED/407' in line for line in access_log_lines(lab, before))
    assert 'wrong-password' not in result.output


def test_stage_proxy_denied_connect_port_not_allowed(lab, run_check):
    # https to the S3 http port: Squid refuses CONNECT to a port outside SSL_ports.
    endpoint = 'https://%s:%d' % (lab['s3']['name'], lab['s3']['http_port'])
    result = run_check(base_args(lab, endpoint=endpoint))
    assert result['stage'] == 'proxy_denied', result['msg']
    assert result['http_status'] == 403
    assert 'SSL_ports' in result['msg']


def test_stage_upstream_connect_s3_down_behind_proxy(lab, run_check):
    # The port where no S3 server listens: Squid answers 503.
    endpoint = 'http://%s:%d' % (lab['s3']['name'], lab['s3']['closed_port'])
    result = run_check(base_args(lab, endpoint=endpoint))
    assert result['stage'] == 'upstream_connect', result['msg']
    assert result['http_status'] == 503


def test_stage_tls_wrong_ca(lab, run_check):
    result = run_check(base_args(lab, endpoint=lab['s3']['https_endpoint'], ca_bundle=lab['certs']['other_ca']))
    assert result['stage'] == 'tls', result['msg']
    assert 'ca_bundle' in result['msg']


def test_stage_s3_auth_wrong_secret(lab, run_check):
    result = run_check(base_args(lab, secret_key='not-the-secret-key-0000'))
    assert result['stage'] == 's3_auth', result['msg']
    assert result['error_code'] == 'SignatureDoesNotMatch'
    assert result['http_status'] == 403
    assert 'not-the-secret-key-0000' not in result.output


def test_stage_s3_auth_unknown_access_key(lab, run_check):
    result = run_check(base_args(lab, access_key='NOSUCHACCESSKEY000'))
    assert result['stage'] == 's3_auth'
    assert result['error_code'] == 'InvalidAccessKeyId'


def test_stage_s3_permission_read_only_key_cannot_write(lab, run_check):
    reader = lab['s3']['identities']['reader']
    args = base_args(lab, access_key=reader['access_key'], secret_key=reader['secret_key'], probe='write')
    result = run_check(args)
    assert result['stage'] == 's3_permission', result['msg']
    assert result['error_code'] == 'AccessDenied'
    assert result['probes_run'] == ['read']


def test_stage_bucket_missing(lab, run_check):
    result = run_check(base_args(lab, bucket='no-such-bucket-here'))
    assert result['stage'] == 'bucket'
    assert result['error_code'] == 'NoSuchBucket'
    assert result['http_status'] == 404


def test_stage_direct_path_open(lab, run_check):
    # The leaky address is reachable from this host without the proxy.
    result = run_check(base_args(lab, endpoint=lab['s3']['leaky_endpoint'], expect_direct_blocked=True))
    assert result['stage'] == 'direct_path_open', result['msg']
    assert result['direct_path']['blocked'] is False
    assert result['probes_run'] == ['read', 'direct']  # the proxied read passed first


# ---------------------------------------------------------------- glance mode

def write_glance_conf(path, lab, password=PASSWORD, backend='s3_fast', extra=''):
    ident = lab['s3']['identities']['glance']
    body = (
        '[DEFAULT]\nenabled_backends = local:file, {b}:s3\n\n'
        '[glance_store]\ndefault_backend = {b}\n\n'
        '[local]\nfilesystem_store_datadir = /var/lib/glance/images\n\n'
        '[{b}]\ns3_store_host = {ep}\ns3_store_bucket = glance\ns3_store_access_key = {ak}\n'
        's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\n'
        's3_store_enable_proxy = true\ns3_store_proxy_host = {ph}\ns3_store_proxy_port = {pp}\n'
        's3_store_proxy_user = {pu}\ns3_store_proxy_password = {pw}\n{extra}'
    ).format(b=backend, ep=lab['s3']['http_endpoint'], ak=ident['access_key'], sk=ident['secret_key'],
             ph=lab['proxy']['host'], pp=lab['proxy']['port'], pu='glance-s3b',
             pw=password.replace('$', '$$'), extra=extra)
    path.write_text(body)
    return str(path)


def test_glance_mode_reads_glance_config_with_dollar_escape(lab, run_check, tmp_path):
    # glance-s3b's password contains '$': oslo.config needs it written as '$$'.
    conf = write_glance_conf(tmp_path / 'glance-api.conf', lab, password=lab['proxy']['users']['glance-s3b'])
    before = access_log_len(lab)
    result = run_check({'glance_config': conf, 'glance_backend': 's3_fast', 'probe': 'write',
                        'expect_direct_blocked': True})
    assert result['reachable'] is True, result['msg']
    assert result['settings_source'] == '%s [s3_fast]' % conf
    assert result['proxy_url'].startswith('http://glance-s3b:********@')
    assert all('glance-s3b' in line for line in access_log_lines(lab, before))
    assert lab['proxy']['users']['glance-s3b'] not in result.output
    assert_no_secret(lab, result.output)


def test_glance_mode_dropin_overrides_main_file(lab, run_check, tmp_path):
    conf = write_glance_conf(tmp_path / 'glance-api.conf', lab, password='wrong')
    dropin = tmp_path / 'glance-api.conf.d'
    dropin.mkdir()
    password = lab['proxy']['users']['glance-s3b'].replace('$', '$$')
    (dropin / '50-s3proxy.conf').write_text('[s3_fast]\ns3_store_proxy_password = %s\n' % password)
    result = run_check({'glance_config': conf, 'glance_backend': 's3_fast', 'glance_config_dirs': [str(dropin)]})
    assert result['reachable'] is True, result['msg']
    assert result['settings_reader'] == 'oslo_rules'
    assert result['config_files'] == [conf, str(dropin / '50-s3proxy.conf')]
    assert result['locations']['s3_store_proxy_password'] == '%s [s3_fast]' % (dropin / '50-s3proxy.conf')
    assert result['locations']['s3_store_proxy_host'] == '%s [s3_fast]' % conf


def test_glance_mode_wrong_password_in_file(lab, run_check, tmp_path):
    conf = write_glance_conf(tmp_path / 'glance-api.conf', lab, password='wrong-in-file')
    result = run_check({'glance_config': conf, 'glance_backend': 's3_fast'})
    assert result['stage'] == 'proxy_auth'
    assert 'wrong-in-file' not in result.output


def test_glance_mode_legacy_section(lab, run_check, tmp_path):
    ident = lab['s3']['identities']['glance']
    conf = tmp_path / 'glance-api.conf'
    conf.write_text(
        '[glance_store]\nstores = s3\ndefault_store = s3\ns3_store_host = %s\ns3_store_bucket = glance-legacy\n'
        's3_store_access_key = %s\ns3_store_secret_key = %s\ns3_store_enable_proxy = True\n'
        's3_store_proxy_host = %s\ns3_store_proxy_port = %d\ns3_store_proxy_user = %s\n'
        's3_store_proxy_password = %s\ns3_store_cacert = %s\n'
        % (lab['s3']['https_endpoint'], ident['access_key'], ident['secret_key'], lab['proxy']['host'],
           lab['proxy']['port'], USER, PASSWORD, lab['certs']['ca']))
    result = run_check({'glance_config': str(conf), 'probe': 'write'})
    assert result['reachable'] is True, result['msg']
    assert result['settings_source'].endswith('[glance_store]')


def test_glance_mode_default_section_does_not_fall_through(lab, run_check, tmp_path):
    # oslo.config keeps [DEFAULT] to itself: a proxy host there must not stand in for the store's own.
    conf = write_glance_conf(tmp_path / 'glance-api.conf', lab, password=lab['proxy']['users']['glance-s3b'])
    text = open(conf).read().replace('[DEFAULT]\n', '[DEFAULT]\ns3_store_proxy_host = 192.0.2.1\ns3_store_proxy_port = 9\n', 1)
    open(conf, 'w').write(text)
    result = run_check({'glance_config': conf, 'glance_backend': 's3_fast', 'glance_config_dirs': []})
    assert result['reachable'] is True, result['msg']
    assert '192.0.2.1' not in result['proxy_url']
