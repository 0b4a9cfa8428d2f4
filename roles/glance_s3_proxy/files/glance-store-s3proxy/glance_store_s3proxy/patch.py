"""Make glance_store's stock ``s3`` driver honour the proxy options.

Three in-memory changes to ``glance_store._drivers.s3`` (no file is edited):

1. the proxy options are appended to the driver's option list, so every S3
   store group registers them (multi-store, ``[backend_defaults]`` and legacy
   ``[glance_store]`` alike);
2. ``Store.configure_add`` also validates the store's proxy options and logs
   one INFO line per proxied store (password masked);
3. ``Store._create_s3_client`` runs with the store's botocore settings in a
   context variable, and the driver's ``boto_client.Config`` adds them
   (``proxies``, ``proxies_config``, ``retries``) to the Config it builds.

Unknown glance_store releases are refused unless explicitly allowed, and any
error propagates: the S3 driver then fails to load instead of going direct.
Each supported release's patch points are checked: the option list, a
``_create_s3_client`` with that release's parameters (the location before
5.6.0) that builds ``boto_client.Config``. A glance_store that defines the
proxy options itself (native support) is left alone.
"""

import contextvars
import functools
import glob
import logging
import os

import botocore.client
import botocore.config
from glance_store import exceptions
from oslo_config import iniparser

import glance_store_s3proxy
from glance_store_s3proxy import options
from glance_store_s3proxy import proxy
from glance_store_s3proxy import runtime

LOG = logging.getLogger('glance_store_s3proxy')
ALLOW_UNTESTED_ENV = 'GLANCE_STORE_S3PROXY_ALLOW_UNTESTED'
MARK = '_glance_store_s3proxy'

_ACTIVE = contextvars.ContextVar('glance_store_s3proxy_config', default=None)
# glance_store re-creates and re-configures S3 stores for every operation (they
# are not DRIVER_REUSABLE): announce each store's proxy once per process.
_ANNOUNCED = set()


class UnsupportedGlanceStore(RuntimeError):
    """The installed glance_store does not look like the one this was tested with."""


def _glance_store_version():
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    try:
        return metadata.version('glance_store')
    except metadata.PackageNotFoundError:
        return metadata.version('glance-store')


def native(module):
    """Does this glance_store define the proxy options itself (the upstream change), so nothing is to patch?"""
    opts = getattr(module, '_S3_OPTS', None)
    store = getattr(module, 'Store', None)
    if not isinstance(opts, list) or store is None or getattr(store, MARK, False):
        return False
    return set(options.OPTION_NAMES) <= set(o.name for o in opts)


def _params(function):
    code = getattr(getattr(function, '__wrapped__', function), '__code__', None)
    return tuple(code.co_varnames[:code.co_argcount]) if code else None


def check_patch_points(module):
    """Refuse a driver whose patch points are not what this version expects of its release."""
    version = _glance_store_version()
    problems = []
    tested = version in glance_store_s3proxy.SERIES
    if not tested and os.environ.get(ALLOW_UNTESTED_ENV) != '1':
        problems.append('glance_store %s is not a tested release (supported: %s); use the glance_store of a'
                        ' supported series, or set %s=1 to try it anyway'
                        % (version, glance_store_s3proxy.supported_text(), ALLOW_UNTESTED_ENV))
    store = getattr(module, 'Store', None)
    opts = getattr(module, '_S3_OPTS', None)
    if store is None or not isinstance(opts, list) or getattr(store, 'OPTIONS', None) is not opts:
        problems.append('Store.OPTIONS is not the module list _S3_OPTS')
    else:
        upstream = set(o.name for o in opts) & set(options.OPTION_NAMES)
        if upstream and not getattr(store, MARK, False):
            # All of them is native support (handled before this check); some of them is a driver we do not know.
            problems.append('glance_store defines only some of the proxy options (%s): a partial upstream change'
                            ' this version does not know' % ', '.join(sorted(upstream)))
        for name in ('configure_add', '_create_s3_client'):
            if not callable(getattr(store, name, None)):
                problems.append('Store.%s is missing' % name)
        create = getattr(store, '_create_s3_client', None)
        code = getattr(getattr(create, '__wrapped__', create), '__code__', None)
        if code is None or not {'boto_client', 'Config'} <= set(code.co_names):
            problems.append('Store._create_s3_client no longer builds boto_client.Config')
        params = _params(create)
        expected = glance_store_s3proxy.CREATE_CLIENT_PARAMS.get(version)
        if expected and params != expected:
            problems.append('Store._create_s3_client takes (%s), glance_store %s\'s takes (%s)'
                            % (', '.join(params or ()), version, ', '.join(expected)))
    if getattr(module, 'boto_client', None) is None:
        problems.append('the driver has no boto_client (boto3/botocore missing?)')
    if problems:
        raise UnsupportedGlanceStore('glance-store-s3proxy %s refuses to patch %s: %s'
                                     % (glance_store_s3proxy.__version__, module.__name__, '; '.join(problems)))
    return version


