"""Run glancestore.s3proxy.s3_proxy_check the way a user does: ansible-playbook."""

import json
import os
import subprocess
import sys
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CACHE = os.path.join(ROOT, '.cache')

PLAYBOOK = """\
- name: Run s3_proxy_check
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check
      glancestore.s3proxy.s3_proxy_check: "{{ check_args }}"
      register: result
      ignore_errors: true
    - name: Save the result
      ansible.builtin.copy:
        content: "{{ result | to_nice_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
"""


def collections_path():
    base = os.path.join(CACHE, 'collections')
    link = os.path.join(base, 'ansible_collections', 'glancestore', 's3proxy')
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


def ansible_env():
    env = dict(os.environ)
    home = os.path.join(CACHE, 'ansible-home')
    env.update({
        'ANSIBLE_COLLECTIONS_PATH': collections_path(),
        'ANSIBLE_HOME': home,
        'ANSIBLE_LOCAL_TEMP': os.path.join(home, 'tmp'),
        'ANSIBLE_REMOTE_TEMP': os.path.join(home, 'remote-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
    })
    for var in ('HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'):
        env.pop(var, None)
    return env


class Result(dict):
    """The registered result; ``output`` holds everything Ansible printed plus the saved JSON."""

    output = ''


@pytest.fixture
def run_check(tmp_path):
    """run_check(args, check=False, verbosity=0) -> Result."""

    def _run(args, check=False, verbosity=0, env=None):
        name = uuid.uuid4().hex[:8]
        playbook = tmp_path / ('check-%s.yml' % name)
        playbook.write_text(PLAYBOOK)
        result_file = tmp_path / ('result-%s.json' % name)
        extra = tmp_path / ('vars-%s.json' % name)
        extra.write_text(json.dumps({'check_args': args, 'result_file': str(result_file),
                                     'ansible_python_interpreter': sys.executable}))
        cmd = [os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
               '-c', 'local', '-e', '@%s' % extra, str(playbook)]
        if check:
            cmd.append('--check')
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        run_env = ansible_env()
        run_env.update(env or {})
        proc = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                              env=run_env, timeout=300)
        assert result_file.exists(), proc.stdout
        output = proc.stdout
        saved = result_file.read_text()
        extra.unlink()
        result = Result(json.loads(saved))
        result.output = output + saved
        return result

    return _run
