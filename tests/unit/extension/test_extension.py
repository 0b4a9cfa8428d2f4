"""Unit tests of glance-store-s3proxy (run with Glance's Python environment)."""

import base64
import configparser
import os
import subprocess
import sys
import types
import zipfile

import pytest
from botocore.httpsession import ProxyConfiguration

from glance_store_s3proxy import options, patch, proxy

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
FILES = os.path.join(ROOT, 'roles', 'glance_s3_proxy', 'files')
SRC = os.path.join(FILES, 'glance-store-s3proxy')
RESERVED = 'p@ss:w/rd%#'


def values(**over):
    v = {'s3_store_enable_proxy': True, 's3_store_proxy_host': 'proxy', 's3_store_proxy_port': 3128,
         's3_store_proxy_user': 'glance', 's3_store_proxy_password': RESERVED, 's3_store_proxy_scheme': 'http',
         's3_store_proxy_cacert': None, 's3_store_max_retries': None}
    v.update(over)
    return v


# ------------------------------------------------------------ URL building and masking

def test_url_encodes_reserved_characters_and_botocore_decodes_them():
    url = proxy.build_url('http', 'proxy', 3128, 'glance', RESERVED)
    assert url == 'http://glance:p%40ss%3Aw%2Frd%25%23@proxy:3128'
    header = ProxyConfiguration(proxies={'http': url}).proxy_headers_for(url)['Proxy-Authorization']
    assert base64.b64decode(header.split()[1]).decode() == 'glance:' + RESERVED


def test_url_without_user_and_ipv6():
    assert proxy.build_url('https', 'fd00::1', 8443) == 'https://[fd00::1]:8443'


def test_mask_url():
    assert proxy.mask_url(proxy.build_url('http', 'proxy', 3128, 'glance', RESERVED)) == \
        'http://glance:***@proxy:3128'
    assert proxy.mask_url('http://proxy:3128') == 'http://proxy:3128'


# ------------------------------------------------------------ validation

def test_disabled_proxy_is_never_validated():
    assert proxy.validate(values(s3_store_enable_proxy=False, s3_store_proxy_host=None)) == []


def test_valid_values():
    assert proxy.validate(values()) == []


@pytest.mark.parametrize('over,needle', [
    ({'s3_store_proxy_host': None}, 's3_store_proxy_host is not set'),
    ({'s3_store_proxy_port': 0}, 'outside 1-65535'),
    ({'s3_store_proxy_port': 65536}, 'outside 1-65535'),
    ({'s3_store_proxy_password': None}, 'without s3_store_proxy_password'),
    ({'s3_store_proxy_user': None}, 'without s3_store_proxy_user'),
    ({'s3_store_proxy_user': 'glänce'}, 's3_store_proxy_user has non-ASCII'),
    ({'s3_store_proxy_password': 'pässword'}, 's3_store_proxy_password has non-ASCII'),
    ({'s3_store_proxy_cacert': '/nonexistent.pem'}, 'does not exist'),
])
def test_each_rule(over, needle):
    problems = proxy.validate(values(**over))
    assert len(problems) == 1 and needle in problems[0], problems
    assert 'pässword' not in problems[0] and RESERVED not in problems[0]


def test_botocore_args():
    args = proxy.botocore_config_args(values(s3_store_proxy_scheme='https', s3_store_proxy_cacert='/ca.pem',
                                             s3_store_max_retries=5))
    url = 'https://glance:p%40ss%3Aw%2Frd%25%23@proxy:3128'
    assert args == {'proxies': {'http': url, 'https': url}, 'proxies_config': {'proxy_ca_bundle': '/ca.pem'},
                    'retries': {'max_attempts': 5, 'mode': 'standard'}}


def test_botocore_args_retries_without_proxy():
    assert proxy.botocore_config_args(values(s3_store_enable_proxy=False, s3_store_max_retries=0)) == \
        {'retries': {'max_attempts': 0, 'mode': 'standard'}}


# ------------------------------------------------------------ the Config shim

def test_config_shim_merges_only_inside_a_proxied_client_creation():
    import botocore.client
    shim = patch._BotoClientModule(botocore.client)  # pylint: disable=protected-access
    assert shim.Config(s3={'addressing_style': 'path'}).proxies is None
    token = patch._ACTIVE.set({'proxies': {'http': 'http://p:1', 'https': 'http://p:1'}})  # pylint: disable=protected-access
    try:
        config = shim.Config(s3={'addressing_style': 'path'})
    finally:
        patch._ACTIVE.reset(token)  # pylint: disable=protected-access
    assert config.proxies == {'http': 'http://p:1', 'https': 'http://p:1'}
    assert config.s3 == {'addressing_style': 'path'}
    assert shim.ClientCreator is botocore.client.ClientCreator


