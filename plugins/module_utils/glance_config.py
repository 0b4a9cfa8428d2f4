# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Read one S3 store's settings the way glance-api reads them.

``read_glance_settings(path, backend=None, config_dirs=None, reader=None)``
returns the store's settings under the s3_proxy_check module's parameter
names, plus where each value came from. Two readers sit behind it:

``glance_store`` (used when ``oslo_config`` and ``glance_store`` import, that
is when this runs with Glance's own Python)
    Builds a fresh ``cfg.ConfigOpts`` exactly as glance-api does, registers
    glance_store's options as glance does, lets glance_store load and
    configure the ``s3`` store (``configure(re_raise_bsc=True)``) and builds
    the store's botocore client with the driver's own ``_create_s3_client``.
    The proxy, endpoint, credentials, region and addressing style are read
    back from that client. When the glance-store-s3proxy extension is not
    active in this interpreter, the client has no proxies and the result says
    so (``proxy_host`` None); it never falls back to the file's options.

``oslo_rules`` (everywhere else, for example on a deploy host)
    A small reader of oslo.config's rules in pure Python. It assumes the
    extension is active (it reports the proxy the options ask for). It agrees
    with oslo.config or raises ``CheckError('config', ...)``; it never guesses.

Which files glance-api reads (glance 33.0.0 ``glance/common/wsgi_app.py``
``init_app``, oslo.config 10.7.0 ``cfg.py``)
    glance-api (WSGI) calls ``CONF([], project='glance', prog='glance-api',
    default_config_files=files)`` without ``default_config_dirs``:

    1. ``files`` is ``$OS_GLANCE_CONFIG_DIR/glance-image-import.conf`` (only if
       it exists) then ``$OS_GLANCE_CONFIG_DIR/glance-api.conf``
       (``OS_GLANCE_CONFIG_DIR`` defaults to ``/etc/glance``). Here the
       directory of ``path`` plays that part.
    2. With ``default_config_dirs=None``, oslo.config uses
       ``find_config_dirs('glance', 'glance-api')``: for ``glance.conf.d``
       and then ``glance-api.conf.d`` it takes the FIRST that exists of
       ``~/.glance/``, ``~/``, ``/etc/glance/``, ``/etc/``,
       ``$SNAP_COMMON/etc/glance/``, ``$SNAP/etc/glance/``. The directories do
       NOT follow ``path``: ``/srv/x/glance-api.conf`` still gets
       ``/etc/glance/glance-api.conf.d``, and ``~`` is the home of the user
       running the reader (glance-api runs as the glance user). Pass
       ``config_dirs`` to name them explicitly.
    3. Each directory's ``*.conf`` files (``glob``, so no dot files) are read
       in ``sorted()`` order of their full paths, after all the files of 1:
       ``10-x.conf`` sorts before ``9-x.conf``.
    4. A missing or unreadable file of 1 or of a directory stops glance-api.

How a value is found (oslo.config ``_do_get``)
    environment variable ``OS_<GROUP>__<OPTION>`` (upper case), then the
    newest file that sets the key in the group's section (section names
    compare lower-cased, except ``DEFAULT``; within a file the last
    assignment wins), then the option's default. ``[DEFAULT]`` never falls
    through into other sections. Multi-store (``[DEFAULT] enabled_backends``
    set): glance_store reads ``[NAME]`` and, when that gives None (unset, or
    an empty integer), ``[backend_defaults]``, then the default. Legacy:
    ``[glance_store]`` only, and glance_store loads the S3 store only when
    ``[glance_store] stores`` lists it.

oslo.config's ini syntax (``oslo_config/iniparser.py``)
    Universal newlines (``\\r``, ``\\r\\n``, ``\\n``); each line is
    right-stripped; a blank line ends a multi-line value; a line starting with
    a space or tab continues the previous value (joined with a newline, left
    stripped); ``#`` and ``;`` start a comment only at the very start of a
    line; ``[name]`` starts a section; ``key = value`` or ``key: value``
    (whichever separator comes first); key and value are stripped, then ONE
    pair of matching surrounding quotes is removed from the first line of the
    value. Then ``\\$`` and ``$$`` read as a literal ``$`` and ``$name`` or
    ``${name}`` is replaced by another option's value. This reader refuses
    ``$name`` (naming the key, never the value). Booleans are
    true/1/on/yes and false/0/off/no, any case; integers use ``int()``, an
    empty integer is None.

``get_location`` is not used for ``_locations``: oslo.config reports the
last file that has the section at all (and an empty file name when the
section is written in another case), not the file that set the value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import glob
import io
import os
import re
import string

