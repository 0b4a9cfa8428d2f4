"""Configure real glance_store stores from a glance-api.conf, as Glance does, then
add, get and delete one image through the named store. Prints a JSON report.

Usage: python store_driver.py CONFIG (multi BACKEND | legacy) SIZE_BYTES
Runs in Glance's Python environment: the extension takes effect through its
.pth import hook, exactly as in glance-api.
"""

import hashlib
import io
import json
import logging
import os
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

from oslo_config import cfg

import glance_store
from glance_store import backend as legacy_backend
from glance_store import multi_backend

RESERVED = {'os_glance_staging_store': 'file', 'os_glance_tasks_store': 'file'}


def main():
    path, mode = sys.argv[1], sys.argv[2]
    backend = sys.argv[3] if mode == 'multi' else None
    size = int(sys.argv[-1])
    logging.basicConfig(level=logging.DEBUG if os.environ.get('DRIVER_DEBUG') else logging.INFO,
                        stream=sys.stderr, format='%(levelname)s %(name)s %(message)s')
    conf = cfg.CONF
    report = {'mode': mode, 'backend': backend}
    if mode == 'multi':
        conf.register_opt(cfg.DictOpt('enabled_backends'))
        conf(args=[], project='glance', default_config_files=[path])
        multi_backend.register_store_opts(conf, reserved_stores=RESERVED)
        multi_backend.create_multi_stores(conf, reserved_stores=RESERVED)
        multi_backend.verify_store()
        store = multi_backend.get_store_from_store_identifier(backend)
    else:
        legacy_backend.register_opts(conf)
        conf(args=[], project='glance', default_config_files=[path])
        legacy_backend.create_stores(conf)
        legacy_backend.verify_default_store()
        store = legacy_backend.get_store_from_scheme('s3')
    report['store_options'] = sorted(o.name for o in store.OPTIONS if 'proxy' in o.name or 'retries' in o.name)
    report['writable'] = store.is_capable(glance_store.capabilities.BitMasks.WRITE_ACCESS)
    if os.environ.get('DRIVER_DUMP_OPTS'):
        conf.log_opt_values(logging.getLogger('dump'), logging.INFO)
    data = os.urandom(size)
    image_id = str(uuid.uuid4())
    start = time.time()
    try:
        if mode == 'multi':
            loc, written, _checksum, _mh, _meta = multi_backend.add_with_multihash(
                conf, image_id, io.BytesIO(data), size, backend, 'sha256')
            chunks, got_size = multi_backend.get(loc, backend)
        else:
            loc, written, _checksum, _mh, _meta = legacy_backend.add_to_backend_with_multihash(
                conf, image_id, io.BytesIO(data), size, 'sha256', scheme='s3')
            chunks, got_size = legacy_backend.get_from_backend(loc)
        digest = hashlib.md5()
        for chunk in chunks:
            digest.update(chunk)
        # glance_store before 5.6.0 writes the S3 keys into the location (s3://KEY:SECRET@host/...), which
        # Glance stores as the image's location: that is upstream's, not the proxy's. Reported, then cut.
        parts = urlsplit(loc)
        report['location_has_credentials'] = '@' in parts.netloc
        report.update(location=urlunsplit(parts._replace(netloc=parts.netloc.rsplit('@', 1)[-1])),
                      written=written, read=got_size,
                      md5_equal=digest.hexdigest() == hashlib.md5(data).hexdigest())
        if mode == 'multi':
            multi_backend.delete(loc, backend)
        else:
            legacy_backend.delete_from_backend(loc)
        report['deleted'] = True
        report['ok'] = True
    except Exception as exc:  # report the failure as the test sees it
        report.update(ok=False, error='%s: %s' % (type(exc).__name__, exc))
    report['seconds'] = round(time.time() - start, 2)
    print(json.dumps(report))


if __name__ == '__main__':
    main()
