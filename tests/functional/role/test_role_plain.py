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
import time
from urllib.parse import quote

import pytest

from lab.ansible_runner import ROLE_PLAYBOOK, run_playbook
from lab.constants import PASSWORD
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf
from lab.netlab import access_log_len, access_log_lines

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GLANCE_VENV = os.path.join(ROOT, '.cache', 'venv-glance')
PORT = 9393

RESTART = """#!/bin/bash
# Restart the lab glance-api (what systemctl restart glance-api does on a host).
pid=$(cat {d}/uwsgi.pid 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -INT "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
export HOME={home} OS_GLANCE_CONFIG_DIR={conf_dir} GLANCE_STORE_S3PROXY_RUNTIME_DIR={d}/run
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
def env(lab, request):
    if not any(g.gr_name == 'glance' for g in grp.getgrall()):
        subprocess.run(['groupadd', '--system', 'glance'], check=True)
    # Start from a Glance without the extension: the role installs it.
    subprocess.run([os.path.join(GLANCE_VENV, 'bin', 'pip'), 'uninstall', '-y', '-q', 'glance-store-s3proxy'],
                   check=False)
    workdir = tempfile.mkdtemp(prefix='role-plain-', dir=os.path.join(ROOT, '.cache'))
    home = os.path.join(workdir, 'home')
    conf_dir = os.path.join(home, '.glance')  # oslo.config reads ~/.glance/glance-api.conf.d/ as a drop-in dir
    api = GlanceApi(GLANCE_VENV, workdir, port=PORT, conf_dir=conf_dir,
                    env={'HOME': home, 'GLANCE_STORE_S3PROXY_RUNTIME_DIR': os.path.join(workdir, 'run')})
    conf = base_conf(workdir, 'local:file', 'local') + '\n[local]\nfilesystem_store_datadir = %s/images\n' % workdir
    if getattr(request.module, 'GLANCE_DEBUG', False):
        conf = conf.replace('debug = false', 'debug = true')
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
            # TLS to the proxy itself (Squid https_port), with the lab's CA.
            {'name': 'tlsproxy', 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance-b',
             'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
             'proxy': {'scheme': 'https', 'port': lab['proxy']['tls_port'], 'cacert': lab['certs']['ca']}},
        ],
        'glance_s3_proxy_proxy': {'enabled': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
                                  'user': 'glance-s3', 'password': PASSWORD},
        'glance_s3_proxy_config_file': api.conf_file,
        'glance_s3_proxy_config_dropin': os.path.join(conf_dir, 'glance-api.conf.d', '50-glance-s3-proxy.conf'),
        'glance_s3_proxy_python': os.path.join(GLANCE_VENV, 'bin', 'python'),
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
    state = {'api': api, 'vars': variables, 'dir': workdir, 'main_digest': digest(api.conf_file),
             'secrets': [PASSWORD, quote(PASSWORD, safe=''), users['glance-s3b'], users['glance-s3b'].replace('$', '$$'),
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
    before_tls = access_log_len(lab, 'squid_tls')
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'], verbosity=1)
    assert run.rc == 0, run.output
    assert run.changed >= 3
    assert run.output.count('MiB uploaded and read back through the Glance API') == 3, run.output
    assert_no_secret(env, run.output)
    # The operator's file is untouched; the drop-in holds the stores.
    assert digest(env['api'].conf_file) == env['main_digest']
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    st = os.stat(dropin)
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert (st.st_uid, grp.getgrgid(st.st_gid).gr_name) == (0, 'glance')
    parser = configparser.RawConfigParser()
    parser.read(dropin)
    assert parser.get('DEFAULT', 'enabled_backends') == 'local:file, fast:s3, second:s3, tlsproxy:s3'
    assert parser.get('tlsproxy', 's3_store_proxy_scheme') == 'https'
    assert parser.get('tlsproxy', 's3_store_proxy_cacert') == lab['certs']['ca']
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
    assert 'S3 store tlsproxy uses proxy https://glance-s3:***@%s:%d' % (lab['proxy']['host'], lab['proxy']['tls_port']) in log
    assert_no_secret(env, log)
    # Each store's traffic went through its own proxy user.
    lines = access_log_lines(lab, before)
    connect = 'CONNECT %s:%d' % (lab['s3']['name'], lab['s3']['https_port'])
    assert any(' glance-s3b ' in line and connect in line for line in lines)
    assert any(' glance-s3 ' in line and '/glance/' in line and line.split()[5] == 'PUT' for line in lines)
    # The TLS-proxied store went through Squid's https_port, under its user.
    tls_lines = access_log_lines(lab, before_tls, squid='squid_tls')
    assert any(' glance-s3 ' in line and '/glance-b/' in line and line.split()[5] == 'PUT' for line in tls_lines), tls_lines


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


CHECK_PLAYBOOK = """\
- name: Run the collection's check playbook
  ansible.builtin.import_playbook: glancestore.s3proxy.check
