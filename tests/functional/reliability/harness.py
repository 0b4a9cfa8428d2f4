"""The reliability driver: private Squids and S3 servers, glance-api under uwsgi, a client that uses the Glance
API as any client does, and the measurements (bucket contents, worker RSS and file descriptors, the extension's
own per-process state).

Every fault hits instances of this driver's own: its Squids listen on 10.77.1.2:3140-3149 inside netns
gs3p-proxy, its S3 servers on 8340 and 8350 inside netns gs3p-s3, its glance-api processes on 127.0.0.1:9700-9799.
The lab's shared Squid (3128) and S3 (8333) are never stopped, delayed or reconfigured.

``RELIABILITY_MODE=short`` (the ``reliability`` step of ``make test``) or ``soak`` (``make soak``);
``SOAK_SECONDS`` sets the soak loop's length (default 180 short, 1800 soak).
"""

import glob
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import uuid
from concurrent import futures
from urllib.parse import quote

import boto3
import requests
from botocore.config import Config

from lab import netlab
from lab.constants import ACCESS_KEY, SECRET_KEY, USER
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
# Glance's environment, with the extension installed. RELIABILITY_GLANCE_VENV: another one (a copy of it, say, on a
# machine where other tests reinstall the extension in .cache/venv-glance meanwhile).
VENV = os.environ.get('RELIABILITY_GLANCE_VENV') or os.path.join(ROOT, '.cache', 'venv-glance')
WORKDIR = os.path.join(ROOT, '.cache', 'reliability')
MIB = 1024 * 1024
PART_MIB = 8  # s3_store_large_object_chunk_size of every store here

MODE = os.environ.get('RELIABILITY_MODE', 'short')
if MODE not in ('short', 'soak'):
    raise ValueError('RELIABILITY_MODE must be short or soak, not %r' % MODE)
SHORT = MODE == 'short'
SOAK_SECONDS = int(os.environ.get('SOAK_SECONDS') or (180 if SHORT else 1800))
# How often each fault is injected: once in the short form, several times in the long one.
FAULT_ROUNDS = int(os.environ.get('RELIABILITY_FAULT_ROUNDS') or (1 if SHORT else 3))

# This driver's ports. Squids on the proxy address (netns gs3p-proxy), glance-api on 127.0.0.1.
SQUID_PORTS = {'main': 3140, 'kill': 3141, 'start': 3142, 's3fault': 3143, 'rotation': 3144, 'soak': 3145}
GLANCE_PORTS = {'main': 9700, 'kill': 9701, 'start': 9702, 's3fault': 9703, 'soak': 9704,
                'lb': 9710, 'host-a': 9711, 'host-b': 9712}
# Two S3 servers of its own (netns gs3p-s3): 'steady' serves every case, 'faulty' is stopped and delayed.
S3_PORTS = {
    'steady': {'s3': 8340, 's3_grpc': 18340, 's3_https': 8344, 'master': 9340, 'master_grpc': 19340, 'volume': 8341,
               'volume_grpc': 18341, 'filer': 8342, 'filer_grpc': 18342, 'iceberg': 8345, 'lance': 8346},
    'faulty': {'s3': 8350, 's3_grpc': 18350, 's3_https': 8354, 'master': 9350, 'master_grpc': 19350, 'volume': 8351,
               'volume_grpc': 18351, 'filer': 8352, 'filer_grpc': 18352, 'iceberg': 8355, 'lance': 8356},
}
# Squid's own timeouts on the Squids of this driver: the bound on a request to an S3 that does not answer
# (botocore's own read timeout, 60 s, is not configurable through glance_store). docs/reliability.md.
SQUID_TIMEOUTS = 'connect_timeout 5 seconds\nread_timeout 10 seconds\nforward_timeout 30 seconds\n'


