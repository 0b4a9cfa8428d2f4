"""The pure oslo.config reader against real oslo.config and glance_store (run with Glance's Python).

    .cache/venv-glance/bin/pip install --no-index --no-deps --force-reinstall \
        roles/glance_s3_proxy/files/glance_store_s3proxy-*-py3-none-any.whl
    .cache/venv-glance/bin/python -m pytest tests/functional/glance_config

Every tricky file goes through three readers:
- ``oslo_rules``: the pure reader (what deploy hosts use);
- ``glance_store``: glance_store's own store and botocore client (what Glance uses);
- an oracle: the S3 driver's registered options on a plain ``cfg.ConfigOpts``.
The pure reader must agree with both, or raise.
"""

import json
import os
import subprocess
import sys
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter('ignore')
    from oslo_config import cfg
    from glance_store._drivers import s3 as s3_driver

from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_config as gc
from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import CheckError

# conftest.py put the collection on sys.path.
COLLECTIONS = next(p for p in sys.path if os.path.isdir(os.path.join(p, 'ansible_collections', 'glancestore', 's3proxy')))
COMPARED = ('endpoint_url', 'bucket', 'access_key', 'secret_key', 'addressing_style', 'ca_bundle', 'proxy_host',
            'proxy_port', 'proxy_user', 'proxy_password', 'proxy_scheme', 'proxy_ca_bundle', '_section', '_files')

HEAD = """[DEFAULT]
enabled_backends = s3a:s3, local:file

[glance_store]
default_backend = s3a

"""
STORE = """[s3a]
s3_store_host = http://s3.example.com:8333
s3_store_bucket = images
s3_store_access_key = AKIAEXAMPLE
s3_store_secret_key = SeCrEt/Key+1
"""
PROXY = """s3_store_enable_proxy = true
s3_store_proxy_host = proxy.example.com
s3_store_proxy_port = 3128
s3_store_proxy_user = glance
s3_store_proxy_password = pw
"""
MULTI = HEAD + STORE + PROXY
LEGACY = """[glance_store]
stores = file, http, s3
default_store = s3
s3_store_host = http://s3.example.com:8333
s3_store_bucket = images
s3_store_access_key = AKIAEXAMPLE
s3_store_secret_key = SeCrEt/Key+1
""" + PROXY


@pytest.fixture(scope='module', autouse=True)
def extension_active():
    """The comparison only means something with the extension patching the driver."""
    names = set(opt.name for opt in s3_driver.Store.OPTIONS)
    assert 's3_store_enable_proxy' in names and getattr(s3_driver.Store._create_s3_client, '_glance_store_s3proxy', False), \
        'glance-store-s3proxy is not active in %s: install the wheel first (see this file\'s docstring)' % sys.executable


def proxy(**extra):
    return dict({'proxy_host': 'proxy.example.com', 'proxy_port': 3128, 'proxy_user': 'glance',
                 'proxy_password': 'pw', 'proxy_scheme': 'http'}, **extra)


NO_PROXY = {'proxy_host': None, 'proxy_user': None, 'proxy_password': None}

