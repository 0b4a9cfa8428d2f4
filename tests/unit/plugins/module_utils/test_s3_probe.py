# -*- coding: utf-8 -*-
# The parts of s3_probe that need no network: bounds, prefixes, the part
# generator, the signal guard and the server clock. Everything that talks to S3
# is tested against the lab in tests/functional/module/test_probe_hygiene.py.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import os
import signal

import pytest

from ansible_collections.glancestore.s3proxy.plugins.module_utils import s3_probe
from ansible_collections.glancestore.s3proxy.plugins.module_utils.s3_probe import MIB

GOOD = {'multipart_part_size_mb': 8, 'multipart_parts': 2, 'connect_timeout': 10, 'read_timeout': 60,
        'direct_timeout': 5, 'stale_after_minutes': 60}


# ------------------------------------------------------------ bounds

def test_defaults_are_within_bounds():
    assert s3_probe.bounds_errors(GOOD) == []


@pytest.mark.parametrize('name,value', [
    ('multipart_part_size_mb', 5), ('multipart_part_size_mb', 512), ('multipart_parts', 2),
    ('multipart_parts', 100), ('connect_timeout', 1), ('read_timeout', 3600), ('direct_timeout', 3600),
    ('stale_after_minutes', 0),
])
def test_edges_are_allowed(name, value):
    assert s3_probe.bounds_errors(dict(GOOD, **{name: value})) == []


@pytest.mark.parametrize('name,value,needle', [
    ('multipart_part_size_mb', 4, 'set multipart_part_size_mb between 5 and 512'),
    ('multipart_part_size_mb', 513, 'set multipart_part_size_mb between 5 and 512'),
    ('multipart_parts', 1, 'set multipart_parts between 2 and 100'),
    ('multipart_parts', 101, 'set multipart_parts between 2 and 100'),
    ('connect_timeout', 0, 'set connect_timeout between 1 and 3600'),
    ('read_timeout', 3601, 'set read_timeout between 1 and 3600'),
    ('direct_timeout', -5, 'set direct_timeout between 1 and 3600'),
    ('stale_after_minutes', -1, 'set 0 to disable the sweep'),
])
def test_out_of_bounds_names_parameter_and_fix(name, value, needle):
    errors = s3_probe.bounds_errors(dict(GOOD, **{name: value}))
    assert len(errors) == 1
    assert errors[0].startswith('%s %d ' % (name, value))
    assert needle in errors[0]


# ------------------------------------------------------------ object_prefix

@pytest.mark.parametrize('prefix', ['s3-proxy-check/', 'a/', 'checks/s3-proxy/', 'x y/'])
def test_safe_prefixes(prefix):
    assert s3_probe.prefix_errors(prefix) == []


@pytest.mark.parametrize('prefix,needle', [
    ('', 'object_prefix is empty'),
    (None, 'object_prefix is empty'),
    ('s3-proxy-check', 'does not end in /'),
    ('/', 'leading /'),
    ('/checks/', 'leading /'),
    ('a//b/', 'empty folder name'),
    ('a\n/', 'control characters'),
])
def test_unsafe_prefixes(prefix, needle):
    errors = s3_probe.prefix_errors(prefix)
    assert errors and needle in ' '.join(errors)


def test_sweep_refuses_an_unsafe_prefix_before_any_request():
    prober = s3_probe.Prober(client=None, bucket='glance', timer=s3_probe.Timer())
    with pytest.raises(s3_probe.CheckError) as err:
        prober.sweep('', 60)
    assert err.value.stage == 'config' and 'Refusing to sweep' in err.value.msg


def test_sweep_disabled_does_nothing():
    prober = s3_probe.Prober(client=None, bucket='glance', timer=s3_probe.Timer())
    assert prober.sweep('', 0)['objects'] == []


# ------------------------------------------------------------ the sweep, against a client that answers from lists

NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.timezone.utc)
OLD, FRESH = NOW - datetime.timedelta(minutes=90), NOW - datetime.timedelta(minutes=5)
DATE = {'ResponseMetadata': {'HTTPHeaders': {'date': 'Thu, 01 Jan 2026 12:00:00 GMT'}}}


