# -*- coding: utf-8 -*-
# s3_proxy_check refuses bad input before it makes a client: no request can
# have been sent. The network paths are tested against the lab in
# tests/functional/module/.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.glancestore.s3proxy.plugins.module_utils import s3_probe
from ansible_collections.glancestore.s3proxy.plugins.modules import s3_proxy_check

BASE = {'endpoint_url': 'http://s3.example.com:8333', 'bucket': 'glance', 'access_key': 'AK', 'secret_key': 'SK-secret',
        'proxy_host': 'proxy.example.com', 'proxy_port': 3128, 'probe': 'multipart'}


def run(capsys, monkeypatch, **over):
    def tripwire(*args, **kwargs):
        raise AssertionError('a client was made')

    monkeypatch.setattr(s3_probe, 'make_client', tripwire)
    args = dict(BASE, **over)
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            s3_proxy_check.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize('over,needle', [
    ({'multipart_part_size_mb': 1024}, 'multipart_part_size_mb 1024 is over 512'),
    ({'multipart_parts': 1000}, 'multipart_parts 1000 is outside 2-100'),
    ({'read_timeout': 0}, 'read_timeout 0 is outside 1-3600 seconds'),
    ({'stale_after_minutes': -5}, 'stale_after_minutes -5 is negative'),
    ({'object_prefix': ''}, 'object_prefix is empty'),
    ({'object_prefix': 'probe'}, "object_prefix 'probe' does not end in /"),
    ({'proxy_host': 'host#'}, "proxy_host 'host#' is not a valid host address"),
    ({'proxy_host': '[::1]'}, 'written without brackets'),
    ({'proxy_host': 'a..b'}, 'empty label'),
])
def test_refused_before_any_client(capsys, monkeypatch, over, needle):
    result = run(capsys, monkeypatch, **over)
    assert result['failed'] is True
    assert result['stage'] == 'config'
    assert needle in result['msg']
    assert result['swept']['objects'] == [] and result['leftovers'] == []
    assert 'SK-secret' not in json.dumps(result)


def test_every_error_is_reported_at_once(capsys, monkeypatch):
    result = run(capsys, monkeypatch, multipart_parts=1, read_timeout=0, object_prefix='', proxy_host='-x')
    for needle in ('multipart_parts 1', 'read_timeout 0', 'object_prefix is empty', "proxy_host '-x'"):
        assert needle in result['msg']


def test_read_probe_does_not_check_the_prefix(capsys, monkeypatch):
    result = run(capsys, monkeypatch, probe='read', object_prefix='')
    assert 'object_prefix' not in result['msg']  # it got past validation, to the (tripwired) client
    assert 'a client was made' in result['msg']
