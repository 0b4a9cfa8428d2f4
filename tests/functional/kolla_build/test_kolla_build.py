"""The kolla style's kolla-build files, built with the real kolla-build.

The role runs with ansible-playbook against localhost and writes its files into
a temporary root; then the kolla-build command the role prints ("Show the kolla
steps that follow") runs as printed, plus --template-only and --work-dir, so
kolla renders the Dockerfiles without Docker. The operator keeps a base
kolla-build.conf (base, registry, namespace, tag, a template_override of their
own) and, in one scenario, a template override with its own glance_api_footer.

Runs in .cache/venv-kolla (tests/requirements-kolla.txt: kolla 23.0.0, the
docker library kolla-build imports even for --template-only, pytest), made
with Debian's /usr/bin/python3 so that a user other than root can run it:

    /usr/bin/python3 -m venv .cache/venv-kolla
    .cache/venv-kolla/bin/pip install -r tests/requirements-kolla.txt
    .cache/venv-kolla/bin/python -m pytest tests/functional/kolla_build
"""

import json
import os
import pwd
import shlex
import shutil
import re
import stat
import subprocess
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, 'tests'))

from lab.ansible_runner import ROLE_PLAYBOOK, TOOLS_BIN, run_playbook  # noqa: E402
from lab.constants import ACCESS_KEY, PASSWORD, SECRET_KEY, WHEEL  # noqa: E402

KOLLA_BIN = os.path.join(ROOT, '.cache', 'venv-kolla', 'bin')
KOLLA_BUILD = os.path.join(KOLLA_BIN, 'kolla-build')
BUILD_USER = 'kollabuild'  # the non-root user that runs kolla-build in the K3 test

pytestmark = [
    pytest.mark.skipif(not os.path.exists(KOLLA_BUILD),
                       reason='needs .cache/venv-kolla (tests/requirements-kolla.txt)'),
    pytest.mark.skipif(not os.path.exists(os.path.join(TOOLS_BIN, 'ansible-playbook')),
                       reason='needs .cache/venv-tools (ansible-playbook)'),
]

OPERATOR_CONF = """\
[DEFAULT]
base = debian
registry = registry.example.com:5000
namespace = opsns
tag = 2026.2-x
"""

# An override the operator lists in their kolla-build.conf: kolla-build adds it to every build.
OPERATOR_HEADER_OVERRIDE = """\
{% extends parent_template %}

{% block glance_api_header %}
RUN echo operator-conf-header
{% endblock %}
"""

# The operator's own override, with its own glance_api_footer (and Jinja the merge must keep as is).
OPERATOR_FOOTER_OVERRIDE = """\
{# the operator's overrides #}
{% extends parent_template %}

{% set glance_api_packages_append = ['jq'] %}

{% block glance_api_footer %}
RUN echo operator-footer {{ image_name }} \\
    && echo "{{ '{{' }} literal {{ '}}' }}"
{% endblock glance_api_footer %}

{% block openstack_base_footer %}
RUN echo operator-openstack-base-footer
{% endblock %}
"""

OUR_FOOTER = [
    'ADD additions-archive /',
    "RUN /var/lib/kolla/venv/bin/pip install --no-index --no-deps $(find /additions -name '%s' | head -n 1)" % WHEEL,
    '&& GLANCE_STORE_S3PROXY_RUNTIME_DIR=/tmp/glance-store-s3proxy-build /var/lib/kolla/venv/bin/python -m'
    ' glance_store_s3proxy --status',
    '&& rm -rf /tmp/glance-store-s3proxy-build',
]

STORE_VARS = {
    'glance_s3_proxy_deployment_style': 'kolla',
    'glance_s3_proxy_preflight': False,
    'glance_s3_proxy_restart_method': 'none',
    'glance_s3_proxy_other_backends': ['file:file'],
    'glance_s3_proxy_stores': [
        {'name': 'fast', 'endpoint': 'https://s3.example.com', 'bucket': 'glance', 'default': True,
         'access_key': ACCESS_KEY, 'secret_key': SECRET_KEY},
    ],
    'glance_s3_proxy_proxy': {'enabled': True, 'host': 'proxy.example.com', 'port': 3128,
                              'user': 'glance-s3', 'password': PASSWORD},
}

