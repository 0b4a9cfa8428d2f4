"""Proxy password rotation without a failed request: two glance-api hosts behind one address (HAProxy), a Squid
of this driver's own, and the collection's real playbook (playbooks/deploy.yml, serial 1) on an inventory of two
local hosts, as docs/reliability.md tells an operator to do it:

1. Squid accepts the new credential beside the old one (a second proxy user in its password file);
2. deploy.yml rolls the new credential out host by host; each host's restart command drains it in HAProxy,
   waits for its requests to end, restarts it and puts it back (lb_restart.py);
3. the old user is removed from Squid.

Uploads, downloads and deletes run through the shared address the whole time: zero failed requests.
"""

import json
import os
import random
import re
import subprocess
import sys
import threading
import time

import boto3
import pytest
from botocore.config import Config

import harness
from harness import MIB, ImageData
from lab.ansible_runner import TOOLS_BIN, ansible_env
from lab.constants import ACCESS_KEY, PASSWORD, ROTATION_PASSWORD, ROTATION_USER, SECRET_KEY, USER, leak_probes
from lab import netlab

CASE = 'rotation'
HOSTS = ('host-a', 'host-b')
# The new credential of the rotation (lab/constants.yml rotation_proxy_user), reserved characters like the lab's.
NEW_USER, NEW_PASSWORD = ROTATION_USER, ROTATION_PASSWORD
UPLOAD_MIB = (4, 16, 40)  # one PUT below 32 MiB, multipart above
# Squid caches a checked credential for auth_param basic credentialsttl (default 2 hours; squid -k reconfigure
# keeps the cache): a user removed from the password file is refused only after that. 10 s here.
CREDENTIALS_TTL = 10
TAIL_SECONDS = CREDENTIALS_TTL + 5 if harness.SHORT else 60  # traffic after the old user is removed


class Host:
    def __init__(self, name, db_url):
        self.name = name
        self.d = os.path.join(harness.WORKDIR, name)
        self.home = os.path.join(self.d, 'home')
        self.conf_dir = os.path.join(self.home, '.glance')  # oslo.config also reads ~/.glance/glance-api.conf.d/
        self.dropin = os.path.join(self.conf_dir, 'glance-api.conf.d', '50-glance-s3-proxy.conf')
        self.runtime = os.path.join(self.d, 'run')
        local = '\n[local]\nfilesystem_store_datadir = %s/images\n' % self.d
        self.api = harness.make_glance(name, {'local': local}, 'local', db_url, processes=2, probe=False,
                                       port=harness.GLANCE_PORTS[name], workdir=self.d, conf_dir=self.conf_dir,
                                       env={'HOME': self.home}, db_sync=name == HOSTS[0])

    def restart_command(self, lb):
        env = {'HOME': self.home, 'OS_GLANCE_CONFIG_DIR': self.conf_dir, 'GLANCE_STORE_S3PROXY_RUNTIME_DIR': self.runtime}
        return ' '.join([sys.executable, os.path.join(harness.HERE, 'lb_restart.py'), '--socket', lb.socket,
                         '--backend', 'glance_api', '--server', self.name, '--pidfile', os.path.join(self.d, 'uwsgi.pid'),
                         '--uwsgi', os.path.join(harness.VENV, 'bin', 'uwsgi'), '--ini', os.path.join(self.d, 'uwsgi.ini'),
                         '--health', self.api.url + '/healthcheck', '--log', os.path.join(harness.WORKDIR, 'restarts.log')]
                        + ['--env %s=%s' % kv for kv in sorted(env.items())])


