"""The kolla style, proven with kolla-ansible's own code, feeding a real glance-api.

What is real:
- The role (ansible-playbook, as root, deployment style kolla) writes
  ``<node_custom_config>/glance/glance-api.conf`` into a temporary /etc/kolla that,
  as in kolla-ansible's quickstart, belongs to the deploying user (here the system
  user ``kolladeploy``), and reads that tree's ``globals.yml``
  (``glance_s3_proxy_kolla_globals``).
- kolla-ansible 23.0.0 (2026.2, .cache/venv-kolla-ansible) then runs AS THAT USER,
  not root: its ``merge_configs`` action plugin, on its own
  ``roles/glance/templates/glance-api.conf.j2``, with the sources, name, vars,
  ``when`` and mode of the task "Copying over glance-api.conf" read at run time
  from its ``roles/glance/tasks/config.yml`` (template, global.conf, glance.conf,
  glance/glance-api.conf, glance/<inventory_hostname>/glance-api.conf under
  node_custom_config). The play sits in a directory laid out like kolla-ansible's
  ``ansible/``: ``group_vars`` (all of ``group_vars/all/*.yml`` as group variables),
  ``action_plugins`` and ``filter_plugins`` are links to kolla-ansible's own, and
  ``roles/glance/defaults/main.yml`` is the role defaults of the one-task role that
  runs it. The inventory is kolla-ansible's ``inventory/all-in-one`` (so
  ``groups`` such as memcached, rabbitmq and glance-api resolve), facts are
  gathered, globals.yml starts from kolla-ansible's ``etc_examples/kolla/globals.yml``
  (plus ``network_interface: lo``, ``kolla_internal_vip_address: 127.0.0.1``,
  ``enable_haproxy: no`` and the scenario's backend flags), and passwords.yml is
  kolla-ansible's example filled by its own ``kolla-genpwd``. ansible-playbook gets
  ``-e @globals.yml -e @passwords.yml -e CONFIG_DIR=<tmp>/etc/kolla``, as the
  kolla-ansible command builds it. The collections of kolla-ansible's
  requirements-core.yml come from the ``ansible`` 14.5.0 package (Galaxy is out of
  reach).
- The merged file, byte for byte, is the glance-api.conf of a real glance-api
  (glance 33, uwsgi, .cache/venv-glance with the extension) that stores a 64 MiB
  image in SeaweedFS through Squid with basic auth, the only route from this host
  to S3.

What is replaced, and why:
- ``-e node_config_directory=<tmp>/etc/kolla``: kolla-ansible hard-codes /etc/kolla
  for the rendered files on the target; the test writes under its temporary tree.
- ``-e ansible_python_interpreter=<venv>/bin/python``: Ansible's discovery can pick
  pyenv shims here (an inventory setting in a real deployment).
- ``become: true`` is dropped from kolla-ansible's task: the deploying user has no
  sudo here. merge_configs reads every source on the controller, as the user who
  runs ansible-playbook, before become applies to the copy to the target, so the
  reading (and its silent ``os.access(R_OK)`` skip) is kolla-ansible's.
- ``{{ role_path }}`` in the first source is kolla-ansible's roles/glance.
- ``<tmp>/etc/kolla/glance-api``, the merge's destination directory, is made by
  the test, owned by the deploying user: kolla-ansible's task "Ensuring config
  directories exist" makes it with become.
- The play adds one task after kolla-ansible's: it saves kolla-ansible's own
  ``glance_store_backends`` (its defaults, for that globals.yml) as JSON, the
  reference for enabled_backends.
- No address, password or group is overridden: the all-in-one inventory, the
  gathered facts of ``lo`` and kolla-genpwd resolve them.
- glance-api: the merged file is copied unchanged to ``$OS_GLANCE_CONFIG_DIR/glance-api.conf``.
  Lab-only settings sit in ``~/.glance/glance-api.conf.d/99-lab-only.conf``, which
  Glance 33's wsgi app reads after it (``CONF([], project='glance', prog='glance-api',
  default_config_files=...)``: oslo.config's default config dirs): log to stderr
  (``log_file`` empty, not /var/log/kolla), sqlite instead of MariaDB, no paste
  flavor (kolla: ``keystone``; no Keystone in the lab, roles from headers), old
  policy defaults, and lock, staging, tasks and file store directories in the
  test's work directory. That file sets neither ``enabled_backends`` nor anything
  in ``[glance_store]`` or a store of the role: the test checks it. The database
  schema is made with ``glance-manage --config-file 99-lab-only.conf db_sync``.

Tests (each can fail):
- K4: the override is readable by the deploying user and every option of its
  S3 store is in the merged file; control: the same override owned by root,
  mode 0640, is skipped by merge_configs without a word (the play succeeds, the
  S3 store is gone), so the check above can fail.
- K5: merged enabled_backends is kolla-ansible's own list for that globals.yml
  (``http:http`` always, ``file:file`` by default; ``file:file``,
  ``cinder:cinder`` and ``rbd:rbd`` with ``glance_backend_file``,
  ``enable_cinder`` and ``glance_backend_ceph`` set to yes), followed by the S3
  store, which is the default backend.
- The chain: glance-api on the merged file lists ``http`` (type http) and the S3
  store in /v2/info/stores/detail and stores a 64 MiB image in 8 MiB multipart
  parts under the proxy user, nothing denied (tests/lab/image_roundtrip.py).

Runs in .cache/venv-kolla-ansible (tests/requirements-kolla-ansible.txt), made by
scripts/bootstrap.sh from a copy of pyenv's Python 3.12 outside /root
(scripts/python312.sh), which a user other than root can run:

    .cache/venv-kolla-ansible/bin/python -m pytest tests/functional/kolla_ansible
"""

