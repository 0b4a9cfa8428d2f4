"""The lab's Glance API from the host, with python-openstackclient, as make lab's report prints it.

Against a running `make lab`: the commands are lab/report.py's own (``openstack_commands()``, what the
report prints), run with a file of random data and an image name of this test's. The image must
become active in the S3 store behind the proxy with the right checksums, come back byte for byte,
and its PUT to S3 must be in Squid's access.log under the proxy user. It fails when the API is not
published on the host's 127.0.0.1:9292, or when the image reaches S3 by any other way than the proxy.
"""

import hashlib
import importlib.util
import json
import os
import subprocess
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
SIZE = 4 * 1024 * 1024  # below the lab store's large_object_size (32 MB): one PUT to S3


def _load_report():
    spec = importlib.util.spec_from_file_location('lab_report', os.path.join(ROOT, 'lab', 'report.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


report = _load_report()


def run(argv):
    env = dict(os.environ)
    for name in list(env):  # the lab's API is on the host's loopback: no proxy of the environment
        if name.lower() in ('http_proxy', 'https_proxy', 'all_proxy'):
            del env[name]
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False, env=env, timeout=300)


@pytest.fixture(scope='module')
def lab_up():
    if not os.path.exists(report.OPENSTACK):
        pytest.fail('python-openstackclient is not installed: python3.11 -m venv %s && %s/bin/pip install -r '
                    'tests/requirements-openstackclient.txt' % (report.OPENSTACK_VENV, report.OPENSTACK_VENV))
    try:
        running = report.docker('inspect', '--format', '{{.State.Running}}', report.CONTAINERS['glance']).strip()
    except RuntimeError as exc:
        pytest.fail('the Docker lab is not up (make lab): %s' % exc)
    assert running == 'true', 'the Docker lab is not up (make lab): %s is not running' % report.CONTAINERS['glance']


@pytest.fixture
def image(tmp_path, lab_up):
    """A file of random data, an image name of this test's; the image is deleted afterwards."""
    data = os.urandom(SIZE)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    name = 'lab-cli-test-%s' % uuid.uuid4().hex[:12]
    yield {'path': str(path), 'saved': str(tmp_path / 'image.saved'), 'name': name, 'data': data}
    run(report.openstack('image', 'delete', name))


def test_the_api_is_published_on_the_hosts_loopback_only(lab_up):
    ok, text = report.published_api()
    assert ok, text


def test_the_printed_openstack_commands_store_an_image_through_the_proxy(image):
    commands = report.openstack_commands(image['path'], image['name'], image['saved'])
    assert commands['create'][:5] == [report.OPENSTACK, '--os-auth-type', 'none', '--os-endpoint', report.API_URL]
    log_before = len(report.squid_log())

    created = run(commands['create'])
    assert created.returncode == 0, created.stdout + created.stderr

    shown = run(report.openstack('image', 'show', '-f', 'json', image['name']))
    assert shown.returncode == 0, shown.stderr
    shown = json.loads(shown.stdout)
    info = dict(shown.pop('properties', None) or {}, **shown)  # openstackclient lists some fields as properties
    assert info['status'] == 'active', info
    assert info['size'] == SIZE
    assert info['checksum'] == hashlib.md5(image['data']).hexdigest()
    assert info['os_hash_algo'] == 'sha512'
    assert info['os_hash_value'] == hashlib.sha512(image['data']).hexdigest()
    # In the default store, the S3 one behind the proxy (not Glance's file store).
    assert info['stores'] == 's3_images', info

    saved = run(commands['save'])
    assert saved.returncode == 0, saved.stdout + saved.stderr
    with open(image['saved'], 'rb') as f:
        assert f.read() == image['data']

    # Squid forwarded the PUT of the object (the image's id is its key) under the proxy user.
    lines = [line for line in report.squid_log()[log_before:] if info['id'] in line]
    puts = [line for line in lines if ' PUT http://s3:8333/glance/%s ' % info['id'] in line]
    assert puts, 'no PUT of the image in Squid\'s access.log, the image did not go through the proxy: %s' % lines
    assert all(line.split()[7] == report.PROXY_USER and '/200 ' in line for line in puts), puts