class ListingClient:
    """list_multipart_uploads and list_objects_v2 in pages; records every call."""

    def __init__(self, upload_pages, object_pages, abort_error=None):
        self.upload_pages, self.object_pages, self.abort_error = upload_pages, object_pages, abort_error
        self.calls = []

    def _page(self, pages, kwargs, marker, items, follow):
        index = int(kwargs.get(marker) or 0)
        page = dict(DATE, **{items: pages[index]})
        if index + 1 < len(pages):
            page.update(dict((name, str(index + 1)) for name in follow), IsTruncated=True)
        return page

    def list_multipart_uploads(self, **kwargs):
        self.calls.append(('list_uploads', kwargs.get('KeyMarker'), kwargs.get('UploadIdMarker')))
        return self._page(self.upload_pages, kwargs, 'KeyMarker', 'Uploads', ('NextKeyMarker', 'NextUploadIdMarker'))

    def list_objects_v2(self, **kwargs):
        self.calls.append(('list_objects', kwargs.get('ContinuationToken')))
        return self._page(self.object_pages, kwargs, 'ContinuationToken', 'Contents', ('NextContinuationToken',))

    def abort_multipart_upload(self, Bucket, Key, UploadId):  # pylint: disable=invalid-name
        self.calls.append(('abort', Key, UploadId))
        if self.abort_error:
            from botocore import exceptions as bex
            raise bex.ClientError({'Error': {'Code': self.abort_error}}, 'AbortMultipartUpload')

    def delete_object(self, Bucket, Key):  # pylint: disable=invalid-name
        self.calls.append(('delete', Key))


def upload(key, when, upload_id='u'):
    return {'Key': key, 'Initiated': when, 'UploadId': upload_id}


def obj(key, when):
    return {'Key': key, 'LastModified': when}


def sweep(client, limit=s3_probe.SWEEP_MAX_ITEMS):
    prober = s3_probe.Prober(client=client, bucket='glance', timer=s3_probe.Timer())
    return prober.sweep('p/', 60, limit=limit)


def test_sweep_removes_only_stale_items_under_the_prefix_on_every_page():
    client = ListingClient(
        [[upload('p/old-1', OLD, 'u1'), upload('p/fresh', FRESH), upload('q/old', OLD)], [upload('p/old-2', OLD, 'u2')]],
        [[obj('p/old-a', OLD), obj('p/fresh', FRESH), obj('pq', OLD)], [obj('p/x/old-b', OLD), obj('p/no-date', None)]])
    swept = sweep(client)
    assert swept['uploads'] == [{'key': 'p/old-1', 'upload_id': 'u1'}, {'key': 'p/old-2', 'upload_id': 'u2'}]
    assert swept['objects'] == ['p/old-a', 'p/x/old-b']
    assert swept['truncated'] is False and swept['cutoff'] == '2026-01-01T11:00:00+00:00'
    assert client.calls == [
        ('list_uploads', None, None), ('abort', 'p/old-1', 'u1'), ('list_uploads', '1', '1'), ('abort', 'p/old-2', 'u2'),
        ('list_objects', None), ('delete', 'p/old-a'), ('list_objects', '1'), ('delete', 'p/x/old-b')]


def test_sweep_stops_at_the_first_stale_item_over_the_limit():
    client = ListingClient([[upload('p/1', OLD), upload('p/2', OLD)], [upload('p/3', OLD)]], [[obj('p/a', OLD)]])
    swept = sweep(client, limit=2)
    assert swept['truncated'] is True and len(swept['uploads']) == 2 and swept['objects'] == []
    assert [call[0] for call in client.calls] == ['list_uploads', 'abort', 'abort', 'list_uploads']


def test_sweep_counts_uploads_and_objects_together_against_the_limit():
    swept = sweep(ListingClient([[upload('p/1', OLD)]], [[obj('p/a', OLD), obj('p/b', OLD)]]), limit=2)
    assert swept['truncated'] is True and len(swept['uploads']) == 1 and swept['objects'] == ['p/a']


