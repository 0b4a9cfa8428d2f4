"""Real glance_store S3 stores, configured through oslo.config as Glance does,
adding, reading and deleting images through a real Squid (basic auth) to a real
SeaweedFS that is reachable only through Squid."""

import json
import os
import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from urllib.parse import quote, urlsplit

import pytest

from lab.constants import PASSWORD, VERSION
from lab.netlab import PROXY_IP, access_log_len, access_log_lines

GLANCE_STORE = tuple(int(x) for x in metadata.version('glance_store').split('.')[:3])
# native: glance_store built from upstream/ (the proxy options are its own), no extension installed. The same
# tests then prove that an operator's configuration means the same thing both ways.
NATIVE = os.environ.get('GS_UNITS_EXPECT') == 'native'


def s3_section(lab, name, bucket='glance', endpoint=None, user='glance-s3', password=PASSWORD, proxy=True,
               extra=''):
    ident = lab['s3']['identities']['glance']
    text = ('[{name}]\ns3_store_host = {ep}\ns3_store_bucket = {bucket}\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_create_bucket_on_put = false\n'
            's3_store_large_object_size = 10\ns3_store_large_object_chunk_size = 5\n'
            's3_store_cacert = {ca}\n').format(
        name=name, ep=endpoint or lab['s3']['http_endpoint'], bucket=bucket, ak=ident['access_key'],
        sk=ident['secret_key'], ca=lab['certs']['ca'])
    if proxy:
        text += ('s3_store_enable_proxy = true\ns3_store_proxy_host = {h}\ns3_store_proxy_port = {p}\n'
                 's3_store_proxy_user = {u}\ns3_store_proxy_password = {pw}\n').format(
            h=lab['proxy']['host'], p=lab['proxy']['port'], u=user, pw=password.replace('$', '$$'))
    return text + extra


def multi_conf(lab, *sections, backends=None, default=None):
    names = backends or [s.split(']')[0][1:] for s in sections]
    return ('[DEFAULT]\nenabled_backends = {eb}\n\n[glance_store]\ndefault_backend = {d}\n\n'
            '[os_glance_staging_store]\nfilesystem_store_datadir = @TMP@/staging\n\n'
            '[os_glance_tasks_store]\nfilesystem_store_datadir = @TMP@/tasks\n\n').format(
        eb=', '.join('%s:s3' % n for n in names), d=default or names[0]) + '\n'.join(sections)


def object_lines(lab, before, image_location):
    key = image_location.rsplit('/', 1)[-1]
    return [line for line in access_log_lines(lab, before) if key in line]


def assert_no_password(run, *secrets):
    for secret in (PASSWORD, quote(PASSWORD, safe='')) + secrets:
        assert secret not in run.log


def test_multi_store_http_endpoint_multipart_through_proxy(lab, run_store):
    before = access_log_len(lab)
    run = run_store(multi_conf(lab, s3_section(lab, 'fast')), backend='fast', size=12 * 1024 * 1024,
                    env={'DRIVER_DEBUG': '1', 'DRIVER_DUMP_OPTS': '1'})
    report = run.report
    assert report.get('ok'), run.log
    assert report['md5_equal'] is True
    assert report['written'] == 12 * 1024 * 1024
    assert 's3_store_enable_proxy' in report['store_options']
    # Upstream's own difference: before glance_store 5.6.0 the image location holds the S3 keys.
    assert report['location_has_credentials'] is (GLANCE_STORE < (5, 6, 0))
    lines = object_lines(lab, before, report['location'])
    # 12 MiB over a 10 MiB threshold with 5 MiB chunks: a multipart upload.
    assert any('?uploads' in line for line in lines), lines
    assert len([line for line in lines if 'partNumber=' in line]) == 3
    assert all(' glance-s3 ' in line for line in lines)
    assert any(line.split()[5] == 'DELETE' for line in lines)
    # One INFO line for the proxied store, masked; the debug dump masks the password.
    if NATIVE:
        announce = 'INFO glance_store._drivers.s3 S3 store fast uses proxy'
        assert 'glance_store_s3proxy' not in run.log
    else:
        announce = 'INFO glance_store_s3proxy glance-store-s3proxy %s active in pid' % VERSION
    assert len([line for line in run.log.splitlines() if line.startswith(announce)]) == 1, run.log
    assert 'S3 store fast uses proxy http://glance-s3:***@%s:%d' % (lab['proxy']['host'], lab['proxy']['port']) \
        in run.log
    assert re.search(r'fast\.s3_store_proxy_password +=  ?\*\*\*\*$', run.log, re.M), run.log
    assert re.search(r'fast\.s3_store_proxy_host +=  ?%s$' % re.escape(lab['proxy']['host']), run.log, re.M)
    assert_no_password(run, lab['s3']['identities']['glance']['secret_key'])


