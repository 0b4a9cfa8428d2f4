#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: s3_proxy_runtime_check
short_description: Prove that every running glance-api process sends its S3 stores through the intended proxies
version_added: 1.1.0
description:
  - Looks at the B(running) glance-api processes, not at a fresh interpreter. A fresh interpreter always runs the
    C(.pth) file of the C(glance-store-s3proxy) extension; a glance-api started by uwsgi with C(pythonpath=) or
    C(no-site), or by C(python -S), never does, and then its S3 stores silently ignore every proxy option.
  - The extension writes one record per process (in O(runtime_dir)) when its import hook is installed, when it patches
    glance_store's S3 driver, and when a store is configured, with the proxy that store really uses (host, port, scheme,
    user, never the password) and the file that set each proxy option. A record counts only for the process whose pid,
    start time and boot id it names.
  - The module finds the service's main process (O(pid), O(pidfile) or O(systemd_unit)) and all its descendants.
    Every Python process among them must have the extension's hook, in a record of its own or inherited by C(fork)
    from a recorded parent. Every process that loaded the patched S3 driver must have configured each store of
    O(stores) with the proxy O(stores) asks for. At least one such process must exist.
  - Any mismatch fails. So does a check that cannot look (no process, no directory, no record); this module never
    passes on missing evidence. Records appear while workers start, so the module waits up to O(timeout) seconds for
    them before it fails.
author:
  - glancestore.s3proxy maintainers (@glancestore)
requirements:
  - Linux C(/proc)
options:
  pid:
    description:
      - The main process id of glance-api (for uwsgi, the master).
    type: int
  pidfile:
    description:
      - A file holding the main process id of glance-api, such as uwsgi's C(pidfile).
    type: path
  systemd_unit:
    description:
      - The systemd unit of glance-api; its C(MainPID) is used.
    type: str
  container:
    description:
      - The container glance-api runs in (kolla's C(glance_api)), seen from its host. Its main process is asked from
        O(container_engine); records are read inside the container's own filesystem (O(runtime_dir) under
        C(/proc/PID/root)) and matched by the pids of the container's pid namespace.
    type: str
  container_engine:
    description:
      - The command that answers C(inspect --format {{.State.Pid}}) for O(container).
    type: str
    choices: [docker, podman]
    default: docker
  runtime_dir:
    description:
      - The directory the extension writes its records to. It must match C(GLANCE_STORE_S3PROXY_RUNTIME_DIR) in
        glance-api's environment, when that is set.
    type: path
    default: /var/lib/glance/glance-store-s3proxy
  stores:
    description:
      - The inventory's intent, one entry per S3 store. Use the name V(glance_store) for a legacy single-store Glance.
      - Omit it to check every S3 store the running processes configured; then each must use a proxy, at least one
        store must exist, and the processes must agree with each other.
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The store's backend id.
        type: str
        required: true
      proxied:
        description:
          - Whether the store must reach S3 through a proxy.
        type: bool
        default: true
      host:
        description:
          - The proxy host the store must use.
        type: str
      port:
        description:
          - The proxy port the store must use.
        type: int
        default: 8080
      scheme:
        description:
          - The scheme the store must use to talk to the proxy.
        type: str
        choices: [http, https]
        default: http
      user:
        description:
          - The proxy user the store must use; empty for a proxy without authentication.
        type: str
      cacert:
        description:
          - The CA bundle the store must verify an https proxy with; compared only when given.
        type: str
  timeout:
    description:
      - Seconds to wait for the processes' records to be complete, 0 to 600.
    type: int
    default: 60
  native_driver:
    description:
      - For a glance_store that has the proxy options itself (native, see docs/extension.md, Upgrading) and no
        extension installed, so no process writes a record. The path of that glance_store's C(_drivers/s3.py) in
        Glance's environment (C(driver_file) of the extension's C(status.py --json)).
      - Each Python process must then map files of that environment, and must have started after the driver file
        was installed and after each of O(config_files) last changed. O(stores) is not compared here; run
        M(glancestore.s3proxy.s3_proxy_check) with Glance's Python on the same files, which reads them with
        glance_store's own options.
      - Not for O(container).
    type: path
    version_added: 1.2.0
  config_files:
    description:
      - With O(native_driver), the configuration files glance-api reads (the C(config_files) that
        M(glancestore.s3proxy.s3_proxy_check) returns).
    type: list
    elements: path
    version_added: 1.2.0
notes:
  - Supports check mode; the module only reads C(/proc) and the records.
