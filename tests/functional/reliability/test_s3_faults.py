"""S3 down behind the proxy, and S3 slow: an S3 server of this driver's own (never the lab's) is stopped before
an upload, killed during one, cut off by a black hole during one (nftables drops its port inside netns gs3p-s3),
and slowed down (an HTB class on its port, Squid's side of the storage link). The failures end in bounded time,
as an HTTP 5xx that Glance reports, with the S3 error in Glance's log under the request id; no object is left
that no image points to; the slow upload ends ``active`` with the right checksum; and after each fault the same
image uploads again without restarting Glance.

Squid's own timeouts (harness.SQUID_TIMEOUTS: connect_timeout 5 s) and s3_store_max_retries = 1 make the bound:
docs/reliability.md gives the formula."""

import threading
import time

import pytest

import harness
from harness import MIB, ImageData
from lab.constants import USER, USERS

CASE = 's3_faults'
KILL_SIZE = 128 * MIB
HOLE_SIZE = 40 * MIB
SLOW_SIZE = 32 * MIB
SLOW_RATE_MBIT = 16  # the 4 parts in flight share it: each takes longer than Squid's read_timeout
RETRIES = 1
POOLS = 4  # s3_store_thread_pools
CONNECT_TIMEOUT = 5  # harness.SQUID_TIMEOUTS
READ_TIMEOUT = 10


