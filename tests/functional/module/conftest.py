"""Run glancestore.s3proxy.s3_proxy_check the way a user does: ansible-playbook."""

import json
import sys
import uuid

import pytest

from lab.ansible_runner import run_playbook


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
        result_file = tmp_path / ('result-%s.json' % uuid.uuid4().hex[:8])
        variables = {'check_args': args, 'result_file': str(result_file), 'ansible_python_interpreter': sys.executable}
        run = run_playbook(PLAYBOOK, variables, str(tmp_path), check=check, verbosity=verbosity, env=env, timeout=300)
        assert result_file.exists(), run.output
        saved = result_file.read_text()
        result = Result(json.loads(saved))
        result.output = run.output + saved
        return result

    return _run