seealso:
  - module: glancestore.s3proxy.s3_proxy_check
"""

EXAMPLES = r"""
- name: Prove the running glance-api uses the proxies
  glancestore.s3proxy.s3_proxy_runtime_check:
    systemd_unit: glance-api
    stores:
      - name: fast
        host: proxy.example.com
        port: 3128
        user: glance-s3
      - name: archive
        proxied: false

- name: The same for kolla's glance_api container, from its host
  glancestore.s3proxy.s3_proxy_runtime_check:
    container: glance_api
    stores:
      - name: fast
        host: proxy.example.com
        port: 3128
        user: glance-s3

- name: The same for a uwsgi glance-api known by its pidfile
  glancestore.s3proxy.s3_proxy_runtime_check:
    pidfile: /run/glance/glance-api.pid
    stores:
      - name: glance_store
        host: 10.0.0.3
        port: 3128
"""

RETURN = r"""
msg:
  description: What was proved, or every problem found, each with its stage (C(runtime) or C(config)) and its fix.
  returned: always
  type: str
  sample: "3 glance-api processes checked (pid 4242 and its workers): store fast uses proxy http://glance-s3@proxy:3128."
stage:
  description: C(runtime) when a process lacks the extension or the check cannot look, C(config) when a store's proxy
    differs from the intent; null on success.
  returned: always
  type: str
  sample: config
root_pid:
  description: The main glance-api process that was checked (a host pid, also for O(container)).
  returned: when found
  type: int
  sample: 4242
processes:
  description: Each process of the service and the evidence for it.
  returned: always
  type: list
  elements: dict
  sample: [{pid: 4243, ppid: 4242, evidence: own record, hook: true, patched: true, stores: [fast]}]
stores:
  description: Per store, the proxy that the running processes really use, which processes, and where each proxy option
    was set.
  returned: always
  type: dict
  sample: {fast: {proxied: true, host: proxy, port: 3128, scheme: http, user: glance-s3, processes: [4243, 4244],
           locations: {s3_store_proxy_host: "/etc/glance/glance-api.conf.d/50-glance-s3-proxy.conf [fast]"}}}
failures:
  description: Every problem found.
  returned: always
  type: list
  elements: str
  sample: ["stage config: store fast in pid 4243: the running process does NOT use a proxy"]
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.glancestore.s3proxy.plugins.module_utils import glance_runtime


def _root_pid(module):
    p = module.params
    if p['pid'] is not None:
        return p['pid']
    if p['pidfile']:
        return glance_runtime.root_from_pidfile(p['pidfile'])
    if p['container']:
        engine = module.get_bin_path(p['container_engine'])
        if not engine:
            raise glance_runtime.RuntimeCheckError('%s is not installed here: run the check on the host of container %s.'
                                                   % (p['container_engine'], p['container']))
        rc, out, err = module.run_command([engine, 'inspect', '--format', '{{.State.Pid}}', p['container']])
        if rc != 0 or not out.strip().isdigit() or int(out) == 0:
            raise glance_runtime.RuntimeCheckError('container %s has no running main process (%s inspect: rc %d, %s).'
                                                   % (p['container'], p['container_engine'], rc, (err or out).strip()))
        return int(out)
    rc, out, err = module.run_command(['systemctl', 'show', '--property=MainPID', '--value', p['systemd_unit']])
    if rc != 0 or not out.strip().isdigit():
        raise glance_runtime.RuntimeCheckError('cannot ask systemd for the main pid of %s (rc %d): %s'
                                               % (p['systemd_unit'], rc, (err or out).strip()))
    if int(out) == 0:
        raise glance_runtime.RuntimeCheckError('systemd unit %s has no running main process: start glance-api.'
                                               % p['systemd_unit'])
    return int(out)


def _summary(name, effect):
    if not effect.get('proxied'):
        return 'store %s goes to S3 directly, as the inventory asks' % name
    user = '%s@' % effect['user'] if effect.get('user') else ''
    return 'store %s uses proxy %s://%s%s:%s' % (name, effect.get('scheme'), user, effect.get('host'), effect.get('port'))