# (id, main file, {drop-in: text}, backend, {env}, newline, expect, expected settings or a message fragment)
CASES = [
    ('baseline', MULTI, {}, 's3a', {}, '\n', 'same', proxy()),
    ('legacy', LEGACY, {}, None, {}, '\n', 'same', dict(proxy(), _section='glance_store')),
    ('double-quotes', HEAD + STORE + PROXY.replace('proxy.example.com', '"proxy.example.com"'), {}, 's3a', {}, '\n',
     'same', proxy()),
    ('single-quotes-keep-inner-spaces', MULTI.replace('= pw', "= ' p w '"), {}, 's3a', {}, '\n', 'same',
     proxy(proxy_password=' p w ')),
    ('mismatched-quotes-kept', MULTI.replace('= pw', '= "pw\''), {}, 's3a', {}, '\n', 'same', proxy(proxy_password='"pw\'')),
    ('one-quote-kept', MULTI.replace('= pw', '= "pw'), {}, 's3a', {}, '\n', 'same', proxy(proxy_password='"pw')),
    ('lone-quote-is-empty', MULTI.replace('s3_store_proxy_user = glance', "s3_store_proxy_user = '")
     .replace('s3_store_proxy_password = pw', 's3_store_proxy_password = "'), {}, 's3a', {}, '\n', 'same',
     proxy(proxy_user=None, proxy_password=None)),
    ('colon-separator-and-first-separator-wins', MULTI.replace('s3_store_proxy_user = glance', 's3_store_proxy_user: glance')
     .replace('s3_store_proxy_password = pw', 's3_store_proxy_password = a:b=c'), {}, 's3a', {}, '\n', 'same',
     proxy(proxy_password='a:b=c')),
    ('colon-before-equals', MULTI.replace('s3_store_proxy_password = pw', 's3_store_proxy_password: x=y'), {}, 's3a', {},
     '\n', 'same', proxy(proxy_password='x=y')),
    ('whitespace-and-tabs', MULTI.replace('s3_store_proxy_host = proxy.example.com', 's3_store_proxy_host\t =  proxy.example.com \t'),
     {}, 's3a', {}, '\n', 'same', proxy()),
    ('cr-line-endings', MULTI, {}, 's3a', {}, '\r', 'same', proxy()),
    ('crlf-line-endings', MULTI, {'50-port.conf': '[s3a]\ns3_store_proxy_port = 4000\n'}, 's3a', {}, '\r\n', 'same',
     proxy(proxy_port=4000)),
    ('continuation-line', MULTI.replace('= pw', '= first\n  second\n\tthird'), {}, 's3a', {}, '\n', 'same',
     proxy(proxy_password='first\nsecond\nthird')),
    ('indented-hash-is-continuation', MULTI.replace('= pw', '= pw\n    # not a comment'), {}, 's3a', {}, '\n', 'same',
     proxy(proxy_password='pw\n# not a comment')),
    ('comments-and-inline-hash', MULTI.replace('= pw', '= pw#1 ;x\n# s3_store_proxy_port = 1\n; s3_store_proxy_port = 2'),
     {}, 's3a', {}, '\n', 'same', proxy(proxy_password='pw#1 ;x')),
    ('duplicate-key-last-wins', MULTI + 's3_store_proxy_port = 3129\n', {}, 's3a', {}, '\n', 'same', proxy(proxy_port=3129)),
    ('dropin-overrides-main', MULTI, {'50-a.conf': '[s3a]\ns3_store_proxy_host = other.example.com\n'}, 's3a', {}, '\n',
     'same', proxy(proxy_host='other.example.com')),
    ('default-does-not-fall-through', HEAD.replace('[DEFAULT]\n', '[DEFAULT]\ns3_store_enable_proxy = true\n'
                                                   's3_store_proxy_host = leak.example.com\n') + STORE, {}, 's3a', {}, '\n',
     'same', NO_PROXY),
    ('backend-defaults-apply', HEAD + '[backend_defaults]\n' + PROXY + '\n' + STORE, {}, 's3a', {}, '\n', 'same', proxy()),
    ('store-overrides-backend-defaults', HEAD + '[backend_defaults]\n' + PROXY + '\n' + STORE + 's3_store_enable_proxy = false\n',
     {}, 's3a', {}, '\n', 'same', NO_PROXY),
    ('empty-int-falls-to-backend-defaults', HEAD + '[backend_defaults]\ns3_store_proxy_port = 3130\n\n' + STORE + PROXY
     .replace('s3_store_proxy_port = 3128', 's3_store_proxy_port ='), {}, 's3a', {}, '\n', 'same', proxy(proxy_port=3130)),
    ('double-dollar-and-backslash-dollar', MULTI.replace('= pw', r'= p$$w\$d'), {}, 's3a', {}, '\n', 'same',
     proxy(proxy_password='p$w$d')),
    ('lone-dollar-stays', MULTI.replace('= pw', '= pw$ $1'), {}, 's3a', {}, '\n', 'same', proxy(proxy_password='pw$ $1')),
    ('booleans-in-odd-case', MULTI.replace('s3_store_enable_proxy = true', 's3_store_enable_proxy = "YeS"'), {}, 's3a', {}, '\n',
     'same', proxy()),
    ('boolean-on', MULTI.replace('s3_store_enable_proxy = true', 's3_store_enable_proxy = On'), {}, 's3a', {}, '\n', 'same',
     proxy()),
    ('boolean-0', MULTI.replace('s3_store_enable_proxy = true', 's3_store_enable_proxy = 0'), {}, 's3a', {}, '\n', 'same', NO_PROXY),
    ('later-dropin-turns-proxy-off', MULTI, {'10-on.conf': '[s3a]\ns3_store_enable_proxy = true\n',
                                             '90-off.conf': '[s3a]\ns3_store_enable_proxy = FALSE\n'}, 's3a', {}, '\n', 'same',
     NO_PROXY),
    ('ordering-trap-9-after-10', MULTI, {'10-x.conf': '[s3a]\ns3_store_proxy_port = 1010\n',
                                         '9-x.conf': '[s3a]\ns3_store_proxy_port = 9009\n'}, 's3a', {}, '\n', 'same',
     proxy(proxy_port=9009)),
    ('hidden-and-other-suffixes-ignored', MULTI, {'.99-hidden.conf': '[s3a]\ns3_store_enable_proxy = false\n',
                                                  '99.conf.bak': '[s3a]\ns3_store_enable_proxy = false\n',
                                                  '99.conf.d': '[s3a]\ns3_store_enable_proxy = false\n'}, 's3a', {}, '\n',
     'same', proxy()),
    ('section-case-folds', HEAD + STORE.replace('[s3a]', '[S3A]') + PROXY, {'50.conf': '[S3a]\ns3_store_proxy_port = 3131\n'},
     's3a', {}, '\n', 'same', proxy(proxy_port=3131)),
    ('lowercase-default-is-not-DEFAULT', HEAD.replace('[DEFAULT]', '[default]') + STORE + PROXY, {}, 's3a', {}, '\n',
     'both_fail', 'legacy mode'),
    ('image-import-conf-read-first', MULTI, {'@import': '[s3a]\ns3_store_proxy_port = 1\ns3_store_bucket_url_format = path\n'},
     's3a', {}, '\n', 'same', proxy(addressing_style='path')),
    ('trailing-dot-host', MULTI.replace('proxy.example.com', 'proxy.example.com.'), {}, 's3a', {}, '\n', 'same', proxy()),
    ('ipv6-host', MULTI.replace('proxy.example.com', '2001:db8::1'), {}, 's3a', {}, '\n', 'same', proxy(proxy_host='2001:db8::1')),
    ('env-overrides-file', MULTI, {}, 's3a', {'OS_S3A__S3_STORE_PROXY_PORT': '4444'}, '\n', 'same', proxy(proxy_port=4444)),
    ('enabled-backends-spacing', MULTI.replace('s3a:s3, local:file', ' local : file ,s3a :s3 '), {}, 's3a', {}, '\n', 'same',
     proxy()),
    ('section-header-trailing-space', MULTI.replace('[s3a]', '[s3a]   '), {}, 's3a', {}, '\n', 'same', proxy()),
    ('https-proxy-with-ca', MULTI + 's3_store_proxy_scheme = https\ns3_store_proxy_cacert = @CA@\n', {}, 's3a', {}, '\n',
     'same', proxy(proxy_scheme='https', proxy_ca_bundle='@CA@')),
    ('key-names-are-case-sensitive', MULTI + 'S3_STORE_PROXY_PORT = 1\n', {}, 's3a', {}, '\n', 'same', proxy()),
    ('empty-port-everywhere-is-the-default', MULTI.replace('= 3128', '='), {}, 's3a', {}, '\n', 'same', proxy(proxy_port=8080)),
    # ----- both refuse
    ('legacy-empty-port', LEGACY.replace('= 3128', '='), {}, None, {}, '\n', 'both_fail', 's3_store_proxy_port'),
    ('embedded-cr-splits-the-line', MULTI.replace('= pw', '= pw\rmore'), {}, 's3a', {}, '\n', 'both_fail', "No ':' or '='"),
    ('continued-host-is-invalid', MULTI.replace('proxy.example.com', 'proxy.example.com\n\tmore'), {}, 's3a', {}, '\n',
     'both_fail', 's3_store_proxy_host'),
    ('bad-boolean', MULTI.replace('s3_store_enable_proxy = true', 's3_store_enable_proxy = y'), {}, 's3a', {}, '\n',
     'both_fail', 's3_store_enable_proxy'),
    ('bad-port', MULTI.replace('= 3128', '= 31x8'), {}, 's3a', {}, '\n', 'both_fail', 's3_store_proxy_port'),
    ('port-zero', MULTI.replace('= 3128', '= 0'), {}, 's3a', {}, '\n', 'both_fail', 's3_store_proxy_port'),
    ('port-too-big', MULTI.replace('= 3128', '= 65536'), {}, 's3a', {}, '\n', 'both_fail', 's3_store_proxy_port'),
    ('bad-port-even-with-proxy-off', MULTI.replace('= 3128', '= x').replace('enable_proxy = true', 'enable_proxy = false'), {},
     's3a', {}, '\n', 'both_fail', 's3_store_proxy_port'),
    ('underscore-host', MULTI.replace('proxy.example.com', 'proxy_1.example.com'), {}, 's3a', {}, '\n', 'both_fail',
     's3_store_proxy_host'),
    ('zero-padded-ipv4', MULTI.replace('proxy.example.com', '010.0.0.1'), {}, 's3a', {}, '\n', 'both_fail', 's3_store_proxy_host'),
    ('scheme-is-case-sensitive', MULTI + 's3_store_proxy_scheme = HTTPS\n', {}, 's3a', {}, '\n', 'both_fail',
     's3_store_proxy_scheme'),
    ('unknown-interpolation', MULTI.replace('= pw', '= pa$word'), {}, 's3a', {}, '\n', 'both_fail', 's3_store_proxy_password'),
    ('user-without-password', MULTI.replace('s3_store_proxy_password = pw\n', ''), {}, 's3a', {}, '\n', 'both_fail',
     'without s3_store_proxy_password'),
    ('proxy-without-host', MULTI.replace('s3_store_proxy_host = proxy.example.com\n', ''), {}, 's3a', {}, '\n', 'both_fail',
     's3_store_proxy_host'),
    ('assignment-before-section', 'enabled_backends = s3a:s3\n' + MULTI, {}, 's3a', {}, '\n', 'both_fail', 'Section must be started'),
    ('continuation-after-blank', MULTI.replace('= pw', '= pw\n   \n  more'), {}, 's3a', {}, '\n', 'both_fail', 'continuation'),
    ('spaced-section-name', MULTI.replace('[s3a]', '[ s3a ]'), {}, 's3a', {}, '\n', 'both_fail', 's3_store_host'),
    ('duplicate-backend', MULTI.replace('s3a:s3, local:file', 's3a:s3, s3a:file'), {}, 's3a', {}, '\n', 'both_fail',
     'enabled_backends'),
    ('legacy-without-s3-in-stores', LEGACY.replace('stores = file, http, s3\n', ''), {}, None, {}, '\n', 'both_fail',
     'does not list s3'),
    ('multi-store-without-backend', MULTI, {}, None, {}, '\n', 'both_fail', 'set glance_backend'),
    ('backend-is-not-s3', MULTI, {}, 'local', {}, '\n', 'both_fail', "'local' is not an s3 entry"),
    ('missing-secret-key', MULTI.replace('s3_store_secret_key = SeCrEt/Key+1\n', ''), {}, 's3a', {}, '\n', 'both_fail',
     's3_store_secret_key'),
    ('small-chunks', MULTI + 's3_store_large_object_chunk_size = 4\n', {}, 's3a', {}, '\n', 'both_fail', 'at least 5'),
    # ----- the pure reader refuses what it does not implement
    ('interpolation-of-a-known-option', MULTI.replace('s3_store_proxy_user = glance', 's3_store_proxy_user = ${s3_store_bucket}'),
     {}, 's3a', {}, '\n', 'pure_refuses', '$s3_store_bucket'),
]