def test_multi_store_https_endpoint_through_connect(lab, run_store):
    before = access_log_len(lab)
    section = s3_section(lab, 'tls', endpoint=lab['s3']['https_endpoint'])
    run = run_store(multi_conf(lab, section), backend='tls')
    assert run.report.get('ok'), run.log
    assert run.report['md5_equal'] is True
    assert run.report['location'].startswith('s3+https://')
    lines = access_log_lines(lab, before)
    connect = 'CONNECT %s:%d' % (lab['s3']['name'], lab['s3']['https_port'])
    assert any('TCP_TUNNEL/200' in line and connect in line and ' glance-s3 ' in line for line in lines), lines
    assert_no_password(run)


def test_legacy_single_store(lab, run_store):
    before = access_log_len(lab)
    conf = '[glance_store]\nstores = s3\ndefault_store = s3\n' + \
        s3_section(lab, 'glance_store', bucket='glance-legacy').split(']', 1)[1]
    run = run_store(conf, mode='legacy')
    assert run.report.get('ok'), run.log
    assert run.report['md5_equal'] is True
    lines = object_lines(lab, before, run.report['location'])
    assert lines and all(' glance-s3 ' in line and '/glance-legacy/' in line for line in lines)
    assert 'S3 store glance_store uses proxy' in run.log


def test_two_stores_two_proxy_users(lab, run_store):
    users = lab['proxy']['users']
    conf = multi_conf(lab, s3_section(lab, 'store_a', bucket='glance'),
                      s3_section(lab, 'store_b', bucket='glance-b', user='glance-s3b', password=users['glance-s3b']))
    for backend, user, bucket in (('store_a', 'glance-s3', 'glance'), ('store_b', 'glance-s3b', 'glance-b')):
        before = access_log_len(lab)
        run = run_store(conf, backend=backend)
        assert run.report.get('ok'), run.log
        lines = access_log_lines(lab, before)
        assert lines
        # Every request of this store went through its own proxy user, to its own bucket.
        assert all(' %s ' % user in line for line in lines), lines
        buckets = set(urlsplit(line.split()[6]).path.split('/')[1] for line in lines)
        assert buckets == {bucket}, lines
        assert 'S3 store store_a uses proxy http://glance-s3:***@' in run.log
        assert 'S3 store store_b uses proxy http://glance-s3b:***@' in run.log
        assert_no_password(run, users['glance-s3b'], users['glance-s3b'].replace('$', '$$'))


def test_backend_defaults_fallback(lab, run_store):
    section = s3_section(lab, 'fast', proxy=False)
    defaults = ('[backend_defaults]\ns3_store_enable_proxy = true\ns3_store_proxy_host = %s\n'
                's3_store_proxy_port = %d\ns3_store_proxy_user = glance-s3\ns3_store_proxy_password = %s\n'
                % (lab['proxy']['host'], lab['proxy']['port'], PASSWORD))
    before = access_log_len(lab)
    run = run_store(multi_conf(lab, section) + '\n' + defaults, backend='fast')
    if GLANCE_STORE < (5, 2, 0):
        # glance_store 4.9.1 (2025.1) has no [backend_defaults]: the store would go to S3 directly. Refused.
        assert 'Store fast could not be configured correctly. Reason: ' in run.log, run.log
        assert 'glance_store 4.9.1 does not read [backend_defaults]: set s3_store_enable_proxy' in run.log
        assert 'in [fast]' in run.log
        assert run.report['writable'] is False and run.report['ok'] is False
        assert access_log_len(lab) == before
        return
    assert run.report.get('ok'), run.log
    assert access_log_lines(lab, before)


def test_wrong_password_fails_naming_the_proxy(lab, run_store):
    before = access_log_len(lab)
    run = run_store(multi_conf(lab, s3_section(lab, 'fast', password='wrong-password')), backend='fast')
    assert run.report['ok'] is False
    assert '407' in run.report['error'] and 'Proxy Authentication Required' in run.report['error']
    lines = access_log_lines(lab, before)
    assert lines and all('TCP_DENIED/407' in line for line in lines)
    assert 'wrong-password' not in run.log


def test_proxied_store_ignores_environment_proxy(lab, run_store):
    wrong = 'http://%s:1' % lab['proxy']['host']
    run = run_store(multi_conf(lab, s3_section(lab, 'fast')), backend='fast',
                    env={'HTTP_PROXY': wrong, 'HTTPS_PROXY': wrong, 'http_proxy': wrong, 'https_proxy': wrong})
    assert run.report.get('ok'), run.log


