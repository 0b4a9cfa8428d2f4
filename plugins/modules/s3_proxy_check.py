#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: s3_proxy_check
short_description: Check that S3 is reachable through an HTTP proxy, and name the layer that fails
version_added: 1.0.0
description:
  - Runs S3 requests with boto3 through an HTTP proxy, as Glance's S3 store would, and reports whether the
    path B(this host -> proxy -> S3) works.
  - When it does not, RV(stage) names the failing layer (proxy unreachable, proxy authentication, proxy ACL,
    proxy to S3, TLS, S3 credentials, S3 permissions, bucket, data) and RV(msg) says what to fix.
  - The proxy is configured through botocore's own C(Config(proxies=..., proxies_config=...)); C(HTTP_PROXY),
    C(HTTPS_PROXY) and C(NO_PROXY) from the environment are never used.
  - In Glance mode (O(glance_config)), the settings are read from Glance's own configuration file, using the
    option names of the C(glance-store-s3proxy) extension, so the check tests exactly what Glance will use.
  - Invalid input fails before any network call. Secrets never appear in the result or in messages.
  - The V(write) and V(multipart) probes clean up after themselves on every way out, including a timeout after
    the server stored the data and a C(SIGTERM) or C(SIGHUP) (a task C(timeout), a dropped SSH session). They first
    sweep probe leftovers under O(object_prefix) older than O(stale_after_minutes).
author:
  - glancestore.s3proxy maintainers (@glancestore)
requirements:
  - python >= 3.9
  - boto3 >= 1.28
  - botocore >= 1.31