def test_sweep_takes_an_upload_finished_meanwhile_as_gone_and_fails_on_other_errors():
    swept = sweep(ListingClient([[upload('p/1', OLD)]], [[]], abort_error='NoSuchUpload'))
    assert swept['uploads'] == [{'key': 'p/1', 'upload_id': 'u'}]
    with pytest.raises(s3_probe.CheckError) as err:
        sweep(ListingClient([[upload('p/1', OLD)]], [[]], abort_error='AccessDenied'))
    assert err.value.stage == 's3_permission' and 'stale_after_minutes: 0 skips the sweep' in err.value.msg


# ------------------------------------------------------------ part data

def test_part_data_reuses_one_buffer_and_is_unique_per_chunk():
    data = s3_probe.PartData(5 * MIB)
    first = data.fill(1)
    first_copy = bytes(first)
    second = data.fill(2)
    assert second is first and len(second) == 5 * MIB  # one buffer, refilled
    assert bytes(second) != first_copy
    chunks = [first_copy[i:i + data.STAMP_EVERY] for i in range(0, len(first_copy), data.STAMP_EVERY)]
    assert len(set(chunks)) == len(chunks)  # a reordered or repeated chunk changes the MD5


def test_part_data_is_deterministic_within_a_run_and_differs_between_runs():
    one, two = s3_probe.PartData(5 * MIB), s3_probe.PartData(5 * MIB)
    digest = hashlib.md5(bytes(one.fill(3))).hexdigest()
    assert hashlib.md5(bytes(one.fill(3))).hexdigest() == digest
    assert hashlib.md5(bytes(two.fill(3))).hexdigest() != digest


def test_part_data_refuses_partial_mebibytes():
    with pytest.raises(ValueError):
        s3_probe.PartData(MIB + 1)


# ------------------------------------------------------------ signals

def test_guard_turns_sigterm_into_interrupted_and_restores_the_handler():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(s3_probe.Interrupted) as err:
        with s3_probe.SignalGuard():
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs before the next line
            pytest.fail('SIGTERM did not interrupt')
    assert err.value.name == 'SIGTERM'
    assert signal.getsignal(signal.SIGTERM) == before


def test_guard_defers_a_signal_during_cleanup_then_raises_once():
    steps = []
    with pytest.raises(s3_probe.Interrupted) as err:
        with s3_probe.SignalGuard() as guard:
            with guard.deferred():
                os.kill(os.getpid(), signal.SIGHUP)
                steps.append('clean-up went on')
                os.kill(os.getpid(), signal.SIGTERM)
                steps.append('and on')
            steps.append('never')
    assert steps == ['clean-up went on', 'and on']
    assert err.value.name == 'SIGHUP'


def test_guard_ignores_signals_after_the_first():
    with pytest.raises(s3_probe.Interrupted):
        with s3_probe.SignalGuard() as guard:
            try:
                os.kill(os.getpid(), signal.SIGTERM)
            except s3_probe.Interrupted:
                os.kill(os.getpid(), signal.SIGTERM)  # ignored: clean-up of the first must finish
                raise
    assert guard.raised is True


def test_interrupted_is_not_an_exception():
    # botocore, urllib3 and the probe's best-effort clean-up catch Exception; this must pass through them.
    assert not issubclass(s3_probe.Interrupted, Exception)


# ------------------------------------------------------------ the server clock

def test_server_now_from_the_date_header():
    now = s3_probe._server_now({'ResponseMetadata': {'HTTPHeaders': {'date': 'Sun, 29 Nov 2026 16:27:57 GMT'}}})
    assert now == datetime.datetime(2026, 11, 29, 16, 27, 57, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize('headers', [{}, {'date': 'not a date'}])
def test_server_now_falls_back_to_this_host(headers):
    now = s3_probe._server_now({'ResponseMetadata': {'HTTPHeaders': headers}})
    assert abs((datetime.datetime.now(datetime.timezone.utc) - now).total_seconds()) < 5