def test_store_without_proxy_behaves_like_upstream(lab, run_store):
    # Upstream reads HTTP_PROXY from the environment: so does a store that
    # does not enable the proxy, and without it S3 is unreachable from here.
    url = 'http://glance-s3:%s@%s:%d' % (quote(PASSWORD, safe=''), lab['proxy']['host'], lab['proxy']['port'])
    conf = multi_conf(lab, s3_section(lab, 'plain', proxy=False))
    run = run_store(conf, backend='plain', env={'HTTP_PROXY': url, 'http_proxy': url})
    assert run.report.get('ok'), run.log
    assert 'uses proxy' not in run.log
    direct = run_store(conf, backend='plain')
    assert direct.report['ok'] is False
    assert 'Could not connect to the endpoint URL' in direct.report['error']


ON = 's3_store_enable_proxy = true\n'
ON_LAB_PROXY = ON + 's3_store_proxy_host = %s\n' % PROXY_IP


@pytest.mark.parametrize('extra,reason', [
    (ON, 's3_store_proxy_host is not set'),
    (ON_LAB_PROXY + 's3_store_proxy_user = u\n', 's3_store_proxy_user is set without s3_store_proxy_password'),
    (ON_LAB_PROXY + 's3_store_proxy_password = pw\n', 's3_store_proxy_password is set without s3_store_proxy_user'),
    (ON_LAB_PROXY + 's3_store_proxy_user = u\ns3_store_proxy_password = pässword\n',
     's3_store_proxy_password has non-ASCII characters'),
    (ON_LAB_PROXY + 's3_store_proxy_port = 0\n', 's3_store_proxy_port has an invalid value'),
    (ON_LAB_PROXY + 's3_store_proxy_port = 70000\n', 's3_store_proxy_port has an invalid value'),
    (ON + 's3_store_proxy_host = http://%s\n' % PROXY_IP, 's3_store_proxy_host has an invalid value'),
    (ON_LAB_PROXY + 's3_store_proxy_cacert = /nonexistent.pem\n', 's3_store_proxy_cacert /nonexistent.pem does not exist'),
])
def test_invalid_proxy_options_raise_bad_store_configuration(lab, run_store, extra, reason):
    before = access_log_len(lab)
    run = run_store(multi_conf(lab, s3_section(lab, 'fast', proxy=False, extra=extra)), backend='fast')
    assert 'Store fast could not be configured correctly. Reason: ' in run.log, run.log
    assert reason in run.log
    assert run.report['writable'] is False
    assert run.report['ok'] is False
    # Reads stay closed too: nothing went anywhere, proxied or direct.
    assert access_log_len(lab) == before
    assert 'pässword' not in run.log


# ------------------------------------------------------------ the status check: three cases

def _status(env=None, flags=()):
    status_py = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'glance_s3_proxy', 'files',
                             'glance-store-s3proxy', 'glance_store_s3proxy', 'status.py')
    run_env = dict(os.environ)
    run_env.update(env or {})
    proc = subprocess.run([sys.executable] + list(flags) + [status_py, '--json'], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, env=run_env, check=False)
    return proc.returncode, json.loads(proc.stdout)


def _site_packages():
    return sysconfig.get_paths()['purelib']


def test_status_active():
    rc, info = _status()
    if NATIVE:  # glance_store has the options itself; the extension is not installed
        assert (rc, info['state']) == (0, 'native'), info
        assert info['version'] is None and info['options_registered'] and not info['client_patched']
        return
    assert (rc, info['state']) == (0, 'active')
    assert info['options_registered'] and info['client_patched'] and info['hook_installed']


def test_status_installed_but_not_active():
    # Site-packages on the path without site's .pth processing: what an
    # outside uwsgi with pythonpath= (or no-site) gives Glance.
    rc, info = _status(env={'PYTHONPATH': _site_packages()}, flags=('-S',))
    if NATIVE:  # no .pth needed: native support does not depend on how the interpreter starts
        assert (rc, info['state']) == (0, 'native'), info
        return
    assert (rc, info['state']) == (3, 'installed_inactive'), info
    assert info['version'] and not info['options_registered'] and not info['client_patched']


@pytest.mark.skipif(NATIVE, reason='the native run has no extension to uninstall')
def test_status_not_installed_and_uninstall_leaves_no_pth():
    wheel = [f for f in os.listdir(WHEEL_DIR) if f.endswith('.whl')][0]
    pip = [sys.executable, '-m', 'pip', '--disable-pip-version-check', '-q']
    subprocess.run(pip + ['uninstall', '-y', 'glance-store-s3proxy'], check=True)
    try:
        assert not os.path.exists(os.path.join(_site_packages(), 'glance_store_s3proxy.pth'))
        rc, info = _status()
        assert (rc, info['state']) == (4, 'not_installed'), info
        assert info['error'] is None  # the stock driver still imports
    finally:
        subprocess.run(pip + ['install', '--no-index', '--no-deps', os.path.join(WHEEL_DIR, wheel)], check=True)
    assert _status()[1]['state'] == 'active'


WHEEL_DIR = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'glance_s3_proxy', 'files')
