"""The glance_s3_proxy role, plain style, against a real glance-api (uwsgi)
whose S3 stores are reachable only through Squid: converge, idempotence,
check mode, and a wrong password stopped at pre-flight."""

import configparser
import grp
import hashlib
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from lab.ansible_runner import ROLE_PLAYBOOK, run_playbook
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf
from lab.netlab import access_log_len, access_log_lines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GLANCE_VENV = os.path.join(ROOT, '.cache', 'venv-glance')
PASSWORD = 'p@ss:w/rd%#'
PORT = 9393

RESTART = """#!/bin/bash
# Restart the lab glance-api (what systemctl restart glance-api does on a host).
pid=$(cat {d}/uwsgi.pid 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -INT "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
export HOME={home} OS_GLANCE_CONFIG_DIR={conf_dir}
setsid {venv}/bin/uwsgi --ini {d}/uwsgi.ini </dev/null >/dev/null 2>&1 &
"""


def glance_python_status():
    out = subprocess.run([os.path.join(GLANCE_VENV, 'bin', 'python'), '-m', 'glance_store_s3proxy', '--status',
                          '--json'], stdout=subprocess.PIPE, universal_newlines=True, check=False).stdout
    try:
        return json.loads(out)['state']
    except ValueError:
        return 'not_installed'


@pytest.fixture(scope='module')
def env(lab):
    if not any(g.gr_name == 'glance' for g in grp.getgrall()):
        subprocess.run(['groupadd', '--system', 'glance'], check=True)
    # Start from a Glance without the extension: the role installs it.
    subprocess.run([os.path.join(GLANCE_VENV, 'bin', 'pip'), 'uninstall', '-y', '-q', 'glance-store-s3proxy'],
                   check=False)
    workdir = tempfile.mkdtemp(prefix='role-plain-', dir=os.path.join(ROOT, '.cache'))
    home = os.path.join(workdir, 'home')
    conf_dir = os.path.join(home, '.glance')  # oslo.config reads ~/.glance/glance-api.conf.d/ as a drop-in dir
    api = GlanceApi(GLANCE_VENV, workdir, port=PORT, conf_dir=conf_dir, env={'HOME': home})
    conf = base_conf(workdir, 'local:file', 'local') + '\n[local]\nfilesystem_store_datadir = %s/images\n' % workdir
    api.write_config(conf)
    api.db_sync()
    api.start()
    restart = os.path.join(workdir, 'restart.sh')
    with open(restart, 'w') as f:
        f.write(RESTART.format(d=workdir, home=home, conf_dir=conf_dir, venv=GLANCE_VENV))
    ident = lab['s3']['identities']['glance']
    users = lab['proxy']['users']
    variables = {
        'glance_s3_proxy_stores': [
            {'name': 'fast', 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance', 'default': True,
             'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
             'large_object_size': 8, 'large_object_chunk_size': 5, 'max_retries': 3,
             'description': 'Images in S3 through the proxy'},
            {'name': 'second', 'endpoint': lab['s3']['https_endpoint'], 'bucket': 'glance-b',
             'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
             'cacert': lab['certs']['ca'],
             'proxy': {'user': 'glance-s3b', 'password': users['glance-s3b']}},
        ],
        'glance_s3_proxy_proxy': {'enabled': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
                                  'user': 'glance-s3', 'password': PASSWORD},
        'glance_s3_proxy_config_file': api.conf_file,
        'glance_s3_proxy_config_dropin': os.path.join(conf_dir, 'glance-api.conf.d', '50-glance-s3-proxy.conf'),
        'glance_s3_proxy_python': os.path.join(GLANCE_VENV, 'bin', 'python'),
        'glance_s3_proxy_restart_method': 'command',
        'glance_s3_proxy_restart_command': 'bash %s' % restart,
        'glance_s3_proxy_healthcheck_url': 'http://127.0.0.1:%d/healthcheck' % PORT,
        'glance_s3_proxy_staging_dir': os.path.join(workdir, 'staging'),
        'glance_s3_proxy_tasks_dir': os.path.join(workdir, 'tasks'),
        'glance_s3_proxy_wheel_cache_dir': os.path.join(workdir, 'cache'),
        'glance_s3_proxy_expect_direct_blocked': True,
        'glance_s3_proxy_verify_api_url': 'http://127.0.0.1:%d' % PORT,
        'glance_s3_proxy_verify_api_headers': ADMIN_HEADERS,
    }
    state = {'api': api, 'vars': variables, 'dir': workdir, 'main_digest': digest(api.conf_file),
             'secrets': [PASSWORD, 'p%40ss%3Aw%2Frd%25%23', users['glance-s3b'], users['glance-s3b'].replace('$', '$$'),
                         ident['secret_key']]}
    yield state
    subprocess.run(['bash', '-c', 'kill -INT $(cat %s/uwsgi.pid) 2>/dev/null; sleep 1' % workdir], check=False)
    api.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def assert_no_secret(state, text):
    for secret in state['secrets']:
        assert secret not in text


