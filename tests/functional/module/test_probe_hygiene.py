"""Probe objects never leak: every failure path of the write and multipart
probes, injected into a real client against the real lab (Squid + SeaweedFS).

After each, a separate clean client lists the probe's own prefix
(ListObjectsV2, ListMultipartUploads) and finds nothing. Access-log lines are
only ever filtered by the test's own unique prefix: the lab is shared.
"""

import io
import signal
import time

import pytest
from botocore import exceptions as bex
from botocore.response import StreamingBody

from lab.netlab import access_log_lines
from probe_faults import (
    BUCKET,
    Bucket,
    SlowRelay,
    module_args,
    module_result,
    run_module_process,
    s3_probe,
    settings,
    unique_prefix,
    wait_for,
)
from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import CheckError


@pytest.fixture(scope='module')
def bucket(lab):
    return Bucket(lab)


@pytest.fixture
def prefix(request, bucket):
    value = unique_prefix(request.node.name[:24].replace('[', '-').replace(']', ''))
    yield value
    bucket.purge(value)  # only after a failed assertion is there anything to purge


@pytest.fixture
def relay(lab):
    r = SlowRelay((lab['proxy']['host'], lab['proxy']['port']))
    yield r
    r.close()


def make_prober(lab, relay=None, read_timeout=30):
    s = settings(lab, proxy_host='127.0.0.1' if relay else None, proxy_port=relay.port if relay else None)
    client = s3_probe.make_client(s, connect_timeout=5, read_timeout=read_timeout)
    return s3_probe.Prober(client, BUCKET, s3_probe.Timer(), True, cleanup_client=s3_probe.make_cleanup_client(s))


def fail_after_call(prober, operation, nth=1, exc=None):
    """Raise from the probe client's after-call hook: the server has done the work."""
    calls = {'n': 0}

    def hook(**kwargs):
        calls['n'] += 1
        if calls['n'] == nth:
            raise exc or bex.ReadTimeoutError(endpoint_url='http://s3.lab.test:8333/injected')

    prober.client.meta.events.register('after-call.s3.%s' % operation, hook)
    return calls


def served(lab, prefix, method, needle=''):
    """Squid lines of this test's own prefix proving S3 answered 200 to ``method``."""
    return [line for line in access_log_lines(lab) if prefix in line and ' %s ' % method in line
            and needle in line and '/200 ' in line]


def assert_clean(bucket, prefix, prober=None):
    objects, uploads = bucket.left(prefix)
    assert objects == [] and uploads == [], (objects, uploads)
    if prober is not None:
        assert prober.leftovers == []


# ------------------------------------------------------------- write probe

def test_put_fails_after_the_server_stored_the_object(lab, bucket, prefix):
    prober = make_prober(lab)
    calls = fail_after_call(prober, 'PutObject')
    with pytest.raises(CheckError) as err:
        prober.write(prefix)
    assert err.value.stage == 'upstream_connect'
    assert calls['n'] == 1 and served(lab, prefix, 'PUT', '-small')
    assert_clean(bucket, prefix, prober)


def test_put_read_timeout_after_the_body_went_out(lab, bucket, prefix, relay):
    relay.hold(r'^PUT .*-small ', 4)
    prober = make_prober(lab, relay, read_timeout=1)
    with pytest.raises(CheckError) as err:
        prober.write(prefix)
    assert err.value.stage == 'upstream_connect'
    assert err.value.error_code == 'ReadTimeoutError'
    assert served(lab, prefix, 'PUT', '-small')  # S3 stored it; only the answer was late
    assert_clean(bucket, prefix, prober)


def test_read_back_fails_after_put(lab, bucket, prefix):
    prober = make_prober(lab)
    fail_after_call(prober, 'GetObject', exc=bex.ConnectionClosedError(endpoint_url='http://s3.lab.test:8333/x'))
    with pytest.raises(CheckError) as err:
        prober.write(prefix)
    assert err.value.stage == 'upstream_connect'
    assert_clean(bucket, prefix, prober)


def test_read_back_differs(lab, bucket, prefix):
    prober = make_prober(lab)

    def corrupt(parsed, **kwargs):
        body = b'\0' * (64 * 1024)
        parsed['Body'] = StreamingBody(io.BytesIO(body), len(body))

    prober.client.meta.events.register('after-call.s3.GetObject', corrupt)
    with pytest.raises(CheckError) as err:
        prober.write(prefix)
    assert err.value.stage == 'data'
    assert 'read back differs' in err.value.msg
    assert_clean(bucket, prefix, prober)


def test_failed_cleanup_is_reported_and_the_first_error_kept(lab, bucket, prefix):
    prober = make_prober(lab)
    fail_after_call(prober, 'GetObject')

    def refuse(**kwargs):
        raise bex.EndpointConnectionError(endpoint_url='http://s3.lab.test:8333/cleanup-refused')

    prober.cleanup_client.meta.events.register('before-call.s3.DeleteObject', refuse)
    with pytest.raises(CheckError) as err:
        prober.write(prefix)
    assert err.value.stage == 'upstream_connect' and 'Reading' in err.value.msg
    objects, _uploads = bucket.left(prefix)
    assert [item['key'] for item in prober.leftovers] == objects and len(objects) == 1
    assert 'EndpointConnectionError' in prober.leftovers[0]['error']


