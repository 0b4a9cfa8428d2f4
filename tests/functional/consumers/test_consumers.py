"""The tools that re-read the role's output keep every value exactly.

kolla-ansible's merge_configs action runs the kolla-style override through
Ansible's templar; OpenStack-Ansible loads user_variables_glance_s3proxy.yml as
templated extra vars and renders os_glance's glance-api.conf template with them.
The role's real templates render the files here; the real kolla-ansible (22.2.0)
merge_configs and a real ansible-playbook -e @file re-read them; the real
oslo.config reads the result. Secrets hold Jinja, '$', quotes and a command
that must never run.

os_glance writes glance-api.conf with config_template. Its newest PyPI release,
ansible-config-template 2.1.1, does not load on ansible-core 2.19
(AnsibleDumper is no class there), so the test renders os_glance's template
with ansible.builtin.template, which is config_template's templating step; its
RawConfigParser step cuts a value at whitespace + ';', which the renderer
refuses for OpenStack-Ansible (see the last test).

Runs in .cache/venv-consumers (scripts/bootstrap.sh, tests/requirements-consumers.txt).
"""

import json
import os
import subprocess
import sys

import pytest
from oslo_config import cfg

from lab.constants import PIP_REQUIREMENT

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
VENV = os.path.dirname(os.path.dirname(sys.executable))
TEMPLATES = os.path.join(ROOT, 'roles', 'glance_s3_proxy', 'templates')
KOLLA_ACTIONS = os.path.join(VENV, 'share', 'kolla-ansible', 'ansible', 'action_plugins')

pytestmark = pytest.mark.skipif(not os.path.isdir(KOLLA_ACTIONS),
                                reason='run with .cache/venv-consumers/bin/python (kolla-ansible)')

RENDER_PLAY = """\
- name: Render the role's templates
  hosts: localhost
  gather_facts: false
  vars:
    __glance_s3_proxy_stores: "{{{{ glance_s3_proxy_stores | glancestore.s3proxy.glance_s3_proxy_effective_stores(glance_s3_proxy_proxy) }}}}"
    __glance_s3_proxy_default_store: fast
    __glance_s3_proxy_enabled_backends: "file:file, fast:s3, second:s3"
    __glance_s3_proxy_osa_pip: {pip}
    __glance_s3_proxy_consumer: {consumer}
    glance_s3_proxy_store_mode: multi
    glance_s3_proxy_staging_dir: /var/lib/glance/staging
    glance_s3_proxy_tasks_dir: /var/lib/glance/tasks_work_dir
  tasks:
    - name: Render
      ansible.builtin.template:
        src: {src}
        dest: {dest}
        mode: "0600"
"""

KOLLA_PLAY = """\
- name: Merge glance-api.conf as kolla-ansible's glance role does
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Merge
      merge_configs:
        sources:
          - {base}
          - {override}
        dest: {dest}
        mode: "0600"
"""

KOLLA_BASE = """\
[DEFAULT]
debug = False
enabled_backends = file:file, http:http

[glance_store]
default_backend = file

[file]
filesystem_store_datadir = /var/lib/glance/images/
"""

OSA_PLAY = """\
- name: Read the user variables as OpenStack-Ansible does (-e @file) and write glance-api.conf as os_glance does
  hosts: localhost
  gather_facts: false
  vars:
    glance_available_stores: "{{{{ [glance_default_store] + glance_additional_stores }}}}"
  tasks:
    - name: The stores, as the play sees them
      ansible.builtin.copy:
        content: "{{{{ {{'default': glance_default_store, 'additional': glance_additional_stores,
                       'pip': glance_user_pip_packages}} | to_json }}}}"
        dest: {json_out}
        mode: "0600"
    - name: The store sections, through os_glance's template
      ansible.builtin.template:
        src: {template}
        dest: {conf_out}
        mode: "0600"
"""

# The store part of os_glance's templates/glance-api.conf.j2 (openstack-ansible-os_glance).
OS_GLANCE_TEMPLATE = """\
[DEFAULT]
enabled_backends = {% for backend in glance_available_stores %}{{ backend['name'] }}:{{ backend['type'] }}\
{% if not loop.last %},{% endif %}{% endfor %}

[glance_store]
default_backend = {{ (glance_default_store is string) | ternary(glance_default_store, glance_default_store['name']) }}

{% for backend in glance_available_stores %}
[{{ backend['name'] }}]
{%     for key, value in backend.get('config', {}).items() %}
{{ key }} = {{ value }}
{%     endfor %}

{% endfor %}
"""


