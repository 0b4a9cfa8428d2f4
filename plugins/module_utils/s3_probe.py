# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""boto3 probes of the Glance host -> proxy -> S3 path.

The proxy is botocore's own ``Config(proxies=..., proxies_config=...)``;
nothing here speaks HTTP by hand.

Probe hygiene: every probe object and multipart upload is removed on every
way out, including the ambiguous ones (a timeout after the server stored the
data, a signal). The clean-up is idempotent (a delete of a missing key and an
abort of a finished upload are harmless), runs on a separate client with
short timeouts and a retry, and a SIGTERM or SIGHUP cannot cut it short. What
clean-up could not remove is reported, and a later write or multipart run
sweeps the leftovers under the probe prefix once they are stale.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import hashlib
import os
import signal
import struct
import time
import uuid

from email.utils import parsedate_to_datetime

from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import CheckError, advice, classify_exception
from ansible_collections.glancestore.s3proxy.plugins.module_utils.proxy_url import build_proxy_url

try:
    import boto3
    from botocore.config import Config
    from botocore import exceptions as bex
except ImportError:  # handled by the module with missing_required_lib
    boto3 = None
    Config = None
    bex = None


MIB = 1024 * 1024

# Bounds of the probe parameters, checked before any request. One part buffer
# is held in memory, so the part size bounds the probe's memory.
PART_SIZE_MB_MIN = 5      # the S3 minimum for every part but the last
PART_SIZE_MB_MAX = 512    # one buffer of this size is held in memory
PARTS_MIN = 2             # fewer is not multipart
PARTS_MAX = 100           # at most 50 GiB written and read back
TIMEOUT_MIN = 1
TIMEOUT_MAX = 3600
SWEEP_MAX_ITEMS = 1000    # objects plus uploads removed by one sweep at most
CLEANUP_CONNECT_TIMEOUT = 10
CLEANUP_READ_TIMEOUT = 30
CLEANUP_ATTEMPTS = 3
READ_CHUNK = MIB
WRITE_PROBE_SIZE = 64 * 1024

INTERRUPT_SIGNALS = ('SIGTERM', 'SIGHUP')


def bounds_errors(params):
    """Messages for probe parameters outside their bounds, each naming the fix."""
    errors = []
    size = params.get('multipart_part_size_mb')
    if size is not None and size < PART_SIZE_MB_MIN:
        errors.append('multipart_part_size_mb %d is under %d: S3 refuses parts under %d MiB; set multipart_part_size_mb'
                      ' between %d and %d.' % (size, PART_SIZE_MB_MIN, PART_SIZE_MB_MIN, PART_SIZE_MB_MIN, PART_SIZE_MB_MAX))
    elif size is not None and size > PART_SIZE_MB_MAX:
        errors.append('multipart_part_size_mb %d is over %d: the probe holds one part in memory; set'
                      ' multipart_part_size_mb between %d and %d.' % (size, PART_SIZE_MB_MAX, PART_SIZE_MB_MIN, PART_SIZE_MB_MAX))
    parts = params.get('multipart_parts')
    if parts is not None and not PARTS_MIN <= parts <= PARTS_MAX:
        errors.append('multipart_parts %d is outside %d-%d: use at least %d so the object is really multipart, and at'
                      ' most %d; set multipart_parts between %d and %d.'
                      % (parts, PARTS_MIN, PARTS_MAX, PARTS_MIN, PARTS_MAX, PARTS_MIN, PARTS_MAX))
    for name in ('connect_timeout', 'read_timeout', 'direct_timeout'):
        value = params.get(name)
        if value is not None and not TIMEOUT_MIN <= value <= TIMEOUT_MAX:
            errors.append('%s %d is outside %d-%d seconds: set %s between %d and %d.'
                          % (name, value, TIMEOUT_MIN, TIMEOUT_MAX, name, TIMEOUT_MIN, TIMEOUT_MAX))
    stale = params.get('stale_after_minutes')
    if stale is not None and stale < 0:
        errors.append('stale_after_minutes %d is negative: set 0 to disable the sweep, or the age in minutes after'
                      ' which probe leftovers are removed.' % stale)
    return errors