import configparser
import copy
import json
import os
import pwd
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from lab.ansible_runner import ROLE_PLAYBOOK, TOOLS_BIN, run_playbook  # noqa: E402
from lab.constants import PASSWORD  # noqa: E402
from lab.glance_api import GlanceApi  # noqa: E402
from lab.image_roundtrip import store_image, stores_detail  # noqa: E402

VENV = os.path.join(ROOT, '.cache', 'venv-kolla-ansible')
KOLLA_SHARE = os.path.join(VENV, 'share', 'kolla-ansible')
KOLLA = os.path.join(KOLLA_SHARE, 'ansible')
GLANCE_VENV = os.path.join(ROOT, '.cache', 'venv-glance')
DEPLOY_USER = 'kolladeploy'  # the non-root user that owns /etc/kolla and runs kolla-ansible
PORT = 9500  # this step's range: 9500-9549
SIZE = 64 * 1024 * 1024
STORE = 'fast'

# Appended to kolla-ansible's example globals.yml in every scenario.
GLOBALS = """
# glancestore.s3proxy test deployment (all-in-one on lo)
kolla_base_distro: "debian"
network_interface: "lo"
kolla_internal_vip_address: "127.0.0.1"
enable_haproxy: "no"
"""

BACKEND_FLAGS = """glance_backend_file: "yes"
enable_cinder: "yes"
glance_backend_ceph: "yes"
"""

PLAY = """\
- name: Apply role glance (kolla-ansible's ansible/site.yml), its glance-api.conf task only
  gather_facts: true
  hosts:
    - glance-api
  roles:
    - glance
"""

SAVE_BACKENDS = {
    'name': "Save kolla-ansible's glance_store_backends (roles/glance/defaults/main.yml)",
    'ansible.builtin.copy': {'content': '{{ glance_store_backends | to_json }}',
                             'dest': '{{ node_config_directory }}/glance-api/kolla-backends.json', 'mode': '0600'},
}

# Lab-only settings, in a drop-in Glance reads after the merged glance-api.conf.
LAB_ONLY = """\
# Lab only (tests/functional/kolla_ansible): what a kolla container has and this host has not.
[DEFAULT]
log_file =
use_stderr = true

[database]
connection = sqlite:///{d}/glance.sqlite

[paste_deploy]
flavor =

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false

[oslo_concurrency]
lock_path = {d}/locks

[os_glance_staging_store]
filesystem_store_datadir = {d}/staging

[os_glance_tasks_store]
filesystem_store_datadir = {d}/tasks

[file]
filesystem_store_datadir = {d}/images
"""