def hole_bound(size):
    """The seconds a black-holed upload may take. Every part, then the abort, is tried RETRIES + 1 times; each try
    waits for Squid's read_timeout on a kept-alive connection to S3, then its connect_timeout on a new one
    (harness.SQUID_TIMEOUTS: 10 + 5 s); botocore's back-off between tries is under a second; plus a margin."""
    parts = -(-size // (harness.PART_MIB * MIB))
    per_request = (RETRIES + 1) * (READ_TIMEOUT + CONNECT_TIMEOUT) + RETRIES * 1
    return (-(-parts // POOLS) + 2) * per_request + 30


@pytest.fixture(scope='module')
def setup(lab, postgres):
    squid = harness.PrivateSquid('s3fault', USERS).start()
    s3 = harness.PrivateS3('faulty', lab['certs']).start(['rel-s3fault'], squid)
    api = harness.make_glance('s3fault', {'fast': harness.store_section('fast', s3, squid, 'rel-s3fault', USER,
                                                                        max_retries=RETRIES)},
                              'fast', postgres.database('glance_s3fault'), processes=2)
    harness.start_glance(api)
    yield api, squid, s3, harness.Bucket(s3, squid, 'rel-s3fault')
    harness.stop_glance(api)
    s3.stop()
    squid.kill()


def _in_background(fn):
    result = {}
    worker = threading.Thread(target=lambda: result.update(out=fn()))
    worker.start()
    return worker, result


def _wait_parts(squid, before, n, worker):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and worker.is_alive():
        if sum('partNumber=' in line for line in squid.log_lines(before)) >= n:
            return
        time.sleep(0.05)
    raise AssertionError('the upload did not reach %d parts while running' % n)


def _failed_as_reported(api, out):
    image = harness.image(api.url, out['image'])
    assert out['status'] is not None and out['status'] >= 500, harness.strip(out)
    assert image['status'] == 'queued', image
    errors = [line.split(' ERROR ', 1)[1][:400] for line in harness.error_lines(api, out)]
    assert errors, 'no ERROR line in glance-api\'s log for the request'
    return errors


def _recover(api, bucket, out, data, row, since):
    """After the fault: nothing but incomplete multipart uploads of the failed image; the operator's clean-up; the
    client's retry of the same image works, without restarting Glance."""
    assert harness.orphans(bucket, api.url) == ([], [])
    left = bucket.multipart_uploads()
    row['incomplete_multipart_uploads'] = len(left)
    assert {u['key'] for u in left} <= {out['image']}, left
    row['aborted_by_cleanup'] = len(bucket.abort_incomplete())
    assert bucket.multipart_uploads() == []
    again = harness.upload(api.url, data, image_id=out['image'])
    row['seconds_to_successful_retry'] = round(time.monotonic() - since, 1)
    assert again.ok, harness.strip(again)
    assert harness.check_active(api.url, out['image'], data) == []
    assert harness.orphans(bucket, api.url) == ([], [])


def test_s3_stopped_before_an_upload(setup, report):
    api, squid, s3, bucket = setup
    pids = harness.uwsgi_pids(api)
    data = ImageData(600, 64 * MIB)
    s3.stop()
    try:
        out = harness.upload(api.url, data)
    finally:
        s3.start(['rel-s3fault'], squid)
    back = time.monotonic()
    row = report(CASE).setdefault('s3_stopped', {})
    row.update(image_mib=64, http_status=out['status'], fail_seconds=round(out['seconds'], 1))
    row['glance_error'] = _failed_as_reported(api, out)
    assert out['seconds'] < hole_bound(0)
    assert any('HeadBucket' in line and '503' in line for line in row['glance_error']), row
    assert bucket.objects() == {} and bucket.multipart_uploads() == []  # nothing was written
    _recover(api, bucket, out, data, row, back)
    assert harness.uwsgi_pids(api) == pids


def test_s3_killed_during_an_upload(setup, report):
    api, squid, s3, bucket = setup
    pids = harness.uwsgi_pids(api)
    data = ImageData(610, KILL_SIZE)
    before = squid.log_len()
    worker, result = _in_background(lambda: harness.upload(api.url, data))
    try:
        _wait_parts(squid, before, 4, worker)
        s3.stop()
        killed = time.monotonic()
        worker.join(hole_bound(KILL_SIZE) + 60)
    finally:
        s3.start(['rel-s3fault'], squid)
    back = time.monotonic()
    assert not worker.is_alive()
    out = result['out']
    row = report(CASE).setdefault('s3_killed_mid_upload', {})
    row.update(image_mib=KILL_SIZE // MIB, http_status=out['status'], seconds_after_fault=round(back - killed, 1),
               upload_seconds=round(out['seconds'], 1))
    row['glance_error'] = _failed_as_reported(api, out)
    _recover(api, bucket, out, data, row, back)
    assert harness.uwsgi_pids(api) == pids


def test_s3_black_holed_during_an_upload(setup, report):
    api, squid, s3, bucket = setup
    pids = harness.uwsgi_pids(api)
    data = ImageData(620, HOLE_SIZE)
    before = squid.log_len()
    worker, result = _in_background(lambda: harness.upload(api.url, data))
    _wait_parts(squid, before, 2, worker)
    with harness.black_hole(s3.port):
        start = time.monotonic()
        worker.join(hole_bound(HOLE_SIZE) + 60)
        failed_after = time.monotonic() - start
    assert not harness.faults_present()
    back = time.monotonic()
    assert not worker.is_alive()
    out = result['out']
    row = report(CASE).setdefault('s3_black_hole_mid_upload', {})
    row.update(image_mib=HOLE_SIZE // MIB, http_status=out['status'], fail_seconds_after_fault=round(failed_after, 1),
               bound_seconds=hole_bound(HOLE_SIZE))
    row['glance_error'] = _failed_as_reported(api, out)
    assert failed_after < hole_bound(HOLE_SIZE), row
    timeouts = [e for e in harness.squid_entries(squid.log_lines(before)) if e['status'] in (503, 504)]
    row['squid_5xx_answers'] = len(timeouts)
    assert timeouts, 'Squid answered no request with 503/504'
    _recover(api, bucket, out, data, row, back)
    assert harness.uwsgi_pids(api) == pids


def test_s3_slow_upload_ends_active(setup, report):
    api, squid, s3, bucket = setup
    data = ImageData(630, SLOW_SIZE)
    before = squid.log_len()
    with harness.slow_link(s3.port, '%dmbit' % SLOW_RATE_MBIT):
        assert harness.faults_present()
        out = harness.upload(api.url, data)
    assert not harness.faults_present()
    ideal = SLOW_SIZE * 8 / (SLOW_RATE_MBIT * 1e6)
    row = report(CASE).setdefault('s3_slow', {})
    row.update(image_mib=SLOW_SIZE // MIB, link_mbit=SLOW_RATE_MBIT, http_status=out['status'],
               upload_seconds=round(out['seconds'], 1), seconds_at_link_rate=round(ideal, 1))
    assert out.ok, harness.strip(out)
    assert harness.check_active(api.url, out['image'], data) == []
    assert out['seconds'] >= ideal * 0.8  # the link was really slow
    assert out['seconds'] < ideal * 3 + 30
    entries = harness.squid_entries(squid.log_lines(before))
    problems = harness.part_problems(entries, out['image'], SLOW_SIZE, USER)[0]
    assert not problems, problems
    # Squid's read_timeout (10 s) did not cut parts that were still being sent for longer than that.
    row['slowest_part_seconds'] = round(max(e['ms'] for e in harness.image_entries(entries, out['image'])
                                            if 'partNumber=' in e['url']) / 1000.0, 1)
    assert row['slowest_part_seconds'] > READ_TIMEOUT, row
    assert harness.orphans(bucket, api.url) == ([], [])
