"""The kolla-build render, executed: the steps the role adds to glance-api's Dockerfile feed a real glance-api.

What is real:
- The role (ansible-playbook, deployment style kolla, with an operator's kolla-build.conf, as the ``plain``
  fixture of test_kolla_build.py) writes its kolla-build files; the kolla-build command it prints is the one
  test_kolla_build.py runs with kolla-build 23.0.0 (.cache/venv-kolla, ``--template-only``).
- The steps come from that Dockerfile: the instructions from ``ADD additions-archive /`` through the
  ``RUN ... --status`` instruction, continuation lines joined as Docker joins them. No command is written here.
- The build context: kolla's own code (KollaWorker, then BuildTask.builder, with the same command line) makes
  glance-api's Dockerfile and ``additions-archive`` from the ``[glance-api-additions-s3proxy]`` section of the
  role's kolla-build.conf, and stops where kolla hands the context to the container engine.
- ADD: the archive, a local tar, is unpacked at the ADD destination (``tar -xf ARCHIVE -C /``), as Docker does.
- RUN: the rendered command runs with ``/bin/sh -c``, as root, with kolla's image PATH (the kolla venv first),
  against a kolla-style venv at /var/lib/kolla/venv: it exits 0 and says ``active`` for glance_store 5.7.0.
- glance-api: Glance 33 under uwsgi with ``home = /var/lib/kolla/venv`` (2 workers, lazy-apps), its S3 store
  going through Squid with basic auth to SeaweedFS, the only route from this host to S3. A 64 MiB image is
  stored (multipart, every part under the proxy user, nothing denied) and every worker announces the extension.
- The control: the same namespace and venv before the RUN line. The extension cannot be imported there,
  glance-api does not announce it, and the same upload never reaches S3 through the proxy user.

What is replaced, and why (no Docker, no kolla base image):
- The image's file system: the RUN line runs in a private mount namespace (``unshare --mount --propagation
  private``) with temporary directories bind-mounted onto /var/lib/kolla, /additions and /var/lib/glance
  (glance's home in kolla's image, where the extension writes its per-process records: the host's stays
  untouched). Mount points missing on the host are created, then removed. A ``sleep`` holds the namespace,
  and every step enters it with ``nsenter --mount=/proc/PID/ns/mnt``.
- The kolla venv: ``python3.11 -m venv /var/lib/kolla/venv`` inside the namespace, with the interpreter that
  .cache/venv-glance was made with (uwsgi links its libpython). Glance, glance_store 5.7.0 and boto3 come from
  .cache/venv-glance, without network. A .pth file in the kolla venv adds a site directory of links to
  .cache/venv-glance's site-packages. The links leave out the extension's files there (named by the RECORD of its
  dist-info: the nox sessions install it in that venv), so only the RUN line can install it. Before the RUN
  line, the test checks that ``python -m glance_store_s3proxy --status`` fails in the kolla venv.
- The RUN environment: kolla's base image ENV (PATH with /var/lib/kolla/venv/bin first, DEBIAN_FRONTEND),
  LANG=C.UTF-8, no proxy, and no pip configuration (PIP_CONFIG_FILE=/dev/null: the host's is not the image's).
- glance-api: uwsgi is .cache/venv-glance's binary (kolla's image has its own in the venv); it runs as root,
  not as the image's glance user. Its glance-api.conf is the lab's (sqlite, no Keystone, roles from headers),
  not kolla-ansible's: tests/functional/kolla_ansible covers that file.

Run with .cache/venv-kolla/bin/python -m pytest (kolla and requests come from there), as root, with the lab up.
"""

import configparser
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

import pytest
import requests

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# pylint: disable=wrong-import-position
from test_kolla_build import (KOLLA_BIN, ROOT, WHEEL, converge, make_root,  # noqa: E402
                              operator_files, printed_command, role_vars)
from lab.constants import DIST_INFO, PASSWORD, VERSION  # noqa: E402
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf, s3_store  # noqa: E402
from lab.image_roundtrip import create_image, http, store_image, upload_headers  # noqa: E402
from lab.netlab import access_log_len, access_log_lines  # noqa: E402

# pylint: disable=redefined-outer-name

