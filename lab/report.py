"""The verification report of make lab, read from the lab's containers, and the python-openstackclient
commands that use the lab's Glance API from the host.

The lab's names, users and keys are lab/constants.yml's; the API's host address and port are
molecule/shared/lab-platforms.yml's (lab_api_address, lab_api_port). ``openstack_commands()`` is what
the report prints and what tests/functional/lab_cli runs.
"""

import json
import os
import shlex
import subprocess
import sys
import urllib.request

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONSTANTS_FILE = os.path.join(ROOT, 'lab', 'constants.yml')
PLATFORMS_FILE = os.path.join(ROOT, 'molecule', 'shared', 'lab-platforms.yml')
# tests/requirements-openstackclient.txt, installed by scripts/bootstrap.sh.
OPENSTACK_VENV = os.path.join(ROOT, '.cache', 'venv-openstackclient')
OPENSTACK = os.path.join(OPENSTACK_VENV, 'bin', 'openstack')
CLI_DIR = os.path.join(ROOT, '.cache', 'lab-cli')
SAMPLE_IMAGE = os.path.join(CLI_DIR, 'lab-image.raw')
SAMPLE_MIB = 8

SIZE_MIB = 64
ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member,reader',
         'X-Project-Id': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1'}

PROBE = r'''
import json, socket, sys, boto3
from botocore.config import Config
from urllib.parse import quote
user, password, port, access_key, secret_key, s3_ip = sys.argv[1:7]
url = 'http://%s:%s@proxy:%s' % (quote(user, safe=''), quote(password, safe=''), port)
s3 = boto3.client('s3', endpoint_url='http://s3:8333', region_name='us-east-1', aws_access_key_id=access_key,
                  aws_secret_access_key=secret_key, config=Config(proxies={'http': url},
                  s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
try:
    s3.list_objects_v2(Bucket='glance', MaxKeys=1)
    out['proxied'] = 'ok'
except Exception as exc:
    out['proxied'] = type(exc).__name__
for name, host in (('direct', 's3'), ('direct_ip', s3_ip)):
    try:
        socket.create_connection((host, 8333), 3)
        out[name] = 'open'
    except OSError as exc:
        out[name] = 'blocked (%s)' % exc
if len(sys.argv) > 7:
    try:
        out['etag'] = s3.head_object(Bucket='glance', Key=sys.argv[7])['ETag'].strip('"')
    except Exception as exc:
        out['etag'] = 'missing: %s' % type(exc).__name__
print(json.dumps(out))
'''

UPLOAD = r'''
import hashlib, json, os, sys, time, requests
size, headers = int(sys.argv[1]) * 1048576, json.loads(sys.argv[2])
s = requests.Session(); s.trust_env = False
api = 'http://127.0.0.1:9292'
data = os.urandom(size)
image = s.post(api + '/v2/images', headers=headers,
               json={'name': 'make-lab', 'disk_format': 'raw', 'container_format': 'bare'}).json()
t0 = time.time()
put = s.put(api + '/v2/images/%s/file' % image['id'], data=data,
            headers=dict(headers, **{'Content-Type': 'application/octet-stream', 'Expect': ''}))
up = time.time() - t0
t0 = time.time()
got = s.get(api + '/v2/images/%s/file' % image['id'], headers=headers).content
down = time.time() - t0
print(json.dumps({'id': image['id'], 'put': put.status_code, 'up': up, 'down': down,
                  'md5': hashlib.md5(data).hexdigest(), 'same': hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest()}))
'''


def load(path):
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


CONSTANTS = load(CONSTANTS_FILE)
PLATFORMS = load(PLATFORMS_FILE)
CONTAINERS = CONSTANTS['docker']['containers']
PROXY_USER = list(CONSTANTS['proxy_users'])[0]  # glance-s3: the user of the lab's store
API_ADDRESS = '%s:%s' % (PLATFORMS['lab_api_address'], PLATFORMS['lab_api_port'])
API_URL = 'http://%s' % API_ADDRESS


def openstack(*args):
    """python-openstackclient against the lab's Glance, which has no Keystone: no credentials, the
    API's URL as the endpoint of every service."""
    return [OPENSTACK, '--os-auth-type', 'none', '--os-endpoint', API_URL] + list(args)


def openstack_commands(image_file=SAMPLE_IMAGE, name='lab-cli-image', saved_file=None):
    """The commands the report prints: store a file as an image (in the default store, the S3 store
    behind the proxy), and save the image back to a file."""
    saved_file = saved_file or os.path.splitext(image_file)[0] + '.saved'
    return {
        'create': openstack('image', 'create', '--disk-format', 'raw', '--container-format', 'bare',
                            '--file', image_file, name),
        'save': openstack('image', 'save', '--file', saved_file, name),
    }