def prefix_errors(prefix):
    """Why ``object_prefix`` is unsafe for probe objects and the sweep; empty when it is safe.

    Glance names S3 objects after image ids, with no ``/``. A prefix that is a
    folder of its own (non-empty, ending in ``/``) can never match a Glance image,
    so the sweep cannot delete one.
    """
    if not prefix:
        return ['object_prefix is empty: probe objects would sit among Glance images, and the sweep of stale'
                ' probe leftovers could delete images; use a folder of its own such as s3-proxy-check/.']
    errors = []
    if not prefix.endswith('/'):
        errors.append('object_prefix %r does not end in /: the sweep of stale probe leftovers could match Glance'
                      ' image keys that start the same way; use a folder of its own, for example %r.'
                      % (prefix, prefix + '/'))
    if prefix.startswith('/') or '//' in prefix or any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        errors.append('object_prefix %r has a leading /, an empty folder name (//) or control characters:'
                      ' use a plain folder such as s3-proxy-check/.' % prefix)
    return errors


class Interrupted(BaseException):
    """Raised by the signal handler so that every ``finally`` clean-up runs.

    A BaseException, like KeyboardInterrupt, so that no ``except Exception``
    of botocore, urllib3 or this file swallows it.
    """

    def __init__(self, signum):
        self.signum = signum
        try:
            self.name = signal.Signals(signum).name
        except ValueError:
            self.name = str(signum)
        super(Interrupted, self).__init__('interrupted by %s' % self.name)


class SignalGuard:
    """Turns SIGTERM and SIGHUP into :class:`Interrupted` while the probes run.

    The first signal raises once. A signal that arrives inside :meth:`deferred`
    (clean-up) is held until the clean-up is over, and later signals are
    ignored, so the clean-up that the first signal set off can finish.
    """

    def __init__(self, signals=INTERRUPT_SIGNALS):
        self.signals = [getattr(signal, name) for name in signals if hasattr(signal, name)]
        self.previous = {}
        self.received = None
        self.raised = False
        self.depth = 0

    def __enter__(self):
        for signum in self.signals:
            try:
                self.previous[signum] = signal.signal(signum, self._handler)
            except (ValueError, OSError):  # not the main thread: nothing to install
                pass
        return self

    def __exit__(self, *exc_info):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}
        return False

    def _handler(self, signum, frame):
        if self.received is None:
            self.received = signum
        if self.depth or self.raised:
            return
        self.raised = True
        raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self):
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.received is not None and not self.raised:
            self.raised = True
            raise Interrupted(self.received)


class NoGuard:
    """The guard used when none is given: clean-up is simply not deferred."""

    received = None

    @contextlib.contextmanager
    def deferred(self):
        yield


class Timer:
    """Collects per-phase timings in milliseconds."""

    def __init__(self):
        self.timings = {}

    def run(self, phase, func, *args, **kwargs):
        start = time.monotonic()
        try:
            return func(*args, **kwargs)
        finally:
            self.timings[phase] = round((time.monotonic() - start) * 1000.0, 1)


def _md5():
    try:
        return hashlib.md5(usedforsecurity=False)  # FIPS hosts: a checksum, not security
    except TypeError:  # pragma: no cover - Python < 3.9
        return hashlib.md5()  # nosec


