"""Fault injection for the probe hygiene tests: real clients, the real lab.

- botocore event hooks on the probe's own client (``after-call`` raises after the
  server answered, so the server has done the work the client reports as failed);
- ``SlowRelay``: a TCP relay in front of Squid that holds back the answer to
  chosen requests, which produces real read timeouts after the request went
  through, and a module stuck mid-request for the signal tests;
- ``Bucket``: a separate, clean client straight through Squid that lists what is
  left under a prefix.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

import boto3
from botocore.config import Config

from lab.ansible_runner import TOOLS_BIN, ansible_env, collections_path

sys.path.insert(0, collections_path())

from ansible_collections.glancestore.s3proxy.plugins.module_utils import s3_probe  # noqa: E402
from ansible_collections.glancestore.s3proxy.plugins.module_utils.proxy_url import build_proxy_url  # noqa: E402

USER = 'glance-s3'
BUCKET = 'glance'


def unique_prefix(tag):
    return 's3-proxy-check-test/%s-%s/' % (tag, uuid.uuid4().hex[:12])


def settings(lab, proxy_host=None, proxy_port=None, **over):
    ident = lab['s3']['identities']['glance']
    out = {
        'endpoint_url': lab['s3']['http_endpoint'], 'bucket': BUCKET, 'access_key': ident['access_key'],
        'secret_key': ident['secret_key'], 'region': 'us-east-1', 'addressing_style': 'path',
        'ca_bundle': lab['certs']['ca'], 'validate_certs': True,
        'proxy_host': proxy_host or lab['proxy']['host'], 'proxy_port': proxy_port or lab['proxy']['port'],
        'proxy_user': USER, 'proxy_password': lab['proxy']['users'][USER], 'proxy_scheme': 'http',
        'proxy_ca_bundle': None,
    }
    out.update(over)
    return out


def module_args(lab, proxy_host=None, proxy_port=None, **over):
    args = {k: v for k, v in settings(lab, proxy_host, proxy_port).items()
            if v is not None and k not in ('validate_certs', 'proxy_scheme', 'region')}
    args.update({'connect_timeout': 5, 'read_timeout': 30})
    args.update(over)
    return args


class Bucket:
    """A clean client, straight through Squid, that is never given a fault."""

    def __init__(self, lab):
        url = build_proxy_url(lab['proxy']['host'], lab['proxy']['port'], USER, lab['proxy']['users'][USER])
        ident = lab['s3']['identities']['glance']
        self.client = boto3.session.Session(
            aws_access_key_id=ident['access_key'], aws_secret_access_key=ident['secret_key'],
        ).client('s3', endpoint_url=lab['s3']['http_endpoint'], region_name='us-east-1',
                 config=Config(proxies={'http': url, 'https': url}, s3={'addressing_style': 'path'},
                               retries={'max_attempts': 3, 'mode': 'standard'}))

    def objects(self, prefix):
        resp = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(o['Key'] for o in resp.get('Contents') or [])

    def uploads(self, prefix):
        resp = self.client.list_multipart_uploads(Bucket=BUCKET, Prefix=prefix)
        return sorted((u['Key'], u['UploadId']) for u in resp.get('Uploads') or [])

    def left(self, prefix, settle=0.0):
        """(objects, uploads) under ``prefix``; ``settle`` waits out requests still in flight."""
        if settle:
            time.sleep(settle)
        return self.objects(prefix), self.uploads(prefix)

    def purge(self, prefix):
        for key, upload_id in self.uploads(prefix):
            self.client.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
        for key in self.objects(prefix):
            self.client.delete_object(Bucket=BUCKET, Key=key)


class SlowRelay:
    """A TCP relay on 127.0.0.1 in front of Squid.

    ``hold(pattern, seconds)``: the answer to a request whose request line
    matches ``pattern`` is held back that long after Squid sent it (the request
    itself goes through at once). ``connections`` and ``requests`` count what
    came in, to prove that nothing was sent.
    """

    METHODS = (b'GET ', b'PUT ', b'POST ', b'HEAD ', b'DELETE ', b'CONNECT ')

    def __init__(self, upstream):
        self.upstream = upstream
        self.rules = []
        self.requests = []
        self.connections = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def hold(self, pattern, seconds):
        self.rules.append((re.compile(pattern), seconds))

    def seen(self, pattern):
        return [r for r in self.requests if re.search(pattern, r)]

    def close(self):
        self.closed = True
        self.sock.close()

    def _accept(self):
        while not self.closed:
            try:
                client, _addr = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            upstream = socket.create_connection(self.upstream, timeout=10)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        state = {'hold': 0}
        threading.Thread(target=self._pump_up, args=(client, upstream, state), daemon=True).start()
        self._pump_down(upstream, client, state)

    def _pump_up(self, client, upstream, state):
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if data.startswith(self.METHODS):
                    line = data.split(b'\r\n', 1)[0].decode('latin-1')
                    self.requests.append(line)
                    state['hold'] = next((s for r, s in self.rules if r.search(line)), 0)
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _close(upstream)

    def _pump_down(self, upstream, client, state):
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                if state['hold']:
                    seconds, state['hold'] = state['hold'], 0
                    time.sleep(seconds)
                client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


def run_module_process(args, workdir):
    """Start the module as Ansible would run it, as its own process: (Popen, args file)."""
    path = os.path.join(str(workdir), 'args-%s.json' % uuid.uuid4().hex[:8])
    with open(path, 'w') as f:
        json.dump({'ANSIBLE_MODULE_ARGS': args}, f)
    env = ansible_env({'PYTHONPATH': collections_path()})
    proc = subprocess.Popen([os.path.join(TOOLS_BIN, 'python'), '-m',
                             'ansible_collections.glancestore.s3proxy.plugins.modules.s3_proxy_check', path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, env=env)
    return proc


def module_result(proc, timeout=60):
    out, err = proc.communicate(timeout=timeout)
    start = out.find('{')
    assert start >= 0, (proc.returncode, out, err)
    return json.loads(out[start:]), proc.returncode, err


def wait_for(predicate, timeout=30, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError('timed out waiting for %r' % predicate)


__all__ = ['s3_probe', 'Bucket', 'SlowRelay', 'settings', 'module_args', 'unique_prefix', 'run_module_process',
           'module_result', 'wait_for', 'BUCKET', 'USER']
