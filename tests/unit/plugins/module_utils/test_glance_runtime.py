"""glance_runtime.evaluate: the rules that decide whether a process tree proves the extension.

Real processes are exercised in tests/functional/glance_api/test_runtime_check.py; these cover the
branches that are hard to produce on demand (a fork before the patch, an exec'd child, a helper that
is not Python, processes that disagree)."""

import os
import time

from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_runtime as gr

BOOT = 'b00t'
STORE = {'proxied': True, 'host': 'proxy', 'port': 3128, 'scheme': 'http', 'user': 'glance-s3',
         'locations': {'s3_store_enable_proxy': '/etc/glance/glance-api.conf.d/50-glance-s3-proxy.conf [fast]'}}
INTENT = [{'name': 'fast', 'proxied': True, 'host': 'proxy', 'port': 3128, 'scheme': 'http', 'user': 'glance-s3'}]


def proc(pid, ppid, start, exe='/usr/bin/uwsgi', python=True, nspid=None, stack=77, unreadable=False, exited=False):
    return {'pid': pid, 'nspid': nspid or pid, 'ppid': ppid, 'start_ticks': start, 'exe': exe, 'cmdline': exe,
            'python': python, 'start_stack': stack, 'unreadable': unreadable, 'exited': exited}


def record(pid, start, patched=True, patched_ticks=5, stores=None):
    return {'format': 2, 'pid': pid, 'start_ticks': start, 'start_stack': 77, 'boot_id': BOOT, 'hook': True, 'patched': patched,
            'patched_ticks': patched_ticks if patched else None, 'version': '1.1.0', 'glance_store': '5.7.0',
            'stores': {'fast': dict(STORE)} if stores is None else stores}


def run(tree, records, intent=None):
    return gr.evaluate(tree, dict((r['pid'], r) for r in records), BOOT, INTENT if intent is None else intent)


def test_workers_forked_after_the_patch_inherit_it():
    tree = [proc(10, 1, 1), proc(11, 10, 9), proc(12, 10, 9)]
    processes, failures, effect = run(tree, [record(10, 1)])
    assert failures == []
    assert [p['evidence'] for p in processes[1:]] == ['forked from pid 10 after its hook'] * 2
    assert effect['fast']['processes'] == [10, 11, 12]


def test_a_fork_before_the_patch_inherits_the_hook_only():
    tree = [proc(10, 1, 1), proc(11, 10, 3)]
    processes, failures, _effect = run(tree, [record(10, 1, patched_ticks=5)])
    assert failures == []
    assert processes[1]['hook'] is True and processes[1]['patched'] is False


def test_an_execd_child_does_not_inherit():
    tree = [proc(10, 1, 1), proc(11, 10, 9, exe='/usr/bin/python3.11')]
    _processes, failures, _effect = run(tree, [record(10, 1)])
    assert len(failures) == 1 and 'pid 11' in failures[0] and 'stage runtime' in failures[0]
    # The same program exec'd again (a new image, the same path): not inherited either.
    _processes, failures, _effect = run([proc(10, 1, 1), proc(11, 10, 9, stack=78)], [record(10, 1)])
    assert len(failures) == 1 and 'pid 11' in failures[0]


def test_a_record_does_not_survive_an_exec_in_place():
    # uwsgi's reload re-executes the master under the same pid and start time: a new stack start.
    _processes, failures, _effect = run([proc(10, 1, 1, stack=99), proc(11, 10, 9, stack=99)], [record(10, 1)])
    assert [f for f in failures if 'pid 10' in f and 'has no glance-store-s3proxy record' in f]


def test_a_process_that_cannot_be_looked_at_fails():
    tree = [proc(10, 1, 1), proc(11, 10, 9, exe=None, python=False, unreadable=True)]
    _processes, failures, _effect = run(tree, [record(10, 1)])
    assert len(failures) == 1 and 'pid 11 cannot be looked at' in failures[0]


def test_a_process_that_is_not_python_is_ignored():
    tree = [proc(1, 0, 1, exe='/usr/bin/dumb-init', python=False), proc(7, 1, 2, nspid=7), proc(8, 7, 9)]
    processes, failures, _effect = run(tree, [record(7, 2)])
    assert failures == []
    assert processes[0]['evidence'] == 'not a Python process: ignored'


def test_an_exited_worker_not_yet_reaped_is_named_and_ignored():
    tree = [proc(10, 1, 1), proc(11, 10, 9, exe=None, python=False, exited=True), proc(12, 10, 9)]
    processes, failures, effect = run(tree, [record(10, 1)])
    assert failures == []
    assert processes[1]['evidence'] == 'exited, not yet reaped: ignored'
    assert effect['fast']['processes'] == [10, 12]
    # An exited master leaves nothing patched: that fails.
    _processes, failures, _effect = run([proc(10, 1, 1, exited=True)], [record(10, 1)])
    assert len(failures) == 1 and 'no glance-api process has loaded the patched S3 driver' in failures[0]


