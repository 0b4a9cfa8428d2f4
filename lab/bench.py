"""make bench: what the proxy costs Glance, against the proxy's own limit and against the peer, measured side by side.

Containers (the lab's images), on two networks: ``client`` (Glance, Squid) and ``storage`` (internal: S3, Squid):

* ``bench-glance-1``, "ours": glance-api with the extension and four S3 stores on one S3 server and bucket:
  ``direct`` (http, no proxy), ``forward`` (http through Squid), ``tunnel`` (https through Squid CONNECT),
  ``direct_tls`` (https, no proxy). It is on the storage network too, so the direct stores can reach S3.
* ``bench-peer``: the same glance-api with no extension, behind ``HTTP_PROXY``/``HTTPS_PROXY`` (what
  kolla-style deployments do today), with the stores ``forward`` and ``tunnel``. It is on the client network
  only: it reaches S3 through Squid or not at all.
* the limit: a bare boto3 client in ``bench-glance-1`` making glance_store's requests through the same Squid
  (lab/bench_scripts.py LIMIT).
* ``bench-proxy`` (Squid, restarted with each configuration under test) and ``bench-s3``.

Phases (BENCH_PHASES, default all): ``transfers`` (every variant interleaved, BENCH_REPS repetitions at each of
BENCH_SIZES_MIB), ``tuning`` (Squid settings and the Glance store's settings, one at a time, each against the
baseline in the same run, then the best combination), ``rss``, ``probes`` and ``converge`` (the role on 1, 4 and
8 hosts). Each phase writes build/bench/PHASE.json; the report (docs/benchmarks.md, .json, .png) is written from
those, so a phase can be run again alone.
"""

import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))
sys.path.insert(0, os.path.join(ROOT, 'lab'))
from lab import constants  # noqa: E402  tests/lab/constants.py: lab/constants.yml and the extension's version
import bench_scripts  # noqa: E402

TOOLS = os.path.join(ROOT, '.cache', 'venv-tools', 'bin')
OUT = os.path.join(ROOT, 'build', 'bench')
TAG = os.environ.get('LAB_IMAGE_TAG', '')
S3_IMAGE = os.environ.get('LAB_S3_IMAGE', '')
SQUID6_IMAGE = os.environ.get('BENCH_SQUID6_IMAGE', '')
SIZES_MIB = [int(s) for s in os.environ.get('BENCH_SIZES_MIB', '256 1024').split()]
REPS = int(os.environ.get('BENCH_REPS', '5'))
TUNE_MIB = int(os.environ.get('BENCH_TUNE_MIB', '512'))
TUNE_REPS = int(os.environ.get('BENCH_TUNE_REPS', '3'))
CONVERGE_HOSTS = [int(n) for n in os.environ.get('BENCH_CONVERGE_HOSTS', '1 4 8').split()]
PHASES = os.environ.get('BENCH_PHASES', 'transfers tuning rss probes converge').split()
USER, PASSWORD = constants.USER, constants.PASSWORD
AK, SK = constants.ACCESS_KEY, constants.SECRET_KEY
PROXY_PORT = constants.DOCKER['squid_port']
PROXY_URL = 'http://%s:%s@proxy:%d' % (quote(USER, safe=''), quote(PASSWORD, safe=''), PROXY_PORT)
NET_CLIENT, NET_STORAGE = 'gs3p-bench-client', 'gs3p-bench-storage'
OURS, PEER, PROXY = 'bench-glance-1', 'bench-peer', 'bench-proxy'
PY = '/opt/glance/bin/python'
CACERT = '/etc/glance/lab-s3-ca.crt'
ADMIN = json.dumps({'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member,reader',
                    'X-Project-Id': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1'})
WHEEL = constants.WHEEL
PART_MIB, THREADS = 16, 10  # the stores' s3_store_large_object_chunk_size and s3_store_thread_pools
ENDPOINTS = {'forward': 'http://s3:8333', 'tunnel': 'https://s3:8443',
             'direct': 'http://s3:8333', 'direct_tls': 'https://s3:8443'}
REFERENCE = {'forward': 'direct', 'tunnel': 'direct_tls'}  # the direct twin of each proxied path
SQUID_CONF = os.path.join(ROOT, 'lab', 'images', 'squid.conf')
CLK_TCK = os.sysconf('SC_CLK_TCK')

# Squid settings tried one at a time against the lab's squid.conf (the baseline): directive -> value, or a
# whole-image change. Each is measured against the baseline in the same run.
SQUID_TRIALS = [
    ('read_ahead_gap 16 KB (Squid default)', {'read_ahead_gap': '16 KB'}),
    ('read_ahead_gap 64 MB', {'read_ahead_gap': '64 MB'}),
    ('cache_mem 0 MB, memory_pools off', {'cache_mem': '0 MB', 'memory_pools': 'off'}),
    ('persistent connections off', {'client_persistent_connections': 'off', 'server_persistent_connections': 'off'}),
    ('tcp_recv_bufsize 4 MB', {'tcp_recv_bufsize': '4 MB'}),
    ('workers 2', {'workers': '2'}),
    ('Squid 6.13 (Debian 13)', {'@image': 'squid6'}),
]
# The Glance store's settings tried, as extra stores of "ours" (upload only: they change nothing on a download).
GLANCE_TRIALS = [
    ('s3_store_large_object_chunk_size 64', {'large_object_chunk_size': 64}),
    ('s3_store_thread_pools 20', {'thread_pools': 20}),
    ('s3_store_thread_pools 4', {'thread_pools': 4}),
]


def sh(*cmd, check=True, **kw):
    proc = subprocess.run(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False, **kw)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (exit %d): %s\n%s' % (
            ' '.join(cmd[:4]), proc.returncode, proc.stdout[-3000:], proc.stderr[-1500:]))
    return proc.stdout


def dexec(container, *args, check=True, env=None):
    extra = []
    for k, v in (env or {}).items():
        extra += ['-e', '%s=%s' % (k, v)]
    return sh('docker', 'exec', *extra, container, *args, check=check)


def jexec(container, *args):
    return json.loads(dexec(container, *args).strip().splitlines()[-1])


def say(msg):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


# --- statistics ------------------------------------------------------------------------------------------------


def busy_cpu_seconds():
    """CPU-seconds the whole machine spent busy since boot (every process: Ansible, the containers, Docker)."""
    with open('/proc/stat') as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf('SC_CLK_TCK')


