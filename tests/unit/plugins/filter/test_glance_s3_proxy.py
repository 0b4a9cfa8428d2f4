# -*- coding: utf-8 -*-
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.glancestore.s3proxy.plugins.filter.glance_s3_proxy import (
    ca_files,
    conf_value,
    effective_stores,
    enabled_backends,
    oslo_value,
    problems,
)

PROXY = {'enabled': True, 'host': 'proxy', 'port': 3128, 'user': 'glance', 'password': 'p@ss:w/rd%#'}


def store(**over):
    s = {'name': 'fast', 'endpoint': 'https://s3', 'bucket': 'glance', 'access_key': 'AK', 'secret_key': 'SK',
         'default': True}
    s.update(over)
    return s


def test_effective_stores_fill_defaults_and_merge_proxy():
    out = effective_stores([store(proxy={'user': 'other', 'password': 'pw2'})], PROXY)[0]
    assert out['proxy'] == {'enabled': True, 'host': 'proxy', 'port': 3128, 'user': 'other', 'password': 'pw2',
                            'scheme': 'http', 'cacert': ''}
    assert out['proxy_keys_from_role'] == ['cacert', 'enabled', 'host', 'port', 'scheme']
    assert out['large_object_chunk_size'] == 10 and out['thread_pools'] == 10 and out['max_retries'] is None


def test_store_can_turn_the_proxy_off():
    out = effective_stores([store(proxy={'enabled': False})], PROXY)[0]
    assert out['proxy']['enabled'] is False
    assert problems([out]) == []


def test_effective_stores_rejects_non_list():
    with pytest.raises(AnsibleFilterError):
        effective_stores({'name': 'x'}, PROXY)


def test_valid_stores_have_no_problems():
    assert problems(effective_stores([store()], PROXY)) == []


@pytest.mark.parametrize('stores,proxy,mode,needle', [
    ([store(name='os_glance_staging_store')], PROXY, 'multi', 'is reserved by Glance'),
    ([store(name='bad name')], PROXY, 'multi', 'must be a backend id'),
    ([store(endpoint='s3:8333')], PROXY, 'multi', "endpoint 's3:8333' has no scheme"),
    ([store()], dict(PROXY, host=''), 'multi', 'proxy.enabled is true but proxy.host is empty'),
    ([store()], dict(PROXY, port=0), 'multi', 'proxy.port 0 is outside 1-65535'),
    ([store()], dict(PROXY, password=''), 'multi', 'proxy.user is set but proxy.password is empty'),
    ([store()], dict(PROXY, user=''), 'multi', 'proxy.password is set but proxy.user is empty'),
    ([store()], dict(PROXY, user='jöhn'), 'multi', 'proxy.user contains non-ASCII'),
    ([store(bucket='A_B', bucket_url_format='virtual')], PROXY, 'multi', 'not DNS-safe'),
    ([store(large_object_chunk_size=4)], PROXY, 'multi', 'large_object_chunk_size 4 is invalid'),
    ([store(large_object_size=-1)], PROXY, 'multi', 'large_object_size -1 is invalid'),
    ([store(thread_pools=0)], PROXY, 'multi', 'thread_pools 0 is invalid'),
    ([store(max_retries=-1)], PROXY, 'multi', 'max_retries -1 is invalid'),
    ([store(secret_key='')], PROXY, 'multi', 'secret_key is empty'),
    ([store(), store()], PROXY, 'multi', 'duplicate store names fast'),
    ([store(default=False)], PROXY, 'multi', '0 stores have default: true'),
    ([store(), store(name='b')], PROXY, 'multi', '2 stores have default: true (fast, b)'),
    ([store(), store(name='b', default=False)], PROXY, 'legacy', 'legacy [glance_store] mode holds exactly one'),
    ([], PROXY, 'multi', 'glance_s3_proxy_stores is empty'),
])
def test_each_problem(stores, proxy, mode, needle):
    found = problems(effective_stores(stores, proxy), mode)
    assert any(needle in p for p in found), found
    assert not any(proxy['password'] in p for p in found if proxy['password'])


def test_problem_says_where_an_inherited_value_comes_from():
    found = problems(effective_stores([store(), store(name='b', default=False, proxy={'port': 99999})],
                                      dict(PROXY, port=70000)))
    assert found[0].endswith('(inherited from glance_s3_proxy_proxy.port)')
    assert found[1].startswith('glance_s3_proxy_stores[1] (b): proxy.port 99999') and 'inherited' not in found[1]


def test_legacy_needs_no_default():
    assert problems(effective_stores([store(default=False)], PROXY), 'legacy') == []


def test_enabled_backends_keeps_other_entries_and_replaces_ours():
    conf = '[DEFAULT]\nenabled_backends = local:file, fast:s3 ,ceph:rbd\n[other]\nenabled_backends = x:y\n'
    stores = effective_stores([store(), store(name='slow', default=False)], PROXY)
    assert enabled_backends(conf, stores, ['http:http', 'local:file']) == 'http:http, local:file, ceph:rbd, fast:s3, slow:s3'
    assert enabled_backends('', stores) == 'fast:s3, slow:s3'


@pytest.mark.parametrize('value,out', [('pa$$word$', 'pa$$$$word$$'), (True, 'true'), (False, 'false'),
                                       (None, ''), (5, '5'), ('p@ss:w/rd%#', 'p@ss:w/rd%#')])
def test_oslo_value(value, out):
    assert oslo_value(value) == out


def test_oslo_value_refuses_newlines():
    with pytest.raises(AnsibleFilterError):
        oslo_value('a\n[DEFAULT]')


def test_ca_files_names_the_variable():
    stores = effective_stores([store(cacert='/s3.pem', proxy={'cacert': '/proxy.pem'})], PROXY)
    assert ca_files(stores) == [{'var': 'glance_s3_proxy_stores[0] (fast).cacert', 'path': '/s3.pem'},
                                {'var': 'glance_s3_proxy_stores[0] (fast).proxy.cacert', 'path': '/proxy.pem'}]


def test_conf_value_reads_the_last_value_of_the_section():
    text = '[DEFAULT]\nstores = x\n[glance_store]\nstores = file, http\nstores: file\n[other]\nstores = y\n'
    assert conf_value(text, 'glance_store', 'stores') == 'file'
    assert conf_value(text, 'glance_store', 'missing', 'dflt') == 'dflt'
    assert conf_value(text, 'DEFAULT', 'stores') == 'x'
    # oslo.config does not show [DEFAULT] keys through other sections
    assert conf_value('[DEFAULT]\nkey = 1\n[s]\n', 's', 'key', 'none') == 'none'


@pytest.mark.parametrize('text, needle', [
    ('s3_store_secret_key = TOPSECRET\n[DEFAULT]\n', 'line 1 comes before any [section]'),
    ('[DEFAULT]\nenabled_backends = a:s3\nTOPSECRET\n', 'line 3 is neither "key = value" nor a [section]'),
])
def test_conf_value_refuses_a_file_glance_cannot_read_without_showing_it(text, needle):
    with pytest.raises(AnsibleFilterError) as caught:
        conf_value(text, 'DEFAULT', 'enabled_backends')
    assert needle in str(caught.value)
    assert 'TOPSECRET' not in str(caught.value)
