"""A real glance-api (uwsgi, 2 workers, lazy-apps) whose stock s3 store goes
through Squid with basic auth, to a SeaweedFS reachable only through Squid."""

import os
import re
import shutil
import sys
import tempfile
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config

from lab.constants import PASSWORD, leak_probes
from lab.glance_api import ADMIN_HEADERS, GlanceApi, base_conf, s3_store
from lab.image_roundtrip import http, store_image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
VENV = os.path.dirname(os.path.dirname(sys.executable))
SIZE = 64 * 1024 * 1024


@pytest.fixture(scope='module')
def glance(lab):
    workdir = tempfile.mkdtemp(prefix='glance-api-', dir=os.path.join(ROOT, '.cache'))
    api = GlanceApi(VENV, workdir, port=9392)
    api.write_config(base_conf(workdir, 'fast:s3', 'fast') + s3_store(lab, 'fast'))
    api.db_sync()
    api.start()
    yield api
    api.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def s3_client(lab):
    ident = lab['s3']['identities']['glance']
    url = 'http://glance-s3:%s@%s:%d' % (quote(PASSWORD, safe=''), lab['proxy']['host'], lab['proxy']['port'])
    return boto3.client('s3', endpoint_url=lab['s3']['http_endpoint'], region_name='us-east-1',
                        aws_access_key_id=ident['access_key'], aws_secret_access_key=ident['secret_key'],
                        config=Config(proxies={'http': url}, s3={'addressing_style': 'path'}))


def test_64mib_image_multipart_through_proxy(lab, glance, tmp_path):
    image_file = tmp_path / 'image.raw'
    with open(str(image_file), 'wb') as f:
        f.write(os.urandom(SIZE))
    image_id, lines = store_image(lab, glance, str(image_file))
    assert len([line for line in lines if 'partNumber=' in line]) == 8, lines  # 64 MiB in 8 MiB parts
    session = http()

    head = s3_client(lab).head_object(Bucket='glance', Key=image_id)
    assert re.match(r'^"?[0-9a-f]{32}-8"?$', head['ETag']), head['ETag']

    resp = session.delete(glance.url + '/v2/images/%s' % image_id, headers=ADMIN_HEADERS)
    assert resp.status_code == 204
    with pytest.raises(Exception) as err:
        s3_client(lab).head_object(Bucket='glance', Key=image_id)
    assert '404' in str(err.value)


def test_stores_detail_endpoint_works_with_type_s3(glance):
    resp = http().get(glance.url + '/v2/info/stores/detail', headers=ADMIN_HEADERS)
    assert resp.status_code == 200, resp.text
    stores = {s['id']: s for s in resp.json()['stores']}
    assert stores['fast']['type'] == 's3'
    # The password never reaches the API either.
    assert PASSWORD not in resp.text


def test_every_worker_announces_the_proxy_and_hides_the_password(glance):
    log = glance.log()
    pids = set(re.findall(r'glance-store-s3proxy [0-9.]+ active in pid (\d+): S3 store fast uses proxy '
                          r'http://glance-s3:\*\*\*@', log))
    assert len(pids) == glance.processes, glance.log_tail()  # lazy-apps: each worker patched its own driver
    assert not [probe for probe in leak_probes(PASSWORD) if probe in log]
