# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the glance_s3_proxy role: effective stores, validation, oslo.config values."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import configparser
import re

import yaml

from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.glancestore.s3proxy.plugins.module_utils.oslo_render import (
    RenderError,
    backend_entry_problem,
    name_problem,
    render,
    section,
)
from ansible_collections.glancestore.s3proxy.plugins.module_utils.glance_config import backend_entries
from ansible_collections.glancestore.s3proxy.plugins.module_utils.validation import validate_settings

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
STORE_BOOLS = ('default', 'create_bucket_on_put')
STORE_INTS = ('large_object_size', 'large_object_chunk_size', 'thread_pools', 'max_retries', 'weight')
PROXY_BOOLS = ('enabled',)
PROXY_INTS = ('port',)

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


def strict_bool(value, what):
    """``value`` as a bool (true/false, yes/no, on/off, 1/0), or an error naming ``what``; never the value."""
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise AnsibleFilterError('%s is a %s that is not a boolean: write true or false (unquoted in YAML).'
                                 % (what, type(value).__name__))


def strict_int(value, what):
    """``value`` as an int (an int, or a string of digits), or an error naming ``what``; never the value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r'[+-]?[0-9]+', value):
        return int(value)
    raise AnsibleFilterError('%s is a %s that is not an integer: write a whole number, for example 10.'
                             % (what, type(value).__name__))


def _store_var(store, key):
    """The variable a store key comes from: the store's own, or the role-wide proxy it inherits."""
    where = store.get('where') or 'glance_s3_proxy_stores (%s)' % store.get('name')
    if key.startswith('proxy.') and key[len('proxy.'):] in store.get('proxy_keys_from_role', ()):
        return 'glance_s3_proxy_proxy.' + key[len('proxy.'):]
    return '%s.%s' % (where, key)


