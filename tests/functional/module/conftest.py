"""Run glancestore.s3proxy.s3_proxy_check the way a user does: ansible-playbook."""

import json
import os
import subprocess
import sys
import uuid

import pytest

from lab.ansible_runner import TOOLS_BIN, ansible_env


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
        cmd = [os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', 'localhost,',
               '-c', 'local', '-e', '@%s' % extra, str(playbook)]
        if check:
            cmd.append('--check')
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        run_env = ansible_env(env)
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
