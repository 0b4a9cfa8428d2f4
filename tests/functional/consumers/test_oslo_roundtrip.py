"""Property: every value and store name is either refused by the renderer, or
written into an INI file as the role's templates write it and read back by the
real oslo.config as exactly the original string. For kolla-ansible, the text
also goes through kolla's own merge_configs steps (Ansible's templar, then its
parser and writer) first; for OpenStack-Ansible, through Ansible's YAML loader.

The renderer's core (plugins/module_utils/oslo_render.py) imports nothing from
Ansible; it is loaded here by path. Runs in .cache/venv-consumers (oslo.config
10.7.0 as in Glance 33's environment, kolla-ansible 22.2.0, hypothesis).
"""

import importlib.util
import os
import sys
import tempfile

import pytest

hypothesis = pytest.importorskip('hypothesis')
cfg = pytest.importorskip('oslo_config.cfg')

from hypothesis import example, given, settings, strategies as st  # noqa: E402
from hypothesis.configuration import set_hypothesis_home_dir  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
set_hypothesis_home_dir(os.path.join(ROOT, '.cache', 'hypothesis'))  # not .hypothesis/ in the work tree
VENV = os.path.dirname(os.path.dirname(sys.executable))
KOLLA_ACTIONS = os.path.join(VENV, 'share', 'kolla-ansible', 'ansible', 'action_plugins')


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


oslo_render = _load('oslo_render', os.path.join(ROOT, 'plugins', 'module_utils', 'oslo_render.py'))

# Characters that matter to oslo.config, Jinja, YAML and config_template, mixed with any other.
EDGE = list('$"\' \\\t\r\n\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029\xa0\u3000\u200b{}%#;[]=:\\/@!&*|>-_aZ0') + [
    '\x00', '\x7f', '\ud800', '\U0001f600', '\ufffe', 'endraw', '{{', '{%', '{#', '}}', '%}', '#}', '$$', '${x}']
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
edge_text = st.lists(st.sampled_from(EDGE) | st.characters(exclude_categories=()), max_size=12).map(''.join)
values = any_text | edge_text

SETTINGS = settings(max_examples=int(os.environ.get('ROUNDTRIP_EXAMPLES', '400')), deadline=None, database=None)


def oslo_reads(text, section='store'):
    """Write ``key = text`` in ``[section]`` as the templates do; what oslo.config reads for it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'glance-api.conf')
        with open(path, 'w', encoding='utf-8') as f:
            f.write('[DEFAULT]\n\n[%s]\nkey = %s\n' % (section, text))
        conf = cfg.ConfigOpts()
        conf.register_opt(cfg.StrOpt('key'), group=section)
        conf(args=[], project='glance', default_config_files=[path], default_config_dirs=[])
        return getattr(conf, section).key  # as Glance finds a backend's section


def refusal_reasons(value):
    """The documented reasons for a refusal, judged independently of the renderer."""
    reasons = []
    if any(ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or c in '\u2028\u2029' or 0xd800 <= ord(c) <= 0xdfff
           for c in value):
        reasons.append('control')
    if value[:1].isspace() or value[-1:].isspace():
        reasons.append('whitespace')
    if value[:1] in ('"', "'") and value[:1] == value[-1:]:
        reasons.append('quotes')
    return reasons


def test_the_core_imports_nothing_from_ansible():
    with open(os.path.join(ROOT, 'plugins', 'module_utils', 'oslo_render.py')) as f:
        source = f.read()
    assert 'import ansible' not in source and 'from ansible' not in source


@SETTINGS
@given(values)
@example('pa$$word${x}')
@example('\\$')
@example('a\\\\$b\\$$c')
@example('"quoted"')
@example("'")
@example('a\rb')
@example(' lead')
@example('trail\u3000')
def test_oslo_reads_back_every_value_it_is_given_or_it_was_refused(value):
    try:
        written = oslo_render.render(value, 'glance_s3_proxy_stores[0].secret_key')
    except oslo_render.RenderError as e:
        assert refusal_reasons(value), 'refused without a documented reason'
        assert 'glance_s3_proxy_stores[0].secret_key' in str(e)
        if value.strip():
            assert value not in str(e)
        return
    assert not refusal_reasons(value)
    assert oslo_reads(written) == value
    assert oslo_render.read_value(written) == value


@SETTINGS
@given(st.text(st.characters(exclude_categories=()), max_size=20) | st.sampled_from(
    ['fast', 'Fast-2', 'DEFAULT', 'Database', 'os_glance_x', 'oslo_messaging_rabbit', 's3', 'a b', 'x\n', '',
     '__dict__', 'reset', 'project', '_opts']))
def test_oslo_reads_every_accepted_store_name_as_its_section(name):
    try:
        oslo_render.section(name, 'glance_s3_proxy_stores[0].name')
    except oslo_render.RenderError:
        return
    assert oslo_render.re.fullmatch(r'[A-Za-z0-9_-]+', name)
    assert name.lower() not in set(s.lower() for s in oslo_render.GLANCE_SECTIONS)
    assert oslo_reads('v', section=name) == 'v'


def test_oslo_config_matches_sections_case_insensitively():
    """Why duplicate and reserved names are compared in lower case."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'glance-api.conf')
        with open(path, 'w') as f:
            f.write('[Fast]\nkey = upper\n')
        conf = cfg.ConfigOpts()
        conf.register_opt(cfg.StrOpt('key'), group='fast')
        conf(args=[], project='glance', default_config_files=[path], default_config_dirs=[])
        assert conf.fast.key == 'upper'


