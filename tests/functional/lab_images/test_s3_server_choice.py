"""How the lab picks its S3 server (scripts/s3-server.sh, scripts/build-images.sh).

Run against the lab's real Docker engine. No MinIO image exists on this
machine and no registry answers, so "a MinIO image is present" is played by a
local image tagged with a MinIO name: these tests prove the choice and its
errors, not MinIO itself.
"""

import io
import os
import re
import subprocess
import tarfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PINNED = 'minio/minio:RELEASE.2025-04-22T22-12-26Z'
ABSENT = 'glancestore-test/minio-absent:1'
STAND_IN = 'glancestore-test/minio-present:1'


@pytest.fixture(scope='module')
def docker_env():
    out = subprocess.run(['bash', 'scripts/docker-engine.sh', 'up'], cwd=ROOT, check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    host = re.search(r'DOCKER_HOST=(\S+)', out).group(1)
    env = dict(os.environ, DOCKER_HOST=host)
    for name in ('LAB_S3_SERVER', 'LAB_MINIO_IMAGE', 'LAB_MINIO_PULL_TIMEOUT'):
        env.pop(name, None)
    return env


def docker(env, *args, check=True):
    return subprocess.run(['docker'] + list(args), env=env, check=check, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


@pytest.fixture(scope='module')
def any_local_image(docker_env):
    """A tiny image of this engine (one empty file), to stand in for a MinIO image."""
    name = 'glancestore-test/empty:1'
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        tar.addfile(tarfile.TarInfo('empty'), io.BytesIO(b''))
    subprocess.run(['docker', 'import', '-', name], input=buf.getvalue(), env=docker_env, check=True,
                   stdout=subprocess.DEVNULL)
    yield name
    docker(docker_env, 'rmi', name, check=False)


@pytest.fixture
def stand_in(docker_env, any_local_image):
    docker(docker_env, 'tag', any_local_image, STAND_IN)
    yield STAND_IN
    docker(docker_env, 'rmi', STAND_IN, check=False)


def choose(env, **settings):
    proc = subprocess.run(['bash', 'scripts/s3-server.sh'], cwd=ROOT, env=dict(env, **settings),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    return proc.returncode, proc.stdout.strip(), proc.stderr.strip()


@pytest.mark.parametrize('name, value, needle', [
    ('LAB_S3_SERVER', 'ceph', "LAB_S3_SERVER='ceph' is not one of auto, minio, seaweedfs"),
    ('LAB_MINIO_PULL_TIMEOUT', '2m', "LAB_MINIO_PULL_TIMEOUT='2m' is not a positive whole number of seconds"),
    ('LAB_MINIO_PULL_TIMEOUT', '0', "LAB_MINIO_PULL_TIMEOUT='0' is not a positive whole number of seconds"),
    ('LAB_MINIO_IMAGE', 'MinIO Latest', "LAB_MINIO_IMAGE='MinIO Latest' is not an image reference"),
    ('LAB_MINIO_IMAGE', 'MinIO/minio:1', "LAB_MINIO_IMAGE='MinIO/minio:1' is not an image reference"),
])
def test_bad_setting_is_refused_with_the_fix(docker_env, name, value, needle):
    rc, out, err = choose(docker_env, **{name: value})
    assert rc == 2 and out == ''
    assert needle in err and 'Fix:' in err


@pytest.mark.parametrize('image', [PINNED, 'quay.io/minio/minio:latest', 'registry.example:5000/minio/minio',
                                   'minio/minio@sha256:' + '0' * 64])
def test_image_references_are_accepted(docker_env, image):
    rc, out, err = choose(docker_env, LAB_S3_SERVER='seaweedfs', LAB_MINIO_IMAGE=image)
    assert (rc, out) == (0, 'LAB_S3_SERVER=seaweedfs LAB_MINIO_IMAGE='), err


def test_seaweedfs_on_request(docker_env):
    rc, out, err = choose(docker_env, LAB_S3_SERVER='seaweedfs', LAB_MINIO_IMAGE=ABSENT)
    assert rc == 0
    assert out == 'LAB_S3_SERVER=seaweedfs LAB_MINIO_IMAGE='
    assert err == 's3-server: seaweedfs (LAB_S3_SERVER=seaweedfs)'  # no pull was tried


def test_auto_falls_back_to_seaweedfs_when_no_minio_image_can_be_had(docker_env):
    rc, out, err = choose(docker_env, LAB_MINIO_IMAGE=ABSENT, LAB_MINIO_PULL_TIMEOUT='60')
    assert rc == 0
    assert out == 'LAB_S3_SERVER=seaweedfs LAB_MINIO_IMAGE='
    assert 'no MinIO image here and docker pull %s failed: ' % ABSENT in err
    assert docker(docker_env, 'image', 'inspect', ABSENT, check=False).returncode != 0


def test_minio_on_request_without_an_image_is_an_error(docker_env):
    rc, out, err = choose(docker_env, LAB_S3_SERVER='minio', LAB_MINIO_IMAGE=ABSENT)
    assert rc == 2 and out == ''
    assert 'LAB_S3_SERVER=minio, but the MinIO image %s is not in this Docker engine' % ABSENT in err
    assert 'docker pull failed: ' in err
    assert 'Fix: load it' in err and 'LAB_MINIO_IMAGE' in err and 'unset LAB_S3_SERVER' in err


@pytest.mark.parametrize('server', ['auto', 'minio'])
def test_present_image_is_chosen(docker_env, stand_in, server):
    rc, out, err = choose(docker_env, LAB_S3_SERVER=server, LAB_MINIO_IMAGE=stand_in)
    assert rc == 0
    assert out == 'LAB_S3_SERVER=minio LAB_MINIO_IMAGE=%s' % stand_in
    assert err == 's3-server: minio (image %s is present (LAB_MINIO_IMAGE))' % stand_in


def test_auto_finds_a_local_minio_image_by_its_repository(docker_env, any_local_image):
    local = 'minio/minio:glancestore-test'
    docker(docker_env, 'tag', any_local_image, local)
    try:
        rc, out, err = choose(docker_env)
    finally:
        docker(docker_env, 'rmi', local, check=False)
    pinned_here = docker(docker_env, 'image', 'inspect', PINNED, check=False).returncode == 0
    expected = PINNED if pinned_here else local
    assert rc == 0
    assert out == 'LAB_S3_SERVER=minio LAB_MINIO_IMAGE=%s' % expected
    assert err == 's3-server: minio (image %s is present)' % expected


def test_build_refuses_an_image_without_the_minio_server(docker_env, stand_in):
    before = docker(docker_env, 'images', '-q', 'glancestore-lab-s3').stdout.split()
    proc = subprocess.run(['bash', 'scripts/build-images.sh'], cwd=ROOT,
                          env=dict(docker_env, LAB_S3_SERVER='minio', LAB_MINIO_IMAGE=stand_in),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)
    assert proc.returncode == 2 and proc.stdout == ''
    assert 'the image %s has no /usr/bin/minio, so it is not a MinIO server image' % stand_in in proc.stderr
    assert 'Fix: point LAB_MINIO_IMAGE at a MinIO server image' in proc.stderr
    assert docker(docker_env, 'images', '-q', 'glancestore-lab-s3').stdout.split() == before
    assert docker(docker_env, 'ps', '-aq', '--filter', 'ancestor=%s' % stand_in).stdout.strip() == ''