def test_read_process_sees_a_real_zombie():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        deadline = 50
        while deadline and not gr.read_process(pid)['exited']:
            deadline -= 1
            time.sleep(0.05)
        seen = gr.read_process(pid)
        assert seen['exited'] is True and seen['ppid'] == os.getpid()
        assert gr.read_process(os.getpid())['exited'] is False
    finally:
        os.waitpid(pid, 0)
    assert gr.read_process(pid) is None


def test_records_are_matched_by_the_pid_of_the_process_namespace():
    tree = [proc(4242, 1, 2, nspid=7)]
    _processes, failures, _effect = run(tree, [record(7, 2)])
    assert failures == []
    _processes, failures, _effect = run([proc(4242, 1, 2, nspid=8)], [record(7, 2)])
    assert failures and 'has no glance-store-s3proxy record' in failures[0]


def test_hook_only_everywhere_is_not_proof():
    tree = [proc(10, 1, 1), proc(11, 10, 9)]
    _processes, failures, _effect = run(tree, [record(10, 1, patched=False, stores={})])
    assert failures == ['stage runtime: no glance-api process has loaded the patched S3 driver yet (2 processes checked):'
                        ' the extension is installed in the interpreter, but no S3 store was configured in a running process.']


def test_each_proxy_field_is_compared_and_the_file_named():
    tree = [proc(10, 1, 1)]
    off = dict(STORE, proxied=False)
    _processes, failures, _effect = run(tree, [record(10, 1, stores={'fast': off})])
    assert len(failures) == 1 and 'does NOT use a proxy' in failures[0] and '50-glance-s3-proxy.conf [fast]' in failures[0]
    for key, value in (('host', 'other'), ('port', 8080), ('scheme', 'https'), ('user', 'someone')):
        _processes, failures, _effect = run(tree, [record(10, 1, stores={'fast': dict(STORE, **{key: value})})])
        assert len(failures) == 1 and 'proxy %s is %r' % (key, value) in failures[0], failures


def test_an_unproxied_intent_fails_on_a_proxied_store():
    tree = [proc(10, 1, 1)]
    _processes, failures, _effect = run(tree, [record(10, 1)], intent=[{'name': 'fast', 'proxied': False}])
    assert len(failures) == 1 and 'the inventory wants no proxy' in failures[0]


def test_without_intent_processes_must_agree():
    tree = [proc(10, 1, 1), proc(11, 10, 0)]
    other = dict(STORE, port=3999)
    records = [record(10, 1), record(11, 0, stores={'fast': other})]
    _processes, failures, effect = gr.evaluate(tree, dict((r['pid'], r) for r in records), BOOT, None)
    assert len(failures) == 1 and 'uses a different proxy in pid 11 than in pid 10' in failures[0]
    _processes, failures, effect = gr.evaluate(tree, {10: record(10, 1)}, BOOT, None)
    assert failures == [] and effect['fast']['port'] == 3128


def test_without_intent_a_direct_store_or_no_store_fails():
    tree = [proc(10, 1, 1)]
    direct = dict(STORE, proxied=False)
    _processes, failures, _effect = gr.evaluate(tree, {10: record(10, 1, stores={'fast': direct})}, BOOT, None)
    assert len(failures) == 1 and 'store fast goes to S3 directly in pid 10' in failures[0]
    _processes, failures, _effect = gr.evaluate(tree, {10: record(10, 1, stores={})}, BOOT, None)
    assert len(failures) == 1 and 'has no S3 store configured' in failures[0]


def test_a_file_changed_after_the_process_read_it_is_reported(tmp_path):
    conf = tmp_path / 'glance-api.conf'
    conf.write_text('[fast]\n')
    os.utime(str(conf), (1000, 1000))
    fresh = record(10, 1, stores={'fast': dict(STORE, configured_at=2000)})
    fresh['config_files'] = [str(conf)]
    _processes, failures, _effect = run([proc(10, 1, 1)], [fresh])
    assert failures == []
    os.utime(str(conf), (5000, 5000))
    _processes, failures, _effect = run([proc(10, 1, 1)], [fresh])
    assert len(failures) == 1 and 'changed after the running glance-api (pid 10)' in failures[0]


def test_cacert_is_compared_only_when_the_intent_names_it():
    tree = [proc(10, 1, 1)]
    got = dict(STORE, cacert='/etc/ca.pem')
    assert run(tree, [record(10, 1, stores={'fast': got})])[1] == []
    want = [dict(INTENT[0], cacert='/etc/other.pem')]
    failures = run(tree, [record(10, 1, stores={'fast': got})], intent=want)[1]
    assert len(failures) == 1 and "proxy cacert is '/etc/ca.pem'" in failures[0]