# What kolla-build itself makes of the printed command, up to the image list
# (kolla.image.build.run_build without the Docker steps, for glance-api only):
# the glance-api image's name and additions, as JSON.
KOLLA_IMAGES = """\
import json, sys
from oslo_config import cfg
from kolla.common import config as common_config
from kolla.image.kolla_worker import KollaWorker
conf = cfg.ConfigOpts()
common_config.parse(conf, sys.argv[1:], prog='kolla-build')
kolla = KollaWorker(conf)
kolla.setup_working_dir()
kolla.find_dockerfiles()
kolla.docker_build_paths = [p for p in kolla.docker_build_paths if p.endswith('/glance-api')]
kolla.create_dockerfiles()
kolla.build_image_list()
image = next(i for i in kolla.images if i.name == 'glance-api')
print(json.dumps({'canonical_name': image.canonical_name, 'additions': image.additions}))
"""


def make_root(prefix):
    """A temporary root that other users can traverse, as / is, with the deploy host's /etc/kolla."""
    root = tempfile.mkdtemp(prefix=prefix)
    os.chmod(root, 0o755)
    os.makedirs(os.path.join(root, 'etc', 'kolla'), mode=0o755)
    return root


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def operator_files(root):
    """The operator's kolla-build.conf and the override it lists, outside the paths the role creates."""
    header = write(os.path.join(root, 'operator', 'header-overrides.j2'), OPERATOR_HEADER_OVERRIDE)
    conf = write(os.path.join(root, 'operator', 'kolla-build.conf'), OPERATOR_CONF + 'template_override = %s\n' % header)
    os.chmod(os.path.dirname(conf), 0o755)
    return conf


def role_vars(root, **extra):
    variables = dict(STORE_VARS)
    variables.update({
        # <root>/etc does not exist yet: the role creates the whole path, as it does /etc/kolla on a new host.
        'glance_s3_proxy_kolla_config_dir': os.path.join(root, 'etc', 'kolla', 'config'),
        'glance_s3_proxy_kolla_build_dir': os.path.join(root, 'etc', 'kolla', 'glance-store-s3proxy'),
        'glance_s3_proxy_kolla_globals': os.path.join(root, 'etc', 'kolla', 'globals.yml'),
    })
    variables.update(extra)
    return variables


def converge(root, variables):
    """Apply the role; return the run and the steps it prints (the debug task's msg)."""
    run = run_playbook(ROLE_PLAYBOOK, variables, root, timeout=300)
    steps = None
    task = run.output.find(': Show the kolla steps that follow]')
    if run.rc == 0 and task >= 0:
        start = run.output.index('ok: [localhost] => {', task) + len('ok: [localhost] => ')
        steps = json.JSONDecoder().raw_decode(run.output, start)[0]['msg']
    return run, steps


def printed_command(steps):
    """The kolla-build command line the role prints, as argv."""
    lines = [line.strip() for line in steps if line.strip().startswith('kolla-build ')]
    assert len(lines) == 1, steps
    argv = shlex.split(lines[0])
    argv[0] = KOLLA_BUILD  # the kolla-build of .cache/venv-kolla
    return argv


def kolla_build(argv, work_dir, user=None):
    """Run the printed command, rendering only (no Docker); return (rc, log, glance-api Dockerfile or None)."""
    cmd = argv + ['--template-only', '--work-dir', work_dir]
    if user:
        cmd = ['runuser', '-u', user, '--'] + cmd
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          cwd='/', timeout=300, check=False)
    dockerfile = os.path.join(work_dir, 'docker', 'glance', 'glance-api', 'Dockerfile')
    content = None
    if proc.returncode == 0 and os.path.exists(dockerfile):
        with open(dockerfile) as f:
            content = f.read()
    return proc.returncode, proc.stdout, content


def dockerfile_of(work_dir, *parts):
    with open(os.path.join(work_dir, 'docker', *parts, 'Dockerfile')) as f:
        return f.read()


def froms(dockerfile):
    return [line for line in dockerfile.splitlines() if line.startswith('FROM ')]


