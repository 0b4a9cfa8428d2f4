"""make bench: what the proxy costs Glance, measured side by side.

One glance-api container (the lab image) with four S3 stores on the same
S3 server (SeaweedFS or MinIO, as scripts/s3-server.sh chooses) and bucket: ``direct`` (http, no proxy), ``forward`` (http
through Squid), ``tunnel`` (https through Squid CONNECT) and ``direct_tls``
(https, no proxy). Unlike the lab, Glance is on the storage network too, so
the direct stores can reach S3. Runs are interleaved (A B C D A B C D ...).

Writes docs/benchmarks.md, docs/benchmarks.json and docs/benchmarks.png.
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
from lab import constants  # noqa: E402  tests/lab/constants.py: lab/constants.yml and the extension's version

TOOLS = os.path.join(ROOT, '.cache', 'venv-tools', 'bin')
TAG = os.environ['LAB_IMAGE_TAG']
S3_IMAGE = os.environ['LAB_S3_IMAGE']
STORES = ['direct', 'forward', 'tunnel', 'direct_tls']
TWINS = {'forward': 'direct', 'tunnel': 'direct_tls'}
SIZES_MIB = [int(s) for s in os.environ.get('BENCH_SIZES_MIB', '64 256 1024').split()]
REPS = int(os.environ.get('BENCH_REPS', '3'))
USER, PASSWORD = constants.USER, constants.PASSWORD
AK, SK = constants.ACCESS_KEY, constants.SECRET_KEY
PROXY_PORT = constants.DOCKER['squid_port']
NET_CLIENT, NET_STORAGE = 'gs3p-bench-client', 'gs3p-bench-storage'
ADMIN = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member,reader',
         'X-Project-Id': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1'}
WHEEL = constants.WHEEL


def sh(*cmd, check=True, **kw):
    proc = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed: %s' % (' '.join(cmd[:4]), proc.stderr[-2000:]))
    return proc.stdout


def dexec(container, *args, check=True):
    return sh('docker', 'exec', container, *args, check=check)


def say(msg):
    print(msg, flush=True)


def store_section(name, endpoint, proxied):
    text = ('\n[{n}]\ns3_store_host = {ep}\ns3_store_bucket = glance\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_large_object_size = 32\n'
            's3_store_large_object_chunk_size = 16\ns3_store_thread_pools = 10\n'
            's3_store_cacert = /etc/glance/lab-s3-ca.crt\ns3_store_max_retries = 3\n').format(
        n=name, ep=endpoint, ak=AK, sk=SK)
    if proxied:
        text += ('s3_store_enable_proxy = true\ns3_store_proxy_host = proxy\ns3_store_proxy_port = %d\n'
                 's3_store_proxy_user = %s\ns3_store_proxy_password = %s\n' % (PROXY_PORT, USER, PASSWORD))
    return text


GLANCE_CONF = """[DEFAULT]
enabled_backends = direct:s3, forward:s3, tunnel:s3, direct_tls:s3
[database]
connection = sqlite:////var/lib/glance/glance.sqlite
[glance_store]
default_backend = direct
[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = /var/lib/glance/tasks
[oslo_policy]
enforce_new_defaults = false
enforce_scope = false
""" + store_section('direct', 'http://s3:8333', False) + store_section('forward', 'http://s3:8333', True) \
    + store_section('tunnel', 'https://s3:8443', True) + store_section('direct_tls', 'https://s3:8443', False)


TRANSFER = r'''
import json, os, sys, time, requests
api = 'http://127.0.0.1:9292'
headers = json.loads(sys.argv[1]); stores = sys.argv[2].split(','); sizes = [int(s) for s in sys.argv[3].split(',')]
reps = int(sys.argv[4])
s = requests.Session(); s.trust_env = False
results = []
for size in sizes:
    path = '/tmp/bench-%d.img' % size
    if not os.path.exists(path):
        with open(path, 'wb') as f:
            for _ in range(size):
                f.write(os.urandom(1048576))
    for rep in range(reps):
        for store in stores:  # interleaved: A B C D A B C D ...
            image = s.post(api + '/v2/images', headers=headers,
                           json={'name': 'bench', 'disk_format': 'raw', 'container_format': 'bare'}).json()
            with open(path, 'rb') as f:
                t0 = time.monotonic()
                put = s.put(api + '/v2/images/%s/file' % image['id'], data=f, headers=dict(headers, **{
                    'Content-Type': 'application/octet-stream', 'Content-Length': str(size * 1048576),
                    'Expect': '', 'X-Image-Meta-Store': store}))
                up = time.monotonic() - t0
            assert put.status_code == 204, put.text
            t0 = time.monotonic()
            got = 0
            with s.get(api + '/v2/images/%s/file' % image['id'], headers=headers, stream=True) as r:
                for chunk in r.iter_content(1048576):
                    got += len(chunk)
            down = time.monotonic() - t0
            assert got == size * 1048576
            s.delete(api + '/v2/images/%s' % image['id'], headers=headers)
            results.append({'store': store, 'size_mib': size, 'rep': rep, 'upload_s': up, 'download_s': down})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
print(json.dumps(results))
'''

RSS = r'''
import json, os, sys, threading, time, requests
api = 'http://127.0.0.1:9292'
headers = json.loads(sys.argv[1]); store = sys.argv[2]; size = int(sys.argv[3])
s = requests.Session(); s.trust_env = False
def workers():
    out = []
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                cmd = open('/proc/%s/cmdline' % pid, 'rb').read()
            except OSError:
                continue
            if b'uwsgi' in cmd:
                out.append(pid)
    return out
def rss(pid):
    try:
        for line in open('/proc/%s/status' % pid):
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0
peak = {'kib': 0}
done = threading.Event()
def sample():
    while not done.is_set():
        peak['kib'] = max([peak['kib']] + [rss(p) for p in workers()])
        time.sleep(0.02)
t = threading.Thread(target=sample); t.start()
image = s.post(api + '/v2/images', headers=headers, json={'name': 'rss', 'disk_format': 'raw', 'container_format': 'bare'}).json()
with open('/tmp/bench-%d.img' % size, 'rb') as f:
    s.put(api + '/v2/images/%s/file' % image['id'], data=f, headers=dict(headers, **{
        'Content-Type': 'application/octet-stream', 'Content-Length': str(size * 1048576), 'Expect': '',
        'X-Image-Meta-Store': store}))
done.set(); t.join()
s.delete(api + '/v2/images/%s' % image['id'], headers=headers)
print(json.dumps({'store': store, 'peak_rss_mib': round(peak['kib'] / 1024.0, 1)}))
'''

BARE = r'''
import json, os, sys, time, uuid, boto3
from botocore.config import Config
from urllib.parse import quote
probe = sys.argv[1]
url = 'http://%s:%s@proxy:%s' % (sys.argv[5], quote(sys.argv[2], safe=''), sys.argv[6])
t0 = time.monotonic()
s3 = boto3.session.Session(aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4]).client(
    's3', endpoint_url='http://s3:8333', region_name='us-east-1',
    config=Config(proxies={'http': url, 'https': url}, s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
s3.list_objects_v2(Bucket='glance', MaxKeys=1)
if probe == 'write':
    key = 'bare/%s' % uuid.uuid4().hex
    body = os.urandom(65536)
    s3.put_object(Bucket='glance', Key=key, Body=body)
    assert s3.get_object(Bucket='glance', Key=key)['Body'].read() == body
    s3.delete_object(Bucket='glance', Key=key)
print(json.dumps({'ms': (time.monotonic() - t0) * 1000.0}))
'''


def setup(n_glance):
    for net, internal in ((NET_CLIENT, False), (NET_STORAGE, True)):
        sh('docker', 'network', 'create', *(['--internal'] if internal else []), net, check=False)
    sh('docker', 'run', '-d', '--name', 'bench-s3', '--hostname', 's3', '--network', NET_STORAGE,
       '--network-alias', 's3', S3_IMAGE)
    sh('docker', 'run', '-d', '--name', 'bench-proxy', '--hostname', 'proxy', '--network', NET_CLIENT,
       '--network-alias', 'proxy', 'glancestore-lab-proxy:' + TAG)
    sh('docker', 'network', 'connect', '--alias', 'proxy', NET_STORAGE, 'bench-proxy')
    names = ['bench-glance-%d' % i for i in range(1, n_glance + 1)]
    for name in names:
        sh('docker', 'run', '-d', '--name', name, '--hostname', name, '--network', NET_CLIENT,
           'glancestore-lab-glance:' + TAG)
        sh('docker', 'network', 'connect', NET_STORAGE, name)  # the bench needs the direct path too
        sh('docker', 'cp', os.path.join(ROOT, 'roles', 'glance_s3_proxy', 'files', WHEEL), '%s:/tmp/%s' % (name, WHEEL))
        dexec(name, '/opt/glance/bin/pip', 'install', '-q', '--no-index', '--no-deps', '/tmp/' + WHEEL)
        with tempfile.NamedTemporaryFile('w', delete=False) as f:
            f.write(GLANCE_CONF)
        sh('docker', 'cp', f.name, '%s:/etc/glance/glance-api.conf' % name)
        os.unlink(f.name)
        dexec(name, 'sh', '-c', 'chown root:glance /etc/glance/glance-api.conf && chmod 0640 /etc/glance/glance-api.conf'
              ' && glance-api-ctl start')
    create_bucket = ("import time, boto3\nfrom botocore.config import Config\n"
                     "s3 = boto3.client('s3', endpoint_url='http://s3:8333', region_name='us-east-1',"
                     " aws_access_key_id='%s', aws_secret_access_key='%s', config=Config(s3={'addressing_style': 'path'}))\n"
                     "for i in range(60):\n    try:\n        s3.create_bucket(Bucket='glance'); break\n"
                     "    except Exception as e:\n        if 'BucketAlready' in str(e): break\n        time.sleep(0.5)\n"
                     % (AK, SK))
    dexec(names[0], '/opt/glance/bin/python', '-c', create_bucket)
    for name in names:
        dexec(name, 'sh', '-c', 'for i in $(seq 60); do /opt/glance/bin/python -c "import urllib.request as u;'
              ' u.urlopen(\'http://127.0.0.1:9292/healthcheck\')" 2>/dev/null && exit 0; sleep 1; done; exit 1')
    return names


def teardown():
    names = sh('docker', 'ps', '-a', '--format', '{{.Names}}').split()
    for name in names:
        if name.startswith('bench-'):
            sh('docker', 'rm', '-f', name, check=False)
    for net in (NET_CLIENT, NET_STORAGE):
        sh('docker', 'network', 'rm', net, check=False)


def median(values):
    return statistics.median(values) if values else None


def module_probe_times(glance, reps):
    """The module's own timings (inside the module) and the whole Ansible run, vs bare boto3."""
    inventory = {'all': {'hosts': {glance: {'ansible_connection': 'community.docker.docker',
                                            'ansible_python_interpreter': '/opt/glance/bin/python'}}}}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.cache', 'collections'),
               ANSIBLE_HOME=os.path.join(ROOT, '.cache', 'ansible-home'), ANSIBLE_NOCOLOR='1')
    out = {}
    with tempfile.TemporaryDirectory() as d:
        inv = os.path.join(d, 'inv.json')
        with open(inv, 'w') as f:
            json.dump(inventory, f)
        for probe in ('read', 'write'):
            module_ms, ansible_ms, bare_ms = [], [], []
            for _rep in range(reps):
                args = json.dumps({'glance_config': '/etc/glance/glance-api.conf', 'glance_backend': 'forward',
                                   'probe': probe})
                t0 = time.monotonic()
                res = sh(os.path.join(TOOLS, 'ansible'), '-i', inv, glance, '-m', 'glancestore.s3proxy.s3_proxy_check',
                         '-a', args, '-o', env=env)
                ansible_ms.append((time.monotonic() - t0) * 1000.0)
                result = json.loads(res.split('=>', 1)[1])
                module_ms.append(result['timings_ms']['total'])
                bare = json.loads(dexec(glance, '/opt/glance/bin/python', '-c', BARE, probe, PASSWORD, AK, SK, USER,
                                        str(PROXY_PORT)))
                bare_ms.append(bare['ms'])
            out[probe] = {'module_ms': round(median(module_ms), 1), 'bare_boto3_ms': round(median(bare_ms), 1),
                          'ratio': round(median(module_ms) / median(bare_ms), 2),
                          'ansible_run_ms': round(median(ansible_ms), 1)}
    return out


