# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Proxy host addresses, as Glance reads ``s3_store_proxy_host`` (an oslo.config ``HostAddressOpt``).

One rule, read two ways:

``oslo_host_address(value)``
    exactly ``oslo_config.types.HostAddress()``: the value Glance uses, or
    ValueError. glance_config's reader uses it, as it must agree with
    oslo.config on what a file means.
``host_address_problem(value)``
    why a value given to the module or the role is not one (None when it is
    one). Its verdict is ``oslo_host_address``'s on printable ASCII without
    whitespace, and a refusal on anything else. That is stricter on purpose
    in two ways: under ``re.IGNORECASE`` oslo's ``[A-Z]`` also matches
    U+212A KELVIN SIGN, U+017F LONG S, U+0130 and U+0131 (dotted and dotless I), and its
    ``$`` also matches before a trailing newline. botocore cannot connect to
    either form, and the second cannot come out of an INI file.

``tests/unit/validation_cases.json`` holds the cases, run against this module
and against the extension (which leaves the host to oslo.config itself).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import socket

# oslo_config.types.Hostname.HOSTNAME_REGEX, matched with re.IGNORECASE.
_OSLO_LABEL_RE = re.compile('(?!-)[A-Z0-9-]{1,63}(?<!-)$', re.IGNORECASE)
_TLD_NON_NUMERIC_RE = re.compile('[a-zA-Z-]')
_PRINTABLE_ASCII_RE = re.compile(r'[\x21-\x7e]+\Z')


def is_ipv4(value):
    """netaddr.valid_ipv4(value, INET_PTON): no ':' and no octet with a leading zero, then inet_pton."""
    if ':' in value or any(len(p) > 1 and p.startswith('0') for p in value.split('.')):
        return False
    try:
        socket.inet_pton(socket.AF_INET, value)
    except (OSError, ValueError):  # ValueError: NUL or non-ASCII characters
        return False
    return True


def is_ipv6(value):
    """netaddr.valid_ipv6(value, INET_PTON): inet_pton(AF_INET6); no brackets, zone index or prefix length."""
    try:
        socket.inet_pton(socket.AF_INET6, value)
    except (OSError, ValueError):
        return False
    return True


def oslo_host_address(value):
    """oslo.config's types.HostAddress: an IP address as is, or a host name without its trailing dot."""
    if value and (is_ipv4(value) or is_ipv6(value)):
        return value
    if not value or len(value) > 253:
        raise ValueError('not a valid host address')
    if value.endswith('.'):
        value = value[:-1]
    if not _TLD_NON_NUMERIC_RE.search(value.split('.')[-1]):
        raise ValueError('not a valid host address (the last label has no letter)')
    if any(not _OSLO_LABEL_RE.match(label) for label in value.split('.')):
        raise ValueError('not a valid host address')
    return value


def host_address_problem(value):
    """Why ``value`` is not an oslo.config ``HostAddress`` (or is not printable ASCII); None when it is one."""
    value = str(value)
    if _PRINTABLE_ASCII_RE.match(value):
        try:
            oslo_host_address(value)
            return None
        except ValueError:
            pass
    return _why_not(value)


def _why_not(value):
    """What is wrong with a refused host address, in the words an operator fixes it with."""
    if not value:
        return 'it is empty'
    if value.startswith('[') or value.endswith(']'):
        return 'an IPv6 address is written without brackets'
    if ':' in value:
        return 'not an IPv6 address: write it without brackets, zone index or prefix length, or give a host name without a port'
    if re.search(r'[\s\x00-\x1f\x7f]', value):
        return 'it contains whitespace or control characters'
    if len(value) > 253:
        return 'a host name has at most 253 characters'
    name = value[:-1] if value.endswith('.') else value
    labels = name.split('.')
    if not _TLD_NON_NUMERIC_RE.search(labels[-1]):
        if re.match(r'^[0-9.]*[0-9][0-9.]*\Z', name):
            return 'not an IPv4 address (four decimal octets 0-255 without leading zeros)'
        return 'its last label is empty or all digits'
    for label in labels:
        if not label:
            return 'it has an empty label (two dots in a row, or a leading dot)'
        if len(label) > 63:
            return 'label %r is longer than 63 characters' % label[:20]
        if label.startswith('-') or label.endswith('-'):
            return 'label %r starts or ends with a hyphen' % label
        if not re.match(r'[A-Za-z0-9-]+\Z', label):
            return 'label %r has characters other than letters, digits and hyphens' % label
    return 'it has characters other than letters, digits, hyphens and dots'


def normalize_host_address(value):
    """The host oslo.config hands Glance: a host name loses one trailing dot."""
    if value and not is_ipv4(value) and not is_ipv6(value) and value.endswith('.'):
        return value[:-1]
    return value


def shown_host(host):
    """A proxy host as it may appear in a message: anything up to an '@' may be credentials, never shown."""
    host = str(host)
    if '@' in host:
        return '***@' + host.rsplit('@', 1)[1]
    return host