class PartData:
    """The multipart probe's content, one part at a time, into one reused buffer.

    A 1 MiB random tile per run is copied across the part, and every 64 KiB
    chunk starts with a 16-byte stamp derived from (run nonce, part number,
    offset) with SHA-256. So
    no two chunks of the object are alike (a reordered, repeated or lost chunk
    changes the object's MD5), and it costs a memory copy instead of
    ``os.urandom`` for every byte.
    """

    TILE = MIB
    STAMP_EVERY = 64 * 1024

    def __init__(self, part_size):
        if part_size <= 0 or part_size % self.TILE:
            raise ValueError('part size must be a positive multiple of 1 MiB')
        self.part_size = part_size
        self.nonce = os.urandom(16)
        self.tile = os.urandom(self.TILE)
        self.buffer = bytearray(part_size)

    def fill(self, number):
        view = memoryview(self.buffer)
        for offset in range(0, self.part_size, self.TILE):
            view[offset:offset + self.TILE] = self.tile
        for offset in range(0, self.part_size, self.STAMP_EVERY):
            view[offset:offset + 16] = hashlib.sha256(self.nonce + struct.pack('>IQ', number, offset)).digest()[:16]
        view.release()
        return self.buffer


def proxy_url_for(settings):
    if not settings.get('proxy_host'):
        return None
    return build_proxy_url(settings['proxy_host'], settings.get('proxy_port') or 8080,
                           settings.get('proxy_user'), settings.get('proxy_password'),
                           settings.get('proxy_scheme') or 'http')


def make_client(settings, use_proxy=True, connect_timeout=10, read_timeout=30, max_attempts=1):
    """An S3 client configured as Glance's S3 store would be, plus the proxy."""
    config_args = {
        's3': {'addressing_style': settings.get('addressing_style') or 'auto'},
        'connect_timeout': connect_timeout,
        'read_timeout': read_timeout,
        'retries': {'max_attempts': max_attempts, 'mode': 'standard'},
        # Never fall back to HTTP(S)_PROXY from the environment: an empty dict
        # is not None, so botocore does not look at the environment at all.
        'proxies': {},
    }
    url = proxy_url_for(settings) if use_proxy else None
    if url:
        config_args['proxies'] = {'http': url, 'https': url}
        if settings.get('proxy_ca_bundle'):
            config_args['proxies_config'] = {'proxy_ca_bundle': settings['proxy_ca_bundle']}
        elif (settings.get('proxy_scheme') or 'http') == 'https':
            # Without a bundle botocore verifies no proxy certificate on http:// endpoints (CERT_NONE):
            # the proxy credentials would go to whoever answers. Use botocore's default bundle, as Glance does.
            from botocore.httpsession import get_cert_path  # pylint: disable=import-outside-toplevel
            config_args['proxies_config'] = {'proxy_ca_bundle': get_cert_path(True)}
    verify = settings.get('ca_bundle') or settings.get('validate_certs', True)
    return boto3.session.Session(
        aws_access_key_id=settings.get('access_key'),
        aws_secret_access_key=settings.get('secret_key'),
    ).client(
        's3',
        endpoint_url=settings['endpoint_url'],
        region_name=settings.get('region') or 'us-east-1',
        verify=verify,
        config=Config(**config_args),
    )


def make_cleanup_client(settings, connect_timeout=CLEANUP_CONNECT_TIMEOUT, read_timeout=CLEANUP_READ_TIMEOUT):
    """The client that removes probe objects: same path, short timeouts, retries."""
    return make_client(settings, connect_timeout=min(connect_timeout, CLEANUP_CONNECT_TIMEOUT),
                       read_timeout=min(read_timeout, CLEANUP_READ_TIMEOUT), max_attempts=CLEANUP_ATTEMPTS)


def _fail_from(exc, proxied, action):
    stage, status, code, detail = classify_exception(exc, proxied=proxied)
    msg = '%s failed at stage %s: %s Detail: %s' % (action, stage, advice(stage), detail)
    return CheckError(stage, msg, http_status=status, error_code=code)


def _call(timer, phase, action, proxied, func, **kwargs):
    try:
        return timer.run(phase, func, **kwargs)
    except CheckError:
        raise
    except Exception as exc:  # botocore raises many unrelated classes
        raise _fail_from(exc, proxied, action)


def _error_code(exc):
    response = getattr(exc, 'response', None) or {}
    return (response.get('Error') or {}).get('Code')