@pytest.fixture(scope='module')
def kolla_merge():
    """kolla-ansible's merge_configs steps, in process: Ansible's templar, then kolla's parser and writer."""
    if not os.path.isdir(KOLLA_ACTIONS):
        pytest.skip('kolla-ansible is not installed here: run with .cache/venv-consumers/bin/python')
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar, trust_as_template
    merge_configs = _load('kolla_merge_configs', os.path.join(KOLLA_ACTIONS, 'merge_configs.py'))
    templar = Templar(loader=DataLoader(), variables={})

    def merge(text):
        import io
        result = templar.template(trust_as_template(text), overrides=dict(lstrip_blocks=True))
        parser = merge_configs.OverrideConfigParser()
        parser.parse(io.StringIO(result))
        out = io.StringIO()
        parser.write(out)
        return out.getvalue()
    return merge


@SETTINGS
@given(values)
@example('{% raw %}x{{ 7 * 7 }}')
@example('a{{ b }}{% endraw %}')
@example('x{%')
@example('{#')
@example('}}')
def test_kolla_merge_configs_then_oslo_reads_back_every_value_or_it_was_refused(kolla_merge, value):
    try:
        written = oslo_render.render(value, 'v', consumer='kolla')
    except oslo_render.RenderError:
        assert refusal_reasons(value) or 'endraw' in value.lower()
        return
    merged = kolla_merge('[DEFAULT]\n\n[store]\nkey = %s\nnext = line\n' % written)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'glance-api.conf')
        with open(path, 'w', encoding='utf-8') as f:
            f.write(merged)
        conf = cfg.ConfigOpts()
        conf.register_opts([cfg.StrOpt('key'), cfg.StrOpt('next')], group='store')
        conf(args=[], project='glance', default_config_files=[path], default_config_dirs=[])
        assert conf.store.key == value
        assert conf.store.next == 'line'  # the raw block keeps its line break


@SETTINGS
@given(values)
def test_openstack_ansible_yaml_scalar_loads_as_the_oslo_text(value):
    from ansible.parsing.yaml.loader import AnsibleLoader
    try:
        scalar = oslo_render.render(value, 'v', consumer='osa')
    except oslo_render.RenderError:
        assert refusal_reasons(value) or oslo_render.re.search(r'\s;', value)
        return
    loaded = AnsibleLoader('key: %s\n' % scalar).get_single_data()['key']
    assert str(loaded) == oslo_render.escape_dollars(value)
    assert oslo_render.read_value(str(loaded)) == value
    assert oslo_reads(str(loaded)) == value
