"""Lab only: a WSGI filter in glance-api's paste pipeline (tests/functional/reliability) that lets each uwsgi
worker report the extension's own per-process state, so the soak can tell a leak in it from Glance's.

It changes no request. Around each request it notes whether the extension's context variable (the botocore
settings of the store whose client is being built) is still set afterwards in the request's thread: a leak. A
thread of its own answers the driver: when ``$RELIABILITY_PROBE_DIR/request`` holds a new token, it writes
``<pid>.json`` with the token, the size of the per-process announce set, of the runtime record cache and of the
recorded stores, the leaked contexts, the live botocore clients, the thread count, and its RSS once the garbage
is collected and the C library's free memory handed back.
"""

import ctypes
import gc
import json
import os
import threading
import time

_LOCK = threading.Lock()
_COUNTS = {'requests': 0, 'context_set_before': 0, 'context_set_after': 0}
_STARTED = []


def _active():
    try:
        from glance_store_s3proxy import patch  # pylint: disable=import-outside-toplevel
    except ImportError:
        return None
    return patch._ACTIVE.get()  # pylint: disable=protected-access


def _rss_kib():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return None


def _release_free_memory():
    """Hand the C library's free memory back to the kernel (glibc malloc_trim), so that RSS counts what is in use:
    after a 256 MiB request a worker keeps tens of MiB it no longer uses, which is not a leak."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _state(token):
    # pylint: disable=import-outside-toplevel,protected-access
    from glance_store_s3proxy import patch, runtime
    import botocore.client
    rss_before = _rss_kib()
    gc.collect()  # count what is still referenced, not garbage waiting for the collector
    _release_free_memory()
    rss_trimmed = _rss_kib()
    clients = sum(1 for o in gc.get_objects() if isinstance(o, botocore.client.BaseClient))
    with _LOCK:
        counts = dict(_COUNTS)
    return dict(counts, token=token, pid=os.getpid(), time=time.time(), announced=sorted(map(list, patch._ANNOUNCED)),
                announced_len=len(patch._ANNOUNCED), runtime_written_len=len(runtime._WRITTEN),
                runtime_stores=sorted(runtime._STATE['stores']), context_now=patch._ACTIVE.get() is not None,
                botocore_clients=clients, threads=threading.active_count(), rss_kib_before_trim=rss_before,
                rss_kib_trimmed=rss_trimmed)


def _watch(directory):
    request = os.path.join(directory, 'request')
    seen = None
    while True:
        try:
            with open(request) as f:
                token = f.read().strip()
        except OSError:
            token = None
        if token and token != seen:
            seen = token
            path = os.path.join(directory, '%d.json' % os.getpid())
            try:
                text = json.dumps(_state(token))
            except Exception as exc:  # pylint: disable=broad-except  # reported, never raised into Glance
                text = json.dumps({'token': token, 'pid': os.getpid(), 'error': repr(exc)})
            with open(path + '.tmp', 'w') as f:
                f.write(text)
            os.replace(path + '.tmp', path)
        time.sleep(0.25)


def _start():
    directory = os.environ.get('RELIABILITY_PROBE_DIR')
    if not directory or _STARTED == [os.getpid()]:
        return
    os.makedirs(directory, exist_ok=True)
    del _STARTED[:]
    _STARTED.append(os.getpid())
    threading.Thread(target=_watch, args=(directory,), name='reliability-probe', daemon=True).start()


def filter_factory(global_conf, **local_conf):  # pylint: disable=unused-argument
    _start()

    def wrap(app):
        def middleware(environ, start_response):
            before = _active() is not None
            try:
                return app(environ, start_response)
            finally:
                after = _active() is not None
                with _LOCK:
                    _COUNTS['requests'] += 1
                    _COUNTS['context_set_before'] += before
                    _COUNTS['context_set_after'] += after
        return middleware
    return wrap
