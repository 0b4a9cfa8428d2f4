"""glance_runtime.evaluate: the rules that decide whether a process tree proves the extension.

Real processes are exercised in tests/functional/glance_api/test_runtime_check.py; these cover the
branches that are hard to produce on demand (a fork before the patch, an exec'd child, a helper that
is not Python, processes that disagree)."""

from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_runtime as gr

BOOT = 'b00t'
STORE = {'proxied': True, 'host': 'proxy', 'port': 3128, 'scheme': 'http', 'user': 'glance-s3',
         'locations': {'s3_store_enable_proxy': '/etc/glance/glance-api.conf.d/50-glance-s3-proxy.conf [fast]'}}
INTENT = [{'name': 'fast', 'proxied': True, 'host': 'proxy', 'port': 3128, 'scheme': 'http', 'user': 'glance-s3'}]


def proc(pid, ppid, start, exe='/usr/bin/uwsgi', python=True, nspid=None):
    return {'pid': pid, 'nspid': nspid or pid, 'ppid': ppid, 'start_ticks': start, 'exe': exe, 'cmdline': exe,
            'python': python}


def record(pid, start, patched=True, patched_ticks=5, stores=None):
    return {'pid': pid, 'start_ticks': start, 'boot_id': BOOT, 'hook': True, 'patched': patched,
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


def test_a_process_that_is_not_python_is_ignored():
    tree = [proc(1, 0, 1, exe='/usr/bin/dumb-init', python=False), proc(7, 1, 2, nspid=7), proc(8, 7, 9)]
    processes, failures, _effect = run(tree, [record(7, 2)])
    assert failures == []
    assert processes[0]['evidence'] == 'not a Python process: ignored'


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
