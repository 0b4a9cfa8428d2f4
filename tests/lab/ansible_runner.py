"""Run ansible-playbook against this checkout of the collection, as a user would."""

import json
import os
import re
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, '.cache')
TOOLS_BIN = os.path.join(CACHE, 'venv-tools', 'bin')


def collections_path():
    base = os.path.join(CACHE, 'collections')
    link = os.path.join(base, 'ansible_collections', 'glancestore', 's3proxy')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


def ansible_env(extra=None):
    env = {k: v for k, v in os.environ.items() if 'proxy' not in k.lower()}
    home = os.path.join(CACHE, 'ansible-home')
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_path(),
        'ANSIBLE_HOME': home,
        'ANSIBLE_LOCAL_TEMP': os.path.join(home, 'tmp'),
        'ANSIBLE_REMOTE_TEMP': os.path.join(home, 'remote-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_PYTHON_INTERPRETER': os.path.join(TOOLS_BIN, 'python'),
    })
    env.update(extra or {})
    return env


class PlaybookRun:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout
        recap = re.search(r'^localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)',
                          self.output, re.M)
        self.ok, self.changed, _unreachable, self.failed = (int(g) for g in recap.groups()) if recap else (0, 0, 0, 0)


def run_playbook(playbook_text, variables, workdir, check=False, diff=False, verbosity=0, env=None, timeout=900):
    name = uuid.uuid4().hex[:8]
    playbook = os.path.join(workdir, 'play-%s.yml' % name)
    with open(playbook, 'w') as f:
        f.write(playbook_text)
    extra = os.path.join(workdir, 'vars-%s.json' % name)
    with open(extra, 'w') as f:
        json.dump(variables, f)
    cmd = [os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', 'localhost,', '-c', 'local', '-e', '@' + extra, playbook]
    if check:
        cmd.append('--check')
    if diff:
        cmd.append('--diff')
    if verbosity:
        cmd.append('-' + 'v' * verbosity)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=ansible_env(env), timeout=timeout, check=False)
    os.unlink(extra)
    return PlaybookRun(proc)


MODULE_PLAYBOOK = """\
- name: Run glancestore.s3proxy.{module}
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run {module}
      glancestore.s3proxy.{module}: "{{{{ module_args }}}}"
      register: result
      ignore_errors: true
    - name: Save the result
      ansible.builtin.copy:
        content: "{{{{ result | to_nice_json }}}}"
        dest: "{{{{ result_file }}}}"
        mode: "0600"
      check_mode: false
"""


def run_module(module, args, workdir, check=False, verbosity=0, env=None, timeout=300):
    """Run one of the collection's modules on localhost with this Python, the way a user does (ansible-playbook).

    Returns ``(result, run, saved)``: the registered result, the PlaybookRun, and the result's saved JSON text.
    """
    result_file = os.path.join(workdir, 'result-%s.json' % uuid.uuid4().hex[:8])
    variables = {'module_args': args, 'result_file': result_file, 'ansible_python_interpreter': sys.executable}
    run = run_playbook(MODULE_PLAYBOOK.format(module=module), variables, workdir, check=check, verbosity=verbosity,
                       env=env, timeout=timeout)
    assert os.path.exists(result_file), run.output
    with open(result_file) as f:
        saved = f.read()
    return json.loads(saved), run, saved


ROLE_PLAYBOOK = """\
- name: Apply glancestore.s3proxy.glance_s3_proxy
  hosts: localhost
  gather_facts: false
  roles:
    - role: glancestore.s3proxy.glance_s3_proxy
"""

PYTHON = sys.executable