def secrets(marker, valid_jinja=False):
    """Values that a templating step would change, or turn into code run on the deploy host.

    ``valid_jinja`` values are well-formed templates (the controls show them evaluated); the others also hold
    unbalanced delimiters and a raw block, which make an unprotected template fail.
    """
    values = {
        ('fast', 's3_store_secret_key'): "SK{{ lookup('pipe', 'touch %s') }}$HOME" % marker,
        ('fast', 's3_store_proxy_user'): 'u{#ser#}%',
        ('fast', 's3_store_proxy_password'): 'p{{ 7 * 7 }}w$d%\'"x',
        ('second', 's3_store_secret_key'): 'a{{ "b" }}c${x}$$',
        ('second', 's3_store_proxy_password'): 'pa$$w0rd:;x@/#%23',
        ('second', 'store_description'): 'Images {{ "here" }}',
    }
    if not valid_jinja:
        values[('fast', 's3_store_proxy_password')] = '{% raw %}p{#w$d%\'"x{{ 7 * 7 }}'
        values[('second', 's3_store_secret_key')] = '}}a%}b#}c{{d{%e${x}$$'
    return values


def unsafe(text):
    return '!unsafe ' + json.dumps(text)  # a JSON string is a YAML double-quoted scalar


def write_vars(path, values):
    """The role's variables, each secret !unsafe as an operator keeps them (or vaulted) in the inventory."""
    with open(path, 'w') as f:
        f.write('glance_s3_proxy_stores:\n'
                '  - {name: fast, endpoint: "https://s3.example.com", bucket: glance, access_key: AK1, default: true,\n'
                '     secret_key: %s,\n'
                '     proxy: {user: %s, password: %s}}\n'
                '  - {name: second, endpoint: "http://s3-b.example.com:8333", bucket: glance-b, access_key: AK2,\n'
                '     secret_key: %s, description: %s}\n'
                'glance_s3_proxy_proxy: {enabled: true, host: proxy.example.com, port: 3128, user: glance-s3,\n'
                '                        password: %s}\n'
                % (unsafe(values[('fast', 's3_store_secret_key')]), unsafe(values[('fast', 's3_store_proxy_user')]),
                   unsafe(values[('fast', 's3_store_proxy_password')]),
                   unsafe(values[('second', 's3_store_secret_key')]), unsafe(values[('second', 'store_description')]),
                   unsafe(values[('second', 's3_store_proxy_password')])))