def converge_times(names):
    """The role's idempotent run (an already configured host), for 1 and for all hosts."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.cache', 'collections'),
               ANSIBLE_HOME=os.path.join(ROOT, '.cache', 'ansible-home'), ANSIBLE_NOCOLOR='1')
    stores = []
    for name, endpoint, proxied in (('direct', 'http://s3:8333', False), ('forward', 'http://s3:8333', True),
                                    ('tunnel', 'https://s3:8443', True), ('direct_tls', 'https://s3:8443', False)):
        stores.append({'name': name, 'endpoint': endpoint, 'bucket': 'glance', 'access_key': AK, 'secret_key': SK,
                       'bucket_url_format': 'path', 'large_object_size': 32, 'large_object_chunk_size': 16,
                       'max_retries': 3, 'cacert': '/etc/glance/lab-s3-ca.crt', 'default': name == 'direct',
                       'proxy': {'enabled': proxied}})
    variables = {'glance_s3_proxy_stores': stores, 'glance_s3_proxy_python': '/opt/glance/bin/python',
                 'glance_s3_proxy_proxy': {'enabled': True, 'host': 'proxy', 'port': PROXY_PORT, 'user': USER,
                                           'password': PASSWORD},
                 'glance_s3_proxy_restart_method': 'command', 'glance_s3_proxy_restart_command': 'glance-api-ctl restart',
                 'glance_s3_proxy_pidfile': '/run/glance-api.pid',
                 'glance_s3_proxy_preflight_probe': 'read', 'glance_s3_proxy_verify_probe': 'read',
                 'glance_s3_proxy_become': False, 'glance_s3_proxy_serial': 5}
    inventory = {'glance_api': {'hosts': dict((n, {'ansible_connection': 'community.docker.docker',
                                                   'ansible_python_interpreter': '/usr/bin/python3'}) for n in names)}}
    out = {}
    with tempfile.TemporaryDirectory() as d:
        inv, var = os.path.join(d, 'inv.json'), os.path.join(d, 'vars.json')
        with open(inv, 'w') as f:
            json.dump(inventory, f)
        with open(var, 'w') as f:
            json.dump(variables, f)
        cmd = [os.path.join(TOOLS, 'ansible-playbook'), '-i', inv, '-e', '@' + var, 'glancestore.s3proxy.deploy']
        sh(*cmd, env=env)  # the first run configures every host
        for hosts in (names[:1], names):
            runs = []
            for _run in range(2):
                t0 = time.monotonic()
                log = sh(*(cmd + ['--limit', ','.join(hosts)]), env=env)
                runs.append(time.monotonic() - t0)
                assert 'changed=0' in log.split('PLAY RECAP')[-1], log[-2000:]
            out['%d host%s' % (len(hosts), '' if len(hosts) == 1 else 's')] = round(median(runs), 1)
    return out


def chart(summary, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    width = 0.2
    for ax, direction in zip(axes, ('upload', 'download')):
        for i, store in enumerate(STORES):
            values = [summary[str(size)][store][direction + '_mib_s'] for size in SIZES_MIB]
            ax.bar([x + (i - 1.5) * width for x in range(len(SIZES_MIB))], values, width, label=store)
        ax.set_xticks(range(len(SIZES_MIB)))
        ax.set_xticklabels(['%d MiB' % s for s in SIZES_MIB])
        ax.set_title('%s through the Glance API (median MiB/s)' % direction)
        ax.grid(axis='y', alpha=0.3)
    axes[0].set_ylabel('MiB/s')
    axes[1].legend(loc='lower right')
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    start = time.monotonic()
    teardown()
    say('bench: starting 4 glance-api containers, Squid and the S3 server (images %s, %s)' % (TAG, S3_IMAGE))
    names = setup(4)
    s3_server = dexec('bench-s3', 'cat', '/etc/lab-s3-server').split(' from ')[0].strip()
    glance = names[0]
    try:
        say('bench: transfers, %s MiB x %d repetitions, interleaved over %s' % (SIZES_MIB, REPS, ', '.join(STORES)))
        raw = json.loads(dexec(glance, '/opt/glance/bin/python', '-c', TRANSFER, json.dumps(ADMIN), ','.join(STORES),
                               ','.join(str(s) for s in SIZES_MIB), str(REPS)))
        summary = {}
        for size in SIZES_MIB:
            summary[str(size)] = {}
            for store in STORES:
                rows = [r for r in raw if r['store'] == store and r['size_mib'] == size]
                summary[str(size)][store] = {
                    'upload_mib_s': round(size / median([r['upload_s'] for r in rows]), 1),
                    'download_mib_s': round(size / median([r['download_s'] for r in rows]), 1),
                }
            for store, twin in TWINS.items():
                s, t = summary[str(size)][store], summary[str(size)][twin]
                s['upload_ratio'] = round(s['upload_mib_s'] / t['upload_mib_s'], 2)
                s['download_ratio'] = round(s['download_mib_s'] / t['download_mib_s'], 2)
        big = str(max(SIZES_MIB))
        say('bench: peak RSS of glance-api workers during a %s MiB upload' % big)
        rss = {}
        for store in ('direct', 'forward', 'direct', 'forward'):
            dexec(glance, 'glance-api-ctl', 'restart')
            dexec(glance, 'sh', '-c', 'for i in $(seq 60); do /opt/glance/bin/python -c "import urllib.request as u;'
                  ' u.urlopen(\'http://127.0.0.1:9292/healthcheck\')" 2>/dev/null && exit 0; sleep 1; done; exit 1')
            got = json.loads(dexec(glance, '/opt/glance/bin/python', '-c', RSS, json.dumps(ADMIN), store, big))
            rss.setdefault(store, []).append(got['peak_rss_mib'])
        rss = dict((k, max(v)) for k, v in rss.items())
        rss['ratio'] = round(rss['forward'] / rss['direct'], 3)
        say('bench: s3_proxy_check probes against bare boto3')
        probes = module_probe_times(glance, 5)
        say('bench: role converge, idempotent run, 1 and 4 hosts')
        converge = converge_times(names)
    finally:
        teardown()
    versions = {
        'glance': '33.0.0', 'glance_store': '5.7.0', 'boto3': '1.44.8', 'squid': '5.7 (Debian 12)',
        's3 server': s3_server, 'glance-store-s3proxy': constants.VERSION,
        'ansible-core': sh(os.path.join(TOOLS, 'ansible'), '--version').splitlines()[0].split('core ')[-1].strip(' ]'),
    }
    report = {
        'date': datetime.date.today().isoformat(),
        'machine': '%s, %s, %d cores, %.0f GiB' % (
            platform.platform(), platform.machine(), os.cpu_count(),
            os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30),
        'versions': versions, 'sizes_mib': SIZES_MIB, 'repetitions': REPS, 'raw': raw, 'summary': summary,
        'peak_rss_mib': rss, 'probes': probes, 'converge_s': converge,
        'seconds': round(time.monotonic() - start),
    }
    write_report(report)
    return 0


def goal(ok):
    return 'met' if ok else '**not met**'


def write_report(r):
    docs = os.path.join(ROOT, 'docs')
    with open(os.path.join(docs, 'benchmarks.json'), 'w') as f:
        json.dump(r, f, indent=1, sort_keys=True)
    chart(r['summary'], os.path.join(docs, 'benchmarks.png'))
    big = str(max(r['sizes_mib']))
    s = r['summary'][big]
    lines = ['# Benchmarks', '',
             'Generated by `make bench` on %s, in %d s. Machine: %s.' % (r['date'], r['seconds'], r['machine']), '',
             'Versions: %s.' % ', '.join('%s %s' % kv for kv in sorted(r['versions'].items())), '',
             'One glance-api (uwsgi, 2 workers) with four S3 stores on the same S3 server (%s) and bucket:'
             ' `direct` (http, no proxy), `forward` (http through Squid), `tunnel` (https through Squid CONNECT)'
             ' and `direct_tls` (https, no proxy). Images have a Content-Length, so they go multipart'
             ' (16 MiB parts, 10 threads). Runs are interleaved (A B C D A B C D ...); medians of %d runs.'
             ' Squid, the S3 server, Glance and the client share the same cores, so the proxy\'s extra copy'
             ' competes with everything else.' % (r['versions']['s3 server'], r['repetitions']), '',
             '![throughput per store and size](benchmarks.png)', '',
             '| size | store | upload MiB/s | download MiB/s | upload ratio | download ratio |',
             '|---|---|---|---|---|---|']
    for size in r['sizes_mib']:
        for store in STORES:
            v = r['summary'][str(size)][store]
            lines.append('| %d MiB | %s | %.1f | %.1f | %s | %s |' % (
                size, store, v['upload_mib_s'], v['download_mib_s'],
                ('%.2f vs %s' % (v['upload_ratio'], TWINS[store])) if store in TWINS else '',
                ('%.2f vs %s' % (v['download_ratio'], TWINS[store])) if store in TWINS else ''))
    p = r['probes']
    lines += ['', '| s3_proxy_check probe (forward store) | inside the module | bare boto3 | ratio | whole Ansible run |',
              '|---|---|---|---|---|']
    for probe in ('read', 'write'):
        lines.append('| %s | %.1f ms | %.1f ms | %.2f | %.0f ms |' % (
            probe, p[probe]['module_ms'], p[probe]['bare_boto3_ms'], p[probe]['ratio'], p[probe]['ansible_run_ms']))
    lines += ['', 'Peak RSS of a glance-api worker during a %s MiB upload: direct %.1f MiB, forward %.1f MiB'
              ' (ratio %.3f).' % (big, r['peak_rss_mib']['direct'], r['peak_rss_mib']['forward'],
                                  r['peak_rss_mib']['ratio']), '',
              'Role converge on already configured hosts (the idempotent run, docker exec connection): %s.'
              % ', '.join('%s %.1f s' % kv for kv in sorted(r['converge_s'].items())), '',
              '## Goals', '',
              '| goal | measured | |', '|---|---|---|',
              '| forward / direct, %s MiB upload >= 0.90 | %.2f | %s |' % (
                  big, s['forward']['upload_ratio'], goal(s['forward']['upload_ratio'] >= 0.9)),
              '| forward / direct, %s MiB download >= 0.90 | %.2f | %s |' % (
                  big, s['forward']['download_ratio'], goal(s['forward']['download_ratio'] >= 0.9)),
              '| tunnel / direct_tls, %s MiB upload >= 0.85 | %.2f | %s |' % (
                  big, s['tunnel']['upload_ratio'], goal(s['tunnel']['upload_ratio'] >= 0.85)),
              '| tunnel / direct_tls, %s MiB download >= 0.85 | %.2f | %s |' % (
                  big, s['tunnel']['download_ratio'], goal(s['tunnel']['download_ratio'] >= 0.85)),
              '| peak RSS proxied / direct <= 1.10 | %.3f | %s |' % (r['peak_rss_mib']['ratio'],
                                                                     goal(r['peak_rss_mib']['ratio'] <= 1.10)),
              '| module read probe / bare boto3 <= 1.5 | %.2f | %s |' % (p['read']['ratio'], goal(p['read']['ratio'] <= 1.5)),
              '| module write probe / bare boto3 <= 1.5 | %.2f | %s |' % (p['write']['ratio'],
                                                                          goal(p['write']['ratio'] <= 1.5)),
              '']
    baseline_path = os.environ.get('BENCH_BASELINE')
    if baseline_path and os.path.exists(baseline_path):
        with open(baseline_path) as f:
            base = json.load(f)
        label = os.environ.get('BENCH_BASELINE_LABEL', 'before')
        change = os.environ.get('BENCH_CHANGE', 'this run')
        lines += ['## Before and after: %s' % change, '',
                  'Before: %s (%s, raw numbers in [%s](%s)). After: this run.' % (
                      label, base['date'], os.path.basename(baseline_path), os.path.basename(baseline_path)), '',
                  '| %s MiB | store | upload before | upload after | download before | download after |' % big,
                  '|---|---|---|---|---|---|']
        for store in STORES:
            b, a = base['summary'][big][store], s[store]
            lines.append('| %s | %s | %s | %s | %s | %s |' % (
                'ratio to twin' if store in TWINS else 'MiB/s', store, b.get('upload_ratio', '%.1f MiB/s' % b['upload_mib_s']),
                a.get('upload_ratio', '%.1f MiB/s' % a['upload_mib_s']),
                b.get('download_ratio', '%.1f MiB/s' % b['download_mib_s']),
                a.get('download_ratio', '%.1f MiB/s' % a['download_mib_s'])))
        lines.append('')
    if os.path.exists(os.path.join(docs, 'benchmarks-analysis.md')):
        lines += ['Why the goals that are missed are missed, and what was tried: '
                  '[benchmarks-analysis.md](benchmarks-analysis.md).', '']
    lines += ['Raw numbers: [benchmarks.json](benchmarks.json).', '']
    with open(os.path.join(docs, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    sys.exit(main())
