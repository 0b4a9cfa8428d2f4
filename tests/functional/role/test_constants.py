"""One source for the lab's constants and the extension's version.

The extension's ``__version__`` is the one version: the role's vars/main.yml must name it and the wheel
built from it, that wheel must be in the role's files/ and carry that version, and the network-namespace
lab must run with lab/constants.yml's values. No lab needed.
"""

import os
import zipfile

from lab import constants, netlab


def test_role_vars_name_the_extension_version_and_its_wheel():
    role_vars = constants.role_vars()
    assert role_vars['__glance_s3_proxy_version'] == constants.VERSION, constants.ROLE_VARS_FILE
    assert role_vars['__glance_s3_proxy_wheel'] == constants.WHEEL, constants.ROLE_VARS_FILE
    assert "'glance-store-s3proxy==' ~ __glance_s3_proxy_version" in role_vars['__glance_s3_proxy_osa_pip']


def test_the_role_ships_the_wheel_of_that_version_and_no_other():
    files = os.path.dirname(constants.WHEEL_PATH)
    assert sorted(n for n in os.listdir(files) if n.endswith('.whl')) == [constants.WHEEL]
    with zipfile.ZipFile(constants.WHEEL_PATH) as wheel:
        metadata = wheel.read('%s/METADATA' % constants.DIST_INFO).decode()
    # (tests/unit/extension checks that the wheel's files are the source's.)
    assert 'Name: glance-store-s3proxy\n' in metadata
    assert 'Version: %s\n' % constants.VERSION in metadata


def test_netlab_runs_with_the_constants_file():
    data = constants.load()
    net = data['netlab']
    for name, key in (('NS_PROXY', 'ns_proxy'), ('NS_S3', 'ns_s3'), ('HOST_IP', 'host_ip'), ('PROXY_IP', 'proxy_ip'),
                      ('PROXY_S3_SIDE_IP', 'proxy_s3_side_ip'), ('S3_IP', 's3_ip'), ('LEAKY_HOST_IP', 'leaky_host_ip'),
                      ('LEAKY_S3_IP', 'leaky_s3_ip'), ('S3_NAME', 's3_name'), ('PROXY_NAME', 'proxy_name'),
                      ('SQUID_PORT', 'squid_port'), ('SQUID_TLS_PORT', 'squid_tls_port'),
                      ('S3_HTTP_PORT', 's3_http_port'), ('S3_HTTPS_PORT', 's3_https_port'),
                      ('CLOSED_PORT', 'closed_port')):
        assert getattr(netlab, name) == net[key], name
    assert netlab.USERS == data['proxy_users']
    assert netlab.S3_IDENTITIES == data['s3_identities']
    assert netlab.BUCKETS == data['buckets']
    assert (constants.USER, constants.PASSWORD) == list(data['proxy_users'].items())[0]
    assert constants.SECRET_KEY == data['s3_identities']['glance']['secret_key']


def test_the_lab_passwords_keep_the_characters_the_tests_are_about():
    """The leak and encoding checks search for the password in its raw, percent-encoded and $$ forms: with a
    plain password they would pass without testing anything."""
    for char in '@:/%#':
        assert char in constants.PASSWORD, 'lab/constants.yml: the first proxy password must contain %r' % char
    assert '$' in constants.PASSWORD_B, "lab/constants.yml: the second proxy password must contain '$'"
    assert constants.USER != constants.USER_B and constants.PASSWORD != constants.PASSWORD_B
    assert constants.ROTATION_USER not in (constants.USER, constants.USER_B)
    assert constants.ROTATION_PASSWORD not in (constants.PASSWORD, constants.PASSWORD_B)
    for char in '@:/%#':
        assert char in constants.ROTATION_PASSWORD, 'lab/constants.yml: the rotation password must contain %r' % char
