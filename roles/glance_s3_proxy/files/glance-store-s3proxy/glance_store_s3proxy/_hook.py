"""The import hook. Standard library only: it runs in every interpreter start
of Glance's Python environment, so it must stay tiny and must not fail.

A meta path finder wraps the loader of ``glance_store._drivers.s3`` so that the
patch runs right after the module executes, before anything else uses it.
Errors raised by the patch propagate: the import of the S3 driver then fails
loudly (fail closed), instead of sending S3 traffic around the proxy.
"""

import importlib.abc
import sys

TARGET = 'glance_store._drivers.s3'


class _PatchingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        from glance_store_s3proxy import patch  # pylint: disable=import-outside-toplevel
        patch.apply(module)

    def __getattr__(self, name):
        return getattr(self._loader, name)


class S3ProxyFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of the S3 driver."""

    _glance_store_s3proxy = True

    def find_spec(self, fullname, path, target=None):
        if fullname != TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader)
                return spec
        return None


def installed():
    return any(getattr(f, '_glance_store_s3proxy', False) for f in sys.meta_path)


def install():
    """Put the finder first on sys.meta_path (once)."""
    if not installed():
        sys.meta_path.insert(0, S3ProxyFinder())
        from glance_store_s3proxy import runtime  # pylint: disable=import-outside-toplevel
        runtime.hook_installed()
    if TARGET in sys.modules:
        # Imported before the hook: patch it now (the .pth runs at start-up,
        # so this only happens when install() is called by hand).
        from glance_store_s3proxy import patch  # pylint: disable=import-outside-toplevel
        patch.apply(sys.modules[TARGET])