def run(cmd, **kwargs):
    kwargs.setdefault('timeout', 300)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)


def as_user(cmd, env=None, cwd='/'):
    """Run ``cmd`` as the deploying user, with only the environment given (no root's ANSIBLE_*, no proxy)."""
    clean = {'PATH': os.path.join(VENV, 'bin') + ':/usr/bin:/bin', 'LC_ALL': 'C.UTF-8', 'LANG': 'C.UTF-8'}
    clean.update(env or {})
    return run(['runuser', '-u', DEPLOY_USER, '--', 'env', '-i'] + ['%s=%s' % kv for kv in sorted(clean.items())]
               + cmd, cwd=cwd)


def chown_user(*paths):
    user = pwd.getpwnam(DEPLOY_USER)
    for path in paths:
        os.chown(path, user.pw_uid, user.pw_gid)


def user_dir(path):
    os.makedirs(path)
    chown_user(path)
    return path


def kolla_glance_api_task():
    """kolla-ansible's own task that merges glance-api.conf, from its roles/glance/tasks/config.yml."""
    with open(os.path.join(KOLLA, 'roles', 'glance', 'tasks', 'config.yml')) as f:
        tasks = yaml.safe_load(f)
    found = [t for t in tasks if t.get('name') == 'Copying over glance-api.conf']
    assert len(found) == 1, 'kolla-ansible has no single task "Copying over glance-api.conf" in config.yml'
    task = copy.deepcopy(found[0])
    assert task.pop('become', None) is True, task
    sources = task['merge_configs']['sources']
    assert sources[0] == '{{ role_path }}/templates/glance-api.conf.j2', sources
    sources[0] = os.path.join(KOLLA, 'roles', 'glance', 'templates', 'glance-api.conf.j2')
    return task


def ini(text):
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(text)
    return parser


def backends(value):
    return [b.strip() for b in value.split(',') if b.strip()]