KOLLA_VENV = '/var/lib/kolla/venv'
GLANCE_VENV = os.path.join(ROOT, '.cache', 'venv-glance')
GLANCE_UWSGI = os.path.join(GLANCE_VENV, 'bin', 'uwsgi')
# Paths of the image where the namespace binds a temporary directory.
MOUNTS = ('/var/lib/kolla', '/additions', '/var/lib/glance')
CONTROL_PORT = 9550
PORT = 9551
SIZE = 64 * 1024 * 1024

# The environment of a RUN instruction in glance-api's image: kolla's base image ENV, nothing of the host's.
RUN_ENV = {
    'PATH': KOLLA_VENV + '/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'LANG': 'C.UTF-8',
    'DEBIAN_FRONTEND': 'noninteractive',
    'HOME': '/root',
    'PIP_CONFIG_FILE': os.devnull,
}

# kolla-build's own steps for glance-api, from the printed command line up to the container engine
# (kolla.image.build.run_build, then kolla.image.tasks.BuildTask.builder): the build context it would
# hand to Docker, with the additions archive kolla makes from the [glance-api-additions-*] sections.
KOLLA_CONTEXT = """\
import json, sys
from oslo_config import cfg
from kolla.common import config as common_config
from kolla.image import tasks
from kolla.image.kolla_worker import KollaWorker
conf = cfg.ConfigOpts()
common_config.parse(conf, sys.argv[1:], prog='kolla-build')
kolla = KollaWorker(conf)
kolla.setup_working_dir()
kolla.find_dockerfiles()
kolla.docker_build_paths = [p for p in kolla.docker_build_paths if p.endswith('/glance-api')]
kolla.create_dockerfiles()
kolla.build_image_list()
image = next(i for i in kolla.images if i.name == 'glance-api')
contexts = []
def engine_build(self, image, *args):
    contexts.append(image.path)
tasks.BuildTask._build_buildkit = engine_build
task = tasks.BuildTask(conf, image, None)
assert task._buildkit_active, 'kolla-build would not build with buildkit here'
task.builder(image)
print(json.dumps({'contexts': contexts, 'status': str(image.status)}))
"""

# What the kolla venv imports before the RUN line.
PROBE = """\
import json, glance, glance_store
from importlib import metadata
print(json.dumps({'glance': glance.__file__, 'glance_store': metadata.version('glance_store'),
                  'glance_version': metadata.version('glance')}))
"""

ANNOUNCE_RE = (r'glance-store-s3proxy ' + re.escape(VERSION) + r' active in pid (\d+): '
               r'S3 store fast uses proxy http://glance-s3:\*\*\*@%s:%d')


def footer_steps(dockerfile):
    """The instructions from ``ADD additions-archive /`` through the first RUN that has ``--status``, as
    [(INSTRUCTION, arguments)]: continuation lines joined as Docker joins them (the backslash and the newline
    go), blank and comment lines skipped."""
    lines = dockerfile.splitlines()
    assert lines.count('ADD additions-archive /') == 1, dockerfile
    steps, pending = [], None
    for line in lines[lines.index('ADD additions-archive /'):]:
        if pending is None and (not line.strip() or line.lstrip().startswith('#')):
            continue
        text = (pending or '') + line
        if text.endswith('\\'):
            pending = text[:-1]
            continue
        pending = None
        keyword, arguments = text.strip().split(None, 1)
        steps.append((keyword.upper(), arguments))
        if keyword.upper() == 'RUN' and '--status' in arguments:
            break
    return steps


def additions_location(build_dir):
    """The directory of the [glance-api-additions-s3proxy] section of the role's kolla-build.conf."""
    parser = configparser.ConfigParser()
    assert parser.read(os.path.join(build_dir, 'kolla-build.conf'))
    section = parser['glance-api-additions-s3proxy']
    assert section['type'] == 'local', dict(section)
    return section['location']


def glance_site(dest):
    """A directory of links to .cache/venv-glance's site-packages, without the extension's own files."""
    site = glob.glob(os.path.join(GLANCE_VENV, 'lib', 'python3*', 'site-packages'))[0]
    records = glob.glob(os.path.join(site, 'glance_store_s3proxy-*.dist-info', 'RECORD'))
    assert records, 'the nox sessions install the extension in %s: no RECORD found' % GLANCE_VENV
    with open(records[0]) as f:
        paths = [line.split(',', 1)[0] for line in f if line.strip()]
    extension = set(path.split('/', 1)[0] for path in paths if not path.startswith('..'))
    assert extension == {'glance_store_s3proxy', os.path.basename(os.path.dirname(records[0])),
                         'glance_store_s3proxy.pth'}, extension
    os.makedirs(dest)
    for name in sorted(os.listdir(site)):
        if name not in extension and name != '__pycache__':
            os.symlink(os.path.join(site, name), os.path.join(dest, name))
    return dest