try:
    from urllib.parse import unquote, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urllib import unquote  # type: ignore
    from urlparse import urlsplit  # type: ignore

from ansible_collections.glancestore.s3proxy.plugins.module_utils.failures import CheckError
from ansible_collections.glancestore.s3proxy.plugins.module_utils.host_address import oslo_host_address
from ansible_collections.glancestore.s3proxy.plugins.module_utils.proxy_url import scrub
from ansible_collections.glancestore.s3proxy.plugins.module_utils.validation import credential_problems


RESERVED_STORES = {'os_glance_staging_store': 'file', 'os_glance_tasks_store': 'file'}
SHARED_GROUP = 'backend_defaults'
LEGACY_GROUP = 'glance_store'
S3_ENTRIES = ('s3', 'glance.store.s3.Store')
SECRET_OPTIONS = frozenset(('s3_store_access_key', 's3_store_secret_key', 's3_store_proxy_password'))

# The S3 driver's options this reader uses: (type, default, limits/choices).
# tests/functional/glance_config checks this table against the registered options.
S3_OPTIONS = {
    's3_store_host': ('str', None, None),
    's3_store_region_name': ('str', '', None),
    's3_store_access_key': ('str', None, None),
    's3_store_secret_key': ('str', None, None),
    's3_store_bucket': ('str', None, None),
    's3_store_bucket_url_format': ('str', 'auto', None),
    's3_store_large_object_size': ('int', 100, (0, None)),
    's3_store_large_object_chunk_size': ('int', 10, (None, None)),
    's3_store_thread_pools': ('int', 10, (None, None)),
    's3_store_cacert': ('str', '', None),
    's3_store_enable_data_integrity_protection': ('bool', False, None),
    's3_store_request_checksum_calculation': ('str', 'when_required', ('when_required', 'when_supported')),
    's3_store_response_checksum_validation': ('str', 'when_required', ('when_required', 'when_supported')),
    # glance-store-s3proxy
    's3_store_enable_proxy': ('bool', False, None),
    's3_store_proxy_host': ('host', None, None),
    's3_store_proxy_port': ('int', 8080, (1, 65535)),
    's3_store_proxy_user': ('str', None, None),
    's3_store_proxy_password': ('str', None, None),
    's3_store_proxy_scheme': ('str', 'http', ('http', 'https')),
    's3_store_proxy_cacert': ('str', None, None),
    's3_store_max_retries': ('int', None, (0, None)),
}
PROXY_OPTIONS = (
    's3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port', 's3_store_proxy_user',
    's3_store_proxy_password', 's3_store_proxy_scheme', 's3_store_proxy_cacert', 's3_store_max_retries',
)
# glance_store's _option_get refuses these when falsy ("Could not find ...").
REQUIRED_OPTIONS = ('s3_store_host', 's3_store_access_key', 's3_store_secret_key', 's3_store_bucket',
                    's3_store_large_object_chunk_size', 's3_store_thread_pools', 's3_store_bucket_url_format')
MIN_CHUNK_MB = 5


# --------------------------------------------------------------------------
# Which files
# --------------------------------------------------------------------------

def _fixpath(path):
    return os.path.abspath(os.path.expanduser(path))


def glance_config_dirs():
    """oslo.config's ``find_config_dirs(project='glance', prog='glance-api')``."""
    snap = os.environ.get('SNAP')
    snap_c = os.environ.get('SNAP_COMMON')
    bases = [_fixpath(os.path.join('~', '.glance')), _fixpath('~'), os.path.join('/etc', 'glance'), '/etc']
    if snap_c:
        bases.append(os.path.join(snap_c, 'etc', 'glance'))
    if snap:
        bases.append(os.path.join(snap, 'etc', 'glance'))
    found = []
    for name in ('glance.conf.d', 'glance-api.conf.d'):
        for base in bases:
            candidate = os.path.join(base, name)
            if os.path.exists(candidate):
                found.append(candidate)
                break
    return found


def glance_default_config_files(path):
    """glance-api's ``default_config_files``, with the directory of ``path`` as OS_GLANCE_CONFIG_DIR."""
    image_import = os.path.join(os.path.dirname(path), 'glance-image-import.conf')
    files = []
    if os.path.exists(image_import) and _fixpath(image_import) != _fixpath(path):
        files.append(image_import)
    files.append(path)
    return files


def glance_config_files(path, config_dirs=None):
    """Every file glance-api reads, in oslo.config's order (later files win)."""
    files = [_fixpath(f) for f in glance_default_config_files(path)]
    for config_dir in glance_config_dirs() if config_dirs is None else config_dirs:
        if os.path.exists(config_dir):
            files.extend(_fixpath(f) for f in sorted(glob.glob(os.path.join(config_dir, '*.conf'))))
    return files