class Deployment:
    """One kolla-ansible deploy host: /etc/kolla owned by the deploying user, the role, then kolla's merge."""

    def __init__(self, root, name, passwords, extra_globals=''):
        self.base = os.path.join(root, name)
        os.makedirs(self.base)
        os.chmod(self.base, 0o755)
        self.etc = user_dir(os.path.join(self.base, 'etc', 'kolla'))
        os.chmod(os.path.dirname(self.etc), 0o755)
        self.home = user_dir(os.path.join(self.base, 'home'))
        user_dir(os.path.join(self.etc, 'glance-api'))  # kolla-ansible's "Ensuring config directories exist" (become)
        self.play = os.path.join(self.base, 'play')
        self.secret = os.path.join(self.base, 'root-only')  # the role's vars (secrets) and playbooks
        os.makedirs(self.secret, mode=0o700)
        with open(os.path.join(KOLLA_SHARE, 'etc_examples', 'kolla', 'globals.yml')) as f:
            example = f.read()
        self.globals = os.path.join(self.etc, 'globals.yml')
        self._user_file(self.globals, example + GLOBALS + extra_globals, 0o644)
        with open(passwords) as f:
            self._user_file(os.path.join(self.etc, 'passwords.yml'), f.read(), 0o640)
        self.override = os.path.join(self.etc, 'config', 'glance', 'glance-api.conf')
        self.merged_file = os.path.join(self.etc, 'glance-api', 'glance-api.conf')
        self.role_run = None
        self.merge_run = None
        self.merged = None
        self._write_play()

    def _user_file(self, path, text, mode):
        with open(path, 'w') as f:
            f.write(text)
        os.chmod(path, mode)
        chown_user(path)

    def role_vars(self, lab, **extra):
        ident = lab['s3']['identities']['glance']
        variables = {
            'glance_s3_proxy_deployment_style': 'kolla',
            'glance_s3_proxy_restart_method': 'none',
            'glance_s3_proxy_preflight': True,
            # Given: empty, the role's checks recurse in kolla style (__glance_s3_proxy_check_python refers to
            # ansible_python_interpreter, which the check task itself sets), unless that is an extra var.
            'glance_s3_proxy_check_python': os.path.join(TOOLS_BIN, 'python'),
            'glance_s3_proxy_kolla_config_dir': os.path.join(self.etc, 'config'),
            'glance_s3_proxy_kolla_build_dir': os.path.join(self.etc, 'glance-store-s3proxy'),
            'glance_s3_proxy_kolla_build_base_config': '',
            'glance_s3_proxy_kolla_globals': self.globals,
            'glance_s3_proxy_stores': [
                {'name': STORE, 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance', 'default': True,
                 'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
                 'large_object_size': 32, 'large_object_chunk_size': 8, 'thread_pools': 4, 'max_retries': 3},
            ],
            'glance_s3_proxy_proxy': {'enabled': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
                                      'user': 'glance-s3', 'password': PASSWORD},
        }
        variables.update(extra)
        return variables

    def apply_role(self, lab, **extra):
        self.role_run = run_playbook(ROLE_PLAYBOOK, self.role_vars(lab, **extra), self.secret, timeout=300)
        assert self.role_run.rc == 0, self.role_run.output[-4000:]

    def _write_play(self):
        """A directory laid out like kolla-ansible's ansible/, with kolla-ansible's task as the glance role."""
        os.makedirs(os.path.join(self.play, 'roles', 'glance', 'tasks'))
        os.makedirs(os.path.join(self.play, 'roles', 'glance', 'defaults'))
        os.symlink(os.path.join(KOLLA, 'roles', 'glance', 'defaults', 'main.yml'),
                   os.path.join(self.play, 'roles', 'glance', 'defaults', 'main.yml'))
        for name in ('group_vars', 'action_plugins', 'filter_plugins'):
            os.symlink(os.path.join(KOLLA, name), os.path.join(self.play, name))
        with open(os.path.join(self.play, 'roles', 'glance', 'tasks', 'main.yml'), 'w') as f:
            f.write(yaml.safe_dump([kolla_glance_api_task(), SAVE_BACKENDS], sort_keys=False))
        with open(os.path.join(self.play, 'site.yml'), 'w') as f:
            f.write(PLAY)

    def merge(self):
        """kolla-ansible's merge, as the deploying user. Returns the merged text (None if none was written)."""
        ansible_home = os.path.join(self.home, '.ansible')
        env = {'HOME': self.home, 'ANSIBLE_HOME': ansible_home, 'ANSIBLE_LOCAL_TEMP': os.path.join(ansible_home, 'tmp'),
               'ANSIBLE_REMOTE_TEMP': os.path.join(ansible_home, 'remote-tmp'), 'ANSIBLE_NOCOLOR': '1',
               'ANSIBLE_RETRY_FILES_ENABLED': '0'}
        cmd = [os.path.join(VENV, 'bin', 'ansible-playbook'), '-i', os.path.join(KOLLA, 'inventory', 'all-in-one'),
               '-e', '@' + self.globals, '-e', '@' + os.path.join(self.etc, 'passwords.yml'),
               '-e', 'CONFIG_DIR=' + self.etc, '-e', 'node_config_directory=' + self.etc,
               '-e', 'ansible_python_interpreter=' + os.path.join(VENV, 'bin', 'python'),
               os.path.join(self.play, 'site.yml')]
        self.merge_run = as_user(cmd, env=env, cwd=self.play)
        assert self.merge_run.returncode == 0, self.merge_run.stdout[-4000:]
        if not os.path.exists(self.merged_file):
            return None
        with open(self.merged_file) as f:
            return f.read()

    def kolla_backends(self):
        """enabled_backends as kolla-ansible itself renders it for this globals.yml."""
        with open(os.path.join(self.etc, 'glance-api', 'kolla-backends.json')) as f:
            return ['%s:%s' % (b['name'], b['type']) for b in json.load(f)]

    def override_text(self):
        with open(self.override) as f:
            return f.read()


def missing_s3_options(merged_text, override_text):
    """The options of the override's S3 store sections that the merged file lacks or has with another value.
    Literal comparison: the lab's values hold no Jinja, so merge_configs' templating leaves them as written."""
    override, merged = ini(override_text), ini(merged_text)
    missing = []
    for section in override.sections():
        if not override.has_option(section, 's3_store_host'):
            continue
        for key, value in override.items(section):
            if not merged.has_option(section, key) or merged.get(section, key) != value:
                missing.append('[%s] %s' % (section, key))
    return missing


