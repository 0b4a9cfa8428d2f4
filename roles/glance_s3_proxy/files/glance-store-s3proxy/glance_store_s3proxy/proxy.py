"""Proxy URL building, masking and validation. Standard library only."""

import os
from urllib.parse import quote, urlsplit

MASK = '***'


def _quote(value):
    # botocore unquote()s the user info of the proxy URL.
    return quote(value, safe='')


def build_url(scheme, host, port, user=None, password=None):
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host
    userinfo = '%s:%s@' % (_quote(user), _quote(password)) if user else ''
    return '%s://%s%s:%d' % (scheme, userinfo, host, port)


def mask_url(url):
    parts = urlsplit(url)
    if '@' not in parts.netloc:
        return url
    userinfo, hostport = parts.netloc.rsplit('@', 1)
    return '%s://%s:%s@%s' % (parts.scheme, userinfo.split(':', 1)[0], MASK, hostport)


def _ascii(value):
    try:
        value.encode('ascii')
    except UnicodeEncodeError:
        return False
    return True


def validate(values):
    """Return the problems of one store's proxy options, as readable strings."""
    problems = []
    if not values.get('s3_store_enable_proxy'):
        return problems
    host = values.get('s3_store_proxy_host')
    port = values.get('s3_store_proxy_port')
    user = values.get('s3_store_proxy_user')
    password = values.get('s3_store_proxy_password')
    cacert = values.get('s3_store_proxy_cacert')
    if not host:
        problems.append('s3_store_enable_proxy is true but s3_store_proxy_host is not set')
    if port is None or not 1 <= int(port) <= 65535:
        problems.append('s3_store_proxy_port %s is outside 1-65535' % port)
    if user and not password:
        problems.append('s3_store_proxy_user is set without s3_store_proxy_password')
    if password and not user:
        problems.append('s3_store_proxy_password is set without s3_store_proxy_user')
    if user and not _ascii(user):
        problems.append('s3_store_proxy_user has non-ASCII characters (Basic proxy auth is ASCII only)')
    if user and ':' in user:
        problems.append('s3_store_proxy_user contains ":" (Basic proxy auth splits user:password at the first colon)')
    if password and not _ascii(password):
        problems.append('s3_store_proxy_password has non-ASCII characters (Basic proxy auth is ASCII only)')
    if cacert and not os.path.isfile(cacert):
        problems.append('s3_store_proxy_cacert %s does not exist' % cacert)
    return problems


def default_ca_bundle():
    """botocore's default CA bundle: the one it verifies S3 endpoints with."""
    from botocore.httpsession import get_cert_path  # pylint: disable=import-outside-toplevel
    return get_cert_path(True)


def botocore_config_args(values):
    """The botocore Config arguments for one store, or {} when nothing applies."""
    args = {}
    if values.get('s3_store_enable_proxy'):
        url = build_url(values.get('s3_store_proxy_scheme') or 'http', values['s3_store_proxy_host'],
                        int(values['s3_store_proxy_port']), values.get('s3_store_proxy_user'),
                        values.get('s3_store_proxy_password'))
        args['proxies'] = {'http': url, 'https': url}
        if values.get('s3_store_proxy_cacert'):
            args['proxies_config'] = {'proxy_ca_bundle': values['s3_store_proxy_cacert']}
        elif (values.get('s3_store_proxy_scheme') or 'http') == 'https':
            # Without a bundle, botocore verifies no proxy certificate on http:// endpoints
            # (cert_reqs=CERT_NONE): the proxy credentials would go to whoever answers.
            args['proxies_config'] = {'proxy_ca_bundle': default_ca_bundle()}
    if values.get('s3_store_max_retries') is not None:
        args['retries'] = {'max_attempts': int(values['s3_store_max_retries']), 'mode': 'standard'}
    return args
