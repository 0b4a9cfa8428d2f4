"""s3_proxy_runtime_check against real glance-api processes (uwsgi, several workers).

The promise under test: the check passes only when every running glance-api
process has the extension and each store uses the proxy the inventory asks for.
Each "must fail" case runs a real glance-api in the configuration that breaks it.
"""

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import uuid

import pytest

from lab.ansible_runner import run_module
from lab.constants import PASSWORD, leak_probes
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf, s3_store
from lab.image_roundtrip import http
from lab.netlab import access_log_len, access_log_lines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV = os.path.dirname(os.path.dirname(sys.executable))
PORT = 9395


def run_check(workdir, args):
    result, run, _saved = run_module('s3_proxy_runtime_check', args, workdir)
    result['output'] = run.output
    return result


def intent(lab, **override):
    store = {'name': 'fast', 'proxied': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
             'scheme': 'http', 'user': 'glance-s3'}
    store.update(override)
    return [store]


@pytest.fixture
def make_api(lab):
    started = []

    def _make(site='home', lazy_apps=True, processes=2, dropin=None, endpoint=None):
        workdir = tempfile.mkdtemp(prefix='runtime-', dir=os.path.join(ROOT, '.cache'))
        home = os.path.join(workdir, 'home')
        conf_dir = os.path.join(home, '.glance')  # oslo.config reads ~/.glance/glance-api.conf.d/
        run_dir = os.path.join(workdir, 'run')
        os.makedirs(run_dir)
        api = GlanceApi(VENV, workdir, port=PORT, conf_dir=conf_dir, processes=processes, site=site,
                        lazy_apps=lazy_apps, env={'HOME': home, 'GLANCE_STORE_S3PROXY_RUNTIME_DIR': run_dir})
        api.run_dir = run_dir
        store = s3_store(lab, 'fast')
        if endpoint:
            store = store.replace(lab['s3']['http_endpoint'], endpoint)
        api.write_config(base_conf(workdir, 'fast:s3', 'fast') + store)
        if dropin:
            os.makedirs(os.path.join(conf_dir, 'glance-api.conf.d'))
            with open(os.path.join(conf_dir, 'glance-api.conf.d', '99-later.conf'), 'w') as f:
                f.write(dropin)
        api.db_sync()
        api.start()
        started.append(api)
        return api

    yield _make
    for api in started:
        api.stop()
        shutil.rmtree(api.d, ignore_errors=True)


def args(api, stores, **extra):
    out = {'pidfile': os.path.join(api.d, 'uwsgi.pid'), 'runtime_dir': api.run_dir, 'stores': stores, 'timeout': 20}
    out.update(extra)
    return out


def test_lazy_workers_each_prove_the_proxy(lab, make_api):
    api = make_api(site='home', lazy_apps=True, processes=3)
    result = run_check(api.d, args(api, intent(lab)))
    assert not result.get('failed'), result['output']
    assert result['root_pid'] == api.pid()
    workers = [p for p in result['processes'] if p['pid'] != api.pid()]
    assert len(workers) == 3, result['processes']
    for proc in workers:
        assert proc['evidence'] == 'own record' and proc['patched'] is True, proc
        assert proc['stores'] == ['fast']
    store = result['stores']['fast']
    assert (store['proxied'], store['host'], store['port'], store['user']) == (
        True, lab['proxy']['host'], lab['proxy']['port'], 'glance-s3')
    assert sorted(store['processes']) == sorted(p['pid'] for p in workers)
    assert store['locations']['s3_store_proxy_host'] == '%s [fast]' % api.conf_file
    # The records never hold a secret.
    for name in os.listdir(api.run_dir):
        with open(os.path.join(api.run_dir, name)) as f:
            text = f.read()
        secrets = leak_probes(PASSWORD) + (lab['s3']['identities']['glance']['secret_key'],)
        assert not [secret for secret in secrets if secret in text]


