# -*- coding: utf-8 -*-
"""Every refusal of the value renderer, the name rules and the strict conversions: each names the variable and
the fix, and never shows the value."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.glancestore.s3proxy.plugins.filter.glance_s3_proxy import (
    FilterModule,
    effective_stores,
    enabled_backends,
    oslo_section,
    oslo_value,
    problems,
    store_options,
)

SECRET = 'TOPSECRET'
WHAT = 'glance_s3_proxy_stores[0].proxy.password'
PROXY = {'enabled': True, 'host': 'proxy', 'port': 3128, 'user': 'glance', 'password': 'pw'}


def store(**over):
    s = {'name': 'fast', 'endpoint': 'https://s3', 'bucket': 'glance', 'access_key': 'AK', 'secret_key': 'SK',
         'default': True}
    s.update(over)
    return s


def refused(func, *args, **kwargs):
    with pytest.raises(AnsibleFilterError) as caught:
        func(*args, **kwargs)
    return str(caught.value)


# --- oslo_value: refusals -------------------------------------------------------------------------------------------

@pytest.mark.parametrize('char', ['\r', '\n', '\t', '\x0b', '\x0c', '\x1c', '\x1d', '\x1e', '\x1f', '\x85', '\x7f',
                                  '\x00', '\x9f', '\u2028', '\u2029', '\ud800'],
                         ids=lambda c: 'U+%04X' % ord(c))
def test_a_control_character_is_refused(char):
    msg = refused(oslo_value, SECRET + char + '[DEFAULT]', WHAT)
    assert msg.startswith(WHAT + ' contains a control character') and 'Remove it' in msg
    assert SECRET not in msg


@pytest.mark.parametrize('value', [' ' + SECRET, SECRET + ' ', '\u3000' + SECRET, SECRET + '\xa0'])
def test_surrounding_whitespace_is_refused(value):
    msg = refused(oslo_value, value, WHAT)
    assert msg.startswith(WHAT + ' starts or ends with whitespace, which oslo.config strips')
    assert SECRET not in msg


@pytest.mark.parametrize('value', ['"%s"' % SECRET, "'%s'" % SECRET, '"', "'"])
def test_a_value_wrapped_in_matching_quotes_is_refused(value):
    msg = refused(oslo_value, value, WHAT)
    assert msg.startswith(WHAT + ' starts and ends with the same quote character')
    assert SECRET not in msg


@pytest.mark.parametrize('value', [['a'], {'a': 1}, 1.5])
def test_a_value_that_is_no_scalar_is_refused(value):
    assert refused(oslo_value, value, WHAT) == ('%s is a %s: it must be a string, an integer or a boolean.'
                                                % (WHAT, type(value).__name__))


def test_an_unknown_consumer_is_refused():
    assert 'consumer must be one of oslo, kolla, osa' in refused(oslo_value, 'x', WHAT, 'puppet')


def test_the_message_names_a_default_when_no_variable_is_given():
    assert refused(oslo_value, 'a\rb').startswith('a configuration value contains a control character')


# --- oslo_value: what it writes -------------------------------------------------------------------------------------

@pytest.mark.parametrize('value,out', [
    ('pa$$word$', 'pa$$$$word$$'), (True, 'true'), (False, 'false'), (None, ''), (5, '5'), ('', ''),
    ('a"b\'c', 'a"b\'c'), ('"x\'', '"x\''), ('\\$', '\\\\$'), ('a\\\\$', 'a\\\\\\$'), ('in side', 'in side'),
    ('{{ x }}', '{{ x }}'),
])
def test_oslo_writes(value, out):
    assert oslo_value(value, WHAT) == out


@pytest.mark.parametrize('value,out', [
    ("{{ lookup('pipe', 'id') }}", "{% raw %}{{ lookup('pipe', 'id') }}{% endraw +%}"),
    ('a{#b', '{% raw %}a{#b{% endraw +%}'),
    ('a%}b', '{% raw %}a%}b{% endraw +%}'),
    ('p$w{%', '{% raw %}p$$w{%{% endraw +%}'),
    ('plain$', 'plain$$'),
    (True, 'true'),
])
def test_kolla_wraps_only_values_holding_jinja_delimiters(value, out):
    assert oslo_value(value, WHAT, 'kolla') == out


@pytest.mark.parametrize('value', ['{{ x }}{% endraw %}', 'a{#ENDRAW'])
def test_kolla_refuses_what_no_raw_block_can_protect(value):
    msg = refused(oslo_value, value, WHAT, 'kolla')
    assert msg.startswith(WHAT + ' contains Jinja delimiters and the word "endraw"')
    assert value not in msg


@pytest.mark.parametrize('value,out', [
    ('secret$', '"secret$$"'), ('00', '"00"'), ('true', '"true"'), ('', '""'), ('a"b\\c', '"a\\"b\\\\c"'),
    ('é😀', '"\\u00e9\\U0001f600"'), ('{{ x }}', '!unsafe "{{ x }}"'), ('a#}', '!unsafe "a#}"'),
    (True, 'true'), (8, '8'),
])
def test_openstack_ansible_writes_yaml_scalars(value, out):
    assert oslo_value(value, WHAT, 'osa') == out


def test_openstack_ansible_refuses_a_semicolon_after_whitespace():
    msg = refused(oslo_value, SECRET + ' ;x', WHAT, 'osa')
    assert msg.startswith(WHAT + ' contains a ";" after whitespace') and SECRET not in msg
    assert oslo_value(SECRET + ';x', WHAT, 'osa') == '"%s;x"' % SECRET


# --- names ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize('name', ['bad name', 'fast\n', '', 'a.b', 'ü', '[x]'])
def test_a_name_that_is_no_backend_id_is_refused(name):
    assert 'must be a backend id of letters, digits, "_" or "-"' in refused(oslo_section, name, 'glance_s3_proxy_stores[0].name')


@pytest.mark.parametrize('name', ['DEFAULT', 'default', 'glance_store', 'Glance_Store', 'backend_defaults',
                                  'os_glance_staging_store', 'os_glance_tasks_store', 'OS_GLANCE_mine', 'database',
                                  'keystone_authtoken', 'paste_deploy', 'oslo_policy', 'oslo_concurrency',
                                  'oslo_messaging_rabbit', 'oslo_whatever', 'profiler', 'task', 'taskflow_executor',
                                  'image_format', 'cors', 'healthcheck', 'key_manager', 'barbican', 'wsgi',
                                  'store_type_location_strategy', 'glance_download_properties',
                                  'image_import_opts', 'inject_metadata_properties', 'import_filtering_opts'])
def test_a_section_glance_reads_for_itself_is_refused(name):
    msg = refused(oslo_section, name, 'glance_s3_proxy_stores[0].name')
    assert msg == ('glance_s3_proxy_stores[0].name: name %r is reserved by Glance (a section Glance or an oslo library'
                   ' reads for its own options): choose another backend id.' % name)


@pytest.mark.parametrize('name', ['s3', 'file', 'HTTP', 'rbd', 'swift', 'cinder', 'vmware'])
def test_a_store_named_like_a_driver_is_refused(name):
    assert 'is a glance_store driver name' in refused(oslo_section, name, 'glance_s3_proxy_stores[0].name')


@pytest.mark.parametrize('name', ['reset', 'project', 'items', '_x', '__dict__'])
def test_a_name_that_hides_its_section_from_glance_is_refused(name):
    assert 'is an attribute of oslo.config\'s ConfigOpts' in refused(oslo_section, name, 'glance_s3_proxy_stores[0].name')


@pytest.mark.parametrize('name', ['fast', 'Fast-2', 's3_b', 'x_s3proxy'])
def test_a_good_name_passes(name):
    assert oslo_section(name) == name


def test_problems_apply_the_name_rules_in_multi_mode_only_for_sections():
    found = problems(effective_stores([store(name='Database')], PROXY))
    assert found == ["glance_s3_proxy_stores[0] (Database): name 'Database' is reserved by Glance (a section Glance or"
                     " an oslo library reads for its own options): choose another backend id."]
    assert problems(effective_stores([store(name='s3')], PROXY), 'legacy') == []  # legacy writes no [s3] section
    assert 'must be a backend id' in problems(effective_stores([store(name='s3\n')], PROXY), 'legacy')[0]


def test_duplicate_names_are_found_regardless_of_case():
    found = problems(effective_stores([store(), store(name='FAST', default=False)], PROXY))
    assert found == ['glance_s3_proxy_stores: duplicate store names FAST, fast: each backend id must be unique'
                     ' (oslo.config does not tell upper from lower case in section names).']


@pytest.mark.parametrize('entry,needle', [
    ('file', 'glance_s3_proxy_other_backends[1] must be written NAME:TYPE'),
    ('glance_store:file', "glance_s3_proxy_other_backends[1]: name 'glance_store' is reserved by Glance"),
    ('os_glance_x:file', "name 'os_glance_x' is reserved by Glance"),
    ('lo cal:file', 'must be a backend id'),
    ('local:File', "glance_s3_proxy_other_backends[1]: type 'File' must be a glance_store type"),
    ('local:fi\rle', "type 'fi\\rle' must be a glance_store type"),
    (5, 'glance_s3_proxy_other_backends[1] must be written NAME:TYPE'),
])
def test_other_backends_are_checked(entry, needle):
    stores = effective_stores([store()], PROXY)
    assert any(needle in p for p in problems(stores, other_backends=['http:http', entry]))
    assert needle in refused(enabled_backends, '', stores, ['http:http', entry])


def test_other_backends_may_use_driver_names():
    stores = effective_stores([store()], PROXY)
    assert problems(stores, other_backends=['file:file', 'http:http', 'ceph:rbd']) == []
    assert enabled_backends('', stores, ['file:file', 'http:http']) == 'file:file, http:http, fast:s3'


# --- strict booleans and integers -----------------------------------------------------------------------------------

@pytest.mark.parametrize('raw,out', [('false', False), ('no', False), ('0', False), ('true', True), ('yes', True),
                                     (True, True), (0, False)])
def test_booleans_are_converted(raw, out):
    s = effective_stores([store(default=raw, create_bucket_on_put=raw, proxy={'enabled': raw})], PROXY)[0]
    assert s['default'] is out and s['create_bucket_on_put'] is out and s['proxy']['enabled'] is out


def test_a_string_false_turns_the_proxy_off_everywhere():
    s = effective_stores([store(proxy={'enabled': 'false'})], PROXY)
    assert [k for k, _v in store_options(s[0])][-1] == 's3_store_enable_proxy'
    assert store_options(s[0])[-1] == ['s3_store_enable_proxy', 'false']
    assert FilterModule().filters()['glance_s3_proxy_ca_files'](s) == []


@pytest.mark.parametrize('stores,proxy,what,kind', [
    ([store(), store(name='b', default=False, proxy={'enabled': 'maybe'})], PROXY,
     'glance_s3_proxy_stores[1].proxy.enabled', 'str'),
    ([store()], dict(PROXY, enabled='sometimes'), 'glance_s3_proxy_proxy.enabled', 'str'),
    ([store(default='first')], PROXY, 'glance_s3_proxy_stores[0].default', 'str'),
    ([store(create_bucket_on_put=['x'])], PROXY, 'glance_s3_proxy_stores[0].create_bucket_on_put', 'list'),
    ([store(create_bucket_on_put=2)], PROXY, 'glance_s3_proxy_stores[0].create_bucket_on_put', 'int'),
])
def test_a_value_that_is_no_boolean_is_refused(stores, proxy, what, kind):
    msg = refused(effective_stores, stores, proxy)
    assert msg == '%s is a %s that is not a boolean: write true or false (unquoted in YAML).' % (what, kind)


@pytest.mark.parametrize('key,raw,out', [('thread_pools', '4', 4), ('large_object_size', '-1', -1),
                                         ('max_retries', None, None), ('max_retries', '3', 3), ('weight', 2, 2)])
def test_integers_are_converted(key, raw, out):
    assert effective_stores([store(**{key: raw})], PROXY)[0][key] == out


def test_the_proxy_port_is_converted():
    assert effective_stores([store(proxy={'port': '3129'})], PROXY)[0]['proxy']['port'] == 3129


@pytest.mark.parametrize('over,proxy,what,kind', [
    ({'thread_pools': 'many'}, PROXY, 'glance_s3_proxy_stores[0].thread_pools', 'str'),
    ({'thread_pools': True}, PROXY, 'glance_s3_proxy_stores[0].thread_pools', 'bool'),
    ({'large_object_chunk_size': 5.5}, PROXY, 'glance_s3_proxy_stores[0].large_object_chunk_size', 'float'),
    ({'max_retries': ' 3'}, PROXY, 'glance_s3_proxy_stores[0].max_retries', 'str'),
    ({'weight': '1e3'}, PROXY, 'glance_s3_proxy_stores[0].weight', 'str'),
    ({'proxy': {'port': 'http'}}, PROXY, 'glance_s3_proxy_stores[0].proxy.port', 'str'),
    ({}, dict(PROXY, port='3128/tcp'), 'glance_s3_proxy_proxy.port', 'str'),
])
def test_a_value_that_is_no_integer_is_refused(over, proxy, what, kind):
    msg = refused(effective_stores, [store(**over)], proxy)
    assert msg == '%s is a %s that is not an integer: write a whole number, for example 10.' % (what, kind)


# --- problems: the new rules ----------------------------------------------------------------------------------------

def test_expect_direct_blocked_refuses_a_store_without_proxy():
    stores = effective_stores([store(), store(name='b', default=False, proxy={'enabled': 'false'})], PROXY)
    assert problems(stores) == []
    assert problems(stores, expect_direct_blocked='false') == []
    assert problems(stores, 'multi', True) == [
        'glance_s3_proxy_stores[1] (b): proxy.enabled is false but glance_s3_proxy_expect_direct_blocked is true, so'
        ' the check that the direct path to S3 is blocked would fail: enable the proxy for this store, or set'
        ' glance_s3_proxy_expect_direct_blocked false.']
    assert 'glance_s3_proxy_expect_direct_blocked is a str that is not a boolean' in refused(
        problems, stores, 'multi', 'perhaps')


def test_problems_report_a_value_that_cannot_be_written_without_showing_it():
    stores = effective_stores([store(secret_key=SECRET + '\r[DEFAULT]')], dict(PROXY, password=' ' + SECRET))
    found = problems(stores)
    assert [p.split(' ', 1)[0] for p in found] == ['glance_s3_proxy_stores[0].secret_key', 'glance_s3_proxy_proxy.password']
    assert not any(SECRET in p for p in found)


def test_problems_check_the_values_for_the_consumer():
    stores = effective_stores([store(secret_key='{{ x }}{% endraw %}')], PROXY)
    assert problems(stores) == []
    assert problems(stores, consumer='kolla')[0].startswith('glance_s3_proxy_stores[0].secret_key contains Jinja')
    stores = effective_stores([store(secret_key='a ;b')], PROXY)
    assert problems(stores, consumer='osa')[0].startswith('glance_s3_proxy_stores[0].secret_key contains a ";"')


# --- the ordered option list ----------------------------------------------------------------------------------------

def test_store_options_in_the_order_and_on_the_conditions_of_the_templates():
    full = effective_stores([store(region='R1', description='Images', weight=3, cacert='/s3.pem', max_retries=5,
                                   secret_key='s$k', proxy={'cacert': '/p.pem', 'scheme': 'https'})], PROXY)[0]
    assert store_options(full) == [
        ['store_description', 'Images'], ['weight', '3'], ['s3_store_host', 'https://s3'],
        ['s3_store_bucket', 'glance'], ['s3_store_access_key', 'AK'], ['s3_store_secret_key', 's$$k'],
        ['s3_store_region_name', 'R1'], ['s3_store_bucket_url_format', 'auto'],
        ['s3_store_create_bucket_on_put', 'false'], ['s3_store_large_object_size', '100'],
        ['s3_store_large_object_chunk_size', '10'], ['s3_store_thread_pools', '10'], ['s3_store_cacert', '/s3.pem'],
        ['s3_store_max_retries', '5'], ['s3_store_enable_proxy', 'true'], ['s3_store_proxy_host', 'proxy'],
        ['s3_store_proxy_port', '3128'], ['s3_store_proxy_scheme', 'https'], ['s3_store_proxy_user', 'glance'],
        ['s3_store_proxy_password', 'pw'], ['s3_store_proxy_cacert', '/p.pem']]
    assert [k for k, _v in store_options(full, False)][:2] == ['s3_store_host', 's3_store_bucket']
    bare = effective_stores([store(proxy={'user': ''})], dict(PROXY, password=''))[0]
    assert [k for k, _v in store_options(bare)] == [
        's3_store_host', 's3_store_bucket', 's3_store_access_key', 's3_store_secret_key', 's3_store_bucket_url_format',
        's3_store_create_bucket_on_put', 's3_store_large_object_size', 's3_store_large_object_chunk_size',
        's3_store_thread_pools', 's3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port',
        's3_store_proxy_scheme']
    off = effective_stores([store(proxy={'enabled': False, 'cacert': '/p.pem'})], PROXY)[0]
    assert store_options(off)[-1] == ['s3_store_enable_proxy', 'false']


def test_store_options_name_the_variable_of_a_value_they_refuse():
    s = effective_stores([store(proxy={'user': 'u'})], dict(PROXY, password='a\rb'))[0]
    assert refused(store_options, s).startswith('glance_s3_proxy_proxy.password contains a control character')
    s = effective_stores([store(proxy={'password': 'a\rb'})], PROXY)[0]
    assert refused(store_options, s).startswith('glance_s3_proxy_stores[0].proxy.password contains')


def test_store_options_render_for_the_consumer():
    s = effective_stores([store(secret_key='{{ x }}')], PROXY)[0]
    assert dict(store_options(s, True, 'kolla'))['s3_store_secret_key'] == '{% raw %}{{ x }}{% endraw +%}'
    osa = dict(store_options(s, True, 'osa'))
    assert osa['s3_store_secret_key'] == '!unsafe "{{ x }}"'
    assert osa['s3_store_enable_proxy'] == 'true' and osa['s3_store_proxy_port'] == '3128'


def test_store_options_refuse_what_is_no_store():
    assert refused(store_options, 'fast').startswith('glance_s3_proxy_store_options expects one effective store')