def effective_stores(stores, default_proxy=None):
    """Each store with defaults filled in, its proxy resolved, booleans and integers converted strictly.

    A store's ``proxy`` overrides the role-wide proxy key by key;
    ``proxy: {enabled: false}`` turns it off for that store.
    """
    if not isinstance(stores, list):
        raise AnsibleFilterError('glance_s3_proxy_stores must be a list of stores, got %s' % type(stores).__name__)
    if default_proxy is not None and not isinstance(default_proxy, dict):
        raise AnsibleFilterError('glance_s3_proxy_proxy must be a dict, got %s' % type(default_proxy).__name__)
    base = dict(PROXY_DEFAULTS)
    base.update(dict((k, v) for k, v in (default_proxy or {}).items() if v is not None))
    out = []
    for index, store in enumerate(stores):
        if not isinstance(store, dict):
            raise AnsibleFilterError('each entry of glance_s3_proxy_stores must be a dict')
        if not isinstance(store.get('proxy') or {}, dict):
            raise AnsibleFilterError('glance_s3_proxy_stores[%d].proxy must be a dict, got %s'
                                     % (index, type(store['proxy']).__name__))
        merged = dict(STORE_DEFAULTS)
        merged.update(dict((k, v) for k, v in store.items() if v is not None or k == 'max_retries'))
        own = dict((k, v) for k, v in (store.get('proxy') or {}).items() if v is not None)
        proxy = dict(base)
        proxy.update(own)
        merged['proxy'] = proxy
        merged['proxy_keys_from_role'] = sorted(k for k in PROXY_DEFAULTS if k not in own)
        merged['where'] = 'glance_s3_proxy_stores[%d]' % index
        for key in STORE_BOOLS:
            merged[key] = strict_bool(merged[key], _store_var(merged, key))
        for key in STORE_INTS:
            if merged[key] is not None:
                merged[key] = strict_int(merged[key], _store_var(merged, key))
        for key in PROXY_BOOLS:
            proxy[key] = strict_bool(proxy[key], _store_var(merged, 'proxy.' + key))
        for key in PROXY_INTS:
            proxy[key] = strict_int(proxy[key], _store_var(merged, 'proxy.' + key))
        out.append(merged)
    return out


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def problems(stores, mode='multi', expect_direct_blocked=False, other_backends=None, consumer='oslo'):
    """Every rule broken by the effective stores, as messages naming the variable and the fix.

    ``expect_direct_blocked`` (glance_s3_proxy_expect_direct_blocked) refuses a store whose proxy is off;
    ``other_backends`` (glance_s3_proxy_other_backends) are checked as NAME:TYPE entries; ``consumer``
    (oslo, kolla or osa) is the tool that reads the values, and each value must be writable for it.
    """
    out = []
    expect_direct_blocked = strict_bool(expect_direct_blocked, 'glance_s3_proxy_expect_direct_blocked')
    names = [s.get('name') for s in stores]
    if not stores:
        out.append('glance_s3_proxy_stores is empty: list at least one S3 store.')
    for index, store in enumerate(stores):
        where = 'glance_s3_proxy_stores[%d] (%s)' % (index, store.get('name') or 'no name')
        name = store.get('name') or ''
        # in legacy mode the name is no section: only its form matters
        problem = name_problem(name, where, store=True, is_section=mode == 'multi')
        if problem:
            out.append(problem)
        proxy = store['proxy']
        enabled = strict_bool(proxy.get('enabled'), _store_var(store, 'proxy.enabled'))
        settings = {'endpoint_url': store.get('endpoint'), 'bucket': store.get('bucket'),
                    'addressing_style': store.get('bucket_url_format')}
        if enabled:
            settings.update({'proxy_host': proxy.get('host') or None, 'proxy_port': proxy.get('port'),
                             'proxy_user': proxy.get('user') or None, 'proxy_password': proxy.get('password') or None,
                             'proxy_scheme': proxy.get('scheme')})
            if not proxy.get('host'):
                out.append('%s: proxy.enabled is true but proxy.host is empty: set the proxy host (per store or in'
                           ' glance_s3_proxy_proxy), or set proxy.enabled false.' % where)
        elif expect_direct_blocked:
            out.append('%s: proxy.enabled is false but glance_s3_proxy_expect_direct_blocked is true, so the check'
                       ' that the direct path to S3 is blocked would fail: enable the proxy for this store, or set'
                       ' glance_s3_proxy_expect_direct_blocked false.' % where)
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
        try:
            items = _option_items(store, mode == 'multi')
        except AnsibleFilterError as e:
            items = []
            out.append(str(e))
        for _key, value, what in items:
            try:
                render(value, what, consumer)
            except RenderError as e:
                out.append(str(e))
    lower = [n.lower() for n in names if isinstance(n, str) and n]
    duplicates = sorted(set(n for n in names if isinstance(n, str) and n and lower.count(n.lower()) > 1))
    if duplicates:
        out.append('glance_s3_proxy_stores: duplicate store names %s: each backend id must be unique (oslo.config'
                   ' does not tell upper from lower case in section names).' % ', '.join(duplicates))
    defaults = [s.get('name') for s in stores if s.get('default')]
    if mode == 'multi' and stores and len(defaults) != 1:
        out.append('glance_s3_proxy_stores: %d stores have default: true (%s): mark exactly one store as the'
                   ' default.' % (len(defaults), ', '.join(str(d) for d in defaults) or 'none'))
    if mode == 'legacy' and len(stores) > 1:
        out.append('glance_s3_proxy_store_mode is legacy but glance_s3_proxy_stores lists %d stores: legacy'
                   ' [glance_store] mode holds exactly one S3 store; use store mode multi.' % len(stores))
    for index, entry in enumerate(other_backends or []):
        problem = backend_entry_problem(entry, 'glance_s3_proxy_other_backends[%d]' % index)
        if problem:
            out.append(problem)
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
    for index, entry in enumerate(other_backends or []):
        problem = backend_entry_problem(entry, 'glance_s3_proxy_other_backends[%d]' % index)
        if problem:
            raise AnsibleFilterError(problem)
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
        if strict_bool(proxy.get('enabled', False), _store_var(store, 'proxy.enabled')) and proxy.get('cacert'):
            out.append({'var': where + '.proxy.cacert', 'path': proxy['cacert']})
    return out


def oslo_value(value, what=None, consumer='oslo'):
    """``value`` written for oslo.config (and the tool that reads it first), or an error naming ``what``.

    '$' is written '$$', booleans lower-case; a value oslo.config would read differently is refused.
    """
    try:
        return render(value, what or 'a configuration value', consumer)
    except RenderError as e:
        raise AnsibleFilterError(str(e))


def oslo_section(name, what=None):
    """``name`` as the name of an S3 store's section, or an error naming ``what``."""
    try:
        return section(name, what or 'a store name')
    except RenderError as e:
        raise AnsibleFilterError(str(e))


