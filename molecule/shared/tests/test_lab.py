"""Testinfra checks of a lab scenario: Glance, the proxy and S3 as containers,
Glance reaching S3 only through the proxy, Glance's API published on the host's
127.0.0.1:9292. The scenario's values are the glance_api group's variables of its
molecule.yml (as Molecule merged it: MOLECULE_FILE); the lab's users and keys are
lab/constants.yml's."""

import configparser
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

import pytest
import testinfra
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(os.environ['MOLECULE_SCENARIO_DIRECTORY'])))
with open(os.environ['MOLECULE_FILE']) as f:
    VARS = yaml.safe_load(f)['provisioner']['inventory']['group_vars']['glance_api']
with open(os.path.join(ROOT, 'lab', 'constants.yml')) as f:
    CONSTANTS = yaml.safe_load(f)
with open(os.path.join(ROOT, 'molecule', 'shared', 'lab-platforms.yml')) as f:
    PLATFORMS = yaml.safe_load(f)
PROXY_USERS = CONSTANTS['proxy_users']
ACCESS_KEY = CONSTANTS['s3_identities']['glance']['access_key']
SECRET_KEY = CONSTANTS['s3_identities']['glance']['secret_key']
API = 'http://%s:%s' % (PLATFORMS['lab_api_address'], PLATFORMS['lab_api_port'])

GLANCE = testinfra.get_host('docker://gs3p-glance')
PROXY = testinfra.get_host('docker://gs3p-proxy')
S3 = testinfra.get_host('docker://gs3p-s3')
DROPIN = '/etc/glance/glance-api.conf.d/50-glance-s3-proxy.conf'
LEGACY = VARS.get('glance_s3_proxy_store_mode') == 'legacy'
FAILURE = VARS.get('lab_expect_preflight_failure', False)
STORES = VARS['glance_s3_proxy_stores']
MAIN_CONF = VARS.get('lab_glance_main_conf', PLATFORMS['lab_glance_main_conf_default'])
SIZE = 64 * 1024 * 1024
ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member,reader',
         'X-Project-Id': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1'}


def proxy_user(store):
    return (store.get('proxy') or {}).get('user') or VARS['glance_s3_proxy_proxy']['user']


def proxy_password(store):
    value = (store.get('proxy') or {}).get('password') or VARS['glance_s3_proxy_proxy']['password']
    if value.startswith('{{'):
        return PROXY_USERS[proxy_user(store)]
    return value


def glance_python(code, *args):
    cmd = GLANCE.run('/opt/glance/bin/python -c %s %s' % (
        _quote(code), ' '.join(_quote(a) for a in args)))
    assert cmd.rc == 0, cmd.stderr
    return json.loads(cmd.stdout)


def _quote(value):
    return "'" + str(value).replace("'", "'\"'\"'") + "'"


UPLOAD = r'''
import hashlib, json, os, sys, time, requests
store, size, headers = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
s = requests.Session(); s.trust_env = False
api = 'http://127.0.0.1:9292'
data = os.urandom(size)
image = s.post(api + '/v2/images', headers=headers,
               json={'name': 'lab-verify', 'disk_format': 'raw', 'container_format': 'bare'}).json()
put_headers = dict(headers, **{'Content-Type': 'application/octet-stream', 'Content-Length': str(size), 'Expect': ''})
if store:
    put_headers['X-Image-Meta-Store'] = store
t0 = time.time()
put = s.put(api + '/v2/images/%s/file' % image['id'], data=data, headers=put_headers)
up = time.time() - t0
info = s.get(api + '/v2/images/%s' % image['id'], headers=headers).json()
got = s.get(api + '/v2/images/%s/file' % image['id'], headers=headers).content
print(json.dumps({'id': image['id'], 'put': put.status_code, 'stores': info.get('stores'), 'size': info.get('size'),
                  'md5_sent': hashlib.md5(data).hexdigest(), 'md5_read': hashlib.md5(got).hexdigest(),
                  'upload_s': round(up, 2)}))
'''

