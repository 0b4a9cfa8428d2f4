"""s3_proxy_check through ansible-playbook: what the checks before any request
let through (an empty prefix for the read probe, a trailing dot), and the sweep
of stale probe leftovers. The values those checks refuse are tested without the
lab, in tests/unit/plugins/modules/test_s3_proxy_check.py."""

import time

import pytest

from probe_faults import BUCKET, Bucket, SlowRelay, module_args, unique_prefix


@pytest.fixture(scope='module')
def bucket(lab):
    return Bucket(lab)


@pytest.fixture
def relay(lab):
    r = SlowRelay((lab['proxy']['host'], lab['proxy']['port']))
    yield r
    r.close()


# ------------------------------------------------------------- what validation lets through

def test_empty_prefix_is_fine_for_the_read_probe(lab, run_check, relay):
    result = run_check(module_args(lab, proxy_host='127.0.0.1', proxy_port=relay.port, object_prefix=''))
    assert result['reachable'] is True, result['msg']


def test_trailing_dot_is_dropped_as_oslo_config_does(lab, run_check, relay):
    result = run_check(module_args(lab, proxy_host='localhost.', proxy_port=relay.port))
    assert result['reachable'] is True, result['msg']
    assert '@localhost:%d' % relay.port in result['proxy_url']
    assert relay.connections >= 1


# ------------------------------------------------------------- a clean run

def test_multipart_run_leaves_nothing_and_reports_hygiene_keys(lab, run_check, bucket):
    prefix = unique_prefix('module-ok')
    try:
        result = run_check(module_args(lab, probe='multipart', object_prefix=prefix, multipart_parts=3,
                                       multipart_part_size_mb=5))
        assert result['reachable'] is True, result['msg']
        assert result['multipart']['etag'].endswith('-3')
        assert result['leftovers'] == []
        assert result['swept']['stale_after_minutes'] == 60
        assert result['swept']['objects'] == [] and result['swept']['uploads'] == []
        assert bucket.left(prefix) == ([], [])
    finally:
        bucket.purge(prefix)


def test_check_mode_does_not_sweep(lab, run_check, bucket):
    prefix = unique_prefix('check-mode')
    bucket.client.put_object(Bucket=BUCKET, Key=prefix + 'kept', Body=b'x')
    try:
        result = run_check(module_args(lab, probe='write', object_prefix=prefix, stale_after_minutes=1), check=True)
        assert result['reachable'] is True
        assert result['swept']['stale_after_minutes'] is None
        assert bucket.objects(prefix) == [prefix + 'kept']
    finally:
        bucket.purge(prefix)


# ------------------------------------------------------------- the sweep

@pytest.fixture(scope='module')
def stale(lab, bucket):
    """Leftovers for the sweep tests, made once and aged past one minute on the lab's S3 clock."""
    s3 = bucket.client
    made = {'prefix': unique_prefix('sweep'), 'denied': unique_prefix('sweep-denied')}
    made['outside'] = made['prefix'][:-1] + '-'  # the same characters without the folder's '/': outside it
    made['old_keys'] = [made['prefix'] + 'old-small', made['prefix'] + 'deeper/old-small']
    try:
        for key in made['old_keys'] + [made['outside'] + 'old-object', made['denied'] + 'old-small']:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b'stale')
        made['old_upload'] = s3.create_multipart_upload(Bucket=BUCKET, Key=made['prefix'] + 'old-multipart')['UploadId']
        made['outside_upload'] = s3.create_multipart_upload(Bucket=BUCKET, Key=made['outside'] + 'old-multipart')['UploadId']
        time.sleep(62)
        yield made
    finally:
        for key in ('prefix', 'outside', 'denied'):
            bucket.purge(made[key])


def test_sweep_removes_only_stale_leftovers_under_the_prefix(lab, run_check, bucket, stale):
    prefix, outside, old_keys = stale['prefix'], stale['outside'], stale['old_keys']
    s3 = bucket.client
    s3.put_object(Bucket=BUCKET, Key=prefix + 'fresh-small', Body=b'fresh')
    fresh_upload = s3.create_multipart_upload(Bucket=BUCKET, Key=prefix + 'fresh-multipart')['UploadId']

    off = run_check(module_args(lab, probe='write', object_prefix=prefix, stale_after_minutes=0))
    assert off['reachable'] is True, off['msg']
    assert off['swept']['objects'] == [] and off['swept']['uploads'] == []
    assert set(old_keys) <= set(bucket.objects(prefix))

    result = run_check(module_args(lab, probe='multipart', object_prefix=prefix, stale_after_minutes=1,
                                   multipart_part_size_mb=5))
    assert result['reachable'] is True, result['msg']
    assert sorted(result['swept']['objects']) == sorted(old_keys)
    assert result['swept']['uploads'] == [{'key': prefix + 'old-multipart', 'upload_id': stale['old_upload']}]
    assert result['swept']['truncated'] is False
    assert result['swept']['cutoff']
    assert result['leftovers'] == []
    # The fresh ones under the prefix, and everything outside it, are untouched.
    assert bucket.objects(prefix) == [prefix + 'fresh-small']
    assert bucket.uploads(prefix) == [(prefix + 'fresh-multipart', fresh_upload)]
    assert bucket.objects(outside) == [outside + 'old-object']
    assert bucket.uploads(outside) == [(outside + 'old-multipart', stale['outside_upload'])]


def test_sweep_failure_names_the_stage_and_how_to_skip_it(lab, run_check, stale):
    # The read-only key may list but not delete: a stale leftover makes the sweep fail at s3_permission.
    reader = lab['s3']['identities']['reader']
    result = run_check(module_args(lab, probe='write', object_prefix=stale['denied'], stale_after_minutes=1,
                                   access_key=reader['access_key'], secret_key=reader['secret_key']))
    assert result['stage'] == 's3_permission', result['msg']
    assert 'Sweeping stale probe leftovers under %s' % stale['denied'] in result['msg']
    assert 'stale_after_minutes: 0 skips the sweep' in result['msg']
    assert result['probes_run'] == ['read']