class _BotoClientModule:
    """Stands in for ``botocore.client`` inside the S3 driver module only.

    ``Config(...)`` built while a proxied store creates its client gets that
    store's proxies merged in; everything else is botocore's own.
    """

    def __init__(self, real):
        self._real = real

    def __getattr__(self, name):
        return getattr(self._real, name)

    def Config(self, *args, **kwargs):  # pylint: disable=invalid-name
        config = self._real.Config(*args, **kwargs)
        extra = _ACTIVE.get()
        if extra:
            config = config.merge(botocore.config.Config(**extra))
        return config


def _has_backend_defaults():
    """glance_store 5.2.0 and later fall back from a store's group to [backend_defaults]."""
    import glance_store.driver  # pylint: disable=import-outside-toplevel
    return hasattr(glance_store.driver, 'BackendGroupConfiguration')


def _store_values(store):
    """This store's proxy option values, read as the driver reads its own."""
    # pylint: disable=import-outside-toplevel
    import glance_store.driver
    if store.backend_group and _has_backend_defaults():
        conf = glance_store.driver.BackendGroupConfiguration(store.OPTIONS, store.backend_group, conf=store.conf)
    elif store.backend_group:  # before glance_store 5.2.0: the store's own group only, no [backend_defaults]
        conf = getattr(store.conf, store.backend_group)
    else:
        conf = store.conf.glance_store
    values = {}
    for name in options.OPTION_NAMES:
        try:
            values[name] = getattr(conf, name)
        except (ValueError, AttributeError) as exc:  # oslo.config value errors subclass ValueError
            # oslo.config quotes the value: a password, or credentials written into the host, never reach the log.
            hidden = name == 's3_store_proxy_password' or '@' in str(exc)
            detail = '%s (value not shown)' % type(exc).__name__ if hidden else str(exc)
            raise exceptions.BadStoreConfiguration(
                store_name=store.backend_group or 's3', reason='%s has an invalid value: %s' % (name, detail))
    return values


def store_config_args(store):
    """Validate and return the botocore Config arguments of one store."""
    values = _store_values(store)
    problems = proxy.validate(values)
    if problems:
        raise exceptions.BadStoreConfiguration(store_name=store.backend_group or 's3',
                                               reason='; '.join(problems))
    return values, proxy.botocore_config_args(values)


def config_files(conf):
    """The files oslo.config read for ``conf``, in its order: --config-file ones, then each --config-dir's *.conf."""
    files = list(conf.config_file or [])
    for directory in conf.config_dir or []:
        files.extend(sorted(glob.glob(os.path.join(directory, '*.conf'))))
    return files


class _KeyFinder(iniparser.BaseParser):
    """oslo.config's own INI parser, noting which (section, key) pairs a file sets."""

    def __init__(self):
        super().__init__()
        self.keys = set()
        self._section = None

    def new_section(self, section):
        self._section = section

    def assignment(self, key, value):
        self.keys.add((self._section, key))

    def parse_exc(self, msg, lineno, line=None):
        return ValueError('line %d: %s' % (lineno, msg))  # never the line: it may hold a secret


def _file_keys(files):
    """[(path, {(section, key), ...}), ...] for the files oslo.config reads, in its order."""
    keys = []
    for path in files:
        finder = _KeyFinder()
        try:
            with open(path) as f:
                finder.parse(f)
        except (OSError, ValueError):
            continue
        keys.append((path, finder.keys))
    return keys


def _locations(store, files):
    """Where each proxy option's value comes from: the last file that sets the key, or 'default'."""
    keys = _file_keys(files)
    if store.backend_group:
        groups = [store.backend_group] + (['backend_defaults'] if _has_backend_defaults() else [])
    else:
        groups = ['glance_store']
    out = {}
    for name in options.OPTION_NAMES:
        out[name] = 'default'
        for group in groups:
            setters = [path for path, found in keys if (group, name) in found]
            if setters:
                out[name] = '%s [%s]' % (setters[-1], group)
                break
            try:
                info = store.conf.get_location(name, group)
            except Exception:  # pylint: disable=broad-except
                info = None  # not registered in that group
            # Another source than a file (the environment, the command line); glance_store set_default()s
            # every option of a backend group to None itself.
            if info is not None and info.location.name not in ('opt_default', 'set_default', 'user'):
                out[name] = '%s [%s]' % (info.detail or info.location.name, group)
                break
    return out