def test_a_record_of_an_older_extension_is_named_as_such():
    old = record(10, 1)
    old.update(format=1, version='1.0.0')
    del old['start_stack']
    _processes, failures, _effect = run([proc(10, 1, 1)], [old])
    assert len(failures) == 1 and 'runs glance-store-s3proxy 1.0.0' in failures[0] and 'run the role' in failures[0]


def test_a_record_written_by_another_user_is_not_taken():
    forged = record(10, 1)
    forged['_owner'] = 4242  # neither root nor the process's user
    tree = [dict(proc(10, 1, 1), uids=[998, 998, 998, 998])]
    _processes, failures, _effect = run(tree, [forged])
    assert failures and 'has no glance-store-s3proxy record' in failures[0]
    forged['_owner'] = 998
    assert run(tree, [forged])[1] == []


# ------------------------------------------------------------ native glance_store, no extension, no records

NATIVE_SRC = '\n'.join("cfg.StrOpt('%s')" % n for n in gr.NATIVE_OPTIONS)


def native_setup(tmp_path, driver_age=100, conf_age=50):
    venv = tmp_path / 'venv'
    driver = venv / 'lib' / 'python3.11' / 'site-packages' / 'glance_store' / '_drivers' / 's3.py'
    driver.parent.mkdir(parents=True, exist_ok=True)
    driver.write_text(NATIVE_SRC)
    conf = tmp_path / 'glance-api.conf'
    conf.write_text('[DEFAULT]\n')
    now = time.time()
    os.utime(str(driver), (now - driver_age, now - driver_age))
    os.utime(str(conf), (now - conf_age, now - conf_age))
    lib = str(venv / 'lib' / 'python3.11' / 'site-packages' / 'yaml' / '_yaml.so')
    return str(driver), [str(conf)], lib, now


def native_proc(pid, ppid, started_ago, now, lib, booted=1000):
    ticks = os.sysconf('SC_CLK_TCK')
    p = proc(pid, ppid, int((now - started_ago - booted) * ticks))
    p['mapped'] = ['/usr/lib/x86_64-linux-gnu/libc.so.6', lib]
    return p


def test_native_processes_started_after_the_driver_and_the_files_pass(tmp_path):
    driver, files, lib, now = native_setup(tmp_path)
    tree = [native_proc(10, 1, 10, now, lib), native_proc(11, 10, 9, now, lib),
            proc(12, 10, 9, exe='/usr/bin/sh', python=False)]
    processes, failures = gr.evaluate_native(tree, driver, files, booted=1000)
    assert failures == []
    assert [p['patched'] for p in processes] == [True, True, None]
    assert processes[0]['evidence'].startswith('native glance_store, loaded after it was installed')


def test_native_process_older_than_the_driver_or_a_file_fails(tmp_path):
    driver, files, lib, now = native_setup(tmp_path, driver_age=100, conf_age=5)
    _processes, failures = gr.evaluate_native([native_proc(10, 1, 60, now, lib)], driver, files, booted=1000)
    assert len(failures) == 1 and 'glance-api.conf changed after pid 10 started' in failures[0]
    driver, files, lib, now = native_setup(tmp_path, driver_age=5, conf_age=200)
    _processes, failures = gr.evaluate_native([native_proc(10, 1, 60, now, lib)], driver, files, booted=1000)
    assert len(failures) == 1 and 'pid 10 started before %s was installed' % driver in failures[0]


def test_native_process_of_another_environment_fails(tmp_path):
    driver, files, lib, now = native_setup(tmp_path)
    other = native_proc(10, 1, 10, now, '/opt/other/lib/python3.11/site-packages/yaml/_yaml.so')
    _processes, failures = gr.evaluate_native([other], driver, files, booted=1000)
    assert len(failures) == 1 and 'pid 10 runs no program and maps no file of' in failures[0]
    # uwsgi's master with lazy-apps loads no library of the venv, but runs the venv's own uwsgi.
    master = native_proc(10, 1, 10, now, '/usr/lib/libc.so.6')
    master['exe'] = lib.split('/lib/python', maxsplit=1)[0] + '/bin/uwsgi'
    assert gr.evaluate_native([master], driver, files, booted=1000)[1] == []


def test_native_needs_a_native_driver_and_files(tmp_path):
    driver, files, lib, now = native_setup(tmp_path)
    with open(driver, 'w') as f:
        f.write("cfg.StrOpt('s3_store_host')")
    _processes, failures = gr.evaluate_native([native_proc(10, 1, 10, now, lib)], driver, files, booted=1000)
    assert any('does not define s3_store_enable_proxy' in f for f in failures)
    driver, files, lib, now = native_setup(tmp_path)
    _processes, failures = gr.evaluate_native([native_proc(10, 1, 10, now, lib)], driver, [], booted=1000)
    assert any('no configuration file is known' in f for f in failures)
    _processes, failures = gr.evaluate_native([proc(1, 0, 1, exe='/usr/bin/sh', python=False)], driver, files, booted=1000)
    assert failures == ['stage runtime: no running glance-api process could be judged (1 processes).']