def _option_items(store, multi):
    """(key, value, variable) of a store's options, in the order and on the conditions they are written."""
    proxy = store.get('proxy') or {}

    def var(key):
        return _store_var(store, key)

    items = []
    if multi and store.get('description'):
        items.append(('store_description', store['description'], var('description')))
    weight = strict_int(store.get('weight', 0), var('weight'))
    if multi and weight > 0:
        items.append(('weight', weight, var('weight')))
    items.extend([
        ('s3_store_host', store.get('endpoint'), var('endpoint')),
        ('s3_store_bucket', store.get('bucket'), var('bucket')),
        ('s3_store_access_key', store.get('access_key'), var('access_key')),
        ('s3_store_secret_key', store.get('secret_key'), var('secret_key')),
    ])
    if store.get('region'):
        items.append(('s3_store_region_name', store['region'], var('region')))
    items.extend([
        ('s3_store_bucket_url_format', store.get('bucket_url_format'), var('bucket_url_format')),
        ('s3_store_create_bucket_on_put', strict_bool(store.get('create_bucket_on_put', False),
                                                      var('create_bucket_on_put')), var('create_bucket_on_put')),
    ])
    for key in ('large_object_size', 'large_object_chunk_size', 'thread_pools'):
        items.append(('s3_store_' + key, strict_int(store.get(key), var(key)), var(key)))
    if store.get('cacert'):
        items.append(('s3_store_cacert', store['cacert'], var('cacert')))
    if store.get('max_retries') is not None:
        items.append(('s3_store_max_retries', strict_int(store['max_retries'], var('max_retries')), var('max_retries')))
    enabled = strict_bool(proxy.get('enabled', False), var('proxy.enabled'))
    items.append(('s3_store_enable_proxy', enabled, var('proxy.enabled')))
    if enabled:
        items.extend([
            ('s3_store_proxy_host', proxy.get('host'), var('proxy.host')),
            ('s3_store_proxy_port', strict_int(proxy.get('port'), var('proxy.port')), var('proxy.port')),
            ('s3_store_proxy_scheme', proxy.get('scheme'), var('proxy.scheme')),
        ])
        if proxy.get('user'):
            items.append(('s3_store_proxy_user', proxy['user'], var('proxy.user')))
            items.append(('s3_store_proxy_password', proxy.get('password'), var('proxy.password')))
        if proxy.get('cacert'):
            items.append(('s3_store_proxy_cacert', proxy['cacert'], var('proxy.cacert')))
    return items


def store_options(store, multi=True, consumer='oslo'):
    """A store's options as an ordered list of [key, value], each value written by oslo_value for ``consumer``.

    Every template writes a store's options from this list, and from nothing else.
    """
    if not isinstance(store, dict):
        raise AnsibleFilterError('glance_s3_proxy_store_options expects one effective store (a dict), got %s'
                                 % type(store).__name__)
    multi = strict_bool(multi, 'the multi argument of glance_s3_proxy_store_options')
    return [[key, oslo_value(value, what, consumer)] for key, value, what in _option_items(store, multi)]


# The line the role writes into its kolla-ansible override (templates/glance-api-s3-proxy.conf.j2).
OWN_MARKER = '# Glance S3 stores behind HTTP proxies (glancestore.s3proxy).'


# What kolla-ansible's "| bool" (ansible-core's bool filter) accepts without coercing: anything else
# is coerced (to False, mostly) with only a deprecation warning, so the role refuses it.
_KOLLA_TRUE = ('yes', 'on', 'true', '1')
_KOLLA_FALSE = ('no', 'off', 'false', '0')


