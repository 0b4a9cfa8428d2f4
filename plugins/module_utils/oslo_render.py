# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Write values and section names into oslo.config files, safely for the tools that re-read them.

One function, ``render``, either refuses a value with a message that names the
variable, the problem and the fix (never the value: it may be a secret), or
returns text that the consumer reads back as exactly the original string:

- ``oslo``: the file is read by oslo.config only (plain style);
- ``kolla``: kolla-ansible's ``merge_configs`` runs the file through Ansible's
  templar first, then oslo.config reads the merged file;
- ``osa``: the text is a YAML scalar of an OpenStack-Ansible ``user_*.yml``
  file, loaded as templated extra vars; os_glance then writes it through
  ``config_template`` (RawConfigParser) into the file oslo.config reads.

This module imports nothing from Ansible, so the tests can run it beside the
real oslo.config in Glance's Python environment.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

CONSUMERS = ('oslo', 'kolla', 'osa')

# Sections glance-api reads for its own options. Frozen from glance 33.0.0 and
# glance_store 5.7.0 (PyPI): the union of
#   oslo-config-generator --format yaml --namespace NS
# for every namespace of glance's etc/oslo-config-generator/glance-api.conf
# (castellan.config, glance.api, glance.store, glance.multi_store,
# oslo.concurrency, oslo.messaging, oslo.db, oslo.policy,
# keystonemiddleware.auth_token, oslo.log, oslo.middleware.cors,
# oslo.middleware.healthcheck, oslo.middleware.http_proxy_to_wsgi, oslo.reports)
# plus glance, glance.cache, glance.scrubber, oslo.limit, osprofiler and
# keystonemiddleware.audit, and the groups registered by importing every
# glance module (cfg.CONF._groups). store_type_location_strategy is the section
# of older Glance releases. glance.multi_store's driver placeholders are
# backend ids, not sections of Glance: see STORE_DRIVER_NAMES.
GLANCE_SECTIONS = frozenset((
    'DEFAULT', 'audit_middleware_notifications', 'backend_defaults', 'barbican', 'barbican_service_user', 'cache',
    'cors', 'database', 'glance_download_opts', 'glance_download_properties', 'glance_store', 'healthcheck',
    'image_conversion', 'image_format', 'image_import_opts', 'import_filtering_opts', 'inject_metadata_properties',
    'key_manager', 'keystone_authtoken', 'oslo_concurrency', 'oslo_limit', 'oslo_messaging_kafka',
    'oslo_messaging_metrics', 'oslo_messaging_notifications', 'oslo_messaging_rabbit', 'oslo_messaging_tracing',
    'oslo_middleware', 'oslo_policy', 'oslo_reports', 'os_glance_staging_store', 'os_glance_tasks_store',
    'paste_deploy', 'profiler', 'profiler_jaeger', 'profiler_otlp', 'store_type_location_strategy', 'task',
    'taskflow_executor', 'vault', 'wsgi',
))
# Glance refuses every enabled_backends id starting with os_glance_ (its own
# reserved stores); oslo_* sections belong to the oslo libraries.
RESERVED_PREFIXES = ('os_glance_', 'oslo_')
# glance_store's driver names: kolla-ansible and OpenStack-Ansible use them as
# the ids of their own backends (kolla always renders http:http), so an S3
# store with such a name collides with their sections.
STORE_DRIVER_NAMES = frozenset(('cinder', 'file', 'http', 'rbd', 's3', 'swift', 'vmware'))