def assert_installs_wheel(dockerfile):
    body = dockerfile.replace('\\\n', ' ')
    for line in OUR_FOOTER:
        assert ' '.join(line.split()) in ' '.join(body.split()), (line, dockerfile)
    lines = [line.strip() for line in dockerfile.splitlines() if line.strip()]
    # After glance-api's own steps and before the image drops root.
    assert lines.index('ADD additions-archive /') > lines.index('RUN chmod 644 /usr/local/bin/kolla_glance_extend_start')
    assert lines.index('ADD additions-archive /') < lines.index('USER glance')
    assert lines[-1] == 'USER glance'


def ensure_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], check=True)
    return name


@pytest.fixture(scope='module')
def plain():
    """The role applied with the operator's kolla-build.conf and no operator override of its own."""
    root = make_root('kolla-build-plain-')
    conf = operator_files(root)
    run, steps = converge(root, role_vars(root, glance_s3_proxy_kolla_build_base_config=conf))
    assert run.rc == 0, run.output[-4000:]
    yield {'root': root, 'conf': conf, 'steps': steps, 'vars': role_vars(root)}
    shutil.rmtree(root, ignore_errors=True)


def test_printed_command_keeps_the_operators_kolla_build_conf(plain):
    """K1: the build keeps the operator's base, registry, namespace and tag, and installs the wheel."""
    argv = printed_command(plain['steps'])
    work = os.path.join(plain['root'], 'work-root')
    rc, log, dockerfile = kolla_build(argv, work)
    assert rc == 0, log[-4000:]
    assert dockerfile is not None, log[-4000:]

    assert_installs_wheel(dockerfile)
    # The operator's settings: registry/namespace and tag in every FROM of the chain, base=debian.
    assert froms(dockerfile) == ['FROM registry.example.com:5000/opsns/glance-base:2026.2-x']
    assert froms(dockerfile_of(work, 'glance', 'glance-base')) == \
        ['FROM registry.example.com:5000/opsns/openstack-base:2026.2-x']
    assert froms(dockerfile_of(work, 'openstack-base')) == ['FROM registry.example.com:5000/opsns/base:2026.2-x']
    assert froms(dockerfile_of(work, 'base')) == ['FROM debian:trixie']
    # The override the operator lists in that file still applies.
    assert 'RUN echo operator-conf-header' in dockerfile

    # kolla's own image list for the same command: the image name, and the additions section it reads.
    proc = subprocess.run([os.path.join(KOLLA_BIN, 'python'), '-c', KOLLA_IMAGES] + argv[1:]
                          + ['--template-only', '--work-dir', os.path.join(plain['root'], 'work-list')],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-4000:]
    image = json.loads(proc.stdout.strip().splitlines()[-1])
    assert image['canonical_name'] == 'registry.example.com:5000/opsns/glance-api:2026.2-x'
    additions = plain['vars']['glance_s3_proxy_kolla_build_dir'] + '/glance-api-additions'
    assert [(a['name'], a['type'], a['source']) for a in image['additions']] == \
        [('glance-api-additions-s3proxy', 'local', additions)]
    assert os.listdir(additions) == [WHEEL]