# --------------------------------------------------------------------------
# oslo.config's ini syntax
# --------------------------------------------------------------------------

def _normalize_group(name):
    return name if name == 'DEFAULT' else name.lower()


class _IniFile:
    """One parsed file: the assignments in order, as (normalized section, raw section, key, value)."""

    def __init__(self, filename, main=False):
        self.filename = filename
        self.assignments = []
        self._parse(main)

    def _error(self, lineno, msg):
        # The line itself is never quoted: it may hold a secret.
        return CheckError('config', 'cannot parse %s: at line %d, %s (oslo.config refuses this file, so glance-api'
                                    ' would not start).' % (self.filename, lineno, msg))

    def _read_lines(self, main):
        try:
            with io.open(self.filename, 'r', encoding='utf-8', newline=None) as handle:
                return handle.readlines()
        except UnicodeDecodeError:
            raise CheckError('config', '%s is not UTF-8 text: this reader cannot tell how glance-api decodes it.'
                             % self.filename)
        except (IOError, OSError) as exc:
            if exc.errno == errno.ENOENT:
                if main:
                    raise CheckError('config', 'glance_config %r does not exist: give the path of the glance-api.conf'
                                               ' Glance reads.' % self.filename)
                raise CheckError('config', '%s is listed but missing (a broken link?): glance-api would not start.'
                                 % self.filename)
            if exc.errno == errno.EACCES:
                if main:
                    raise CheckError('config', 'glance_config %r cannot be read: check its permissions.' % self.filename)
                raise CheckError('config', '%s cannot be read: check its permissions.' % self.filename)
            raise CheckError('config', 'cannot read %s: %s' % (self.filename, exc.strerror or type(exc).__name__))

    def _parse(self, main):
        section = [None]
        key = None
        value = []
        lineno = 0

        def flush(key, value, lineno):
            if section[0] is None:
                raise self._error(lineno, 'Section must be started before assignment')
            self.assignments.append((_normalize_group(section[0]), section[0], key, '\n'.join(value)))

        for line in self._read_lines(main):
            lineno += 1
            line = line.rstrip()
            if not line:
                if key:
                    flush(key, value, lineno)
                    key, value = None, []
                continue
            if line.startswith((' ', '\t')):
                if key is None:
                    raise self._error(lineno, 'Unexpected continuation line')
                value.append(line.lstrip())
                continue
            if key:
                flush(key, value, lineno)
                key, value = None, []
            if line.startswith('['):
                if not line.endswith(']'):
                    raise self._error(lineno, 'Invalid section (must end with ])')
                if len(line) <= 2:
                    raise self._error(lineno, 'Empty section name')
                section[0] = line[1:-1]
            elif line.startswith(('#', ';')):
                continue
            else:
                key, value = _split_key_value(line)
                if key is None:
                    raise self._error(lineno, "No ':' or '=' found in assignment")
                if not key:
                    raise self._error(lineno, 'Key cannot be empty')
        if key:
            flush(key, value, lineno)

    def lookup(self, group, name):
        """(value, raw section) of the last assignment of ``name`` in ``group``, or None."""
        group = _normalize_group(group)
        found = None
        for norm, raw, key, value in self.assignments:
            if norm == group and key == name:
                found = (value, raw)
        return found


def _split_key_value(line):
    colon = line.find(':')
    equal = line.find('=')
    if colon < 0 and equal < 0:
        return None, None
    if colon < 0 or (0 <= equal < colon):
        key, value = line[:equal], line[equal + 1:]
    else:
        key, value = line[:colon], line[colon + 1:]
    value = value.strip()
    if value and value[0] == value[-1] and value.startswith(('"', "'")):
        value = value[1:-1]
    return key.strip(), [value]


# --------------------------------------------------------------------------
# oslo.config's value rules
# --------------------------------------------------------------------------

class _Template(string.Template):
    idpattern = r'[_a-z][\._a-z0-9]*'


class _Interpolation(Exception):
    pass


class _RefuseLookups:
    def __getitem__(self, key):
        raise _Interpolation(key)


