"""playbooks/deploy.yml on two hosts: validation and pre-flight run on every host before any host is changed,
and one host that fails stops them all; then the hosts are configured one at a time, without a second
pre-flight. The hosts are two local inventory hosts, each with its own Glance configuration; the pre-flight
is real (Squid and S3 of the network-namespace lab)."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from lab.ansible_runner import TOOLS_BIN, ansible_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GLANCE_PYTHON = os.path.join(ROOT, '.cache', 'venv-glance', 'bin', 'python')
HOSTS = ('glance-a', 'glance-b')
PREFLIGHT_TASK = 'Check each store through its proxy with the new settings'
CONFIGURE_TASK = 'Write the store and proxy options'


def write_inventory(workdir, lab, passwords):
    ident = lab['s3']['identities']['glance']
    group = subprocess.run(['id', '-gn'], capture_output=True, text=True, check=True).stdout.strip()
    lines = ['glance_api:', '  vars:',
             '    ansible_connection: local',
             '    ansible_python_interpreter: %s' % os.path.join(TOOLS_BIN, 'python'),
             '    glance_s3_proxy_become: false',
             # Glance's environment, with the extension installed (the role only confirms it here).
             '    glance_s3_proxy_python: %s' % GLANCE_PYTHON,
             '    glance_s3_proxy_install_extension: false',
             '    glance_s3_proxy_restart_method: none',
             '    glance_s3_proxy_verify: false',
             '    glance_s3_proxy_config_group: "%s"' % group,
             '    glance_s3_proxy_stores:',
             '      - {name: fast, endpoint: "%s", bucket: glance, default: true, bucket_url_format: path,'
             ' access_key: %s, secret_key: %s}' % (lab['s3']['http_endpoint'], ident['access_key'], ident['secret_key']),
             '  hosts:']
    for host in HOSTS:
        hostdir = os.path.join(workdir, host)
        os.makedirs(os.path.join(hostdir, 'glance-api.conf.d'), exist_ok=True)
        with open(os.path.join(hostdir, 'glance-api.conf'), 'w') as f:
            f.write('[DEFAULT]\nenabled_backends = local:file\n[glance_store]\ndefault_backend = local\n')
        lines += ['    %s:' % host,
                  '      glance_s3_proxy_config_file: %s/glance-api.conf' % hostdir,
                  '      glance_s3_proxy_config_dropin: %s/glance-api.conf.d/50-glance-s3-proxy.conf' % hostdir,
                  '      glance_s3_proxy_runtime_dir: %s/run' % hostdir,
                  '      glance_s3_proxy_proxy: {enabled: true, host: "%s", port: %d, user: glance-s3, password: "%s"}'
                  % (lab['proxy']['host'], lab['proxy']['port'], passwords[host].replace('"', '\\"'))]
    path = os.path.join(workdir, 'inventory.yml')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def deploy(inventory, *extra):
    cmd = [os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', inventory, 'glancestore.s3proxy.deploy'] + list(extra)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env(),
                          timeout=600, check=False)


def task_order(output):
    """(task name, host) in the order the hosts reported them."""
    order, task = [], None
    for line in output.splitlines():
        header = re.match(r'^TASK \[(?:[^:\]]+ : )?(.*)\] \*+$', line)
        if header:
            task = header.group(1)
            continue
        host = re.match(r'^(?:ok|changed|failed|fatal|skipping): \[([^\]]+)\]', line)
        if host and task:
            order.append((task, host.group(1)))
    return order


@pytest.fixture()
def workdir():
    wheel = [os.path.join(ROOT, 'roles/glance_s3_proxy/files', name)
             for name in os.listdir(os.path.join(ROOT, 'roles/glance_s3_proxy/files')) if name.endswith('.whl')]
    subprocess.run([GLANCE_PYTHON, '-m', 'pip', 'install', '-q', '--no-index', '--no-deps', '--disable-pip-version-check']
                   + wheel, check=True)
    path = tempfile.mkdtemp(prefix='deploy-', dir=os.path.join(ROOT, '.cache'))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_one_failing_host_stops_every_host_before_any_change(lab, workdir):
    password = lab['proxy']['users']['glance-s3']
    inventory = write_inventory(workdir, lab, {'glance-a': password, 'glance-b': password + 'x'})
    run = deploy(inventory)
    assert run.returncode != 0, run.stdout
    assert 'Pre-flight failed on glance-b' in run.stdout, run.stdout
    assert 'stage proxy_auth' in run.stdout, run.stdout
    # glance-a passed its pre-flight, in the same play, and was still not changed.
    assert (PREFLIGHT_TASK, 'glance-a') in task_order(run.stdout), run.stdout
    assert CONFIGURE_TASK not in [step[0] for step in task_order(run.stdout)], run.stdout
    for host in HOSTS:
        assert not os.path.exists(os.path.join(workdir, host, 'glance-api.conf.d', '50-glance-s3-proxy.conf'))
    assert password not in run.stdout and password + 'x' not in run.stdout


def test_all_hosts_are_checked_first_then_changed_one_at_a_time(lab, workdir):
    password = lab['proxy']['users']['glance-s3']
    inventory = write_inventory(workdir, lab, {host: password for host in HOSTS})
    run = deploy(inventory)
    assert run.returncode == 0, run.stdout
    order = task_order(run.stdout)
    preflights = [i for i, step in enumerate(order) if step[0] == PREFLIGHT_TASK]
    configures = [(i, host) for i, (task, host) in enumerate(order) if task == CONFIGURE_TASK]
    # One pre-flight per host, all before the first change; main does not repeat it.
    assert sorted(order[i][1] for i in preflights) == sorted(HOSTS), order
    assert [step[1] for step in configures] == list(HOSTS), order
    assert max(preflights) < min(step[0] for step in configures), order
    # serial 1: the first host is done (its last task) before the second starts its configuration.
    first_b = min(i for i, step in enumerate(order) if step[1] == 'glance-b' and i > max(preflights))
    assert all(step[1] == 'glance-a' for step in order[max(preflights) + 1:first_b]), order
    for host in HOSTS:
        assert os.path.exists(os.path.join(workdir, host, 'glance-api.conf.d', '50-glance-s3-proxy.conf'))
    # A second run changes nothing.
    again = deploy(inventory)
    assert again.returncode == 0, again.stdout
    assert re.search(r'^glance-a\s+:.*changed=0', again.stdout, re.M), again.stdout
    assert re.search(r'^glance-b\s+:.*changed=0', again.stdout, re.M), again.stdout


STALE_PLAYBOOK = """\
- name: Prepare with the inventory's settings
  hosts: glance_api
  gather_facts: false
  tasks:
    - name: Prepare
      ansible.builtin.include_role:
        name: glancestore.s3proxy.glance_s3_proxy
        tasks_from: prepare

- name: Apply the role with other settings in the same run
  hosts: glance_api
  gather_facts: false
  vars:
    glance_s3_proxy_proxy: {enabled: true, host: "%s", port: %d, user: "gl:ance", password: other}
  roles:
    - role: glancestore.s3proxy.glance_s3_proxy
"""


def test_main_validates_again_when_the_inputs_changed_after_prepare(lab, workdir):
    password = lab['proxy']['users']['glance-s3']
    inventory = write_inventory(workdir, lab, {host: password for host in HOSTS})
    playbook = os.path.join(workdir, 'stale.yml')
    with open(playbook, 'w') as f:
        f.write(STALE_PLAYBOOK % (lab['proxy']['host'], lab['proxy']['port']))
    run = subprocess.run([os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', inventory, playbook],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env(), timeout=600,
                         check=False)
    assert run.returncode != 0, run.stdout
    assert 'proxy.user contains ":"' in run.stdout, run.stdout
    assert CONFIGURE_TASK not in [step[0] for step in task_order(run.stdout)], run.stdout
    for host in HOSTS:
        assert not os.path.exists(os.path.join(workdir, host, 'glance-api.conf.d', '50-glance-s3-proxy.conf'))
