"""Proxy killed mid-upload: Squid gets SIGKILL during a 1 GiB upload and starts again a few seconds later.

The image ends ``active`` with the right checksum (botocore's retries, s3_store_max_retries = 3, carried it over),
or in a failure Glance reports (HTTP 5xx, the image back in ``queued``). Either way: no active image with wrong
data, no object that no image points to, and the next upload works without restarting Glance. An incomplete
multipart upload left by glance_store is reported (docs/reliability.md says why and what the operator does),
then aborted the way that document tells, and the client's retry of the same image must succeed."""

import signal
import threading
import time

import pytest

import harness
from harness import MIB, ImageData
from lab.constants import PASSWORD, USER, USERS, leak_probes

CASE = 'proxy_killed'
SIZE = 1024 * MIB
DOWN_SECONDS = 3
PARTS_BEFORE_KILL = 16  # of 128: the kill lands in the middle of the upload
NEXT_SIZE = 64 * MIB


@pytest.fixture(scope='module')
def setup(steady_s3, main_squid, postgres):
    squid = harness.PrivateSquid('kill', USERS).start()
    api = harness.make_glance('kill', {'fast': harness.store_section('fast', steady_s3, squid, 'rel-kill', USER)}, 'fast',
                              postgres.database('glance_kill'), processes=2)
    harness.start_glance(api)
    yield api, squid, harness.Bucket(steady_s3, main_squid, 'rel-kill')
    harness.stop_glance(api)
    squid.kill()


def _kill_during_upload(api, squid, data):
    """Upload ``data``; SIGKILL Squid once PARTS_BEFORE_KILL parts went through, start it DOWN_SECONDS later."""
    result = {}
    before = squid.log_len()
    worker = threading.Thread(target=lambda: result.update(out=harness.upload(api.url, data)))
    worker.start()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and worker.is_alive():
        if sum('partNumber=' in line for line in squid.log_lines(before)) >= PARTS_BEFORE_KILL:
            break
        time.sleep(0.05)
    assert worker.is_alive(), 'the upload ended before Squid could be killed: %s' % harness.strip(result['out'])
    killed = time.monotonic()
    squid.kill(signal.SIGKILL)
    assert not squid.running()
    time.sleep(DOWN_SECONDS)
    squid.start()
    back = time.monotonic()
    worker.join(900)
    assert not worker.is_alive(), 'the upload did not end within 15 minutes of the fault'
    return result['out'], back - killed, back


def test_squid_killed_during_a_1_gib_upload(setup, report):
    api, squid, bucket = setup
    pids = harness.uwsgi_pids(api)
    figures = report(CASE)
    rounds = figures.setdefault('rounds', [])
    counts = {'uploads': 0, 'upload_bytes': 0}
    for n in range(harness.FAULT_ROUNDS):
        data = ImageData(300 + n, SIZE)
        data.digests()
        out, down, back = _kill_during_upload(api, squid, data)
        counts['uploads'] += 1
        counts['upload_bytes'] += SIZE
        image = harness.image(api.url, out['image'])
        row = {'image_mib': SIZE // MIB, 'proxy_down_seconds': round(down, 1), 'http_status': out['status'],
               'upload_seconds': round(out['seconds'], 1), 'image_status': image['status'],
               'glance_error': [line.split(' ERROR ', 1)[1][:400] for line in harness.error_lines(api, out)][:2]}
        rounds.append(row)
        # 1. Never an active image with other bytes; a failure is one that Glance reports.
        if out.ok:
            assert harness.check_active(api.url, out['image'], data) == []
            assert bucket.objects()[out['image']] == {'size': SIZE, 'etag': data.digests()[1]}
            row['outcome'] = 'active, right checksum (retries carried it over)'
        else:
            assert out['status'] is not None and out['status'] >= 500, harness.strip(out)
            assert image['status'] == 'queued', image
            row['outcome'] = 'failed: HTTP %s, image back in queued' % out['status']
        # 2. No object that no image points to, no active image without its object.
        assert harness.orphans(bucket, api.url) == ([], [])
        # 3. Incomplete multipart uploads: only of this failed image (glance_store's limit, see the doc).
        left = bucket.multipart_uploads()
        row['incomplete_multipart_uploads'] = len(left)
        assert {u['key'] for u in left} <= ({out['image']} if not out.ok else set()), left
        # 4. The next upload works without restarting Glance: the same master and workers.
        nxt = ImageData(400 + n, NEXT_SIZE)
        ok = harness.upload(api.url, nxt)
        counts['uploads'] += 1
        counts['upload_bytes'] += NEXT_SIZE
        row['seconds_to_next_successful_upload'] = round(time.monotonic() - back, 1)
        assert ok.ok, harness.strip(ok)
        assert harness.check_active(api.url, ok['image'], nxt) == []
        assert harness.uwsgi_pids(api) == pids
        # 5. The operator's clean-up and the client's retry of the failed image (docs/reliability.md).
        if not out.ok:
            row['aborted_by_cleanup'] = len(bucket.abort_incomplete())
            assert bucket.multipart_uploads() == []
            again = harness.upload(api.url, data, image_id=out['image'])
            counts['uploads'] += 1
            counts['upload_bytes'] += SIZE
            assert again.ok, harness.strip(again)
            assert harness.check_active(api.url, out['image'], data) == []
        assert harness.orphans(bucket, api.url) == ([], [])
        figures.update(counts, outcomes=sorted({r['outcome'] for r in rounds}))


def test_no_password_in_glance_log(setup):
    api = setup[0]
    log = api.log()
    assert not [probe for probe in leak_probes(PASSWORD) if probe in log]
    assert 'glance-s3:***@' in log
