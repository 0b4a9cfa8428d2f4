"""glance-store-s3proxy: per-store HTTP proxy support for glance_store's S3 driver.

The wheel carries ``glance_store_s3proxy.pth`` at the root of site-packages,
so ``pip uninstall`` removes it together with the package.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
PTH = 'glance_store_s3proxy.pth'


class BuildWithPth(build_py):
    """build_py that also places the .pth file at the root of the wheel."""

    def run(self):
        super().run()
        self.copy_file(os.path.join(HERE, PTH), os.path.join(self.build_lib, PTH))


def version():
    with open(os.path.join(HERE, 'glance_store_s3proxy', '__init__.py')) as f:
        for line in f:
            if line.startswith('__version__'):
                return line.split('=')[1].strip().strip("'\"")
    raise RuntimeError('no __version__')


setup(
    name='glance-store-s3proxy',
    version=version(),
    description="Per-store HTTP proxy options for glance_store's S3 driver",
    long_description=__doc__,
    license='Apache-2.0',
    packages=['glance_store_s3proxy'],
    python_requires='>=3.9',
    cmdclass={'build_py': BuildWithPth},
    entry_points={
        'oslo.config.opts': ['glance_store_s3proxy = glance_store_s3proxy.options:list_opts'],
        'console_scripts': ['glance-store-s3proxy = glance_store_s3proxy.__main__:main'],
    },
    classifiers=[
        'Environment :: OpenStack',
        'Programming Language :: Python :: 3',
    ],
)