def children_cpu_seconds():
    """CPU-seconds of this process's finished children: ansible-playbook, its forks and the docker CLI calls it
    makes (the controller's share; not the containers' modules, nor Docker's daemons)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {'min': round(min(values), 3), 'median': round(statistics.median(values), 3), 'max': round(max(values), 3),
            'n': len(values)}


def verdict(stats, threshold, higher_is_better=True):
    """Met or not met on the median; 'too wide to judge' when min and max fall on both sides of the goal."""
    if stats is None:
        return 'not measured', ''
    ok = stats['median'] >= threshold if higher_is_better else stats['median'] <= threshold
    straddles = stats['min'] < threshold < stats['max']
    return ('met' if ok else '**not met**'), ('too wide to judge' if straddles else 'clear')


# --- configuration ----------------------------------------------------------------------------------------------


def store_section(name, endpoint, proxied, chunk=PART_MIB, pools=THREADS):
    text = ('\n[{n}]\ns3_store_host = {ep}\ns3_store_bucket = glance\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_large_object_size = 32\n'
            's3_store_large_object_chunk_size = {c}\ns3_store_thread_pools = {p}\n'
            's3_store_cacert = {ca}\ns3_store_max_retries = 3\n').format(
        n=name, ep=endpoint, ak=AK, sk=SK, c=chunk, p=pools, ca=CACERT)
    if proxied:
        text += ('s3_store_enable_proxy = true\ns3_store_proxy_host = proxy\ns3_store_proxy_port = %d\n'
                 's3_store_proxy_user = %s\ns3_store_proxy_password = %s\n' % (PROXY_PORT, USER, PASSWORD))
    return text


def trial_store(path, index):
    return '%s_t%d' % (path, index)


def glance_conf(stores):
    head = ('[DEFAULT]\nenabled_backends = %s\n[database]\nconnection = sqlite:////var/lib/glance/glance.sqlite\n'
            '[glance_store]\ndefault_backend = %s\n[os_glance_staging_store]\n'
            'filesystem_store_datadir = /var/lib/glance/staging\n[os_glance_tasks_store]\n'
            'filesystem_store_datadir = /var/lib/glance/tasks\n[oslo_policy]\nenforce_new_defaults = false\n'
            'enforce_scope = false\n') % (', '.join('%s:s3' % s[0] for s in stores), stores[0][0])
    return head + ''.join(store_section(*s) for s in stores)


def ours_stores():
    stores = [('direct', ENDPOINTS['direct'], False), ('forward', ENDPOINTS['forward'], True),
              ('tunnel', ENDPOINTS['tunnel'], True), ('direct_tls', ENDPOINTS['direct_tls'], False)]
    for i, (_label, change) in enumerate(GLANCE_TRIALS):
        for path in ('forward', 'tunnel'):
            stores.append((trial_store(path, i), ENDPOINTS[path], True, change.get('large_object_chunk_size', PART_MIB),
                           change.get('thread_pools', THREADS)))
    return stores


# The peer: no extension, no s3_store_*proxy* options; the whole process behind HTTP_PROXY/HTTPS_PROXY.
PEER_STORES = [('forward', ENDPOINTS['forward'], False), ('tunnel', ENDPOINTS['tunnel'], False)]
PEER_ENV = {'HTTP_PROXY': PROXY_URL, 'HTTPS_PROXY': PROXY_URL, 'NO_PROXY': 'localhost,127.0.0.1'}


def squid_conf(change):
    lines = open(SQUID_CONF).read().splitlines()
    change = dict((k, v) for k, v in change.items() if not k.startswith('@'))
    out = []
    for line in lines:
        word = line.split(' ', 1)[0]
        if word in change:
            out.append('%s %s' % (word, change.pop(word)))
        else:
            out.append(line)
    out += ['%s %s' % kv for kv in change.items()]
    return '\n'.join(out) + '\n'


# --- containers -------------------------------------------------------------------------------------------------


def put_file(container, text, path, mode='0640', owner='root:glance'):
    with tempfile.NamedTemporaryFile('w', delete=False) as f:
        f.write(text)
    try:
        sh('docker', 'cp', f.name, '%s:%s' % (container, path))
    finally:
        os.unlink(f.name)
    dexec(container, 'sh', '-c', 'chown %s %s && chmod %s %s' % (owner, path, mode, path))


def wait_healthy(container):
    dexec(container, 'sh', '-c', 'for i in $(seq 90); do %s -c "import urllib.request as u;'
          ' u.urlopen(\'http://127.0.0.1:9292/healthcheck\')" 2>/dev/null && exit 0; sleep 1; done; exit 1' % PY)


def start_glance(name, stores, with_extension=True, env=None, storage=True):
    # SYS_PTRACE: the role's live check reads /proc/PID/exe of glance-api's processes, as a host's root can.
    sh('docker', 'run', '-d', '--name', name, '--hostname', name, '--network', NET_CLIENT, '--cap-add', 'SYS_PTRACE',
       'glancestore-lab-glance:' + TAG)
    if storage:
        sh('docker', 'network', 'connect', NET_STORAGE, name)
    if with_extension:
        sh('docker', 'cp', os.path.join(ROOT, 'roles', 'glance_s3_proxy', 'files', WHEEL), '%s:/tmp/%s' % (name, WHEEL))
        dexec(name, '/opt/glance/bin/pip', 'install', '-q', '--no-index', '--no-deps', '/tmp/' + WHEEL)
    put_file(name, glance_conf(stores), '/etc/glance/glance-api.conf')
    dexec(name, 'glance-api-ctl', 'start', env=env)


def proxy_start(image, conf):
    """(Re)create the proxy container from ``image`` and start Squid in it with ``conf`` (daemon mode: SMP works)."""
    sh('docker', 'rm', '-f', PROXY, check=False)
    sh('docker', 'run', '-d', '--name', PROXY, '--hostname', 'proxy', '--network', NET_CLIENT, '--network-alias', 'proxy',
       '--shm-size', '1g', image, 'sleep', 'infinity')
    sh('docker', 'network', 'connect', '--alias', 'proxy', NET_STORAGE, PROXY)
    put_file(PROXY, HTPASSWD['text'], '/etc/squid/htpasswd', mode='0640', owner='root:proxy')
    put_file(PROXY, conf, '/etc/squid/bench.conf', mode='0644', owner='root:root')
    dexec(PROXY, 'sh', '-c', 'mkdir -p /run/squid /var/log/squid && chown proxy /run/squid /var/log/squid'
          ' && squid -f /etc/squid/bench.conf')
    dexec(OURS, PY, '-c', bench_scripts.WAIT_PORT, 'proxy', str(PROXY_PORT), '30')
    time.sleep(0.5)
    if 'squid' not in dexec(PROXY, 'ps', '-eo', 'comm'):
        raise RuntimeError('Squid did not start: %s' % dexec(PROXY, 'sh', '-c', 'tail -n 20 /var/log/squid/cache.log',
                                                             check=False))


HTPASSWD = {'text': ''}
IMAGES = {}


def squid_cpu():
    """CPU seconds of every process in the proxy container (Squid, its kids and auth helpers), from /proc."""
    out = dexec(PROXY, 'sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null', check=False)
    total = 0
    for stat in out.splitlines():
        if '(' not in stat:
            continue
        comm, rest = stat[stat.index('(') + 1:stat.rindex(')')], stat[stat.rindex(')') + 2:].split()
        if comm in ('sh', 'cat', 'sleep'):
            continue
        total += int(rest[11]) + int(rest[12])
    return total / float(CLK_TCK)


def setup():
    for net, internal in ((NET_CLIENT, False), (NET_STORAGE, True)):
        sh('docker', 'network', 'create', *(['--internal'] if internal else []), net, check=False)
    sh('docker', 'run', '-d', '--name', 'bench-s3', '--hostname', 's3', '--network', NET_STORAGE,
       '--network-alias', 's3', S3_IMAGE)
    IMAGES['lab'] = 'glancestore-lab-proxy:' + TAG
    if SQUID6_IMAGE:
        IMAGES['squid6'] = SQUID6_IMAGE
    # The lab proxy image's password file, for every proxy image tried.
    import io  # pylint: disable=import-outside-toplevel
    import tarfile  # pylint: disable=import-outside-toplevel
    raw = subprocess.run(['docker', 'create', IMAGES['lab']], stdout=subprocess.PIPE, check=True,
                         universal_newlines=True).stdout.strip()
    tar = subprocess.run(['docker', 'cp', '%s:/etc/squid/htpasswd' % raw, '-'], stdout=subprocess.PIPE, check=True).stdout
    sh('docker', 'rm', raw)
    with tarfile.open(fileobj=io.BytesIO(tar)) as t:
        HTPASSWD['text'] = t.extractfile('htpasswd').read().decode()
    with open(os.path.join(OUT, 's3-server'), 'w') as f:
        f.write(sh('docker', 'exec', 'bench-s3', 'cat', '/etc/lab-s3-server').split(' from ')[0].strip())
    start_glance(OURS, ours_stores())
    start_glance(PEER, PEER_STORES, with_extension=False, env=PEER_ENV, storage=False)
    proxy_start(IMAGES['lab'], squid_conf({}))
    create_bucket = ("import time, boto3\nfrom botocore.config import Config\n"
                     "s3 = boto3.client('s3', endpoint_url='http://s3:8333', region_name='us-east-1',"
                     " aws_access_key_id='%s', aws_secret_access_key='%s', config=Config(s3={'addressing_style': 'path'}))\n"
                     "for i in range(60):\n    try:\n        s3.create_bucket(Bucket='glance'); break\n"
                     "    except Exception as e:\n        if 'BucketAlready' in str(e): break\n        time.sleep(0.5)\n"
                     % (AK, SK))
    dexec(OURS, PY, '-c', create_bucket)
    for name in (OURS, PEER):
        wait_healthy(name)
    # The peer goes through Squid or nowhere: it has no route to S3, and no extension.
    assert 'glance-store-s3proxy' not in dexec(PEER, '/opt/glance/bin/pip', 'list')
    assert dexec(PEER, PY, '-c', 'import socket; socket.create_connection(("s3", 8333), 2)', check=False) == ''


def teardown():
    names = sh('docker', 'ps', '-a', '--format', '{{.Names}}').split()
    for name in names:
        if name.startswith('bench-'):
            sh('docker', 'rm', '-f', name, check=False)
    for net in (NET_CLIENT, NET_STORAGE):
        sh('docker', 'network', 'rm', net, check=False)


# --- transfers --------------------------------------------------------------------------------------------------


def transfer(kind, store, size, download=True):
    """One upload and (unless download is False) one download of ``size`` MiB; times and CPU seconds.

    kind: ``ours`` (bench-glance-1's store), ``peer`` (bench-peer's store) or ``limit`` (bare boto3 through
    Squid to the store's endpoint)."""
    row = {'kind': kind, 'store': store, 'size_mib': size}
    s0 = squid_cpu()
    if kind == 'limit':
        key = 'limit/%d-%s' % (size, os.urandom(6).hex())
        args = [ENDPOINTS[store], key, str(size), PROXY_URL, CACERT, str(PART_MIB), str(THREADS), AK, SK]
        up = jexec(OURS, PY, '-c', bench_scripts.LIMIT, 'up', *args)
    else:
        up = jexec(PEER if kind == 'peer' else OURS, PY, '-c', bench_scripts.GLANCE, 'up', ADMIN, store, str(size))
    s1 = squid_cpu()
    row.update(upload_s=up['seconds'], upload_glance_cpu=up.get('glance_cpu'), upload_squid_cpu=s1 - s0)
    if kind == 'limit':
        down = jexec(OURS, PY, '-c', bench_scripts.LIMIT, 'down', *args) if download else {}
    else:
        down = jexec(PEER if kind == 'peer' else OURS, PY, '-c', bench_scripts.GLANCE, 'down', ADMIN, up['image'],
                     str(size), *([] if download else ['delete-only']))
    s2 = squid_cpu()
    if download:
        row.update(download_s=down['seconds'], download_glance_cpu=down.get('glance_cpu'), download_squid_cpu=s2 - s1)
    return row


VARIANTS = [('ours', 'direct'), ('ours', 'forward'), ('peer', 'forward'), ('limit', 'forward'),
            ('ours', 'direct_tls'), ('ours', 'tunnel'), ('peer', 'tunnel'), ('limit', 'tunnel')]


def phase_transfers():
    rows = []
    for size in SIZES_MIB:
        for kind, store in VARIANTS:  # warm-up: the image files, the first connections; not counted
            if size == SIZES_MIB[0]:
                transfer(kind, store, 64)
        for rep in range(REPS):
            order = VARIANTS if rep % 2 == 0 else list(reversed(VARIANTS))  # interleaved, ABBA against drift
            for kind, store in order:
                row = transfer(kind, store, size)
                row['rep'] = rep
                rows.append(row)
                say('%4d MiB rep %d %-5s %-10s up %6.1f MiB/s down %6.1f MiB/s' % (
                    size, rep, kind, store, size / row['upload_s'], size / row['download_s']))
    return {'rows': rows}


def summarize_transfers(rows):
    """Per size: every variant's rates and CPU per GiB (min/median/max), and the per-repetition ratios."""
    out = {}
    for size in sorted({r['size_mib'] for r in rows}):
        at = [r for r in rows if r['size_mib'] == size]
        reps = sorted({r['rep'] for r in at})

        def get(kind, store, rep, _at=at):
            return next((r for r in _at if r['kind'] == kind and r['store'] == store and r['rep'] == rep), None)

        variants = {}
        for kind, store in VARIANTS:
            mine = [get(kind, store, rep) for rep in reps]
            mine = [r for r in mine if r]
            v = {}
            for d in ('upload', 'download'):
                v[d + '_mib_s'] = spread([size / r[d + '_s'] for r in mine])
                v[d + '_squid_cpu_s_per_gib'] = spread([r[d + '_squid_cpu'] * 1024.0 / size for r in mine])
                if kind != 'limit':
                    v[d + '_glance_cpu_s_per_gib'] = spread([r[d + '_glance_cpu'] * 1024.0 / size for r in mine])
                # Squid's CPU use during the transfer, in cores: 1.0 is one core busy the whole time.
                v[d + '_squid_cores'] = spread([r[d + '_squid_cpu'] / r[d + '_s'] for r in mine])
            variants['%s/%s' % (kind, store)] = v
        ratios = {}
        for path in ('forward', 'tunnel'):
            for d in ('upload', 'download'):
                def ratio(a, b, key='_s', d=d, path=path):
                    vals = []
                    for rep in reps:
                        ra, rb = get(*a, rep), get(*b, rep)
                        if ra and rb:
                            vals.append(rb[d + key] / ra[d + key] if key == '_s' else ra[d + key] / rb[d + key])
                    return spread(vals)
                ratios['%s %s ours/direct' % (path, d)] = ratio(('ours', path), ('ours', REFERENCE[path]))
                ratios['%s %s ours/peer' % (path, d)] = ratio(('ours', path), ('peer', path))
                ratios['%s %s ours/limit' % (path, d)] = ratio(('ours', path), ('limit', path))
                ratios['%s %s glance cpu proxied/direct' % (path, d)] = ratio(
                    ('ours', path), ('ours', REFERENCE[path]), key='_glance_cpu')
        out[str(size)] = {'variants': variants, 'ratios': ratios}
    return out


# --- tuning -----------------------------------------------------------------------------------------------------


def _pair_rows(size, download=True):
    rows = []
    for path in ('forward', 'tunnel'):
        rows.append(transfer('ours', path, size, download=download))
    return rows


def _gains(base_rows, trial_rows):
    """Per metric (path, direction): the trial's rate over the baseline's, per repetition."""
    gains = {}
    for path in ('forward', 'tunnel'):
        for d in ('upload', 'download'):
            vals = []
            for b, t in zip(base_rows, trial_rows):
                rb = next((r for r in b if r['store'] == path), None)
                rt = next((r for r in t if r['store'] == path), None)
                if rb and rt and (d + '_s') in rb and (d + '_s') in rt:
                    vals.append(rb[d + '_s'] / rt[d + '_s'])
            gains['%s %s' % (path, d)] = spread(vals)
    return gains


def _squid_trial(label, change):
    image = IMAGES.get(change.get('@image', 'lab'))
    if not image:
        return {'label': label, 'change': change, 'error': 'image not available (BENCH_SQUID6_IMAGE unset)'}
    base_rows, trial_rows, cores = [], [], {'base': [], 'trial': []}
    try:
        for rep in range(TUNE_REPS):
            order = ('base', 'trial') if rep % 2 == 0 else ('trial', 'base')
            for which in order:
                if which == 'base':
                    proxy_start(IMAGES['lab'], squid_conf({}))
                else:
                    proxy_start(image, squid_conf(change))
                rows = _pair_rows(TUNE_MIB)
                (base_rows if which == 'base' else trial_rows).append(rows)
                cores[which] += [r['download_squid_cpu'] / r['download_s'] for r in rows if r['store'] == 'forward']
            say('tuning %-40s rep %d done' % (label, rep))
    except RuntimeError as exc:
        proxy_start(IMAGES['lab'], squid_conf({}))
        return {'label': label, 'change': change, 'error': str(exc)[:500]}
    return {'label': label, 'change': change, 'gains': _gains(base_rows, trial_rows),
            'forward_download_squid_cores': {k: spread(v) for k, v in cores.items()},
            'base': base_rows, 'trial': trial_rows}


def _glance_trial(index, label):
    base_rows, trial_rows = [], []
    for rep in range(TUNE_REPS):
        order = ('base', 'trial') if rep % 2 == 0 else ('trial', 'base')
        for which in order:
            rows = []
            for path in ('forward', 'tunnel'):
                store = path if which == 'base' else trial_store(path, index)
                row = transfer('ours', store, TUNE_MIB, download=False)
                row['store'] = path
                rows.append(row)
            (base_rows if which == 'base' else trial_rows).append(rows)
        say('tuning %-40s rep %d done' % (label, rep))
    gains = _gains(base_rows, trial_rows)
    return {'label': label, 'change': GLANCE_TRIALS[index][1],
            'gains': dict((k, v) for k, v in gains.items() if 'upload' in k), 'base': base_rows, 'trial': trial_rows}


def worth_keeping(trial):
    """A setting helps when its median gain is >= 3 % on some path and direction and it loses more than 3 % on none."""
    gains = [g for g in (trial.get('gains') or {}).values() if g]
    return bool(gains) and max(g['median'] for g in gains) >= 1.03 and min(g['median'] for g in gains) >= 0.97


def phase_tuning():
    squid = [_squid_trial(label, change) for label, change in SQUID_TRIALS]
    glance = [_glance_trial(i, label) for i, (label, _change) in enumerate(GLANCE_TRIALS)]
    combo = {}
    for trial in squid:
        if worth_keeping(trial) and not trial['change'].get('@image') and 'default' not in trial['label']:
            combo.update(trial['change'])
    best = None
    if len(combo) > 1:
        best = _squid_trial('the settings that helped, together', combo)
    proxy_start(IMAGES['lab'], squid_conf({}))
    return {'size_mib': TUNE_MIB, 'reps': TUNE_REPS, 'squid': squid, 'glance': glance, 'combination': best,
            'combination_settings': combo}


# --- RSS, probes, converge --------------------------------------------------------------------------------------


def ensure_image_file(container, size):
    dexec(container, PY, '-c', 'import os, sys\np = "/tmp/bench-%s.img" % sys.argv[1]\nif not os.path.exists(p):\n'
          '    with open(p, "wb") as f:\n        [f.write(os.urandom(1048576)) for _ in range(int(sys.argv[1]))]\n',
          str(size))


def phase_rss():
    big = max(SIZES_MIB)
    ensure_image_file(OURS, big)
    rss = {}
    for store in ('direct', 'forward', 'direct', 'forward'):
        dexec(OURS, 'glance-api-ctl', 'restart')
        wait_healthy(OURS)
        got = jexec(OURS, PY, '-c', bench_scripts.RSS, ADMIN, store, str(big))
        rss.setdefault(store, []).append(got['peak_rss_mib'])
    out = dict((k, max(v)) for k, v in rss.items())
    out['ratio'] = round(out['forward'] / out['direct'], 3)
    out['size_mib'] = big
    return out


def phase_probes(reps=5):
    """The module's own timings (inside the module) and the whole Ansible run, vs bare boto3."""
    inventory = {'all': {'hosts': {OURS: {'ansible_connection': 'community.docker.docker',
                                          'ansible_python_interpreter': PY}}}}
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
                res = sh(os.path.join(TOOLS, 'ansible'), '-i', inv, OURS, '-m', 'glancestore.s3proxy.s3_proxy_check',
                         '-a', args, '-o', env=ansible_env())
                ansible_ms.append((time.monotonic() - t0) * 1000.0)
                module_ms.append(json.loads(res.split('=>', 1)[1])['timings_ms']['total'])
                bare_ms.append(jexec(OURS, PY, '-c', bench_scripts.BARE, probe, PASSWORD, AK, SK, USER,
                                     str(PROXY_PORT))['ms'])
            out[probe] = {'module_ms': spread(module_ms), 'bare_boto3_ms': spread(bare_ms),
                          'ratio': spread([m / b for m, b in zip(module_ms, bare_ms)]),
                          'ansible_run_ms': spread(ansible_ms)}
    return out


def ansible_env():
    return dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, '.cache', 'collections'),
                ANSIBLE_HOME=os.path.join(ROOT, '.cache', 'ansible-home'), ANSIBLE_NOCOLOR='1')