def _write_case(tree, tmp_path, main, dropins, newline):
    ca = tmp_path / 'proxy-ca.pem'
    ca.write_text('not really a certificate\n')

    def fix(text):
        return text.replace('@CA@', str(ca))
    dropins = dict((k, fix(v)) for k, v in dropins.items())
    tree.write(fix(main), dropins, image_import=dropins.pop('@import', None), newline=newline)
    return str(ca)


def _run(reader, tree, backend):
    try:
        return gc.read_glance_settings(tree.main, backend, config_dirs=[tree.dropins], reader=reader)
    except CheckError as exc:
        assert exc.stage == 'config'
        return exc


def oslo_oracle(tree, backend, names):
    """The S3 driver's registered options, read by a plain ConfigOpts as glance_store reads them."""
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.DictOpt('enabled_backends'))
    conf([], project='glance', prog='glance-api', default_config_files=gc.glance_default_config_files(tree.main),
         default_config_dirs=[tree.dropins])
    opts = list(s3_driver.Store.OPTIONS)
    values = {}
    if backend:
        conf.register_opts(opts, group=backend)
        conf.register_opts(opts, group='backend_defaults')
        for opt in opts:
            conf.set_default(opt.name, None, group=backend)
        for name in names:
            value = getattr(conf[backend], name)
            values[name] = getattr(conf.backend_defaults, name) if value is None else value
    else:
        conf.register_opts(opts, group='glance_store')
        for name in names:
            values[name] = getattr(conf.glance_store, name)
    return values


