"""make lab: Squid (basic auth) in front of SeaweedFS on a network Glance cannot
reach directly, a real glance-api, and playbooks/deploy.yml run against it in
the plain style. Prints a verification report.

Usage: python tests/lab/lab_main.py up|down
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import boto3
import requests
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lab import netlab  # noqa: E402  pylint: disable=wrong-import-position
from lab.ansible_runner import ROOT, TOOLS_BIN, ansible_env  # noqa: E402  pylint: disable=wrong-import-position
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf  # noqa: E402  pylint: disable=wrong-import-position

WORK = os.path.join(ROOT, '.cache', 'lab')
GLANCE_VENV = os.path.join(ROOT, '.cache', 'venv-glance')
PORT = 9292
IMAGE_MIB = 64
RESTART = """#!/bin/bash
pid=$(cat {d}/uwsgi.pid 2>/dev/null)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  kill -INT "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
export HOME={home} OS_GLANCE_CONFIG_DIR={conf_dir}
setsid {venv}/bin/uwsgi --ini {d}/uwsgi.ini </dev/null >/dev/null 2>&1 &
"""


def say(msg):
    print(msg, flush=True)


def write_inventory(lab, api, home):
    ident = lab['s3']['identities']['glance']
    inventory = {'glance_api': {'hosts': {'lab-glance': {
        'ansible_connection': 'local', 'ansible_python_interpreter': os.path.join(TOOLS_BIN, 'python')}}}}
    variables = {
        'glance_s3_proxy_stores': [{
            'name': 's3_images', 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance', 'default': True,
            'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path',
            'large_object_size': 32, 'large_object_chunk_size': 8, 'thread_pools': 4, 'max_retries': 3,
            'description': 'Images in S3, through the authenticated proxy'}],
        'glance_s3_proxy_proxy': {'enabled': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
                                  'user': 'glance-s3', 'password': lab['proxy']['users']['glance-s3']},
        'glance_s3_proxy_config_file': api.conf_file,
        'glance_s3_proxy_config_dropin': os.path.join(api.conf_dir, 'glance-api.conf.d', '50-glance-s3-proxy.conf'),
        'glance_s3_proxy_python': os.path.join(GLANCE_VENV, 'bin', 'python'),
        'glance_s3_proxy_restart_method': 'command',
        'glance_s3_proxy_restart_command': 'bash %s/restart.sh' % WORK,
        'glance_s3_proxy_healthcheck_url': 'http://127.0.0.1:%d/healthcheck' % PORT,
        'glance_s3_proxy_staging_dir': os.path.join(WORK, 'staging'),
        'glance_s3_proxy_tasks_dir': os.path.join(WORK, 'tasks'),
        'glance_s3_proxy_wheel_cache_dir': os.path.join(WORK, 'cache'),
        'glance_s3_proxy_expect_direct_blocked': True,
        'glance_s3_proxy_preflight_probe': 'multipart',
        'glance_s3_proxy_verify_api_url': 'http://127.0.0.1:%d' % PORT,
        'glance_s3_proxy_verify_api_headers': ADMIN_HEADERS,
        'glance_s3_proxy_become': False,
    }
    with open(os.path.join(WORK, 'inventory.json'), 'w') as f:
        json.dump(inventory, f)
    with open(os.path.join(WORK, 'vars.json'), 'w') as f:
        json.dump(variables, f)
    os.chmod(os.path.join(WORK, 'vars.json'), 0o600)
    del home


def up():
    start = time.time()
    down(quiet=True)
    os.makedirs(WORK)
    lab = netlab.Lab().up()
    subprocess.run(['groupadd', '-f', '--system', 'glance'], check=False)
    subprocess.run([os.path.join(GLANCE_VENV, 'bin', 'pip'), 'uninstall', '-y', '-q', 'glance-store-s3proxy'],
                   check=False)
    home = os.path.join(WORK, 'home')
    api = GlanceApi(GLANCE_VENV, WORK, port=PORT, conf_dir=os.path.join(home, '.glance'), env={'HOME': home})
    api.write_config(base_conf(WORK, 'local:file', 'local') + '\n[local]\nfilesystem_store_datadir = %s/images\n' % WORK)
    api.db_sync()
    api.start()
    with open(os.path.join(WORK, 'restart.sh'), 'w') as f:
        f.write(RESTART.format(d=WORK, home=home, conf_dir=api.conf_dir, venv=GLANCE_VENV))
    say('lab: glance-api on http://127.0.0.1:%d (file store only), Squid %s:%d, S3 %s behind it'
        % (PORT, lab['proxy']['host'], lab['proxy']['port'], lab['s3']['http_endpoint']))
    write_inventory(lab, api, home)
    say('lab: ansible-playbook glancestore.s3proxy.deploy (plain style)')
    deploy_start = time.time()
    proc = subprocess.run([os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', os.path.join(WORK, 'inventory.json'),
                           '-e', '@' + os.path.join(WORK, 'vars.json'), 'glancestore.s3proxy.deploy'],
                          env=ansible_env(), check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True)
    with open(os.path.join(WORK, 'deploy.log'), 'w') as f:
        f.write(proc.stdout)
    recap = [line for line in proc.stdout.splitlines() if line.startswith('lab-glance')]
    say('lab: deploy %s in %.1fs: %s' % ('ok' if proc.returncode == 0 else 'FAILED', time.time() - deploy_start,
                                         recap[-1].split(':', 1)[1].strip() if recap else ''))
    if proc.returncode != 0:
        say(proc.stdout[-3000:])
        return 1
    ok = report(lab, api)
    say('lab: up in %.0fs. Glance: http://127.0.0.1:%d  deploy log: %s  remove with: make lab-down'
        % (time.time() - start, PORT, os.path.join(WORK, 'deploy.log')))
    return 0 if ok else 1


def report(lab, api):
    checks = []
    ident = lab['s3']['identities']['glance']
    password = lab['proxy']['users']['glance-s3']
    proxy_url = 'http://glance-s3:%s@%s:%d' % (netlab._q(password), lab['proxy']['host'], lab['proxy']['port'])  # pylint: disable=protected-access

    def client(proxied):
        return boto3.client('s3', endpoint_url=lab['s3']['http_endpoint'], region_name='us-east-1',
                            aws_access_key_id=ident['access_key'], aws_secret_access_key=ident['secret_key'],
                            config=Config(proxies={'http': proxy_url} if proxied else {}, connect_timeout=3,
                                          retries={'max_attempts': 1}, s3={'addressing_style': 'path'}))
    try:
        client(True).list_objects_v2(Bucket='glance', MaxKeys=1)
        checks.append((True, 'proxied path: S3 bucket glance listed through Squid as glance-s3'))
    except Exception as exc:  # pylint: disable=broad-except
        checks.append((False, 'proxied path failed: %s' % type(exc).__name__))
    try:
        client(False).list_objects_v2(Bucket='glance', MaxKeys=1)
        checks.append((False, 'direct path OPEN: S3 answered without the proxy'))
    except Exception as exc:  # pylint: disable=broad-except
        checks.append((True, 'direct path blocked (%s)' % type(exc).__name__))

    session = requests.Session()
    session.trust_env = False
    data = os.urandom(IMAGE_MIB * 1024 * 1024)
    md5 = hashlib.md5(data).hexdigest()
    image = session.post(api.url + '/v2/images', headers=ADMIN_HEADERS,
                         json={'name': 'lab-image', 'disk_format': 'raw', 'container_format': 'bare'}).json()
    before = netlab.access_log_len(lab)
    t0 = time.time()
    put = session.put(api.url + '/v2/images/%s/file' % image['id'], data=data,
                      headers=dict(ADMIN_HEADERS, **{'Content-Type': 'application/octet-stream', 'Expect': ''}))
    up_s = time.time() - t0
    t0 = time.time()
    got = session.get(api.url + '/v2/images/%s/file' % image['id'], headers=ADMIN_HEADERS).content
    down_s = time.time() - t0
    same = put.status_code == 204 and hashlib.md5(got).hexdigest() == md5
    checks.append((same, 'Glance API: %d MiB image %s uploaded in %.2fs (%.0f MiB/s), downloaded in %.2fs, md5 %s %s'
                   % (IMAGE_MIB, image['id'], up_s, IMAGE_MIB / up_s, down_s, md5, 'equal' if same else 'DIFFERENT')))
    lines = [line for line in netlab.access_log_lines(lab, before) if image['id'] in line]
    parts = [line for line in lines if 'partNumber=' in line and ' glance-s3 ' in line]
    checks.append((len(parts) >= 2, "Squid access.log: %d multipart parts (partNumber=, uploadId=) under user"
                   " glance-s3, %d requests in all" % (len(parts), len(lines))))
    try:
        etag = client(True).head_object(Bucket='glance', Key=image['id'])['ETag'].strip('"')
        checks.append((etag.endswith('-%d' % len(parts)), 'S3 object glance/%s ETag %s' % (image['id'], etag)))
    except Exception as exc:  # pylint: disable=broad-except
        checks.append((False, 'S3 object not found: %s' % type(exc).__name__))
    say('\nVerification report')
    for ok, text in checks:
        say('  [%s] %s' % ('OK' if ok else 'FAIL', text))
    say('')
    return all(ok for ok, _text in checks)


def down(quiet=False):
    pidfile = os.path.join(WORK, 'uwsgi.pid')
    if os.path.exists(pidfile):
        subprocess.run(['bash', '-c', 'kill -INT $(cat %s) 2>/dev/null; sleep 1' % pidfile], check=False)
    netlab.Lab().down(quiet=True)
    shutil.rmtree(WORK, ignore_errors=True)
    if not quiet:
        say('lab: down (glance-api, Squid, SeaweedFS, namespaces and files removed)')


if __name__ == '__main__':
    if sys.argv[1:] == ['up']:
        sys.exit(up())
    elif sys.argv[1:] == ['down']:
        down()
    else:
        sys.exit('usage: lab_main.py up|down')