def _server_now(response):
    """The S3 server's clock from a response's Date header, else this host's."""
    date = ((response.get('ResponseMetadata') or {}).get('HTTPHeaders') or {}).get('date')
    if date:
        try:
            now = parsedate_to_datetime(date)
            if now.tzinfo is not None:
                return now
        except (TypeError, ValueError, IndexError):
            pass
    return datetime.datetime.now(datetime.timezone.utc)


def probe_read(client, bucket, timer, proxied=True):
    _call(timer, 'list_objects', 'Listing bucket %s' % bucket, proxied,
          client.list_objects_v2, Bucket=bucket, MaxKeys=1)


class Prober:
    """The writing probes and their clean-up, against one bucket."""

    def __init__(self, client, bucket, timer, proxied=True, cleanup_client=None, guard=None):
        self.client = client
        self.bucket = bucket
        self.timer = timer
        self.proxied = proxied
        self._cleanup_client = cleanup_client
        self.guard = guard or NoGuard()
        self.leftovers = []
        self.swept = {'stale_after_minutes': None, 'cutoff': None, 'objects': [], 'uploads': [], 'truncated': False}

    @property
    def cleanup_client(self):
        if callable(self._cleanup_client):  # a factory: the client is made only when needed
            self._cleanup_client = self._cleanup_client()
        return self._cleanup_client or self.client

    def _call(self, phase, action, func, **kwargs):
        return _call(self.timer, phase, action, self.proxied, func, **kwargs)

    def read(self):
        probe_read(self.client, self.bucket, self.timer, self.proxied)

    # -- the sweep ---------------------------------------------------------
    def sweep(self, prefix, stale_after_minutes, limit=SWEEP_MAX_ITEMS):
        """Remove probe uploads and objects under ``prefix`` older than the bound.

        The bound is measured on the S3 server's clock (the Date header of the
        listing), so this host's clock does not matter. Only keys that start
        with ``prefix`` are touched, and ``prefix`` must be a folder of its own.
        """
        self.swept['stale_after_minutes'] = stale_after_minutes
        if not stale_after_minutes:
            return self.swept
        problems = prefix_errors(prefix)
        if problems:
            raise CheckError('config', 'Refusing to sweep: ' + ' '.join(problems))
        start = time.monotonic()
        try:
            self._sweep(prefix, stale_after_minutes, limit)
        except (CheckError, Interrupted):
            raise
        except Exception as exc:  # botocore raises many unrelated classes
            error = _fail_from(exc, self.proxied, 'Sweeping stale probe leftovers under %s' % prefix)
            error.msg += ' (stale_after_minutes: 0 skips the sweep.)'
            raise error
        finally:
            self.timer.timings['sweep'] = round((time.monotonic() - start) * 1000.0, 1)
        return self.swept

    def _sweep(self, prefix, minutes, limit):
        age = datetime.timedelta(minutes=minutes)
        removed = 0
        uploads = self._stale(self.client.list_multipart_uploads, 'Uploads', 'Initiated', prefix, age, lambda page: {
            'KeyMarker': page.get('NextKeyMarker'), 'UploadIdMarker': page.get('NextUploadIdMarker')})
        for key, upload in uploads:
            if removed >= limit:
                self.swept['truncated'] = True
                return
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload['UploadId'])
            except bex.ClientError as exc:
                if _error_code(exc) != 'NoSuchUpload':  # finished or aborted meanwhile
                    raise
            self.swept['uploads'].append({'key': key, 'upload_id': upload['UploadId']})
            removed += 1
        objects = self._stale(self.client.list_objects_v2, 'Contents', 'LastModified', prefix, age,
                              lambda page: {'ContinuationToken': page['NextContinuationToken']})
        for key, _obj in objects:
            if removed >= limit:
                self.swept['truncated'] = True
                return
            self.client.delete_object(Bucket=self.bucket, Key=key)
            self.swept['objects'].append(key)
            removed += 1

    def _stale(self, list_page, items, stamp, prefix, age, next_page):
        """(key, item) for each listed item under ``prefix`` older than ``age`` on the server's clock, page by page."""
        kwargs = {'Bucket': self.bucket, 'Prefix': prefix}
        while True:
            page = list_page(**kwargs)
            cutoff = _server_now(page) - age
            self.swept['cutoff'] = cutoff.isoformat()
            for item in page.get(items) or []:
                key, when = item.get('Key') or '', item.get(stamp)
                if key.startswith(prefix) and when is not None and when < cutoff:
                    yield key, item
            if not page.get('IsTruncated'):
                return
            kwargs.update(next_page(page))

    # -- clean-up ----------------------------------------------------------
    def _left(self, key, upload_id, exc):
        self.leftovers.append({'key': key, 'upload_id': upload_id, 'error': '%s: %s' % (type(exc).__name__, exc)})

    def _uploads_of(self, key):
        """Upload ids of ``key`` on the server: for a create whose answer was lost."""
        ids = []
        kwargs = {'Bucket': self.bucket, 'Prefix': key}
        while True:
            page = self.cleanup_client.list_multipart_uploads(**kwargs)
            ids.extend(u['UploadId'] for u in page.get('Uploads') or [] if u.get('Key') == key)
            if not page.get('IsTruncated'):
                return ids
            kwargs.update(KeyMarker=page.get('NextKeyMarker'), UploadIdMarker=page.get('NextUploadIdMarker'))

    def _abort(self, key, upload_id):
        try:
            ids = [upload_id] if upload_id else self._uploads_of(key)
        except Exception as exc:  # reported as a leftover; the first error is the one to raise
            self._left(key, None, exc)
            return
        for uid in ids:
            try:
                self.cleanup_client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=uid)
            except Exception as exc:  # reported as a leftover
                if _error_code(exc) != 'NoSuchUpload':  # completed or already gone: nothing left
                    self._left(key, uid, exc)

    def cleanup(self, key, succeeded, multipart=False, upload_id=None):
        """Remove the probe's object (and upload). Signals wait until it is done.

        After a success a failed delete is the probe's failure. After any other
        outcome the delete and the abort are attempted whatever state the server
        may be in, and what fails is only recorded: the first error is reported.
        """
        state = {'done': False}
        try:
            with self.guard.deferred():
                self._cleanup(key, succeeded, multipart, upload_id, state)
        except Interrupted:
            # The signal came in before clean-up could defer it. It has been
            # raised once; later signals are ignored, so this run completes.
            if not state['done']:
                self._cleanup(key, succeeded, multipart, upload_id, state)
            raise

    def _cleanup(self, key, succeeded, multipart, upload_id, state):
        if multipart and not succeeded:
            self._abort(key, upload_id)
        try:
            self.timer.run('delete_object', self.cleanup_client.delete_object, Bucket=self.bucket, Key=key)
        except Exception as exc:  # botocore raises many unrelated classes
            self._left(key, None, exc)
            state['done'] = True
            if succeeded:
                raise _fail_from(exc, self.proxied, 'Deleting %s' % key)
        state['done'] = True

    # -- reading back ------------------------------------------------------
    def _read_back(self, key, phase):
        """(bytes read, MD5 hex digest) of ``key``, streamed: never the whole object in memory."""
        resp = self._call(phase, 'Reading %s' % key, self.client.get_object, Bucket=self.bucket, Key=key)
        digest = _md5()
        state = {'size': 0}

        def consume():
            for chunk in resp['Body'].iter_chunks(READ_CHUNK):
                digest.update(chunk)
                state['size'] += len(chunk)

        self._call(phase + '_body', 'Reading %s' % key, consume)
        return state['size'], digest.hexdigest()

    # -- the probes --------------------------------------------------------
    def write(self, prefix):
        key = '%s%s-small' % (prefix, uuid.uuid4().hex)
        payload = os.urandom(WRITE_PROBE_SIZE)
        succeeded = False
        try:
            # The server may store the object even when this call fails (for
            # example a read timeout after the body went out): clean-up runs
            # in every case.
            self._call('put_object', 'Writing %s' % key, self.client.put_object,
                       Bucket=self.bucket, Key=key, Body=payload)
            size, md5 = self._read_back(key, 'get_object')
            expected = _md5()
            expected.update(payload)
            if size != len(payload) or md5 != expected.hexdigest():
                raise CheckError('data', 'Object %s read back differs from what was written (%d bytes written, %d read): %s'
                                 % (key, len(payload), size, advice('data')))
            succeeded = True
        finally:
            self.cleanup(key, succeeded)
        return {'key': key, 'size': len(payload)}

    def multipart(self, prefix, part_size_mb=8, parts=2):
        key = '%s%s-multipart' % (prefix, uuid.uuid4().hex)
        part_size = int(part_size_mb) * MIB
        parts = int(parts)
        upload_id = None
        succeeded = False
        try:
            # A create that fails may still have created the upload: clean-up
            # then finds it by listing the uploads of this exact key.
            upload = self._call('multipart_create', 'Starting multipart upload of %s' % key,
                                self.client.create_multipart_upload, Bucket=self.bucket, Key=key)
            upload_id = upload['UploadId']
            data = PartData(part_size)
            digest = _md5()
            done = []
            start = time.monotonic()
            for number in range(1, parts + 1):
                chunk = data.fill(number)
                digest.update(chunk)
                resp = self._call('multipart_part_%d' % number, 'Uploading part %d of %s' % (number, key),
                                  self.client.upload_part, Bucket=self.bucket, Key=key, UploadId=upload_id,
                                  PartNumber=number, Body=chunk)
                done.append({'PartNumber': number, 'ETag': resp['ETag']})
            self.timer.timings['multipart_parts'] = round((time.monotonic() - start) * 1000.0, 1)
            data = chunk = None  # the part buffer is not needed any more
            # A complete that raises may have completed on the server: clean-up
            # then aborts (harmless) and deletes the key.
            self._call('multipart_complete', 'Completing multipart upload of %s' % key,
                       self.client.complete_multipart_upload, Bucket=self.bucket, Key=key, UploadId=upload_id,
                       MultipartUpload={'Parts': done})
            head = self._call('head_object', 'Reading metadata of %s' % key, self.client.head_object,
                              Bucket=self.bucket, Key=key)
            etag = head.get('ETag', '').strip('"')
            if not etag.endswith('-%d' % parts):
                raise CheckError('data', 'Object %s has ETag %s, not a multipart ETag ending in -%d: the upload was not'
                                 ' stored as multipart.' % (key, etag, parts))
            size, md5 = self._read_back(key, 'get_object')
            if size != part_size * parts or md5 != digest.hexdigest():
                raise CheckError('data', 'Object %s read back differs from what was written (%d bytes written, %d read):'
                                 ' %s' % (key, part_size * parts, size, advice('data')))
            succeeded = True
        finally:
            self.cleanup(key, succeeded, multipart=True, upload_id=upload_id)
        return {'key': key, 'size': part_size * parts, 'parts': parts, 'etag': etag}


def probe_direct(settings, timer, timeout=5):
    """Try S3 without the proxy. Returns (open, detail)."""
    client = make_client(settings, use_proxy=False, connect_timeout=timeout, read_timeout=timeout)
    try:
        timer.run('direct', client.list_objects_v2, Bucket=settings['bucket'], MaxKeys=1)
    except bex.ClientError as exc:
        status = exc.response.get('ResponseMetadata', {}).get('HTTPStatusCode')
        return True, 'S3 answered HTTP %s without the proxy' % status
    except Exception as exc:  # any transport failure means the direct path is closed
        return False, '%s: %s' % (type(exc).__name__, exc)
    return True, 'S3 answered HTTP 200 without the proxy'
