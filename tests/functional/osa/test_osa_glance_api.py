"""OpenStack-Ansible, the whole chain against the lab: the role (openstack_ansible style) writes the user
variables and puts the wheel on the repo server; OpenStack-Ansible's os_glance store handling and the real
config_template render glance-api.conf (test_osa_deploy.Site); python_venv_build's install puts the extension
into the glance venv from the repo server's wheels; the lab's real glance-api (uwsgi with home= the venv, as
ansible-role-uwsgi's virtualenv=) runs on that rendered file, byte for byte, and stores images in S3 through
Squid with basic auth (the host has no route to S3 except through Squid). Then the collection's read-only
check playbook runs the way an OpenStack-Ansible deploy host runs it: hosts group glance_api, the role's own
variables file, the glance venv's python for the store checks.

Only lab settings Glance cannot run without (SQLite, writable directories, no Keystone policy defaults) are
added, in a file glance-api reads after glance-api.conf (~/.glance/glance.conf.d/, oslo.config's own search);
it sets no backend, no default backend and no S3 option, which the tests assert.

Run with .cache/venv-osa/bin/python -m pytest tests/functional/osa (the lab must be up: tests/lab/netlab.py).
"""

import configparser
import getpass
import hashlib
import json
import os
import shutil
import subprocess
from urllib.parse import quote

import pytest

from lab.constants import PIP_REQUIREMENT
from lab.glance_api import ADMIN_HEADERS, GlanceApi
from lab.image_roundtrip import http, stores_detail, store_image
from test_osa_deploy import CACHE, TOOLS_BIN, Site, env_for, oslo_read, run

GLANCE_VENV = os.path.join(CACHE, 'venv-glance')
GLANCE_PYTHON = os.path.join(GLANCE_VENV, 'bin', 'python')
PORT = 9600  # this file uses 9600-9601
CONTROL_PORT = 9601
MIB = 1024 * 1024

# Lab only, read after glance-api.conf: what OpenStack-Ansible's full template and its hosts provide otherwise
# (a database, Keystone-less policy defaults, directories). os_glance's [file] store writes under
# /var/lib/glance/images/; here it writes in the lab's directory.
LAB_CONF = """\
[DEFAULT]
debug = false
use_stderr = true
image_size_cap = 4294967296

[database]
connection = sqlite:///{d}/glance.sqlite

[os_glance_staging_store]
filesystem_store_datadir = {d}/staging

[os_glance_tasks_store]
filesystem_store_datadir = {d}/tasks

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false

[oslo_concurrency]
lock_path = {d}/locks

[file]
filesystem_store_datadir = {d}/images/
"""
LAB_SECTIONS = {'database', 'os_glance_staging_store', 'os_glance_tasks_store', 'oslo_policy', 'oslo_concurrency',
                'file'}

# The stores as they are in OpenStack-Ansible after the role: the S3 stores, and OSA's own (group_vars' default
# store file, os_glance's http and cinder).
EXPECTED_BACKENDS = ['fast:s3', 'file:file', 'http:http', 'cinder:cinder', 'archive:s3']


def lab_stores(lab):
    ident = lab['s3']['identities']['glance']
    common = {'endpoint': lab['s3']['http_endpoint'], 'access_key': ident['access_key'],
              'secret_key': ident['secret_key'], 'bucket_url_format': 'path', 'max_retries': 3}
    return [
        # the role-wide proxy user (glance-s3, a password with @ : / % #); 64 MiB goes multipart in 8 MiB parts
        dict(common, name='fast', bucket='glance', default=True, large_object_size=32, large_object_chunk_size=8,
             thread_pools=4, description='Images in S3 through the proxy'),
        # its own proxy user (glance-s3b, a password with $); 16 MiB in 5 MiB parts
        dict(common, name='archive', bucket='glance-b', large_object_size=5, large_object_chunk_size=5,
             proxy={'user': 'glance-s3b', 'password': lab['proxy']['users']['glance-s3b']}),
    ]


def lab_proxy(lab, user='glance-s3'):
    return {'host': lab['proxy']['host'], 'port': lab['proxy']['port'], 'user': user}


def secrets(lab):
    users = lab['proxy']['users']
    return [users['glance-s3'], quote(users['glance-s3'], safe=''), users['glance-s3b'], users['glance-s3b'].replace('$', '$$'),
            lab['s3']['identities']['glance']['secret_key']]


