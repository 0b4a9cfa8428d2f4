"""The role, plain style, on a glance-api whose glance_store has the proxy options itself (glance 33 on
glance_store 5.7.0 with upstream/'s patch): no extension is installed, an installed one is removed on request,
and verification proves the running processes without records and compares intent with effect."""

import glob
import grp
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from lab.ansible_runner import ROLE_PLAYBOOK, run_playbook
from lab.constants import PASSWORD, leak_probes
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf
from lab.netlab import access_log_len, access_log_lines
from test_role_plain import RESTART  # pylint: disable=wrong-import-order

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV = os.path.join(ROOT, '.cache', 'venv-glance-native')
PORT = 9396


def status():
    out = subprocess.run([os.path.join(VENV, 'bin', 'python'),
                          os.path.join(ROOT, 'roles', 'glance_s3_proxy', 'files', 'glance-store-s3proxy',
                                       'glance_store_s3proxy', 'status.py'), '--json'],
                         stdout=subprocess.PIPE, universal_newlines=True, check=False).stdout
    return json.loads(out)


@pytest.fixture(scope='module')
def env(lab):
    if not any(g.gr_name == 'glance' for g in grp.getgrall()):
        subprocess.run(['groupadd', '--system', 'glance'], check=True)
    assert status()['state'] == 'native' and status()['version'] is None  # the venv bootstrap.sh builds
    workdir = tempfile.mkdtemp(prefix='role-native-', dir=os.path.join(ROOT, '.cache'))
    home = os.path.join(workdir, 'home')
    conf_dir = os.path.join(home, '.glance')
    api = GlanceApi(VENV, workdir, port=PORT, conf_dir=conf_dir, env={'HOME': home})
    api.write_config(base_conf(workdir, 'local:file', 'local') + '\n[local]\nfilesystem_store_datadir = %s/images\n'
                     % workdir)
    api.db_sync()
    api.start()
    restart = os.path.join(workdir, 'restart.sh')
    with open(restart, 'w') as f:
        f.write(RESTART.format(d=workdir, home=home, conf_dir=conf_dir, venv=VENV))
    ident = lab['s3']['identities']['glance']
    variables = {
        'glance_s3_proxy_stores': [
            {'name': 'fast', 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance', 'default': True,
             'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
             'large_object_size': 8, 'large_object_chunk_size': 5}],
        'glance_s3_proxy_proxy': {'enabled': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
                                  'user': 'glance-s3', 'password': PASSWORD},
        'glance_s3_proxy_config_file': api.conf_file,
        'glance_s3_proxy_config_dropin': os.path.join(conf_dir, 'glance-api.conf.d', '50-glance-s3-proxy.conf'),
        'glance_s3_proxy_python': os.path.join(VENV, 'bin', 'python'),
        'glance_s3_proxy_restart_method': 'command',
        'glance_s3_proxy_restart_command': 'bash %s' % restart,
        'glance_s3_proxy_healthcheck_url': 'http://127.0.0.1:%d/healthcheck' % PORT,
        'glance_s3_proxy_pidfile': os.path.join(workdir, 'uwsgi.pid'),
        'glance_s3_proxy_runtime_dir': os.path.join(workdir, 'run'),
        'glance_s3_proxy_staging_dir': os.path.join(workdir, 'staging'),
        'glance_s3_proxy_tasks_dir': os.path.join(workdir, 'tasks'),
        'glance_s3_proxy_wheel_cache_dir': os.path.join(workdir, 'cache'),
        'glance_s3_proxy_expect_direct_blocked': True,
        'glance_s3_proxy_verify_api_url': 'http://127.0.0.1:%d' % PORT,
        'glance_s3_proxy_verify_api_headers': ADMIN_HEADERS,
    }
    yield {'api': api, 'vars': variables, 'dir': workdir, 'conf_dir': conf_dir}
    subprocess.run(['bash', '-c', 'kill -INT $(cat %s/uwsgi.pid) 2>/dev/null; sleep 1' % workdir], check=False)
    api.stop()
    subprocess.run([os.path.join(VENV, 'bin', 'pip'), 'uninstall', '-y', '-q', 'glance-store-s3proxy'], check=False)
    shutil.rmtree(workdir, ignore_errors=True)


def test_converge_installs_nothing_and_proves_the_native_processes(lab, env):
    before = access_log_len(lab)
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'], verbosity=1)
    assert run.rc == 0, run.output
    assert status()['state'] == 'native' and status()['version'] is None  # nothing installed
    assert not glob.glob(os.path.join(env['dir'], 'cache', '*.whl'))  # no wheel copied either
    assert 'each runs the native glance_store of' in run.output
    assert 'MiB uploaded and read back through the Glance API' in run.output
    assert any(' glance-s3 ' in line and line.split()[5] == 'PUT' for line in access_log_lines(lab, before))
    assert not [probe for probe in leak_probes(PASSWORD) if probe in run.output]


def test_second_run_changes_nothing(env):
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
    assert run.rc == 0, run.output
    assert run.changed == 0, run.output


def test_a_later_override_turning_the_proxy_off_fails_and_is_rolled_back(env):
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    with open(dropin, 'rb') as f:
        kept = f.read()
    later = os.path.join(os.path.dirname(dropin), '99-later.conf')
    with open(later, 'w') as f:
        f.write('[fast]\ns3_store_enable_proxy = false\n')
    try:
        store = dict(env['vars']['glance_s3_proxy_stores'][0], thread_pools=4)
        variables = dict(env['vars'], glance_s3_proxy_stores=[store])
        run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'])
        assert run.rc != 0, run.output
        assert 'Store fast: stage config' in run.output and 'no proxy' in run.output, run.output
        with open(dropin, 'rb') as f:
            assert f.read() == kept  # put back as it was
    finally:
        os.unlink(later)


def test_an_installed_extension_is_kept_as_an_observer_or_removed_on_request(env):
    wheel = glob.glob(os.path.join(ROOT, 'roles', 'glance_s3_proxy', 'files', 'glance_store_s3proxy-*.whl'))[0]
    subprocess.run([os.path.join(VENV, 'bin', 'pip'), 'install', '-q', '--no-deps', '--no-index', wheel], check=True)
    subprocess.run(['bash', env['vars']['glance_s3_proxy_restart_command'].split()[-1]], check=True)
    assert status()['state'] == 'native' and status()['version']
    # Kept: it patches nothing and records, so the runtime check reads the records.
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
    assert run.rc == 0, run.output
    assert 'store fast uses proxy http://glance-s3@' in run.output and status()['version']
    # Removed on request, Glance restarted, and proved again without records.
    run = run_playbook(ROLE_PLAYBOOK, dict(env['vars'], glance_s3_proxy_remove_extension=True), env['dir'])
    assert run.rc == 0, run.output
    assert run.changed >= 1
    assert status()['version'] is None and status()['state'] == 'native'
    assert 'each runs the native glance_store of' in run.output