class Namespace:
    """A private mount namespace standing in for the image's file system: a temporary directory bound onto each
    of MOUNTS, held by one process; every step enters it with nsenter."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.sources = dict((path, os.path.join(workdir, 'image' + path.replace('/', '_'))) for path in MOUNTS)
        self.created = []
        self.holder = None

    def host_path(self, path):
        """Where a path under one of MOUNTS is, seen from the host."""
        mount = next(m for m in MOUNTS if path == m or path.startswith(m + '/'))
        return self.sources[mount] + path[len(mount):]

    def start(self):
        for path in MOUNTS:
            os.makedirs(self.sources[path])
            if not os.path.isdir(path):
                os.mkdir(path, 0o755)
                self.created.append(path)
        script = 'set -e\n%secho ready\nexec sleep 3600\n' % ''.join(
            'mount --bind "$%d" %s\n' % (number, path) for number, path in enumerate(MOUNTS, 1))
        self.holder = subprocess.Popen(['unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', script,
                                        'sh'] + [self.sources[path] for path in MOUNTS],
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                                       cwd='/', start_new_session=True)
        ready = self.holder.stdout.readline().strip()
        assert ready == 'ready', self.holder.stderr.read()
        assert os.readlink('/proc/%d/ns/mnt' % self.holder.pid) != os.readlink('/proc/self/ns/mnt')

    def ns(self):
        return '/proc/%d/ns/mnt' % self.holder.pid

    def command(self, argv):
        return ['nsenter', '--mount=%s' % self.ns(), '--'] + list(argv)

    def run(self, argv, env, timeout=300):
        return subprocess.run(self.command(argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, env=env, cwd='/', timeout=timeout, check=False)

    def close(self):
        if self.holder and self.holder.poll() is None:
            self.holder.kill()
        if self.holder:
            self.holder.wait()
            self.holder.stdout.close()
            self.holder.stderr.close()
        # The namespace, and its mounts, end with its last process.
        for path in reversed(self.created):
            os.rmdir(path)


class NamespacedGlanceApi(GlanceApi):
    """lab.glance_api.GlanceApi, run inside the namespace: uwsgi with ``home =`` the kolla venv."""

    def __init__(self, namespace, workdir, port):
        super().__init__(KOLLA_VENV, workdir, port=port, processes=2)
        self.namespace = namespace
        self.env = dict(RUN_ENV, OS_GLANCE_CONFIG_DIR=self.conf_dir)

    def write_config(self, conf_text):
        # Glance's paste file: kolla's image copies Glance's etc/ to /etc/glance; the kolla venv has none.
        self.venv = GLANCE_VENV
        try:
            super().write_config(conf_text)
        finally:
            self.venv = KOLLA_VENV

    def db_sync(self):
        run = self.namespace.run([KOLLA_VENV + '/bin/python', '-m', 'glance.cmd.manage', '--config-dir',
                                  self.conf_dir, 'db_sync'], self.env)
        assert run.returncode == 0, run.stdout[-3000:]

    def launch(self, ini):
        return subprocess.Popen(self.namespace.command([GLANCE_UWSGI, '--ini', ini]), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=self.env, cwd='/', start_new_session=True)


def glance_api(lab, namespace, name, port):
    api = NamespacedGlanceApi(namespace, os.path.join(namespace.workdir, name), port)
    os.makedirs(api.d)
    api.write_config(base_conf(api.d, 'fast:s3', 'fast') + s3_store(lab, 'fast', PASSWORD))
    return api


def try_upload(lab, api, image_file):
    """Upload without asserting success: (PUT status or error, image status, the image's Squid log lines)."""
    session = http()
    image_id = create_image(session, api, 'control')
    before = access_log_len(lab)
    headers = upload_headers(image_file)
    try:
        with open(image_file, 'rb') as f:
            put = session.put(api.url + '/v2/images/%s/file' % image_id, data=f, headers=headers, timeout=120)
        outcome = put.status_code
    except requests.RequestException as exc:
        outcome = repr(exc)
    image = session.get(api.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).json()
    return outcome, image['status'], [line for line in access_log_lines(lab, before) if image_id in line]


@pytest.fixture(scope='module')
def image():
    """The role applied, kolla-build's Dockerfile for glance-api, its footer steps, and kolla's build context."""
    root = make_root('kolla-build-run-')
    try:
        conf = operator_files(root)
        variables = role_vars(root, glance_s3_proxy_kolla_build_base_config=conf)
        run, steps = converge(root, variables)
        assert run.rc == 0, run.output[-4000:]
        argv = printed_command(steps)
        # kolla's own build code for the printed command (test_kolla_build.py renders it with kolla-build itself).
        proc = subprocess.run([os.path.join(KOLLA_BIN, 'python'), '-c', KOLLA_CONTEXT] + argv[1:]
                              + ['--template-only', '--work-dir', os.path.join(root, 'context')],  # no engine daemon
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                              cwd='/', check=False)
        assert proc.returncode == 0, proc.stderr[-4000:]
        built = json.loads(proc.stdout.strip().splitlines()[-1])
        assert len(built['contexts']) == 1, (built, proc.stderr[-4000:])
        context = built['contexts'][0]
        with open(os.path.join(context, 'Dockerfile')) as f:
            dockerfile = f.read()
        yield {'dockerfile': dockerfile, 'steps': footer_steps(dockerfile), 'context': context,
               'additions': additions_location(variables['glance_s3_proxy_kolla_build_dir'])}
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope='module')
def namespace(image):
    """The image before the RUN line: ADD done, a kolla venv at /var/lib/kolla/venv that imports Glance."""
    assert [keyword for keyword, _arguments in image['steps']] == ['ADD', 'RUN'], image['steps']
    source, dest = image['steps'][0][1].split()
    archive = os.path.join(image['context'], source)
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    assert all(m.name == 'additions' or m.name.startswith('additions/') for m in members), [m.name for m in members]
    assert all((m.isdir() or m.isfile()) and '..' not in m.name.split('/') for m in members)

    space = Namespace(tempfile.mkdtemp(prefix='kolla-build-run-', dir=os.path.join(ROOT, '.cache')))
    try:
        space.start()
        add = space.run(['tar', '-xf', archive, '-C', dest], RUN_ENV)
        assert add.returncode == 0, add.stdout
        base_python = configparser.ConfigParser()
        with open(os.path.join(GLANCE_VENV, 'pyvenv.cfg')) as f:
            base_python.read_string('[venv]\n' + f.read())
        venv = space.run([base_python['venv']['executable'], '-m', 'venv', KOLLA_VENV], RUN_ENV)
        assert venv.returncode == 0, venv.stdout
        assert not os.path.exists(KOLLA_VENV)  # only in the namespace
        site = glob.glob(space.host_path(KOLLA_VENV + '/lib/python3*/site-packages'))
        assert len(site) == 1, site
        links = glance_site(os.path.join(space.workdir, 'venv-glance-site'))
        with open(os.path.join(site[0], 'glance-from-venv-glance.pth'), 'w') as f:
            f.write('import site; site.addsitedir(%r)\n' % links)
        probe = space.run([KOLLA_VENV + '/bin/python', '-c', PROBE], RUN_ENV)
        assert probe.returncode == 0, probe.stdout
        found = json.loads(probe.stdout.strip().splitlines()[-1])
        assert found['glance_store'] == '5.7.0' and found['glance'].startswith(links + '/'), found
        yield space
    finally:
        space.close()
        shutil.rmtree(space.workdir, ignore_errors=True)


