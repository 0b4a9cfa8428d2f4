"""Run glancestore.s3proxy.s3_proxy_check the way a user does: ansible-playbook."""

import pytest

from lab.ansible_runner import run_module


class Result(dict):
    """The registered result; ``output`` holds everything Ansible printed plus the saved JSON."""

    output = ''


@pytest.fixture
def run_check(tmp_path):
    """run_check(args, check=False, verbosity=0) -> Result."""

    def _run(args, check=False, verbosity=0, env=None):
        saved_result, run, saved = run_module('s3_proxy_check', args, str(tmp_path), check=check, verbosity=verbosity,
                                              env=env)
        result = Result(saved_result)
        result.output = run.output + saved
        return result

    return _run