# Glance finds a backend's section as getattr(CONF, backend_id): an attribute of
# oslo.config's ConfigOpts shadows the section. Frozen from oslo.config 10.7.0,
# dir(cfg.ConfigOpts()) after it is called, less the names starting with '_'
# (all refused: dunders and private attributes).
CONFIG_OPTS_ATTRIBUTES = frozenset((
    'GroupAttr', 'StrSubWrapper', 'SubCommandAttr', 'Template', 'clear', 'clear_default', 'clear_override',
    'config_dirs', 'default_config_dirs', 'default_config_files', 'disallow_names', 'export_state', 'find_file',
    'get', 'get_location', 'import_group', 'import_opt', 'import_state', 'items', 'keys', 'list_all_sections',
    'log_opt_values', 'mutate_config_files', 'print_help', 'print_usage', 'prog', 'project', 'register_cli_opt',
    'register_cli_opts', 'register_group', 'register_mutate_hook', 'register_opt', 'register_opts',
    'reload_config_files', 'reset', 'set_default', 'set_override', 'supported_shell_completion', 'unregister_opt',
    'unregister_opts', 'usage', 'values', 'version',
))

NAME_RE = r'[A-Za-z0-9_-]+'
BACKEND_TYPE_RE = r'[a-z0-9_]+'

# Cc (C0, DEL, C1: includes \r \n \t \x0b \x0c \x1c-\x1f \x85), the Unicode line
# and paragraph separators, and lone surrogates (they cannot be written as UTF-8).
_UNWRITABLE_RE = re.compile(u'[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]')
_JINJA_MARKERS = ('{{', '{%', '{#', '}}', '%}', '#}')
_SEMICOLON_AFTER_SPACE_RE = re.compile(r'\s;')


class RenderError(ValueError):
    """A value or name that cannot be written safely. The message never holds the value."""


def _text(value, what):
    if value is None:
        return ''
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise RenderError('%s is a %s: it must be a string, an integer or a boolean.' % (what, type(value).__name__))


def oslo_problem(text):
    """Why oslo.config would not read ``text`` back exactly as written (after '$' doubling), or None."""
    if _UNWRITABLE_RE.search(text):
        return ('contains a control character (a line break, carriage return, tab or other Unicode Cc character,'
                ' U+2028/U+2029, or a lone surrogate): oslo.config would read another line or another value.'
                ' Remove it')
    if text[:1].isspace() or text[-1:].isspace():
        return 'starts or ends with whitespace, which oslo.config strips. Remove it'
    if text[:1] in ('"', "'") and text[:1] == text[-1:]:
        return ('starts and ends with the same quote character, which oslo.config strips. Remove the quotes,'
                ' or change the value')
    return None


