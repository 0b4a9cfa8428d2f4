"""Every validation rule of the glance_s3_proxy role stops the play before any
file changes, with a message that names the variable and the fix."""

import copy
import hashlib
import os

import pytest

from lab.ansible_runner import ROLE_PLAYBOOK, TOOLS_BIN, run_playbook
from lab.constants import PASSWORD
from lab.netlab import S3_HTTP_PORT, S3_NAME

NO_SCHEME = '%s:%d' % (S3_NAME, S3_HTTP_PORT)  # the lab's S3 endpoint without http://
MAIN_CONF = '[DEFAULT]\nenabled_backends = local:file\n\n[glance_store]\ndefault_backend = local\n\n' \
            '[local]\nfilesystem_store_datadir = /var/lib/glance/images\n'


def base_vars(lab, tmp_path):
    ident = lab['s3']['identities']['glance']
    return {
        'glance_s3_proxy_stores': [{
            'name': 'fast', 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance',
            'access_key': ident['access_key'], 'secret_key': ident['secret_key'],
            'bucket_url_format': 'path', 'default': True,
        }],
        'glance_s3_proxy_proxy': {'enabled': True, 'host': lab['proxy']['host'], 'port': lab['proxy']['port'],
                                  'user': 'glance-s3', 'password': PASSWORD},
        'glance_s3_proxy_config_file': str(tmp_path / 'glance-api.conf'),
        'glance_s3_proxy_config_dropin': str(tmp_path / 'glance-api.conf.d' / '50-glance-s3-proxy.conf'),
        'glance_s3_proxy_config_group': 'root',
        'glance_s3_proxy_python': os.path.join(TOOLS_BIN, 'python'),
        'glance_s3_proxy_restart_method': 'none',
        'glance_s3_proxy_pidfile': str(tmp_path / 'glance-api.pid'),
        'glance_s3_proxy_wheel_cache_dir': str(tmp_path / 'cache'),
    }


def second_store(lab, **over):
    ident = lab['s3']['identities']['glance']
    store = {'name': 'slow', 'endpoint': lab['s3']['http_endpoint'], 'bucket': 'glance-b',
             'access_key': ident['access_key'], 'secret_key': ident['secret_key'], 'bucket_url_format': 'path'}
    store.update(over)
    return store


def mutate(variables, lab, rule):
    v = copy.deepcopy(variables)
    store = v['glance_s3_proxy_stores'][0]
    proxy = v['glance_s3_proxy_proxy']
    if rule == 'no_host':
        proxy['host'] = ''
    elif rule == 'port':
        proxy['port'] = 70000
    elif rule == 'user_without_password':
        proxy['password'] = ''
    elif rule == 'password_without_user':
        proxy['user'] = ''
    elif rule == 'non_ascii':
        store['proxy'] = {'password': 'pässwörd'}
    elif rule == 'no_scheme':
        store['endpoint'] = NO_SCHEME
    elif rule == 'virtual_bucket':
        store.update(bucket='Glance_Images', bucket_url_format='virtual')
    elif rule == 'chunk':
        store['large_object_chunk_size'] = 4
    elif rule == 'negative_size':
        store['large_object_size'] = -1
    elif rule == 'thread_pools':
        store['thread_pools'] = 0
    elif rule == 'duplicates':
        v['glance_s3_proxy_stores'].append(second_store(lab, name='fast'))
    elif rule == 'no_default':
        store['default'] = False
    elif rule == 'two_defaults':
        v['glance_s3_proxy_stores'].append(second_store(lab, default=True))
    elif rule == 'legacy_two_stores':
        v['glance_s3_proxy_store_mode'] = 'legacy'
        v['glance_s3_proxy_stores'].append(second_store(lab))
    elif rule == 'ca_missing':
        store['cacert'] = '/nonexistent/s3-ca.pem'
    elif rule == 'argspec_choice':
        store['bucket_url_format'] = 'sideways'
    elif rule == 'legacy_on_multi':
        v['glance_s3_proxy_store_mode'] = 'legacy'
    elif rule == 'wrong_password':
        proxy['password'] = 'not-the-password'
    elif rule == 'no_pidfile':
        v['glance_s3_proxy_pidfile'] = ''
    elif rule == 'string_false_is_false':  # the string "false" is false, so the direct-path rule applies
        proxy['enabled'] = 'false'
        v['glance_s3_proxy_expect_direct_blocked'] = 'true'
    elif rule == 'carriage_return':
        store['description'] = 'images\r[fast]\rs3_store_enable_proxy = false'
    elif rule == 'reserved_name':
        store['name'] = 'database'
    elif rule == 'name_trailing_newline':
        store['name'] = 'fast\n'
    elif rule == 'quoted_value':
        store['bucket'] = '"glance"'
    elif rule == 'edge_whitespace_secret':
        proxy['password'] = PASSWORD + ' '
    return v


