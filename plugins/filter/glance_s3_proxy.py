# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the glance_s3_proxy role: effective stores, validation, oslo.config values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.glancestore.s3proxy.plugins.module_utils.s3_proxy import backend_entries, validate_settings

STORE_DEFAULTS = {
    'region': '',
    'bucket_url_format': 'auto',
    'create_bucket_on_put': False,
    'large_object_size': 100,
    'large_object_chunk_size': 10,
    'thread_pools': 10,
    'cacert': '',
    'max_retries': None,
    'description': '',
    'weight': 0,
    'default': False,
}
PROXY_DEFAULTS = {'enabled': False, 'host': '', 'port': 8080, 'user': '', 'password': '', 'scheme': 'http',
                  'cacert': ''}
RESERVED = ('os_glance_staging_store', 'os_glance_tasks_store', 'glance_store', 'DEFAULT', 'backend_defaults')

# module_utils field names -> the role's store keys
_FIELDS = (
    ('proxy_ca_bundle', 'proxy.cacert'),
    ('proxy_password', 'proxy.password'),
    ('proxy_scheme', 'proxy.scheme'),
    ('proxy_host', 'proxy.host'),
    ('proxy_port', 'proxy.port'),
    ('proxy_user', 'proxy.user'),
    ('endpoint_url', 'endpoint'),
    ('addressing_style', 'bucket_url_format'),
)


def effective_stores(stores, default_proxy=None):
    """Each store with defaults filled in and its proxy resolved.

    A store's ``proxy`` overrides the role-wide proxy key by key;
    ``proxy: {enabled: false}`` turns it off for that store.
    """
    if not isinstance(stores, list):
        raise AnsibleFilterError('glance_s3_proxy_stores must be a list of stores, got %s' % type(stores).__name__)
    base = dict(PROXY_DEFAULTS)
    base.update(default_proxy or {})
    out = []
    for store in stores:
        if not isinstance(store, dict):
            raise AnsibleFilterError('each entry of glance_s3_proxy_stores must be a dict')
        merged = dict(STORE_DEFAULTS)
        merged.update(dict((k, v) for k, v in store.items() if v is not None or k == 'max_retries'))
        own = dict((k, v) for k, v in (store.get('proxy') or {}).items() if v is not None)
        proxy = dict(base)
        proxy.update(own)
        merged['proxy'] = proxy
        merged['proxy_keys_from_role'] = sorted(k for k in PROXY_DEFAULTS if k not in own)
        out.append(merged)
    return out


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def problems(stores, mode='multi'):
    """Every rule broken by the effective stores, as messages naming the variable and the fix."""
    out = []
    names = [s.get('name') for s in stores]
    if not stores:
        out.append('glance_s3_proxy_stores is empty: list at least one S3 store.')
    for index, store in enumerate(stores):
        where = 'glance_s3_proxy_stores[%d] (%s)' % (index, store.get('name') or 'no name')
        name = store.get('name') or ''
        if not re.match(r'^[A-Za-z0-9_-]+$', name):
            out.append('%s: name %r must be a backend id of letters, digits, "_" or "-".' % (where, name))
        elif name in RESERVED:
            out.append('%s: name %r is reserved by Glance: choose another backend id.' % (where, name))
        proxy = store['proxy']
        settings = {'endpoint_url': store.get('endpoint'), 'bucket': store.get('bucket'),
                    'addressing_style': store.get('bucket_url_format')}
        if proxy.get('enabled'):
            settings.update({'proxy_host': proxy.get('host') or None, 'proxy_port': proxy.get('port'),
                             'proxy_user': proxy.get('user') or None, 'proxy_password': proxy.get('password') or None,
                             'proxy_scheme': proxy.get('scheme')})
            if not proxy.get('host'):
                out.append('%s: proxy.enabled is true but proxy.host is empty: set the proxy host (per store or in'
                           ' glance_s3_proxy_proxy), or set proxy.enabled false.' % where)
        for msg in validate_settings(settings):
            if msg.startswith('proxy credentials are set but proxy_host is empty'):
                continue  # reported above with the role's wording
            for field, key in _FIELDS:
                msg = re.sub(r'\b%s\b' % field, key, msg)
            inherited = [k for k in store.get('proxy_keys_from_role', []) if 'proxy.%s ' % k in msg]
            if inherited:
                msg += ' (inherited from glance_s3_proxy_proxy.%s)' % inherited[0]
            out.append('%s: %s' % (where, msg))
        for key, minimum, fix in (('large_object_chunk_size', 5, 'S3 parts must be at least 5 MB'),
                                  ('large_object_size', 0, 'use 0 or more (MB)'),
                                  ('thread_pools', 1, 'use 1 or more'),
                                  ('max_retries', 0, 'use 0 or more, or omit it for botocore\'s default'),
                                  ('weight', 0, 'use 0 or more')):
            value = store.get(key)
            if key == 'max_retries' and value is None:
                continue
            number = _int_or_none(value)
            if number is None or number < minimum:
                out.append('%s: %s %r is invalid: %s.' % (where, key, value, fix))
        for key in ('access_key', 'secret_key'):
            if not store.get(key):
                out.append('%s: %s is empty: set the S3 %s.' % (where, key, key.replace('_', ' ')))
    duplicates = sorted(set(n for n in names if n and names.count(n) > 1))
    if duplicates:
        out.append('glance_s3_proxy_stores: duplicate store names %s: each backend id must be unique.'
                   % ', '.join(duplicates))
    defaults = [s.get('name') for s in stores if s.get('default')]
    if mode == 'multi' and stores and len(defaults) != 1:
        out.append('glance_s3_proxy_stores: %d stores have default: true (%s): mark exactly one store as the'
                   ' default.' % (len(defaults), ', '.join(str(d) for d in defaults) or 'none'))
    if mode == 'legacy' and len(stores) > 1:
        out.append('glance_s3_proxy_store_mode is legacy but glance_s3_proxy_stores lists %d stores: legacy'
                   ' [glance_store] mode holds exactly one S3 store; use store mode multi.' % len(stores))
    return out