@pytest.fixture(scope='module')
def deploy_user():
    """The deploying user, and proof that it can run kolla-ansible's venv (no skip: a missing tool fails)."""
    assert os.path.exists(os.path.join(VENV, 'bin', 'ansible-playbook')), \
        'no .cache/venv-kolla-ansible: run scripts/bootstrap.sh (tests/requirements-kolla-ansible.txt)'
    assert os.path.isdir(os.path.join(KOLLA, 'action_plugins')), 'kolla-ansible is not installed in %s' % VENV
    assert os.path.exists(os.path.join(TOOLS_BIN, 'ansible-playbook')), 'no .cache/venv-tools: run scripts/bootstrap.sh'
    try:
        pwd.getpwnam(DEPLOY_USER)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', DEPLOY_USER],
                       check=True)
    proc = as_user([os.path.join(VENV, 'bin', 'python'), '-c', 'import importlib.metadata as m, kolla_ansible; '
                    'print(m.version("kolla-ansible"), m.version("ansible-core"))'])
    assert proc.returncode == 0, ('%s cannot run .cache/venv-kolla-ansible: it must be made from a Python outside '
                                  '/root (scripts/bootstrap.sh, scripts/python312.sh)\n%s' % (DEPLOY_USER, proc.stdout))
    assert proc.stdout.split() == ['23.0.0', '2.21.5'], proc.stdout
    return DEPLOY_USER


@pytest.fixture(scope='module')
def root(deploy_user):
    path = tempfile.mkdtemp(prefix='kolla-ansible-')
    os.chmod(path, 0o755)  # traversable, as / is
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def passwords(root):
    """kolla-ansible's example passwords.yml, filled by its kolla-genpwd, once for every scenario."""
    home = user_dir(os.path.join(root, 'genpwd'))
    path = os.path.join(home, 'passwords.yml')
    shutil.copy(os.path.join(KOLLA_SHARE, 'etc_examples', 'kolla', 'passwords.yml'), path)
    chown_user(path)
    proc = as_user([os.path.join(VENV, 'bin', 'kolla-genpwd'), '-p', path], env={'HOME': home})
    assert proc.returncode == 0, proc.stdout
    return path


@pytest.fixture(scope='module')
def chain(lab, root, passwords):
    """Kolla-ansible's defaults (quickstart globals): the role, then kolla-ansible's merge as the deploying user."""
    deployment = Deployment(root, 'chain', passwords)
    deployment.apply_role(lab)
    deployment.merged = deployment.merge()
    return deployment


@pytest.fixture(scope='module')
def more_backends(lab, root, passwords):
    """globals.yml with glance_backend_file, enable_cinder and glance_backend_ceph set to yes."""
    deployment = Deployment(root, 'backends', passwords, BACKEND_FLAGS)
    deployment.apply_role(lab, glance_s3_proxy_preflight=False)  # the same stores as the chain, already checked
    deployment.merged = deployment.merge()
    return deployment


def test_override_is_readable_by_the_deploying_user_and_merged(chain):
    """K4: kolla-ansible, run by the user who owns /etc/kolla, reads the role's override and keeps its S3 store."""
    st = os.stat(chain.override)
    assert stat.S_IMODE(st.st_mode) & 0o007 == 0, oct(st.st_mode)  # secrets: nothing for others
    proc = as_user(['test', '-r', chain.override])
    assert proc.returncode == 0, ('%s (owner %s, mode %s) is not readable by %s, who runs kolla-ansible: '
                                  'merge_configs skips it without a word'
                                  % (chain.override, pwd.getpwuid(st.st_uid).pw_name, oct(st.st_mode), DEPLOY_USER))
    assert chain.merged is not None, chain.merge_run.stdout[-3000:]
    override = chain.override_text()
    assert ini(override).has_section(STORE), override
    assert missing_s3_options(chain.merged, override) == []
    merged = ini(chain.merged)
    assert merged.get(STORE, 's3_store_enable_proxy') == 'true'
    assert merged.get(STORE, 's3_store_proxy_user') == 'glance-s3'
    assert merged.get(STORE, 's3_store_proxy_password') == PASSWORD
    # kolla-ansible's own sections are still there around it.
    assert merged.get('paste_deploy', 'flavor') == 'keystone'
    assert merged.get('database', 'connection').startswith('mysql+pymysql://glance:')


