"""Store an image through a running glance-api and prove, from Squid's access
log, that it went through the proxy: the multipart upload under the proxy user,
every part, and nothing denied. Shared by the glance-api tests and the kolla and
OpenStack-Ansible chain tests."""

import hashlib
import os
import uuid

import requests

from lab.constants import USER
from lab.glance_api import ADMIN_HEADERS
from lab.netlab import access_log_len, access_log_lines

MIB = 1024 * 1024


def http():
    session = requests.Session()
    session.trust_env = False  # never the environment's proxy
    return session


def stores_detail(api):
    """/v2/info/stores/detail as {store id: store}."""
    resp = http().get(api.url + '/v2/info/stores/detail', headers=ADMIN_HEADERS)
    assert resp.status_code == 200, resp.text
    return {s['id']: s for s in resp.json()['stores']}


def create_image(session, api, prefix='lab'):
    """A new raw image record; returns its id."""
    resp = session.post(api.url + '/v2/images', json={'name': '%s-%s' % (prefix, uuid.uuid4().hex[:6]),
                                                      'disk_format': 'raw', 'container_format': 'bare'},
                        headers=ADMIN_HEADERS)
    assert resp.status_code == 201, resp.text
    return resp.json()['id']


def upload_headers(image_file):
    """The headers of an image upload (PUT /v2/images/ID/file) of ``image_file``."""
    return dict(ADMIN_HEADERS, **{'Content-Type': 'application/octet-stream',
                                  'Content-Length': str(os.path.getsize(image_file)), 'Expect': ''})


def store_image(lab, api, image_file, store=None, proxy_user=USER, part_mib=8):
    """Upload ``image_file`` (to ``store``, or the default store), read it back, and
    check Squid's log. Returns (image id, the image's Squid log lines)."""
    session = http()
    size = os.path.getsize(image_file)
    md5 = hashlib.md5()
    with open(image_file, 'rb') as f:
        for chunk in iter(lambda: f.read(MIB), b''):
            md5.update(chunk)
    md5 = md5.hexdigest()
    image_id = create_image(session, api)
    before = access_log_len(lab)
    headers = upload_headers(image_file)
    if store:
        headers['X-Image-Meta-Store'] = store
    with open(image_file, 'rb') as f:
        resp = session.put(api.url + '/v2/images/%s/file' % image_id, data=f, headers=headers)
    assert resp.status_code == 204, resp.text + api.log_tail()

    image = session.get(api.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS).json()
    assert image['status'] == 'active', image
    assert image['size'] == size
    assert image['checksum'] == md5
    if store:
        assert image.get('stores') == store, image

    got = hashlib.md5()
    with session.get(api.url + '/v2/images/%s/file' % image_id, headers=ADMIN_HEADERS, stream=True) as resp:
        assert resp.status_code == 200
        for chunk in resp.iter_content(MIB):
            got.update(chunk)
    assert got.hexdigest() == md5

    lines = [line for line in access_log_lines(lab, before) if image_id in line]
    assert any('?uploads' in line and ' %s ' % proxy_user in line for line in lines), lines
    parts = [line for line in lines if 'partNumber=' in line and 'uploadId=' in line and ' %s ' % proxy_user in line]
    assert len(parts) == -(-size // (part_mib * MIB)), lines
    assert not any('TCP_DENIED' in line for line in lines), lines
    return image_id, lines
