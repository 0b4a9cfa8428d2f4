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


def find_task(tasks, name):
    for task in tasks:
        if task.get('name') == name:
            return task
        for key in ('block', 'rescue', 'always'):
            found = find_task(task.get(key, []), name)
            if found:
                return found
    return None


def test_the_plan_renders_the_drop_in_as_main_writes_it():
    """deploy.yml's plan decides, from the template module in check mode, whether a host takes its turn to
    restart, and the play of the hosts already right refuses with the same check before it writes; if its
    arguments drifted from the task that writes the file, a host could be planned unchanged and then change
    beside the others."""
    write = find_task(load('tasks', 'plain.yml'), 'Write the store and proxy options')
    plan = find_task(load('tasks', 'dropin_check.yml'),
                     'Render the store and proxy options and compare them with the drop-in, writing nothing')
    assert write and plan
    assert plan['check_mode'] is True and plan['diff'] is False
    written = dict(write['ansible.builtin.template'])
    assert written.pop('backup') is True
    assert plan['ansible.builtin.template'] == written
    assert write['notify'] == 'Restart glance-api' and 'notify' not in plan


def test_the_plan_and_the_install_decide_pip_from_the_same_expressions():
    install = load('tasks', 'install.yml')
    assert find_task(install, 'Install the extension into Glance\'s Python environment')['when'] == \
        '__glance_s3_proxy_install_needed | bool'
    assert find_task(install, 'Remove the extension from a glance_store that has the proxy options itself')['when'] == \
        '__glance_s3_proxy_remove_needed | bool'
    reasons = load('tasks', 'plan.yml')[1]['vars']['__glance_s3_proxy_plan_reasons']
    assert '__glance_s3_proxy_install_needed | bool' in reasons and '__glance_s3_proxy_remove_needed | bool' in reasons
    # the play of the hosts already right refuses before pip runs, on the same expressions
    guard = find_task(install, 'Stop before pip changes the extension where no Glance may restart')
    assert guard['when'] == ['__glance_s3_proxy_restart_forbidden | default(false) | bool',
                             '__glance_s3_proxy_install_needed | bool or __glance_s3_proxy_remove_needed | bool']
    names = [task.get('name') for task in install]
    assert names.index(guard['name']) < names.index('Install the extension into Glance\'s Python environment')
    assert names.index(guard['name']) < names.index('Copy the extension\'s wheel to the host')


def test_the_restart_guard_runs_before_the_restart():
    handlers = load('handlers', 'main.yml')
    assert [h['listen'] for h in handlers] == ['Restart glance-api', 'Restart glance-api']
    assert 'ansible.builtin.fail' in handlers[0]
    assert handlers[0]['when'] == '__glance_s3_proxy_restart_forbidden | default(false) | bool'
    assert handlers[1]['ansible.builtin.include_tasks'] == 'restart.yml'