def test_root_owned_override_is_skipped_without_a_word(root, passwords, chain):
    """K4 control: the same override, root:root 0640 (what the role wrote before), and the same merge as the
    deploying user: the play succeeds and the S3 store is simply not there, so the K4 check can fail."""
    deployment = Deployment(root, 'control', passwords)
    os.makedirs(os.path.dirname(deployment.override))
    chown_user(os.path.dirname(deployment.override), os.path.dirname(os.path.dirname(deployment.override)))
    shutil.copy(chain.override, deployment.override)
    os.chown(deployment.override, 0, 0)
    os.chmod(deployment.override, 0o640)
    assert as_user(['test', '-r', deployment.override]).returncode != 0
    merged = deployment.merge()
    out = deployment.merge_run.stdout
    assert 'changed: [localhost]' in out.split('Copying over glance-api.conf', 1)[1].split('TASK [', 1)[0], out
    assert [line for line in out.splitlines() if 'WARNING' in line or 'ERROR' in line] == \
        ['[WARNING]: Invalid characters were found in group names but not replaced, use -vvvv to see details'], out
    override = chain.override_text()
    assert missing_s3_options(merged, override) == missing_s3_options('', override) != []
    assert not ini(merged).has_section(STORE)
    assert backends(ini(merged).get('DEFAULT', 'enabled_backends')) == deployment.kolla_backends()


def test_kolla_backends_kept_with_kolla_defaults(chain):
    """K5: kolla-ansible's defaults (file, as neither ceph nor s3 is on, and http), then the S3 store."""
    kolla = chain.kolla_backends()
    assert kolla == ['file:file', 'http:http']
    merged = ini(chain.merged)
    assert backends(merged.get('DEFAULT', 'enabled_backends')) == kolla + ['%s:s3' % STORE]
    assert merged.get('glance_store', 'default_backend') == STORE


def test_kolla_backends_kept_with_file_cinder_and_ceph(more_backends):
    """K5: glance_backend_file, enable_cinder and glance_backend_ceph: kolla's file, http, cinder and rbd stay."""
    kolla = more_backends.kolla_backends()
    assert kolla == ['file:file', 'http:http', 'cinder:cinder', 'rbd:rbd']
    assert more_backends.merged is not None, more_backends.merge_run.stdout[-3000:]
    merged = ini(more_backends.merged)
    assert backends(merged.get('DEFAULT', 'enabled_backends')) == kolla + ['%s:s3' % STORE]
    assert merged.get('glance_store', 'default_backend') == STORE
    # kolla-ansible's own sections of those backends are rendered, and the S3 store's options are merged.
    assert merged.has_section('rbd') and merged.has_section('cinder') and merged.has_section('file')
    assert missing_s3_options(more_backends.merged, more_backends.override_text()) == []


@pytest.fixture(scope='module')
def glance(lab, root, chain):
    """A real glance-api whose glance-api.conf is the merged file, unchanged; lab-only settings in a later drop-in."""
    assert chain.merged is not None, chain.merge_run.stdout[-3000:]
    workdir = os.path.join(root, 'glance')
    home = os.path.join(workdir, 'home')
    conf_dir = os.path.join(home, '.glance')  # OS_GLANCE_CONFIG_DIR; oslo.config also reads ~/.glance/glance-api.conf.d
    api = GlanceApi(GLANCE_VENV, workdir, port=PORT, conf_dir=conf_dir,
                    env={'HOME': home, 'GLANCE_STORE_S3PROXY_RUNTIME_DIR': os.path.join(workdir, 'run')})
    api.write_config(chain.merged)
    dropin = os.path.join(conf_dir, 'glance-api.conf.d', '99-lab-only.conf')
    os.makedirs(os.path.dirname(dropin))
    with open(dropin, 'w') as f:
        f.write(LAB_ONLY.format(d=workdir))
    env = {k: v for k, v in os.environ.items() if 'proxy' not in k.lower()}
    env['HOME'] = home
    proc = run([os.path.join(GLANCE_VENV, 'bin', 'glance-manage'), '--config-file', dropin, 'db_sync'], env=env)
    assert proc.returncode == 0, proc.stdout[-3000:]
    api.start()
    yield {'api': api, 'dropin': dropin}
    api.stop()