def convert(kind, value, limits=None):
    """Convert a (substituted) string as oslo.config's types do; raises ValueError."""
    if kind == 'bool':
        lowered = value.lower()
        if lowered in ('true', '1', 'on', 'yes'):
            return True
        if lowered in ('false', '0', 'off', 'no'):
            return False
        raise ValueError('not a boolean (true/1/on/yes or false/0/off/no)')
    if kind == 'int':
        if value.strip() == '':
            return None
        number = int(value)
        low, high = limits or (None, None)
        if low is not None and number < low:
            raise ValueError('should be greater than or equal to %s' % low)
        if high is not None and number > high:
            raise ValueError('should be less than or equal to %s' % high)
        return number
    if kind == 'host':
        return oslo_host_address(value)
    if kind == 'dict':
        return _parse_dict(value)
    if kind == 'list':
        text = value.strip().rstrip(',')
        return [item.strip() for item in text.split(',')] if text else []
    if limits is not None and value not in limits:
        raise ValueError('valid values are %s' % ', '.join(limits))
    return value


def _parse_dict(value):
    """oslo.config's types.Dict with string values, for ``enabled_backends``."""
    result = {}
    text = value.strip()
    if text == '':
        return result
    pairs = text.split(',')
    while pairs:
        pair = pairs.pop(0)
        while ':' not in pair:
            if not pairs:
                raise ValueError('should be NAME:VALUE pairs separated by ","')
            pair += ',' + pairs.pop(0)
        key, val = pair.split(':', 1)
        key, val = key.strip(), val.strip()
        if key == '':
            raise ValueError('a key name is empty')
        if key in result:
            raise ValueError('duplicate key %s' % key)
        result[key] = val
    return result


def parse_enabled_backends(value):
    """``[DEFAULT] enabled_backends`` as oslo.config's DictOpt reads it; raises ValueError."""
    return _parse_dict(value)


def backend_entries(enabled_backends):
    """``[DEFAULT] enabled_backends`` (``id:type, ...``) as a list of (id, type), in order; entries without ':' are skipped."""
    entries = []
    for entry in (enabled_backends or '').split(','):
        if ':' in entry:
            name, kind = entry.split(':', 1)
            entries.append((name.strip(), kind.strip()))
    return entries


class _Values:
    """oslo.config's lookup over the parsed files (newest file first)."""

    def __init__(self, files):
        self.files = files

    def raw(self, group, name):
        """(string, location) or (None, None); environment first, then the newest file."""
        env_name = 'OS_%s__%s' % (group.upper(), name.upper())
        if env_name in os.environ:
            return os.environ[env_name], 'environment %s' % env_name
        for parsed in reversed(self.files):
            found = parsed.lookup(group, name)
            if found is not None:
                return found[0], '%s [%s]' % (parsed.filename, found[1])
        return None, None

    def get(self, group, name, kind, default, limits=None):
        """(converted value, location); location 'default' when nothing set it."""
        text, location = self.raw(group, name)
        if location is None:
            return default, 'default'
        where = '%s (from %s)' % (name, location)
        if '\\$' in text:
            text = text.replace('\\$', '$$')
        try:
            text = _Template(text).safe_substitute(_RefuseLookups())
        except _Interpolation as exc:
            ref = '' if name in SECRET_OPTIONS else ' ($%s)' % exc.args[0]
            raise CheckError('config', '%s refers to another option%s: oslo.config interpolates $name there and this'
                                       ' reader does not. Write a literal $ as $$.' % (where, ref))
        try:
            return convert(kind, text, limits), location
        except ValueError as exc:
            shown = '' if name in SECRET_OPTIONS or '@' in text else ' %r' % text  # user:password@host is a secret too
            raise CheckError('config', '%s has an invalid value%s: %s.' % (where, shown, exc))


# --------------------------------------------------------------------------
# The pure reader
# --------------------------------------------------------------------------