@pytest.mark.parametrize('case', CASES, ids=[c[0] for c in CASES])
def test_pure_reader_agrees_with_oslo_and_glance_store(case, tree, tmp_path, monkeypatch):
    ident, main, dropins, backend, env, newline, expect, expected = case
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    ca = _write_case(tree, tmp_path, main, dropins, newline)
    pure = _run('oslo_rules', tree, backend)
    real = _run('glance_store', tree, backend)

    if expect == 'same':
        assert not isinstance(pure, Exception), pure.msg
        assert not isinstance(real, Exception), real.msg
        want = dict((k, v.replace('@CA@', ca) if isinstance(v, str) else v) for k, v in expected.items())
        for key, value in want.items():
            assert pure[key] == value, (ident, key)
        for key in COMPARED:
            assert pure[key] == real[key], (ident, key, pure[key], real[key])
        common = set(pure['_locations']) & set(real['_locations'])
        assert common >= set(gc.PROXY_OPTIONS) | {'s3_store_host', 'enabled_backends' if backend else 'stores'}
        assert dict((k, pure['_locations'][k]) for k in common) == dict((k, real['_locations'][k]) for k in common)
        assert pure['_reader'] == 'oslo_rules' and real['_reader'] == 'glance_store'
        assert real['_extension_active'] is True
        _section, opts, _locs, _files = gc.read_store_options(tree.main, backend, [tree.dropins])
        assert opts == oslo_oracle(tree, backend, list(opts)), ident
    elif expect == 'both_fail':
        assert isinstance(pure, CheckError), (ident, 'the pure reader accepted what glance_store refuses')
        assert isinstance(real, CheckError), (ident, 'glance_store accepted it', real if isinstance(real, Exception) else None)
        assert expected in pure.msg, pure.msg
    else:
        assert isinstance(pure, CheckError) and expected in pure.msg, pure
        assert not isinstance(real, Exception), real.msg