def say(msg):
    print('[reliability %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def http():
    session = requests.Session()
    session.trust_env = False  # never the environment's proxy
    return session


def wait_port(host, port, timeout=30, ns=None):
    """Wait until ``host:port`` accepts TCP connections (from inside netns ``ns`` if given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ns:
            probe = subprocess.run(netlab.in_ns(ns, 'bash', '-c', 'exec 3<>/dev/tcp/%s/%d' % (host, port)),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            if probe.returncode == 0:
                return True
        else:
            try:
                with socket.create_connection((host, port), timeout=1):
                    return True
            except OSError:
                pass
        time.sleep(0.2)
    return False


def kill_group(pid, sig=signal.SIGKILL, timeout=15):
    """Signal a process group this driver started, and wait until its leader is gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            waited = os.waitpid(pid, os.WNOHANG)[0]
            if waited == pid:
                return
        except ChildProcessError:
            pass
        if not os.path.exists('/proc/%d' % pid) or _zombie(pid):
            return
        time.sleep(0.05)
    raise RuntimeError('process group %d did not end after signal %d' % (pid, sig))


def _zombie(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


# ---------------------------------------------------------------------------------------------------------------
# What this driver started: a registry outside WORKDIR, so a run that died is cleaned up by the next one. An entry
# is a process group leader (or a pidfile naming one) and a marker its command line must hold (WORKDIR's path):
# a recycled pid is never signalled.

REGISTRY = os.path.join(ROOT, '.cache', 'reliability.pids')


def register(pid=None, pidfile=None, marker=WORKDIR):
    with open(REGISTRY, 'a') as f:
        f.write(json.dumps({'pid': pid, 'pidfile': pidfile, 'marker': marker}) + '\n')


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            return f.read().replace(b'\0', b' ').decode('utf-8', 'replace')
    except OSError:
        return ''


def _registered():
    try:
        with open(REGISTRY) as f:
            entries = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []
    out = []
    for entry in entries:
        pid = entry.get('pid')
        if entry.get('pidfile'):
            try:
                with open(entry['pidfile']) as f:
                    pid = int(f.read().strip())
            except (OSError, ValueError):
                pid = None
        if pid and entry['marker'] in _cmdline(pid):
            out.append(pid)
    return out


def stop_everything():
    """Kill every process group this driver started and that still runs (SIGTERM, then SIGKILL)."""
    pids = _registered()
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(os.path.exists('/proc/%d' % p) and not _zombie(p) for p in pids):
        time.sleep(0.2)
    for pid in pids:
        try:
            kill_group(pid)
        except RuntimeError:
            pass
    # The faults of this driver, if a run died with them in place.
    for fault in faults_present():
        if fault.startswith('tc '):
            _ns_run(netlab.NS_PROXY, 'tc', 'qdisc', 'del', 'dev', SHAPE_DEV, 'root', check=False)
        else:
            _ns_run(netlab.NS_S3, 'nft', 'delete', 'table', 'inet', NFT_TABLE, check=False)
    try:
        os.unlink(REGISTRY)
    except FileNotFoundError:
        pass


cleanup_previous_run = stop_everything


# ---------------------------------------------------------------------------------------------------------------
# Squid and S3 of this driver's own


class PrivateSquid:
    """A Squid of this driver's own (netlab.start_private_squid), which a test may kill, restart and re-key."""

    def __init__(self, name, users, extra_conf=SQUID_TIMEOUTS):
        self.name = name
        self.port = SQUID_PORTS[name]
        self.users = dict(users)
        self.extra_conf = extra_conf
        self.info = None

    @property
    def access_log(self):
        return os.path.join(WORKDIR, 'squid-%s' % self.name, 'access.log')

    @property
    def htpasswd(self):
        return os.path.join(WORKDIR, 'squid-%s' % self.name, 'htpasswd')

    def url(self, user, password=None):
        password = self.users[user] if password is None else password
        return 'http://%s:%s@%s:%d' % (quote(user, safe=''), quote(password, safe=''), netlab.PROXY_IP, self.port)

    def start(self, timeout=30):
        self.info = netlab.start_private_squid(WORKDIR, 'squid-%s' % self.name, self.port, self.users, self.extra_conf)
        register(self.info['pid'])
        if not wait_port(netlab.PROXY_IP, self.port, timeout):
            raise RuntimeError('Squid %s did not listen on %d: %s' % (self.name, self.port, self.cache_log_tail()))
        return self

    def running(self):
        return bool(self.info) and os.path.exists('/proc/%d' % self.info['pid']) and not _zombie(self.info['pid'])

    def kill(self, sig=signal.SIGKILL):
        if self.info:
            kill_group(self.info['pid'], sig)
        # Nothing of this Squid may still listen (a helper, a kid).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and wait_port(netlab.PROXY_IP, self.port, timeout=0.1):
            time.sleep(0.1)

    def add_user(self, user, password):
        # The password on stdin (-i), never in the command line that ps or an exception would show.
        proc = subprocess.run(['htpasswd', '-i', '-m', self.htpasswd, user], input=password + '\n', text=True,
                              check=False, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if proc.returncode != 0:
            raise RuntimeError('htpasswd could not add user %s (exit %d)' % (user, proc.returncode))
        self.users[user] = password

    def remove_user(self, user):
        subprocess.run(['htpasswd', '-D', self.htpasswd, user], check=True, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
        self.users.pop(user, None)

    def log_len(self):
        try:
            with open(self.access_log) as f:
                return sum(1 for _line in f)
        except FileNotFoundError:
            return 0

    def log_lines(self, since=0):
        try:
            with open(self.access_log) as f:
                return f.read().splitlines()[since:]
        except FileNotFoundError:
            return []

    def cache_log_tail(self, n=20):
        try:
            with open(os.path.join(WORKDIR, 'squid-%s' % self.name, 'cache.log')) as f:
                return '\n'.join(f.read().splitlines()[-n:])
        except OSError:
            return ''


class PrivateS3:
    """A SeaweedFS of this driver's own (netlab.start_private_s3), reached through a Squid of this driver."""

    def __init__(self, name, certs):
        self.name = name
        self.ports = S3_PORTS[name]
        self.port = self.ports['s3']
        self.certs = certs
        self.info = None
        self.endpoint = 'http://%s:%d' % (netlab.S3_NAME, self.port)

    def start(self, buckets, squid, timeout=90):
        self.info = netlab.start_private_s3(WORKDIR, 's3-%s' % self.name, self.ports, self.certs)
        register(self.info['pid'])
        client = self.client(squid, retries=0)
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            try:
                existing = [b['Name'] for b in client.list_buckets().get('Buckets', [])]
                for bucket in buckets:
                    if bucket not in existing:
                        client.create_bucket(Bucket=bucket)
                return self
            except Exception as exc:  # pylint: disable=broad-except  # not up yet
                last = exc
                time.sleep(0.5)
        raise RuntimeError('private S3 %s did not answer through Squid %s in %ds: %s' % (self.name, squid.name, timeout, last))

    def stop(self):
        if self.info:
            kill_group(self.info['pid'])
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and wait_port(netlab.S3_IP, self.port, timeout=0.1, ns=netlab.NS_S3):
            time.sleep(0.2)

    def client(self, squid, retries=2):
        """boto3 through ``squid`` (the host has no route to S3): only to look at the bucket."""
        url = squid.url(USER)
        return boto3.session.Session().client(
            's3', endpoint_url=self.endpoint, region_name='us-east-1', aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(proxies={'http': url, 'https': url}, s3={'addressing_style': 'path'},
                          retries={'max_attempts': retries, 'mode': 'standard'}, connect_timeout=3, read_timeout=20))


class Bucket:
    """What is in one bucket, read directly on S3 (ListObjectsV2, ListMultipartUploads)."""

    def __init__(self, s3, squid, name):
        self.s3 = s3
        self.squid = squid
        self.name = name

    def objects(self):
        client = self.s3.client(self.squid)
        out = {}
        for page in client.get_paginator('list_objects_v2').paginate(Bucket=self.name):
            for obj in page.get('Contents', []):
                out[obj['Key']] = {'size': obj['Size'], 'etag': obj['ETag'].strip('"')}
        return out

    def multipart_uploads(self):
        resp = self.s3.client(self.squid).list_multipart_uploads(Bucket=self.name)
        return [{'key': u['Key'], 'upload_id': u['UploadId']} for u in resp.get('Uploads', [])]

    def abort_incomplete(self):
        """The operator's clean-up of docs/reliability.md: abort every incomplete multipart upload."""
        client = self.s3.client(self.squid)
        aborted = []
        for upload in self.multipart_uploads():
            client.abort_multipart_upload(Bucket=self.name, Key=upload['key'], UploadId=upload['upload_id'])
            aborted.append(upload['key'])
        return aborted


# This machine's kernel (the CI machine kind) has neither netem nor the prio qdisc (CONFIG_NET_SCH_NETEM,
# CONFIG_NET_SCH_PRIO unset). A slow S3 is an HTB class on Squid's side of the storage link (netns gs3p-proxy)
# that only packets to this driver's S3 port enter (u32 filter): everything else is unclassified, which HTB
# sends on unshaped. An S3 that stops answering is an nftables table of this driver's own in netns gs3p-s3
# that drops that port's packets. Both are removed in a ``finally`` by the callers (context managers below).
SHAPE_DEV = 'gs3p-p1'
NFT_TABLE = 'gs3p_reliability'


def _ns_run(ns, *cmd, check=True):
    return subprocess.run(['ip', 'netns', 'exec', ns] + list(cmd), check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)


class slow_link:  # pylint: disable=invalid-name  # used as a context manager, like open()
    """Squid-to-S3 traffic to ``port`` limited to ``rate`` (tc syntax, e.g. 24mbit)."""

    def __init__(self, port, rate):
        self.port = port
        self.rate = rate

    def __enter__(self):
        try:
            _ns_run(netlab.NS_PROXY, 'tc', 'qdisc', 'add', 'dev', SHAPE_DEV, 'root', 'handle', '1:', 'htb')
            _ns_run(netlab.NS_PROXY, 'tc', 'class', 'add', 'dev', SHAPE_DEV, 'parent', '1:', 'classid', '1:10', 'htb',
                    'rate', self.rate, 'ceil', self.rate)
            _ns_run(netlab.NS_PROXY, 'tc', 'filter', 'add', 'dev', SHAPE_DEV, 'parent', '1:', 'protocol', 'ip', 'prio', '1',
                    'u32', 'match', 'ip', 'dport', str(self.port), '0xffff', 'flowid', '1:10')
        except subprocess.CalledProcessError as exc:
            self.__exit__(None, None, None)
            raise RuntimeError('tc: %s' % exc.output) from exc
        return self

    def __exit__(self, *exc):
        _ns_run(netlab.NS_PROXY, 'tc', 'qdisc', 'del', 'dev', SHAPE_DEV, 'root', check=False)


class black_hole:  # pylint: disable=invalid-name
    """Every packet to or from S3 ``port`` dropped inside netns gs3p-s3: S3 stops answering, connections hang."""

    def __init__(self, port):
        self.port = port

    def __enter__(self):
        rules = ('table inet {t} {{\n chain input {{ type filter hook input priority 0; tcp dport {p} drop; }}\n'
                 ' chain output {{ type filter hook output priority 0; tcp sport {p} drop; }}\n}}\n').format(
            t=NFT_TABLE, p=self.port)
        proc = subprocess.run(['ip', 'netns', 'exec', netlab.NS_S3, 'nft', '-f', '-'], input=rules, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        if proc.returncode != 0:
            raise RuntimeError('nft: %s' % proc.stdout)
        return self

    def __exit__(self, *exc):
        _ns_run(netlab.NS_S3, 'nft', 'delete', 'table', 'inet', NFT_TABLE, check=False)


def faults_present():
    """What of the above is still in place (empty when clean)."""
    out = []
    if 'htb' in _ns_run(netlab.NS_PROXY, 'tc', 'qdisc', 'show', 'dev', SHAPE_DEV, check=False).stdout:
        out.append('tc htb on %s in %s' % (SHAPE_DEV, netlab.NS_PROXY))
    if NFT_TABLE in _ns_run(netlab.NS_S3, 'nft', 'list', 'tables', check=False).stdout:
        out.append('nft table %s in %s' % (NFT_TABLE, netlab.NS_S3))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Glance's database: a PostgreSQL of this driver's own (Debian's postgresql package, psycopg2 in Glance's venv).
# Not SQLite: under concurrent uploads oslo.db's deferred "BEGIN" on SQLite fails at once with "database is
# locked" (a read-then-write transaction cannot wait for another writer), which says nothing about the proxy,
# and two glance-api hosts behind one address share one database, as in a real deployment.


def _pg_bin(name):
    found = sorted(glob.glob('/usr/lib/postgresql/*/bin/%s' % name), key=lambda p: int(p.split('/')[4]))
    if not found:
        raise RuntimeError('PostgreSQL not found (/usr/lib/postgresql/*/bin/%s): apt-get install postgresql' % name)
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL server on a Unix socket under WORKDIR (no TCP port), trust auth, durability off (a test DB)."""

    def __init__(self):
        self.d = os.path.join(WORKDIR, 'postgres')
        self.data = os.path.join(self.d, 'data')
        self.sock = os.path.join(self.d, 'sock')
        self.proc = None

    def _as_postgres(self, *cmd, **kw):
        return ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] + list(cmd)

    def start(self, timeout=60):
        os.makedirs(self.sock, exist_ok=True)
        shutil.chown(self.d, 'postgres', 'postgres')
        shutil.chown(self.sock, 'postgres', 'postgres')
        os.chmod(self.sock, 0o700)  # trust authentication: only postgres (and root) may reach the socket
        subprocess.run(self._as_postgres(_pg_bin('initdb'), '-D', self.data, '-A', 'trust', '-U', 'postgres', '--no-sync',
                                         '-E', 'UTF8'), check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        log = open(os.path.join(self.d, 'postgres.log'), 'w')
        self.proc = subprocess.Popen(self._as_postgres(
            _pg_bin('postgres'), '-D', self.data, '-k', self.sock, '-h', '', '-c', 'fsync=off', '-c', 'synchronous_commit=off',
            '-c', 'full_page_writes=off', '-c', 'max_connections=400'), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        register(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if subprocess.run([_pg_bin('pg_isready'), '-h', self.sock], stdout=subprocess.DEVNULL, check=False).returncode == 0:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError('PostgreSQL did not start: %s' % pipe_log_tail(os.path.join(self.d, 'postgres.log')))

    def database(self, name):
        """A new, empty database; its SQLAlchemy URL for Glance."""
        subprocess.run(self._as_postgres(_pg_bin('createdb'), '-h', self.sock, '-U', 'postgres', name), check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return 'postgresql+psycopg2://postgres@/%s?host=%s' % (name, self.sock)

    def stop(self):
        if self.proc:
            kill_group(self.proc.pid, signal.SIGINT, timeout=30)  # fast shutdown


# ---------------------------------------------------------------------------------------------------------------
# glance-api


def store_section(name, s3, squid, bucket, user, password=None, max_retries=3):
    """A proxied S3 store of glance-api.conf: 8 MiB parts from 32 MiB on, through ``squid`` as ``user``."""
    password = squid.users[user] if password is None else password
    return ('\n[{n}]\ns3_store_host = {ep}\ns3_store_bucket = {b}\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_large_object_size = 32\n'
            's3_store_large_object_chunk_size = {part}\ns3_store_thread_pools = 4\ns3_store_max_retries = {r}\n'
            's3_store_enable_proxy = true\ns3_store_proxy_host = {h}\ns3_store_proxy_port = {p}\n'
            's3_store_proxy_user = {u}\ns3_store_proxy_password = {pw}\n').format(
        n=name, ep=s3.endpoint, b=bucket, ak=ACCESS_KEY, sk=SECRET_KEY, part=PART_MIB, r=max_retries,
        h=netlab.PROXY_IP, p=squid.port, u=user, pw=password.replace('$', '$$'))


PROBE_DIR = os.path.join(HERE, 'probe')


def make_glance(name, stores, default, db_url, processes=4, probe=True, host='127.0.0.1', port=None, workdir=None, env=None,
                conf_dir=None, db_sync=True):
    """A glance-api under uwsgi (``processes`` workers, lazy-apps) with ``stores`` ({name: section text}) and its
    database at ``db_url``.

    ``probe``: the lab-only WSGI filter of probe/reliability_probe.py, which lets each worker report the
    extension's own state (tests only; it changes no request)."""
    workdir = workdir or os.path.join(WORKDIR, 'glance-%s' % name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    extra_env = {'GLANCE_STORE_S3PROXY_RUNTIME_DIR': os.path.join(workdir, 'run')}
    if probe:
        extra_env.update(PYTHONPATH=PROBE_DIR, RELIABILITY_PROBE_DIR=os.path.join(workdir, 'probe'))
    extra_env.update(env or {})
    api = GlanceApi(VENV, workdir, port=port or GLANCE_PORTS[name], host=host, processes=processes,
                    conf_dir=conf_dir, env=extra_env)
    backends = ', '.join('%s:%s' % (s, 'file' if 'filesystem_store_datadir' in text else 's3') for s, text in stores.items())
    conf = base_conf(workdir, backends, default).replace('connection = sqlite:///%s/glance.sqlite' % workdir, 'connection = ' + db_url)
    api.write_config(conf + ''.join(stores.values()))
    if probe:
        add_probe(api.conf_dir)
    if db_sync:
        api.db_sync()
    register(pidfile=os.path.join(workdir, 'uwsgi.pid'))
    return api


def start_glance(api, timeout=180):
    """Start ``api`` and check that the extension is active in every worker: each announced the proxy of each
    of its S3 stores. Without that the S3 traffic would go direct, and no figure here would mean anything."""
    api.start(timeout=timeout)
    stores = [name for name, text in _stores_of(api).items() if 's3_store_enable_proxy = true' in text]
    deadline = time.monotonic() + 30
    while True:
        log = api.log()
        missing = [(pid, store) for pid in workers(api) for store in stores
                   if not re.search(r'active in pid %d: S3 store %s uses proxy ' % (pid, store), log)]
        if not missing:
            return api
        if time.monotonic() > deadline:
            raise RuntimeError('glance-store-s3proxy is not active in glance-api workers %s (was the extension uninstalled '
                               'from %s meanwhile?): %s' % (missing, VENV, api.log_tail()))
        time.sleep(0.3)


def _stores_of(api):
    with open(api.conf_file) as f:
        text = f.read()
    sections = re.split(r'^\[([^\]]+)\]$', text, flags=re.M)
    return dict(zip(sections[1::2], sections[2::2]))


def stop_glance(api):
    """Stop a glance-api of this driver, also one that a restart command started again (by its pidfile)."""
    api.stop()
    try:
        pid = api.pid()
    except (OSError, ValueError):
        return
    if WORKDIR in _cmdline(pid):
        try:
            os.killpg(pid, signal.SIGTERM)
            kill_group(pid, signal.SIGTERM, timeout=20)
        except (ProcessLookupError, RuntimeError):
            kill_group(pid)


def add_probe(conf_dir):
    paste = os.path.join(conf_dir, 'glance-api-paste.ini')
    with open(paste) as f:
        text = f.read()
    marker = 'default = cors http_proxy_to_wsgi versionnegotiation osprofiler context'
    if marker not in text:
        raise RuntimeError('%s has no lab pipeline to add the probe to' % paste)
    text = text.replace(marker, marker.replace('cors ', 'cors relprobe '), 1)
    text += '\n[filter:relprobe]\npaste.filter_factory = reliability_probe:filter_factory\n'
    with open(paste, 'w') as f:
        f.write(text)


def workers(api):
    """The pids of the uwsgi workers of ``api`` (children of its master)."""
    master = api.pid()
    out = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                fields = f.read().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:
            out.append(int(entry))
    return sorted(out)


def proc_sample(pid):
    """RSS (KiB) and open file descriptors of one process."""
    rss = None
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                rss = int(line.split()[1])
    return {'rss_kib': rss, 'fds': len(os.listdir('/proc/%d/fd' % pid))}


def probe_states(api, timeout=10):
    """Ask every worker for the extension's own state (probe/reliability_probe.py): {pid: state}."""
    d = os.path.join(api.d, 'probe')
    token = uuid.uuid4().hex
    with open(os.path.join(d, 'request.tmp'), 'w') as f:
        f.write(token)
    os.replace(os.path.join(d, 'request.tmp'), os.path.join(d, 'request'))
    pids = workers(api)
    deadline = time.monotonic() + timeout
    states = {}
    while time.monotonic() < deadline:
        states = {}
        for pid in pids:
            try:
                with open(os.path.join(d, '%d.json' % pid)) as f:
                    state = json.load(f)
            except (OSError, ValueError):
                continue
            if state.get('token') == token:
                states[pid] = state
        if len(states) == len(pids):
            return states
        time.sleep(0.2)
    raise AssertionError('workers %s did not report their state (got %s)' % (pids, sorted(states)))


REQUEST_LINE = re.compile(r'^\[pid: (\d+)\|.*?\] .*? (GET|PUT|POST|DELETE|PATCH|HEAD) (\S+) => generated \d+ bytes in '
                          r'(\d+) msecs \(HTTP/[\d.]+ (\d+)\)')


def request_log(api):
    """uwsgi's request lines of ``api``: [(worker pid, method, path, msecs, status)]."""
    out = []
    for line in api.log().splitlines():
        m = REQUEST_LINE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2), m.group(3), int(m.group(4)), int(m.group(5))))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Image data and the Glance API client


class ImageData:
    """Deterministic image bytes: every MiB differs (the seed and its index lead it), so a part stored in the
    wrong place changes the checksum. ``stream()`` reads them as a file, once per request."""

    _digests = {}

    def __init__(self, seed, size):
        self.seed = seed
        self.size = size
        self._base = random.Random(seed).randbytes(MIB)

    def block(self, index):
        return struct.pack('>QQ', self.seed, index) + self._base[16:]

    def stream(self):
        return _Stream(self)

    def digests(self):
        """(md5 hex of the image, the S3 ETag of its multipart upload in PART_MIB parts, or of one PUT)."""
        key = (self.seed, self.size)
        if key not in self._digests:
            md5, part, parts = hashlib.md5(), hashlib.md5(), []
            for index in range(-(-self.size // MIB)):
                block = self.block(index)[:min(MIB, self.size - index * MIB)]
                md5.update(block)
                part.update(block)
                if (index + 1) % PART_MIB == 0 or (index + 1) * MIB >= self.size:
                    parts.append(part.digest())
                    part = hashlib.md5()
            if self.size >= 32 * MIB:  # s3_store_large_object_size
                etag = '%s-%d' % (hashlib.md5(b''.join(parts)).hexdigest(), len(parts))
            else:
                etag = md5.hexdigest()
            self._digests[key] = (md5.hexdigest(), etag)
        return self._digests[key]


class _Stream:
    """One read of an ImageData from its start; ``len()`` gives requests the Content-Length."""

    def __init__(self, data):
        self.data = data
        self.pos = 0

    def __len__(self):
        return self.data.size

    def read(self, n=-1):
        if self.pos >= self.data.size:
            return b''
        index, offset = divmod(self.pos, MIB)
        end = min(MIB, offset + (n if n and n > 0 else MIB), self.data.size - index * MIB)
        chunk = self.data.block(index)[offset:end]
        self.pos += len(chunk)
        return chunk


class Outcome(dict):
    """One request's outcome: op, image, status (HTTP, or None when no response came), error, seconds."""

    @property
    def ok(self):
        return self['ok']


def _call(op, image_id, method, url, ok_codes, session=None, timeout=900, **kwargs):
    session = session or http()
    start = time.monotonic()
    try:
        resp = session.request(method, url, timeout=timeout, **kwargs)
        status, body = resp.status_code, resp.text[:3000] if not kwargs.get('stream') else ''
        return Outcome(op=op, image=image_id, status=status, ok=status in ok_codes, error='' if status in ok_codes else body,
                       seconds=time.monotonic() - start, start=start, response=resp)
    except requests.RequestException as exc:
        return Outcome(op=op, image=image_id, status=None, ok=False, error='%s: %s' % (type(exc).__name__, exc),
                       seconds=time.monotonic() - start, start=start, response=None)


def create_image(base_url, prefix='rel', session=None):
    out = _call('create', None, 'POST', base_url + '/v2/images', (201,), session=session, timeout=60,
                json={'name': '%s-%s' % (prefix, uuid.uuid4().hex[:8]), 'disk_format': 'raw', 'container_format': 'bare'},
                headers=ADMIN_HEADERS)
    if out.ok:
        out['image'] = out['response'].json()['id']
    return out


def upload(base_url, data, store=None, session=None, timeout=900, image_id=None):
    """Create an image (unless ``image_id``) and PUT its data; the Outcome also carries ``create``."""
    if image_id is None:
        created = create_image(base_url, session=session)
        if not created.ok:
            created['op'] = 'upload'
            return created
        image_id = created['image']
    headers = dict(ADMIN_HEADERS, **{'Content-Type': 'application/octet-stream', 'Expect': ''})
    if store:
        headers['X-Image-Meta-Store'] = store
    out = _call('upload', image_id, 'PUT', base_url + '/v2/images/%s/file' % image_id, (204,), session=session,
                timeout=timeout, data=data.stream(), headers=headers)
    out['bytes'] = data.size
    return out


def image(base_url, image_id, session=None):
    out = _call('show', image_id, 'GET', base_url + '/v2/images/%s' % image_id, (200, 404), session=session, timeout=60,
                headers=ADMIN_HEADERS)
    return out['response'].json() if out.ok and out['status'] == 200 else None


def download(base_url, image_id, session=None, timeout=900):
    """GET the image's data; the Outcome has ``md5`` and ``bytes``."""
    session = session or http()
    start = time.monotonic()
    md5, total = hashlib.md5(), 0
    try:
        with session.get(base_url + '/v2/images/%s/file' % image_id, headers=ADMIN_HEADERS, stream=True,
                         timeout=timeout) as resp:
            if resp.status_code != 200:
                return Outcome(op='download', image=image_id, status=resp.status_code, ok=False, error=resp.text[:3000],
                               seconds=time.monotonic() - start, start=start, md5=None, bytes=0)
            for chunk in resp.iter_content(MIB):
                md5.update(chunk)
                total += len(chunk)
            return Outcome(op='download', image=image_id, status=200, ok=True, error='', seconds=time.monotonic() - start,
                           start=start, md5=md5.hexdigest(), bytes=total)
    except requests.RequestException as exc:
        return Outcome(op='download', image=image_id, status=None, ok=False, error='%s: %s' % (type(exc).__name__, exc),
                       seconds=time.monotonic() - start, start=start, md5=None, bytes=total)


def delete(base_url, image_id, session=None):
    return _call('delete', image_id, 'DELETE', base_url + '/v2/images/%s' % image_id, (204,), session=session,
                 timeout=120, headers=ADMIN_HEADERS)


def images(base_url):
    resp = http().get(base_url + '/v2/images?limit=1000', headers=ADMIN_HEADERS, timeout=60)
    resp.raise_for_status()
    return {i['id']: i for i in resp.json()['images']}


def check_active(base_url, image_id, data):
    """Problems of an image that should be active with ``data`` (empty: none)."""
    md5 = data.digests()[0]
    got = image(base_url, image_id)
    if got is None:
        return ['image %s is gone' % image_id]
    problems = []
    if got['status'] != 'active':
        problems.append('image %s is %s, not active' % (image_id, got['status']))
    if got.get('size') != data.size:
        problems.append('image %s has size %s, not %d' % (image_id, got.get('size'), data.size))
    if got.get('checksum') != md5:
        problems.append('image %s has checksum %s, not %s' % (image_id, got.get('checksum'), md5))
    return problems


def strip(outcome):
    """An Outcome as plain JSON (without the response object)."""
    return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in outcome.items() if k not in ('response', 'start')}


def run_parallel(calls, workers_n):
    """Run ``calls`` (zero-argument callables) ``workers_n`` at a time; their results in order."""
    with futures.ThreadPoolExecutor(max_workers=workers_n) as pool:
        return [f.result() for f in [pool.submit(c) for c in calls]]


class Sampler(threading.Thread):
    """Samples RSS and open file descriptors of every worker of ``api`` every ``interval`` seconds."""

    def __init__(self, api, interval=2.0):
        super().__init__(daemon=True)
        self.api = api
        self.interval = interval
        self.samples = []  # (t, pid, rss_kib, fds)
        self._stop_event = threading.Event()

    def run(self):
        start = time.monotonic()
        while not self._stop_event.is_set():
            for pid in workers(self.api):
                try:
                    s = proc_sample(pid)
                except OSError:
                    continue
                self.samples.append((round(time.monotonic() - start, 1), pid, s['rss_kib'], s['fds']))
            self._stop_event.wait(self.interval)

    def stop(self):
        self._stop_event.set()
        self.join(10)


def error_lines(api, outcome):
    """glance-api's ERROR lines (no traceback lines) of the request behind ``outcome`` (its x-openstack-request-id)."""
    resp = outcome.get('response')
    request_id = resp.headers.get('x-openstack-request-id') if resp is not None else None
    if not request_id:
        return []
    return [line for line in api.log().splitlines() if request_id in line and ' ERROR ' in line]


def uwsgi_pids(api):
    """The master's and the workers' pids: the same set before and after a fault means no restart."""
    return [api.pid()] + workers(api)


def orphans(bucket, base_url):
    """Objects in ``bucket`` that no active image of this glance-api points to, and active images of this
    bucket without their object. Keys are image ids (glance_store's S3 driver names objects so)."""
    objects = bucket.objects()
    active = {i: img for i, img in images(base_url).items() if img['status'] == 'active'}
    return sorted(k for k in objects if k not in active), sorted(i for i in active if i not in objects)


HAPROXY_CFG = """\
global
    stats socket {d}/haproxy.sock mode 600 level admin
    maxconn 500

defaults
    mode http
    log global
    timeout connect 2s
    timeout client 600s
    timeout server 600s
    timeout queue 60s
    # A busy glance-api answers its health check only when a worker is free (one request per worker):
    # a short check timeout would take a busy host, then both, out of service.
    timeout check 60s
    retries 3
    option redispatch

frontend glance
    bind {host}:{port}
    default_backend glance_api

backend glance_api
    balance roundrobin
    option httpchk GET /healthcheck
    http-check expect status 200
    default-server inter 1s fastinter 500ms downinter 1s rise 2 fall 3
{servers}
"""


class HAProxy:
    """Debian's HAProxy in front of glance-api hosts: health checks, retries and redispatch on connection
    failures, and an admin socket through which a host is drained before its restart (lb_restart.py)."""

    def __init__(self, port, servers, host='127.0.0.1'):
        self.d = os.path.join(WORKDIR, 'haproxy')
        self.url = 'http://%s:%d' % (host, port)
        self.socket = os.path.join(self.d, 'haproxy.sock')
        self.cfg = os.path.join(self.d, 'haproxy.cfg')
        os.makedirs(self.d, exist_ok=True)
        with open(self.cfg, 'w') as f:
            f.write(HAPROXY_CFG.format(d=self.d, host=host, port=port, servers='\n'.join(
                '    server %s %s check' % (name, address) for name, address in servers)))
        self.proc = None

    def start(self, timeout=30):
        binary = shutil.which('haproxy') or '/usr/sbin/haproxy'
        if not os.path.exists(binary):
            raise RuntimeError('haproxy not found: apt-get install haproxy')
        log = open(os.path.join(self.d, 'haproxy.log'), 'w')
        self.proc = subprocess.Popen([binary, '-f', self.cfg, '-db'], stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        register(self.proc.pid)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.socket) and all(s['status'] == 'UP' for s in self.servers().values()):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError('HAProxy did not come up with every server UP: %s' % pipe_log_tail(os.path.join(self.d, 'haproxy.log')))

    def servers(self):
        import lb_restart  # pylint: disable=import-outside-toplevel
        lines = lb_restart.admin(self.socket, 'show stat').splitlines()
        header = lines[0].lstrip('# ').split(',')
        rows = [dict(zip(header, line.split(','))) for line in lines[1:] if line]
        return {r['svname']: r for r in rows if r.get('pxname') == 'glance_api' and r['svname'] not in ('FRONTEND', 'BACKEND')}

    def stop(self):
        if self.proc:
            kill_group(self.proc.pid, signal.SIGTERM)


def squid_entries(lines):
    """Squid access.log lines (native format) as dicts: time (end), ms, code, status, method, url, user."""
    out = []
    for line in lines:
        f = line.split()
        if len(f) < 8:
            continue
        code, _sep, status = f[3].partition('/')
        out.append({'time': float(f[0]), 'ms': int(f[1]), 'code': code, 'status': int(status) if status.isdigit() else 0,
                    'method': f[5], 'url': f[6], 'user': f[7]})
    return out


def image_entries(entries, image_id):
    return [e for e in entries if '/%s' % image_id in e['url']]


def part_problems(entries, image_id, size, user):
    """What Squid's log says is wrong with one image's multipart upload: every part through the proxy, under
    ``user``, answered 200, nothing denied. Returns (problems, number of part lines)."""
    mine = image_entries(entries, image_id)
    parts = [e for e in mine if e['method'] == 'PUT' and 'partNumber=' in e['url']]
    done = {int(re.search(r'partNumber=(\d+)', e['url']).group(1)) for e in parts if e['status'] == 200}
    expected = -(-size // (PART_MIB * MIB))
    problems = []
    if not any(e['method'] == 'POST' and e['url'].endswith('?uploads') for e in mine):
        problems.append('%s: no CreateMultipartUpload in Squid\'s log' % image_id)
    if done != set(range(1, expected + 1)):
        problems.append('%s: parts %s of 1-%d answered 200 in Squid\'s log' % (image_id, sorted(done), expected))
    others = sorted({e['user'] for e in mine if e['user'] != user})
    if others:
        problems.append('%s: requests under %s, not only %s' % (image_id, others, user))
    bad = [e for e in mine if e['code'].startswith('TCP_DENIED') or e['status'] >= 400 and e['method'] != 'HEAD']
    if bad:
        problems.append('%s: %d requests denied or failed: %s' % (image_id, len(bad), bad[:3]))
    return problems, len(parts)


def max_overlap(intervals):
    """The most intervals (start, end) open at one time."""
    events = sorted([(start, 1) for start, _end in intervals] + [(end, -1) for _start, end in intervals])
    best = now = 0
    for _time, step in events:
        now += step
        best = max(best, now)
    return best


def pipe_log_tail(path, n=30):
    try:
        with open(path) as f:
            return '\n'.join(f.read().splitlines()[-n:])
    except OSError:
        return ''