def read_store_options(path, backend=None, config_dirs=None):
    """The pure reader's option values: (section, {option: value}, {option: location}, files).

    Raises CheckError where oslo.config, glance_store or glance-store-s3proxy would refuse the store.
    """
    files = glance_config_files(path, config_dirs)
    main = _fixpath(path)
    values = _Values([_IniFile(f, main=(f == main)) for f in files])
    locations = {}

    source, _loc = values.raw('DEFAULT', 'config_source')
    if source is not None and convert('list', source):
        raise CheckError('config', '[DEFAULT] config_source is set: oslo.config then also reads remote sources,'
                                   ' which this reader cannot; run the check with Glance\'s Python.')

    enabled, locations['enabled_backends'] = values.get('DEFAULT', 'enabled_backends', 'dict', None)
    section, store_type = _check_mode(path, backend, enabled or {})
    if not enabled:
        stores, locations['stores'] = values.get(LEGACY_GROUP, 'stores', 'list', ['file', 'http'])
        if not set(stores) & set(S3_ENTRIES):
            raise CheckError('config', '[glance_store] stores = %s does not list s3: in legacy mode glance-api does not'
                                       ' load the S3 store, so its [glance_store] S3 options are unused. Add s3 to'
                                       ' stores, or configure enabled_backends.' % ', '.join(stores))
    elif store_type != 's3':
        raise CheckError('config', 'glance_backend %r is not an s3 entry of [DEFAULT] enabled_backends in %s (found: %s):'
                                   ' name one of its s3 stores.' % (backend, path, _show_backends(enabled)))

    opts = {}
    for name, (kind, default, limits) in S3_OPTIONS.items():
        if name in ('s3_store_request_checksum_calculation', 's3_store_response_checksum_validation'):
            continue
        opts[name], locations[name] = _store_value(values, section, name, kind, default, limits)
    if opts['s3_store_enable_data_integrity_protection']:
        for name in ('s3_store_request_checksum_calculation', 's3_store_response_checksum_validation'):
            kind, default, limits = S3_OPTIONS[name]
            opts[name], locations[name] = _store_value(values, section, name, kind, default, limits)

    problems = ['Could not find %s in configuration options' % name for name in REQUIRED_OPTIONS if not opts[name]]
    chunk = opts['s3_store_large_object_chunk_size']
    if chunk and chunk < MIN_CHUNK_MB:
        problems.append('s3_store_large_object_chunk_size must be at least %d MB' % MIN_CHUNK_MB)
    if opts['s3_store_thread_pools'] and opts['s3_store_thread_pools'] <= 0:
        problems.append('s3_store_thread_pools must be a positive integer')
    problems.extend(_proxy_problems(opts, section, path))
    if problems:
        raise CheckError('config', 'glance_store would refuse S3 store [%s]: %s.' % (section, '; '.join(problems)))
    return section, opts, locations, files


def _read_with_oslo_rules(path, backend, config_dirs):
    section, opts, locations, files = read_store_options(path, backend, config_dirs)
    enabled_proxy = opts['s3_store_enable_proxy']
    settings = {
        'endpoint_url': opts['s3_store_host'],
        'bucket': opts['s3_store_bucket'],
        'access_key': opts['s3_store_access_key'],
        'secret_key': opts['s3_store_secret_key'],
        'region': opts['s3_store_region_name'] or None,
        'addressing_style': opts['s3_store_bucket_url_format'],
        'ca_bundle': opts['s3_store_cacert'] or None,
        'proxy_host': opts['s3_store_proxy_host'] if enabled_proxy else None,
        'proxy_port': opts['s3_store_proxy_port'] if enabled_proxy else 8080,
        'proxy_user': (opts['s3_store_proxy_user'] or None) if enabled_proxy else None,
        'proxy_password': (opts['s3_store_proxy_password'] or None) if enabled_proxy else None,
        'proxy_scheme': opts['s3_store_proxy_scheme'] if enabled_proxy else 'http',
        'proxy_ca_bundle': (opts['s3_store_proxy_cacert'] or None) if enabled_proxy else None,
        '_section': section,
        '_reader': 'oslo_rules',
        '_locations': locations,
        '_files': files,
        '_extension_active': None,
    }
    return settings


def _store_value(values, section, name, kind, default, limits):
    if section == LEGACY_GROUP:
        return values.get(section, name, kind, default, limits)
    # BackendGroupConfiguration: [NAME] (default None), and [backend_defaults] when that gives None.
    value, location = values.get(section, name, kind, None, limits)
    if value is None:
        value, location = values.get(SHARED_GROUP, name, kind, default, limits)
    return value, location


def _proxy_problems(opts, section, path):
    """glance-store-s3proxy's checks (proxy.validate), except the CA file's existence."""
    problems = []
    if not opts['s3_store_enable_proxy']:
        return problems
    port = opts['s3_store_proxy_port']
    if not opts['s3_store_proxy_host']:
        problems.append('s3_store_enable_proxy is true in [%s] of %s but s3_store_proxy_host is empty:'
                        ' set s3_store_proxy_host' % (section, path))
    if port is None or not 1 <= port <= 65535:
        problems.append('s3_store_proxy_port %s is outside 1-65535' % port)
    for field, rule in credential_problems(opts['s3_store_proxy_user'], opts['s3_store_proxy_password']):
        if rule == 'alone':
            other = 'proxy_password' if field == 'proxy_user' else 'proxy_user'
            problems.append('s3_store_%s is set without s3_store_%s' % (field, other))
        else:
            problems.append('s3_store_%s has non-ASCII characters (Basic proxy auth is ASCII only)' % field)
    return problems


def _show_backends(enabled):
    return ', '.join('%s:%s' % item for item in enabled.items()) or 'none'