def test_workers_forked_after_the_master_loaded_the_app(lab, make_api):
    api = make_api(site='home', lazy_apps=False, processes=2)
    result = run_check(api.d, args(api, intent(lab)))
    assert not result.get('failed'), result['output']
    master = [p for p in result['processes'] if p['pid'] == api.pid()][0]
    assert master['evidence'] == 'own record' and master['patched'] is True
    workers = [p for p in result['processes'] if p['ppid'] == api.pid()]
    assert len(workers) == 2
    for proc in workers:
        assert proc['patched'] is True
        assert proc['evidence'] in ('own record', 'forked from pid %d after its hook' % api.pid()), proc


def _live_children(ppid):
    out = []
    for name in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % name) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == ppid and fields[0] not in ('Z', 'X'):
            out.append(int(name))
    return sorted(out)


def test_respawned_worker_is_checked_too(lab, make_api):
    api = make_api(site='home', lazy_apps=True, processes=2)
    first = run_check(api.d, args(api, intent(lab)))
    assert not first.get('failed'), first['output']
    victim = [p['pid'] for p in first['processes'] if p['pid'] != api.pid()][0]
    os.kill(victim, signal.SIGKILL)
    deadline = time.time() + 30
    while time.time() < deadline:
        live = _live_children(api.pid())
        if victim not in live and len(live) == 2 and api.healthy():
            break
        time.sleep(0.3)
    assert victim not in _live_children(api.pid()), 'uwsgi did not replace the killed worker in 30 s'
    second = run_check(api.d, args(api, intent(lab)))
    assert not second.get('failed'), second['output']
    pids = [p['pid'] for p in second['processes']]
    assert victim not in pids and len(pids) == 3


def test_no_site_glance_api_fails_although_a_fresh_interpreter_is_active(lab, make_api):
    # uwsgi no-site + pythonpath=: Glance runs and serves, but never ran the .pth file.
    api = make_api(site='no-site', lazy_apps=True, processes=2)
    assert api.healthy()
    result = run_check(api.d, args(api, intent(lab), timeout=3))
    assert result.get('failed'), result['output']
    assert result['stage'] == 'runtime'
    assert 'has no glance-store-s3proxy record' in result['msg']
    assert 'pythonpath=' in result['msg']
    assert all(p['hook'] is False for p in result['processes'] if p['python']), result['processes']


def test_a_later_dropin_that_turns_the_proxy_off_fails_naming_file_and_key(lab, make_api):
    api = make_api(dropin='[fast]\ns3_store_enable_proxy = false\n')
    result = run_check(api.d, args(api, intent(lab), timeout=3))
    assert result.get('failed'), result['output']
    assert result['stage'] == 'config'
    assert 'does NOT use a proxy' in result['msg']
    assert '99-later.conf [fast]' in result['msg']
    assert 's3_store_enable_proxy is set in' in result['msg']


def test_a_store_proxied_differently_from_the_intent_fails(lab, make_api):
    api = make_api()
    result = run_check(api.d, args(api, intent(lab, user='glance-s3b', port=3999), timeout=2))
    assert result.get('failed'), result['output']
    assert result['stage'] == 'config'
    assert "proxy user is 'glance-s3' in the running process" in result['msg']
    assert 'proxy port is %d' % lab['proxy']['port'] in result['msg']


def test_a_store_the_process_never_configured_fails(lab, make_api):
    api = make_api()
    result = run_check(api.d, args(api, intent(lab) + [dict(intent(lab)[0], name='other')], timeout=2))
    assert result.get('failed')
    assert 'has not configured store other' in result['msg']


def test_a_check_that_cannot_look_fails(lab, make_api, tmp_path):
    api = make_api()
    missing_dir = run_check(api.d, args(api, intent(lab), runtime_dir=str(tmp_path / 'nowhere'), timeout=0))
    assert missing_dir.get('failed') and missing_dir['stage'] == 'runtime'
    assert 'runtime directory' in missing_dir['msg'] and 'does not exist' in missing_dir['msg']
    no_pidfile = run_check(api.d, dict(args(api, intent(lab), timeout=0), pidfile=str(tmp_path / 'none.pid')))
    assert no_pidfile.get('failed') and 'cannot be read' in no_pidfile['msg']
    dead = run_check(api.d, {'pid': 2 ** 22 + 7, 'runtime_dir': api.run_dir, 'stores': intent(lab), 'timeout': 0})
    assert dead.get('failed') and 'is not running' in dead['msg']


