"""Per-store HTTP proxy options for glance_store's stock ``s3`` driver.

Importing this package changes nothing. The ``glance_store_s3proxy.pth``
file that the wheel installs into site-packages calls ``_hook.install()`` at
interpreter start-up, which patches ``glance_store._drivers.s3`` when (and
only when) Glance imports it.
"""

__version__ = '1.2.0'

# glance_store releases whose S3 driver this version was tested with, and the OpenStack series that pins
# each (openstack/requirements, upper-constraints.txt of the series' branch).
SERIES = {
    '4.9.1': '2025.1',
    '5.2.0': '2025.2',
    '5.4.0': '2026.1',
    '5.6.0': '2026.2',
    '5.7.0': '2026.2',
}
TESTED_GLANCE_STORE = tuple(SERIES)

# The parameters of Store._create_s3_client, per release: before 5.6.0 it takes the location.
CREATE_CLIENT_PARAMS = dict((v, ('self', 'loc') if tuple(int(x) for x in v.split('.')) < (5, 6, 0) else ('self',))
                            for v in SERIES)


def supported_text():
    """The supported releases, for messages: 'glance_store 4.9.1 (2025.1), ...'."""
    return ', '.join('%s (%s)' % (v, s) for v, s in SERIES.items())