def _check_mode(path, backend, enabled):
    """(section, store type) for the requested store; raises CheckError when Glance would not use it."""
    if any(name.startswith('os_glance_') for name in enabled):
        raise CheckError('config', "[DEFAULT] enabled_backends in %s uses the reserved 'os_glance_' prefix:"
                                   ' glance-api refuses to start.' % path)
    if backend:
        if not enabled:
            raise CheckError('config', 'glance_backend %r is not an s3 entry of [DEFAULT] enabled_backends in %s'
                                       ' (found: none): Glance runs in legacy mode; leave glance_backend unset to read'
                                       ' [glance_store].' % (backend, path))
        return backend, enabled.get(backend)
    if enabled:
        s3 = [name for name, kind in enabled.items() if kind == 's3']
        raise CheckError('config', 'Glance runs multi-store ([DEFAULT] enabled_backends = %s in %s), so it ignores'
                                   ' [glance_store] S3 options: set glance_backend to one of its s3 stores (%s).'
                         % (_show_backends(enabled), path, ', '.join(s3) or 'none'))
    return LEGACY_GROUP, 's3'


def _raw_secrets(path, config_dirs):
    """Every value written for a secret option, to mask them in messages. Best effort."""
    secrets = []
    try:
        for filename in glance_config_files(path, config_dirs):
            for _norm, _raw, key, value in _IniFile(filename).assignments:
                if key in SECRET_OPTIONS and value:
                    secrets.extend((value, value.replace('$$', '$').replace('\\$', '$')))
    except CheckError:
        pass
    for name, value in os.environ.items():
        if name.startswith('OS_') and name.split('__')[-1].lower() in SECRET_OPTIONS and value:
            secrets.append(value)
    return secrets


# --------------------------------------------------------------------------
# glance_store itself
# --------------------------------------------------------------------------

def glance_store_available():
    """True when oslo_config and glance_store import in this interpreter."""
    try:
        _import_glance_store()
    except ImportError:
        return False
    return True


def _import_glance_store():
    # pylint: disable=import-outside-toplevel,unused-import
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        from oslo_config import cfg  # noqa: F401
        import glance_store  # noqa: F401
        import stevedore.driver  # noqa: F401
    return cfg, glance_store, stevedore.driver


def _safe_failure(exc, path, backend, config_dirs, what):
    """A CheckError for an exception from oslo.config/glance_store that never carries a secret."""
    # pylint: disable=import-outside-toplevel
    from oslo_config import cfg
    pure_msg = None
    try:
        _read_with_oslo_rules(path, backend, config_dirs)
    except CheckError as pure:
        pure_msg = pure.msg
    if isinstance(exc, (cfg.ConfigFileParseError, cfg.NoSuchOptError, cfg.TemplateSubstitutionError)):
        # Their text quotes the offending line or the name after '$' (which may be part of a secret).
        msg = pure_msg or ('%s while %s (details withheld: they may quote a secret).' % (type(exc).__name__, what))
        return CheckError('config', msg)
    if pure_msg:  # the pure reader names the same problem without quoting a value that may be secret
        return CheckError('config', pure_msg)
    text = scrub('%s while %s: %s' % (type(exc).__name__, what, exc), _raw_secrets(path, config_dirs))
    # Credentials written into a host (user:password@host) are no known secret: hide any user info.
    return CheckError('config', re.sub(r'''[^\s'"(]*@''', '***@', text))


class _quiet_logger:  # pylint: disable=invalid-name
    """Raise one logger's level for a block."""

    def __init__(self, name):
        import logging  # pylint: disable=import-outside-toplevel
        self._logger = logging.getLogger(name)
        self._level = None

    def __enter__(self):
        self._level = self._logger.level
        self._logger.setLevel(100)
        return self

    def __exit__(self, *exc):
        self._logger.setLevel(self._level)
        return False


def _file_location(parsed_files, group, name):
    """oslo.config's file lookup (newest file first), read with oslo.config's own parser."""
    env_name = 'OS_%s__%s' % (group.upper(), name.upper())
    if env_name in os.environ:
        return 'environment %s' % env_name
    for filename, sections in reversed(parsed_files):
        raw_found = None
        for raw, keys in sections.items():
            if _normalize_group(raw) == _normalize_group(group) and name in keys:
                raw_found = raw
        if raw_found is not None:
            return '%s [%s]' % (filename, raw_found)
    return 'default'


def _oslo_parse_files(cfg, files):
    parsed = []
    for filename in files:
        sections = {}
        cfg.ConfigParser(filename, sections).parse()
        parsed.append((filename, sections))
    return parsed