def _at_risk(processes, stores):
    """What processes without the extension do with the inventory's proxied stores, naming each store."""
    unhooked = [str(proc['pid']) for proc in processes if proc.get('evidence') == 'none']
    wanted = [s for s in stores or [] if s.get('proxied')]
    if not unhooked or not wanted:
        return ''
    return (' Without the extension glance_store\'s S3 driver ignores the proxy options: in pid %s, %s.'
            % (', '.join(unhooked), ', '.join('store %s goes to S3 without proxy %s' % (
                s['name'], _summary(s['name'], s).split(' uses proxy ', 1)[1]) for s in wanted)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pid=dict(type='int'),
            pidfile=dict(type='path'),
            systemd_unit=dict(type='str'),
            container=dict(type='str'),
            container_engine=dict(type='str', choices=['docker', 'podman'], default='docker'),
            runtime_dir=dict(type='path', default=glance_runtime.DEFAULT_RUNTIME_DIR),
            stores=dict(type='list', elements='dict', options=dict(
                name=dict(type='str', required=True),
                proxied=dict(type='bool', default=True),
                host=dict(type='str'),
                port=dict(type='int', default=8080),
                scheme=dict(type='str', choices=['http', 'https'], default='http'),
                user=dict(type='str'),
                cacert=dict(type='str'),
            ), required_if=[('proxied', True, ('host',))]),
            timeout=dict(type='int', default=60),
            native_driver=dict(type='path'),
            config_files=dict(type='list', elements='path'),
        ),
        required_one_of=[('pid', 'pidfile', 'systemd_unit', 'container')],
        mutually_exclusive=[('pid', 'pidfile', 'systemd_unit', 'container'), ('native_driver', 'container')],
        required_by={'native_driver': 'config_files'},
        supports_check_mode=True,
    )
    p = module.params
    result = dict(changed=False, stage=None, root_pid=None, processes=[], stores={}, failures=[], msg='')
    if not 0 <= p['timeout'] <= 600:
        module.fail_json(stage='config', msg='timeout %d is outside 0-600 seconds.' % p['timeout'], **dict(
            (k, v) for k, v in result.items() if k not in ('stage', 'msg')))
    if p['stores'] is not None and not p['stores']:
        module.fail_json(stage='config', msg='stores is empty: name at least one store to check.',
                         **dict((k, v) for k, v in result.items() if k not in ('stage', 'msg')))
    deadline = time.monotonic() + p['timeout']
    while True:
        try:
            root = _root_pid(module)
            result['root_pid'] = root
            tree = glance_runtime.process_tree(root)
            runtime_dir = p['runtime_dir']
            if p['container']:  # the container's own view of the directory
                runtime_dir = '/proc/%d/root/%s' % (root, runtime_dir.lstrip('/'))
            if p['native_driver']:  # no records: the processes' start against the driver and the files
                processes, failures = glance_runtime.evaluate_native(tree, p['native_driver'], p['config_files'])
                effect = {}
            else:
                records = glance_runtime.load_records(runtime_dir)
                processes, failures, effect = glance_runtime.evaluate(
                    tree, records, glance_runtime.boot_id(), p['stores'],
                    root_prefix='/proc/%d/root' % root if p['container'] else '')
        except glance_runtime.RuntimeCheckError as exc:
            processes, failures, effect = [], ['stage runtime: %s' % exc], {}
        except (IOError, OSError) as exc:
            processes, failures, effect = [], ['stage runtime: cannot read the process table or the records: %s' % exc], {}
        result.update(processes=processes, failures=failures, stores=effect)
        if not failures or time.monotonic() >= deadline:
            break
        time.sleep(1)
    if failures:
        result['stage'] = 'config' if all(f.startswith('stage config') for f in failures) else 'runtime'
        msg = 'The running glance-api does not prove the intended proxies (root pid %s, runtime_dir %s): %s' % (
            result['root_pid'], p['runtime_dir'], ' '.join(failures))
        module.fail_json(msg=msg + _at_risk(processes, p['stores']),
                         **dict((k, v) for k, v in result.items() if k != 'msg'))
    if p['native_driver']:
        result['msg'] = ('%d glance-api processes checked (pid %s and its descendants): each runs the native glance_store'
                         ' of %s, loaded after it was installed and after %s last changed; what those files mean is'
                         ' compared with the inventory by s3_proxy_check.' % (
                             len([proc for proc in processes if proc.get('patched')]), result['root_pid'],
                             p['native_driver'], ', '.join(p['config_files'])))
        module.exit_json(**result)
    checked = [proc for proc in processes if proc.get('hook')]
    result['msg'] = '%d glance-api processes checked (pid %s and its descendants): %s.' % (
        len(checked), result['root_pid'], '; '.join(_summary(n, effect[n]) for n in sorted(effect)))
    module.exit_json(**result)


if __name__ == '__main__':
    main()
