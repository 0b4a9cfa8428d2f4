"""The role's verification filters: the intent, and what differs from it."""

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.glancestore.s3proxy.plugins.filter.glance_s3_proxy_verify import (
    expected_proxy_url, intent, verify_failures)

STORES = [
    {'name': 'fast', 'proxy': {'enabled': True, 'host': 'proxy', 'port': 3128, 'scheme': 'http', 'user': 'u', 'password': 'p'}},
    {'name': 'plain', 'proxy': {'enabled': False, 'host': 'proxy', 'port': 3128, 'user': 'u', 'password': 'p'}},
    {'name': 'v6', 'proxy': {'enabled': True, 'host': 'fd00::1', 'port': 8080, 'scheme': 'https', 'user': '', 'password': ''}},
]


def test_intent_never_carries_a_secret_and_names_the_legacy_store():
    got = intent(STORES)
    assert got[0] == {'name': 'fast', 'proxied': True, 'host': 'proxy', 'port': 3128, 'scheme': 'http', 'user': 'u'}
    assert got[1] == {'name': 'plain', 'proxied': False}
    assert got[2] == {'name': 'v6', 'proxied': True, 'host': 'fd00::1', 'port': 8080, 'scheme': 'https'}
    assert 'p' not in [v for entry in got for v in entry.values()]
    assert intent(STORES[:1], 'legacy')[0]['name'] == 'glance_store'
    with pytest.raises(AnsibleFilterError):
        intent('fast')


def test_expected_url_matches_the_modules_masked_form():
    wanted = intent(STORES)
    assert expected_proxy_url(wanted[0]) == 'http://u:********@proxy:3128'
    assert expected_proxy_url(wanted[1]) is None
    assert expected_proxy_url(wanted[2]) == 'https://[fd00::1]:8080'


def test_failures_name_the_store_the_stage_and_the_overriding_file():
    wanted = intent(STORES)
    ok = {'__glance_s3_proxy_name': 'fast', 'reachable': True, 'proxy_url': 'http://u:********@proxy:3128'}
    assert verify_failures([ok], wanted) == []
    down = {'__glance_s3_proxy_name': 'fast', 'reachable': False, 'stage': 'proxy_auth', 'msg': '407'}
    assert verify_failures([down], wanted) == ['Store fast: stage proxy_auth: 407']
    off = {'__glance_s3_proxy_name': 'fast', 'reachable': True, 'proxy_url': None, 'settings_source': 'f [fast]',
           'locations': {'s3_store_enable_proxy': '/etc/glance/glance-api.conf.d/90-x.conf [fast]', 's3_store_proxy_host': 'default'}}
    msg = verify_failures([off], wanted)[0]
    assert msg.startswith('Store fast: stage config:') and 'use no proxy, the inventory wants http://u:********@proxy:3128' in msg
    assert 's3_store_enable_proxy from /etc/glance/glance-api.conf.d/90-x.conf [fast]' in msg
    assert 's3_store_proxy_host from' not in msg
    sneaky = {'__glance_s3_proxy_name': 'plain', 'reachable': True, 'proxy_url': 'http://u:********@proxy:3128'}
    assert 'the inventory wants no proxy' in verify_failures([sneaky], wanted)[0]


def test_the_runtime_check_takes_the_intent_of_proxied_and_direct_stores(capsys):
    """The intent goes to s3_proxy_runtime_check as its stores: a store that goes direct must pass its argument spec
    (a None port or scheme, where the option has a default, is refused by Ansible and failed every converge with a
    direct store beside a proxied one). The module then fails on the missing process, not on its arguments."""
    import json  # pylint: disable=import-outside-toplevel
    from ansible.module_utils.testing import patch_module_args  # pylint: disable=import-outside-toplevel
    from ansible_collections.glancestore.s3proxy.plugins.modules import (  # pylint: disable=import-outside-toplevel
        s3_proxy_runtime_check)
    with patch_module_args({'pid': 2 ** 22 + 1, 'timeout': 0, 'stores': intent(STORES)}):
        with pytest.raises(SystemExit):
            s3_proxy_runtime_check.main()
    result = json.loads(capsys.readouterr()[0])
    assert result['failed'] is True
    assert 'argument' not in result['msg'] and 'NoneType' not in result['msg'], result['msg']
    assert result['stage'] == 'runtime' and '4194305' in result['msg'], result