HEAD = r'''
import json, sys, boto3
from botocore.config import Config
from urllib.parse import quote
user, password, endpoint, bucket, key, ca = sys.argv[1:7]
url = 'http://%s:%s@proxy:3128' % (quote(user, safe=''), quote(password, safe=''))
s3 = boto3.client('s3', endpoint_url=endpoint, region_name='us-east-1', verify=ca if ca else None,
                  aws_access_key_id=sys.argv[7], aws_secret_access_key=sys.argv[8],
                  config=Config(proxies={'http': url, 'https': url}, s3={'addressing_style': 'path'}))
try:
    print(json.dumps({'etag': s3.head_object(Bucket=bucket, Key=key)['ETag'].strip('"')}))
except Exception as exc:
    print(json.dumps({'error': str(exc)}))
'''


def head_object(store, key):
    return glance_python(HEAD, proxy_user(store), proxy_password(store), store['endpoint'], store['bucket'], key,
                         store.get('cacert', ''), ACCESS_KEY, SECRET_KEY)


def s3_server():
    """minio or seaweedfs: what the s3 image runs (scripts/s3-server.sh chose it)."""
    return S3.file('/etc/lab-s3-server').content_string.split()[0]


def objects_on_s3_server(bucket):
    """The object keys in a bucket, read on the s3 container without S3."""
    if s3_server() == 'minio':  # one directory per object, holding xl.meta
        return S3.check_output('ls /data/%s' % bucket).split()
    return S3.check_output('python3 -c "import urllib.request as u; '  # SeaweedFS: its filer
                           'print(u.urlopen(\'http://127.0.0.1:8888/buckets/%s/?limit=1000\', timeout=5).read().decode())"'
                           % bucket)


def squid_lines(since=0):
    return PROXY.file('/var/log/squid/access.log').content_string.splitlines()[since:]


def test_glance_is_healthy():
    cmd = GLANCE.run('/opt/glance/bin/python -c "import urllib.request as u; '
                     'print(u.urlopen(\'http://127.0.0.1:9292/healthcheck\').read().decode())"')
    assert cmd.stdout.strip() == 'OK'


