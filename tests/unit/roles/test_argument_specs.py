"""meta/argument_specs.yml lists exactly the keys of defaults/main.yml, with the same defaults."""

import os

import yaml

ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                    'roles', 'glance_s3_proxy')


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as f:
        return yaml.safe_load(f)


def test_argument_specs_match_defaults():
    defaults = load('defaults', 'main.yml')
    options = load('meta', 'argument_specs.yml')['argument_specs']['main']['options']
    assert sorted(options) == sorted(defaults)


def test_documented_defaults_equal_the_real_ones():
    defaults = load('defaults', 'main.yml')
    options = load('meta', 'argument_specs.yml')['argument_specs']['main']['options']
    for name, spec in options.items():
        if 'default' in spec:
            assert spec['default'] == defaults[name], name
        elif spec.get('type') == 'dict' and 'options' in spec:
            for key, sub in spec['options'].items():
                if 'default' in sub:
                    assert sub['default'] == defaults[name][key], '%s.%s' % (name, key)


def test_internal_variables_are_prefixed():
    for name in load('vars', 'main.yml'):
        assert name.startswith('__glance_s3_proxy_'), name
