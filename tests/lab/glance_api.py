"""A real glance-api (uwsgi, no Keystone) for the tests, from Glance's own venv.

uwsgi is the venv's own binary with ``home =`` the venv, so ``site`` adds the
venv's site-packages and processes its ``.pth`` files, as a packaged Glance
does. The unauthenticated paste pipeline is used; admin-only APIs get their
roles from the ``context`` filter headers (lab only).
"""

import os
import signal
import subprocess
import time
import urllib.request

from lab.constants import USER

ADMIN_HEADERS = {'X-Identity-Status': 'Confirmed', 'X-Roles': 'admin,member,reader',
                 'X-Project-Id': 'f0b4fd4ba1b54a6e8c6b9b38e5c7a3a1', 'X-User-Id': 'lab-admin'}

BASE_CONF = """\
[DEFAULT]
enabled_backends = {backends}
debug = false
use_stderr = true
image_size_cap = 4294967296

[database]
connection = sqlite:///{d}/glance.sqlite

[glance_store]
default_backend = {default}

[os_glance_staging_store]
filesystem_store_datadir = {d}/staging

[os_glance_tasks_store]
filesystem_store_datadir = {d}/tasks

[oslo_policy]
enforce_new_defaults = false
enforce_scope = false

[oslo_concurrency]
lock_path = {d}/locks
"""

UWSGI_INI = """\
[uwsgi]
http-socket = {host}:{port}
module = glance.wsgi.api:application
{python_path}
need-app = true
master = true
processes = {processes}
threads = 1
lazy-apps = {lazy_apps}
enable-threads = true
http-auto-chunked = true
http-chunked-input = true
http-raw-body = true
socket-timeout = 60
add-header = Connection: close
buffer-size = 65535
thunder-lock = true
die-on-term = true
env = OS_GLANCE_CONFIG_DIR={conf_dir}
pidfile = {d}/uwsgi.pid
logto = {d}/glance-api.log
"""


def base_conf(workdir, backends, default):
    return BASE_CONF.format(d=workdir, backends=backends, default=default)


def s3_store(lab, name, password=None, user=USER):
    """A store section for the lab's S3 server through its Squid (8 MiB parts from 32 MiB on), as ``user``
    with ``password`` (default: that user's password in the lab)."""
    ident = lab['s3']['identities']['glance']
    password = lab['proxy']['users'][user] if password is None else password
    return ('\n[{n}]\ns3_store_host = {ep}\ns3_store_bucket = glance\ns3_store_access_key = {ak}\n'
            's3_store_secret_key = {sk}\ns3_store_bucket_url_format = path\ns3_store_large_object_size = 32\n'
            's3_store_large_object_chunk_size = 8\ns3_store_thread_pools = 4\ns3_store_max_retries = 3\n'
            's3_store_enable_proxy = true\ns3_store_proxy_host = {h}\ns3_store_proxy_port = {p}\n'
            's3_store_proxy_user = {u}\ns3_store_proxy_password = {pw}\n').format(
        n=name, ep=lab['s3']['http_endpoint'], ak=ident['access_key'], sk=ident['secret_key'],
        h=lab['proxy']['host'], p=lab['proxy']['port'], u=user, pw=password)


class GlanceApi:
    def __init__(self, venv, workdir, port=9292, host='127.0.0.1', processes=2, conf_dir=None, env=None,
                 site='home', lazy_apps=True):
        """``site``: ``home`` (uwsgi home= the venv: .pth files run, as packaged Glance) or ``no-site``
        (uwsgi no-site with pythonpath= site-packages: Glance imports fine, .pth files never run)."""
        self.venv = venv
        self.d = workdir
        self.port = port
        self.host = host
        self.processes = processes
        self.url = 'http://%s:%d' % (host, port)
        self.proc = None
        self.site = site
        self.lazy_apps = lazy_apps
        self.conf_dir = conf_dir or workdir
        self.extra_env = env or {}
        self.conf_file = os.path.join(self.conf_dir, 'glance-api.conf')
        self.log_file = os.path.join(workdir, 'glance-api.log')

    def write_config(self, conf_text):
        for sub in ('staging', 'tasks', 'locks'):
            os.makedirs(os.path.join(self.d, sub), exist_ok=True)
        os.makedirs(self.conf_dir, exist_ok=True)
        with open(self.conf_file, 'w') as f:
            f.write(conf_text)
        paste = os.path.join(self.venv, 'etc', 'glance', 'glance-api-paste.ini')
        with open(paste) as f:
            text = f.read()
        # Lab only: the default (no flavor) pipeline takes roles from headers.
        text = text.replace('default = cors http_proxy_to_wsgi versionnegotiation osprofiler unauthenticated-context',
                            'default = cors http_proxy_to_wsgi versionnegotiation osprofiler context')
        with open(os.path.join(self.conf_dir, 'glance-api-paste.ini'), 'w') as f:
            f.write(text)

    def db_sync(self):
        subprocess.run([os.path.join(self.venv, 'bin', 'glance-manage'), '--config-dir', self.conf_dir, 'db_sync'],
                       check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self._env())

    def _env(self):
        env = {k: v for k, v in os.environ.items() if 'proxy' not in k.lower()}
        env['OS_GLANCE_CONFIG_DIR'] = self.conf_dir
        env.update(self.extra_env)
        return env

    def uwsgi_ini(self):
        if self.site == 'home':
            python_path = 'home = %s' % self.venv
        else:
            import glob  # pylint: disable=import-outside-toplevel
            site_packages = glob.glob(os.path.join(self.venv, 'lib', 'python3*', 'site-packages'))[0]
            python_path = 'no-site = true\npythonpath = %s' % site_packages
        return UWSGI_INI.format(host=self.host, port=self.port, python_path=python_path, d=self.d, conf_dir=self.conf_dir,
                                processes=self.processes, lazy_apps='true' if self.lazy_apps else 'false')

    def pid(self):
        with open(os.path.join(self.d, 'uwsgi.pid')) as f:
            return int(f.read().strip())

    def launch(self, ini):
        """The uwsgi master, started from ``ini`` (a subclass may start it elsewhere, e.g. in a namespace)."""
        return subprocess.Popen([os.path.join(self.venv, 'bin', 'uwsgi'), '--ini', ini],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=self._env(), start_new_session=True)

    def start(self, timeout=60):
        ini = os.path.join(self.d, 'uwsgi.ini')
        with open(ini, 'w') as f:
            f.write(self.uwsgi_ini())
        self.proc = self.launch(ini)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError('glance-api exited: %s' % self.log_tail())
            if self.healthy():
                return
            time.sleep(0.3)
        raise RuntimeError('glance-api not healthy in %ds: %s' % (timeout, self.log_tail()))

    def healthy(self):
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
                    self.url + '/healthcheck', timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def log(self):
        try:
            with open(self.log_file) as f:
                return f.read()
        except OSError:
            return ''

    def log_tail(self, n=40):
        return '\n'.join(self.log().splitlines()[-n:])