def test_converge_installs_configures_restarts_and_verifies(lab, env):
    before = access_log_len(lab)
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'], verbosity=1)
    assert run.rc == 0, run.output
    assert run.changed >= 3
    assert run.output.count('MiB uploaded and read back through the Glance API') == 2, run.output
    assert_no_secret(env, run.output)
    # The operator's file is untouched; the drop-in holds the stores.
    assert digest(env['api'].conf_file) == env['main_digest']
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    st = os.stat(dropin)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert (st.st_uid, grp.getgrgid(st.st_gid).gr_name) == (0, 'glance')
    parser = configparser.RawConfigParser()
    parser.read(dropin)
    assert parser.get('DEFAULT', 'enabled_backends') == 'local:file, fast:s3, second:s3'
    assert parser.get('glance_store', 'default_backend') == 'fast'
    assert parser.get('fast', 's3_store_enable_proxy') == 'true'
    assert parser.get('fast', 's3_store_proxy_user') == 'glance-s3'
    assert parser.get('fast', 's3_store_max_retries') == '3'
    assert parser.get('second', 's3_store_proxy_user') == 'glance-s3b'
    assert parser.get('second', 's3_store_proxy_password') == lab['proxy']['users']['glance-s3b'].replace('$', '$$')
    # The extension is active, in every worker of the restarted Glance.
    assert glance_python_status() == 'active'
    log = env['api'].log()
    assert 'S3 store fast uses proxy http://glance-s3:***@' in log
    assert 'S3 store second uses proxy http://glance-s3b:***@' in log
    assert_no_secret(env, log)
    # Each store's traffic went through its own proxy user.
    lines = access_log_lines(lab, before)
    assert any(' glance-s3b ' in line and 'CONNECT s3.lab.test:8443' in line for line in lines)
    assert any(' glance-s3 ' in line and '/glance/' in line and line.split()[5] == 'PUT' for line in lines)


def test_second_run_changes_nothing(env):
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
    assert run.rc == 0, run.output
    assert run.changed == 0, run.output


def test_check_diff_changes_nothing_and_shows_no_secret(env):
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'], check=True, diff=True, verbosity=2)
    assert run.rc == 0, run.output
    assert run.changed == 0, run.output
    assert digest(dropin) == before
    assert_no_secret(env, run.output)


def test_check_diff_of_a_change_shows_no_secret(env):
    variables = dict(env['vars'], glance_s3_proxy_proxy=dict(env['vars']['glance_s3_proxy_proxy']))
    variables['glance_s3_proxy_stores'] = [dict(s) for s in env['vars']['glance_s3_proxy_stores']]
    variables['glance_s3_proxy_stores'][0]['thread_pools'] = 4
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'], check=True, diff=True)
    assert run.rc == 0, run.output
    assert run.changed >= 1
    assert digest(dropin) == before
    assert_no_secret(env, run.output)


def test_wrong_password_stops_at_preflight_and_changes_nothing(env):
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    proxy = dict(env['vars']['glance_s3_proxy_proxy'], password='wrong-pass-word')
    variables = dict(env['vars'], glance_s3_proxy_proxy=proxy)
    run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'])
    assert run.rc != 0
    assert "Store fast: stage proxy_auth" in run.output
    assert 'check proxy_user and proxy_password' in run.output
    assert run.changed == 0
    assert digest(dropin) == before
    assert 'wrong-pass-word' not in run.output
    assert env['api'].healthy()
