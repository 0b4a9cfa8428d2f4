# -*- coding: utf-8 -*-
"""meta/runtime.yml's action group, as ansible-core resolves it: module_defaults for
group/glancestore.s3proxy.s3proxy reach both modules (each gets a value its own option refuses)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - glancestore.s3proxy.s3_proxy_runtime_check:
        pid: 1
      register: runtime
      ignore_errors: true
      module_defaults:
        group/glancestore.s3proxy.s3proxy:
          timeout: not-a-number
    - glancestore.s3proxy.s3_proxy_check:
        endpoint_url: http://127.0.0.1:9
        bucket: b
      register: check
      ignore_errors: true
      module_defaults:
        group/glancestore.s3proxy.s3proxy:
          connect_timeout: not-a-number
    - ansible.builtin.copy:
        content: "{{ {'runtime': runtime.msg, 'check': check.msg} | to_json }}"
        dest: "{{ out }}"
        mode: '0600'
"""


def test_module_defaults_of_the_group_reach_both_modules(tmp_path):
    play = tmp_path / 'play.yml'
    play.write_text(PLAY)
    out = tmp_path / 'out.json'
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,',
                          '-c', 'local', '-e', 'ansible_python_interpreter=%s' % sys.executable, '-e',
                          'out=%s' % out, str(play)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=False)
    assert run.returncode == 0, run.stdout
    msgs = json.loads(out.read_text())
    # The group's default reached each module: each rejects the value of its own option.
    assert "argument 'timeout'" in msgs['runtime'] and 'not-a-number' in msgs['runtime'], msgs
    assert "argument 'connect_timeout'" in msgs['check'] and 'not-a-number' in msgs['check'], msgs