RULES = [
    ('no_host', 'proxy.enabled is true but proxy.host is empty'),
    ('port', 'glance_s3_proxy_stores[0] (fast): proxy.port 70000 is outside 1-65535'),
    ('user_without_password', 'proxy.user is set but proxy.password is empty'),
    ('password_without_user', 'proxy.password is set but proxy.user is empty'),
    ('non_ascii', 'proxy.password contains non-ASCII characters'),
    ('no_scheme', "endpoint '%s' has no scheme: write it as http://%s" % (NO_SCHEME, NO_SCHEME)),
    ('virtual_bucket', "bucket 'Glance_Images' is not DNS-safe"),
    ('chunk', 'large_object_chunk_size 4 is invalid: S3 parts must be at least 5 MB'),
    ('negative_size', 'large_object_size -1 is invalid'),
    ('thread_pools', 'thread_pools 0 is invalid: use 1 or more'),
    ('duplicates', 'duplicate store names fast'),
    ('no_default', '0 stores have default: true (none): mark exactly one store as the default'),
    ('two_defaults', '2 stores have default: true (fast, slow)'),
    ('legacy_two_stores', 'glance_s3_proxy_store_mode is legacy but glance_s3_proxy_stores lists 2 stores'),
    ('ca_missing', 'glance_s3_proxy_stores[0] (fast).cacert: /nonexistent/s3-ca.pem does not exist'),
    ('argspec_choice', 'bucket_url_format'),
    ('legacy_on_multi', 'sets [DEFAULT] enabled_backends, so Glance runs multi-store'),
    ('wrong_password', 'stage proxy_auth'),
    ('string_false_is_false', 'proxy.enabled is false but glance_s3_proxy_expect_direct_blocked is true'),
    ('carriage_return', 'glance_s3_proxy_stores[0].description contains a control character'),
    ('reserved_name', "name 'database' is reserved by Glance"),
    ('name_trailing_newline', 'must be a backend id of letters, digits'),
    ('quoted_value', 'glance_s3_proxy_stores[0].bucket starts and ends with the same quote character'),
    ('edge_whitespace_secret', 'glance_s3_proxy_proxy.password starts or ends with whitespace'),
    ('no_pidfile', 'glance_s3_proxy_pidfile is empty while glance_s3_proxy_restart_method is none: verification must find'),
]


def digest(path):
    with open(path, 'rb') as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.mark.parametrize('rule,needle', RULES, ids=[r[0] for r in RULES])
def test_rule_stops_before_any_change(lab, tmp_path, rule, needle):
    conf = tmp_path / 'glance-api.conf'
    conf.write_text(MAIN_CONF)
    before = digest(str(conf))
    variables = mutate(base_vars(lab, tmp_path), lab, rule)
    run = run_playbook(ROLE_PLAYBOOK, variables, str(tmp_path))
    assert run.rc != 0, run.output
    assert needle in run.output, run.output
    assert run.changed == 0
    assert digest(str(conf)) == before
    assert not (tmp_path / 'glance-api.conf.d').exists()
    assert not (tmp_path / 'cache').exists()
    for secret in (PASSWORD, 'not-the-password', 'pässwörd', lab['s3']['identities']['glance']['secret_key']):
        assert secret not in run.output
