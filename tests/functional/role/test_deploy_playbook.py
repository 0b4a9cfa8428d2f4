"""playbooks/deploy.yml on two hosts: validation, pre-flight and the plan run on every host before any host is
changed, and one host that fails stops them all; the hosts already right are then confirmed all at once with no
restart, and the hosts that change are configured and restarted one at a time, without a second pre-flight.
The hosts are two local inventory hosts, each with its own Glance configuration and a restart command that
records each restart; the pre-flight is real (Squid and S3 of the network-namespace lab)."""

import os
import re
import shutil
import subprocess
import tempfile

import pytest
import yaml

from lab.ansible_runner import TOOLS_BIN, ansible_env

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
GLANCE_PYTHON = os.path.join(ROOT, '.cache', 'venv-glance', 'bin', 'python')
HOSTS = ('glance-a', 'glance-b')
PREFLIGHT_TASK = 'Check each store through its proxy with the new settings'
CONFIGURE_TASK = 'Write the store and proxy options'
PLAN_TASK = 'Render the store and proxy options and compare them with the drop-in, writing nothing'


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
             '    glance_s3_proxy_restart_method: command',
             '    glance_s3_proxy_healthcheck_url: ""',
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
                  # the restart: one line per restart in HOST/restarts
                  '      glance_s3_proxy_restart_command: "sh -c \'echo restart >> %s/restarts\'"' % hostdir,
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


def task_order(output, with_play=False):
    """(task name, host) in the order the hosts reported them; (play, task name, host) with with_play."""
    order, play, task = [], None, None
    for line in output.splitlines():
        header = re.match(r'^PLAY \[(.*)\] \*+$', line)
        if header:
            play, task = header.group(1), None
            continue
        header = re.match(r'^(?:TASK|RUNNING HANDLER) \[(?:[^:\]]+ : )?(.*)\] \*+$', line)
        if header:
            task = header.group(1)
            continue
        host = re.match(r'^(?:ok|changed|failed|fatal|skipping): \[([^\]]+)\]', line)
        if host and task:
            order.append((play, task, host.group(1)) if with_play else (task, host.group(1)))
    return order


def restarts(workdir, host):
    path = os.path.join(workdir, host, 'restarts')
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read().splitlines())


def dropin(workdir, host):
    return os.path.join(workdir, host, 'glance-api.conf.d', '50-glance-s3-proxy.conf')


STEADY_PLAY = 'Verify the Glance hosts that are already right, all at once'
STEADY_INCLUDE = 'Confirm and verify the host, with no restart'
TURNS_INCLUDE = 'Configure, restart and verify the host'
TURNS_PLAY = 'Configure, restart and verify the Glance hosts that change, glance_s3_proxy_serial hosts at a time'


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
    plans = [i for i, step in enumerate(order) if step[0] == PLAN_TASK]
    configures = [(i, host) for i, (task, host) in enumerate(order) if task == CONFIGURE_TASK]
    # One pre-flight and one plan per host, all before the first change; main does not repeat the pre-flight.
    assert sorted(order[i][1] for i in preflights) == sorted(HOSTS), order
    assert sorted(order[i][1] for i in plans) == sorted(HOSTS), order
    assert [step[1] for step in configures] == list(HOSTS), order
    assert max(preflights + plans) < min(step[0] for step in configures), order
    assert run.stdout.count('Glance will change (the drop-in ') == 2, run.stdout
    # Both change, so both take their turn: none is in the play of the hosts already right.
    plays = task_order(run.stdout, with_play=True)
    assert all(host not in HOSTS or task == STEADY_INCLUDE
               for play, task, host in plays if play == STEADY_PLAY), plays
    # serial 1: the first host is done (its restart included) before the second starts its configuration.
    turns = [(task, host) for play, task, host in plays if play == TURNS_PLAY]
    first_b = min(i for i, step in enumerate(turns) if step[1] == 'glance-b')
    assert all(step[1] == 'glance-a' for step in turns[:first_b]), turns
    assert ('Restart glance-api with the configured command', 'glance-a') in turns[:first_b], turns
    for host in HOSTS:
        assert os.path.exists(dropin(workdir, host))
        assert restarts(workdir, host) == 1, host
    # A second run changes nothing, restarts nothing, and confirms both hosts side by side.
    again = deploy(inventory)
    assert again.returncode == 0, again.stdout
    assert re.search(r'^glance-a\s+:.*changed=0', again.stdout, re.M), again.stdout
    assert re.search(r'^glance-b\s+:.*changed=0', again.stdout, re.M), again.stdout
    assert again.stdout.count('Glance is already as the inventory asks') == 2, again.stdout
    steady = [(task, host) for play, task, host in task_order(again.stdout, with_play=True) if play == STEADY_PLAY]
    write = [host for task, host in steady if task == CONFIGURE_TASK]
    assert sorted(write) == list(HOSTS), steady
    # side by side: each host writes its file before either reaches the role's last step
    last = 'Remove the backup of the previous drop-in'
    assert max(steady.index((CONFIGURE_TASK, host)) for host in HOSTS) < min(steady.index((last, host)) for host in HOSTS), steady
    assert not [step for step in task_order(again.stdout, with_play=True)
                if step[0] == TURNS_PLAY and step[1] != TURNS_INCLUDE], again.stdout
    assert [restarts(workdir, host) for host in HOSTS] == [1, 1]