def _kolla_bool(value):
    """kolla-ansible's reading of ``value`` (``| bool``), or None when ansible-core would only coerce it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        if value.lower() in _KOLLA_TRUE:
            return True
        if value.lower() in _KOLLA_FALSE:
            return False
    return None


def _kolla_flag(kolla_globals, key, default, where, problems):
    value = kolla_globals.get(key, default)
    if value == OPAQUE:
        problems.append('%s in %s is encrypted (!vault) or !unsafe: the role cannot tell which Glance backends'
                        ' kolla-ansible enables. Write a literal yes or no there.' % (key, where))
        return bool(default)
    if isinstance(value, str) and ('{{' in value or '{%' in value):
        problems.append('%s in %s is a template (%s): the role cannot tell which Glance backends kolla-ansible enables.'
                        ' Write a literal yes or no there.' % (key, where, value))
        return bool(default)
    result = _kolla_bool(value)
    if result is None:
        problems.append('%s in %s must be yes or no (what kolla-ansible\'s "| bool" reads), got a %s.'
                        % (key, where, type(value).__name__))
        return bool(default)
    return result


def _oslo_group(name):
    """A section name as oslo.config looks it up: DEFAULT as written, every other in lower case."""
    return name if name == 'DEFAULT' else name.lower()


def _kolla_override_problems(overrides, own, names):
    """Problems with kolla-ansible's glance-api.conf overrides (path: text): the role's own file written by
    someone else, and per-host files, merged after it, that set the role's stores or choose the stores.

    Lines are read as kolla-ansible's merge_configs reads them (oslo.config's iniparser): a header starts in
    column 0; a line that starts with whitespace continues the value above; an assignment before any header
    goes to merge_configs' orphan section, which is written at the end of the merged file, that is into the
    role's last store section."""
    problems = []
    wanted = set(n.lower() for n in names)
    for path, text in sorted((overrides or {}).items()):
        if path == own:
            if OWN_MARKER not in text:
                problems.append('%s exists and was not written by this role: kolla-ansible merges only this one file'
                                ' there. Move its settings to %s/glance.conf (merged just before it), then run again.'
                                % (path, path.rsplit('/', 2)[0]))
            continue
        found, current = [], None
        if '{{' in text or '{%' in text:
            found.append('Jinja (merge_configs renders it first, so the role cannot tell what it sets)')
        for line in re.split(r'\r\n|\r|\n', text):
            line = line.rstrip()
            if not line or line[0] in ' \t#;':
                continue  # blank, continuation or comment
            if line.startswith('['):
                if line.endswith(']'):
                    current = _oslo_group(line[1:-1])
                    if current in wanted:
                        found.append('[%s]' % line[1:-1])
                continue
            key = re.split(r'[=:]', line, 1)[0].strip()
            if current is None:
                found.append('%s before any [section] (merge_configs writes it into the last section of the merged'
                             ' file, a store of the role)' % key)
            elif (current, key) in (('DEFAULT', 'enabled_backends'), ('glance_store', 'default_backend')):
                found.append('[%s] %s' % (current, key))
        if found:
            problems.append('%s is merged after the role\'s file and sets %s: it would override the S3 stores on that'
                            ' host. Remove those settings from it.' % (path, ', '.join(sorted(set(found)))))
    return problems


class _GlobalsLoader(yaml.SafeLoader):
    """YAML as kolla-ansible's -e @FILE reads it, for the role's few flags: !vault and !unsafe values are
    opaque (never decrypted, never shown)."""


# What a !vault or !unsafe value reads as: plain data, so that the result can be a fact; never decrypted.
OPAQUE = '<!vault or !unsafe value, not read by glancestore.s3proxy>'


def _opaque(loader, node):
    return OPAQUE


_GlobalsLoader.add_constructor('!vault', _opaque)
_GlobalsLoader.add_constructor('!unsafe', _opaque)


def kolla_globals_vars(files):
    """The variables of globals.yml and globals.d/*.yml in kolla-ansible's order (later wins), from
    [[path, text], ...]; problems name the file and a line, never a value."""
    merged, problems = {}, []
    for path, text in files:
        if text.lstrip().startswith('$ANSIBLE_VAULT;'):
            problems.append('%s is encrypted with ansible-vault: the role cannot read the Glance flags in it. Keep'
                            ' glance_backend_*, enable_cinder and glance_ceph_backends in a file that is not'
                            ' encrypted (encrypt single values with !vault instead).' % path)
            continue
        try:
            data = yaml.load(text, Loader=_GlobalsLoader)  # noqa: S506 - SafeLoader subclass
        except yaml.YAMLError as e:
            mark = getattr(e, 'problem_mark', None)
            problems.append('%s is not valid YAML (line %s): kolla-ansible cannot read it either.'
                            % (path, mark.line + 1 if mark else '?'))
            continue
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append('%s must hold a YAML mapping of kolla-ansible variables, got a %s.'
                            % (path, type(data).__name__))
            continue
        merged.update(data)
    return {'vars': merged, 'problems': problems}