def conf_value(conf_text, section, key, default=''):
    """The last value of ``key`` in ``[section]`` of an oslo.config file's text."""
    # [DEFAULT] is an ordinary section for oslo.config: its keys do not show through in other sections.
    parser = configparser.RawConfigParser(strict=False, default_section='\0')
    parser.optionxform = str
    try:
        parser.read_string(conf_text or '')
    except configparser.MissingSectionHeaderError as e:  # the line itself may hold a secret: only its number
        raise AnsibleFilterError('Glance\'s configuration cannot be parsed: line %d comes before any [section].'
                                 ' Fix the file; Glance cannot read it either.' % e.lineno)
    except configparser.ParsingError as e:
        raise AnsibleFilterError('Glance\'s configuration cannot be parsed: line %s is neither "key = value" nor'
                                 ' a [section]. Fix the file; Glance cannot read it either.'
                                 % ', '.join(str(lineno) for lineno, _line in e.errors))
    return parser.get(section, key, fallback=default)


def enabled_backends(conf_text, stores, other_backends=None):
    """The [DEFAULT] enabled_backends value: the file's other entries, then the role's stores."""
    ours = [s['name'] for s in stores]
    entries = []
    for name, kind in backend_entries(','.join(other_backends or []) + ','
                                      + conf_value(conf_text, 'DEFAULT', 'enabled_backends')):
        if name not in ours and name not in [n for n, _kind in entries]:
            entries.append((name, kind))
    return ', '.join(['%s:%s' % entry for entry in entries] + ['%s:s3' % name for name in ours])


def ca_files(stores):
    """The CA files the stores name, each with the variable that names it."""
    out = []
    for index, store in enumerate(stores):
        where = 'glance_s3_proxy_stores[%d] (%s)' % (index, store.get('name'))
        if store.get('cacert'):
            out.append({'var': where + '.cacert', 'path': store['cacert']})
        proxy = store.get('proxy') or {}
        if proxy.get('enabled') and proxy.get('cacert'):
            out.append({'var': where + '.proxy.cacert', 'path': proxy['cacert']})
    return out


def oslo_value(value):
    """A value written for oslo.config: '$' is written '$$'; booleans lower-case."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return ''
    if not isinstance(value, string_types):
        value = str(value)
    if '\n' in value:
        raise AnsibleFilterError('a configuration value cannot contain a newline')
    return value.replace('$', '$$')


class FilterModule(object):
    def filters(self):
        return {
            'glance_s3_proxy_effective_stores': effective_stores,
            'glance_s3_proxy_problems': problems,
            'glance_s3_proxy_enabled_backends': enabled_backends,
            'glance_s3_proxy_ca_files': ca_files,
            'glance_s3_proxy_conf_value': conf_value,
            'oslo_value': oslo_value,
        }
