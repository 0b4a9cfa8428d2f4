"""Proxy down at start: glance-api starts while its Squid is down. Its health check is fine; an upload fails
with an error that names the proxy (Glance's log, under the request id the API response carries); once Squid
is up, uploads succeed without restarting Glance."""

import time

import pytest

import harness
from harness import MIB, ImageData
from lab.constants import PASSWORD, USER, USERS, leak_probes
from lab import netlab

CASE = 'proxy_down_at_start'
SIZE = 64 * MIB
FAIL_WITHIN = 30  # seconds: botocore's retries against a refused connection


@pytest.fixture(scope='module')
def setup(steady_s3, main_squid, postgres):
    squid = harness.PrivateSquid('start', USERS)  # not started
    api = harness.make_glance('start', {'fast': harness.store_section('fast', steady_s3, squid, 'rel-start', USER)}, 'fast',
                              postgres.database('glance_start'), processes=2)
    yield api, squid, harness.Bucket(steady_s3, main_squid, 'rel-start')
    harness.stop_glance(api)
    squid.kill()


def test_glance_starts_healthy_without_its_proxy(setup, report):
    api, squid = setup[:2]
    assert not harness.wait_port(netlab.PROXY_IP, squid.port, timeout=1)
    start = time.monotonic()
    harness.start_glance(api)
    report(CASE)['glance_start_seconds'] = round(time.monotonic() - start, 1)
    assert api.healthy()
    # Every worker still announces the proxy it will use.
    assert api.log().count('S3 store fast uses proxy http://glance-s3:***@%s:%d' % (netlab.PROXY_IP, squid.port)) == 2


def test_upload_fails_naming_the_proxy_then_succeeds_once_it_is_up(setup, report):
    api, squid, bucket = setup
    pids = harness.uwsgi_pids(api)
    figures = report(CASE)
    data = ImageData(500, SIZE)
    failed = harness.upload(api.url, data)
    errors = harness.error_lines(api, failed)
    figures.update(http_status=failed['status'], fail_seconds=round(failed['seconds'], 1),
                   image_status=harness.image(api.url, failed['image'])['status'],
                   request_id_in_response=bool(failed['response'] is not None and
                                               failed['response'].headers.get('x-openstack-request-id')),
                   glance_error=[line.split(' ERROR ', 1)[1][:400] for line in errors][:2],
                   response_names_proxy='%s:%d' % (netlab.PROXY_IP, squid.port) in (failed['error'] or ''))
    assert failed['status'] == 500, harness.strip(failed)
    assert failed['seconds'] < FAIL_WITHIN
    assert figures['image_status'] == 'queued'
    assert figures['request_id_in_response']
    assert any('Failed to connect to proxy URL' in line and '%s:%d' % (netlab.PROXY_IP, squid.port) in line for line in errors), errors
    assert not [p for p in leak_probes(PASSWORD) if p in api.log()]
    assert api.healthy()
    assert bucket.multipart_uploads() == [] and bucket.objects() == {}  # nothing written

    squid.start()
    up = time.monotonic()
    retried = harness.upload(api.url, data, image_id=failed['image'])  # the client tries the same image again
    figures['seconds_to_first_successful_upload'] = round(time.monotonic() - up, 1)
    assert retried.ok, harness.strip(retried)
    assert harness.check_active(api.url, failed['image'], data) == []
    fresh = ImageData(501, SIZE)
    again = harness.upload(api.url, fresh)
    assert again.ok and harness.check_active(api.url, again['image'], fresh) == []
    assert harness.uwsgi_pids(api) == pids  # no restart
    entries = harness.squid_entries(squid.log_lines())
    for image_id in (failed['image'], again['image']):
        problems = harness.part_problems(entries, image_id, SIZE, USER)[0]
        assert not problems, problems
    assert harness.orphans(bucket, api.url) == ([], [])
    assert bucket.multipart_uploads() == []
    figures.update(uploads=3, upload_bytes=3 * SIZE, errors_reported=1, errors_unreported=0)
