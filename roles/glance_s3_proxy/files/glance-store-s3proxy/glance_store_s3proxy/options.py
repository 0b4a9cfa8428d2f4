"""The S3 store's proxy options: the blueprint's five, plus scheme, CA and retries."""

from oslo_config import cfg

OPTION_NAMES = (
    's3_store_enable_proxy', 's3_store_proxy_host', 's3_store_proxy_port', 's3_store_proxy_user',
    's3_store_proxy_password', 's3_store_proxy_scheme', 's3_store_proxy_cacert', 's3_store_max_retries',
)


def store_opts():
    """New option objects (each store group registers its own copies)."""
    return [
        cfg.BoolOpt('s3_store_enable_proxy', default=False, help=(
            "Send this store's S3 traffic through an HTTP proxy.\n\n"
            "When enabled, the store's boto3 clients use the proxy given by s3_store_proxy_host and "
            "s3_store_proxy_port (botocore's per-client proxies). HTTP_PROXY, HTTPS_PROXY and NO_PROXY "
            "from the environment are not read for this store. A store that does not enable the proxy "
            "behaves exactly as upstream.")),
        cfg.HostAddressOpt('s3_store_proxy_host', help=(
            "The proxy's host name or IP address, without scheme or credentials. Required when "
            "s3_store_enable_proxy is true.")),
        cfg.PortOpt('s3_store_proxy_port', default=8080, min=1, help="The proxy's port (1-65535)."),
        cfg.StrOpt('s3_store_proxy_user', help=(
            "User name for the proxy's Basic authentication, ASCII only. Set together with "
            "s3_store_proxy_password.")),
        cfg.StrOpt('s3_store_proxy_password', secret=True, help=(
            "Password for the proxy's Basic authentication, ASCII only. Reserved characters such as "
            "@ : / % # are allowed: they are percent-encoded in the proxy URL. Write a literal $ as $$ "
            "in the configuration file.")),
        cfg.StrOpt('s3_store_proxy_scheme', default='http', choices=[
            ('http', 'Plain HTTP to the proxy; https endpoints are tunnelled with CONNECT.'),
            ('https', 'TLS to the proxy itself.'),
        ], help="The scheme used to talk to the proxy."),
        cfg.StrOpt('s3_store_proxy_cacert', help=(
            "A CA bundle that signs the proxy's certificate, for s3_store_proxy_scheme = https "
            "(botocore proxy_ca_bundle).")),
        cfg.IntOpt('s3_store_max_retries', min=0, help=(
            "How many times botocore retries a failed S3 request (botocore retries max_attempts, "
            "standard mode). Unset keeps botocore's default. Retries matter behind proxies.")),
    ]


def list_opts():
    """oslo.config's generator entry point (namespace glance_store_s3proxy)."""
    return [('glance_store', store_opts())]
