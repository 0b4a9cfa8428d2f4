"""The lab's constants, read from lab/constants.yml, and the values derived from them and from the extension.

lab/constants.yml is the one place that spells the lab's users, passwords, S3 keys, buckets and
addresses; the extension's version is ``__version__`` in its ``__init__.py`` (read as text, never
imported, so any venv can use this module). Everything here is read once, at import.

Imported as ``lab.constants`` by the tests (tests/ on sys.path), as ``constants`` by
tests/lab/netlab.py when that runs as a script, and by lab/bench.py. It needs PyYAML, which every
venv under .cache/ has (through ansible-core, oslo.config or kolla).
"""

import ast
import os
import sys
from urllib.parse import quote

try:
    import yaml
except ImportError as exc:  # every venv of scripts/bootstrap.sh has it
    raise ImportError('tests/lab/constants.py reads lab/constants.yml with PyYAML, which this Python (%s) lacks'
                      % sys.executable) from exc

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FILE = os.path.join(ROOT, 'lab', 'constants.yml')
ROLE = os.path.join(ROOT, 'roles', 'glance_s3_proxy')
EXTENSION_INIT = os.path.join(ROLE, 'files', 'glance-store-s3proxy', 'glance_store_s3proxy', '__init__.py')
ROLE_VARS_FILE = os.path.join(ROLE, 'vars', 'main.yml')


def load(path=FILE):
    """lab/constants.yml, parsed."""
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def extension_version(path=EXTENSION_INIT):
    """The extension's ``__version__``, read from its source without importing it."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '__version__' for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError('no __version__ in %s' % path)


def role_vars(path=ROLE_VARS_FILE):
    """The role's vars/main.yml, parsed (its Jinja2 values stay text)."""
    with open(path, encoding='utf-8') as f:
        return yaml.safe_load(f)


def leak_probes(password):
    """What a leak of ``password`` looks like in a log or an output: the password, its percent-encoded
    forms, and, when it has a ``:``, its part before the first one, plain and encoded (a parser that
    takes that ``:`` for the user:password separator leaks just that part)."""
    head = password.split(':', 1)[0]
    return tuple(dict.fromkeys((password, quote(password, safe=''), quote(password), head, quote(head, safe=''))))


DATA = load()

# Squid's basic-auth users, user: password, in the file's order. The first is the user of every
# single-user test (glance-s3), the second the other store's user (glance-s3b).
USERS = dict(DATA['proxy_users'])
USER, USER_B = list(USERS)[:2]
PASSWORD, PASSWORD_B = USERS[USER], USERS[USER_B]
# The new credential of the reliability case's password rotation (its own Squid only).
(ROTATION_USER, ROTATION_PASSWORD), = DATA['rotation_proxy_user'].items()

# The S3 server's identities: name: {access_key, secret_key, actions}; Glance's is ``glance``.
S3_IDENTITIES = DATA['s3_identities']
ACCESS_KEY = S3_IDENTITIES['glance']['access_key']
SECRET_KEY = S3_IDENTITIES['glance']['secret_key']
BUCKETS = list(DATA['buckets'])

NETLAB = DATA['netlab']  # the network-namespace lab: namespaces, addresses, names, ports
DOCKER = DATA['docker']  # the Docker lab: networks, containers, Squid's port

# The extension: its version, the wheel the role ships (vars/main.yml's __glance_s3_proxy_wheel) and
# the requirement OpenStack-Ansible's pip gets (__glance_s3_proxy_osa_pip).
VERSION = extension_version()
WHEEL = 'glance_store_s3proxy-%s-py3-none-any.whl' % VERSION
WHEEL_PATH = os.path.join(ROLE, 'files', WHEEL)
DIST_INFO = 'glance_store_s3proxy-%s.dist-info' % VERSION
PIP_REQUIREMENT = 'glance-store-s3proxy==%s' % VERSION
