# -*- coding: utf-8 -*-
"""The pure oslo.config reader (no oslo.config, glance_store or botocore needed)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os
import subprocess
import sys

import pytest

from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_config as gc
from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import CheckError

HEAD = '[DEFAULT]\nenabled_backends = s3a:s3, local:file\n\n'
STORE = ('[s3a]\ns3_store_host = http://s3.example.com:8333\ns3_store_bucket = images\n'
         's3_store_access_key = AKIAEXAMPLE\ns3_store_secret_key = SeCrEt/Key+1\n')
PROXY = ('s3_store_enable_proxy = true\ns3_store_proxy_host = proxy.example.com\ns3_store_proxy_port = 3128\n'
         's3_store_proxy_user = glance\ns3_store_proxy_password = pw\n')
MULTI = HEAD + STORE + PROXY


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith('OS_') and '__' in name:
            monkeypatch.delenv(name)
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.delenv('SNAP', raising=False)
    monkeypatch.delenv('SNAP_COMMON', raising=False)


@pytest.fixture
def conf(tmp_path):
    """conf(main_text, {dropin: text}, newline='\\n') -> (main path, drop-in dir)."""
    etc = tmp_path / 'etc'
    dropins = etc / 'glance-api.conf.d'
    dropins.mkdir(parents=True)

    def write(main, extra=None, newline='\n'):
        (etc / 'glance-api.conf').write_bytes(main.replace('\n', newline).encode('utf-8'))
        for name, text in (extra or {}).items():
            (dropins / name).write_bytes(text.replace('\n', newline).encode('utf-8'))
        return str(etc / 'glance-api.conf'), str(dropins)
    return write


def read(conf, main, extra=None, backend='s3a', newline='\n'):
    path, dropins = conf(main, extra, newline)
    return gc.read_glance_settings(path, backend, config_dirs=[dropins], reader='oslo_rules')


def refused(conf, main, extra=None, backend='s3a'):
    with pytest.raises(CheckError) as err:
        read(conf, main, extra, backend)
    assert err.value.stage == 'config'
    return err.value.msg


# ------------------------------------------------------------ the contract

def test_contract_keys_and_values(conf):
    s = read(conf, MULTI)
    assert s == dict(s, endpoint_url='http://s3.example.com:8333', bucket='images', access_key='AKIAEXAMPLE',
                     secret_key='SeCrEt/Key+1', region=None, addressing_style='auto', ca_bundle=None,
                     proxy_host='proxy.example.com', proxy_port=3128, proxy_user='glance', proxy_password='pw',
                     proxy_scheme='http', proxy_ca_bundle=None, _section='s3a', _reader='oslo_rules',
                     _extension_active=None)
    assert set(s) == {'endpoint_url', 'bucket', 'access_key', 'secret_key', 'region', 'addressing_style', 'ca_bundle',
                      'proxy_host', 'proxy_port', 'proxy_user', 'proxy_password', 'proxy_scheme', 'proxy_ca_bundle',
                      '_section', '_reader', '_locations', '_files', '_extension_active'}
    assert s['_files'] == [os.path.abspath(s['_files'][0])]
    assert s['_locations']['s3_store_proxy_host'] == '%s [s3a]' % s['_files'][0]
    assert s['_locations']['s3_store_proxy_scheme'] == 'default'
    assert s['_locations']['enabled_backends'] == '%s [DEFAULT]' % s['_files'][0]


def test_proxy_disabled_reports_no_proxy(conf):
    s = read(conf, MULTI.replace('enable_proxy = true', 'enable_proxy = false'))
    assert (s['proxy_host'], s['proxy_port'], s['proxy_user'], s['proxy_password'], s['proxy_scheme']) == \
        (None, 8080, None, None, 'http')


def test_auto_reader_without_glance_store_is_oslo_rules(conf):
    if gc.glance_store_available():
        pytest.skip('glance_store is importable here')
    path, dropins = conf(MULTI)
    assert gc.read_glance_settings(path, 's3a', config_dirs=[dropins])['_reader'] == 'oslo_rules'


def test_unknown_reader(conf):
    path, dropins = conf(MULTI)
    with pytest.raises(ValueError):
        gc.read_glance_settings(path, 's3a', config_dirs=[dropins], reader='configparser')


def test_imports_without_oslo_glance_or_botocore():
    code = ('import sys\n'
            'class Block:\n'
            '    def find_spec(self, name, path=None, target=None):\n'
            '        if name.split(".")[0] in ("oslo_config", "glance_store", "botocore", "boto3", "stevedore"):\n'
            '            raise ImportError(name)\n'
            'sys.meta_path.insert(0, Block())\n'
            'from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_config as gc\n'
            'assert not gc.glance_store_available()\n')
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    subprocess.check_call([sys.executable, '-c', code], env=env)


# ------------------------------------------------------------ ini syntax

@pytest.mark.parametrize('line,value', [
    ('s3_store_proxy_password = "quoted"', 'quoted'),
    ("s3_store_proxy_password = ' in side '", ' in side '),
    ('s3_store_proxy_password = "mismatched\'', '"mismatched\''),
    ('s3_store_proxy_password = "open', '"open'),
    ('s3_store_proxy_password = ""quoted twice""', '"quoted twice"'),
    ('s3_store_proxy_password: colon', 'colon'),
    ('s3_store_proxy_password = a:b=c', 'a:b=c'),
    ('s3_store_proxy_password: a=b:c', 'a=b:c'),
    ('s3_store_proxy_password\t=\t spaced \t', 'spaced'),
    ('s3_store_proxy_password = in#line ;kept', 'in#line ;kept'),
    ('s3_store_proxy_password = two$$dollars', 'two$dollars'),
    (r's3_store_proxy_password = back\$slash', 'back$slash'),
    ('s3_store_proxy_password = lone$ $1', 'lone$ $1'),
    ('s3_store_proxy_password = first\n  second\n\tthird', 'first\nsecond\nthird'),
    ('s3_store_proxy_password = pw\n    # indented: not a comment', 'pw\n# indented: not a comment'),
])
def test_value_syntax(conf, line, value):
    assert read(conf, MULTI.replace('s3_store_proxy_password = pw', line))['proxy_password'] == value


@pytest.mark.parametrize('newline', ['\r', '\r\n'])
def test_universal_newlines(conf, newline):
    s = read(conf, MULTI, {'50.conf': '[s3a]\ns3_store_proxy_port = 4000\n'}, newline=newline)
    assert (s['proxy_host'], s['proxy_port'], s['proxy_password']) == ('proxy.example.com', 4000, 'pw')


def test_comments_only_at_line_start(conf):
    s = read(conf, MULTI + '# s3_store_proxy_port = 1\n; s3_store_proxy_port = 2\n')
    assert s['proxy_port'] == 3128


def test_last_value_in_file_wins_and_keys_are_case_sensitive(conf):
    s = read(conf, MULTI + 's3_store_proxy_port = 3129\nS3_STORE_PROXY_PORT = 1\n')
    assert s['proxy_port'] == 3129


def test_section_names_fold_case_except_default(conf):
    s = read(conf, HEAD + STORE.replace('[s3a]', '[S3A]') + PROXY, {'50.conf': '[S3a]\ns3_store_proxy_port = 3131\n'})
    assert s['proxy_port'] == 3131
    assert s['_locations']['s3_store_proxy_host'].endswith('glance-api.conf [S3A]')
    msg = refused(conf, HEAD.replace('[DEFAULT]', '[default]') + STORE + PROXY)
    assert 'legacy mode' in msg


@pytest.mark.parametrize('text,needle', [
    ('enabled_backends = s3a:s3\n' + MULTI, 'Section must be started before assignment'),
    ('[DEFAULT]\n  indented first\n', 'Unexpected continuation line'),
    (MULTI + 's3_store_proxy_port = 1\n   \n  after blank\n', 'Unexpected continuation line'),
    (MULTI + '[unterminated\n', 'Invalid section'),
    (MULTI + '[]\n', 'Empty section name'),
    (MULTI + 'no separator here\n', "No ':' or '=' found"),
    (MULTI + ' = value\n'.lstrip(' '), 'Key cannot be empty'),
    (MULTI.replace('= pw', '= pw\rmore'), "No ':' or '=' found"),
])
def test_parse_errors(conf, text, needle):
    msg = refused(conf, text)
    assert needle in msg and 'cannot parse' in msg


def test_parse_error_does_not_quote_the_line(conf):
    msg = refused(conf, '[x]\n  Zq9xSecret\n' + MULTI)
    assert 'Zq9xSecret' not in msg and 'line 2' in msg


# ------------------------------------------------------------ which files, in which order

def test_dropins_sorted_as_strings_and_later_wins(conf):
    s = read(conf, MULTI, {'10-x.conf': '[s3a]\ns3_store_proxy_port = 1010\n', '9-x.conf': '[s3a]\ns3_store_proxy_port = 9009\n',
                           '.99-hidden.conf': '[s3a]\ns3_store_proxy_port = 1\n', '99.conf.bak': '[s3a]\ns3_store_proxy_port = 2\n'})
    assert s['proxy_port'] == 9009
    assert [os.path.basename(f) for f in s['_files']] == ['glance-api.conf', '10-x.conf', '9-x.conf']
    assert s['_locations']['s3_store_proxy_port'].endswith('9-x.conf [s3a]')


def test_later_dropin_turns_proxy_off(conf):
    s = read(conf, MULTI, {'90-off.conf': '[s3a]\ns3_store_enable_proxy = FALSE\n'})
    assert s['proxy_host'] is None
    assert s['_locations']['s3_store_enable_proxy'].endswith('90-off.conf [s3a]')


def test_image_import_conf_is_read_before_the_main_file(conf, tmp_path):
    (tmp_path / 'etc').mkdir(exist_ok=True)
    (tmp_path / 'etc' / 'glance-image-import.conf').write_text(
        '[s3a]\ns3_store_proxy_port = 1\ns3_store_bucket_url_format = path\n')
    s = read(conf, MULTI)
    assert (s['proxy_port'], s['addressing_style']) == (3128, 'path')
    assert [os.path.basename(f) for f in s['_files']] == ['glance-image-import.conf', 'glance-api.conf']


def test_config_dirs_follow_the_oslo_search_path(conf, tmp_path, monkeypatch):
    home = tmp_path / 'home'
    (home / '.glance' / 'glance-api.conf.d').mkdir(parents=True)
    (home / 'glance-api.conf.d').mkdir()  # shadowed by ~/.glance/glance-api.conf.d
    (home / 'glance.conf.d').mkdir()
    snap = tmp_path / 'snap'
    (snap / 'etc' / 'glance' / 'glance.conf.d').mkdir(parents=True)  # shadowed by ~/glance.conf.d
    monkeypatch.setenv('SNAP', str(snap))
    assert gc.glance_config_dirs() == [str(home / 'glance.conf.d'), str(home / '.glance' / 'glance-api.conf.d')]
    (home / '.glance' / 'glance-api.conf.d' / '50.conf').write_text('[s3a]\ns3_store_proxy_port = 5050\n')
    path, dropins = conf(MULTI, {'99.conf': '[s3a]\ns3_store_proxy_port = 9999\n'})  # <main>.d is not searched
    s = gc.read_glance_settings(path, 's3a', reader='oslo_rules')
    assert s['proxy_port'] == 5050


def test_missing_config_dir_is_skipped(conf, tmp_path):
    path, _dropins = conf(MULTI)
    s = gc.read_glance_settings(path, 's3a', config_dirs=[str(tmp_path / 'nope')], reader='oslo_rules')
    assert s['_files'] == [path]


def test_missing_main_file():
    with pytest.raises(CheckError) as err:
        gc.read_glance_settings('/nonexistent/glance-api.conf', 's3a', config_dirs=[], reader='oslo_rules')
    assert 'does not exist' in err.value.msg


def test_broken_dropin_link(conf):
    path, dropins = conf(MULTI)
    os.symlink('/nonexistent/target.conf', os.path.join(dropins, '50-broken.conf'))
    with pytest.raises(CheckError) as err:
        gc.read_glance_settings(path, 's3a', config_dirs=[dropins], reader='oslo_rules')
    assert '50-broken.conf' in err.value.msg and 'would not start' in err.value.msg


def test_unreadable_main_file(conf, monkeypatch):
    path, dropins = conf(MULTI)
    os.chmod(path, 0)
    if os.geteuid() == 0:  # root reads every file: the open fails as it does for glance's user
        real_open = io.open

        def denied(name, *args, **kwargs):
            if name == path:
                raise PermissionError(13, 'Permission denied', name)
            return real_open(name, *args, **kwargs)
        monkeypatch.setattr(io, 'open', denied)
    with pytest.raises(CheckError) as err:
        gc.read_glance_settings(path, 's3a', config_dirs=[dropins], reader='oslo_rules')
    assert 'permissions' in err.value.msg


# ------------------------------------------------------------ groups: DEFAULT, backend_defaults, legacy

def test_default_section_never_falls_through(conf):
    s = read(conf, HEAD.replace('\n\n', '\ns3_store_enable_proxy = true\ns3_store_proxy_host = leak.example.com\n\n') + STORE)
    assert s['proxy_host'] is None
    assert s['_locations']['s3_store_enable_proxy'] == 'default'


def test_backend_defaults_apply_and_store_overrides(conf):
    text = HEAD + '[backend_defaults]\n' + PROXY + '\n' + STORE
    s = read(conf, text)
    assert s['proxy_host'] == 'proxy.example.com'
    assert s['_locations']['s3_store_proxy_host'].endswith('[backend_defaults]')
    assert read(conf, text + 's3_store_enable_proxy = false\n')['proxy_host'] is None


def test_empty_integer_falls_through_to_backend_defaults(conf):
    text = HEAD + '[backend_defaults]\ns3_store_proxy_port = 3130\n\n' + STORE + PROXY.replace('= 3128', '=')
    assert read(conf, text)['proxy_port'] == 3130


def test_empty_port_is_the_default_in_multi_store_and_refused_in_legacy(conf):
    assert read(conf, MULTI.replace('= 3128', '='))['proxy_port'] == 8080
    legacy = '[glance_store]\nstores = s3\n' + STORE.split('\n', 1)[1] + PROXY.replace('= 3128', '=')
    assert 'outside 1-65535' in refused(conf, legacy, backend=None)


def test_legacy_mode(conf):
    legacy = '[glance_store]\nstores = file, s3\n' + STORE.split('\n', 1)[1] + PROXY
    s = read(conf, legacy, backend=None)
    assert (s['_section'], s['proxy_host']) == ('glance_store', 'proxy.example.com')
    assert s['_locations']['stores'].endswith('[glance_store]')
    assert 'does not list s3' in refused(conf, legacy.replace('stores = file, s3\n', ''), backend=None)


@pytest.mark.parametrize('main,backend,needle', [
    (MULTI, None, 'set glance_backend to one of its s3 stores (s3a)'),
    (MULTI, 'local', "'local' is not an s3 entry"),
    (MULTI, 'nope', "'nope' is not an s3 entry"),
    ('[glance_store]\nstores = s3\n', 's3a', 'legacy mode'),
    (MULTI.replace('local:file', 'os_glance_x:file'), 's3a', "reserved 'os_glance_' prefix"),
    (MULTI.replace('s3a:s3, local:file', 's3a:s3, s3a:file'), 's3a', 'duplicate key s3a'),
    (MULTI.replace('s3a:s3, local:file', 's3a:s3, local'), 's3a', 'NAME:VALUE'),
    (MULTI.replace('[DEFAULT]\n', '[DEFAULT]\nconfig_source = remote\n'), 's3a', 'config_source'),
])
def test_store_selection(conf, main, backend, needle):
    assert needle in refused(conf, main, backend=backend)


@pytest.mark.parametrize('value,expected', [
    ('s3a:s3', {'s3a': 's3'}),
    (' a : file , s3a :s3 ', {'a': 'file', 's3a': 's3'}),
    ('', {}),
    ('a:x:y', {'a': 'x:y'}),
    ('a:s3,,b:file', {'a': 's3', ',b': 'file'}),
])
def test_enabled_backends_parsing(value, expected):
    assert gc.parse_enabled_backends(value) == expected


def test_environment_overrides_files(conf, monkeypatch):
    monkeypatch.setenv('OS_S3A__S3_STORE_PROXY_PORT', '4444')
    s = read(conf, MULTI)
    assert s['proxy_port'] == 4444
    assert s['_locations']['s3_store_proxy_port'] == 'environment OS_S3A__S3_STORE_PROXY_PORT'


# ------------------------------------------------------------ types

@pytest.mark.parametrize('value,enabled', [
    ('true', True), ('TrUe', True), ('1', True), ('on', True), ('YES', True), ('"yes"', True),
    ('false', False), ('0', False), ('Off', False), ('NO', False),
])
def test_booleans(conf, value, enabled):
    s = read(conf, MULTI.replace('enable_proxy = true', 'enable_proxy = %s' % value))
    assert (s['proxy_host'] is not None) is enabled


@pytest.mark.parametrize('value', ['y', 'enabled', '2', 'true false'])
def test_bad_boolean_names_the_key(conf, value):
    msg = refused(conf, MULTI.replace('enable_proxy = true', 'enable_proxy = %s' % value))
    assert 's3_store_enable_proxy' in msg and 'not a boolean' in msg


@pytest.mark.parametrize('value,port', [('3128', 3128), (' 3_128', 3128), ('+80', 80), ('65535', 65535)])
def test_ports(conf, value, port):
    assert read(conf, MULTI.replace('= 3128', '= %s' % value))['proxy_port'] == port


@pytest.mark.parametrize('value', ['31x8', '0', '65536', '-1', '0x50'])
def test_bad_ports(conf, value):
    assert 's3_store_proxy_port' in refused(conf, MULTI.replace('= 3128', '= %s' % value))


def test_bad_port_is_refused_even_with_the_proxy_off(conf):
    text = MULTI.replace('= 3128', '= x').replace('enable_proxy = true', 'enable_proxy = false')
    assert 's3_store_proxy_port' in refused(conf, text)


def test_scheme_choices_are_case_sensitive(conf):
    assert 's3_store_proxy_scheme' in refused(conf, MULTI + 's3_store_proxy_scheme = HTTPS\n')
    assert read(conf, MULTI + 's3_store_proxy_scheme = https\n')['proxy_scheme'] == 'https'


# ------------------------------------------------------------ interpolation and secrets

def test_interpolation_is_refused_naming_the_key(conf):
    msg = refused(conf, MULTI.replace('s3_store_proxy_user = glance', 's3_store_proxy_user = ${s3_store_bucket}'))
    assert 's3_store_proxy_user' in msg and '$s3_store_bucket' in msg


@pytest.mark.parametrize('text', [
    MULTI.replace('= pw', '= pa$Zq9x'),
    MULTI.replace('= pw', '= pa${Zq9x}'),
    MULTI.replace('s3_store_secret_key = SeCrEt/Key+1', 's3_store_secret_key = SeCrEt$Zq9x'),
    MULTI.replace('= pw', '= Zq9x').replace('s3_store_proxy_user = glance\n', ''),
    MULTI.replace('= pw', '= Zq9x\xe9'),
])
def test_messages_never_carry_secrets(conf, text):
    msg = refused(conf, text)
    assert 'Zq9x' not in msg and 'SeCrEt' not in msg


@pytest.mark.parametrize('line,needle', [
    ('s3_store_proxy_user = gl\xe4nce', 'non-ASCII'),
    ('s3_store_proxy_user =', 'without s3_store_proxy_user'),
])
def test_proxy_credential_checks(conf, line, needle):
    assert needle in refused(conf, MULTI.replace('s3_store_proxy_user = glance', line))


def test_proxy_enabled_without_host(conf):
    msg = refused(conf, MULTI.replace('s3_store_proxy_host = proxy.example.com\n', ''))
    assert 's3_store_proxy_host is empty' in msg


@pytest.mark.parametrize('line,needle', [
    ('s3_store_secret_key =', 'Could not find s3_store_secret_key'),
    ('s3_store_large_object_chunk_size = 4', 'at least 5 MB'),
    ('s3_store_thread_pools = 0', 'Could not find s3_store_thread_pools'),
    ('s3_store_thread_pools = -1', 'positive integer'),
    ('s3_store_bucket_url_format =', 'Could not find s3_store_bucket_url_format'),
    ('s3_store_enable_data_integrity_protection = true\ns3_store_request_checksum_calculation = always',
     's3_store_request_checksum_calculation'),
])
def test_glance_store_checks(conf, line, needle):
    assert needle in refused(conf, MULTI + line + '\n')


def test_checksum_options_only_read_with_integrity_protection(conf):
    s = read(conf, MULTI + 's3_store_request_checksum_calculation = always\n')
    assert 's3_store_request_checksum_calculation' not in s['_locations']


@pytest.mark.parametrize('url,parts', [
    ('http://u:p%40ss@proxy.example.com:3128', ('http', 'proxy.example.com', 3128, 'u', 'p@ss')),
    ('https://Proxy.Example.com:8443', ('https', 'Proxy.Example.com', 8443, None, None)),
    ('http://[2001:db8::1]:3128', ('http', '2001:db8::1', 3128, None, None)),
    ('http://proxy', ('http', 'proxy', 80, None, None)),
])
def test_parse_proxy_url(url, parts):
    assert gc.parse_proxy_url(url) == parts
