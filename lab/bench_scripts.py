"""The scripts make bench runs inside its containers (python -c), kept apart from the driver (lab/bench.py).

Each prints one JSON object on stdout. Times and CPU figures are taken inside the container, around the
transfer only: starting the script (docker exec, imports) is never counted.
"""

# The uwsgi processes of the glance-api in this container (master and workers): their CPU seconds, from /proc.
_CPU = r'''
import os
TICK = os.sysconf('SC_CLK_TCK')
def uwsgi_cpu():
    total = 0
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % pid) as f:
                stat = f.read()
        except OSError:
            continue
        comm, rest = stat[stat.index('(') + 1:stat.rindex(')')], stat[stat.rindex(')') + 2:].split()
        if comm == 'uwsgi':
            total += int(rest[11]) + int(rest[12])  # utime, stime
    return total / float(TICK)
'''

# Through the Glance API (127.0.0.1:9292 in the same container): argv = up HEADERS STORE SIZE_MIB, or
# down HEADERS IMAGE SIZE_MIB [delete-only].
GLANCE = _CPU + r'''
import json, sys, time, requests
MIB = 1048576
api = 'http://127.0.0.1:9292'
phase, headers, arg, size = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = requests.Session(); s.trust_env = False
path = '/tmp/bench-%d.img' % size
if not os.path.exists(path):
    with open(path + '.part', 'wb') as f:
        for _ in range(size):
            f.write(os.urandom(MIB))
    os.rename(path + '.part', path)
if phase == 'up':
    image = s.post(api + '/v2/images', headers=headers,
                   json={'name': 'bench', 'disk_format': 'raw', 'container_format': 'bare'}).json()
    with open(path, 'rb') as f:
        c0, t0 = uwsgi_cpu(), time.monotonic()
        put = s.put(api + '/v2/images/%s/file' % image['id'], data=f, headers=dict(headers, **{
            'Content-Type': 'application/octet-stream', 'Content-Length': str(size * MIB), 'Expect': '',
            'X-Image-Meta-Store': arg}))
        seconds, cpu = time.monotonic() - t0, uwsgi_cpu() - c0
    if put.status_code != 204:
        s.delete(api + '/v2/images/%s' % image['id'], headers=headers)
        raise SystemExit('upload to %s: HTTP %s %s' % (arg, put.status_code, put.text[:500]))
    print(json.dumps({'image': image['id'], 'seconds': seconds, 'glance_cpu': cpu}))
else:
    out = {}
    if len(sys.argv) < 6:
        got = 0
        c0, t0 = uwsgi_cpu(), time.monotonic()
        with s.get(api + '/v2/images/%s/file' % arg, headers=headers, stream=True) as r:
            for chunk in r.iter_content(MIB):
                got += len(chunk)
        out = {'seconds': time.monotonic() - t0, 'glance_cpu': uwsgi_cpu() - c0}
        if got != size * MIB:
            raise SystemExit('download of %s: %d bytes, not %d' % (arg, got, size * MIB))
    s.delete(api + '/v2/images/%s' % arg, headers=headers)
    print(json.dumps(out))
'''

# The proxy's own limit: a bare boto3 client through the same Squid, making the requests glance_store makes.
# Upload: CreateMultipartUpload, parts of PART_MIB from a pool of THREADS, CompleteMultipartUpload (glance_store's
# _add_multipart). Download: one GetObject, read in 64 KiB chunks (glance_store's READ_CHUNKSIZE), one stream.
# argv = up|down ENDPOINT KEY SIZE_MIB PROXY_URL CACERT PART_MIB THREADS ACCESS_KEY SECRET_KEY
LIMIT = r'''
import io, json, os, sys, time
from concurrent import futures
import boto3
from botocore.config import Config
MIB = 1048576
phase, endpoint, key, size, proxy, cacert, part_mib, threads, ak, sk = sys.argv[1:11]
size, part, threads = int(size), int(part_mib) * MIB, int(threads)
s3 = boto3.session.Session(aws_access_key_id=ak, aws_secret_access_key=sk).client(
    's3', endpoint_url=endpoint, region_name='us-east-1', verify=cacert if endpoint.startswith('https') else None,
    config=Config(proxies={'http': proxy, 'https': proxy}, s3={'addressing_style': 'path'},
                  request_checksum_calculation='when_required', response_checksum_validation='when_required',
                  max_pool_connections=max(10, threads)))
path = '/tmp/bench-%d.img' % size
if phase == 'up':
    t0 = time.monotonic()
    mpu = s3.create_multipart_upload(Bucket='glance', Key=key)['UploadId']
    def put(n, data):
        return n, s3.upload_part(Body=io.BytesIO(data), Bucket='glance', Key=key, PartNumber=n, UploadId=mpu,
                                 ContentLength=len(data))['ETag']
    with open(path, 'rb') as f, futures.ThreadPoolExecutor(threads) as pool:
        jobs, n = [], 0
        while True:
            data = f.read(part)
            if not data:
                break
            n += 1
            jobs.append(pool.submit(put, n, data))
        parts = sorted(j.result() for j in jobs)
    s3.complete_multipart_upload(Bucket='glance', Key=key, UploadId=mpu, MultipartUpload={
        'Parts': [{'PartNumber': n, 'ETag': etag} for n, etag in parts]})
    print(json.dumps({'seconds': time.monotonic() - t0}))
else:
    got = 0
    t0 = time.monotonic()
    body = s3.get_object(Bucket='glance', Key=key)['Body']
    for chunk in body.iter_chunks(65536):
        got += len(chunk)
    seconds = time.monotonic() - t0
    s3.delete_object(Bucket='glance', Key=key)
    if got != size * MIB:
        raise SystemExit('limit download: %d bytes, not %d' % (got, size * MIB))
    print(json.dumps({'seconds': seconds}))
'''

# Peak RSS of the glance-api workers during one upload: argv = HEADERS STORE SIZE_MIB.
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

# The module's probe's twin: bare boto3 through the proxy, the same requests. argv = read|write PASSWORD AK SK USER PORT
BARE = r'''
import json, os, sys, time, uuid, boto3
from botocore.config import Config
from urllib.parse import quote
probe = sys.argv[1]
url = 'http://%s:%s@proxy:%s' % (sys.argv[5], quote(sys.argv[2], safe=''), sys.argv[6])
c0 = time.monotonic()
s3 = boto3.session.Session(aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4]).client(
    's3', endpoint_url='http://s3:8333', region_name='us-east-1',
    config=Config(proxies={'http': url, 'https': url}, s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
# The requests only, as the module's timings_ms.total counts them (its client is made from Glance's own
# configuration before the probes start); the client's creation is reported apart.
t0 = time.monotonic()
s3.list_objects_v2(Bucket='glance', MaxKeys=1)
if probe == 'write':
    key = 'bare/%s' % uuid.uuid4().hex
    body = os.urandom(65536)
    s3.put_object(Bucket='glance', Key=key, Body=body)
    assert s3.get_object(Bucket='glance', Key=key)['Body'].read() == body
    s3.delete_object(Bucket='glance', Key=key)
print(json.dumps({'ms': (time.monotonic() - t0) * 1000.0, 'client_ms': (t0 - c0) * 1000.0}))
'''

# Wait until the proxy accepts connections (run in a glance container): argv = HOST PORT SECONDS
WAIT_PORT = r'''
import socket, sys, time
deadline = time.monotonic() + float(sys.argv[3])
while True:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise SystemExit('%s:%s does not accept connections' % (sys.argv[1], sys.argv[2]))
        time.sleep(0.1)
'''