def extension_status():
    proc = subprocess.run([GLANCE_PYTHON, '-m', 'glance_store_s3proxy', '--status', '--json'], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    try:
        return json.loads(proc.stdout)['state']
    except ValueError:
        return proc.stdout


def digest(path):
    with open(str(path), 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


def start_glance_api(rendered, workdir, port, site='home'):
    """The lab's glance-api on OpenStack-Ansible's glance-api.conf, copied byte for byte, plus the lab file."""
    home = os.path.join(workdir, 'home')
    run_dir = os.path.join(workdir, 'run')
    os.makedirs(run_dir)
    api = GlanceApi(GLANCE_VENV, workdir, port=port, conf_dir=os.path.join(workdir, 'etc', 'glance'), site=site,
                    processes=2, lazy_apps=True, env={'HOME': home, 'GLANCE_STORE_S3PROXY_RUNTIME_DIR': run_dir})
    api.run_dir = run_dir
    api.write_config('')  # the paste file (lab: roles from headers) and the directories
    shutil.copyfile(str(rendered), api.conf_file)
    api.lab_conf = os.path.join(home, '.glance', 'glance.conf.d', '90-lab.conf')
    os.makedirs(os.path.dirname(api.lab_conf))
    with open(api.lab_conf, 'w') as f:
        f.write(LAB_CONF.format(d=workdir))
    os.makedirs(os.path.join(workdir, 'images'))
    # glance-manage's own --config-dir would replace oslo.config's search: name both files
    subprocess.run([os.path.join(GLANCE_VENV, 'bin', 'glance-manage'), '--config-file', api.conf_file,
                    '--config-file', api.lab_conf, 'db_sync'], check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, env=api._env())  # pylint: disable=protected-access
    try:
        api.start()
    except RuntimeError:
        api.stop()  # not healthy in time: never leave it running
        raise
    return api


@pytest.fixture(scope='module')
def osa(lab, tmp_path_factory):
    assert os.path.exists(GLANCE_PYTHON), 'no .cache/venv-glance: run scripts/bootstrap.sh'
    site = Site(tmp_path_factory.mktemp('osa-chain'))
    role_vars = site.write_role_vars(lab_stores(lab), proxy_password=lab['proxy']['users']['glance-s3'],
                                     proxy=lab_proxy(lab))
    proc = site.run_role()
    assert proc.returncode == 0, proc.stdout
    seen, rendered = site.run_osa()
    # python_venv_build's install on the glance host: the requirement os_glance hands it, from the repo server's
    # wheels only (a no-op when the same release is already there).
    requirement = [p for p in seen['pip'] if 's3proxy' in p]
    assert requirement == [PIP_REQUIREMENT], seen['pip']
    pip_env = {k: v for k, v in os.environ.items() if not k.startswith('PIP_') and 'proxy' not in k.lower()}
    pip_env['PIP_CONFIG_FILE'] = os.devnull
    installed = run([GLANCE_PYTHON, '-m', 'pip', '--disable-pip-version-check', 'install', '--no-index', '--no-deps',
                     '--find-links', '%s/' % site.repo_wheels] + requirement, pip_env)
    assert installed.returncode == 0, installed.stdout
    assert extension_status() == 'active'
    workdir = str(tmp_path_factory.mktemp('osa-glance-api'))
    api = start_glance_api(rendered, workdir, PORT)
    state = {'site': site, 'role_vars': role_vars, 'rendered': rendered, 'seen': seen, 'api': api}
    yield state
    api.stop()


def run_check(state, api, role_vars=None, verbose=False, timeout=5):
    """playbooks/check.yml as on an OpenStack-Ansible deploy host: hosts glance_api, the role's variables file,
    the glance venv's python for the store checks, become as the playbook's default (OpenStack-Ansible connects as
    root, so Ansible skips become). Lab only: the pidfile (no systemd) and the records' directory (the extension's
    default, /var/lib/glance/glance-store-s3proxy, needs /var/lib/glance)."""
    site = state['site']
    inventory = site.tmp / 'check-hosts.ini'
    inventory.write_text('[glance_api]\nglance1 ansible_connection=local ansible_user=%s'
                         ' ansible_python_interpreter=%s\n' % (getpass.getuser(), os.path.join(TOOLS_BIN, 'python')))
    check_vars = site.tmp / ('check-vars-%d.json' % api.port)
    check_vars.write_text(json.dumps({
        'glance_s3_proxy_check_python': GLANCE_PYTHON,
        'glance_s3_proxy_config_file': api.conf_file,
        'glance_s3_proxy_pidfile': os.path.join(api.d, 'uwsgi.pid'),
        'glance_s3_proxy_runtime_dir': api.run_dir,
        'glance_s3_proxy_runtime_timeout': timeout,  # how long the runtime check waits for the records
    }))
    cmd = [os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', str(inventory), 'glancestore.s3proxy.check',
           '-e', '@%s' % (role_vars or state['role_vars']), '-e', '@%s' % check_vars] + (['-v'] if verbose else [])
    return run(cmd, env_for(site.home), timeout=300)


def test_osa_rendered_glance_api_conf_runs_glance_api_through_squid(lab, osa, tmp_path):
    api = osa['api']
    # glance-api runs on the file os_glance's config_template wrote, unchanged ...
    assert digest(api.conf_file) == digest(osa['rendered'])
    # ... and the lab file read after it sets no backend, no default backend and no S3 option.
    lab_conf = configparser.RawConfigParser()
    lab_conf.read(api.lab_conf)
    assert set(lab_conf.sections()) == LAB_SECTIONS
    assert not {'enabled_backends', 'default_backend'} & set(lab_conf.defaults())
    assert not [k for s in lab_conf.sections() for k in lab_conf.options(s) if k.startswith('s3_store')]
    assert oslo_read(osa['rendered'], [])['enabled_backends'] == EXPECTED_BACKENDS

    image = tmp_path / 'image.raw'
    with open(str(image), 'wb') as f:
        f.write(os.urandom(64 * MIB))
    fast_image, lines = store_image(lab, api, str(image))  # the default store: fast, user glance-s3
    assert len([line for line in lines if 'partNumber=' in line]) == 8, lines
    small = tmp_path / 'small.raw'
    with open(str(small), 'wb') as f:
        f.write(os.urandom(16 * MIB))
    archive_image, _lines = store_image(lab, api, str(small), store='archive', proxy_user='glance-s3b', part_mib=5)
    for image_id in (fast_image, archive_image):  # S3 space is the lab's to keep
        deleted = http().delete('%s/v2/images/%s' % (api.url, image_id), headers=ADMIN_HEADERS)
        assert deleted.status_code == 204, deleted.text
    image.unlink()
    small.unlink()

    # OpenStack-Ansible's own stores are there beside the S3 stores, as glance-api loaded them.
    stores = stores_detail(api)
    assert sorted(stores) == sorted(b.split(':', maxsplit=1)[0] for b in EXPECTED_BACKENDS), stores
    assert {name: s['type'] for name, s in stores.items()} == dict(b.split(':', maxsplit=1) for b in EXPECTED_BACKENDS)
    assert [name for name, s in stores.items() if s.get('default')] == ['fast']
    assert stores['fast']['description'] == 'Images in S3 through the proxy'

    log = api.log()
    proxy = '%s:%d' % (lab['proxy']['host'], lab['proxy']['port'])
    assert 'S3 store fast uses proxy http://glance-s3:***@%s' % proxy in log, api.log_tail()
    assert 'S3 store archive uses proxy http://glance-s3b:***@%s' % proxy in log, api.log_tail()
    for secret in secrets(lab):
        assert secret not in log


def test_check_playbook_proves_the_running_osa_glance_api(lab, osa):
    proc = run_check(osa, osa['api'], verbose=True)
    assert proc.returncode == 0, proc.stdout
    # the store checks ran with the glance venv's python: glance_store itself built each store and its client
    assert proc.stdout.count('"settings_reader": "glance_store"') == 2, proc.stdout
    proxy = '%s:%d' % (lab['proxy']['host'], lab['proxy']['port'])
    assert 'glance-api processes checked' in proc.stdout, proc.stdout
    assert 'store fast uses proxy http://glance-s3@%s' % proxy in proc.stdout, proc.stdout
    assert 'store archive uses proxy http://glance-s3b@%s' % proxy in proc.stdout, proc.stdout
    endpoint = lab['s3']['http_endpoint']
    assert 'S3 bucket glance at %s is reachable through proxy http://glance-s3:********@%s' % (endpoint, proxy) \
        in proc.stdout, proc.stdout
    assert 'S3 bucket glance-b at %s is reachable through proxy http://glance-s3b:********@%s' % (endpoint, proxy) \
        in proc.stdout, proc.stdout
    for secret in secrets(lab):
        assert secret not in proc.stdout


def test_check_playbook_fails_when_the_inventory_wants_another_proxy_user(lab, osa):
    # The same check, with an inventory whose role-wide proxy user is another one: the store that takes it
    # (fast) is named; archive, which has its own user, is not at fault.
    other = osa['site'].write_role_vars(lab_stores(lab), proxy_password=lab['proxy']['users']['glance-s3b'],
                                        proxy=lab_proxy(lab, user='glance-s3b'), name='role-vars-other-user.yml')
    proc = run_check(osa, osa['api'], role_vars=other, timeout=1)
    assert proc.returncode != 0, proc.stdout
    assert "store fast in pid" in proc.stdout, proc.stdout
    assert "proxy user is 'glance-s3' in the running process" in proc.stdout, proc.stdout
    assert "the inventory wants 'glance-s3b'" in proc.stdout, proc.stdout
    assert 'store archive in pid' not in proc.stdout, proc.stdout
    for secret in secrets(lab):
        assert secret not in proc.stdout


def test_check_playbook_fails_on_an_osa_glance_api_that_never_ran_the_extension(lab, osa, tmp_path):
    # The same rendered file and venv, glance-api under uwsgi no-site (pythonpath=): Glance serves, the venv's
    # python reports the extension active, but the running processes never ran its .pth: the S3 stores go
    # without the proxy. The check must fail and say so.
    api = start_glance_api(osa['rendered'], str(tmp_path / 'no-site'), CONTROL_PORT, site='no-site')
    try:
        assert api.healthy() and extension_status() == 'active'
        proc = run_check(osa, api, timeout=2)
        assert proc.returncode != 0, proc.stdout
        assert 'has no glance-store-s3proxy record' in proc.stdout, proc.stdout
        proxy = '%s:%d' % (lab['proxy']['host'], lab['proxy']['port'])
        assert 'store fast goes to S3 without proxy http://glance-s3@%s' % proxy in proc.stdout, proc.stdout
        assert 'store archive goes to S3 without proxy http://glance-s3b@%s' % proxy in proc.stdout, proc.stdout
    finally:
        api.stop()
