"""proxy_host validation against oslo.config itself.

Glance reads ``s3_store_proxy_host`` as a ``HostAddressOpt``, so the module must
accept exactly what ``oslo_config.types.HostAddress()`` accepts. module_utils
re-implements the rules in pure Python; this test asks the real oslo.config,
in the Glance venv (.cache/venv-glance, made by ``make deps``), for its verdict
on every input of the table and compares. It runs with the tools venv like the
rest of tests/functional/module and fails, never skips, without the Glance venv.
"""

import json
import os
import subprocess
import sys

import pytest

from lab.ansible_runner import CACHE, collections_path

sys.path.insert(0, collections_path())

from ansible_collections.glancestore.s3proxy.plugins.module_utils.s3_proxy import (  # noqa: E402
    host_address_problem,
    normalize_host_address,
    validate_settings,
)

GLANCE_PYTHON = os.path.join(CACHE, 'venv-glance', 'bin', 'python')

INPUTS = [
    # IPv4
    '10.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04',
    '1.2.3.4.', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '0x7f.0.0.1', '1.0x7f', '127.1', '4294967295',
    # IPv6
    '::1', '::', 'fd00::1', 'FD00::1', '2001:db8::ffff:1.2.3.4', '::ffff:1.2.3.4', '::ffff:01.2.3.4',
    '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::1', 'fe80::1%eth0', 'fd00::/64',
    '[::1]', '[::1', '::1]', 'gggg::1',
    # host names
    'localhost', 'proxy', 'proxy.example.com', 'proxy.example.com.', 'proxy.example.com..', '.proxy.example.com',
    'a..b', '-x', 'x-', 'a.-b.c', 'a-.b', 'a--b.example', 'xn--bcher-kva.example', 'host#', 'host name',
    'host:3128', 'host/path', 'user@host', 'under_score.example', 'host\tname', 'host\n', 'a' * 63 + '.example',
    'a' * 64 + '.example', '.'.join(['a' * 63] * 3) + '.' + 'a' * 61, '.'.join(['a' * 63] * 3) + '.' + 'a' * 62,
    '.'.join(['a' * 63] * 3) + '.' + 'a' * 61 + '.', 'example.123', '123', '123.', '1a', 'www.1a', '.', '..', '',
    '*.example.com', 'h\u00f6st.example', 'prox\u212a.example', 'host\x00', 's3.lab.test', 'PROXY.EXAMPLE.COM',
]
# Where module_utils is deliberately stricter than oslo.config: oslo's
# IGNORECASE [A-Z] takes U+212A KELVIN SIGN for 'k', and its '$' matches
# before a trailing newline. Neither value can come from an INI file, and
# botocore cannot connect to either. The test proves oslo still accepts them.
STRICTER = {'prox\u212a.example', 'host\n'}

ORACLE = r'''
import json, sys
from oslo_config import types
check = types.HostAddress()
out = []
for value in json.load(sys.stdin):
    try:
        out.append([True, check(value)])
    except ValueError as exc:
        out.append([False, str(exc)])
json.dump(out, sys.stdout)
'''


@pytest.fixture(scope='module')
def oslo_verdicts():
    assert os.path.exists(GLANCE_PYTHON), 'no Glance venv at %s: run make deps' % GLANCE_PYTHON
    proc = subprocess.run([GLANCE_PYTHON, '-c', ORACLE], input=json.dumps(INPUTS), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, check=True)
    verdicts = json.loads(proc.stdout)
    return dict(zip(INPUTS, verdicts))


def test_table_is_large_and_mixed(oslo_verdicts):
    assert len(set(INPUTS)) == len(INPUTS) > 40
    accepted = [value for value, verdict in oslo_verdicts.items() if verdict[0]]
    assert 15 < len(accepted) < len(INPUTS) - 15


@pytest.mark.parametrize('value', INPUTS, ids=[repr(v)[:40] for v in INPUTS])
def test_same_verdict_as_oslo_config(oslo_verdicts, value):
    oslo_ok, oslo_value = oslo_verdicts[value]
    problem = host_address_problem(value)
    if value in STRICTER:
        assert oslo_ok and problem, (value, oslo_value)
        return
    assert (problem is None) == oslo_ok, (value, problem, oslo_value)
    if oslo_ok:
        # What Glance ends up using: a host name loses one trailing dot.
        assert normalize_host_address(value) == oslo_value


@pytest.mark.parametrize('value', ['[::1', 'host#', 'host name', '-x', 'a..b', 'proxy..', '256.1.1.1', '[::1]'])
def test_validate_settings_names_the_problem(value):
    errors = validate_settings({'endpoint_url': 'http://s3.example.com', 'bucket': 'glance', 'proxy_host': value,
                                'proxy_port': 3128})
    assert len(errors) == 1, errors
    assert 'proxy_host %r is not a valid host address' % value in errors[0]
    assert 'HostAddressOpt' in errors[0]
