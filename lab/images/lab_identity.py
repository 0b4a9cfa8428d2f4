"""Lab only: the identity of a request that carries none (the lab's glance-api has no Keystone).

A paste filter in front of Glance's ``context`` filter. A request without ``X-Identity-Status``
(python-openstackclient with ``--os-auth-type none``, curl) gets the lab's project with the
admin, member and reader roles; a request that sends identity headers keeps its own. Never put
this in front of a Glance that is reachable by anyone else.
"""

DEFAULTS = {
    'HTTP_X_IDENTITY_STATUS': 'Confirmed',
    'HTTP_X_ROLES': 'admin,member,reader',
    'HTTP_X_PROJECT_ID': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1',
    'HTTP_X_USER_ID': 'lab',
}


def filter_factory(_global_conf, **_local_conf):
    def wrap(app):
        def lab_identity(environ, start_response):
            if 'HTTP_X_IDENTITY_STATUS' not in environ:
                environ.update(DEFAULTS)
            return app(environ, start_response)
        return lab_identity
    return wrap