def test_delete_failure_after_a_good_probe_is_the_failure(lab, bucket, prefix):
    prober = make_prober(lab)

    def refuse(**kwargs):
        raise bex.EndpointConnectionError(endpoint_url='http://s3.lab.test:8333/cleanup-refused')

    prober.cleanup_client.meta.events.register('before-call.s3.DeleteObject', refuse)
    with pytest.raises(CheckError) as err:
        prober.write(prefix)
    assert err.value.msg.startswith('Deleting %s' % prefix)
    assert len(prober.leftovers) == 1


# ------------------------------------------------------------- multipart probe

def test_create_fails_after_the_server_created_the_upload(lab, bucket, prefix):
    prober = make_prober(lab)
    fail_after_call(prober, 'CreateMultipartUpload')
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 2)
    assert err.value.stage == 'upstream_connect'
    assert served(lab, prefix, 'POST', '?uploads')
    assert_clean(bucket, prefix, prober)


def test_create_read_timeout(lab, bucket, prefix, relay):
    relay.hold(r'^POST .*\?uploads ', 4)
    prober = make_prober(lab, relay, read_timeout=1)
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 2)
    assert err.value.error_code == 'ReadTimeoutError'
    assert served(lab, prefix, 'POST', '?uploads')
    assert_clean(bucket, prefix, prober)


def test_part_fails(lab, bucket, prefix):
    prober = make_prober(lab)
    fail_after_call(prober, 'UploadPart', nth=2)
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 3)
    assert 'Uploading part 2' in err.value.msg
    assert_clean(bucket, prefix, prober)


def test_complete_fails_after_the_server_completed(lab, bucket, prefix):
    prober = make_prober(lab)
    fail_after_call(prober, 'CompleteMultipartUpload')
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 2)
    assert 'Completing multipart upload' in err.value.msg
    assert served(lab, prefix, 'POST', 'uploadId=')
    assert_clean(bucket, prefix, prober)


def test_complete_read_timeout(lab, bucket, prefix, relay):
    relay.hold(r'^POST .*uploadId=', 4)
    prober = make_prober(lab, relay, read_timeout=1)
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 2)
    assert err.value.error_code == 'ReadTimeoutError'
    assert served(lab, prefix, 'POST', 'uploadId=')
    assert_clean(bucket, prefix, prober)


def test_etag_not_multipart(lab, bucket, prefix):
    prober = make_prober(lab)
    prober.client.meta.events.register('after-call.s3.HeadObject',
                                       lambda parsed, **kw: parsed.update(ETag='"0123456789abcdef"'))
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 2)
    assert err.value.stage == 'data' and 'not a multipart ETag' in err.value.msg
    assert_clean(bucket, prefix, prober)


def test_multipart_read_back_differs(lab, bucket, prefix):
    prober = make_prober(lab)

    def corrupt(parsed, **kwargs):
        body = b'\1' * (10 * 1024 * 1024)
        parsed['Body'] = StreamingBody(io.BytesIO(body), len(body))

    prober.client.meta.events.register('after-call.s3.GetObject', corrupt)
    with pytest.raises(CheckError) as err:
        prober.multipart(prefix, 5, 2)
    assert err.value.stage == 'data' and 'read back differs' in err.value.msg
    assert_clean(bucket, prefix, prober)


def test_multipart_good_run_leaves_nothing(lab, bucket, prefix):
    prober = make_prober(lab)
    out = prober.multipart(prefix, 5, 3)
    assert out['etag'].endswith('-3') and out['size'] == 15 * 1024 * 1024
    assert_clean(bucket, prefix, prober)


# ------------------------------------------------------------- signals (the module as its own process)

@pytest.mark.parametrize('signame,probe,hold', [
    ('SIGTERM', 'multipart', r'^PUT .*partNumber=1 '),
    ('SIGHUP', 'multipart', r'^PUT .*partNumber=1 '),
    ('SIGTERM', 'multipart', r'^POST .*\?uploads '),
    ('SIGTERM', 'write', r'^PUT .*-small '),
])
def test_signal_mid_probe_cleans_up(lab, bucket, prefix, relay, tmp_path, signame, probe, hold):
    relay.hold(hold, 120)  # the module is stuck after the request went through
    args = module_args(lab, proxy_host='127.0.0.1', proxy_port=relay.port, probe=probe, object_prefix=prefix,
                       multipart_part_size_mb=64, multipart_parts=20, read_timeout=300)
    proc = run_module_process(args, tmp_path)
    try:
        wait_for(lambda: relay.seen(hold))
        wait_for(lambda: any(bucket.left(prefix)))  # S3 holds an object or an upload now
        time.sleep(0.3)
        proc.send_signal(getattr(signal, signame))
        result, rc, err = module_result(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 1, err
    assert result['failed'] is True
    assert result['stage'] == 'interrupted', result['msg']
    assert ('Interrupted by %s during the %s probe' % (signame, probe)) in result['msg']
    assert result['leftovers'] == []
    assert_clean(bucket, prefix)


def test_second_signal_during_cleanup_is_ignored(lab, bucket, prefix, relay, tmp_path):
    relay.hold(r'^PUT .*-small ', 120)
    relay.hold(r'^DELETE .*-small ', 3)  # clean-up is slow: a second signal lands inside it
    args = module_args(lab, proxy_host='127.0.0.1', proxy_port=relay.port, probe='write', object_prefix=prefix)
    proc = run_module_process(args, tmp_path)
    try:
        wait_for(lambda: bucket.objects(prefix))
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: relay.seen(r'^DELETE .*-small '))
        proc.send_signal(signal.SIGTERM)
        proc.send_signal(signal.SIGHUP)
        result, rc, err = module_result(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 1, err
    assert result['stage'] == 'interrupted'
    assert result['leftovers'] == []
    assert_clean(bucket, prefix)