def test_merged_file_runs_glance_api_through_the_proxy(lab, chain, glance, tmp_path):
    """The chain: kolla-ansible's merged file, unchanged, is what glance-api runs on: kolla's http store and the
    S3 store are there, and a 64 MiB image goes to S3 in multipart parts through Squid under the proxy user."""
    api = glance['api']
    with open(api.conf_file) as f:
        assert f.read() == chain.merged
    # The lab-only drop-in touches no backend choice and no S3 store.
    with open(glance['dropin']) as f:
        lab_only = ini(f.read())
    assert not lab_only.has_option('DEFAULT', 'enabled_backends')
    assert not lab_only.has_section('glance_store') and not lab_only.has_section(STORE)

    stores = stores_detail(api)
    assert stores['http']['type'] == 'http', stores
    assert stores[STORE]['type'] == 's3', stores
    assert [s for s in stores if str(stores[s].get('default')).lower() == 'true'] == [STORE], stores
    merged_backends = backends(ini(chain.merged).get('DEFAULT', 'enabled_backends'))
    assert sorted(stores) == sorted(b.split(':', 1)[0] for b in merged_backends)
    assert PASSWORD not in json.dumps(stores)

    image_file = tmp_path / 'image.raw'
    with open(str(image_file), 'wb') as f:
        f.write(os.urandom(SIZE))
    _image_id, lines = store_image(lab, api, str(image_file))
    assert len([line for line in lines if 'partNumber=' in line]) == 8, lines  # 64 MiB in 8 MiB parts
    log = api.log()
    assert 'S3 store %s uses proxy http://glance-s3:***@%s:%d' % (STORE, lab['proxy']['host'], lab['proxy']['port']) \
        in log, api.log_tail()
    assert PASSWORD not in log


def printed_steps(run):
    """The kolla steps the role printed (the debug task's msg)."""
    task = run.output.find(': Show the kolla steps that follow]')
    assert task >= 0, run.output[-3000:]
    start = run.output.index('ok: [localhost] => {', task) + len('ok: [localhost] => ')
    return json.JSONDecoder().raw_decode(run.output, start)[0]['msg']


def kolla_ansible_parse(argv):
    """kolla-ansible's own command line parsing (cliff, kolla_ansible.cmd.kolla_ansible), without running it:
    the command's name and its parsed arguments. An unknown command raises ValueError, a bad argument SystemExit."""
    from kolla_ansible.cmd.kolla_ansible import KollaAnsibleApp  # pylint: disable=import-outside-toplevel
    app = KollaAnsibleApp()
    factory, name, rest = app.command_manager.find_command(argv)
    command = factory(app, None, cmd_name=name)
    parser = command.get_parser('kolla-ansible ' + name)
    return name, parser.parse_args(rest)


def test_printed_kolla_ansible_commands_are_what_kolla_ansible_parses(chain):
    """K8: the printed steps pull the image before reconfigure, both for the glance play (site.yml tags it
    glance), in kolla-ansible 23's command syntax; the syntax of older releases (options first) is refused."""
    steps = printed_steps(chain.role_run)
    lines = [line.strip() for line in steps if line.strip().startswith('kolla-ansible ')]
    parsed = [kolla_ansible_parse(shlex.split(line)[1:]) for line in lines]
    assert [name for name, _args in parsed] == ['pull', 'reconfigure'], lines
    for _name, args in parsed:
        assert args.inventory == ['INVENTORY'] and args.tags == 'glance'
    with open(os.path.join(KOLLA, 'site.yml')) as f:
        assert '- { role: glance, tags: glance }' in f.read()
    with pytest.raises(ValueError, match='Unknown command'):
        kolla_ansible_parse(shlex.split('-i INVENTORY reconfigure -t glance'))
