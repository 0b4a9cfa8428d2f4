"""Fixtures of the reliability cases: this driver's own Squids and S3 server, the report every case writes its
figures into, and the clean-up of everything started here (by pid, never by name)."""

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import pytest

import harness
import write_report
from lab.constants import ROTATION_PASSWORD, SECRET_KEY, USERS, leak_probes

REPORT_DIR = os.path.join(harness.ROOT, 'build', 'reports')
BUCKETS = ['rel-main', 'rel-main-b', 'rel-kill', 'rel-start', 'rel-rotation', 'rel-soak']
_REPORT = {'cases': {}}
_STARTED = time.time()


def _version(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
        return out.stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return 'not found'


def _dist_version(name):
    out = subprocess.run([os.path.join(harness.VENV, 'bin', 'python'), '-c',
                          'from importlib import metadata; print(metadata.version(%r))' % name],
                         stdout=subprocess.PIPE, universal_newlines=True, check=False)
    return out.stdout.strip()


def pytest_sessionstart(session):  # pylint: disable=unused-argument
    _REPORT.update(
        mode=harness.MODE, soak_seconds=harness.SOAK_SECONDS, fault_rounds=harness.FAULT_ROUNDS,
        started=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
        machine={'cores': os.cpu_count(), 'kernel': platform.release(), 'python': platform.python_version(),
                 'load_at_start': [round(x, 2) for x in os.getloadavg()]})


def pytest_runtest_makereport(item, call):
    case = getattr(item.module, 'CASE', None)
    if case and call.when in ('setup', 'call', 'teardown'):
        entry = _REPORT['cases'].setdefault(case, {}).setdefault('tests', {})
        if call.excinfo is not None:
            entry[item.name] = 'failed' if call.when == 'call' else 'error'
            _REPORT['cases'][case].setdefault('failures', []).append('%s (%s): %s' % (
                item.name, call.when, str(call.excinfo.value).splitlines()[0][:600] if str(call.excinfo.value) else
                call.excinfo.typename))
        elif call.when == 'call' or item.name not in entry:
            entry[item.name] = 'passed'


def pytest_sessionfinish(session, exitstatus):  # pylint: disable=unused-argument
    _REPORT.update(finished=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
                   duration_seconds=round(time.time() - _STARTED, 1), exit_status=int(exitstatus),
                   leftover_faults=harness.faults_present())
    _REPORT['machine']['load_at_end'] = [round(x, 2) for x in os.getloadavg()]
    _REPORT['versions'] = {'glance': _dist_version('glance'), 'glance_store': _dist_version('glance_store'),
                           'botocore': _dist_version('botocore'), 'uwsgi': _dist_version('uWSGI'),
                           'extension': _dist_version('glance-store-s3proxy'), 'squid': _version(['squid', '-v']),
                           'haproxy': _version(['haproxy', '-v']), 'seaweedfs': _version([_weed(), 'version'])}
    os.makedirs(REPORT_DIR, exist_ok=True)
    name = 'reliability-short' if harness.SHORT else 'reliability-soak'
    report = _scrub(_REPORT)
    with open(os.path.join(REPORT_DIR, name + '.json'), 'w') as f:
        json.dump(report, f, indent=1, sort_keys=True)
    with open(os.path.join(REPORT_DIR, name + '.md'), 'w') as f:
        f.write(write_report.render(report))


def _scrub(report):
    """The report with every known secret, in each form a log could hold it, replaced by ***: failure messages and
    Glance's error lines are copied into it, and docs/reliability.* are published from it."""
    text = json.dumps(report)
    probes = set()
    for password in list(USERS.values()) + [ROTATION_PASSWORD, SECRET_KEY]:
        probes.update(p for p in leak_probes(password) if len(p) >= 4)
    for probe in sorted(probes, key=len, reverse=True):
        text = text.replace(json.dumps(probe)[1:-1], '***')
    return json.loads(text)


def _weed():
    try:
        from lab import netlab  # pylint: disable=import-outside-toplevel
        return netlab.weed_binary()
    except SystemExit:
        return 'weed'


@pytest.fixture(scope='session')
def report():
    """report(case) -> that case's dict of figures, written to build/reports at the end of the session."""
    def case(name):
        return _REPORT['cases'].setdefault(name, {}).setdefault('figures', {})
    return case


@pytest.fixture(scope='session')
def workdir(lab):  # pylint: disable=unused-argument  # the lab's namespaces must be up
    harness.cleanup_previous_run()
    shutil.rmtree(harness.WORKDIR, ignore_errors=True)
    os.makedirs(harness.WORKDIR)
    os.chmod(harness.WORKDIR, 0o755)  # Squid's user reads its files there
    yield harness.WORKDIR
    harness.stop_everything()
    leftovers = harness.faults_present()
    assert not leftovers, 'faults left in the lab: %s' % leftovers
    if not os.environ.get('KEEP_RELIABILITY'):
        shutil.rmtree(harness.WORKDIR, ignore_errors=True)


@pytest.fixture(scope='session')
def postgres(workdir):  # pylint: disable=unused-argument
    """Glance's database server: every glance-api here gets a database of its own on it (the rotation's two
    hosts share one)."""
    server = harness.PrivatePostgres().start()
    yield server
    server.stop()


@pytest.fixture(scope='session')
def main_squid(workdir):  # pylint: disable=unused-argument
    squid = harness.PrivateSquid('main', USERS).start()
    yield squid
    squid.kill()


@pytest.fixture(scope='session')
def steady_s3(lab, main_squid):
    """The S3 server every case stores in (not the one the S3 faults stop): one bucket per case."""
    s3 = harness.PrivateS3('steady', lab['certs']).start(BUCKETS, main_squid)
    yield s3
    s3.stop()


def pytest_configure(config):
    sys.path.insert(0, harness.HERE)
    config.addinivalue_line('markers', 'reliability: a case of docs/reliability.md')
