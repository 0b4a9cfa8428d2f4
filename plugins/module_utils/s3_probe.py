# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""boto3 probes of the Glance host -> proxy -> S3 path.

The proxy is botocore's own ``Config(proxies=..., proxies_config=...)``;
nothing here speaks HTTP by hand.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import time
import uuid

from ansible_collections.glancestore.s3proxy.plugins.module_utils.s3_proxy import (
    MIB,
    CheckError,
    advice,
    build_proxy_url,
    classify_exception,
)

try:
    import boto3
    from botocore.config import Config
    from botocore import exceptions as bex
except ImportError:  # handled by the module with missing_required_lib
    boto3 = None
    Config = None
    bex = None


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


def probe_read(client, bucket, timer, proxied=True):
    _call(timer, 'list_objects', 'Listing bucket %s' % bucket, proxied,
          client.list_objects_v2, Bucket=bucket, MaxKeys=1)


def _body(client, bucket, key, timer, phase, proxied):
    resp = _call(timer, phase, 'Reading %s' % key, proxied, client.get_object, Bucket=bucket, Key=key)
    return timer.run(phase + '_body', resp['Body'].read)


def probe_write(client, bucket, prefix, timer, proxied=True):
    key = '%s%s-small' % (prefix, uuid.uuid4().hex)
    payload = os.urandom(64 * 1024)
    _call(timer, 'put_object', 'Writing %s' % key, proxied,
          client.put_object, Bucket=bucket, Key=key, Body=payload)
    try:
        data = _body(client, bucket, key, timer, 'get_object', proxied)
        if data != payload:
            raise CheckError('data', 'Object %s read back differs from what was written (%d bytes written, %d read): %s'
                             % (key, len(payload), len(data), advice('data')))
    finally:
        _call(timer, 'delete_object', 'Deleting %s' % key, proxied,
              client.delete_object, Bucket=bucket, Key=key)
    return {'key': key, 'size': len(payload)}


def probe_multipart(client, bucket, prefix, timer, part_size_mb=8, parts=2, proxied=True):
    key = '%s%s-multipart' % (prefix, uuid.uuid4().hex)
    part_size = int(part_size_mb) * MIB
    upload = _call(timer, 'multipart_create', 'Starting multipart upload of %s' % key, proxied,
                   client.create_multipart_upload, Bucket=bucket, Key=key)
    upload_id = upload['UploadId']
    digest = hashlib.md5()
    done = []
    completed = False
    try:
        start = time.monotonic()
        for number in range(1, int(parts) + 1):
            chunk = os.urandom(part_size)
            digest.update(chunk)
            resp = _call(timer, 'multipart_part_%d' % number, 'Uploading part %d of %s' % (number, key), proxied,
                         client.upload_part, Bucket=bucket, Key=key, UploadId=upload_id,
                         PartNumber=number, Body=chunk)
            done.append({'PartNumber': number, 'ETag': resp['ETag']})
        timer.timings['multipart_parts'] = round((time.monotonic() - start) * 1000.0, 1)
        _call(timer, 'multipart_complete', 'Completing multipart upload of %s' % key, proxied,
              client.complete_multipart_upload, Bucket=bucket, Key=key, UploadId=upload_id,
              MultipartUpload={'Parts': done})
        completed = True
        try:
            head = _call(timer, 'head_object', 'Reading metadata of %s' % key, proxied,
                         client.head_object, Bucket=bucket, Key=key)
            etag = head.get('ETag', '').strip('"')
            if not etag.endswith('-%d' % int(parts)):
                raise CheckError('data', 'Object %s has ETag %s, not a multipart ETag ending in -%d: the upload was not'
                                 ' stored as multipart.' % (key, etag, int(parts)))
            data = _body(client, bucket, key, timer, 'get_object', proxied)
            if hashlib.md5(data).hexdigest() != digest.hexdigest():
                raise CheckError('data', 'Object %s read back differs from what was written: %s' % (key, advice('data')))
        finally:
            _call(timer, 'delete_object', 'Deleting %s' % key, proxied,
                  client.delete_object, Bucket=bucket, Key=key)
    finally:
        if not completed:
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception:  # best effort clean-up; the first error is the one to report
                pass
    return {'key': key, 'size': part_size * int(parts), 'parts': int(parts), 'etag': etag}


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