def converge_vars(max_retries=3):
    stores = []
    for name, endpoint, proxied in (('direct', 'http://s3:8333', False), ('forward', 'http://s3:8333', True),
                                    ('tunnel', 'https://s3:8443', True), ('direct_tls', 'https://s3:8443', False)):
        stores.append({'name': name, 'endpoint': endpoint, 'bucket': 'glance', 'access_key': AK, 'secret_key': SK,
                       'bucket_url_format': 'path', 'large_object_size': 32, 'large_object_chunk_size': 16,
                       'max_retries': max_retries, 'cacert': CACERT, 'default': name == 'direct',
                       'proxy': {'enabled': proxied}})
    return {'glance_s3_proxy_stores': stores, 'glance_s3_proxy_python': PY,
            'glance_s3_proxy_proxy': {'enabled': True, 'host': 'proxy', 'port': PROXY_PORT, 'user': USER,
                                      'password': PASSWORD},
            'glance_s3_proxy_restart_method': 'command', 'glance_s3_proxy_restart_command': 'glance-api-ctl restart',
            'glance_s3_proxy_pidfile': '/run/glance-api.pid',
            'glance_s3_proxy_preflight_probe': 'read', 'glance_s3_proxy_verify_probe': 'read',
            'glance_s3_proxy_become': False}