def test_pure_reader_never_disagrees_silently():
    """Every 'same' case above set expectations, so none of them can pass by both readers being wrong alike."""
    assert len([c for c in CASES if c[6] == 'same']) >= 25
    assert all(c[7] for c in CASES)


def test_option_table_matches_the_registered_options():
    registered = dict((opt.name, opt) for opt in s3_driver.Store.OPTIONS)
    kinds = {'StrOpt': 'str', 'BoolOpt': 'bool', 'IntOpt': 'int', 'PortOpt': 'int', 'HostAddressOpt': 'host'}
    for name, (kind, default, limits) in gc.S3_OPTIONS.items():
        opt = registered[name]
        assert kinds[type(opt).__name__] == kind, name
        assert opt.default == default, name
        assert not opt.deprecated_opts, name
        choices = getattr(opt.type, 'choices', None)
        if kind == 'str':
            assert (tuple(choices) if choices else None) == limits, name
        if kind == 'int':
            assert (opt.type.min, opt.type.max) == limits, name
        assert opt.secret == (name in gc.SECRET_OPTIONS), name


def test_config_dirs_follow_oslo_search_path_not_the_main_file(tree, tmp_path, monkeypatch):
    """glance-api reads ~/.glance/glance-api.conf.d (first found), never <main file>.d by itself."""
    home = tmp_path / 'home'
    (home / '.glance' / 'glance-api.conf.d').mkdir(parents=True)
    (home / 'glance.conf.d').mkdir()
    (home / '.glance' / 'glance-api.conf.d' / '50.conf').write_text('[s3a]\ns3_store_proxy_port = 5050\n')
    (home / 'glance.conf.d' / '50.conf').write_text('[s3a]\ns3_store_proxy_port = 6060\n[s3a]\ns3_store_proxy_user = g2\n')
    tree.write(MULTI, {'99.conf': '[s3a]\ns3_store_proxy_port = 9999\n'})
    expected_dirs = cfg.find_config_dirs(project='glance', prog='glance-api')
    assert gc.glance_config_dirs() == expected_dirs == [str(home / 'glance.conf.d'), str(home / '.glance' / 'glance-api.conf.d')]
    for reader in ('oslo_rules', 'glance_store'):
        settings = gc.read_glance_settings(tree.main, 's3a', reader=reader)
        assert settings['proxy_port'] == 5050  # glance-api.conf.d comes after glance.conf.d
        assert settings['proxy_user'] == 'g2'
        assert settings['_files'] == [tree.main, str(home / 'glance.conf.d' / '50.conf'),
                                      str(home / '.glance' / 'glance-api.conf.d' / '50.conf')]
        assert settings['_locations']['s3_store_proxy_port'] == '%s [s3a]' % (home / '.glance' / 'glance-api.conf.d' / '50.conf')


