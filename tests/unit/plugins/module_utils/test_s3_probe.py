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
from ansible_collections.glancestore.s3proxy.plugins.module_utils.s3_proxy import MIB

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
