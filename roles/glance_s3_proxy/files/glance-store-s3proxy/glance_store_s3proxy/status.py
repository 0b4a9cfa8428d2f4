"""Is the extension active in this Python environment? Standard library only.

Runs both as ``python -m glance_store_s3proxy --status`` and as a plain script
(``python status.py``) with Glance's interpreter, so it also answers when the
package is not installed. It judges by what the S3 store really registers:
the driver's option list and its patched client factory.

States: ``active`` (the extension patched the driver), ``native`` (glance_store
defines the proxy options itself: the upstream change; the extension, if
installed, only records), ``installed_inactive``, ``not_installed``, ``error``.

Exit codes: 0 active or native, 3 installed but not active, 4 not installed, 2 error.
"""

import json
import sys

EXIT = {'active': 0, 'native': 0, 'installed_inactive': 3, 'not_installed': 4, 'error': 2}
NAMES = ('s3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port', 's3_store_proxy_user',
         's3_store_proxy_password', 's3_store_proxy_scheme', 's3_store_proxy_cacert', 's3_store_max_retries')


def _version(name):
    from importlib import metadata  # pylint: disable=import-outside-toplevel
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def status():
    info = {
        'state': None,
        'version': _version('glance-store-s3proxy'),
        'glance_store_version': _version('glance_store') or _version('glance-store'),
        'python': sys.executable,
        'hook_installed': any(getattr(f, '_glance_store_s3proxy', False) for f in sys.meta_path),
        'options_registered': False,
        'client_patched': False,
        'native': False,
        'driver_file': None,
        'error': None,
    }
    try:
        from glance_store._drivers import s3  # pylint: disable=import-outside-toplevel
        info['driver_file'] = s3.__file__
        names = set(o.name for o in s3.Store.OPTIONS)
        info['options_registered'] = 's3_store_enable_proxy' in names and 's3_store_proxy_password' in names
        info['client_patched'] = bool(getattr(s3.Store._create_s3_client,  # pylint: disable=protected-access
                                              '_glance_store_s3proxy', False))
        # The driver's own option objects, not the ones the extension appends (a patched driver has the
        # extension's; a native one has all the names without a patched client).
        info['native'] = not info['client_patched'] and set(NAMES) <= names
    except Exception as exc:  # pylint: disable=broad-except
        info['error'] = '%s: %s' % (type(exc).__name__, exc)
    if info['error'] and info['version']:
        info['state'] = 'error'
    elif info['options_registered'] and info['client_patched']:
        info['state'] = 'active'
    elif info['native']:
        info['state'] = 'native'
    elif info['version']:
        info['state'] = 'installed_inactive'
    else:
        info['state'] = 'not_installed'
    return info


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    info = status()
    if '--json' in argv:
        print(json.dumps(info, sort_keys=True))
    else:
        print('glance-store-s3proxy: %s (version %s, glance_store %s, python %s)%s' % (
            info['state'], info['version'], info['glance_store_version'], info['python'],
            ': ' + info['error'] if info['error'] else ''))
    return EXIT[info['state']]


if __name__ == '__main__':
    sys.exit(main())
