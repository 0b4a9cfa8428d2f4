# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The proxy URL botocore gets, and keeping its secrets out of every message.

The extension builds the same URL in its own ``proxy.py`` (it cannot import
Ansible code); ``tests/unit/validation_cases.json`` keeps the two rule sets
in step.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

try:
    from urllib.parse import quote, urlsplit
except ImportError:  # pragma: no cover - Python 2 is not supported
    from urllib import quote  # type: ignore
    from urlparse import urlsplit  # type: ignore


MASK = '********'


def _quote_cred(value):
    # botocore unquote()s the user info of a proxy URL, so every reserved
    # character has to be percent-encoded: '@' ':' '/' '%' '#' and friends.
    return quote(value, safe='')


def build_proxy_url(host, port, user=None, password=None, scheme='http'):
    """Return the proxy URL botocore expects, credentials percent-encoded."""
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host  # a bare IPv6 address
    userinfo = ''
    if user:
        userinfo = '%s:%s@' % (_quote_cred(user), _quote_cred(password or ''))
    return '%s://%s%s:%d' % (scheme, userinfo, host, int(port))


def mask_proxy_url(url):
    """Hide the password of a proxy URL; keep the user name visible."""
    if not url:
        return url
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url
    userinfo, hostport = parts.netloc.rsplit('@', 1)
    user = userinfo.split(':', 1)[0]
    return '%s://%s:%s@%s%s' % (parts.scheme, user, MASK, hostport, parts.path or '')


def secret_variants(secrets):
    """Every form in which a secret could surface in a message."""
    out = set()
    for secret in secrets:
        if not secret:
            continue
        out.add(secret)
        out.add(_quote_cred(secret))
        out.add(quote(secret))
    # Longest first, so a secret that contains another is masked whole.
    return sorted(out, key=len, reverse=True)


def scrub(text, secrets):
    """Mask every secret (raw or percent-encoded) inside ``text``."""
    if text is None:
        return None
    text = str(text)
    for variant in secret_variants(secrets):
        text = text.replace(variant, MASK)
    # Any user:password@ left in a URL (botocore's masking can leak).
    return re.sub(r'(://[^:/@\s]*):[^@\s/]*@', r'\1:%s@' % MASK, text)