# ------------------------------------------------------------ refusing unexpected glance_store drivers
# Other glance_store releases cannot be installed side by side here, so the
# driver module is a stand-in shaped like (or unlike) the real one.

def fake_driver(create_uses_config=True, extra_opt=None, takes_location=False, native=False):
    from oslo_config import cfg
    opts = [cfg.StrOpt('s3_store_host')] + ([cfg.StrOpt(extra_opt)] if extra_opt else [])
    if native:
        opts += options.store_opts()
    module = types.ModuleType('fake_s3')
    ns = {'boto_client': None}
    params = 'self, loc' if takes_location else 'self'
    if create_uses_config:
        src = 'def _create_s3_client(%s):\n    return boto_client.Config()\n' % params
    else:
        src = 'def _create_s3_client(%s):\n    return None\n' % params
    exec(compile(src, 'fake', 'exec'), ns)  # pylint: disable=exec-used
    store = type('Store', (), {'OPTIONS': opts, 'configure_add': lambda self: None,
                               '_create_s3_client': ns['_create_s3_client']})
    module.Store, module._S3_OPTS, module.boto_client = store, opts, object()  # pylint: disable=protected-access
    return module


def test_tested_release_with_expected_shape_is_accepted(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '5.7.0')
    assert patch.check_patch_points(fake_driver()) == '5.7.0'


def test_untested_release_is_refused(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '6.0.0')
    monkeypatch.delenv(patch.ALLOW_UNTESTED_ENV, raising=False)
    with pytest.raises(patch.UnsupportedGlanceStore) as err:
        patch.check_patch_points(fake_driver())
    assert 'glance_store 6.0.0 is not a tested release' in str(err.value)
    assert patch.ALLOW_UNTESTED_ENV in str(err.value)


def test_untested_release_allowed_explicitly(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '6.0.0')
    monkeypatch.setenv(patch.ALLOW_UNTESTED_ENV, '1')
    assert patch.check_patch_points(fake_driver()) == '6.0.0'


def test_changed_client_factory_is_refused_even_when_allowed(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '6.0.0')
    monkeypatch.setenv(patch.ALLOW_UNTESTED_ENV, '1')
    with pytest.raises(patch.UnsupportedGlanceStore) as err:
        patch.check_patch_points(fake_driver(create_uses_config=False))
    assert 'no longer builds boto_client.Config' in str(err.value)


def test_upstream_with_some_of_the_options_is_refused(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '5.7.0')
    with pytest.raises(patch.UnsupportedGlanceStore) as err:
        patch.check_patch_points(fake_driver(extra_opt='s3_store_enable_proxy'))
    assert 'defines only some of the proxy options (s3_store_enable_proxy)' in str(err.value)


def test_upstream_with_all_the_options_is_native_and_not_patched(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '5.8.0')  # untested, and still fine: nothing to patch
    monkeypatch.delenv(patch.ALLOW_UNTESTED_ENV, raising=False)
    module = fake_driver(native=True)
    create = module.Store._create_s3_client  # pylint: disable=protected-access
    assert patch.native(module)
    patch.apply(module)
    assert module.Store._create_s3_client is create  # pylint: disable=protected-access
    assert getattr(module.Store.configure_add, patch.MARK)  # records only
    assert not isinstance(module.boto_client, patch._BotoClientModule)  # pylint: disable=protected-access
    assert not patch.native(module)  # marked: applied once


@pytest.mark.parametrize('version,takes_location,ok', [
    ('4.9.1', True, True), ('5.2.0', True, True), ('5.4.0', True, True), ('5.6.0', False, True),
    ('5.7.0', False, True), ('4.9.1', False, False), ('5.4.0', False, False), ('5.7.0', True, False),
])
def test_client_factory_parameters_are_checked_per_release(monkeypatch, version, takes_location, ok):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: version)
    module = fake_driver(takes_location=takes_location)
    if ok:
        assert patch.check_patch_points(module) == version
    else:
        with pytest.raises(patch.UnsupportedGlanceStore) as err:
            patch.check_patch_points(module)
        assert "Store._create_s3_client takes (%s), glance_store %s's takes" % (
            'self, loc' if takes_location else 'self', version) in str(err.value)