def _make_client(store, conf, backend):
    """The store's botocore client, from the driver's own ``_create_s3_client``."""
    # pylint: disable=import-outside-toplevel,protected-access
    import inspect
    create = store._create_s3_client
    if not inspect.signature(create).parameters:
        return create()
    # glance_store before 5.6.0: _create_s3_client(self, loc).
    from glance_store._drivers import s3 as s3_driver
    specs = {'scheme': store.scheme, 'bucket': store.bucket, 'key': 'glance-config-probe',
             's3serviceurl': getattr(store, 'full_s3_host', None) or store.s3_host,
             'accesskey': store.access_key, 'secretkey': store.secret_key}
    try:
        loc = s3_driver.StoreLocation(specs, conf, backend_group=backend)
    except TypeError:
        loc = s3_driver.StoreLocation(specs, conf)
    return create(loc)


def parse_proxy_url(url):
    """(scheme, host, port, user, password) of a botocore proxy URL; the host keeps its case, IPv6 unbracketed."""
    parts = urlsplit(url)
    netloc = parts.netloc
    user = password = None
    if '@' in netloc:
        userinfo, netloc = netloc.rsplit('@', 1)
        user, _sep, password = userinfo.partition(':')
        user, password = unquote(user), unquote(password)
    port = None
    if netloc.startswith('['):
        host, _sep, rest = netloc[1:].partition(']')
        if rest.startswith(':') and rest[1:]:
            port = int(rest[1:])
    elif ':' in netloc:
        host, port = netloc.rsplit(':', 1)
        port = int(port)
    else:
        host = netloc
    if port is None:
        port = 443 if parts.scheme == 'https' else 80
    return parts.scheme, host, port, user or None, password or None


def _client_credentials(client):
    # pylint: disable=protected-access
    getter = getattr(client, '_get_credentials', None)
    creds = getter() if getter else getattr(client._request_signer, '_credentials', None)
    if creds is None:
        return None, None
    frozen = creds.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key