@pytest.fixture(scope='module')
def image_file(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('kolla-build-run') / 'image.raw')
    with open(path, 'wb') as f:
        f.write(os.urandom(SIZE))
    return path


@pytest.fixture(scope='module')
def control(lab, namespace, image_file):
    """Before the RUN line: the extension's status in the kolla venv, and glance-api from it storing an image."""
    status = namespace.run([KOLLA_VENV + '/bin/python', '-m', 'glance_store_s3proxy', '--status'], RUN_ENV)
    api = glance_api(lab, namespace, 'control', CONTROL_PORT)
    try:
        api.db_sync()
        api.start()
        upload = try_upload(lab, api, image_file)
    finally:
        api.stop()
    return {'status': status, 'upload': upload, 'log': api.log(), 'sqlite': os.path.join(api.d, 'glance.sqlite')}


@pytest.fixture(scope='module')
def installed(image, namespace, control):  # pylint: disable=unused-argument
    """The rendered RUN line, run as Docker runs it, after the control."""
    return namespace.run(['/bin/sh', '-c', image['steps'][1][1]], RUN_ENV)


@pytest.fixture(scope='module')
def glance(lab, namespace, control, installed):
    """glance-api from the kolla venv after the RUN line."""
    assert installed.returncode == 0, installed.stdout
    api = glance_api(lab, namespace, 'glance', PORT)
    shutil.copy(control['sqlite'], os.path.join(api.d, 'glance.sqlite'))  # the same db_sync'ed schema
    try:
        api.start()
        yield api
    finally:
        api.stop()