def test_the_refusal_lists_the_supported_series(monkeypatch):
    monkeypatch.setattr(patch, '_glance_store_version', lambda: '5.5.0')
    monkeypatch.delenv(patch.ALLOW_UNTESTED_ENV, raising=False)
    with pytest.raises(patch.UnsupportedGlanceStore) as err:
        patch.check_patch_points(fake_driver())
    assert ('supported: 4.9.1 (2025.1), 5.2.0 (2025.2), 5.4.0 (2026.1), 5.6.0 (2026.2), 5.7.0 (2026.2)'
            in str(err.value))


def test_the_wrapper_passes_the_location_through(monkeypatch):
    seen = []

    def original(self, *args, **kwargs):
        seen.append((args, kwargs))
        return 'client'
    wrapped = patch._wrap_create_s3_client(original)  # pylint: disable=protected-access
    monkeypatch.setattr(patch, 'store_config_args', lambda store: ({}, {}))
    assert wrapped(object(), 'LOC') == 'client' and wrapped(object()) == 'client'
    assert seen == [(('LOC',), {}), ((), {})]


def test_real_driver_is_patched_once():
    from glance_store._drivers import s3
    names = [o.name for o in s3.Store.OPTIONS]
    for name in options.OPTION_NAMES:
        assert names.count(name) == 1
    patch.apply(s3)  # idempotent
    assert [o.name for o in s3.Store.OPTIONS] == names
    assert getattr(s3.Store._create_s3_client, patch.MARK)  # pylint: disable=protected-access


# ------------------------------------------------------------ generated docs and the shipped wheel

def test_options_reference_matches_generator():
    generator = os.path.join(os.path.dirname(sys.executable), 'oslo-config-generator')
    out = subprocess.run([generator, '--namespace', 'glance_store_s3proxy', '--format', 'ini'],
                         stdout=subprocess.PIPE, check=True, universal_newlines=True).stdout
    with open(os.path.join(ROOT, 'docs', 'glance-store-s3proxy.conf.sample')) as f:
        assert f.read() == out, 'docs/ is stale: run make docs'


def test_shipped_wheel_matches_the_source():
    wheels = [f for f in os.listdir(FILES) if f.endswith('.whl')]
    assert len(wheels) == 1
    with zipfile.ZipFile(os.path.join(FILES, wheels[0])) as whl:
        names = set(whl.namelist())
        assert 'glance_store_s3proxy.pth' in names  # at the root: pip uninstall removes it
        package = sorted(n for n in os.listdir(os.path.join(SRC, 'glance_store_s3proxy')) if n.endswith('.py'))
        for name in package:
            with open(os.path.join(SRC, 'glance_store_s3proxy', name), 'rb') as f:
                assert whl.read('glance_store_s3proxy/' + name) == f.read(), 'wheel is stale: run make wheel'
        with open(os.path.join(SRC, 'glance_store_s3proxy.pth'), 'rb') as f:
            assert whl.read('glance_store_s3proxy.pth') == f.read()
        entry_points = configparser.ConfigParser()
        dist_info = [n for n in names if n.endswith('.dist-info/entry_points.txt')][0]
        entry_points.read_string(whl.read(dist_info).decode())
        assert entry_points['oslo.config.opts']['glance_store_s3proxy'] == 'glance_store_s3proxy.options:list_opts'


def test_https_proxy_without_cacert_verifies_with_botocores_default_bundle():
    # botocore verifies no proxy certificate on http:// endpoints unless a proxy CA bundle is given.
    from botocore.httpsession import get_cert_path
    from glance_store_s3proxy import proxy as proxy_mod
    values = {'s3_store_enable_proxy': True, 's3_store_proxy_host': 'proxy', 's3_store_proxy_port': 3130,
              's3_store_proxy_scheme': 'https'}
    assert proxy_mod.botocore_config_args(values)['proxies_config'] == {'proxy_ca_bundle': get_cert_path(True)}
    values['s3_store_proxy_scheme'] = 'http'
    assert 'proxies_config' not in proxy_mod.botocore_config_args(values)
    values.update(s3_store_proxy_scheme='https', s3_store_proxy_cacert='/etc/ca.pem')
    assert proxy_mod.botocore_config_args(values)['proxies_config'] == {'proxy_ca_bundle': '/etc/ca.pem'}
