"""glance_store's own S3 driver unit tests, from the installed release, run in this process.

Importing the release's test classes here makes pytest collect and run them as they are, with whatever
the environment's glance_store does at import: in a venv with glance-store-s3proxy, the stock driver
patched by the extension's .pth hook; in the venv built from upstream/ (``GS_UNITS_EXPECT=native``), a
glance_store that has the proxy options itself and no extension.

The one expected difference is stated, not ignored: with the extension, glance_store's option list
(test_opts) is longer by exactly the extension's options, no more, no fewer.
"""

import os

from glance_store._drivers import s3 as _s3
from glance_store.tests.unit import test_opts as _opts
from glance_store.tests.unit.test_multistore_s3 import *  # noqa: F401,F403 pylint: disable=wildcard-import
from glance_store.tests.unit.test_s3_store import *  # noqa: F401,F403 pylint: disable=wildcard-import,unused-wildcard-import

EXPECT = os.environ.get('GS_UNITS_EXPECT', 'active')
PROXY_OPTIONS = ['s3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port', 's3_store_proxy_user',
                 's3_store_proxy_password', 's3_store_proxy_scheme', 's3_store_proxy_cacert', 's3_store_max_retries']


class OptsTestCase(_opts.OptsTestCase):
    """glance_store's test_opts, expecting the extension's options on top of the release's own list."""

    def _check_opt_names(self, opt_list, expected_opt_names):
        extra = [n for n in PROXY_OPTIONS if n not in expected_opt_names] if EXPECT == 'active' else []
        if EXPECT == 'native':  # upstream's own test_opts lists them: nothing is added
            assert set(PROXY_OPTIONS) <= set(expected_opt_names), 'the patched test_opts must list the options'
        super()._check_opt_names(opt_list, list(expected_opt_names) + extra)


def test_the_driver_under_test_is_the_expected_one():
    names = [o.name for o in _s3._S3_OPTS]  # pylint: disable=protected-access
    assert set(PROXY_OPTIONS) <= set(names)
    patched = bool(getattr(_s3.Store._create_s3_client, '_glance_store_s3proxy', False))  # pylint: disable=protected-access
    if EXPECT == 'active':
        assert patched, 'glance-store-s3proxy is not active in this process: the tests would prove nothing'
    else:
        assert not patched and EXPECT == 'native'
        import importlib.util  # pylint: disable=import-outside-toplevel
        assert importlib.util.find_spec('glance_store_s3proxy') is None, 'the native run must not have the extension'
