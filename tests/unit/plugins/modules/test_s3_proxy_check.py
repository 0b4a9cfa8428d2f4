# -*- coding: utf-8 -*-
# s3_proxy_check refuses bad input before it makes a client or opens a
# connection: no request can have been sent. The network paths are tested
# against the lab in tests/functional/module/.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.glancestore.s3proxy.plugins.module_utils import s3_probe
from ansible_collections.glancestore.s3proxy.plugins.modules import s3_proxy_check

PASSWORD = 'p@ss:w/rd%#'
SECRETS = ('SK-secret', PASSWORD, 'p%40ss%3Aw%2Frd%25%23')
BASE = {'endpoint_url': 'http://s3.example.com:8333', 'bucket': 'glance', 'access_key': 'AK', 'secret_key': 'SK-secret',
        'proxy_host': 'proxy.example.com', 'proxy_port': 3128, 'proxy_user': 'glance-s3', 'proxy_password': PASSWORD,
        'probe': 'multipart'}


@pytest.fixture(autouse=True)
def nothing_sent(monkeypatch):
    """Make a client, resolve a name or open a connection, and the module fails with the tripwire's message."""
    def tripwire(what):
        def trip(*args, **kwargs):
            raise AssertionError(what)
        return trip

    monkeypatch.setattr(s3_probe, 'make_client', tripwire('a client was made'))
    monkeypatch.setattr(socket.socket, 'connect', tripwire('a connection was opened'))
    monkeypatch.setattr(socket, 'create_connection', tripwire('a connection was opened'))
    monkeypatch.setattr(socket, 'getaddrinfo', tripwire('a name was resolved'))


def run_module(capsys, args):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            s3_proxy_check.main()
    out, err = capsys.readouterr()
    result = json.loads(out)
    result['_output'] = out + err
    return result


def run(capsys, **over):
    return run_module(capsys, dict(BASE, **over))


def assert_no_secret(result):
    for secret in SECRETS:
        assert secret not in result['_output']


@pytest.mark.parametrize('over,needle', [
    ({'multipart_part_size_mb': 4}, 'multipart_part_size_mb 4 is under 5'),
    ({'multipart_part_size_mb': 513}, 'multipart_part_size_mb 513 is over 512'),
    ({'multipart_part_size_mb': 1024}, 'multipart_part_size_mb 1024 is over 512'),
    ({'multipart_parts': 1}, 'multipart_parts 1 is outside 2-100'),
    ({'multipart_parts': 101}, 'multipart_parts 101 is outside 2-100'),
    ({'multipart_parts': 1000}, 'multipart_parts 1000 is outside 2-100'),
    ({'connect_timeout': 0}, 'connect_timeout 0 is outside 1-3600 seconds'),
    ({'read_timeout': 0}, 'read_timeout 0 is outside 1-3600 seconds'),
    ({'read_timeout': 3601}, 'read_timeout 3601 is outside 1-3600 seconds'),
    ({'direct_timeout': 100000}, 'direct_timeout 100000 is outside 1-3600 seconds'),
    ({'stale_after_minutes': -1}, 'stale_after_minutes -1 is negative'),
    ({'stale_after_minutes': -5}, 'stale_after_minutes -5 is negative'),
    ({'object_prefix': ''}, 'object_prefix is empty'),
    ({'object_prefix': 'probe'}, "object_prefix 'probe' does not end in /"),
    ({'object_prefix': 's3-proxy-check'}, "object_prefix 's3-proxy-check' does not end in /"),
    ({'object_prefix': '/s3-proxy-check/'}, 'has a leading /'),
    ({'object_prefix': 'a//b/'}, 'has a leading /, an empty folder name'),
    ({'endpoint_url': 's3.lab.test:8333'}, 'has no scheme'),
    ({'proxy_port': 70000}, 'outside 1-65535'),
    ({'proxy_port': 0}, 'outside 1-65535'),
    ({'proxy_port': True}, 'proxy_port True is outside 1-65535'),  # the argument spec lets a bool through as an int
    ({'proxy_user': 'glänce'}, 'proxy_user contains non-ASCII'),
    ({'proxy_password': 'pässword'}, 'proxy_password contains non-ASCII'),
    ({'ca_bundle': '/nonexistent/ca.pem'}, "ca_bundle '/nonexistent/ca.pem' does not exist"),
    ({'proxy_ca_bundle': '/nonexistent/proxy-ca.pem'}, 'proxy_ca_bundle'),
    ({'addressing_style': 'virtual', 'bucket': 'Not_DNS_Safe'}, 'not DNS-safe'),
    ({'proxy_host': 'host#'}, "proxy_host 'host#' is not a valid host address"),
    ({'proxy_host': '[::1]'}, 'written without brackets'),
    ({'proxy_host': 'a..b'}, 'empty label'),
])
def test_refused_before_any_request(capsys, over, needle):
    result = run(capsys, **over)
    assert result['failed'] is True
    assert result['stage'] == 'config', result['msg']
    assert needle in result['msg']
    assert 'nothing was sent' in result['msg']
    assert result['swept']['objects'] == [] and result['leftovers'] == []
    assert_no_secret(result)


