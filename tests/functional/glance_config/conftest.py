"""Import the collection's module_utils in Glance's Python, and write config trees."""

import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def collections_path():
    """A directory holding ansible_collections/glancestore/s3proxy -> this checkout."""
    cached = os.path.join(ROOT, '.cache', 'collections')
    link = os.path.join(cached, 'ansible_collections', 'glancestore', 's3proxy')
    if os.path.isdir(link) and os.path.samefile(link, ROOT):
        return cached
    tmp = tempfile.mkdtemp(prefix='glance-config-collections-')
    os.makedirs(os.path.join(tmp, 'ansible_collections', 'glancestore'))
    os.symlink(ROOT, os.path.join(tmp, 'ansible_collections', 'glancestore', 's3proxy'))
    return tmp


COLLECTIONS = collections_path()
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)


class Tree:
    """A Glance config tree: glance-api.conf, an optional glance-image-import.conf, and one drop-in dir."""

    def __init__(self, base):
        self.base = base
        self.etc = os.path.join(base, 'etc-glance')
        self.dropins = os.path.join(self.etc, 'glance-api.conf.d')
        os.makedirs(self.dropins)
        self.main = os.path.join(self.etc, 'glance-api.conf')

    def write(self, main, dropins=None, image_import=None, newline='\n'):
        """Texts are written byte for byte (``newline`` replaces every \\n)."""
        def put(path, text):
            with open(path, 'wb') as handle:
                handle.write(text.replace('\n', newline).encode('utf-8'))
        put(self.main, main)
        if image_import is not None:
            put(os.path.join(self.etc, 'glance-image-import.conf'), image_import)
        for name, text in (dropins or {}).items():
            put(os.path.join(self.dropins, name), text)
        return self


@pytest.fixture
def tree(tmp_path):
    return Tree(str(tmp_path))


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No OS_* option variables and no HOME search-path surprises from the caller."""
    for name in list(os.environ):
        if name.startswith('OS_') and '__' in name:
            monkeypatch.delenv(name)
    home = tmp_path / 'home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    for name in ('SNAP', 'SNAP_COMMON'):
        monkeypatch.delenv(name, raising=False)