def test_api_is_published_on_the_hosts_loopback_only():
    # Docker's view: 9292/tcp has one binding, on 127.0.0.1 (not 0.0.0.0).
    ports = subprocess.run(['docker', 'port', 'gs3p-glance', '9292/tcp'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert ports.stdout.split() == [API.split('//')[1]], ports.stdout
    # The host's view (a private engine's port is relayed by scripts/docker-engine.sh forward).
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(API + '/healthcheck', timeout=10) as response:
        assert response.read().decode() == 'OK'


def test_glance_cannot_reach_s3_directly():
    # By name: the storage network is not Glance's, so "s3" does not resolve.
    by_name = GLANCE.run('/opt/glance/bin/python -c "import socket; socket.create_connection((\'s3\', 8333), 3)"')
    assert by_name.rc != 0
    # By address: the storage network is internal and Glance has no route to it.
    s3_ip = S3.run("hostname -I").stdout.split()[0]
    by_ip = GLANCE.run('/opt/glance/bin/python -c "import socket; socket.create_connection((\'%s\', 8333), 3)"' % s3_ip)
    assert by_ip.rc != 0
    # The proxy reaches it.
    assert PROXY.run('python3 -c "import socket; socket.create_connection((\'s3\', 8333), 3)"').rc == 0


@pytest.mark.skipif(not FAILURE, reason='only in the wrong_password scenario')
def test_failed_preflight_left_glance_untouched():
    assert not GLANCE.file(DROPIN).exists
    conf = GLANCE.file('/etc/glance/glance-api.conf').content_string
    assert conf.strip() == MAIN_CONF.strip()
    # The role stopped before installing the extension.
    status = GLANCE.run('/opt/glance/bin/python -m glance_store_s3proxy --status')
    assert status.rc != 0 and 'No module named glance_store_s3proxy' in status.stderr


@pytest.mark.skipif(FAILURE, reason='the role stopped at pre-flight')
def test_dropin_has_the_options_and_mode():
    dropin = GLANCE.file(DROPIN)
    assert dropin.mode == 0o640
    assert (dropin.user, dropin.group) == ('root', 'glance')
    parser = configparser.RawConfigParser()
    parser.read_string(dropin.content_string)
    if LEGACY:
        store = STORES[0]
        section = 'glance_store'
        assert parser.get('glance_store', 'default_store') == 's3'
        assert parser.get('glance_store', 'stores') == 'file, s3'  # the operator's file store is kept
    else:
        names = [s['name'] for s in STORES]
        assert parser.get('DEFAULT', 'enabled_backends') == ', '.join(['local:file'] + ['%s:s3' % n for n in names])
    for store in ([STORES[0]] if LEGACY else STORES):
        section = 'glance_store' if LEGACY else store['name']
        assert parser.get(section, 's3_store_host') == store['endpoint']
        assert parser.get(section, 's3_store_enable_proxy') == 'true'
        assert parser.get(section, 's3_store_proxy_host') == 'proxy'
        assert parser.get(section, 's3_store_proxy_user') == proxy_user(store)
        assert parser.get(section, 's3_store_proxy_password') == proxy_password(store).replace('$', '$$')
    # The operator's own file is unchanged.
    assert GLANCE.file('/etc/glance/glance-api.conf').content_string.strip() == MAIN_CONF.strip()


@pytest.mark.skipif(FAILURE, reason='the role stopped at pre-flight')
def test_extension_active_in_glance_venv_and_every_worker():
    status = json.loads(GLANCE.check_output('/opt/glance/bin/python -m glance_store_s3proxy --status --json'))
    assert status['state'] == 'active'
    log = GLANCE.file('/var/log/glance/glance-api.log').content_string
    for store in STORES:
        name = 'glance_store' if LEGACY else store['name']
        assert 'S3 store %s uses proxy http://%s:***@proxy:3128' % (name, proxy_user(store)) in log
    for store in STORES:
        assert proxy_password(store) not in log


@pytest.mark.skipif(FAILURE or LEGACY, reason='multi-store only')
def test_stores_detail_endpoint():
    out = glance_python(r'''
import json, sys, requests
s = requests.Session(); s.trust_env = False
r = s.get('http://127.0.0.1:9292/v2/info/stores/detail', headers=json.loads(sys.argv[1]))
print(json.dumps({'status': r.status_code, 'stores': r.json().get('stores', []) if r.ok else []}))
''', json.dumps(ADMIN))
    assert out['status'] == 200
    assert {s['id']: s['type'] for s in out['stores']}[STORES[0]['name']] == 's3'


@pytest.mark.skipif(FAILURE, reason='the role stopped at pre-flight')
@pytest.mark.parametrize('index', range(len(STORES)))
def test_64mib_image_through_the_proxy(index):
    store = STORES[index]
    before = len(squid_lines())
    out = glance_python(UPLOAD, '' if LEGACY else store['name'], SIZE, json.dumps(ADMIN))
    assert out['put'] == 204
    assert out['size'] == SIZE
    assert out['md5_read'] == out['md5_sent']
    if not LEGACY:
        assert out['stores'] == store['name']
    lines = squid_lines(before)
    user = proxy_user(store)
    others = set(proxy_user(s) for s in STORES) - {user}
    if store['endpoint'].startswith('https://'):
        # CONNECT tunnels only: the proxy sees the host and port, under the user.
        assert any('TCP_TUNNEL/200' in line and 'CONNECT s3:8443' in line and ' %s ' % user in line
                   for line in lines), lines
    else:
        mine = [line for line in lines if out['id'] in line]
        assert any('?uploads' in line and ' %s ' % user in line for line in mine), mine
        parts = [line for line in mine if 'partNumber=' in line and 'uploadId=' in line and ' %s ' % user in line]
        assert len(parts) == SIZE // (store['large_object_chunk_size'] * 1024 * 1024), mine
    for other in others:
        assert not any(' %s ' % other in line for line in lines), 'traffic of this store under %s' % other
    # The object is in the bucket as a multipart object...
    etag = head_object(store, out['id'])['etag']
    assert re.match(r'^[0-9a-f]{32}-8$', etag), etag
    # ...and the S3 server holds it, seen from the s3 container.
    assert out['id'] in objects_on_s3_server(store['bucket'])
    # Deleting through Glance removes the object.
    deleted = glance_python(r'''
import json, sys, requests
s = requests.Session(); s.trust_env = False
r = s.delete('http://127.0.0.1:9292/v2/images/' + sys.argv[1], headers=json.loads(sys.argv[2]))
print(json.dumps({'status': r.status_code}))
''', out['id'], json.dumps(ADMIN))
    assert deleted['status'] == 204
    assert 'Not Found' in head_object(store, out['id']).get('error', '') or '404' in head_object(store, out['id']).get('error', '')


RUNTIME_PLAYBOOK = """\
- name: Prove the running glance-api from the container's host
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the glance container
      glancestore.s3proxy.s3_proxy_runtime_check:
        container: gs3p-glance
        stores: "{{ intent }}"
        timeout: 10
      register: result
      ignore_errors: true
    - name: Save the result
      ansible.builtin.copy:
        content: "{{ result | to_nice_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
"""


def test_runtime_check_from_the_host_proves_every_process_in_the_container(tmp_path):
    # kolla's way: glance-api in a container, the check on the host (pids of another namespace, records read
    # inside the container's filesystem). In wrong_password the extension was never installed: it must fail.
    intent = [{'name': 'glance_store' if LEGACY else s['name'], 'proxied': True, 'host': 'proxy', 'port': 3128,
               'user': proxy_user(s)} for s in ([STORES[0]] if LEGACY else STORES)]
    playbook = tmp_path / 'runtime.yml'
    playbook.write_text(RUNTIME_PLAYBOOK)
    result_file = tmp_path / 'result.json'
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps({'intent': intent, 'result_file': str(result_file),
                                 'ansible_python_interpreter': sys.executable}))
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', 'localhost,', '-c',
                          'local', '-e', '@%s' % extra, str(playbook)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=False)
    result = json.loads(result_file.read_text())
    if FAILURE:
        assert result.get('failed') and result['stage'] == 'runtime', run.stdout
        return
    assert not result.get('failed'), run.stdout
    workers = [p for p in result['processes'] if p.get('patched')]
    assert len(workers) >= 2, result['processes']  # uwsgi processes = 2, lazy-apps
    assert all(p['nspid'] != p['pid'] for p in workers)  # matched through the container's pid namespace
    for want in intent:
        assert result['stores'][want['name']]['user'] == want['user']


