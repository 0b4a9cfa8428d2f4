"""A real glance-api (glance 33, uwsgi, 2 workers, lazy-apps) on the glance_store that upstream/'s patch builds:
the proxy options are glance_store's own, and glance-store-s3proxy is not installed.

Proves the upgrade path: the same configuration sends the same traffic through Squid, the module reads it
with glance_store's own options, and the runtime check proves the running processes without any record.
"""

import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'glance_api'))

# pylint: disable=wrong-import-position,unused-import
from test_glance_api import glance, test_64mib_image_multipart_through_proxy  # noqa: F401,E402
from test_glance_api import test_stores_detail_endpoint_works_with_type_s3  # noqa: F401,E402
from test_runtime_check import args, intent, make_api, run_check  # noqa: F401,E402

from glance_store._drivers import s3 as native_s3  # noqa: E402
from lab.ansible_runner import run_module  # noqa: E402
from lab.constants import PASSWORD, leak_probes  # noqa: E402


def test_this_is_native_glance_store_without_the_extension():
    assert importlib.util.find_spec('glance_store_s3proxy') is None
    assert 's3_store_enable_proxy' in [o.name for o in native_s3._S3_OPTS]  # pylint: disable=protected-access
    assert not getattr(native_s3.Store._create_s3_client, '_glance_store_s3proxy', False)  # pylint: disable=protected-access


def test_every_worker_announces_the_proxy_natively(glance):  # pylint: disable=redefined-outer-name
    glance.healthy()
    log = glance.log()
    assert 'glance_store_s3proxy' not in log and 'glance-store-s3proxy' not in log
    assert 'S3 store fast uses proxy http://glance-s3:***@' in log, glance.log_tail()
    assert not [probe for probe in leak_probes(PASSWORD) if probe in log]


def native_args(api, **extra):
    out = args(api, None, native_driver=native_s3.__file__, config_files=[api.conf_file])
    out.pop('stores')
    out.update(extra)
    return out


def test_runtime_check_proves_native_processes_without_records(lab, make_api):  # pylint: disable=redefined-outer-name
    api = make_api(site='home', lazy_apps=True, processes=2)
    assert not os.listdir(api.run_dir)  # nothing writes records here
    result = run_check(api.d, native_args(api))
    assert not result.get('failed'), result['output']
    judged = [p for p in result['processes'] if p['patched']]
    assert len(judged) == 3, result['processes']  # the master and both workers
    assert all(p['evidence'].startswith('native glance_store') for p in judged)
    # The same processes without native_driver: no record, and the check says so instead of passing.
    result = run_check(api.d, args(api, intent(lab), timeout=2))
    assert result.get('failed') and result['stage'] == 'runtime', result['output']
    # A configuration changed after the start is not in effect: the check fails until glance-api restarts.
    time.sleep(1.1)
    with open(api.conf_file, 'a') as f:
        f.write('\n')
    result = run_check(api.d, native_args(api, timeout=2))
    assert result.get('failed'), result['output']
    assert '%s changed after pid' % api.conf_file in result['msg'] and 'restart glance-api' in result['msg']


def test_the_module_reads_the_native_options_with_glance_store(lab, make_api, tmp_path):  # pylint: disable=redefined-outer-name
    api = make_api(site='home', lazy_apps=True, processes=1)
    result, run, _saved = run_module('s3_proxy_check', {'glance_config': api.conf_file, 'glance_backend': 'fast',
                                                        'probe': 'write', 'expect_direct_blocked': True}, str(tmp_path))
    assert not result.get('failed'), run.output
    assert result['settings_reader'] == 'glance_store'
    assert result['proxy_url'] == 'http://glance-s3:********@%s:%d' % (lab['proxy']['host'], lab['proxy']['port'])
    assert not [probe for probe in leak_probes(PASSWORD) if probe in run.output]
