"""A real glance-api (uwsgi, 2 workers) whose stock s3 stores speak TLS to the
proxy itself (s3_store_proxy_scheme = https, s3_store_proxy_cacert), through a
real Squid built with OpenSSL (https_port, lab CA, Basic auth), to a SeaweedFS
reachable only through the proxies."""

import base64
import hashlib
import os
import shutil
import sys
import tempfile
import uuid
from urllib.parse import quote

import pytest
import requests

from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf
from lab.netlab import USERS, access_log_len, access_log_lines, tls_proxy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV = os.path.dirname(os.path.dirname(sys.executable))
PORT = 9494
USER = 'glance-s3'
PASSWORD = USERS[USER]
SIZE = 24 * 1024 * 1024  # over 16 MiB in 8 MiB chunks: 3 parts


def store(lab, name, endpoint, proxy_cacert):
    ident = lab['s3']['identities']['glance']
    return ('\n[{n}]\ns3_store_host = {ep}\ns3_store_bucket = glance\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_cacert = {ca}\n'
            's3_store_large_object_size = 16\ns3_store_large_object_chunk_size = 8\ns3_store_thread_pools = 2\n'
            's3_store_max_retries = 3\n'
            's3_store_enable_proxy = true\ns3_store_proxy_host = {h}\ns3_store_proxy_port = {p}\n'
            's3_store_proxy_user = {u}\ns3_store_proxy_password = {pw}\n'
            's3_store_proxy_scheme = https\ns3_store_proxy_cacert = {pca}\n').format(
        n=name, ep=lab['s3'][endpoint], ak=ident['access_key'], sk=ident['secret_key'], ca=lab['certs']['ca'],
        h=lab['proxy']['host'], p=lab['proxy']['tls_port'], u=USER, pw=PASSWORD, pca=proxy_cacert)


@pytest.fixture(scope='module')
def glance(lab):
    tls_proxy(lab)
    workdir = tempfile.mkdtemp(prefix='glance-api-tls-', dir=os.path.join(ROOT, '.cache'))
    api = GlanceApi(VENV, workdir, port=PORT)
    conf = base_conf(workdir, 'tlsfwd:s3, tlstun:s3, badca:s3', 'tlsfwd')
    conf += store(lab, 'tlsfwd', 'http_endpoint', lab['certs']['ca'])
    conf += store(lab, 'tlstun', 'https_endpoint', lab['certs']['ca'])
    conf += store(lab, 'badca', 'http_endpoint', lab['certs']['other_ca'])
    api.write_config(conf)
    api.db_sync()
    api.start()
    yield api
    api.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def http():
    session = requests.Session()
    session.trust_env = False  # never the environment's proxy
    return session


def create_image(session, glance):
    resp = session.post(glance.url + '/v2/images', json={'name': 'tls-%s' % uuid.uuid4().hex[:6],
                                                         'disk_format': 'raw', 'container_format': 'bare'},
                        headers=ADMIN_HEADERS)
    assert resp.status_code == 201, resp.text
    return resp.json()['id']


def upload(session, glance, image_id, data, backend):
    return session.put(glance.url + '/v2/images/%s/file' % image_id, data=data,
                       headers=dict(ADMIN_HEADERS, **{'Content-Type': 'application/octet-stream',
                                                      'Content-Length': str(len(data)), 'Expect': '',
                                                      'X-Image-Meta-Store': backend}))


def download_md5(session, glance, image_id):
    got = hashlib.md5()
    with session.get(glance.url + '/v2/images/%s/file' % image_id, headers=ADMIN_HEADERS, stream=True) as resp:
        assert resp.status_code == 200
        for chunk in resp.iter_content(1024 * 1024):
            got.update(chunk)
    return got.hexdigest()


def assert_no_secret(text):
    for secret in (PASSWORD, quote(PASSWORD, safe=''), quote(PASSWORD),
                   base64.b64encode(('%s:%s' % (USER, PASSWORD)).encode()).decode()):
        assert secret not in text, 'a secret form leaked: %r' % secret