def test_check_playbook_from_the_host_the_kolla_way(tmp_path):
    # The live check as the role prints it for kolla: glance-api found in its container from the host, and the
    # store checks run by Glance's own Python inside the container (`docker exec -i`; the host has no boto3).
    # No scratch file is left behind on the host.
    before = set(os.listdir(tempfile.gettempdir()))
    extra = tmp_path / 'vars.json'
    extra.write_text(json.dumps({
        'glance_s3_proxy_hosts': 'localhost', 'glance_s3_proxy_become': False,
        'glance_s3_proxy_container': 'gs3p-glance', 'glance_s3_proxy_config_file': '/etc/glance/glance-api.conf',
        'glance_s3_proxy_container_python': '/opt/glance/bin/python',
        'glance_s3_proxy_stores': STORES, 'glance_s3_proxy_proxy': VARS['glance_s3_proxy_proxy'],
        'glance_s3_proxy_store_mode': VARS.get('glance_s3_proxy_store_mode', 'multi'),
        'lab_s3_access_key': ACCESS_KEY, 'lab_s3_secret_key': SECRET_KEY, 'lab_proxy_users': PROXY_USERS}))
    # The host's interpreter from the inventory, as on a kolla host: an extra var would also win over the task's.
    inventory = tmp_path / 'inventory'
    inventory.write_text('localhost ansible_connection=local ansible_python_interpreter=%s\n' % sys.executable)
    run = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'ansible-playbook'), '-i', str(inventory),
                          '-e', '@%s' % extra, 'glancestore.s3proxy.check'], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert not [n for n in set(os.listdir(tempfile.gettempdir())) - before if n.endswith('-glance-s3proxy')]
    if FAILURE:
        # The extension was never installed: the check fails on the running processes, before any store check.
        assert run.returncode != 0, run.stdout
        assert 'Prove that every running glance-api process uses the proxies' in run.stdout.split('fatal:')[0]
        return
    assert run.returncode == 0, run.stdout
    report = run.stdout[run.stdout.index('TASK [Report]'):]
    for store in ([STORES[0]] if LEGACY else STORES):
        assert proxy_user(store) in report, report
    for store in STORES:
        assert proxy_password(store) not in run.stdout
