"""Helpers for the extension tests: write glance-api.conf files, run the store driver."""

import json
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


class Run:
    def __init__(self, proc):
        self.returncode = proc.returncode
        self.stderr = proc.stderr
        self.stdout = proc.stdout
        lines = [line for line in proc.stdout.splitlines() if line.startswith('{')]
        self.report = json.loads(lines[-1]) if lines else {}

    @property
    def log(self):
        return self.stderr + self.stdout


@pytest.fixture
def run_store(tmp_path):
    """run_store(conf_text, mode, backend=None, size=1 MiB, env=None) -> Run."""

    def _run(conf_text, mode='multi', backend=None, size=1024 * 1024, env=None):
        for sub in ('staging', 'tasks'):
            os.makedirs(str(tmp_path / sub), exist_ok=True)
        conf = tmp_path / 'glance-api.conf'
        conf.write_text(conf_text.replace('@TMP@', str(tmp_path)))
        args = [sys.executable, os.path.join(HERE, 'store_driver.py'), str(conf), mode]
        if backend:
            args.append(backend)
        args.append(str(size))
        run_env = dict(os.environ)
        for var in ('HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'):
            run_env.pop(var, None)
        run_env.update(env or {})
        proc = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                              env=run_env, timeout=300, check=False)
        return Run(proc)

    return _run