def test_http_endpoint_multipart_through_tls_proxy(lab, glance):
    session = http()
    data = os.urandom(SIZE)
    image_id = create_image(session, glance)
    before_tls, before_plain = access_log_len(lab, 'squid_tls'), access_log_len(lab)
    resp = upload(session, glance, image_id, data, 'tlsfwd')
    assert resp.status_code == 204, resp.text + glance.log_tail()
    image = session.get(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).json()
    assert image['status'] == 'active'
    assert image['stores'] == 'tlsfwd'
    assert image['checksum'] == hashlib.md5(data).hexdigest()
    assert download_md5(session, glance, image_id) == hashlib.md5(data).hexdigest()
    assert session.delete(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).status_code == 204

    lines = [line for line in access_log_lines(lab, before_tls, squid='squid_tls') if image_id in line]
    assert any('?uploads' in line for line in lines), lines
    assert len([line for line in lines if 'partNumber=' in line and 'uploadId=' in line]) == 3, lines
    assert {line.split()[5] for line in lines} >= {'POST', 'PUT', 'GET', 'DELETE'}, lines
    assert all(' %s ' % USER in line and 'TCP_MISS/' in line for line in lines), lines
    assert not [line for line in access_log_lines(lab, before_plain) if image_id in line]


def test_https_endpoint_through_tls_proxy(lab, glance):
    session = http()
    data = os.urandom(SIZE)
    image_id = create_image(session, glance)
    before = access_log_len(lab, 'squid_tls')
    resp = upload(session, glance, image_id, data, 'tlstun')
    assert resp.status_code == 204, resp.text + glance.log_tail()
    image = session.get(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).json()
    assert image['status'] == 'active' and image['stores'] == 'tlstun'
    assert download_md5(session, glance, image_id) == hashlib.md5(data).hexdigest()
    assert session.delete(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).status_code == 204
    connect = 'CONNECT %s:%d' % (lab['s3']['name'], lab['s3']['https_port'])
    tunnels = [line for line in access_log_lines(lab, before, squid='squid_tls')
               if 'TCP_TUNNEL/200' in line and connect in line and ' %s ' % USER in line]
    # The download alone sent SIZE bytes to Glance through the tunnels.
    assert sum(int(line.split()[4]) for line in tunnels) >= SIZE, tunnels


def test_wrong_proxy_ca_upload_fails_and_nothing_reaches_the_proxy(lab, glance):
    session = http()
    image_id = create_image(session, glance)
    before = access_log_len(lab, 'squid_tls')
    resp = upload(session, glance, image_id, os.urandom(1024 * 1024), 'badca')
    assert resp.status_code >= 400, resp.text
    image = session.get(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).json()
    assert image['status'] == 'queued', image
    assert not [line for line in access_log_lines(lab, before, squid='squid_tls') if ' %s ' % USER in line]
    failure = 'Failed to connect to proxy URL: "https://***:***@%s:%d"' % (lab['proxy']['host'], lab['proxy']['tls_port'])
    assert failure in glance.log()
    session.delete(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS)


def test_log_announces_tls_proxy_and_holds_no_secret(lab, glance):
    # Runs after the uploads: every store was configured in the workers that served them.
    log = glance.log()
    for name in ('tlsfwd', 'tlstun'):
        announce = 'S3 store %s uses proxy https://%s:***@%s:%d' % (name, USER, lab['proxy']['host'],
                                                                    lab['proxy']['tls_port'])
        assert announce in log, log[-3000:]
    assert 'InsecureRequestWarning' not in log
    assert_no_secret(log)
    resp = http().get(glance.url + '/v2/info/stores/detail', headers=ADMIN_HEADERS)
    assert resp.status_code == 200, resp.text
    stores = {s['id']: s for s in resp.json()['stores']}
    assert {stores[n]['type'] for n in ('tlsfwd', 'tlstun', 'badca')} == {'s3'}
    assert_no_secret(resp.text)
