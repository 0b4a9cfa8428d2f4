# -*- coding: utf-8 -*-
# Copyright: (c) 2026, glancestore.s3proxy contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters of the glance_s3_proxy role's verification: the inventory's intent, and what differs from it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.glancestore.s3proxy.plugins.module_utils.proxy_url import MASK  # what s3_proxy_check shows


def intent(stores, mode='multi'):
    """Per store, the proxy the inventory asks for: what verification compares Glance's effect with."""
    if not isinstance(stores, list):
        raise AnsibleFilterError('glance_s3_proxy_intent expects the list of effective stores')
    out = []
    for store in stores:
        proxy = store.get('proxy') or {}
        proxied = proxy.get('enabled') is True
        want = {'name': store['name'] if mode == 'multi' else 'glance_store', 'proxied': proxied}
        if proxied:
            want.update(host=proxy.get('host'), port=int(proxy.get('port') or 8080), scheme=proxy.get('scheme') or 'http',
                        user=proxy.get('user') or None, cacert=proxy.get('cacert') or None)
        # Only the keys that have a value: s3_proxy_runtime_check's argument spec refuses a None where its option has
        # a default (port, scheme), so a store that goes direct is its name and proxied=false, nothing else.
        out.append(dict((k, v) for k, v in want.items() if v is not None))
    return out


def expected_proxy_url(want):
    """The masked proxy URL s3_proxy_check reports when Glance's configuration matches ``want``."""
    if not want.get('proxied'):
        return None
    host = want['host']
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    userinfo = '%s:%s@' % (want['user'], MASK) if want.get('user') else ''
    return '%s://%s%s:%d' % (want.get('scheme') or 'http', userinfo, host, int(want['port']))


def verify_failures(results, wanted):
    """Messages for every store whose check failed, or whose configured proxy is not the intended one."""
    by_name = dict((w['name'], w) for w in wanted)
    out = []
    for result in results:
        name = result.get('__glance_s3_proxy_name')
        want = by_name.get(name) or by_name.get('glance_store')
        if want is None:
            out.append('Store %s: stage config: not in the inventory.' % name)
            continue
        if not result.get('reachable'):
            out.append('Store %s: stage %s: %s' % (name, result.get('stage') or 'config',
                                                   result.get('msg') or 'the check could not run'))
            continue
        expected = expected_proxy_url(want)
        if result.get('proxy_url') != expected:
            locations = result.get('locations') or {}
            where = ', '.join('%s from %s' % (key, locations[key]) for key in (
                's3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port', 's3_store_proxy_user')
                if locations.get(key) and locations[key] != 'default')
            out.append('Store %s: stage config: Glance\'s configuration (%s) makes this store use %s, the inventory wants %s%s.'
                       ' A later file or key overrides the role\'s drop-in: remove that override.'
                       % (name, result.get('settings_source'), result.get('proxy_url') or 'no proxy', expected or 'no proxy',
                          ' (%s)' % where if where else ''))
    return out


class FilterModule(object):
    def filters(self):
        return {
            'glance_s3_proxy_intent': intent,
            'glance_s3_proxy_verify_failures': verify_failures,
        }