def phase_converge():
    """deploy.yml on 1, 4 and 8 hosts: the unchanged run (every host already right; 3 runs, and 2 more with
    Ansible's pipelining), its CPU-seconds (whole machine, and the controller's share), play 1 alone, and a
    run that changes every host (a new s3_store_max_retries: the files change, Glance restarts, host by host)."""
    most = max(CONVERGE_HOSTS)
    names = ['bench-conv-%d' % i for i in range(1, most + 1)]
    for name in names:
        sh('docker', 'rm', '-f', name, check=False)
        start_glance(name, ours_stores()[:4])
    for name in names:
        wait_healthy(name)
    inventory = {'glance_api': {'hosts': dict((n, {'ansible_connection': 'community.docker.docker',
                                                   'ansible_python_interpreter': '/usr/bin/python3'}) for n in names)}}
    out = {'unchanged_s': {}, 'changing_s': {}, 'serial': 1, 'forks': most}
    with tempfile.TemporaryDirectory() as d:
        inv = os.path.join(d, 'inv.json')
        with open(inv, 'w') as f:
            json.dump(inventory, f)

        # deploy.yml's first play alone (validate and pre-flight every host at once): where an unchanged
        # converge spends its time, parallel part against the host-by-host part.
        prepare_only = os.path.join(d, 'prepare.yml')
        with open(os.path.join(ROOT, 'playbooks', 'deploy.yml')) as f:
            deploy = f.read()
        with open(prepare_only, 'w') as f:
            f.write(deploy.split('\n- name: Verify the Glance hosts that are already right')[0] + '\n')

        def run(hosts, max_retries, playbook='glancestore.s3proxy.deploy', pipelining=False, cpu=None, controller=None):
            var = os.path.join(d, 'vars.json')
            with open(var, 'w') as f:
                json.dump(converge_vars(max_retries), f)
            busy0, own0, t0 = busy_cpu_seconds(), children_cpu_seconds(), time.monotonic()
            # forks: every host of the largest run side by side (Ansible's default is 5)
            log = sh(os.path.join(TOOLS, 'ansible-playbook'), '-i', inv, '-e', '@' + var, '--forks', str(most),
                     '--limit', ','.join(hosts), playbook,
                     env=dict(ansible_env(), ANSIBLE_PIPELINING=str(pipelining)))
            if cpu is not None:
                cpu.append(busy_cpu_seconds() - busy0)
                controller.append(children_cpu_seconds() - own0)
            return time.monotonic() - t0, log.split('PLAY RECAP')[-1]

        run(names, 3)  # the first run configures every host
        retries = 3
        # Every host is right from here on: the unchanged runs first, for every count, then the changing runs,
        # each with a new s3_store_max_retries so that every host of the run changes (no catch-up runs needed).
        for n in CONVERGE_HOSTS:
            hosts = names[:n]
            times, cpu, ctl, piped, piped_cpu, piped_ctl = [], [], [], [], [], []
            for rep in range(3):
                seconds, recap = run(hosts, retries, cpu=cpu, controller=ctl)
                assert recap.count('changed=0') == n, recap
                times.append(seconds)
                if rep < 2:
                    # the same run with Ansible's pipelining (kolla-ansible's "Ansible tuning" guide turns it on)
                    seconds, recap = run(hosts, retries, pipelining=True, cpu=piped_cpu, controller=piped_ctl)
                    assert recap.count('changed=0') == n, recap
                    piped.append(seconds)
            for key, values in (('unchanged_s', times), ('unchanged_cpu_s', cpu), ('unchanged_controller_cpu_s', ctl),
                                ('unchanged_pipelining_s', piped), ('unchanged_pipelining_cpu_s', piped_cpu),
                                ('unchanged_pipelining_controller_cpu_s', piped_ctl)):
                out.setdefault(key, {})[str(n)] = spread(values)
            out.setdefault('prepare_play_s', {})[str(n)] = spread([run(hosts, retries, prepare_only)[0]])
            say('converge on %d host(s): unchanged %.1f s (pipelining %.1f s), machine CPU %.1f s' % (
                n, out['unchanged_s'][str(n)]['median'], out['unchanged_pipelining_s'][str(n)]['median'],
                out['unchanged_cpu_s'][str(n)]['median']))
        for n in CONVERGE_HOSTS:
            retries += 1
            seconds, recap = run(names[:n], retries)
            assert recap.count('changed=0') == 0, recap
            out['changing_s'][str(n)] = spread([seconds])
            say('converge on %d host(s): changing %.1f s' % (n, seconds))
    return out


