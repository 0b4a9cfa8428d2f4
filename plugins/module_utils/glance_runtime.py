# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Judge the running glance-api processes by the runtime records of glance-store-s3proxy.

The extension writes one JSON record per process (``<runtime_dir>/<pid>.json``)
when its import hook is installed at interpreter start-up, when it patches the
S3 driver, and when a store is configured (see the extension's ``runtime.py``).
A record belongs to a process only if the pid, the kernel's start time of the
process and the boot id all match, so stale records never count.

A process of the service passes when:

- it has a record of its own with ``hook: true``; or
- it was forked (same executable, no exec) from a process of the tree that has
  one: it inherited the hook, and the patched driver too if the fork came after
  the patch (uwsgi workers forked from a master that loaded the application).

Processes that are not Python (no ``python`` or ``uwsgi`` executable and no
``libpython`` mapped) are listed and ignored. Every patched process must have
configured every store the inventory names, each with the proxy the inventory
asks for; at least one process must have. Anything else, including a check
that cannot look (no processes, no directory), is a failure.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re

DEFAULT_RUNTIME_DIR = '/var/lib/glance/glance-store-s3proxy'
RECORD_FORMAT = 2  # the record format this check understands (glance-store-s3proxy 1.1.0)
RUNTIME_ENV = 'GLANCE_STORE_S3PROXY_RUNTIME_DIR'
PROXY_KEYS = ('host', 'port', 'scheme', 'user', 'cacert')
_OPTION_OF = {'proxied': 's3_store_enable_proxy', 'host': 's3_store_proxy_host', 'port': 's3_store_proxy_port',
              'scheme': 's3_store_proxy_scheme', 'user': 's3_store_proxy_user', 'cacert': 's3_store_proxy_cacert'}


class RuntimeCheckError(Exception):
    """The check could not look at the running processes: a failure, never a pass."""


def _read(path, binary=False):
    try:
        with open(path, 'rb' if binary else 'r') as f:
            return f.read()
    except (IOError, OSError):
        return None


def boot_id():
    return (_read('/proc/sys/kernel/random/boot_id') or '').strip() or None


def read_process(pid):
    """What /proc says about one process, or None when it is gone."""
    stat = _read('/proc/%d/stat' % pid)
    if not stat:
        return None
    fields = stat.rsplit(')', 1)[1].split()
    unreadable = False
    try:
        exe = os.path.realpath(os.readlink('/proc/%d/exe' % pid))
    except OSError as exc:
        exe = None  # a kernel thread (ENOENT), or no permission to look (EACCES): the check cannot judge it
        unreadable = exc.errno != errno.ENOENT
    cmdline = (_read('/proc/%d/cmdline' % pid, binary=True) or b'').replace(b'\0', b' ').decode('utf-8', 'replace').strip()
    maps = _read('/proc/%d/maps' % pid) or ''
    base = os.path.basename(exe or '')
    status = _read('/proc/%d/status' % pid) or ''
    nspid = re.search(r'^NSpid:\s*(.*)$', status, re.M)
    uids = re.search(r'^Uid:\s*(.*)$', status, re.M)
    mapped = sorted(set(line.split(None, 5)[5] for line in maps.splitlines()
                        if len(line.split(None, 5)) == 6 and line.split(None, 5)[5].startswith('/')))
    return {
        'pid': pid,
        'mapped': mapped,
        # The pid inside the process's own pid namespace (a container's), the one its record names.
        'nspid': int(nspid.group(1).split()[-1]) if nspid else pid,
        'ppid': int(fields[1]),
        # Z (zombie) or X (dead): it has exited and runs no code; its parent has not reaped it yet.
        'exited': fields[0] in ('Z', 'X'),
        'start_ticks': int(fields[19]),
        # New at every exec, kept by fork: a record stays bound to the program image that wrote it.
        'start_stack': int(fields[25]),
        'unreadable': unreadable,
        'uids': [int(u) for u in uids.group(1).split()] if uids else [],
        'exe': exe,
        'cmdline': cmdline[:200],
        'python': bool(re.match(r'(python|uwsgi)', base)) or 'libpython' in maps,
    }


def all_processes():
    out = {}
    for name in os.listdir('/proc'):
        if name.isdigit():
            proc = read_process(int(name))
            if proc:
                out[proc['pid']] = proc
    return out


def process_tree(root_pid):
    """The root process and all its descendants, parents first."""
    procs = all_processes()
    if root_pid not in procs:
        raise RuntimeCheckError('glance-api process %d is not running.' % root_pid)
    children = {}
    for proc in procs.values():
        children.setdefault(proc['ppid'], []).append(proc['pid'])
    order, queue = [], [root_pid]
    while queue:
        pid = queue.pop(0)
        order.append(procs[pid])
        queue.extend(sorted(children.get(pid, [])))
    return order


def root_from_pidfile(path):
    text = _read(path)
    if text is None:
        raise RuntimeCheckError('pidfile %s cannot be read: is glance-api running, and is this its pidfile?' % path)
    if not re.fullmatch(r'\s*[0-9]+\s*', text):
        raise RuntimeCheckError('pidfile %s does not hold a process id.' % path)
    return int(text)


def load_records(directory):
    """pid -> record, for every well-formed record in the directory."""
    if not os.path.isdir(directory):
        raise RuntimeCheckError(
            'runtime directory %s does not exist: no Glance process of this host has written a glance-store-s3proxy'
            ' record there. Either the extension is not active in glance-api, or glance-api writes its records'
            ' elsewhere (%s in its environment must match runtime_dir).' % (directory, RUNTIME_ENV))
    records = {}
    for name in os.listdir(directory):
        if not re.fullmatch(r'[0-9]+\.json', name):
            continue
        try:
            record = json.loads(_read(os.path.join(directory, name)) or '')
        except ValueError:
            continue
        if isinstance(record, dict) and record.get('pid') == int(name[:-5]):
            try:
                record['_owner'] = os.stat(os.path.join(directory, name)).st_uid
            except OSError:
                continue
            records[record['pid']] = record
    return records


def _own_record(proc, records, boot):
    record = records.get(proc['nspid'])
    if (record and record.get('hook') and record.get('boot_id') == boot and record.get('start_ticks') == proc['start_ticks']
            and record.get('start_stack') == proc['start_stack'] and proc['start_stack'] and record.get('format') == RECORD_FORMAT
            # Written by that process (any of its uids: uwsgi may start as root and drop to glance) or by root.
            and record.get('_owner', 0) in [0] + list(proc.get('uids') or [])):
        return record
    return None


def _older_record(proc, records, boot):
    record = records.get(proc['nspid'])
    return bool(record and record.get('boot_id') == boot and record.get('start_ticks') == proc['start_ticks']
                and (record.get('format') or 1) < RECORD_FORMAT)


def evaluate(tree, records, boot, intent, root_prefix=''):
    """Judge the process tree against the inventory's intent.

    ``intent`` is a list of ``{name, proxied, host, port, scheme, user}``, or None to report every store the
    processes configured (then each must use a proxy, and the processes must agree). ``root_prefix`` is where the
    processes' own filesystem is seen from here (``/proc/PID/root`` for a container), for their configuration files.
    Returns ``(processes, failures, effect)``: per-process findings, messages
    (each naming its stage), and, per store, the proxy a patched process uses.
    """
    by_pid = dict((p['pid'], p) for p in tree)
    evidence = {}  # pid -> (record, how, patched)
    processes = []
    failures = []
    for proc in tree:  # parents come before their children
        item = dict((k, proc[k]) for k in ('pid', 'nspid', 'ppid', 'exe', 'cmdline', 'python'))
        if proc.get('exited'):
            item.update(evidence='exited, not yet reaped: ignored', hook=None, patched=None, stores=[])
            processes.append(item)
            continue
        record = _own_record(proc, records, boot)
        if record:
            evidence[proc['pid']] = (record, 'own record', bool(record.get('patched')))
        else:
            parent = evidence.get(proc['ppid']) if proc['ppid'] in by_pid else None
            forked = parent and by_pid[proc['ppid']]['exe'] == proc['exe'] and by_pid[proc['ppid']]['start_stack'] == proc['start_stack']
            if forked:
                prec = parent[0]
                patched = parent[2] and prec.get('patched_ticks') is not None and proc['start_ticks'] >= prec['patched_ticks']
                evidence[proc['pid']] = (prec, 'forked from pid %d after its hook' % proc['ppid'], patched)
        if proc['pid'] in evidence:
            record, how, patched = evidence[proc['pid']]
            item.update(evidence=how, hook=True, patched=patched, extension_version=record.get('version'),
                        glance_store_version=record.get('glance_store'),
                        stores=sorted(record.get('stores', {})) if patched else [])
        elif proc.get('unreadable'):
            item.update(evidence='cannot be looked at', hook=False, patched=False, stores=[])
            failures.append('stage runtime: pid %d cannot be looked at (/proc/%d/exe is not readable): run the check as'
                            ' root with CAP_SYS_PTRACE (a host\'s root has it; inside a Docker container add SYS_PTRACE, or'
                            ' check from the host with container).' % (proc['pid'], proc['pid']))
        elif not proc['python']:
            item.update(evidence='not a Python process: ignored', hook=None, patched=None, stores=[])
        elif _older_record(proc, records, boot):
            old = records[proc['nspid']]
            item.update(evidence='record of an older extension', hook=None, patched=None, stores=[])
            failures.append('stage runtime: pid %d runs glance-store-s3proxy %s, whose records this check cannot trust'
                            ' (format %s, this check needs %d): install the extension of this collection (run the role)'
                            ' and restart glance-api.' % (proc['pid'], old.get('version'), old.get('format'), RECORD_FORMAT))
        else:
            item.update(evidence='none', hook=False, patched=False, stores=[])
            failures.append(
                'stage runtime: pid %d (%s) has no glance-store-s3proxy record: the extension is not active in that'
                ' process. Its Python did not run the .pth file of Glance\'s site-packages (uwsgi with pythonpath='
                ' or no-site, python -S), or the extension is not installed. Run glance-api from its venv (uwsgi'
                ' home= or virtualenv=), install the extension, and restart.' % (proc['pid'], proc['cmdline'] or proc['exe']))
        processes.append(item)

    patched = [(pid, ev[0]) for pid, ev in evidence.items() if ev[2]]
    failures.extend(_stale(patched, root_prefix))
    effect = {}
    if not patched and not failures:
        failures.append('stage runtime: no glance-api process has loaded the patched S3 driver yet (%d processes'
                        ' checked): the extension is installed in the interpreter, but no S3 store was configured'
                        ' in a running process.' % len(tree))
    if intent is None:  # no inventory: every S3 store the running processes configured must use a proxy
        names = sorted(set(n for _pid, record in patched for n in (record.get('stores') or {})))
        intent = [dict(name=n, _report_only=True) for n in names]
        if patched and not names:
            failures.append('stage config: the running glance-api has no S3 store configured: nothing goes through a'
                            ' proxy. Check [DEFAULT] enabled_backends, or give the inventory (stores).')
    for want in intent:
        name = want['name']
        seen = {}
        for pid, record in sorted(patched):
            got = (record.get('stores') or {}).get(name)
            if got is None:
                failures.append('stage runtime: pid %d has not configured store %s: is it in [DEFAULT] enabled_backends'
                                ' of the configuration this glance-api reads?' % (pid, name))
                continue
            seen[pid] = got
            if want.get('_report_only'):
                if not got.get('proxied'):
                    failures.append('stage config: store %s goes to S3 directly in pid %d (%s); without an inventory every'
                                    ' S3 store must use a proxy: give the inventory (stores) to allow a direct store.'
                                    % (name, pid, _where(got, 'proxied')))
                first = seen[min(seen)]
                if any(got.get(k) != first.get(k) for k in ('proxied',) + PROXY_KEYS):
                    failures.append('stage config: store %s uses a different proxy in pid %d than in pid %d: restart'
                                    ' glance-api so every process reads the same configuration.' % (name, pid, min(seen)))
                continue
            for problem in _compare(want, got):
                failures.append('stage config: store %s in pid %d: %s' % (name, pid, problem))
        if seen:
            first = seen[sorted(seen)[0]]
            effect[name] = dict((k, first.get(k)) for k in ('proxied',) + PROXY_KEYS)
            effect[name]['processes'] = sorted(seen)
            effect[name]['locations'] = first.get('locations') or {}
    return processes, failures, effect


def _stale(patched, root_prefix=''):
    """A configuration file changed after a running process configured its stores: the change is not in effect."""
    out = []
    seen = set()
    for pid, record in sorted(patched):
        times = [s.get('configured_at') for s in (record.get('stores') or {}).values() if s.get('configured_at')]
        if not times:
            continue
        for path in record.get('config_files') or []:
            try:
                mtime = os.stat(root_prefix + path).st_mtime
            except OSError:
                continue  # removed: the next restart shows it, and the files check reads what exists
            if mtime > min(times) + 1 and path not in seen:
                seen.add(path)
                out.append('stage config: %s changed after the running glance-api (pid %d) read its configuration:'
                           ' the change is not in effect. Restart glance-api.' % (path, pid))
    return out


NATIVE_OPTIONS = ('s3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port', 's3_store_proxy_user',
                  's3_store_proxy_password', 's3_store_proxy_scheme', 's3_store_proxy_cacert', 's3_store_max_retries')


def boot_time():
    """The wall-clock time of boot (btime of /proc/stat)."""
    match = re.search(r'^btime\s+([0-9]+)$', _read('/proc/stat') or '', re.M)
    if not match:
        raise RuntimeCheckError('/proc/stat has no btime: the start times of the processes cannot be known.')
    return int(match.group(1))


def evaluate_native(tree, driver_file, config_files, root_prefix='', booted=None):
    """Judge the process tree of a glance_store that has the proxy options itself, without the extension.

    No process writes a record then, so each Python process must show that it runs the native driver with the
    configuration as it is now: it maps files of the environment that holds ``driver_file`` (its venv), it
    started after that driver file was installed, and after every configuration file last changed. What the
    configuration means is compared with the inventory by ``s3_proxy_check`` (glance_store's own reader, in
    Glance's Python) from the same files. Returns ``(processes, failures)``.
    """
    booted = boot_time() if booted is None else booted
    ticks = os.sysconf('SC_CLK_TCK')
    text = _read(root_prefix + driver_file)
    if text is None:
        raise RuntimeCheckError('the native S3 driver %s cannot be read.' % driver_file)
    failures = []
    missing = [n for n in NATIVE_OPTIONS if "'%s'" % n not in text]
    if missing:
        failures.append('stage runtime: %s does not define %s: this glance_store is not native; install the'
                        ' extension (glance_s3_proxy_install_extension) instead.' % (driver_file, ', '.join(missing)))
    driver_mtime = os.stat(root_prefix + driver_file).st_mtime
    marker = '/lib/python'
    # The environment's root (a venv): its own executables (uwsgi) or mapped libraries (C extensions) show a
    # process runs from it.
    prefix = driver_file.split(marker)[0] + '/' if marker in driver_file else os.path.dirname(driver_file) + '/'
    files = []
    if not config_files:
        failures.append('stage config: no configuration file is known to judge the processes against: give'
                        ' config_files (the files glance-api reads).')
    for path in config_files or []:
        try:
            files.append((path, os.stat(root_prefix + path).st_mtime))
        except OSError:
            failures.append('stage config: %s cannot be read.' % path)
    processes, passed = [], 0
    for proc in tree:
        item = dict((k, proc[k]) for k in ('pid', 'nspid', 'ppid', 'exe', 'cmdline', 'python'))
        item.update(hook=None, patched=None, stores=[])
        if proc.get('exited'):
            item['evidence'] = 'exited, not yet reaped: ignored'
        elif proc.get('unreadable'):
            item['evidence'] = 'cannot be looked at'
            failures.append('stage runtime: pid %d cannot be looked at (/proc/%d/exe is not readable): run the check as'
                            ' root.' % (proc['pid'], proc['pid']))
        elif not proc['python']:
            item['evidence'] = 'not a Python process: ignored'
        else:
            started = booted + float(proc['start_ticks']) / ticks
            problems = []
            if not any(m.startswith(prefix) for m in [proc.get('exe') or ''] + list(proc.get('mapped') or [])):
                problems.append('pid %d runs no program and maps no file of %s: it does not run the Glance'
                                ' environment whose glance_store is native' % (proc['pid'], prefix))
            if started + 1 < driver_mtime:
                problems.append('pid %d started before %s was installed: it runs the driver it loaded before;'
                                ' restart glance-api' % (proc['pid'], driver_file))
            for path, mtime in files:
                if mtime > started + 1:
                    problems.append('%s changed after pid %d started: the change is not in effect; restart'
                                    ' glance-api' % (path, proc['pid']))
            if problems:
                item['evidence'] = 'native driver not proven'
                failures.extend('stage runtime: %s.' % p for p in problems)
            else:
                passed += 1
                item.update(evidence='native glance_store, loaded after it was installed and after the configuration'
                                     ' last changed', patched=True)
        processes.append(item)
    if not passed and not failures:
        failures.append('stage runtime: no running glance-api process could be judged (%d processes).' % len(tree))
    return processes, failures


def _where(got, key):
    location = (got.get('locations') or {}).get(_OPTION_OF[key])
    if not location or location == 'default':
        return '%s is not set (default)' % _OPTION_OF[key]
    return '%s is set in %s' % (_OPTION_OF[key], location)


def _compare(want, got):
    problems = []
    if bool(want.get('proxied', True)) != bool(got.get('proxied')):
        if want.get('proxied', True):
            problems.append('the running process does NOT use a proxy (%s), the inventory wants %s:%s: S3 traffic'
                            ' of this store goes direct. Remove the override or fix the inventory.'
                            % (_where(got, 'proxied'), want.get('host'), want.get('port')))
        else:
            problems.append('the running process uses proxy %s:%s (%s), the inventory wants no proxy.'
                            % (got.get('host'), got.get('port'), _where(got, 'proxied')))
        return problems
    if not want.get('proxied', True):
        return problems
    for key in PROXY_KEYS:
        if key == 'cacert' and 'cacert' not in want:
            continue  # not part of this intent
        wanted = want.get(key)
        if key == 'scheme':
            wanted = wanted or 'http'
        if key == 'user':
            wanted = wanted or None
        have = got.get(key)
        if key == 'port':
            wanted = int(wanted) if wanted is not None else 8080
            differs = have != wanted
        else:
            differs = (have or None) != (wanted or None)
        if differs:
            problems.append('proxy %s is %r in the running process (%s), the inventory wants %r.'
                            % (key, have, _where(got, key), wanted))
    return problems