def test_glance_store_reader_returns_the_real_client_and_dropin_location(tree):
    tree.write(MULTI, {'20-proxy.conf': '[s3a]\ns3_store_proxy_host = dropin-proxy.example.com\n'})
    settings = gc.read_glance_settings(tree.main, 's3a', config_dirs=[tree.dropins])
    assert settings['_reader'] == 'glance_store'
    client = settings['_client']
    assert client.meta.config.proxies == {'http': 'http://glance:pw@dropin-proxy.example.com:3128',
                                          'https': 'http://glance:pw@dropin-proxy.example.com:3128'}
    assert settings['proxy_host'] == 'dropin-proxy.example.com'
    assert settings['_locations']['s3_store_proxy_host'] == '%s [s3a]' % os.path.join(tree.dropins, '20-proxy.conf')
    assert settings['_locations']['s3_store_proxy_user'] == '%s [s3a]' % tree.main
    assert settings['_locations']['s3_store_proxy_cacert'] == 'default'
    assert settings['endpoint_url'] == client.meta.endpoint_url == 'http://s3.example.com:8333'
    assert settings['_files'] == [tree.main, os.path.join(tree.dropins, '20-proxy.conf')]


def test_oslo_get_location_names_the_wrong_file(tree):
    """Why _locations does not come from conf.get_location: it names the last file with the section."""
    tree.write(HEAD + STORE.replace('[s3a]', '[S3A]') + PROXY, {'50.conf': '[s3a]\ns3_store_bucket_url_format = path\n'})
    conf = cfg.ConfigOpts()
    conf([], project='glance', prog='glance-api', default_config_files=[tree.main], default_config_dirs=[tree.dropins])
    conf.register_opts(list(s3_driver.Store.OPTIONS), group='s3a')
    assert conf.get_location('s3_store_proxy_host', 's3a').detail != tree.main
    settings = gc.read_glance_settings(tree.main, 's3a', config_dirs=[tree.dropins])
    assert settings['_locations']['s3_store_proxy_host'] == '%s [S3A]' % tree.main