options:
  endpoint_url:
    description:
      - The S3 endpoint, with its scheme, for example V(https://s3.example.com) or V(http://10.0.0.5:8333).
      - Mutually exclusive with O(glance_config). One of the two is required.
    type: str
    aliases: [s3_url]
  bucket:
    description:
      - The bucket Glance stores images in. Required with O(endpoint_url).
    type: str
  access_key:
    description:
      - The S3 access key.
    type: str
    aliases: [aws_access_key]
  secret_key:
    description:
      - The S3 secret key.
    type: str
    aliases: [aws_secret_key]
  region:
    description:
      - The S3 region name used for request signing.
    type: str
    default: us-east-1
  addressing_style:
    description:
      - How the bucket is addressed, as Glance's C(s3_store_bucket_url_format).
    type: str
    choices: [auto, path, virtual]
    default: auto
  ca_bundle:
    description:
      - A CA bundle that signs the S3 endpoint's certificate. Must exist on the host.
    type: path
  validate_certs:
    description:
      - Verify the S3 endpoint's certificate. Turn off only in a lab.
    type: bool
    default: true
  proxy_host:
    description:
      - The proxy's host name or address, without scheme or credentials.
      - Checked as Glance checks C(s3_store_proxy_host), an oslo.config C(HostAddressOpt) - an IPv4 address, an IPv6
        address without brackets, or a host name of dot-separated labels of 1-63 letters, digits and inner hyphens,
        whose last label is not all digits. One trailing dot is dropped, as oslo.config does.
      - Without it the check goes to S3 directly (useful as a baseline).
    type: str
  proxy_port:
    description:
      - The proxy's port, 1-65535.
    type: int
    default: 8080
  proxy_user:
    description:
      - The user name for the proxy's Basic authentication. ASCII only.
    type: str
  proxy_password:
    description:
      - The password for the proxy's Basic authentication. ASCII only.
      - "Reserved characters such as C(@), C(:), C(/), C(%) and C(#) are valid: they are percent-encoded in the proxy URL."
    type: str
  proxy_scheme:
    description:
      - V(https) speaks TLS to the proxy itself.
    type: str
    choices: [http, https]
    default: http
  proxy_ca_bundle:
    description:
      - A CA bundle that signs the proxy's certificate, for O(proxy_scheme=https). Must exist on the host.
    type: path
  glance_config:
    description:
      - The path of the C(glance-api.conf) Glance reads. The S3 and proxy settings are then read as glance-api reads
        them, from it and from the configuration directories (O(glance_config_dirs)), in oslo.config's order.
      - When the module runs with Glance's own Python (the role's default in the plain style), glance_store itself
        builds the store and its botocore client from the files, with the C(glance-store-s3proxy) extension if it is
        active, and the probes use exactly that client. Elsewhere (a deploy host) the files are read with
        oslo.config's rules (no C([DEFAULT]) fall-through, surrounding quotes and whitespace stripped, C($$)).
      - Uses C(s3_store_host), C(s3_store_bucket), C(s3_store_access_key), C(s3_store_secret_key),
        C(s3_store_region_name), C(s3_store_bucket_url_format), C(s3_store_cacert) and the proxy options
        C(s3_store_enable_proxy), C(s3_store_proxy_host), C(s3_store_proxy_port), C(s3_store_proxy_user),
        C(s3_store_proxy_password), C(s3_store_proxy_scheme), C(s3_store_proxy_cacert).
      - A C($$) in a value is read as a literal C($), as oslo.config does.
    type: path
  glance_config_dirs:
    description:
      - The configuration directories glance-api reads after O(glance_config), each one's C(*.conf) in sorted order.
      - Omit it for oslo.config's own search, as glance-api does it (C(glance.conf.d), then C(glance-api.conf.d), each
        the first that exists in C(~/.glance/), C(~/), C(/etc/glance/), C(/etc/)); C(~) is the home of the user the
        module runs as.
    type: list
    elements: path
  glance_backend:
    description:
      - The multi-store backend id (an entry of C([DEFAULT] enabled_backends) of type C(s3)).
      - Omit it for the legacy single-store C([glance_store]) section.
    type: str
  probe:
    description:
      - V(read) lists the bucket.
      - V(write) also puts a small object, reads it back, compares it and deletes it.
      - V(multipart) also uploads an object in O(multipart_parts) parts of O(multipart_part_size_mb) MiB,
        checks that its ETag ends in C(-N), compares its content and deletes it.
    type: str
    choices: [read, write, multipart]
    default: read
  multipart_part_size_mb:
    description:
      - Size of each part of the multipart probe, in MiB, from 5 (the S3 minimum) to 512.
      - The probe holds one part in memory at a time; the object is streamed when it is read back.
    type: int
    default: 8
  multipart_parts:
    description:
      - Number of parts of the multipart probe, from 2 to 100.
    type: int
    default: 2
  object_prefix:
    description:
      - Key prefix of the probe objects. They are always deleted after the probe.
      - It must be a folder of its own, not empty and ending in C(/), without a leading C(/) or C(//). Glance names
        its objects after image ids, without C(/), so nothing under such a prefix is a Glance image.
      - Checked only for the V(write) and V(multipart) probes.
    type: str
    default: s3-proxy-check/
  stale_after_minutes:
    description:
      - Before the V(write) and V(multipart) probes, abort the multipart uploads and delete the objects under
        O(object_prefix) that are older than this many minutes, leftovers of runs that were killed or whose
        clean-up failed. Ages are measured on the S3 server's clock. What was removed is in RV(swept).
      - V(0) turns the sweep off. Keys outside O(object_prefix) are never touched.
      - Keep it longer than the longest probe run of any host that shares the bucket and prefix, so that one run
        never removes the objects of another run still under way.
      - The sweep needs the right to list multipart uploads (C(s3:ListBucketMultipartUploads)).
    type: int
    default: 60
  expect_direct_blocked:
    description:
      - Also try S3 without the proxy, and fail with RV(stage=direct_path_open) if S3 answers.
      - This proves traffic cannot bypass the proxy.
    type: bool
    default: false
  connect_timeout:
    description:
      - Seconds to wait for a connection (to the proxy, or to S3 when direct), from 1 to 3600.
    type: int
    default: 10
  read_timeout:
    description:
      - Seconds to wait for a response, from 1 to 3600.
    type: int
    default: 60
  direct_timeout:
    description:
      - Seconds the direct-path attempt of O(expect_direct_blocked) may take, from 1 to 3600.
    type: int
    default: 5
attributes:
  check_mode:
    support: partial
    details:
      - In check mode only the non-writing probes run, the bucket listing and the direct-path attempt.
        The V(write) and V(multipart) probes, and the sweep, are skipped and listed in RV(skipped_probes).
  diff_mode:
    support: none
  platform:
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
notes:
  - The module never reports C(changed). Probe objects are created and deleted within one run.
  - Clean-up uses its own client, with at most 10 seconds to connect, 30 seconds to read and 3 attempts. A
    C(SIGTERM) or C(SIGHUP) during the probes stops them, lets the clean-up finish (further signals are ignored until
    it has) and fails with RV(stage=interrupted). A C(SIGKILL) cannot be caught; the next sweep removes what it
    left.
  - For an https endpoint, botocore tunnels through the proxy with C(CONNECT) and hides a 407 inside a
    C(ProxyConnectionError); the module looks inside it, so RV(stage) is still V(proxy_auth).
seealso:
  - name: Glance S3 store options
    description: The configuration reference of Glance's S3 store.
    link: https://docs.openstack.org/glance/latest/configuration/configuring.html
"""

EXAMPLES = r"""
- name: Check the proxied path to S3 before deploying, and that S3 cannot be reached directly
  glancestore.s3proxy.s3_proxy_check:
    endpoint_url: https://s3.example.com
    bucket: glance-images
    access_key: "{{ vault_s3_access_key }}"
    secret_key: "{{ vault_s3_secret_key }}"
    ca_bundle: /etc/ssl/certs/s3-ca.pem
    proxy_host: proxy.example.com
    proxy_port: 3128
    proxy_user: glance-s3
    proxy_password: "{{ vault_proxy_password }}"
    probe: write
    expect_direct_blocked: true

- name: Check exactly what Glance will use, from its configuration
  glancestore.s3proxy.s3_proxy_check:
    glance_config: /etc/glance/glance-api.conf
    glance_backend: s3_fast
    probe: multipart
  register: s3_check

- name: Inspect a failure without stopping the play
  glancestore.s3proxy.s3_proxy_check:
    glance_config: /etc/glance/glance-api.conf
  register: s3_check
  failed_when: false

- name: Say which layer failed
  ansible.builtin.debug:
    msg: "{{ s3_check.stage }}: {{ s3_check.msg }}"
  when: not s3_check.reachable
"""

RETURN = r"""
reachable:
  description: Whether every requested probe passed through the proxy (and, if asked, the direct path is closed).
  returned: always
  type: bool
  sample: true
stage:
  description:
    - The layer that failed, or V(null) on success.
    - One of V(config), V(proxy_connect), V(proxy_auth), V(proxy_denied), V(upstream_connect), V(tls), V(s3_auth),
      V(s3_permission), V(bucket), V(data), V(direct_path_open), V(interrupted).
    - V(interrupted) means a C(SIGTERM) or C(SIGHUP) stopped the probes; their clean-up ran, and RV(leftovers) lists
      anything it could not remove.
  returned: always
  type: str
  sample: proxy_auth
http_status:
  description: The HTTP status that revealed the failure, when there was one.
  returned: always
  type: int
  sample: 407
error_code:
  description: The S3 error code or the error class that revealed the failure.
  returned: always
  type: str
  sample: SignatureDoesNotMatch
msg:
  description: What happened, and on failure what to fix. Secrets are masked.
  returned: always
  type: str
  sample: "Listing bucket glance failed at stage proxy_auth: the proxy refused the credentials ..."
proxy_url:
  description: The proxy URL used, with the password masked; V(null) when no proxy is used.
  returned: always
  type: str
  sample: http://glance-s3:********@proxy.example.com:3128
endpoint_url:
  description: The S3 endpoint checked.
  returned: always
  type: str
  sample: https://s3.example.com
bucket:
  description: The bucket checked.
  returned: always
  type: str
  sample: glance-images
settings_source:
  description: Where the settings came from, V(parameters) or the Glance configuration file and section.
  returned: always
  type: str
  sample: /etc/glance/glance-api.conf [s3_fast]
settings_reader:
  description: In Glance mode, V(glance_store) (Glance's own code built the store and its client) or V(oslo_rules).
  returned: with O(glance_config)
  type: str
  sample: glance_store
config_files:
  description: In Glance mode, the files read, in oslo.config's order.
  returned: with O(glance_config)
  type: list
  elements: str
  sample: [/etc/glance/glance-api.conf, /etc/glance/glance-api.conf.d/50-glance-s3-proxy.conf]
locations:
  description: In Glance mode, for each option read, the file and section that set its effective value, or V(default).
  returned: with O(glance_config)
  type: dict
  sample: {s3_store_enable_proxy: "/etc/glance/glance-api.conf.d/90-local.conf [s3_fast]"}
probe:
  description: The probe level asked for.
  returned: always
  type: str
  sample: multipart
probes_run:
  description: The probes that ran, in order.
  returned: always
  type: list
  elements: str
  sample: [read, write, multipart, direct]
skipped_probes:
  description: Writing probes skipped because of check mode.
  returned: always
  type: list
  elements: str
  sample: [write]
timings_ms:
  description: Duration of each phase, in milliseconds, measured inside the module.
  returned: always
  type: dict
  sample: {"client": 12.5, "list_objects": 8.1, "put_object": 10.2, "get_object": 4.0, "delete_object": 3.3}
direct_path:
  description: The outcome of the direct-path attempt, when O(expect_direct_blocked=true).
  returned: always
  type: dict
  sample: {"tried": true, "blocked": true, "detail": "EndpointConnectionError: Could not connect"}
swept:
  description:
    - What the sweep of stale probe leftovers under O(object_prefix) removed before the writing probes.
    - C(objects) lists the keys deleted, C(uploads) the multipart uploads aborted. C(truncated) is true when the
      sweep stopped at 1000 items. C(cutoff) is the S3 server time before which items counted as stale. All empty
      when the sweep did not run.
  returned: always
  type: dict
  sample: {"stale_after_minutes": 60, "cutoff": "2026-11-30T09:12:00+00:00", "truncated": false,
           "objects": ["s3-proxy-check/5f0c...-small"], "uploads": [{"key": "s3-proxy-check/9ab1...-multipart",
           "upload_id": "b1946ac9..."}]}
leftovers:
  description:
    - Probe objects and multipart uploads that clean-up could not remove, with the error, after a failure. A later
      V(write) or V(multipart) run sweeps them once they are older than O(stale_after_minutes).
  returned: always
  type: list
  elements: dict
  sample: [{"key": "s3-proxy-check/5f0c...-small", "upload_id": null, "error": "EndpointConnectionError: ..."}]
multipart:
  description: Details of the multipart probe object, when it ran.
  returned: when the multipart probe ran
  type: dict
  sample: {"parts": 2, "size": 16777216, "etag": "c4ca4238a0b923820dcc509a6f75849b-2"}
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.glancestore.s3proxy.plugins.module_utils import s3_probe
from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import CheckError, advice
from ansible_collections.glancestore.s3proxy.plugins.module_utils.glance_config import read_glance_settings
from ansible_collections.glancestore.s3proxy.plugins.module_utils.host_address import normalize_host_address
from ansible_collections.glancestore.s3proxy.plugins.module_utils.proxy_url import mask_proxy_url, scrub
from ansible_collections.glancestore.s3proxy.plugins.module_utils.validation import validate_settings

try:
    import boto3  # noqa: F401 pylint: disable=unused-import
    HAS_BOTO3 = True
    BOTO3_IMPORT_ERROR = None
except ImportError as e:
    HAS_BOTO3 = False
    BOTO3_IMPORT_ERROR = e


SETTING_KEYS = ('endpoint_url', 'bucket', 'access_key', 'secret_key', 'region', 'addressing_style', 'ca_bundle',
                'validate_certs', 'proxy_host', 'proxy_port', 'proxy_user', 'proxy_password', 'proxy_scheme',
                'proxy_ca_bundle')


def argument_spec():
    return dict(
        endpoint_url=dict(type='str', aliases=['s3_url']),
        bucket=dict(type='str'),
        access_key=dict(type='str', aliases=['aws_access_key'], no_log=False),
        secret_key=dict(type='str', aliases=['aws_secret_key'], no_log=True),
        region=dict(type='str', default='us-east-1'),
        addressing_style=dict(type='str', choices=['auto', 'path', 'virtual'], default='auto'),
        ca_bundle=dict(type='path'),
        validate_certs=dict(type='bool', default=True),
        proxy_host=dict(type='str'),
        proxy_port=dict(type='int', default=8080),
        proxy_user=dict(type='str'),
        proxy_password=dict(type='str', no_log=True),
        proxy_scheme=dict(type='str', choices=['http', 'https'], default='http'),
        proxy_ca_bundle=dict(type='path'),
        glance_config=dict(type='path'),
        glance_config_dirs=dict(type='list', elements='path'),
        glance_backend=dict(type='str'),
        probe=dict(type='str', choices=['read', 'write', 'multipart'], default='read'),
        multipart_part_size_mb=dict(type='int', default=8),
        multipart_parts=dict(type='int', default=2),
        object_prefix=dict(type='str', default='s3-proxy-check/'),
        stale_after_minutes=dict(type='int', default=60),
        expect_direct_blocked=dict(type='bool', default=False),
        connect_timeout=dict(type='int', default=10),
        read_timeout=dict(type='int', default=60),
        direct_timeout=dict(type='int', default=5),
    )


class ProxyCheck:
    def __init__(self, module):
        self.module = module
        self.params = module.params
        self.glance_client = None  # in Glance mode with Glance's Python: the client glance_store built
        self.secrets = [self.params.get('secret_key'), self.params.get('proxy_password')]
        self.result = dict(
            changed=False, reachable=False, stage=None, http_status=None, error_code=None, msg='',
            proxy_url=None, endpoint_url=None, bucket=None, settings_source='parameters',
            probe=self.params['probe'], probes_run=[], skipped_probes=[], timings_ms={},
            direct_path={'tried': False, 'blocked': None, 'detail': None},
            swept={'stale_after_minutes': None, 'cutoff': None, 'objects': [], 'uploads': [], 'truncated': False},
            leftovers=[],
        )
        self.timer = s3_probe.Timer()
        self.result['timings_ms'] = self.timer.timings

    # -- failures ---------------------------------------------------------
    def fail(self, stage, msg, http_status=None, error_code=None):
        self.result.update(stage=stage, msg=scrub(msg, self.secrets), http_status=http_status,
                           error_code=scrub(error_code, self.secrets), reachable=False)
        self.module.fail_json(**self.result)

    def left_note(self):
        """What clean-up could not remove, for the failure message."""
        left = self.result['leftovers']
        if not left:
            return ''
        names = ', '.join('%s (upload %s)' % (i['key'], i['upload_id']) if i['upload_id'] else i['key'] for i in left)
        return (' Clean-up could not remove %s; a later write or multipart run sweeps them after stale_after_minutes'
                ' (%d), or remove them by hand.' % (names, self.params['stale_after_minutes']))

    def hide(self, *values):
        for value in values:
            if value:
                self.secrets.append(value)
                self.module.no_log_values.add(value)

    # -- settings ---------------------------------------------------------
    def settings(self):
        p = self.params
        if p['glance_config']:
            try:
                settings = read_glance_settings(p['glance_config'], p['glance_backend'], config_dirs=p['glance_config_dirs'])
            except CheckError as exc:
                self.fail(exc.stage, exc.msg)
            self.hide(settings.get('secret_key'), settings.get('proxy_password'))
            source = '%s [%s]' % (p['glance_config'], settings.pop('_section'))
            self.glance_client = settings.pop('_client', None)
            settings.pop('_extension_active', None)
            self.result.update(settings_reader=settings.pop('_reader'), config_files=settings.pop('_files'),
                               locations=settings.pop('_locations'))
            settings['validate_certs'] = p['validate_certs']
        else:
            settings = dict((k, p[k]) for k in SETTING_KEYS)
            source = 'parameters'
        self.result['settings_source'] = source
        errors = validate_settings(settings, source='module' if source == 'parameters' else source)
        errors.extend(s3_probe.bounds_errors(p))
        if p['probe'] != 'read':
            errors.extend(s3_probe.prefix_errors(p['object_prefix']))
        if p['expect_direct_blocked'] and not settings.get('proxy_host'):
            errors.append('expect_direct_blocked is true but no proxy is configured (proxy_host, or'
                          ' s3_store_enable_proxy/s3_store_proxy_host in Glance mode): set the proxy.')
        self.result['endpoint_url'] = settings.get('endpoint_url')
        self.result['bucket'] = settings.get('bucket')
        if errors:
            self.fail('config', 'Invalid settings, nothing was sent: ' + ' '.join(errors))
        # What Glance uses: oslo.config drops one trailing dot of a host name.
        settings['proxy_host'] = normalize_host_address(settings.get('proxy_host'))
        self.result['proxy_url'] = mask_proxy_url(s3_probe.proxy_url_for(settings))
        return settings

    # -- probes -----------------------------------------------------------
    def run(self):
        p = self.params
        settings = self.settings()
        proxied = bool(settings.get('proxy_host'))
        wanted = {'read': ['read'], 'write': ['read', 'write'],
                  'multipart': ['read', 'write', 'multipart']}[p['probe']]
        if self.module.check_mode:
            self.result['skipped_probes'] = [w for w in wanted if w != 'read']
            wanted = ['read']
        start = time.monotonic()
        guard = s3_probe.SignalGuard()
        try:
            with guard:
                self.probe(settings, wanted, proxied, guard)
        except s3_probe.Interrupted as exc:
            done = self.result['probes_run']
            during = ([w for w in wanted + ['direct'] if w not in done] or ['last'])[0]
            self.fail('interrupted', 'Interrupted by %s during the %s probe; its clean-up ran before the module stopped.%s'
                      ' The path to S3 was not fully checked: run the check again.' % (exc.name, during, self.left_note()))
        except CheckError as exc:
            self.fail(exc.stage, exc.msg + self.left_note(), exc.http_status, exc.error_code)
        except Exception as exc:  # never let a traceback carry a secret out
            self.fail('config', 'Unexpected %s: %s%s' % (type(exc).__name__, exc, self.left_note()))
        self.timer.timings['total'] = round((time.monotonic() - start) * 1000.0, 1)
        via = 'through proxy %s' % self.result['proxy_url'] if proxied else 'directly (no proxy configured)'
        msg = 'S3 bucket %s at %s is reachable %s; probes passed: %s.' % (
            settings['bucket'], settings['endpoint_url'], via, ', '.join(self.result['probes_run']))
        if self.result['skipped_probes']:
            msg += ' Skipped in check mode: %s.' % ', '.join(self.result['skipped_probes'])
        self.result.update(reachable=True, msg=scrub(msg, self.secrets))
        self.module.exit_json(**self.result)

    def probe(self, settings, wanted, proxied, guard):
        p = self.params
        if self.glance_client is not None:
            client = self.glance_client  # exactly the client Glance's own store builds from its files
        else:
            client = self.timer.run('client', s3_probe.make_client, settings,
                                    connect_timeout=p['connect_timeout'], read_timeout=p['read_timeout'])
        prober = s3_probe.Prober(
            client, settings['bucket'], self.timer, proxied, guard=guard,
            cleanup_client=lambda: s3_probe.make_cleanup_client(settings, p['connect_timeout'], p['read_timeout']))
        prober.swept = self.result['swept']
        try:
            for probe in wanted:
                if probe == 'read':
                    prober.read()
                elif probe == 'write':  # the first writing probe: sweep stale leftovers first
                    prober.sweep(p['object_prefix'], p['stale_after_minutes'])
                    prober.write(p['object_prefix'])
                else:
                    self.result['multipart'] = prober.multipart(
                        p['object_prefix'], p['multipart_part_size_mb'], p['multipart_parts'])
                self.result['probes_run'].append(probe)
        finally:
            self.result['leftovers'] = [dict(i, error=scrub(i['error'], self.secrets)) for i in prober.leftovers]
        if p['expect_direct_blocked']:
            is_open, detail = s3_probe.probe_direct(settings, self.timer, p['direct_timeout'])
            self.result['probes_run'].append('direct')
            self.result['direct_path'] = {'tried': True, 'blocked': not is_open,
                                          'detail': scrub(detail, self.secrets)}
            if is_open:
                raise CheckError('direct_path_open', '%s. %s' % (detail, advice('direct_path_open')))


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[
            ('glance_config', 'endpoint_url'),
            ('glance_config', 'proxy_host'),
            ('glance_config', 'secret_key'),
            ('glance_config', 'proxy_password'),
        ],
        required_one_of=[('glance_config', 'endpoint_url')],
        required_together=[('proxy_user', 'proxy_password'), ('access_key', 'secret_key')],
        required_by={'endpoint_url': 'bucket', 'glance_backend': 'glance_config', 'glance_config_dirs': 'glance_config',
                     'proxy_ca_bundle': 'proxy_host'},
        required_if=[('proxy_scheme', 'https', ('proxy_host',))],
        supports_check_mode=True,
    )
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3'), exception=str(BOTO3_IMPORT_ERROR))
    ProxyCheck(module).run()


if __name__ == '__main__':
    main()