def test_non_root_kolla_build_reads_the_build_dir(plain):
    """K3: a kolla-build user that is not root reads every file the role wrote for it."""
    user = ensure_user(BUILD_USER)
    proc = subprocess.run(['runuser', '-u', user, '--', os.path.join(KOLLA_BIN, 'python'), '-c', 'import kolla'],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, ('%s cannot run .cache/venv-kolla: make it with a Python outside /root '
                                  '(/usr/bin/python3 -m venv), see tests/requirements-kolla.txt\n%s' % (user, proc.stdout))
    build_dir = plain['vars']['glance_s3_proxy_kolla_build_dir']
    work = os.path.join(plain['root'], 'work-user')
    os.makedirs(work)
    os.chown(work, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
    rc, log, dockerfile = kolla_build(printed_command(plain['steps']), work, user=user)
    assert rc == 0, log[-4000:]
    assert_installs_wheel(dockerfile)

    for path in (build_dir, build_dir + '/glance-api-additions'):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o755, path
    for name in ('kolla-build.conf', 'template-overrides.j2', 'glance-api-additions/' + WHEEL):
        assert stat.S_IMODE(os.stat(os.path.join(build_dir, name)).st_mode) == 0o644, name
        proc = subprocess.run(['runuser', '-u', user, '--', 'cat', os.path.join(build_dir, name)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, universal_newlines=True, check=False)
        assert proc.returncode == 0, proc.stderr
    # The glance-api.conf override holds secrets: it stays 0640 in a 0750 directory.
    config = plain['vars']['glance_s3_proxy_kolla_config_dir']
    assert stat.S_IMODE(os.stat(config + '/glance').st_mode) == 0o750
    assert stat.S_IMODE(os.stat(config + '/glance/glance-api.conf').st_mode) == 0o640


def test_operator_override_with_its_own_footer():
    """K2: the operator's override defines glance_api_footer too; the build has both footers, once."""
    root = make_root('kolla-build-footer-')
    try:
        conf = operator_files(root)
        footer = write(os.path.join(root, 'operator', 'footer-overrides.j2'), OPERATOR_FOOTER_OVERRIDE, mode=0o640)
        run, steps = converge(root, role_vars(root, glance_s3_proxy_kolla_build_base_config=conf,
                                              glance_s3_proxy_kolla_template_overrides=[footer]))
        assert run.rc == 0, run.output[-4000:]
        argv = printed_command(steps)
        # One override for both: the operator's is merged into the role's, not passed again.
        ours = os.path.join(root, 'etc', 'kolla', 'glance-store-s3proxy', 'template-overrides.j2')
        assert argv[argv.index('--template-override') + 1] == ours and footer not in argv

        work = os.path.join(root, 'work')
        rc, log, dockerfile = kolla_build(argv, work)
        assert rc == 0, log[-4000:]
        assert dockerfile is not None, log[-4000:]
        assert_installs_wheel(dockerfile)
        # The operator's footer, rendered by kolla as before (its Jinja evaluated by kolla, not by Ansible).
        assert 'RUN echo operator-footer glance-api \\\n    && echo "{{ literal }}"' in dockerfile
        assert dockerfile.count('operator-footer') == 1
        assert dockerfile.count('ADD additions-archive /') == 1
        lines = [line.strip() for line in dockerfile.splitlines() if line.strip()]
        assert lines.index('ADD additions-archive /') < lines.index('RUN echo operator-footer glance-api \\') \
            < lines.index('USER glance')
        # The rest of the operator's override, and the one their kolla-build.conf lists, still apply.
        assert 'jq' in dockerfile.split('COPY extend_start.sh')[0]
        assert 'RUN echo operator-conf-header' in dockerfile
        assert 'RUN echo operator-openstack-base-footer' in dockerfile_of(work, 'openstack-base')
        assert froms(dockerfile) == ['FROM registry.example.com:5000/opsns/glance-base:2026.2-x']
        # The role's override holds the operator's, so it is no more readable than theirs.
        assert stat.S_IMODE(os.stat(ours).st_mode) == 0o640

        # What the operator had before: their override next to the role's stops kolla-build.
        standalone = write(os.path.join(root, 'standalone.j2'),
                           '{% extends parent_template %}\n{% block glance_api_footer %}\n'
                           + '\n'.join(OUR_FOOTER[:2]) + '\n{% endblock %}\n')
        rc, log, _dockerfile = kolla_build([KOLLA_BUILD, '--config-file', conf, '--template-override', footer,
                                           '--template-override', standalone, 'glance-api'], os.path.join(root, 'work-both'))
        assert rc != 0 and "block 'glance_api_footer' defined twice" in log, log[-2000:]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_footer_override_listed_in_the_operators_conf_is_refused():
    """K2: kolla-build adds a template_override of kolla-build.conf to every build: when that one defines
    glance_api_footer, no second override can add to it, so the role stops and says what to do."""
    root = make_root('kolla-build-conf-footer-')
    try:
        footer = write(os.path.join(root, 'operator', 'footer-overrides.j2'), OPERATOR_FOOTER_OVERRIDE)
        conf = write(os.path.join(root, 'operator', 'kolla-build.conf'), OPERATOR_CONF + 'template_override = %s\n' % footer)
        run, _merged = converge(root, role_vars(root, glance_s3_proxy_kolla_build_base_config=conf))
        assert run.rc != 0
        assert 'glance_s3_proxy_kolla_template_overrides' in run.output and footer in run.output, run.output[-3000:]
        # The role stopped before it changed anything.
        assert os.listdir(os.path.join(root, 'etc', 'kolla')) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_role_override_listed_in_the_operators_conf():
    """The operator merged the role's override into their kolla-build.conf: the command does not add it again."""
    root = make_root('kolla-build-listed-')
    try:
        build_dir = os.path.join(root, 'etc', 'kolla', 'glance-store-s3proxy')
        conf = write(os.path.join(root, 'operator', 'kolla-build.conf'),
                     OPERATOR_CONF + 'template_override = %s/template-overrides.j2\n' % build_dir)
        run, steps = converge(root, role_vars(root, glance_s3_proxy_kolla_build_base_config=conf))
        assert run.rc == 0, run.output[-4000:]
        argv = printed_command(steps)
        assert '--template-override' not in argv
        rc, log, dockerfile = kolla_build(argv, os.path.join(root, 'work'))
        assert rc == 0, log[-4000:]
        assert_installs_wheel(dockerfile)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- kolla-ansible's side of the deploy host (K4 to K8) ---------------------------------------------------------


def kolla_tree(root, owner=None, globals_text=None):
    """The deploy host's /etc/kolla: owned by ``owner`` (kolla's quickstart: the deploying user), with globals.yml."""
    kolla = os.path.join(root, 'etc', 'kolla')
    if globals_text is not None:
        write(os.path.join(kolla, 'globals.yml'), globals_text)
    if owner:
        shutil.chown(kolla, owner, owner)
    return kolla


def test_the_override_follows_the_owner_of_etc_kolla_and_kollas_backends_stay():
    """K4, K5, K8: the deploying user owns /etc/kolla, so the role's override is theirs (0640) and in a
    directory only they read; enabled_backends keeps kolla's own backends (globals.yml, then globals.d);
    the steps pull before reconfigure."""
    root = make_root('kolla-ansible-owner-')
    try:
        user = ensure_user('kollabuild')
        kolla = kolla_tree(root, user, 'enable_cinder: "yes"\n')
        # kolla-ansible reads globals.d after globals.yml: ceph there turns kolla's file store off.
        write(os.path.join(kolla, 'globals.d', 'storage.yml'), 'glance_backend_ceph: yes\n')
        run, steps = converge(root, role_vars(root))
        assert run.rc == 0, run.output[-4000:]
        override = os.path.join(kolla, 'config', 'glance', 'glance-api.conf')
        for path, mode in ((os.path.join(kolla, 'config'), 0o755), (os.path.dirname(override), 0o750),
                           (override, 0o640)):
            st = os.stat(path)
            assert (pwd.getpwuid(st.st_uid).pw_name, stat.S_IMODE(st.st_mode)) == (user, mode), path
        with open(override) as f:
            text = f.read()
        assert 'enabled_backends = file:file, http:http, cinder:cinder, rbd:rbd, fast:s3\n' in text
        assert not any('glance_api_hosts' in line for line in steps), steps  # ceph: glance-api on every host
        pull = steps.index('   kolla-ansible pull -i INVENTORY -t glance')
        assert steps.index('   kolla-ansible reconfigure -i INVENTORY -t glance') > pull
        # A second run changes nothing, and leaves the directories as they are.
        again, _steps = converge(root, role_vars(root))
        assert again.rc == 0 and re.search(r'localhost\s*:\s*ok=\d+\s+changed=0\b', again.output), again.output[-3000:]
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_an_existing_glance_directory_is_left_as_it_is():
    """K4: no takeover: the operator's glance directory keeps its owner and mode."""
    root = make_root('kolla-ansible-existing-')
    try:
        kolla = kolla_tree(root, globals_text='glance_backend_file: "no"\n')
        glance_dir = os.path.join(kolla, 'config', 'glance')
        os.makedirs(glance_dir)
        os.chmod(glance_dir, 0o2770)
        run, _steps = converge(root, role_vars(root))
        assert run.rc == 0, run.output[-4000:]
        assert stat.S_IMODE(os.stat(glance_dir).st_mode) == 0o2770
        with open(os.path.join(glance_dir, 'glance-api.conf')) as f:
            assert 'enabled_backends = file:file, http:http, fast:s3\n' in f.read()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_the_file_backend_on_one_host_is_a_warning():
    """K6: with kolla's defaults (file store on kolla's glance volume), glance-api runs on one host only."""
    root = make_root('kolla-ansible-file-')
    try:
        kolla_tree(root, globals_text='kolla_base_distro: debian\n')
        run, steps = converge(root, role_vars(root))
        assert run.rc == 0, run.output[-4000:]
        assert any('glance_api_hosts' in line and line.startswith('WARNING') for line in steps), steps
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_glance_directory_kolla_ansibles_user_cannot_enter_stops_the_role():
    """K4: the override would be skipped by merge_configs without a word; the role says so instead."""
    root = make_root('kolla-ansible-unreachable-')
    try:
        user = ensure_user('kollabuild')
        kolla = kolla_tree(root, user, 'glance_backend_file: "no"\n')
        write(os.path.join(kolla, 'passwords.yml'), 'database_password: x\n', mode=0o640)
        shutil.chown(os.path.join(kolla, 'passwords.yml'), user, user)
        os.makedirs(os.path.join(kolla, 'config', 'glance'))
        os.chmod(os.path.join(kolla, 'config', 'glance'), 0o700)  # root's
        run, _steps = converge(root, role_vars(root))
        assert run.rc != 0
        assert 'kollabuild' in run.output and 'cannot enter' in run.output and 'nothing was changed' in run.output, \
            run.output[-3000:]
        assert os.listdir(os.path.join(kolla, 'config', 'glance')) == []
    finally:
        shutil.rmtree(root, ignore_errors=True)


REFUSALS = {
    'legacy': ({'glance_s3_proxy_store_mode': 'legacy'}, None, None,
               'glance_s3_proxy_store_mode is legacy while glance_s3_proxy_deployment_style is kolla'),
    'foreign override': ({}, None, ('glance-api.conf', '[DEFAULT]\ndebug = true\n'), 'was not written by this role'),
    'later host file': ({}, None, ('node1/glance-api.conf', '[fast]\ns3_store_enable_proxy = false\n'),
                        'is merged after the role'),
    'kolla s3 store': ({}, 'glance_backend_s3: "yes"\n', None, 'would reach S3 without a proxy'),
    'templated flag': ({}, 'enable_cinder: "{{ enable_openstack_core }}"\n', None, 'enable_cinder in'),
    'vaulted flag': ({}, 'enable_cinder: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\n', None, 'encrypted (!vault)'),
    'not yes or no': ({}, 'glance_backend_ceph: "y"\n', None, 'must be yes or no'),
    'orphan option': ({}, None, ('node1/glance-api.conf', 's3_store_enable_proxy = false\n[DEFAULT]\ndebug = true\n'),
                      'before any [section]'),
    'build dir is kolla': ({'glance_s3_proxy_kolla_build_dir': '/etc/kolla'}, None, None, 'a directory of its own'),
}


@pytest.mark.parametrize('case', sorted(REFUSALS))
def test_what_kolla_ansible_would_undo_stops_the_role_before_any_change(case):
    """K4, K5, K7: a setting kolla-ansible would ignore, a file the role would take over, a later file that would
    undo the proxy, or kolla's own s3 store going direct: the role stops, names it, and changes nothing."""
    extra, globals_text, existing, needle = REFUSALS[case]
    root = make_root('kolla-ansible-refused-')
    try:
        kolla = kolla_tree(root, globals_text=globals_text)
        if existing:
            write(os.path.join(kolla, 'config', 'glance', existing[0]), existing[1], mode=0o600)
        before = sorted(os.path.join(d, f) for d, _dirs, files in os.walk(kolla) for f in files)
        run, _steps = converge(root, role_vars(root, **extra))
        assert run.rc != 0
        assert needle in run.output and 'nothing was changed' in run.output, run.output[-3000:]
        assert sorted(os.path.join(d, f) for d, _dirs, files in os.walk(kolla) for f in files) == before
        if existing:
            with open(os.path.join(kolla, 'config', 'glance', existing[0])) as f:
                assert f.read() == existing[1]
    finally:
        shutil.rmtree(root, ignore_errors=True)
