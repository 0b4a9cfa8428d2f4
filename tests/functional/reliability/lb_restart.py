"""Restart one glance-api behind HAProxy without failing a request: the lab's stand-in for an operator's
``glance_s3_proxy_restart_command`` (docs/reliability.md, "Rotating the proxy password").

1. ``set server BACKEND/SERVER state drain``: HAProxy sends this host no new request;
2. wait until HAProxy counts no request in progress on it (uploads in flight finish on the old settings);
3. stop glance-api (uwsgi, SIGTERM to the master: die-on-term) and start it again, detached;
4. wait until its own health check answers 200;
5. ``set server BACKEND/SERVER state ready`` and wait until HAProxy's check sees it UP, so that the next host
   is drained only when this one takes requests again.

Every wait is bounded; the exit status is not 0 when a step fails (the role then rolls the configuration back).
Standard library only: it runs under any Python.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request


def admin(sock_path, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(sock_path)
        sock.sendall(command.encode() + b'\n')
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    return b''.join(chunks).decode()


def server_stat(sock_path, backend, server):
    lines = admin(sock_path, 'show stat').splitlines()
    header = lines[0].lstrip('# ').split(',')
    for line in lines[1:]:
        row = dict(zip(header, line.split(',')))
        if row.get('pxname') == backend and row.get('svname') == server:
            return row
    raise SystemExit('lb_restart: HAProxy has no server %s/%s' % (backend, server))


def wait(what, predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(step)
    raise SystemExit('lb_restart: %s not reached in %ds' % (what, timeout))


def gone(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] == 'Z'
    except OSError:
        return True


def healthy(url):
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--socket', required=True, help="HAProxy's admin socket")
    parser.add_argument('--backend', required=True)
    parser.add_argument('--server', required=True)
    parser.add_argument('--pidfile', required=True, help="glance-api's uwsgi pidfile")
    parser.add_argument('--uwsgi', required=True)
    parser.add_argument('--ini', required=True)
    parser.add_argument('--health', required=True, help="glance-api's own /healthcheck URL")
    parser.add_argument('--env', action='append', default=[], help='KEY=VALUE for glance-api')
    parser.add_argument('--timeout', type=int, default=600)
    parser.add_argument('--log', help='append what was done, with times, to this file')
    args = parser.parse_args()
    notes = []

    def note(msg):
        notes.append('%.3f %s %s' % (time.time(), args.server, msg))

    admin(args.socket, 'set server %s/%s state drain' % (args.backend, args.server))
    note('drain')
    wait('no request in progress on %s' % args.server,
         lambda: int(server_stat(args.socket, args.backend, args.server)['scur'] or 0) == 0, args.timeout)
    note('idle')
    with open(args.pidfile) as f:
        pid = int(f.read().strip())
    os.kill(pid, signal.SIGTERM)
    try:
        wait('glance-api pid %d gone' % pid, lambda: gone(pid), 60)
    except SystemExit:
        os.killpg(pid, signal.SIGKILL)
        wait('glance-api pid %d gone after SIGKILL' % pid, lambda: gone(pid), 10)
    note('stopped')
    env = dict(os.environ)
    env.update(item.split('=', 1) for item in args.env)
    subprocess.Popen([args.uwsgi, '--ini', args.ini], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    wait('glance-api healthy at %s' % args.health, lambda: healthy(args.health), 180)
    note('healthy')
    admin(args.socket, 'set server %s/%s state ready' % (args.backend, args.server))
    wait('HAProxy sees %s UP' % args.server,
         lambda: server_stat(args.socket, args.backend, args.server)['status'] == 'UP', 60)
    note('ready')
    if args.log:
        with open(args.log, 'a') as f:
            f.write('\n'.join(notes) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