def _read_with_glance_store(path, backend, config_dirs):
    cfg, glance_store, st_driver = _import_glance_store()
    from glance_store import exceptions as gs_exceptions  # pylint: disable=import-outside-toplevel

    conf = cfg.ConfigOpts()
    conf.register_opt(cfg.DictOpt('enabled_backends'))
    default_files = glance_default_config_files(path)
    if not os.path.isfile(path):
        raise CheckError('config', 'glance_config %r does not exist: give the path of the glance-api.conf Glance reads.' % path)
    try:
        conf([], project='glance', prog='glance-api', default_config_files=default_files,
             default_config_dirs=None if config_dirs is None else list(config_dirs))
    except cfg.ConfigFilesPermissionDeniedError as exc:
        raise CheckError('config', 'glance_config %r cannot be read: check its permissions (%s).'
                         % (path, ', '.join(exc.config_files)))
    except cfg.ConfigFilesNotFoundError as exc:
        raise CheckError('config', 'oslo.config cannot find %s: glance-api would not start.' % ', '.join(exc.config_files))
    except Exception as exc:  # pylint: disable=broad-except
        raise _safe_failure(exc, path, backend, config_dirs, 'oslo.config read the files')

    files = [_fixpath(f) for f in default_files]
    for config_dir in conf.default_config_dirs:
        if os.path.exists(config_dir):
            files.extend(_fixpath(f) for f in sorted(glob.glob(os.path.join(config_dir, '*.conf'))))
    parsed = _oslo_parse_files(cfg, files)
    locations = {'enabled_backends': _file_location(parsed, 'DEFAULT', 'enabled_backends')}

    try:
        enabled = conf.enabled_backends or {}
        section, store_type = _check_mode(path, backend, enabled)
        if enabled:
            if store_type != 's3':
                raise CheckError('config', 'glance_backend %r is not an s3 entry of [DEFAULT] enabled_backends in %s'
                                           ' (found: %s): name one of its s3 stores.' % (backend, path, _show_backends(enabled)))
            with _quiet_logger('stevedore'):  # it logs every driver whose library is missing (cinder, ...)
                glance_store.register_store_opts(conf, reserved_stores=dict(RESERVED_STORES))
            invoke_args = [conf, backend]
        else:
            glance_store.register_opts(conf)
            locations['stores'] = _file_location(parsed, LEGACY_GROUP, 'stores')
            stores = conf.glance_store.stores
            if not set(stores) & set(S3_ENTRIES):
                raise CheckError('config', '[glance_store] stores = %s does not list s3: in legacy mode glance-api does'
                                           ' not load the S3 store, so its [glance_store] S3 options are unused.'
                                           % ', '.join(stores))
            invoke_args = [conf]
        store = st_driver.DriverManager('glance_store.drivers', 's3', invoke_args=invoke_args, invoke_on_load=True).driver
        store.configure(re_raise_bsc=True)
        client = _make_client(store, conf, backend)
    except CheckError:
        raise
    except gs_exceptions.BadStoreConfiguration as exc:
        raise _safe_failure(exc, path, backend, config_dirs, 'glance_store configured S3 store [%s]' % (backend or LEGACY_GROUP))
    except Exception as exc:  # pylint: disable=broad-except
        raise _safe_failure(exc, path, backend, config_dirs, 'glance_store built S3 store [%s]' % (backend or LEGACY_GROUP))

    option_names = set(opt.name for opt in store.OPTIONS)
    integrity = store._option_get('s3_store_enable_data_integrity_protection')  # pylint: disable=protected-access
    for name in S3_OPTIONS:
        if name not in option_names or (not integrity and 'checksum' in name):
            continue
        location = _file_location(parsed, section, name)
        if section != LEGACY_GROUP:
            try:
                own = getattr(conf[section], name)
            except Exception:  # pylint: disable=broad-except
                own = location  # an invalid value glance_store never read: it is still set here
            if own is None:
                location = _file_location(parsed, SHARED_GROUP, name)
        locations[name] = location

    meta = client.meta
    proxies = getattr(meta.config, 'proxies', None) or {}
    endpoint = meta.endpoint_url
    proxy_url = proxies.get(urlsplit(endpoint).scheme) or proxies.get('https') or proxies.get('http')
    access_key, secret_key = _client_credentials(client)
    settings = {
        'endpoint_url': endpoint,
        'bucket': store.bucket,
        'access_key': access_key,
        'secret_key': secret_key,
        'region': meta.region_name or None,
        'addressing_style': (getattr(meta.config, 's3', None) or {}).get('addressing_style', 'auto'),
        'ca_bundle': store._option_get('s3_store_cacert') or None,  # pylint: disable=protected-access
        'proxy_host': None, 'proxy_port': 8080, 'proxy_user': None, 'proxy_password': None,
        'proxy_scheme': 'http', 'proxy_ca_bundle': None,
    }
    if proxy_url:
        scheme, host, port, user, password = parse_proxy_url(proxy_url)
        settings.update({
            'proxy_host': host, 'proxy_port': port, 'proxy_user': user, 'proxy_password': password,
            'proxy_scheme': scheme,
            'proxy_ca_bundle': (getattr(meta.config, 'proxies_config', None) or {}).get('proxy_ca_bundle'),
        })
    settings.update({
        '_section': section,
        '_reader': 'glance_store',
        '_locations': locations,
        '_files': files,
        '_client': client,
        '_extension_active': 's3_store_enable_proxy' in option_names and bool(
            getattr(type(store)._create_s3_client, '_glance_store_s3proxy', False)),  # pylint: disable=protected-access
    })
    return settings


# --------------------------------------------------------------------------
# The entry point
# --------------------------------------------------------------------------

def read_glance_settings(path, backend=None, config_dirs=None, reader=None):
    """Read one S3 store's settings as glance-api does.

    ``path``: the glance-api.conf (its directory stands for OS_GLANCE_CONFIG_DIR).
    ``backend``: the ``enabled_backends`` id of an s3 store, or None for legacy ``[glance_store]``.
    ``config_dirs``: the ``*.conf.d`` directories; None means oslo.config's own search (see the module doc).
    ``reader``: 'glance_store', 'oslo_rules', or None to use glance_store when it imports.

    Returns the module's parameter names (endpoint_url, bucket, access_key, secret_key, region,
    addressing_style, ca_bundle, proxy_host, proxy_port, proxy_user, proxy_password, proxy_scheme,
    proxy_ca_bundle) plus ``_section``, ``_reader``, ``_locations`` (option name -> 'FILE [section]',
    'environment OS_...' or 'default'), ``_files`` (read, in order), ``_extension_active`` (None when
    unknown) and, from glance_store only, ``_client`` (the botocore client Glance would use).
    Raises CheckError('config', msg); messages never carry secret values.
    """
    if reader is None:
        reader = 'glance_store' if glance_store_available() else 'oslo_rules'
    if reader == 'glance_store':
        import warnings  # pylint: disable=import-outside-toplevel
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # eventlet, webob & co. warn on import: not the operator's concern
            return _read_with_glance_store(path, backend, config_dirs)
    if reader == 'oslo_rules':
        return _read_with_oslo_rules(path, backend, config_dirs)
    raise ValueError('reader must be glance_store, oslo_rules or None')
