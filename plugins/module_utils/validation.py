# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Validation of one S3 store's settings and its proxy, before anything is sent or written.

``validate_settings`` judges the module's parameters (and the role's stores,
through its filter); ``credential_problems`` is the proxy credential rule of
glance-store-s3proxy (``proxy.validate`` in the extension), shared with
glance_config's reader. The extension keeps its own copy of these rules (it
cannot import Ansible code): ``tests/unit/validation_cases.json`` runs one
table of cases against both, and says where they differ on purpose.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.glancestore.s3proxy.plugins.module_utils.host_address import (
    host_address_problem,
    shown_host,
)


def is_ascii(value):
    """Is ``value``, as text, ASCII? A number or boolean from YAML is written (oslo_render) as its text."""
    try:
        str(value).encode('ascii')
    except UnicodeError:
        return False
    return True


def credential_problems(user, password):
    """The proxy credential rules broken, as (field, rule) pairs in the extension's order.

    ``field`` is ``proxy_user`` or ``proxy_password``; ``rule`` is ``alone`` (set
    without the other), ``non_ascii`` (botocore sends Basic proxy auth in
    ASCII only) or ``colon`` (a user name with ``:``: Basic auth splits
    ``user:password`` at the first colon, so the proxy would read another user).
    """
    values = {'proxy_user': user, 'proxy_password': password}
    pairs = (('proxy_user', 'proxy_password'), ('proxy_password', 'proxy_user'))
    broken = [(field, 'alone') for field, other in pairs if values[field] and not values[other]]
    broken.extend((field, 'non_ascii') for field, _other in pairs if values[field] and not is_ascii(values[field]))
    if isinstance(user, str) and ':' in user:
        broken.append(('proxy_user', 'colon'))
    return broken


_CREDENTIAL_MESSAGES = {
    ('proxy_user', 'alone'): 'proxy_user is set but proxy_password is empty: set both, or neither for a proxy without'
                             ' authentication.',
    ('proxy_password', 'alone'): 'proxy_password is set but proxy_user is empty: set both, or neither for a proxy'
                                 ' without authentication.',
    ('proxy_user', 'non_ascii'): 'proxy_user contains non-ASCII characters: botocore sends Basic proxy auth in ASCII'
                                 ' only; use an ASCII user name.',
    ('proxy_user', 'colon'): 'proxy_user contains ":": Basic proxy auth sends user:password and the proxy splits it at'
                             ' the first colon, so it would check another user; use a user name without ":"'
                             ' (the password may contain it).',
    ('proxy_password', 'non_ascii'): 'proxy_password contains non-ASCII characters: botocore sends Basic proxy auth in'
                                     ' ASCII only; use an ASCII password (reserved characters such as @ : / % # are'
                                     ' fine).',
}


def _port_ok(port):
    if isinstance(port, bool):  # int(True) is 1: a YAML yes is no port
        return False
    try:
        return 1 <= int(port) <= 65535
    except (TypeError, ValueError):
        return False


def validate_settings(settings, source='module'):
    """Return a list of (field, problem and fix) strings; empty when valid.

    ``settings`` uses the module's parameter names. ``source`` says where the
    values came from, so a message points at the right thing to edit.
    """
    errors = []
    endpoint = settings.get('endpoint_url') or ''
    if not endpoint:
        errors.append('endpoint_url is empty: set the S3 endpoint, for example https://s3.example.com:443.')
    elif not re.match(r'^https?://[^/\s]+', endpoint):
        errors.append("endpoint_url %r has no scheme: write it as http://%s or https://%s"
                      " (botocore rejects a bare host:port)." % (endpoint, endpoint, endpoint))
    if not settings.get('bucket'):
        errors.append('bucket is empty: set the bucket Glance stores images in.')

    addressing = settings.get('addressing_style') or 'auto'
    if addressing not in ('auto', 'path', 'virtual'):
        errors.append('addressing_style %r is not one of auto, path, virtual.' % addressing)
    elif addressing == 'virtual' and settings.get('bucket') and not is_dns_bucket(settings['bucket']):
        errors.append('bucket %r is not DNS-safe, so virtual addressing cannot work:'
                      ' use addressing_style path, or a bucket of lower-case letters,'
                      ' digits and hyphens.' % settings['bucket'])

    host = settings.get('proxy_host')
    if host:
        port = settings.get('proxy_port')
        if not _port_ok(port):
            errors.append('proxy_port %r is outside 1-65535: set the port the proxy listens on (often 3128 or 8080).' % (port,))
        if settings.get('proxy_scheme', 'http') not in ('http', 'https'):
            errors.append('proxy_scheme %r is not http or https.' % settings.get('proxy_scheme'))
        if '://' in host or '/' in host or '@' in host:
            errors.append('proxy_host %r must be a bare host name or address, without scheme, credentials or path.' % shown_host(host))
        else:
            problem = host_address_problem(host)
            if problem:
                errors.append('proxy_host %r is not a valid host address (%s). Glance reads s3_store_proxy_host as an'
                              ' oslo.config HostAddressOpt and refuses it: use an IPv4 or IPv6 address (IPv6 without'
                              ' brackets) or a host name of dot-separated labels of letters, digits and inner hyphens.'
                              % (shown_host(host), problem))
    user = settings.get('proxy_user')
    password = settings.get('proxy_password')
    errors.extend(_CREDENTIAL_MESSAGES[broken] for broken in credential_problems(user, password))
    if (user or password) and not host:
        errors.append('proxy credentials are set but proxy_host is empty: set proxy_host.')

    for field in ('ca_bundle', 'proxy_ca_bundle'):
        path = settings.get(field)
        if path and not os.path.isfile(path):
            errors.append('%s %r does not exist on this host: copy the CA bundle there or fix the path.' % (field, path))

    if source != 'module':
        errors = ['%s: %s' % (source, e) for e in errors]
    return errors


def is_dns_bucket(name):
    """A bucket name usable in virtual-hosted addressing."""
    if not 3 <= len(name) <= 63:
        return False
    if not re.match(r'^[a-z0-9][a-z0-9-]*[a-z0-9]$', name):
        return False
    return not re.match(r'^\d+\.\d+\.\d+\.\d+$', name)