def _ignored_defaults(store, files):
    """Proxy options in [backend_defaults] that this glance_store never reads (before 5.2.0), for one store."""
    if not store.backend_group or _has_backend_defaults():
        return []
    found = _file_keys(files)
    return [name for name in options.OPTION_NAMES
            if any(('backend_defaults', name) in keys for _path, keys in found)
            and not any((store.backend_group, name) in keys for _path, keys in found)]


def _wrap_configure_add(original, validate=True):
    @functools.wraps(original)
    def configure_add(self):
        original(self)
        ignored = _ignored_defaults(self, config_files(self.conf))
        if ignored:  # the operator meant this store to use a proxy: it would go to S3 directly
            raise exceptions.BadStoreConfiguration(store_name=self.backend_group, reason=(
                'glance_store %s does not read [backend_defaults]: set %s in [%s] itself'
                % (_glance_store_version(), ', '.join(ignored), self.backend_group)))
        if validate:
            values, args = store_config_args(self)
        else:  # native: glance_store validates and uses its own options; only record what it reads
            values, args = _store_values(self), {}
            if values.get('s3_store_enable_proxy') and values.get('s3_store_proxy_host'):
                args = proxy.botocore_config_args(values)
        name = self.backend_group or 'glance_store'
        files = config_files(self.conf)
        runtime.store_configured(name, values, _locations(self, files), files)
        if values.get('s3_store_enable_proxy') and args:
            masked = proxy.mask_url(args['proxies']['https'])
            key = (os.getpid(), name, masked)
            log = LOG.debug if key in _ANNOUNCED else LOG.info
            _ANNOUNCED.add(key)
            log('glance-store-s3proxy %s %s in pid %d: S3 store %s uses proxy %s', glance_store_s3proxy.__version__,
                'active' if validate else 'observing native glance_store', os.getpid(), name, masked)
        else:
            LOG.debug('glance-store-s3proxy: S3 store %s has no proxy enabled', name)
    setattr(configure_add, MARK, True)
    return configure_add


def _wrap_create_s3_client(original):
    @functools.wraps(original)
    def _create_s3_client(self, *args, **kwargs):
        # Whatever the release passes (the location, before glance_store 5.6.0) goes through unchanged.
        # Validated on every client, so a store whose configure_add failed
        # (and kept read access) never goes around its proxy.
        extra = store_config_args(self)[1]
        token = _ACTIVE.set(extra or None)
        try:
            return original(self, *args, **kwargs)
        finally:
            _ACTIVE.reset(token)
    setattr(_create_s3_client, MARK, True)
    return _create_s3_client


def apply(module):
    """Patch the S3 driver module in place. Idempotent; raises on mismatch.

    A glance_store that defines the proxy options itself (native support) is not patched: its store's
    ``configure_add`` only records, for the runtime check, what the driver reads.
    """
    store = getattr(module, 'Store', None)
    if store is not None and getattr(store, MARK, False):
        return
    if native(module):
        version = _glance_store_version()
        store.configure_add = _wrap_configure_add(store.configure_add, validate=False)
        setattr(store, MARK, True)
        runtime.driver_patched(version, native=True)
        LOG.debug('glance-store-s3proxy %s: glance_store %s has the proxy options itself (native); not patched',
                  glance_store_s3proxy.__version__, version)
        return
    version = check_patch_points(module)
    existing = set(o.name for o in module._S3_OPTS)  # pylint: disable=protected-access
    module._S3_OPTS.extend(o for o in options.store_opts() if o.name not in existing)  # pylint: disable=protected-access
    store.configure_add = _wrap_configure_add(store.configure_add)
    store._create_s3_client = _wrap_create_s3_client(store._create_s3_client)  # pylint: disable=protected-access
    if not isinstance(module.boto_client, _BotoClientModule):
        module.boto_client = _BotoClientModule(botocore.client)
    setattr(store, MARK, True)
    runtime.driver_patched(version)
    LOG.debug('glance-store-s3proxy %s patched glance_store %s S3 driver in pid %d',
              glance_store_s3proxy.__version__, version, os.getpid())