def test_only_the_host_that_changes_takes_a_turn(lab, workdir):
    password = lab['proxy']['users']['glance-s3']
    inventory = write_inventory(workdir, lab, {host: password for host in HOSTS})
    assert deploy(inventory).returncode == 0
    os.unlink(dropin(workdir, 'glance-b'))
    run = deploy(inventory)
    assert run.returncode == 0, run.stdout
    plays = task_order(run.stdout, with_play=True)
    assert (STEADY_PLAY, CONFIGURE_TASK, 'glance-a') in plays, plays
    assert (TURNS_PLAY, CONFIGURE_TASK, 'glance-b') in plays, plays
    assert (STEADY_PLAY, CONFIGURE_TASK, 'glance-b') not in plays and (TURNS_PLAY, CONFIGURE_TASK, 'glance-a') not in plays
    # the host already right is confirmed before the other one changes
    assert plays.index((STEADY_PLAY, CONFIGURE_TASK, 'glance-a')) < plays.index((TURNS_PLAY, CONFIGURE_TASK, 'glance-b'))
    assert [restarts(workdir, host) for host in HOSTS] == [1, 2]
    assert re.search(r'^glance-a\s+:.*changed=0', run.stdout, re.M), run.stdout
    assert password not in run.stdout


def test_a_change_after_the_plan_stops_the_run_without_a_restart(lab, workdir):
    """Someone changes a host between the plan and its confirmation beside the others (here a play inserted
    between deploy.yml's own plays rewrites glance-b's drop-in): the role must not restart it there."""
    password = lab['proxy']['users']['glance-s3']
    inventory = write_inventory(workdir, lab, {host: password for host in HOSTS})
    assert deploy(inventory).returncode == 0
    with open(os.path.join(ROOT, 'playbooks', 'deploy.yml')) as f:
        plays = yaml.safe_load(f)
    racer = '# written by someone else during the run\n'
    meddle = {'name': 'Meddle', 'hosts': 'glance-b', 'gather_facts': False,
              'tasks': [{'name': 'Rewrite the drop-in', 'ansible.builtin.copy': {
                  'dest': dropin(workdir, 'glance-b'), 'content': racer, 'mode': '0640'}}]}
    playbook = os.path.join(workdir, 'race.yml')
    with open(playbook, 'w') as f:
        yaml.safe_dump([plays[0], meddle] + plays[1:], f, sort_keys=False)
    run = subprocess.run([os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', inventory, playbook],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env(), timeout=600,
                         check=False)
    assert run.returncode != 0, run.stdout
    assert 'glance-b was already as the inventory asks when this run planned its changes' in run.stdout, run.stdout
    assert 'but its drop-in %s changed since' % dropin(workdir, 'glance-b') in run.stdout, run.stdout
    assert 'Glance was not restarted' in run.stdout, run.stdout
    # refused before the write: the role's own write task never ran in that play
    assert (STEADY_PLAY, CONFIGURE_TASK, 'glance-b') not in task_order(run.stdout, with_play=True), run.stdout
    # no restart anywhere, the other host was not taken through its turn, and glance-b's file is as the racer left it
    assert [restarts(workdir, host) for host in HOSTS] == [1, 1]
    assert not [step for step in task_order(run.stdout, with_play=True) if step[0] == TURNS_PLAY]
    with open(dropin(workdir, 'glance-b')) as f:
        assert f.read() == racer
    assert password not in run.stdout


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


def test_an_extension_removed_after_the_plan_is_not_reinstalled_beside_the_others(lab, workdir):
    """The extension disappears from Glance's environment between the plan and the play of the hosts already
    right: pip must not run there (the running glance-api would keep the old code, and no later run would
    restart it); the role refuses before it, on every host that would install."""
    password = lab['proxy']['users']['glance-s3']
    inventory = write_inventory(workdir, lab, {host: password for host in HOSTS})
    extra = ['-e', 'glance_s3_proxy_install_extension=true', '-e', 'glance_s3_proxy_wheel_cache_dir=%s/wheels' % workdir]
    assert deploy(inventory, *extra).returncode == 0
    with open(os.path.join(ROOT, 'playbooks', 'deploy.yml')) as f:
        plays = yaml.safe_load(f)
    meddle = {'name': 'Meddle', 'hosts': 'glance-b', 'gather_facts': False,
              'tasks': [{'name': 'Remove the extension', 'ansible.builtin.command': {
                  'argv': [GLANCE_PYTHON, '-m', 'pip', 'uninstall', '--yes', '-q', 'glance-store-s3proxy']}}]}
    playbook = os.path.join(workdir, 'race.yml')
    with open(playbook, 'w') as f:
        yaml.safe_dump([plays[0], meddle] + plays[1:], f, sort_keys=False)
    try:
        run = subprocess.run([os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', inventory, playbook] + extra,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ansible_env(),
                             timeout=600, check=False)
        assert run.returncode != 0, run.stdout
        assert 'but the extension in %s (install ' % GLANCE_PYTHON in run.stdout, run.stdout
        assert 'Glance was not restarted' in run.stdout, run.stdout
        order = task_order(run.stdout, with_play=True)
        assert not [step for step in order if step[1] == "Install the extension into Glance's Python environment"
                    and step[0] == STEADY_PLAY], order
        assert [restarts(workdir, host) for host in HOSTS] == [1, 1]
        status = subprocess.run([GLANCE_PYTHON, '-m', 'pip', 'show', '-q', 'glance-store-s3proxy'],
                                capture_output=True, check=False)
        assert status.returncode != 0, 'pip installed the extension where no Glance may restart'
        # the next run plans the install, so each host takes its turn and restarts
        again = deploy(inventory, *extra)
        assert again.returncode == 0, again.stdout
        assert again.stdout.count('Glance will change (the extension (install ') == 2, again.stdout
        # Both hosts share one Glance environment here: glance-a's turn installs it and restarts, and glance-b's
        # turn then finds it installed (its own restart would come from its own environment on real hosts).
        installs = [(play, host) for play, task, host in task_order(again.stdout, with_play=True)
                    if task == "Install the extension into Glance's Python environment"]
        assert (TURNS_PLAY, 'glance-a') in installs, installs
        assert [restarts(workdir, host) for host in HOSTS] == [2, 1]
    finally:
        wheel = [os.path.join(ROOT, 'roles/glance_s3_proxy/files', name)
                 for name in os.listdir(os.path.join(ROOT, 'roles/glance_s3_proxy/files')) if name.endswith('.whl')]
        subprocess.run([GLANCE_PYTHON, '-m', 'pip', 'install', '-q', '--no-index', '--no-deps',
                        '--disable-pip-version-check'] + wheel, check=True)