@pytest.mark.parametrize('host', ['[::1', '[::1]', 'host#', 'host name', '-x', 'a..b', 'proxy..', '10.77.1.2.',
                                  '256.1.1.1', '01.2.3.4', 'fe80::1%eth0', 'under_score.example', 'a' * 64])
def test_invalid_proxy_host_refused_before_any_request(capsys, host):
    result = run(capsys, proxy_host=host, probe='read')
    assert result['stage'] == 'config', result['msg']
    assert 'proxy_host %r is not a valid host address' % host in result['msg']
    assert 'HostAddressOpt' in result['msg']
    assert 'nothing was sent' in result['msg']


def test_every_error_is_reported_at_once(capsys):
    result = run(capsys, multipart_parts=1, read_timeout=0, object_prefix='', proxy_host='-x')
    for needle in ('multipart_parts 1', 'read_timeout 0', 'object_prefix is empty', "proxy_host '-x'"):
        assert needle in result['msg']


def test_read_probe_does_not_check_the_prefix(capsys):
    result = run(capsys, probe='read', object_prefix='')
    assert 'object_prefix' not in result['msg']  # it got past validation, to the (tripwired) client
    assert 'a client was made' in result['msg']


def test_user_without_password_is_rejected_by_argument_spec(capsys):
    args = dict(BASE)
    del args['proxy_password']
    result = run_module(capsys, args)
    assert result['failed'] is True
    assert 'parameters are required together: proxy_user, proxy_password' in result['msg']


# ---------------------------------------------------------------- glance mode: the files are refused, nothing is sent

@pytest.fixture
def glance_env(monkeypatch, tmp_path):
    """No OS_<GROUP>__<OPTION> variable and no ~/.glance of the user running the tests."""
    for name in list(os.environ):
        if name.startswith('OS_') and '__' in name:
            monkeypatch.delenv(name)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))


def write_glance_conf(path, password=PASSWORD, backend='s3_fast'):
    body = (
        '[DEFAULT]\nenabled_backends = local:file, {b}:s3\n\n'
        '[glance_store]\ndefault_backend = {b}\n\n'
        '[local]\nfilesystem_store_datadir = /var/lib/glance/images\n\n'
        '[{b}]\ns3_store_host = http://s3.example.com:8333\ns3_store_bucket = glance\ns3_store_access_key = AK\n'
        's3_store_secret_key = SK-secret\ns3_store_bucket_url_format = path\n'
        's3_store_enable_proxy = true\ns3_store_proxy_host = proxy.example.com\ns3_store_proxy_port = 3128\n'
        's3_store_proxy_user = glance-s3b\ns3_store_proxy_password = {pw}\n'
    ).format(b=backend, pw=password.replace('$', '$$'))
    path.write_text(body)
    return str(path)


def test_glance_mode_backend_not_s3(capsys, glance_env, tmp_path):
    conf = write_glance_conf(tmp_path / 'glance-api.conf')
    result = run_module(capsys, {'glance_config': conf, 'glance_backend': 'local'})
    assert result['stage'] == 'config'
    assert "'local' is not an s3 entry" in result['msg']


@pytest.mark.parametrize('text,needle', [
    ('[glance_store]\nstores = s3\ns3_store_host = http://s3.lab.test:8333\ns3_store_bucket = glance\n'
     's3_store_enable_proxy = true\n', 's3_store_proxy_host is empty'),
    ('[glance_store]\ns3_store_host = http://s3.lab.test:8333\ns3_store_bucket = glance\n'
     's3_store_enable_proxy = true\ns3_store_proxy_host = proxy\n',
     'does not list s3: in legacy mode glance-api does not load the S3 store'),
], ids=['proxy_enabled_without_host', 'legacy_section_that_glance_does_not_load'])
def test_glance_mode_legacy_section_refused(capsys, glance_env, tmp_path, text, needle):
    conf = tmp_path / 'glance-api.conf'
    conf.write_text(text)
    result = run_module(capsys, {'glance_config': str(conf)})
    assert result['stage'] == 'config'
    assert needle in result['msg']


def test_glance_mode_credentials_written_into_the_proxy_host_are_never_shown(capsys, glance_env, tmp_path):
    conf = write_glance_conf(tmp_path / 'glance-api.conf')
    text = open(conf).read().replace('s3_store_proxy_host = proxy.example.com',
                                     's3_store_proxy_host = glance-s3:S3cretPW@proxy.example.com')
    open(conf, 'w').write(text)
    result = run_module(capsys, {'glance_config': conf, 'glance_backend': 's3_fast', 'glance_config_dirs': []})
    assert result['stage'] == 'config'
    assert 'S3cretPW' not in result['_output']
    assert_no_secret(result)