def test_add_lays_the_additions_out_as_kolla_build_does(image, namespace):
    """The footer is the role's two steps, and ADD puts the section's files under /additions/<location name>."""
    (add, source_dest), (run, command) = image['steps']
    assert (add, source_dest, run) == ('ADD', 'additions-archive /', 'RUN')
    assert KOLLA_VENV + '/bin/pip install ' in command and KOLLA_VENV + '/bin/python -m glance_store_s3proxy --status' \
        in command, command
    location = image['additions']
    assert os.listdir(location) == [WHEEL]
    additions = namespace.host_path('/additions')
    assert os.listdir(additions) == [os.path.basename(location)]
    with open(os.path.join(location, WHEEL), 'rb') as ours, \
            open(os.path.join(additions, os.path.basename(location), WHEEL), 'rb') as added:
        assert ours.read() == added.read()


def test_the_rendered_run_line_installs_the_extension_in_the_kolla_venv(namespace, control, installed):
    before = control['status']
    assert before.returncode != 0 and 'No module named glance_store_s3proxy' in before.stdout, before.stdout
    assert installed.returncode == 0, installed.stdout
    assert re.search(r'^glance-store-s3proxy: active \(version %s, glance_store 5\.7\.0, python %s/bin/python\)$'
                     % (re.escape(VERSION), KOLLA_VENV), installed.stdout, re.M), installed.stdout
    site = glob.glob(namespace.host_path(KOLLA_VENV + '/lib/python3*/site-packages'))[0]
    assert os.path.isfile(os.path.join(site, 'glance_store_s3proxy.pth'))
    assert os.path.isdir(os.path.join(site, DIST_INFO))
    # The build's own --status leaves no record in the image's /var/lib/glance (kolla's glance volume is filled
    # from it, and a root-owned record directory would stop glance-api from writing its own).
    assert not os.path.exists(namespace.host_path('/var/lib/glance/glance-store-s3proxy'))


def test_glance_api_from_the_kolla_venv_stores_through_the_proxy(lab, namespace, glance, image_file):
    _image_id, lines = store_image(lab, glance, image_file)
    assert len([line for line in lines if 'partNumber=' in line]) == 8, lines  # 64 MiB in 8 MiB parts
    log = glance.log()
    pids = set(int(pid) for pid in re.findall(ANNOUNCE_RE % (lab['proxy']['host'], lab['proxy']['port']), log))
    assert len(pids) == glance.processes, glance.log_tail()
    assert PASSWORD not in log
    records = namespace.host_path('/var/lib/glance/glance-store-s3proxy')
    for pid in pids:
        # A worker of this glance-api, in the namespace, whose record is in the image's /var/lib/glance.
        assert os.readlink('/proc/%d/ns/mnt' % pid) == os.readlink(namespace.ns())
        with open('/proc/%d/stat' % pid) as f:
            assert int(f.read().rsplit(')', 1)[1].split()[1]) == glance.pid()
        with open(os.path.join(records, '%d.json' % pid)) as f:
            record = json.load(f)
        assert record['patched'] and record['glance_store'] == '5.7.0', record
        assert record['stores']['fast']['user'] == 'glance-s3', record


def test_without_the_run_line_glance_api_does_not_go_through_the_proxy(control):
    assert 'glance-store-s3proxy' not in control['log'] and 'glance_store_s3proxy' not in control['log']
    assert 'uses proxy' not in control['log']
    outcome, status, lines = control['upload']
    assert outcome != 204 and status != 'active', (outcome, status)
    assert not [line for line in lines if ' glance-s3 ' in line], lines