def docker_env():
    """The environment of the docker CLI: DOCKER_HOST, else this checkout's private engine when it
    exists (scripts/docker-engine.sh), else Docker's default."""
    env = dict(os.environ)
    private = os.path.join(ROOT, '.cache', 'docker', 'docker.sock')
    if not env.get('DOCKER_HOST') and os.path.exists(private):
        env['DOCKER_HOST'] = 'unix://' + private
    return env


def docker(*args):
    proc = subprocess.run(['docker'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, check=False, env=docker_env())
    if proc.returncode != 0:
        raise RuntimeError('docker %s: %s' % (args[0], proc.stderr.strip()[-500:]))
    return proc.stdout


def docker_exec(container, *args):
    try:
        return docker('exec', container, *args)
    except RuntimeError as exc:
        raise RuntimeError('%s: %s' % (container, exc)) from exc


def squid_log():
    return docker_exec(CONTAINERS['proxy'], 'cat', '/var/log/squid/access.log').splitlines()


def published_api():
    """(ok, text): Glance's API published on the host's lab_api_address only, and answering there."""
    bindings = docker('port', CONTAINERS['glance'], '9292/tcp').split()
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(API_URL + '/healthcheck', timeout=10) as response:
            health = response.read().decode().strip()
    except OSError as exc:
        health = 'no answer (%s)' % exc
    return (bindings == [API_ADDRESS] and health == 'OK',
            'Glance API on the host: %s, healthcheck %s (published on %s)'
            % (API_URL, health, ', '.join(bindings) or 'nothing'))


def sample_image():
    if not os.path.exists(SAMPLE_IMAGE):
        os.makedirs(CLI_DIR, exist_ok=True)
        with open(SAMPLE_IMAGE, 'wb') as f:
            f.write(os.urandom(SAMPLE_MIB * 1048576))
    return SAMPLE_IMAGE


def main():
    password = CONSTANTS['proxy_users'][PROXY_USER]
    identity = CONSTANTS['s3_identities']['glance']
    port = str(CONSTANTS['docker']['squid_port'])
    checks = []
    s3_ip = docker_exec(CONTAINERS['s3'], 'hostname', '-I').split()[0]
    probe = [PROXY_USER, password, port, identity['access_key'], identity['secret_key'], s3_ip]
    first = json.loads(docker_exec(CONTAINERS['glance'], '/opt/glance/bin/python', '-c', PROBE, *probe))
    checks.append((first['proxied'] == 'ok', 'proxied path glance -> proxy -> s3: %s' % first['proxied']))
    checks.append((first['direct'].startswith('blocked') and first['direct_ip'].startswith('blocked'),
                   'direct path glance -> s3: by name %s; by address %s: %s'
                   % (first['direct'], s3_ip, first['direct_ip'])))
    before = len(squid_log())
    up = json.loads(docker_exec(CONTAINERS['glance'], '/opt/glance/bin/python', '-c', UPLOAD, str(SIZE_MIB),
                                json.dumps(ADMIN)))
    checks.append((up['put'] == 204 and up['same'],
                   'Glance API: %d MiB image %s uploaded in %.2fs (%.0f MiB/s), downloaded in %.2fs, md5 %s %s'
                   % (SIZE_MIB, up['id'], up['up'], SIZE_MIB / up['up'], up['down'], up['md5'],
                      'equal' if up['same'] else 'DIFFERENT')))
    lines = [line for line in squid_log()[before:] if up['id'] in line]
    parts = [line for line in lines if 'partNumber=' in line and 'uploadId=' in line and ' %s ' % PROXY_USER in line]
    checks.append((len(parts) >= 2, "Squid access.log: %d multipart parts under user %s (%d requests)"
                   % (len(parts), PROXY_USER, len(lines))))
    last = json.loads(docker_exec(CONTAINERS['glance'], '/opt/glance/bin/python', '-c', PROBE, *(probe + [up['id']])))
    checks.append((last['etag'].endswith('-%d' % len(parts)), 'S3 object glance/%s ETag %s' % (up['id'], last['etag'])))
    checks.append(published_api())
    print('\nVerification report (S3 server: %s)' % docker_exec(CONTAINERS['s3'], 'cat', '/etc/lab-s3-server').strip())
    for ok, text in checks:
        print('  [%s] %s' % ('OK' if ok else 'FAIL', text))
    commands = openstack_commands(sample_image())
    print('\nThe Glance API from the host, with python-openstackclient (no Keystone; %d MiB of random data in %s):'
          % (SAMPLE_MIB, SAMPLE_IMAGE))
    if not os.path.exists(OPENSTACK):
        print('  (first install it: python3.11 -m venv %s && %s/bin/pip install -r %s)'
              % (OPENSTACK_VENV, OPENSTACK_VENV, os.path.join(ROOT, 'tests', 'requirements-openstackclient.txt')))
    for key in ('create', 'save'):
        print('  ' + shlex.join(commands[key]))
    print('')
    return 0 if all(ok for ok, _text in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