"""


def check_vars(env):
    return dict(env['vars'], glance_s3_proxy_hosts='localhost', glance_s3_proxy_become=False,
                glance_s3_proxy_check_probe='read', glance_s3_proxy_runtime_timeout=5)


def restart(env):
    subprocess.run(['bash', os.path.join(env['dir'], 'restart.sh')], check=True)
    api = env['api']
    for _attempt in range(200):
        if api.healthy():
            return
        time.sleep(0.3)
    raise AssertionError('glance-api did not come back: %s' % api.log_tail())


def test_check_playbook_proves_the_running_processes(env):
    run = run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir'], verbosity=1)
    assert run.rc == 0, run.output
    assert 'glance-api processes checked' in run.output
    assert 'store fast uses proxy http://glance-s3@' in run.output
    assert 'store second uses proxy http://glance-s3b@' in run.output
    assert 'store tlsproxy uses proxy https://glance-s3@' in run.output
    assert_no_secret(env, run.output)
    # Without the inventory it checks every S3 store the running processes configured.
    bare = {k: v for k, v in check_vars(env).items() if k not in ('glance_s3_proxy_stores', 'glance_s3_proxy_proxy')}
    run = run_playbook(CHECK_PLAYBOOK, bare, env['dir'])
    assert run.rc == 0, run.output
    assert run.output.count('is reachable through proxy') == 3, run.output


def test_a_later_dropin_that_turns_a_proxy_off_fails_verify_and_check(env):
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    later = os.path.join(os.path.dirname(dropin), '90-later.conf')
    with open(later, 'w') as f:
        f.write('[fast]\ns3_store_enable_proxy = false\n')
    try:
        run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
        assert run.rc != 0, run.output
        assert 'Store fast: stage config' in run.output and 'no proxy' in run.output, run.output
        assert digest(dropin) == before
        check = run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir'])
        assert check.rc != 0 and 'Store fast: stage config' in check.output, check.output
        # Once Glance restarts on it, the running processes themselves go direct: the runtime proof names the file.
        restart(env)
        check = run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir'])
        assert check.rc != 0, check.output
        assert 'does NOT use a proxy' in check.output and '90-later.conf [fast]' in check.output, check.output
        assert_no_secret(env, run.output + check.output)
    finally:
        os.unlink(later)
        restart(env)
    assert run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir']).rc == 0


def test_a_failed_verification_puts_the_configuration_back_byte_identical(env):
    # glance-api under uwsgi no-site: it never runs the extension's .pth, although a fresh interpreter of the
    # same venv reports the extension active. The change must be rolled back and Glance restarted on the old file.
    api = env['api']
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    api.site = 'no-site'
    with open(os.path.join(env['dir'], 'uwsgi.ini'), 'w') as f:
        f.write(api.uwsgi_ini())
    restart(env)
    try:
        assert glance_python_status() == 'active'
        variables = dict(env['vars'], glance_s3_proxy_runtime_timeout=5)
        variables['glance_s3_proxy_stores'] = [dict(s) for s in env['vars']['glance_s3_proxy_stores']]
        variables['glance_s3_proxy_stores'][0]['thread_pools'] = 3
        run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'], verbosity=3)
        assert run.rc != 0, run.output
        assert 'has no glance-store-s3proxy record' in run.output
        assert 'put back as it was before this run and Glance restarted on it' in run.output
        assert digest(dropin) == before
        assert not [n for n in os.listdir(os.path.dirname(dropin)) if n != os.path.basename(dropin)]
        assert_no_secret(env, run.output)
    finally:
        api.site = 'home'
        with open(os.path.join(env['dir'], 'uwsgi.ini'), 'w') as f:
            f.write(api.uwsgi_ini())
        restart(env)


def test_a_failed_restart_is_rolled_back_and_glance_restarted_on_the_old_file(env):
    # glance-api refuses to start on the new drop-in (the restart command fails on it): the handler fails, the
    # previous drop-in comes back, and Glance is restarted on it, directly (a handler that ran is not run again).
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    old_pid = env['api'].pid()
    restart_cmd = "bash -c 'grep -q \"s3_store_thread_pools = 7\" %s && exit 3; bash %s'" % (
        dropin, os.path.join(env['dir'], 'restart.sh'))
    variables = dict(env['vars'], glance_s3_proxy_restart_command=restart_cmd)
    variables['glance_s3_proxy_stores'] = [dict(s) for s in env['vars']['glance_s3_proxy_stores']]
    variables['glance_s3_proxy_stores'][0]['thread_pools'] = 7
    run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'])
    assert run.rc != 0, run.output
    assert 'put back as it was before this run and Glance restarted on it' in run.output, run.output
    assert digest(dropin) == before
    assert env['api'].healthy() and env['api'].pid() != old_pid  # restarted, on the old file
    assert run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir']).rc == 0


def test_a_backend_enabled_in_an_earlier_dropin_stays_enabled(env):
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    earlier = os.path.join(os.path.dirname(dropin), '10-operator.conf')
    with open(earlier, 'w') as f:
        f.write('[DEFAULT]\nenabled_backends = local:file, cold:file\n\n[cold]\nfilesystem_store_datadir = %s/cold\n'
                % env['dir'])
    try:
        run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
        assert run.rc == 0, run.output
        parser = configparser.RawConfigParser()
        parser.read(dropin)
        assert parser.get('DEFAULT', 'enabled_backends') == 'local:file, cold:file, fast:s3, second:s3, tlsproxy:s3'
    finally:
        os.unlink(earlier)
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
    assert run.rc == 0, run.output


def test_a_store_that_goes_direct_beside_proxied_ones_converges_and_is_verified_direct(lab, env):
    """A store with proxy.enabled false (here on the lab's leaky address, which this host reaches without Squid)
    beside the proxied ones: converge, the live check of the running processes and the API upload all pass, the
    direct store's images never appear in Squid's log, and the proxied ones still go through Squid."""
    ident = lab['s3']['identities']['glance']
    variables = json.loads(json.dumps(env['vars']))
    variables['glance_s3_proxy_stores'].append(
        {'name': 'nearby', 'endpoint': lab['s3']['leaky_endpoint'], 'bucket': 'glance-b',
         'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
         'proxy': {'enabled': False}})
    # The check that the direct path is blocked cannot hold for a store meant to go direct (validation says so).
    variables['glance_s3_proxy_expect_direct_blocked'] = False
    try:
        before = access_log_len(lab)
        run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'])
        assert run.rc == 0, run.output
        assert 'NoneType' not in run.output
        # s3_proxy_runtime_check's summary for the running processes: the direct store as asked, the others proxied.
        assert 'store nearby goes to S3 directly, as the inventory asks' in run.output, run.output
        assert 'store fast uses proxy http://glance-s3@' in run.output, run.output
        parser = configparser.RawConfigParser()
        parser.read(variables['glance_s3_proxy_config_dropin'])
        assert parser.get('nearby', 's3_store_enable_proxy') == 'false'
        assert not parser.has_option('nearby', 's3_store_proxy_host')
        logged = ''.join(access_log_lines(lab, before))
        assert ' glance-s3 ' in logged  # the proxied stores' verification went through Squid, as their user
        assert lab['s3']['leaky_ip'] not in logged  # the direct store's never did
    finally:
        run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
        assert run.rc == 0, run.output


def test_install_extension_false_without_the_extension_fails_before_any_change(env):
    dropin = env['vars']['glance_s3_proxy_config_dropin']
    before = digest(dropin)
    tools_python = os.path.join(ROOT, '.cache', 'venv-tools', 'bin', 'python')
    variables = dict(env['vars'], glance_s3_proxy_install_extension=False, glance_s3_proxy_python=tools_python)
    variables['glance_s3_proxy_stores'] = [dict(s) for s in env['vars']['glance_s3_proxy_stores']]
    variables['glance_s3_proxy_stores'][0]['thread_pools'] = 2
    run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'])
    assert run.rc != 0, run.output
    assert 'glance_s3_proxy_install_extension is false' in run.output
    assert "Glance's configuration was not changed" in run.output
    assert digest(dropin) == before


def test_extension_uninstalled_after_deploy_fails_check_until_the_role_runs_again(env):
    subprocess.run([os.path.join(GLANCE_VENV, 'bin', 'pip'), 'uninstall', '-y', '-q', 'glance-store-s3proxy'], check=True)
    restart(env)
    check = run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir'])
    assert check.rc != 0, check.output
    assert 'has no glance-store-s3proxy record' in check.output
    run = run_playbook(ROLE_PLAYBOOK, env['vars'], env['dir'])
    assert run.rc == 0, run.output
    assert glance_python_status() == 'active'
    assert run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir']).rc == 0