# kolla-ansible's own backends: ansible/roles/glance/defaults/main.yml (glance_backends, glance_ceph_backends)
# and ansible/group_vars/all/glance.yml (glance_backend_file), kolla-ansible 20.0.0 to 23.0.0.
def kolla_backends(kolla_globals, stores, where='globals.yml', overrides=None, own=None):
    """What kolla-ansible renders for Glance's backends, from the operator's globals.yml (a dict), and what
    that means for the role's stores: enabled_backends as kolla writes it, problems (stop) and warnings.
    ``overrides`` (path: text) are the glance-api.conf files kolla merges: ``own`` is the role's."""
    if kolla_globals is None:
        kolla_globals = {}
    if not isinstance(kolla_globals, dict):
        raise AnsibleFilterError('%s must hold a YAML mapping of kolla-ansible variables, got %s'
                                 % (where, type(kolla_globals).__name__))
    problems, warnings = [], []
    ceph = _kolla_flag(kolla_globals, 'glance_backend_ceph', False, where, problems)
    s3 = _kolla_flag(kolla_globals, 'glance_backend_s3', False, where, problems)
    file_store = _kolla_flag(kolla_globals, 'glance_backend_file', not (ceph or s3), where, problems)
    cinder = _kolla_flag(kolla_globals, 'enable_cinder', False, where, problems)
    backends = [('s3', 's3')] if s3 else []
    backends += [('file', 'file')] if file_store else []
    backends += [('http', 'http')] + ([('cinder', 'cinder')] if cinder else [])
    if ceph:
        ceph_backends = kolla_globals.get('glance_ceph_backends', [{'name': 'rbd', 'type': 'rbd', 'enabled': True}])
        if not isinstance(ceph_backends, list) or not all(isinstance(b, dict) and b.get('name') for b in ceph_backends):
            problems.append('glance_ceph_backends in %s must be a list of backends with a name.' % where)
            ceph_backends = []
        for backend in ceph_backends:
            # kolla: selectattr('enabled', 'equalto', true); an entry without 'enabled', or with "yes", is off.
            enabled = backend.get('enabled')
            templated = isinstance(enabled, str) and '{{' in enabled
            if templated or enabled is True or (isinstance(enabled, int) and enabled == 1):
                backends.append((str(backend['name']), str(backend.get('type', 'rbd'))))
    names = [s['name'] for s in stores]
    problems += _kolla_override_problems(
        dict((p, t) for p, t in (overrides or {}).items() if not p.endswith(('/global.conf', '/glance.conf'))),
        own, names)
    # global.conf and glance.conf are merged before the role's file, key by key: their enabled_backends
    # replaces kolla's, and the role's must keep it; what they set in a store's section stays.
    wanted = set(n.lower() for n in names)
    for path in sorted((p for p in (overrides or {}) if p.endswith(('/global.conf', '/glance.conf'))),
                       key=lambda p: p.endswith('/glance.conf')):  # kolla: global.conf, then glance.conf
        text = overrides[path]
        value = conf_value(text, 'DEFAULT', 'enabled_backends', None)
        if value is not None:
            backends = list(backend_entries(value))
        for section in re.findall(r'(?m)^\[([^\]\r\n]*)\]\s*$', text):
            if _oslo_group(section) in wanted:
                warnings.append('%s sets options in [%s], a store of the role: those the role does not write'
                                ' (proxy user, CA files, region, retries) stay in glance-api.conf.' % (path, section))
    for name, kind in backends:
        if name in names:
            problems.append('glance_s3_proxy_stores: store %s is kolla-ansible\'s own %s backend (enabled by %s):'
                            ' give the S3 store another name.' % (name, kind, where))
    if s3:
        # The role cannot take over kolla's [s3]: a store named s3 is refused by the role's validation
        # (a glance_store driver name), so the only way out is kolla's flag.
        problems.append('glance_backend_s3 is true in %s: kolla-ansible renders its own [s3] store, which would reach'
                        ' S3 without a proxy. Set glance_backend_s3: "no" there and give the S3 stores to the role'
                        ' (images already in kolla\'s s3 store keep locations of store s3: migrate them first).'
                        % where)
    datadir = kolla_globals.get('glance_file_datadir_volume', 'glance')
    if file_store and datadir == 'glance':
        warnings.append('glance_backend_file is true in %s (kolla-ansible\'s default without ceph or s3): kolla-ansible'
                        ' runs glance-api on the first host of group glance-api only (glance_api_hosts). For'
                        ' glance-api on every host, set glance_backend_file: "no" there; the S3 stores do not need'
                        ' it.' % where)
    return {'enabled_backends': ', '.join('%s:%s' % b for b in backends), 'problems': problems,
            'warnings': warnings}


class FilterModule(object):
    def filters(self):
        return {
            'glance_s3_proxy_effective_stores': effective_stores,
            'glance_s3_proxy_problems': problems,
            'glance_s3_proxy_enabled_backends': enabled_backends,
            'glance_s3_proxy_kolla_backends': kolla_backends,
            'glance_s3_proxy_kolla_globals_vars': kolla_globals_vars,
            'glance_s3_proxy_ca_files': ca_files,
            'glance_s3_proxy_conf_value': conf_value,
            'glance_s3_proxy_store_options': store_options,
            'oslo_value': oslo_value,
            'oslo_section': oslo_section,
        }