def playbook(tmp_path, text, extra_vars=(), env=None):
    path = tmp_path / ('play-%d.yml' % len(list(tmp_path.glob('play-*.yml'))))
    path.write_text(text)
    home = tmp_path / 'ansible-home'
    run_env = {k: v for k, v in os.environ.items() if not k.startswith('ANSIBLE_')}
    run_env.update({
        'ANSIBLE_COLLECTIONS_PATH': os.path.join(ROOT, '.cache', 'collections'),
        'ANSIBLE_HOME': str(home),
        'ANSIBLE_LOCAL_TEMP': str(home / 'tmp'),
        'ANSIBLE_REMOTE_TEMP': str(home / 'remote-tmp'),
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
    })
    run_env.update(env or {})
    cmd = [os.path.join(VENV, 'bin', 'ansible-playbook'), '-i', 'localhost,', '-c', 'local']
    for extra in extra_vars:
        cmd += ['-e', '@%s' % extra]
    proc = subprocess.run(cmd + [str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, env=run_env, timeout=300, check=False)
    return proc


def render(tmp_path, src, consumer, name):
    dest = tmp_path / name
    proc = playbook(tmp_path, RENDER_PLAY.format(src=os.path.join(TEMPLATES, src), dest=dest, consumer=consumer,
                                                 pip=PIP_REQUIREMENT),
                    [tmp_path / 'vars.yml'])
    assert proc.returncode == 0, proc.stdout
    return dest


def oslo_read(path, wanted):
    """What oslo.config (as Glance runs it) reads for each (section, key)."""
    conf = cfg.ConfigOpts()
    for group in set(section for section, _key in wanted):
        conf.register_opts([cfg.StrOpt(key) for section, key in wanted if section == group], group=group)
    conf.register_opt(cfg.BoolOpt('s3_store_enable_proxy'), group='fast')
    conf(args=[], project='glance', default_config_files=[str(path)], default_config_dirs=[])
    out = dict(((section, key), getattr(getattr(conf, section), key)) for section, key in wanted)
    assert conf.fast.s3_store_enable_proxy is True
    return out


@pytest.fixture(params=[False, True], ids=['any', 'valid_jinja'])
def setup(tmp_path, request):
    marker = tmp_path / 'pwned'
    values = secrets(marker, request.param)
    write_vars(tmp_path / 'vars.yml', values)
    return marker, values


@pytest.fixture
def control(tmp_path):
    marker = tmp_path / 'pwned'
    values = secrets(marker, valid_jinja=True)
    write_vars(tmp_path / 'vars.yml', values)
    return marker, values


def test_kolla_merge_configs_keeps_every_value(tmp_path, setup):
    marker, values = setup
    override = render(tmp_path, 'glance-api-s3-proxy.conf.j2', 'kolla', 'override.conf')
    base = tmp_path / 'base.conf'
    base.write_text(KOLLA_BASE)
    merged = tmp_path / 'merged.conf'
    proc = playbook(tmp_path, KOLLA_PLAY.format(base=base, override=override, dest=merged),
                    env={'ANSIBLE_ACTION_PLUGINS': KOLLA_ACTIONS})
    assert proc.returncode == 0, proc.stdout
    assert oslo_read(merged, values) == values
    assert not marker.exists()
    text = merged.read_text()
    assert 'enabled_backends = file:file, fast:s3, second:s3' in text  # the override wins, kolla's keys stay
    assert 'filesystem_store_datadir = /var/lib/glance/images/' in text


def test_kolla_control_without_protection_runs_code_and_changes_values(tmp_path, control):
    """The same file rendered for plain oslo.config: merge_configs evaluates it. Proves the test above can fail."""
    marker, values = control
    override = render(tmp_path, 'glance-api-s3-proxy.conf.j2', 'oslo', 'override.conf')
    base = tmp_path / 'base.conf'
    base.write_text(KOLLA_BASE)
    merged = tmp_path / 'merged.conf'
    proc = playbook(tmp_path, KOLLA_PLAY.format(base=base, override=override, dest=merged),
                    env={'ANSIBLE_ACTION_PLUGINS': KOLLA_ACTIONS})
    assert proc.returncode == 0, proc.stdout
    assert marker.exists()
    read = oslo_read(merged, values)
    assert read[('fast', 's3_store_proxy_password')] == 'p49w$d%\'"x' and read != values


def osa_apply(tmp_path, user_vars):
    template = tmp_path / 'glance-api.conf.j2'
    template.write_text(OS_GLANCE_TEMPLATE)
    json_out, conf_out = tmp_path / 'stores.json', tmp_path / 'glance-api.conf'
    proc = playbook(tmp_path, OSA_PLAY.format(json_out=json_out, conf_out=conf_out, template=template), [user_vars])
    return proc, json_out, conf_out


def test_openstack_ansible_extra_vars_and_os_glance_template_keep_every_value(tmp_path, setup):
    marker, values = setup
    user_vars = render(tmp_path, 'user_variables_glance_s3proxy.yml.j2', 'osa', 'user_variables_glance_s3proxy.yml')
    proc, json_out, conf_out = osa_apply(tmp_path, user_vars)
    assert proc.returncode == 0, proc.stdout
    assert not marker.exists()
    seen = json.loads(json_out.read_text())
    stores = {seen['default']['name']: seen['default']['config']}
    stores.update((s['name'], s.get('config', {})) for s in seen['additional'])  # OSA's own stores have none
    # os_glance writes these verbatim into glance-api.conf, so '$' is already written '$$' for oslo.config.
    for (store, key), value in values.items():
        assert stores[store][key] == value.replace('$', '$$'), (store, key)
    assert stores['fast']['s3_store_enable_proxy'] is True and stores['fast']['s3_store_proxy_port'] == 3128
    assert seen['pip'] == [PIP_REQUIREMENT]
    # ...and oslo.config reads what os_glance's template wrote as the exact value.
    assert oslo_read(conf_out, values) == values
    assert not marker.exists()


def test_openstack_ansible_control_without_unsafe_runs_code_and_changes_values(tmp_path, control):
    """The same file without !unsafe: Ansible templates the extra vars. Proves the test above can fail."""
    marker, values = control
    user_vars = render(tmp_path, 'user_variables_glance_s3proxy.yml.j2', 'osa', 'user_variables_glance_s3proxy.yml')
    user_vars.write_text(user_vars.read_text().replace('!unsafe ', ''))
    proc, _json_out, conf_out = osa_apply(tmp_path, user_vars)
    assert proc.returncode == 0, proc.stdout
    assert marker.exists()
    read = oslo_read(conf_out, values)
    assert read[('fast', 's3_store_proxy_password')] == 'p49w$d%\'"x' and read != values


@pytest.mark.parametrize('consumer,value,needle', [
    ('kolla', 'a{{ x }}{% endraw %}', 'contains Jinja delimiters and the word "endraw"'),
    ('osa', 'secret ;comment', 'contains a ";" after whitespace'),
])
def test_a_value_no_consumer_can_keep_stops_the_render(tmp_path, consumer, value, needle):
    values = secrets(tmp_path / 'pwned')
    values[('fast', 's3_store_proxy_password')] = value
    write_vars(tmp_path / 'vars.yml', values)
    src = 'glance-api-s3-proxy.conf.j2' if consumer == 'kolla' else 'user_variables_glance_s3proxy.yml.j2'
    proc = playbook(tmp_path, RENDER_PLAY.format(src=os.path.join(TEMPLATES, src), dest=tmp_path / 'out',
                                                 consumer=consumer, pip=PIP_REQUIREMENT), [tmp_path / 'vars.yml'])
    assert proc.returncode != 0
    assert needle in proc.stdout and 'glance_s3_proxy_stores[0].proxy.password' in proc.stdout
    assert value not in proc.stdout
    assert not (tmp_path / 'out').exists()