def inventory(path, hosts, lb, s3, squid, user, password):
    gid = subprocess.run(['id', '-gn'], stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout.strip()
    data = {'glance_api': {
        'vars': {
            'ansible_connection': 'local', 'ansible_python_interpreter': os.path.join(TOOLS_BIN, 'python'),
            'glance_s3_proxy_become': False, 'glance_s3_proxy_serial': 1,
            'glance_s3_proxy_python': os.path.join(harness.VENV, 'bin', 'python'),
            'glance_s3_proxy_install_extension': False,  # installed in Glance's venv already
            'glance_s3_proxy_config_group': gid,
            'glance_s3_proxy_restart_method': 'command',
            'glance_s3_proxy_expect_direct_blocked': True,
            'glance_s3_proxy_stores': [{
                'name': 'fast', 'endpoint': s3.endpoint, 'bucket': 'rel-rotation', 'default': True,
                'access_key': ACCESS_KEY, 'secret_key': SECRET_KEY, 'bucket_url_format': 'path',
                'large_object_size': 32, 'large_object_chunk_size': harness.PART_MIB, 'thread_pools': 4, 'max_retries': 3}],
            'glance_s3_proxy_proxy': {'enabled': True, 'host': netlab.PROXY_IP, 'port': squid.port, 'user': user,
                                      'password': password},
        },
        'hosts': {h.name: {
            'glance_s3_proxy_config_file': h.api.conf_file,
            'glance_s3_proxy_config_dropin': h.dropin,
            'glance_s3_proxy_pidfile': os.path.join(h.d, 'uwsgi.pid'),
            'glance_s3_proxy_runtime_dir': h.runtime,
            'glance_s3_proxy_restart_command': h.restart_command(lb),
            'glance_s3_proxy_healthcheck_url': h.api.url + '/healthcheck',
            'glance_s3_proxy_staging_dir': os.path.join(h.d, 'staging'),
            'glance_s3_proxy_tasks_dir': os.path.join(h.d, 'tasks'),
            'glance_s3_proxy_wheel_cache_dir': os.path.join(h.d, 'cache'),
        } for h in hosts},
    }}
    with open(path, 'w') as f:
        json.dump(data, f, indent=1)  # JSON is YAML: the yaml inventory plugin reads it
    os.chmod(path, 0o600)
    return path


def deploy(inv, log):
    start = time.monotonic()
    proc = subprocess.run([os.path.join(TOOLS_BIN, 'ansible-playbook'), '-i', inv, 'glancestore.s3proxy.deploy'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, env=ansible_env(),
                          timeout=900, check=False)
    with open(log, 'w') as f:
        f.write(proc.stdout)
    return proc, time.monotonic() - start


class Traffic:
    """Clients of the shared address: uploaders (upload, check, download, delete) and a downloader of seed images."""

    def __init__(self, url, seeds, uploaders=2):
        self.url = url
        self.seeds = seeds
        self.uploaders = uploaders
        self.outcomes = []
        self.stop_event = threading.Event()
        self.threads = []
        self.lock = threading.Lock()

    def _add(self, outcome, **extra):
        outcome = dict(harness.strip(outcome), t=time.time(), **extra)
        with self.lock:
            self.outcomes.append(outcome)
        return outcome

    def _uploader(self, n):
        rng = random.Random(n)
        i = 0
        while not self.stop_event.is_set():
            i += 1
            data = ImageData(10000 * (n + 1) + i, rng.choice(UPLOAD_MIB) * MIB)
            up = self._add(harness.upload(self.url, data, timeout=300))
            if not up['ok']:
                continue
            problems = harness.check_active(self.url, up['image'], data)
            self._add({'op': 'check', 'image': up['image'], 'ok': not problems, 'status': 200, 'error': '; '.join(problems),
                       'seconds': 0})
            down = harness.download(self.url, up['image'], timeout=300)
            self._add(down, ok=down.ok and down['md5'] == data.digests()[0], md5_expected=data.digests()[0])
            self._add(harness.delete(self.url, up['image']))

    def _downloader(self):
        while not self.stop_event.is_set():
            for image_id, data in self.seeds:
                down = harness.download(self.url, image_id, timeout=300)
                self._add(down, ok=down.ok and down['md5'] == data.digests()[0])

    def start(self):
        self.threads = [threading.Thread(target=self._uploader, args=(n,), daemon=True) for n in range(self.uploaders)]
        self.threads.append(threading.Thread(target=self._downloader, daemon=True))
        for thread in self.threads:
            thread.start()

    def stop(self):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(400)
        return self.outcomes


@pytest.fixture(scope='module')
def cluster(steady_s3, main_squid, postgres):
    squid = harness.PrivateSquid('rotation', {USER: PASSWORD}, extra_conf=harness.SQUID_TIMEOUTS +
                                 'auth_param basic credentialsttl %d seconds\n' % CREDENTIALS_TTL).start()
    db_url = postgres.database('glance_rotation')
    hosts = [Host(name, db_url) for name in HOSTS]
    for host in hosts:
        host.api.start(timeout=180)
    lb = harness.HAProxy(harness.GLANCE_PORTS['lb'], [(h.name, '127.0.0.1:%d' % h.api.port) for h in hosts]).start()
    yield hosts, lb, squid, main_squid
    lb.stop()
    for host in hosts:
        harness.stop_glance(host.api)
    squid.kill()


def _accepts(s3, squid, user, password):
    """Does Squid let ``user`` through to S3 (a bucket listing, through the proxy)?"""
    url = squid.url(user, password)
    client = boto3.session.Session().client(
        's3', endpoint_url=s3.endpoint, region_name='us-east-1', aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY, config=Config(proxies={'http': url}, s3={'addressing_style': 'path'},
                                                        retries={'max_attempts': 0}, connect_timeout=3, read_timeout=10))
    try:
        client.head_bucket(Bucket='rel-rotation')
        return True
    except Exception as exc:  # pylint: disable=broad-except
        if '407' in str(exc):
            return False
        raise


def test_rotation_without_a_failed_request(cluster, steady_s3, report):
    hosts, lb, squid, main_squid = cluster
    figures = report(CASE)
    inv_old = inventory(os.path.join(harness.WORKDIR, 'inventory-old.json'), hosts, lb, steady_s3, squid, USER, PASSWORD)
    inv_new = inventory(os.path.join(harness.WORKDIR, 'inventory-new.json'), hosts, lb, steady_s3, squid, NEW_USER, NEW_PASSWORD)

    # Before: the role puts the S3 store, with the old credential, on both hosts (no traffic yet).
    run, seconds = deploy(inv_old, os.path.join(harness.WORKDIR, 'deploy-old.log'))
    figures['first_deploy_seconds'] = round(seconds, 1)
    assert run.returncode == 0, run.stdout[-6000:]
    for host in hosts:
        assert 'S3 store fast uses proxy http://%s:***@' % USER in host.api.log()
    seeds = []
    for seed in range(2):
        data = ImageData(900 + seed, 32 * MIB)
        out = harness.upload(lb.url, data)
        assert out.ok, harness.strip(out)
        seeds.append((out['image'], data))

    traffic = Traffic(lb.url, seeds)
    log_start = squid.log_len()
    traffic.start()
    try:
        time.sleep(3)
        # 1. Squid accepts the new credential beside the old one.
        t_window = time.time()
        squid.add_user(NEW_USER, NEW_PASSWORD)
        assert _accepts(steady_s3, squid, NEW_USER, NEW_PASSWORD)
        assert _accepts(steady_s3, squid, USER, PASSWORD)
        # 2. The role rolls it out, one host at a time.
        pids_before = {h.name: h.api.pid() for h in hosts}
        t_deploy = time.time()
        run, seconds = deploy(inv_new, os.path.join(harness.WORKDIR, 'deploy-new.log'))
        figures['rotation_deploy_seconds'] = round(seconds, 1)
        assert run.returncode == 0, run.stdout[-6000:]
        # 3. The old credential is removed from Squid.
        t_removed = time.time()
        squid.remove_user(USER)
        time.sleep(TAIL_SECONDS)
    finally:
        outcomes = traffic.stop()
    t_end = time.time()
    log_lines = squid.log_lines(log_start)
    denied_before_probe = [e for e in harness.squid_entries(log_lines) if e['status'] == 407]
    assert not _accepts(steady_s3, squid, USER, PASSWORD)  # the old one is refused now
    assert _accepts(steady_s3, squid, NEW_USER, NEW_PASSWORD)

    failed = [o for o in outcomes if not o['ok']]
    by_op = {}
    for o in outcomes:
        by_op[o['op']] = by_op.get(o['op'], 0) + 1
    with open(os.path.join(harness.WORKDIR, 'restarts.log')) as f:
        restarts = [line.split() for line in f.read().splitlines()]
    entries = harness.squid_entries(log_lines)
    old_after = [e for e in entries if e['user'] == USER and e['time'] > t_removed]
    figures.update(
        requests=len(outcomes), requests_by_op=by_op, failed_requests=len(failed), errors=failed[:10],
        upload_bytes=sum(o.get('bytes', 0) for o in outcomes if o['op'] == 'upload' and o['ok']),
        download_bytes=sum(o.get('bytes', 0) for o in outcomes if o['op'] == 'download' and o['ok']),
        window_seconds=round(t_removed - t_window, 1), traffic_seconds=round(t_end - t_window + 3, 1),
        squid_407=len(denied_before_probe),
        squid_requests_by_user={u: sum(1 for e in entries if e['user'] == u) for u in sorted({e['user'] for e in entries})},
        host_restarts=[{'host': r[1], 'step': r[2], 'seconds_after_deploy_start': round(float(r[0]) - t_deploy, 1)}
                       for r in restarts if float(r[0]) >= t_deploy])
    drain = {}
    for r in restarts:
        if float(r[0]) >= t_deploy:
            drain.setdefault(r[1], {})[r[2]] = float(r[0])
    figures['host_out_of_rotation_seconds'] = {h: round(s['ready'] - s['drain'], 1) for h, s in drain.items()}

    assert not failed, failed[:10]
    assert by_op.get('upload', 0) >= 4 and by_op.get('download', 0) >= 4, by_op
    # Host by host: each host restarted once, the first back before the second was drained.
    assert sorted(drain) == sorted(HOSTS), restarts
    first, second = sorted(drain.values(), key=lambda s: s['drain'])
    assert first['ready'] <= second['drain'], restarts
    for host in hosts:
        assert host.api.pid() != pids_before[host.name]
        log = host.api.log()
        assert 'S3 store fast uses proxy http://%s:***@' % NEW_USER in log
        assert not [p for p in leak_probes(PASSWORD) + leak_probes(NEW_PASSWORD) if p in log]
        with open(host.dropin) as f:
            assert re.search(r'^s3_store_proxy_user = %s$' % re.escape(NEW_USER), f.read(), re.M)
    # Squid: no request refused during the whole rotation; none under the old user after its removal.
    assert not denied_before_probe, denied_before_probe[:5]
    assert not old_after, old_after[:5]
    assert figures['squid_requests_by_user'].get(NEW_USER, 0) > 0
    # Nothing left behind: every object is an active image, no incomplete upload.
    bucket = harness.Bucket(steady_s3, main_squid, 'rel-rotation')
    assert harness.orphans(bucket, lb.url) == ([], [])
    assert bucket.multipart_uploads() == []
    for text in (run.stdout,):
        assert PASSWORD not in text and NEW_PASSWORD not in text