# --- the report -------------------------------------------------------------------------------------------------


def chart(transfers, path):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    big = str(max(int(s) for s in transfers))
    variants = transfers[big]['variants']
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), sharey=True)
    bars = [('direct (no proxy)', 'ours/%s'), ('ours', 'ours/%s'), ('peer (HTTP_PROXY)', 'peer/%s'),
            ('limit (bare boto3)', 'limit/%s')]
    width = 0.2
    for ax, d in zip(axes, ('upload', 'download')):
        for i, (label, key) in enumerate(bars):
            meds, lo, hi = [], [], []
            for route in ('forward', 'tunnel'):
                store = REFERENCE[route] if i == 0 else route
                s = variants[key % store][d + '_mib_s']
                meds.append(s['median'])
                lo.append(s['median'] - s['min'])
                hi.append(s['max'] - s['median'])
            ax.bar([x + (i - 1.5) * width for x in range(2)], meds, width, yerr=[lo, hi], capsize=3, label=label)
        ax.set_xticks(range(2))
        ax.set_xticklabels(['forward (http)', 'tunnel (https CONNECT)'])
        ax.set_title('%s, %s MiB through the Glance API (MiB/s, min-max)' % (d, big))
        ax.grid(axis='y', alpha=0.3)
    axes[0].set_ylabel('MiB/s')
    axes[1].legend(loc='upper right', fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def fmt(stats, unit='', digits=2):
    if not stats:
        return 'n/a'
    f = '%%.%df' % digits
    return (f + '%s (%s-%s)') % (stats['median'], unit, f % stats['min'], f % stats['max'])


def load_phase(name):
    path = os.path.join(OUT, name + '.json')
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def goals(report):
    rows = []
    t = report.get('transfers_summary') or {}
    big = str(max(int(s) for s in t)) if t else None
    if big:
        r = t[big]['ratios']
        for path in ('forward', 'tunnel'):
            for d in ('upload', 'download'):
                rows.append(('%s %s, ours / peer >= 0.97' % (path, d), r['%s %s ours/peer' % (path, d)], 0.97, True))
                rows.append(('%s %s, ours / limit >= 0.90' % (path, d), r['%s %s ours/limit' % (path, d)], 0.90, True))
                rows.append(('%s %s, glance-api CPU s/GiB proxied / direct <= 1.05' % (path, d),
                             r['%s %s glance cpu proxied/direct' % (path, d)], 1.05, False))
        for path, bound in (('forward', 0.90), ('tunnel', 0.85)):
            for d in ('upload', 'download'):
                rows.append(('%s / %s, %s >= %.2f' % (path, REFERENCE[path], d, bound),
                             r['%s %s ours/direct' % (path, d)], bound, True))
    if report.get('rss'):
        rss = report['rss']['ratio']
        rows.append(('peak RSS proxied / direct <= 1.10', {'min': rss, 'median': rss, 'max': rss, 'n': 1}, 1.10, False))
    for probe in ('read', 'write'):
        if report.get('probes'):
            rows.append(('module %s probe / bare boto3 <= 1.5' % probe, report['probes'][probe]['ratio'], 1.5, False))
    conv = report.get('converge')
    if conv and '1' in conv['unchanged_s']:
        most = str(max(int(n) for n in conv['unchanged_s']))
        for key, label in (('unchanged_s', 'unchanged converge'),
                           ('unchanged_pipelining_s', 'unchanged converge with pipelining')):
            runs = conv.get(key)
            if runs and '1' in runs:
                one, s = runs['1']['median'], runs[most]
                rows.append(('%s, %s hosts / 1 host <= 2.0' % (label, most),
                             {k: round(s[k] / one, 2) if k != 'n' else s[k] for k in s}, 2.0, False))
    out = []
    for label, stats, threshold, higher in rows:
        met, wide = verdict(stats, threshold, higher)
        out.append({'goal': label, 'stats': stats, 'verdict': met, 'spread': wide})
    return out


def write_report(report):
    docs = os.path.join(ROOT, 'docs')
    with open(os.path.join(docs, 'benchmarks.json'), 'w') as f:
        json.dump(report, f, indent=1, sort_keys=True)
    t = report.get('transfers_summary')
    if t:
        chart(t, os.path.join(docs, 'benchmarks.png'))
    lines = ['# Benchmarks', '',
             'Generated by `make bench` on %s. Machine: %s. Each phase\'s own time: %s.' % (
                 report['date'], report['machine'], ', '.join(
                     '%s %s s' % (name, (report.get(name) or {}).get('seconds', '?'))
                     for name in ('transfers', 'tuning', 'rss', 'probes', 'converge') if report.get(name))), '',
             'Versions: %s.' % ', '.join('%s %s' % kv for kv in sorted(report['versions'].items())), '',
             'Back to the [README](../README.md). How it is measured: [the method](#method). Squid settings for S3'
             ' egress: [tuning](#squid-and-glance-settings).', '',
             '## Goals', '',
             'Every figure is the median of interleaved repetitions, with min and max. A ratio is taken per'
             ' repetition between runs that followed each other, then summarized. *Spread*: "too wide to judge" when'
             ' the goal lies between the min and the max, so the verdict on the median could go either way.', '',
             '| goal | median (min-max) | verdict | spread |', '|---|---|---|---|']
    for g in goals(report):
        lines.append('| %s | %s | %s | %s |' % (g['goal'], fmt(g['stats']), g['verdict'], g['spread']))
    if t:
        big = str(max(int(s) for s in t))
        lines += ['', '![throughput: direct, ours, peer and limit](benchmarks.png)', '',
                  '## Throughput and CPU', '',
                  '*ours*: glance-api with the extension, the store\'s own proxy; *peer*: the same glance-api with no'
                  ' extension behind `HTTP_PROXY`/`HTTPS_PROXY`; *limit*: a bare boto3 client making glance_store\'s'
                  ' requests through the same Squid (multipart, %d MiB parts, %d threads; one GET read in 64 KiB'
                  ' chunks); *direct*: no proxy. CPU is CPU-seconds per GiB moved, from `/proc` (every uwsgi'
                  ' process of glance-api; every process of the proxy container). *Squid cores*: Squid\'s'
                  ' CPU-seconds over the transfer\'s seconds, 1.00 is one core busy throughout.' % (PART_MIB, THREADS),
                  '']
        for size in sorted(t, key=int):
            lines += ['### %s MiB, %d repetitions' % (size, REPS), '',
                      '| variant | upload MiB/s | download MiB/s | glance-api CPU s/GiB up | down |'
                      ' Squid CPU s/GiB up | down | Squid cores up | down |',
                      '|---|---|---|---|---|---|---|---|---|']
            for kind, store in VARIANTS:
                v = t[size]['variants']['%s/%s' % (kind, store)]
                lines.append('| %s %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
                    kind, store, fmt(v['upload_mib_s'], digits=1), fmt(v['download_mib_s'], digits=1),
                    fmt(v.get('upload_glance_cpu_s_per_gib')), fmt(v.get('download_glance_cpu_s_per_gib')),
                    fmt(v['upload_squid_cpu_s_per_gib']), fmt(v['download_squid_cpu_s_per_gib']),
                    fmt(v['upload_squid_cores']), fmt(v['download_squid_cores'])))
            lines += ['', '| ratio at %s MiB | upload | download |' % size, '|---|---|---|']
            for path in ('forward', 'tunnel'):
                for what in ('ours/direct', 'ours/peer', 'ours/limit', 'glance cpu proxied/direct'):
                    r = t[size]['ratios']
                    lines.append('| %s %s | %s | %s |' % (path, what, fmt(r['%s upload %s' % (path, what)]),
                                                          fmt(r['%s download %s' % (path, what)])))
            lines.append('')
        lines += where_the_time_goes(t[big])
    tune = report.get('tuning')
    if tune:
        lines += tuning_lines(tune)
    lines += other_lines(report)
    if os.path.exists(os.path.join(docs, 'benchmarks-analysis.md')):
        lines += ['Why the goals that are missed are missed, with the measurement for each, and what an operator can do:'
                  ' [benchmarks-analysis.md](benchmarks-analysis.md).', '']
    lines += method_lines(report)
    with open(os.path.join(docs, 'benchmarks.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    print('\n'.join(lines))


def where_the_time_goes(at):
    v = at['variants']
    lines = ['## Where the time goes', '']
    for path in ('forward', 'tunnel'):
        for d in ('upload', 'download'):
            ours, limit = v['ours/%s' % path], v['limit/%s' % path]
            lines.append('- **%s %s**: ours %s MiB/s, limit %s MiB/s, direct %s MiB/s. Squid used %s cores during'
                         ' ours and %s during the limit; %s CPU-seconds per GiB (limit %s).' % (
                             path, d, fmt(ours[d + '_mib_s'], digits=0), fmt(limit[d + '_mib_s'], digits=0),
                             fmt(v['ours/%s' % REFERENCE[path]][d + '_mib_s'], digits=0),
                             fmt(ours[d + '_squid_cores']), fmt(limit[d + '_squid_cores']),
                             fmt(ours[d + '_squid_cpu_s_per_gib']), fmt(limit[d + '_squid_cpu_s_per_gib'])))
    lines += ['', 'Squid runs one worker process: a figure near 1.00 core means Squid\'s single process is busy the'
              ' whole transfer, so Squid, not Glance or the extension, sets the pace; the 2 cores of this machine'
              ' are shared with glance-api, the S3 server and the client.', '']
    return lines


def tuning_lines(tune):
    lines = ['## Squid and Glance settings', '',
             'Each setting against the baseline (the lab\'s `lab/images/squid.conf`: `read_ahead_gap 4 MB`,'
             ' `client_request_buffer_max_size 64 MB`, no cache) in the same run, alternating (baseline, setting,'
             ' setting, baseline ...), %d repetitions of %d MiB through ours. Gain: the setting\'s throughput over'
             ' the baseline\'s, per repetition; above 1.00 is faster.' % (tune['reps'], tune['size_mib']), '',
             '| setting | forward upload | forward download | tunnel upload | tunnel download |'
             ' Squid cores, forward download (base / setting) |',
             '|---|---|---|---|---|---|']
    for trial in tune['squid'] + ([tune['combination']] if tune.get('combination') else []):
        if trial.get('error'):
            lines.append('| %s | could not run: %s | | | | |' % (trial['label'], trial['error'].replace('|', '/')[:200]))
            continue
        g = trial['gains']
        c = trial.get('forward_download_squid_cores', {})
        lines.append('| %s | %s | %s | %s | %s | %s / %s |' % (
            trial['label'], fmt(g['forward upload']), fmt(g['forward download']), fmt(g['tunnel upload']),
            fmt(g['tunnel download']), fmt(c.get('base')), fmt(c.get('trial'))))
    lines += ['', '| Glance store setting (upload only) | forward upload | tunnel upload |', '|---|---|---|']
    for trial in tune['glance']:
        g = trial['gains']
        lines.append('| %s | %s | %s |' % (trial['label'], fmt(g['forward upload']), fmt(g['tunnel upload'])))
    lines += ['', 'glance_store has no download chunk setting: it reads an object in 64 KiB chunks'
              ' (`READ_CHUNKSIZE`, a class constant), one stream per image.', '']
    if tune.get('combination_settings'):
        lines.append('Settings that helped (median gain >= 1.03 somewhere, no loss below 0.97), measured together'
                     ' above: %s.' % ', '.join('`%s %s`' % kv for kv in sorted(tune['combination_settings'].items())))
    else:
        lines.append('No single Squid setting gained 3 % or more without losing 3 % elsewhere; no combination was'
                     ' measured.')
    lines.append('')
    return lines


def other_lines(report):
    lines = []
    p = report.get('probes')
    if p:
        lines += ['## The module\'s probes', '',
                  'Inside the module: its `timings_ms.total`, the probe\'s requests through the proxy (its client is'
                  ' made from Glance\'s configuration before). Bare boto3: the same requests from a client made'
                  ' beforehand, in the same container.', '',
                  '| s3_proxy_check probe (forward store) | inside the module | bare boto3 | ratio | whole Ansible run |',
                  '|---|---|---|---|---|']
        for probe in ('read', 'write'):
            lines.append('| %s | %s | %s | %s | %s |' % (
                probe, fmt(p[probe]['module_ms'], ' ms', 1), fmt(p[probe]['bare_boto3_ms'], ' ms', 1),
                fmt(p[probe]['ratio']), fmt(p[probe]['ansible_run_ms'], ' ms', 0)))
        lines.append('')
    if report.get('rss'):
        r = report['rss']
        lines += ['## Memory', '', 'Peak RSS of a glance-api worker during a %d MiB upload: direct %.1f MiB, forward'
                  ' %.1f MiB (ratio %.3f).' % (r['size_mib'], r['direct'], r['forward'], r['ratio']), '']
    c = report.get('converge')
    if c:
        lines += ['## Converge', '',
                  '`playbooks/deploy.yml` with `community.docker.docker` connections and `--forks %s`: play 1'
                  ' validates, pre-flights and plans every host at once; play 2 confirms and verifies the hosts'
                  ' already right, all at once, with no restart; play 3 configures, restarts and verifies the'
                  ' hosts that change, %s at a time (`glance_s3_proxy_serial`, default 1). *Unchanged*: every'
                  ' host already right (3 runs); *changing*: a new `s3_store_max_retries` on every host, so each'
                  ' host\'s files change and its glance-api restarts (1 run).' % (c.get('forks', 5), c['serial']), '',
                  ]
        prep = c.get('prepare_play_s') or {}
        cpu = c.get('unchanged_cpu_s') or {}
        piped = c.get('unchanged_pipelining_s') or {}
        piped_cpu = c.get('unchanged_pipelining_cpu_s') or {}
        ctl = c.get('unchanged_controller_cpu_s') or {}
        piped_ctl = c.get('unchanged_pipelining_controller_cpu_s') or {}
        lines += ['| hosts | unchanged converge, s | machine CPU-s | of which Ansible | unchanged, pipelining, s'
                  ' | machine CPU-s | of which Ansible | play 1 alone (plan included), s | changing converge, s |',
                  '|---|---|---|---|---|---|---|---|---|']
        for n in sorted(c['unchanged_s'], key=int):
            cells = [fmt(c['unchanged_s'][n], digits=1), fmt(cpu.get(n), digits=1), fmt(ctl.get(n), digits=1),
                     fmt(piped.get(n), digits=1), fmt(piped_cpu.get(n), digits=1), fmt(piped_ctl.get(n), digits=1),
                     fmt(prep.get(n), digits=1), fmt(c['changing_s'].get(n), digits=1)]
            lines.append('| %s | %s |' % (n, ' | '.join(cells)))
        lines += ['', '*Machine CPU-s*: busy CPU-seconds of the whole machine over the run, from `/proc/stat`'
                  ' (Ansible, the hosts\' containers and their modules, Docker\'s daemons); with %d cores a run'
                  ' cannot be shorter than that figure / %d. *Of which Ansible*: `ansible-playbook`, its forks and'
                  ' the `docker` CLI calls it makes (`getrusage` of the finished children), the share that stays'
                  ' on the controller when every Glance host has its own CPU.' % (os.cpu_count(), os.cpu_count()), '']
    return lines


def method_lines(report):
    return ['## Method', '',
            'Containers of the lab\'s images on two Docker networks: `client` (glance-api, Squid) and an internal'
            ' `storage` (the S3 server, Squid). *ours* (`bench-glance-1`) has the extension and four stores;'
            ' it is on both networks so `direct` and `direct_tls` can reach S3. *peer* (`bench-peer`) has no'
            ' extension and is on the client network only: behind `HTTP_PROXY`/`HTTPS_PROXY` it reaches S3'
            ' through Squid or not at all (the run checks it has no route). Images are 16 MiB-part multipart'
            ' uploads (10 threads) with a Content-Length. The client runs in the same container as the'
            ' glance-api it talks to. Variants are interleaved in each repetition, in reverse order every other'
            ' repetition (A B C ... C B A) so drift on the shared machine falls on both sides. Squid, the S3'
            ' server, Glance and the client share the machine\'s %s cores.' % os.cpu_count(), '',
            'Run one phase again: `BENCH_PHASES="tuning" make bench` (transfers, tuning, rss, probes, converge);'
            ' the report is written from `build/bench/*.json`. Raw numbers: [benchmarks.json](benchmarks.json).', '']


def main():
    start = time.monotonic()
    load_before = [round(x, 2) for x in os.getloadavg()]
    os.makedirs(OUT, exist_ok=True)
    if PHASES:
        teardown()
        say('starting glance-api (ours, peer), Squid and the S3 server (images %s, %s)' % (TAG, S3_IMAGE))
        setup()
        try:
            for phase in PHASES:
                say('phase %s' % phase)
                t0 = time.monotonic()
                result = globals()['phase_' + phase]()
                result['seconds'] = round(time.monotonic() - t0)
                with open(os.path.join(OUT, phase + '.json'), 'w') as f:
                    json.dump(result, f, indent=1, sort_keys=True)
        finally:
            teardown()
    s3_server = open(os.path.join(OUT, 's3-server')).read().strip() if os.path.exists(
        os.path.join(OUT, 's3-server')) else S3_IMAGE
    transfers = load_phase('transfers')
    report = {
        'date': datetime.date.today().isoformat(), 'seconds': round(time.monotonic() - start),
        'load_before': load_before,
        'machine': '%s, %s, %d cores, %.0f GiB' % (
            platform.platform(), platform.machine(), os.cpu_count(),
            os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2 ** 30),
        'versions': {'glance': '33.0.0', 'glance_store': '5.7.0', 'boto3': '1.44.8', 'squid': '5.7 (Debian 12)',
                     's3 server': s3_server, 'glance-store-s3proxy': constants.VERSION,
                     'ansible-core': sh(os.path.join(TOOLS, 'ansible'), '--version').splitlines()[0].split(
                         'core ')[-1].strip(' ]')},
        'sizes_mib': SIZES_MIB, 'repetitions': REPS,
        'transfers': transfers, 'transfers_summary': summarize_transfers(transfers['rows']) if transfers else None,
        'tuning': load_phase('tuning'), 'rss': load_phase('rss'), 'probes': load_phase('probes'),
        'converge': load_phase('converge'),
    }
    write_report(report)
    return 0


if __name__ == '__main__':
    sys.exit(main())
