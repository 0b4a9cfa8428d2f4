# -*- coding: utf-8 -*-
"""kolla-ansible's Glance backends as the role computes them from globals.yml (K5, K6), and the override files
kolla-ansible merges around the role's (K4). kolla-ansible's own merge_configs run on its own template is in
tests/functional/kolla_ansible."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.glancestore.s3proxy.plugins.filter.glance_s3_proxy import kolla_backends

STORES = [{'name': 'fast'}, {'name': 'second'}]
OWN = '/etc/kolla/config/glance/glance-api.conf'


@pytest.mark.parametrize('kolla_globals, expected', [
    ({}, 'file:file, http:http'),
    (None, 'file:file, http:http'),
    ({'glance_backend_file': 'no'}, 'http:http'),
    ({'glance_backend_file': False, 'enable_cinder': 'yes'}, 'http:http, cinder:cinder'),
    ({'glance_backend_ceph': 'yes'}, 'http:http, rbd:rbd'),
    ({'glance_backend_ceph': True, 'glance_backend_file': True, 'enable_cinder': True}, 'file:file, http:http, cinder:cinder, rbd:rbd'),
    ({'glance_backend_ceph': True, 'glance_ceph_backends': [
        {'name': 'rbd', 'type': 'rbd', 'enabled': '{{ glance_backend_ceph | bool }}'},
        {'name': 'rbd2', 'type': 'rbd', 'enabled': 'no'}]}, 'http:http, rbd:rbd'),
])
def test_enabled_backends_as_kolla_renders_them(kolla_globals, expected):
    out = kolla_backends(kolla_globals, STORES)
    assert out['enabled_backends'] == expected
    assert out['problems'] == []


def test_file_backend_on_one_host_is_a_warning_naming_the_fix():
    out = kolla_backends({}, STORES, '/etc/kolla/globals.yml')
    assert len(out['warnings']) == 1
    assert 'glance_api_hosts' in out['warnings'][0] and 'glance_backend_file: "no"' in out['warnings'][0]
    assert kolla_backends({'glance_backend_file': 'no'}, STORES)['warnings'] == []
    # A shared volume for the file store (not kolla's named volume "glance") keeps glance-api on every host.
    assert kolla_backends({'glance_file_datadir_volume': '/mnt/nfs'}, STORES)['warnings'] == []


def test_kollas_own_s3_store_without_the_role_would_go_direct():
    out = kolla_backends({'glance_backend_s3': 'yes'}, STORES, '/etc/kolla/globals.yml')
    assert out['enabled_backends'] == 's3:s3, http:http'
    assert len(out['problems']) == 1 and 'without a proxy' in out['problems'][0]
    assert '/etc/kolla/globals.yml' in out['problems'][0]


def test_kollas_own_s3_store_is_refused_even_for_a_store_named_s3():
    # The role cannot take kolla's [s3] over (a store named s3 is refused by the role's own validation).
    out = kolla_backends({'glance_backend_s3': True}, [{'name': 's3'}])
    assert any('glance_backend_s3: "no"' in p for p in out['problems']), out


@pytest.mark.parametrize('name, kolla_globals', [('http', {}), ('file', {}), ('cinder', {'enable_cinder': 'yes'}),
                                                 ('rbd', {'glance_backend_ceph': 'yes'})])
def test_a_store_named_like_a_kolla_backend_is_refused(name, kolla_globals):
    out = kolla_backends(kolla_globals, [{'name': name}])
    assert any(("store %s is kolla-ansible's own" % name) in p for p in out['problems']), out


@pytest.mark.parametrize('value', ['{{ enable_openstack_core }}', 'maybe', '{% if x %}yes{% endif %}'])
def test_a_flag_that_is_a_template_or_not_a_boolean_is_refused(value):
    out = kolla_backends({'enable_cinder': value}, STORES, 'g.yml')
    assert len(out['problems']) == 1 and 'enable_cinder in g.yml' in out['problems'][0]


def test_globals_that_are_not_a_mapping_fail():
    with pytest.raises(AnsibleFilterError, match='YAML mapping'):
        kolla_backends(['glance_backend_file'], STORES)


def test_an_override_not_written_by_the_role_is_not_taken_over():
    out = kolla_backends({}, STORES, overrides={OWN: '[DEFAULT]\ndebug = true\n'}, own=OWN)
    assert len(out['problems']) == 1
    assert 'not written by this role' in out['problems'][0] and '/etc/kolla/config/glance.conf' in out['problems'][0]
    ours = '# Glance S3 stores behind HTTP proxies (glancestore.s3proxy).\n[fast]\n'
    assert kolla_backends({}, STORES, overrides={OWN: ours}, own=OWN)['problems'] == []


@pytest.mark.parametrize('text, needle', [
    ('[FAST]\ns3_store_enable_proxy = false\n', '[FAST]'),
    ('[DEFAULT]\nenabled_backends = fast:file\n', '[DEFAULT] enabled_backends'),
    ('[glance_store]\r\ndefault_backend=second\r\n', '[glance_store] default_backend'),
    ('[GLANCE_STORE]\ndefault_backend = second\n', '[glance_store] default_backend'),
    # merge_configs writes keys before any section at the end of the merged file: into the last store
    ('s3_store_enable_proxy = false\n', 's3_store_enable_proxy before any [section]'),
    # an indented line continues the value above it: this enabled_backends is in [DEFAULT]
    ('[DEFAULT]\nnote = a\n [other]\nenabled_backends = http:http\n', '[DEFAULT] enabled_backends'),
    ('[{{ "fast" }}]\ns3_store_enable_proxy = false\n', 'Jinja'),
])
def test_a_later_per_host_file_that_touches_the_stores_is_refused(text, needle):
    host_file = '/etc/kolla/config/glance/node1/glance-api.conf'
    out = kolla_backends({}, STORES, overrides={host_file: text}, own=OWN)
    assert len(out['problems']) == 1 and host_file in out['problems'][0] and needle in out['problems'][0], out


@pytest.mark.parametrize('text', [
    '[ fast ]\ns3_store_enable_proxy = false\n',  # section " fast ": not the store for oslo.config
    '[default]\nenabled_backends = http:http\n',  # oslo.config's DEFAULT is upper case only
])
def test_a_per_host_file_that_oslo_config_reads_elsewhere_is_fine(text):
    out = kolla_backends({}, STORES, overrides={'/etc/kolla/config/glance/node1/glance-api.conf': text}, own=OWN)
    assert out['problems'] == []


def test_a_per_host_file_with_other_settings_is_fine():
    text = '[DEFAULT]\ndebug = true\n[oslo_middleware]\nenable_proxy_headers_parsing = true\n[fastx]\na = b\n'
    out = kolla_backends({}, STORES, overrides={'/etc/kolla/config/glance/node1/glance-api.conf': text}, own=OWN)
    assert out['problems'] == []


def test_global_and_glance_conf_enabled_backends_are_kept_in_kollas_order():
    out = kolla_backends({}, STORES, overrides={
        '/etc/kolla/config/global.conf': '[DEFAULT]\nenabled_backends = http:http, vmware:vmware\n',
        '/etc/kolla/config/glance.conf': '[DEFAULT]\nenabled_backends = http:http, swift:swift\n[FAST]\nx = 1\n',
        OWN: '# Glance S3 stores behind HTTP proxies (glancestore.s3proxy).\n'}, own=OWN)
    assert out['enabled_backends'] == 'http:http, swift:swift' and out['problems'] == []
    assert any('[FAST]' in w for w in out['warnings'])


@pytest.mark.parametrize('value', ['y', 't', ' yes', 1.0, None])
def test_a_flag_kolla_only_coerces_is_refused(value):
    assert kolla_backends({'glance_backend_ceph': value}, STORES)['problems']


def test_a_ceph_backend_kolla_leaves_off_is_not_enabled():
    ceph = [{'name': 'rbd', 'type': 'rbd', 'enabled': 'yes'}, {'name': 'rbd2', 'type': 'rbd'}]
    assert kolla_backends({'glance_backend_ceph': True, 'glance_ceph_backends': ceph}, STORES)['enabled_backends'] == 'http:http'
