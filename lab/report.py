"""The verification report of make lab, read from the lab's containers."""

import json
import os
import subprocess
import sys

import yaml

PLATFORMS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'molecule', 'shared',
                         'lab-platforms.yml')

SIZE_MIB = 64
ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member,reader',
         'X-Project-Id': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1'}

PROBE = r'''
import json, socket, sys, boto3
from botocore.config import Config
from urllib.parse import quote
url = 'http://glance-s3:%s@proxy:3128' % quote(sys.argv[1], safe='')
s3 = boto3.client('s3', endpoint_url='http://s3:8333', region_name='us-east-1', aws_access_key_id=sys.argv[2],
                  aws_secret_access_key=sys.argv[3], config=Config(proxies={'http': url},
                  s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
try:
    s3.list_objects_v2(Bucket='glance', MaxKeys=1)
    out['proxied'] = 'ok'
except Exception as exc:
    out['proxied'] = type(exc).__name__
for name, host in (('direct', 's3'), ('direct_ip', sys.argv[4])):
    try:
        socket.create_connection((host, 8333), 3)
        out[name] = 'open'
    except OSError as exc:
        out[name] = 'blocked (%s)' % exc
if len(sys.argv) > 5:
    try:
        out['etag'] = s3.head_object(Bucket='glance', Key=sys.argv[5])['ETag'].strip('"')
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


def docker_exec(container, *args):
    proc = subprocess.run(['docker', 'exec', container] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError('%s: %s' % (container, proc.stderr.strip()[-500:]))
    return proc.stdout


def main():
    with open(PLATFORMS) as f:
        lab = yaml.safe_load(f)  # the lab's users and keys, as the containers have them
    password, access_key, secret_key = lab['lab_proxy_users']['glance-s3'], lab['lab_s3_access_key'], lab['lab_s3_secret_key']
    checks = []
    s3_ip = docker_exec('gs3p-s3', 'hostname', '-I').split()[0]
    first = json.loads(docker_exec('gs3p-glance', '/opt/glance/bin/python', '-c', PROBE, password, access_key,
                                   secret_key, s3_ip))
    checks.append((first['proxied'] == 'ok', 'proxied path glance -> proxy -> s3: %s' % first['proxied']))
    checks.append((first['direct'].startswith('blocked') and first['direct_ip'].startswith('blocked'),
                   'direct path glance -> s3: by name %s; by address %s: %s'
                   % (first['direct'], s3_ip, first['direct_ip'])))
    before = len(docker_exec('gs3p-proxy', 'cat', '/var/log/squid/access.log').splitlines())
    up = json.loads(docker_exec('gs3p-glance', '/opt/glance/bin/python', '-c', UPLOAD, str(SIZE_MIB), json.dumps(ADMIN)))
    checks.append((up['put'] == 204 and up['same'],
                   'Glance API: %d MiB image %s uploaded in %.2fs (%.0f MiB/s), downloaded in %.2fs, md5 %s %s'
                   % (SIZE_MIB, up['id'], up['up'], SIZE_MIB / up['up'], up['down'], up['md5'],
                      'equal' if up['same'] else 'DIFFERENT')))
    lines = [line for line in docker_exec('gs3p-proxy', 'cat', '/var/log/squid/access.log').splitlines()[before:]
             if up['id'] in line]
    parts = [line for line in lines if 'partNumber=' in line and 'uploadId=' in line and ' glance-s3 ' in line]
    checks.append((len(parts) >= 2, "Squid access.log: %d multipart parts under user glance-s3 (%d requests)"
                   % (len(parts), len(lines))))
    last = json.loads(docker_exec('gs3p-glance', '/opt/glance/bin/python', '-c', PROBE, password, access_key,
                                  secret_key, s3_ip, up['id']))
    checks.append((last['etag'].endswith('-%d' % len(parts)), 'S3 object glance/%s ETag %s' % (up['id'], last['etag'])))
    print('\nVerification report (S3 server: %s)' % docker_exec('gs3p-s3', 'cat', '/etc/lab-s3-server').strip())
    for ok, text in checks:
        print('  [%s] %s' % ('OK' if ok else 'FAIL', text))
    print('')
    return 0 if all(ok for ok, _text in checks) else 1


if __name__ == '__main__':
    sys.exit(main())