def _tree(root):
    pids = [root]
    for name in os.listdir('/proc'):
        try:
            with open('/proc/%s/stat' % name) as f:
                if name.isdigit() and int(f.read().rsplit(')', 1)[1].split()[1]) == root:
                    pids.append(int(name))
        except OSError:
            continue
    return pids


def _stat(pid, field):
    with open('/proc/%d/stat' % pid) as f:
        return int(f.read().rsplit(')', 1)[1].split()[field - 3])


@pytest.mark.parametrize('stale', ['none', 'start_ticks', 'boot_id', 'start_stack'])
def test_records_of_another_process_with_the_same_pid_do_not_count(lab, make_api, stale):
    # A glance-api without the extension, and records under its pids that a recycled pid, a previous
    # boot or the same pid before an exec in place left behind: each claims the right stores, none is this
    # process's. (The control: the same record with nothing stale passes, so the record itself is valid.)
    api = make_api(site='no-site')
    with open('/proc/sys/kernel/random/boot_id') as f:
        boot = f.read().strip()
    for pid in _tree(api.pid()):
        record = {'format': 2, 'pid': pid, 'start_ticks': _stat(pid, 22), 'start_stack': _stat(pid, 28), 'boot_id': boot, 'hook': True,
                  'patched': True, 'patched_ticks': 0, 'version': '1.1.0', 'glance_store': '5.7.0',
                  'stores': {'fast': dict(intent(lab)[0], locations={})}}
        if stale == 'start_ticks':  # a recycled pid
            record['start_ticks'] -= 1
        elif stale == 'start_stack':  # the same process after an exec in place (uwsgi reload)
            record['start_stack'] += 4096
        elif stale == 'boot_id':  # a previous boot
            record['boot_id'] = '00000000-0000-0000-0000-000000000000'
        with open(os.path.join(api.run_dir, '%d.json' % pid), 'w') as f:
            json.dump(record, f)
    result = run_check(api.d, args(api, intent(lab), timeout=2))
    if stale == 'none':  # the control: a record that matches the process in every field is taken
        assert not result.get('failed'), result['output']
        return
    assert result.get('failed') and result['stage'] == 'runtime', result['output']
    assert 'has no glance-store-s3proxy record' in result['msg']


def test_going_direct_where_s3_is_reachable_is_caught(lab, make_api):
    # The dangerous topology: this host also has a direct route to S3 (the lab's leaky address). A glance-api
    # that never ran the extension uploads successfully, straight to S3, while its configuration asks for the
    # proxy. Nothing in Glance says so; the runtime check must.
    api = make_api(site='no-site', endpoint=lab['s3']['leaky_endpoint'])
    before = access_log_len(lab)
    session = http()
    record = {'name': 'direct-%s' % uuid.uuid4().hex[:6], 'disk_format': 'raw', 'container_format': 'bare'}
    image = session.post(api.url + '/v2/images', json=record, headers=ADMIN_HEADERS).json()
    data = os.urandom(1024 * 1024)
    put = session.put('%s/v2/images/%s/file' % (api.url, image['id']), data=data,
                      headers=dict(ADMIN_HEADERS, **{'Content-Type': 'application/octet-stream', 'Expect': ''}))
    assert put.status_code == 204, put.text  # the upload "works"...
    assert not [line for line in access_log_lines(lab, before) if image['id'] in line]  # ...around the proxy
    result = run_check(api.d, args(api, intent(lab), timeout=3))
    assert result.get('failed') and result['stage'] == 'runtime', result['output']
    assert 'has no glance-store-s3proxy record' in result['msg']
    session.delete('%s/v2/images/%s' % (api.url, image['id']), headers=ADMIN_HEADERS)