def test_glance_store_reader_without_the_extension_reports_no_proxy(tree):
    """python -S skips site-packages' .pth files: the import hook is not installed, the driver stays stock."""
    tree.write(MULTI)
    site_packages = [p for p in sys.path if p.endswith('site-packages')]
    code = ('import sys, json; sys.path[:0] = %r\n'
            'from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_config as gc\n'
            's = gc.read_glance_settings(%r, "s3a", config_dirs=[%r])\n'
            'print(json.dumps({"reader": s["_reader"], "proxy_host": s["proxy_host"], "active": s["_extension_active"],'
            ' "proxies": s["_client"].meta.config.proxies, "locations": sorted(s["_locations"])}))\n'
            % (site_packages + [COLLECTIONS], tree.main, tree.dropins))
    proc = subprocess.run([sys.executable, '-S', '-W', 'ignore', '-c', code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out == {'reader': 'glance_store', 'proxy_host': None, 'active': False, 'proxies': None,
                   'locations': out['locations']}
    assert 's3_store_proxy_host' not in out['locations']


class _OldStore:
    """A store whose _create_s3_client takes a location, as before glance_store 5.6.0."""

    def __init__(self, real):
        self._real = real
        self.scheme, self.bucket, self.s3_host = real.scheme, real.bucket, real.s3_host
        self.full_s3_host, self.access_key, self.secret_key = real.full_s3_host, real.access_key, real.secret_key
        self.seen = None

    def _create_s3_client(self, loc):
        self.seen = loc
        return self._real._create_s3_client()


def test_make_client_accepts_the_pre_5_6_signature(tree):
    import stevedore.driver
    import glance_store
    tree.write(MULTI)
    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.DictOpt('enabled_backends'))
    conf([], project='glance', prog='glance-api', default_config_files=[tree.main], default_config_dirs=[])
    glance_store.register_store_opts(conf, reserved_stores=dict(gc.RESERVED_STORES))
    store = stevedore.driver.DriverManager('glance_store.drivers', 's3', invoke_args=[conf, 's3a'], invoke_on_load=True).driver
    store.configure(re_raise_bsc=True)
    old = _OldStore(store)
    client = gc._make_client(old, conf, 's3a')  # pylint: disable=protected-access
    assert old.seen.bucket == 'images'
    assert client.meta.config.proxies['https'] == 'http://glance:pw@proxy.example.com:3128'


@pytest.mark.parametrize('reader', ['oslo_rules', 'glance_store'])
@pytest.mark.parametrize('text', [
    MULTI.replace('= pw', '= pa$Zq9x'),
    MULTI.replace('= pw', '= p@ss:w/rd%').replace('s3_store_proxy_user = glance\n', ''),
    MULTI.replace('s3_store_secret_key = SeCrEt/Key+1', 's3_store_secret_key = SeCrEt/Key+1\n  pa$Zq9x'),
    '[x]\n  pa$Zq9x\n' + MULTI,
    MULTI.replace('s3_store_proxy_password = pw', 's3_store_proxy_password = pa$Zq9x\ns3_store_proxy_port = x'),
])
def test_messages_never_carry_secrets(reader, text, tree):
    tree.write(text)
    with pytest.raises(CheckError) as err:
        gc.read_glance_settings(tree.main, 's3a', config_dirs=[tree.dropins], reader=reader)
    for secret in ('Zq9x', 'p@ss', 'w/rd', 'p%40ss', 'SeCrEt'):
        assert secret not in err.value.msg, err.value.msg


def test_auto_reader_is_glance_store_here(tree):
    tree.write(MULTI)
    assert gc.glance_store_available()
    assert gc.read_glance_settings(tree.main, 's3a', config_dirs=[tree.dropins])['_reader'] == 'glance_store'
