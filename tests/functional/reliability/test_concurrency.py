"""Concurrency: 8 uploads of 256 MiB at once through one proxied store, spread over glance-api's workers, while a
second store uploads through the same Squid under a second proxy user; then 8 concurrent downloads."""

import time

import pytest

import harness
from harness import MIB, ImageData
from lab.constants import USER, USER_B

CASE = 'concurrency'
SIZE = 256 * MIB
UPLOADS = 8  # to store fast, as glance-s3
UPLOADS_B = 2  # to store second, as glance-s3b, at the same time
DOWNLOADS = 8
PROCESSES = 4


@pytest.fixture(scope='module')
def glance(main_squid, steady_s3, postgres):
    api = harness.make_glance('main', {
        'fast': harness.store_section('fast', steady_s3, main_squid, 'rel-main', USER),
        'second': harness.store_section('second', steady_s3, main_squid, 'rel-main-b', USER_B)}, 'fast',
        postgres.database('glance_main'), processes=PROCESSES)
    harness.start_glance(api)
    yield api
    harness.stop_glance(api)


@pytest.fixture(scope='module')
def uploaded(glance, main_squid, report):
    """The uploads, all at once: [{data, store, user, bucket, out}], and Squid's log length before them."""
    rows = [{'data': ImageData(100 + i, SIZE), 'store': 'fast', 'user': USER, 'bucket': 'rel-main'} for i in range(UPLOADS)]
    rows += [{'data': ImageData(200 + i, SIZE), 'store': 'second', 'user': USER_B, 'bucket': 'rel-main-b'}
             for i in range(UPLOADS_B)]
    harness.run_parallel([lambda r=r: r['data'].digests() for r in rows], 2)
    before = main_squid.log_len()
    start = time.monotonic()
    outs = harness.run_parallel([lambda r=r: harness.upload(glance.url, r['data'], store=r['store']) for r in rows], len(rows))
    wall = time.monotonic() - start
    for row, out in zip(rows, outs):
        row['out'] = out
    ids = {o['image'] for o in outs if o['image']}
    served = [line[0] for line in harness.request_log(glance) if line[1] == 'PUT' and line[2].split('/')[3] in ids]
    total = sum(r['data'].size for r in rows)
    report(CASE).update(
        uploads=len(rows), upload_bytes=total, image_mib=SIZE // MIB, workers=PROCESSES,
        upload_wall_seconds=round(wall, 1), upload_mib_per_s=round(total / MIB / wall, 1),
        upload_seconds_max=round(max(o['seconds'] for o in outs), 1),
        upload_errors=sum(not o.ok for o in outs), errors=[harness.strip(o) for o in outs if not o.ok],
        client_concurrency=harness.max_overlap([(o['start'], o['start'] + o['seconds']) for o in outs]),
        uploads_per_worker=sorted((served.count(pid) for pid in set(served)), reverse=True))
    return rows, before


def test_every_upload_ends_active_with_its_checksum_and_size(glance, uploaded):
    rows = uploaded[0]
    failed = [harness.strip(r['out']) for r in rows if not r['out'].ok]
    assert not failed, '%s\n%s' % (failed, glance.log_tail())
    problems = [p for r in rows for p in harness.check_active(glance.url, r['out']['image'], r['data'])]
    assert not problems, problems
    for row in rows:
        assert harness.image(glance.url, row['out']['image'])['stores'] == row['store']


def test_uploads_were_spread_over_every_worker(glance, uploaded, report):
    ids = {r['out']['image'] for r in uploaded[0]}
    served = {line[0] for line in harness.request_log(glance)
              if line[1] == 'PUT' and line[4] == 204 and line[2].split('/')[3] in ids}
    assert served == set(harness.workers(glance)), served
    assert report(CASE)['client_concurrency'] == UPLOADS + UPLOADS_B


def test_squid_logged_every_part_under_the_right_user(main_squid, uploaded, report):
    rows, before = uploaded
    entries = harness.squid_entries(main_squid.log_lines(before))
    problems, parts = [], {}
    for row in rows:
        found, count = harness.part_problems(entries, row['out']['image'], row['data'].size, row['user'])
        problems += found
        parts[row['user']] = parts.get(row['user'], 0) + count
    report(CASE)['squid_part_lines'] = parts
    assert not problems, problems
    assert parts == {USER: UPLOADS * SIZE // (harness.PART_MIB * MIB), USER_B: UPLOADS_B * SIZE // (harness.PART_MIB * MIB)}


def test_s3_holds_exactly_the_images_with_their_etags(steady_s3, main_squid, uploaded):
    for bucket in ('rel-main', 'rel-main-b'):
        objects = harness.Bucket(steady_s3, main_squid, bucket).objects()
        mine = {r['out']['image']: r['data'] for r in uploaded[0] if r['bucket'] == bucket}
        assert set(objects) == set(mine), (bucket, sorted(objects))
        for image_id, data in mine.items():
            assert objects[image_id] == {'size': data.size, 'etag': data.digests()[1]}, image_id
        assert harness.Bucket(steady_s3, main_squid, bucket).multipart_uploads() == []


def test_eight_concurrent_downloads_read_the_same_bytes(glance, uploaded, report):
    first = uploaded[0][0]
    start = time.monotonic()
    outs = harness.run_parallel([lambda: harness.download(glance.url, first['out']['image'])] * DOWNLOADS, DOWNLOADS)
    wall = time.monotonic() - start
    report(CASE).update(downloads=DOWNLOADS, download_bytes=sum(o['bytes'] for o in outs), download_wall_seconds=round(wall, 1),
                        download_mib_per_s=round(sum(o['bytes'] for o in outs) / MIB / wall, 1),
                        download_errors=sum(not o.ok for o in outs))
    assert all(o.ok for o in outs), [harness.strip(o) for o in outs]
    assert {o['md5'] for o in outs} == {first['data'].digests()[0]}
    assert {o['bytes'] for o in outs} == {SIZE}


def test_no_worker_kept_a_proxy_context_or_an_s3_client(glance, report):
    states = harness.probe_states(glance)
    report(CASE)['extension_state'] = {'announced_per_worker': sorted({s['announced_len'] for s in states.values()}),
                                       'contexts_left_set': sum(s['context_set_after'] for s in states.values()),
                                       'botocore_clients_alive': sum(s['botocore_clients'] for s in states.values())}
    for state in states.values():
        assert state['context_set_after'] == 0 and not state['context_now'], state
        assert state['announced_len'] == 2, state  # fast and second, once per process
        assert state['botocore_clients'] == 0, state
