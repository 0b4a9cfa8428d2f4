"""Per-process runtime records: what this very process has done. Standard library only.

A record proves to the outside (``s3_proxy_runtime_check``, the role's
verification, ``playbooks/check.yml``) that a *running* Glance process has the
extension: a fresh interpreter proves nothing, because a glance-api started
without ``site`` (uwsgi ``pythonpath=``, ``no-site``, ``python -S``) never runs
the ``.pth`` file at all.

One JSON file per process, ``<dir>/<pid>.json``, written atomically:

- at interpreter start-up, when the ``.pth`` installs the import hook
  (``hook: true``);
- when the S3 driver is patched (``patched: true``, the glance_store release),
  or found to have the proxy options itself (``native: true`` too);
- when a store is configured: its proxy as Glance will use it (host, port,
  scheme, user; never the password) and the configuration file that set each
  proxy option (oslo.config's own ``get_location``);
- in a child after ``os.fork()``, for the child's pid.

``pid`` plus the kernel's start time of the process and the boot id tie a
record to one process: a recycled pid or a record from before a reboot never
matches. Writing never raises: a record is evidence, not a precondition, and
a missing record makes the check fail, which is the safe side.

The directory is ``$GLANCE_STORE_S3PROXY_RUNTIME_DIR``, else
``/var/lib/glance/glance-store-s3proxy`` (created when its parent exists).
"""

import json
import os
import sys
import time

ENV = 'GLANCE_STORE_S3PROXY_RUNTIME_DIR'
DEFAULT_DIR = '/var/lib/glance/glance-store-s3proxy'
FORMAT = 2  # 2: start_stack, config_files, configured_at

_STATE = {'hook': False, 'patched': False, 'native': False, 'patched_ticks': None, 'glance_store': None, 'stores': {},
          'config_files': []}
_WRITTEN = {}


def runtime_dir():
    return os.environ.get(ENV) or DEFAULT_DIR


def _read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _stat_field(number, pid='self'):
    stat = _read('/proc/%s/stat' % pid)
    if not stat:
        return None
    return int(stat.rsplit(')', 1)[1].split()[number - 3])


def start_ticks(pid='self'):
    """Field 22 of /proc/PID/stat: the process start time in clock ticks after boot."""
    return _stat_field(22, pid)


def start_stack(pid='self'):
    """Field 28 of /proc/PID/stat: where the stack starts. New (randomised) at every exec, kept by fork,
    so a record never outlives an exec in place (uwsgi's reload re-executes the master under the same pid)."""
    return _stat_field(28, pid)


def now_ticks():
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf('SC_CLK_TCK'))


def _record():
    from glance_store_s3proxy import __version__  # pylint: disable=import-outside-toplevel
    return {
        'format': FORMAT,
        'pid': os.getpid(),
        'ppid': os.getppid(),
        'start_ticks': start_ticks(),
        'start_stack': start_stack(),
        'boot_id': _read('/proc/sys/kernel/random/boot_id'),
        'exe': os.path.realpath('/proc/self/exe'),
        'python': sys.executable,
        'version': __version__,
        'hook': _STATE['hook'],
        'patched': _STATE['patched'],
        'native': _STATE['native'],
        'patched_ticks': _STATE['patched_ticks'],
        'glance_store': _STATE['glance_store'],
        'stores': _STATE['stores'],
        'config_files': _STATE['config_files'],
    }


def _prune(directory):
    """Remove the records of processes that are gone (best effort)."""
    for name in os.listdir(directory):
        if name.endswith('.json') and name[:-5].isdigit() and not os.path.exists('/proc/%s' % name[:-5]):
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass


def write():
    """Write this process's record if it changed. Never raises."""
    try:
        record = _record()
        pid = record['pid']
        text = json.dumps(record, sort_keys=True)
        if _WRITTEN.get(pid) == text:
            return
        directory = runtime_dir()
        if not os.path.isdir(directory):
            os.mkdir(directory, 0o750)  # the leaf only: never create Glance's state directory
            _prune(directory)
        elif pid not in _WRITTEN:
            _prune(directory)
        path = os.path.join(directory, '%d.json' % pid)
        tmp = '%s.%s.tmp' % (path, os.urandom(6).hex())
        # A fresh name, never following a link someone left there.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_NOFOLLOW', 0), 0o640)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
        _WRITTEN[pid] = text
    except Exception:  # pylint: disable=broad-except
        pass


def hook_installed():
    _STATE['hook'] = True
    write()


def driver_patched(glance_store_version, native=False):
    """The S3 driver honours the proxy options: patched, or native (glance_store has them itself)."""
    _STATE['patched'] = True
    _STATE['native'] = native
    _STATE['patched_ticks'] = now_ticks()
    _STATE['glance_store'] = glance_store_version
    write()


def store_configured(name, values, locations, config_files=None):
    """Record one store's proxy as configured in this process (no secret), and the files it was read from."""
    enabled = bool(values.get('s3_store_enable_proxy'))
    if config_files is not None:
        _STATE['config_files'] = list(config_files)
    previous = _STATE['stores'].get(name)
    _STATE['stores'][name] = {
        'proxied': enabled,
        'host': values.get('s3_store_proxy_host') if enabled else None,
        'port': int(values['s3_store_proxy_port']) if enabled and values.get('s3_store_proxy_port') else None,
        'scheme': (values.get('s3_store_proxy_scheme') or 'http') if enabled else None,
        'user': values.get('s3_store_proxy_user') if enabled else None,
        'cacert': values.get('s3_store_proxy_cacert') if enabled else None,
        'locations': locations,
    }
    # When this store's settings were first configured in this process: a file changed later is not in effect.
    same = previous and dict(previous, configured_at=None) == dict(_STATE['stores'][name], configured_at=None)
    _STATE['stores'][name]['configured_at'] = previous['configured_at'] if same else time.time()
    write()


def _after_fork_in_child():
    if _STATE['hook']:
        write()


if hasattr(os, 'register_at_fork'):
    os.register_at_fork(after_in_child=_after_fork_in_child)