def yaml_double_quoted(text):
    """A YAML double-quoted scalar of ``text``, in ASCII (every other character escaped)."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in ('"', '\\'):
            out.append('\\' + char)
        elif 0x20 <= code < 0x7f:
            out.append(char)
        elif code <= 0xffff:
            out.append('\\u%04x' % code)
        else:
            out.append('\\U%08x' % code)
    out.append('"')
    return ''.join(out)


def escape_dollars(text):
    """``text`` with every '$' escaped for oslo.config's string substitution.

    oslo.config reads '$name' and '${name}' as references and '$$' as '$'; before that it turns every '\\$'
    into '$$'. So '$' is written '$$', and a backslash before a '$' is written as two backslashes before one '$':
    oslo.config makes '\\$$' of them, then '\\$'.
    """
    return text.replace('$', '$$').replace('\\$$', '\\\\$')


def read_value(written):
    """What oslo.config reads for ``key = written`` (without references to other options): the inverse of render."""
    value = written.strip()
    if value and value[0] == value[-1] and value[0] in ('"', "'"):
        value = value[1:-1]
    return value.replace('\\$', '$$').replace('$$', '$')


def render(value, what='a configuration value', consumer='oslo'):
    """``value`` written for ``consumer``, or RenderError naming ``what`` and the fix.

    ``oslo`` and ``kolla`` return the text after ``key = ``; ``osa`` returns a
    YAML scalar: double-quoted text (``!unsafe`` when it holds a Jinja
    delimiter), plain booleans and integers.
    """
    if consumer not in CONSUMERS:
        raise RenderError('consumer must be one of %s, not %r.' % (', '.join(CONSUMERS), consumer))
    text = _text(value, what)
    problem = oslo_problem(text)
    if problem:
        raise RenderError('%s %s.' % (what, problem))
    written = escape_dollars(text)
    if consumer == 'osa':
        if _SEMICOLON_AFTER_SPACE_RE.search(written):
            raise RenderError('%s contains a ";" after whitespace: OpenStack-Ansible\'s config_template cuts the'
                              ' value there (inline comment). Remove the whitespace before ";".' % what)
        if isinstance(value, (bool, int)):
            return written
        if any(marker in written for marker in _JINJA_MARKERS):
            # Extra vars are templated: !unsafe keeps the text. Only here: ansible-core 2.19 resolves the type of
            # an !unsafe scalar as if it were plain, so !unsafe "00", "true" or "" would load as 0, True or None.
            # A text holding a Jinja delimiter never resolves to another type.
            return '!unsafe ' + yaml_double_quoted(written)
        return yaml_double_quoted(written)
    if consumer == 'kolla' and any(marker in written for marker in _JINJA_MARKERS):
        if 'endraw' in written.lower():
            raise RenderError('%s contains Jinja delimiters and the word "endraw": kolla-ansible\'s merge_configs'
                              ' templates the file, and no raw block can protect it. Change the value.' % what)
        # merge_configs templates every source; a raw block hands the text through unchanged. '+%}' keeps the
        # line break after the block when trim_blocks is on.
        return '{% raw %}' + written + '{% endraw +%}'
    return written


def name_problem(name, what, store=True, is_section=True):
    """Why ``name`` cannot be a backend id and section name, or None.

    ``store`` is true for the role's S3 stores (their section is written by the
    role); false for the operator's other backends (``NAME:TYPE`` entries).
    ``is_section`` false checks only the form (legacy mode writes no section).
    """
    if not isinstance(name, str) or not re.fullmatch(NAME_RE, name):
        return ('%s: name %r must be a backend id of letters, digits, "_" or "-".'
                % (what, name if isinstance(name, str) else type(name).__name__))
    if not is_section:
        return None
    if name.startswith('_') or name in CONFIG_OPTS_ATTRIBUTES:
        return ('%s: name %r starts with "_" or is an attribute of oslo.config\'s ConfigOpts, which hides a section'
                ' of that name from Glance: choose another backend id.' % (what, name))
    low = name.lower()
    # oslo.config matches section names case-insensitively (except DEFAULT): check them all in lower case.
    if low in set(s.lower() for s in GLANCE_SECTIONS) or low.startswith(RESERVED_PREFIXES):
        return ('%s: name %r is reserved by Glance (a section Glance or an oslo library reads for its own'
                ' options): choose another backend id.' % (what, name))
    if store and low in STORE_DRIVER_NAMES:
        return ('%s: name %r is a glance_store driver name, which kolla-ansible and OpenStack-Ansible use for their'
                ' own backends: choose another backend id, for example %s.' % (what, name, low + '_s3proxy'))
    return None


def section(name, what='a section name', store=True):
    """``name`` as a section header's name, or RenderError."""
    problem = name_problem(name, what, store)
    if problem:
        raise RenderError(problem)
    return name


def backend_entry_problem(entry, what):
    """Why ``entry`` is not a valid ``NAME:TYPE`` entry of enabled_backends, or None."""
    if not isinstance(entry, str) or ':' not in entry:
        return '%s must be written NAME:TYPE, for example file:file.' % what
    name, kind = entry.split(':', 1)
    problem = name_problem(name.strip(), what, store=False)
    if problem:
        return problem
    if not re.fullmatch(BACKEND_TYPE_RE, kind.strip()):
        return ('%s: type %r must be a glance_store type of lower-case letters, digits or "_", for example file.'
                % (what, kind.strip()))
    return None
