"""Per-store HTTP proxy options for glance_store's stock ``s3`` driver.

Importing this package changes nothing. The ``glance_store_s3proxy.pth``
file that the wheel installs into site-packages calls ``_hook.install()`` at
interpreter start-up, which patches ``glance_store._drivers.s3`` when (and
only when) Glance imports it.
"""

__version__ = '1.1.0'

# glance_store releases whose S3 driver this version was tested with.
TESTED_GLANCE_STORE = ('5.6.0', '5.7.0')
