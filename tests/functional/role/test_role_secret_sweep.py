"""No secret anywhere: the role at -vvv through every branch, and glance-api's own log at debug.

"Any secret" is each proxy password and the S3 secret key: raw, percent-encoded (as in a
proxy URL), ``$$``-escaped (as in the drop-in), and base64 of ``user:password`` (the Basic
auth header). The one file meant to hold them is the drop-in; every other file the role,
Ansible or Glance wrote is swept too.
"""

import base64
import os
from urllib.parse import quote

import pytest

from lab.ansible_runner import ROLE_PLAYBOOK, TOOLS_BIN, run_playbook

from test_role_plain import CHECK_PLAYBOOK, PASSWORD, check_vars, env, restart  # noqa: F401 pylint: disable=unused-import

GLANCE_DEBUG = True  # read by the env fixture: glance-api logs at debug level
WRONG = 'wr0ng:p@ss/%#'


def forms(user, password):
    return {password, quote(password, safe=''), quote(password), password.replace('$', '$$'),
            base64.b64encode(('%s:%s' % (user, password)).encode()).decode(),
            base64.b64encode(('%s:%s' % (quote(user, safe=''), quote(password, safe=''))).encode()).decode()}


@pytest.fixture(scope='module')
def secrets(lab):
    out = set()
    out |= forms('glance-s3', PASSWORD)
    out |= forms('glance-s3b', lab['proxy']['users']['glance-s3b'])
    out |= forms('glance-s3', WRONG)
    out.add(lab['s3']['identities']['glance']['secret_key'])
    return sorted(out)


def leaks(text, secrets):
    return [s for s in secrets if s in text]


def own_tmp(env):
    """Ansible's local and remote temporary files of these runs, inside the swept directory."""
    return {'ANSIBLE_LOCAL_TEMP': os.path.join(env['dir'], 'ansible-tmp'),
            'ANSIBLE_REMOTE_TEMP': os.path.join(env['dir'], 'ansible-remote-tmp')}


def branches(env):
    v = env['vars']
    stores = [dict(s) for s in v['glance_s3_proxy_stores']]
    changed = [dict(stores[0], thread_pools=6)] + stores[1:]
    later = os.path.join(os.path.dirname(v['glance_s3_proxy_config_dropin']), '90-later.conf')
    return [
        ('converge', dict(v), {}, None),
        ('idempotent', dict(v), {}, None),
        ('check_diff_change', dict(v, glance_s3_proxy_stores=changed), {'check': True, 'diff': True}, None),
        ('verify_api_skipped', dict(v, glance_s3_proxy_verify_api_url=''), {}, None),
        ('failing_preflight', dict(v, glance_s3_proxy_proxy=dict(v['glance_s3_proxy_proxy'], password=WRONG)), {}, 'stage proxy_auth'),
        ('failing_verify', dict(v, glance_s3_proxy_runtime_timeout=3), {}, later),
        ('failing_install', dict(v, glance_s3_proxy_install_extension=False, glance_s3_proxy_stores=changed,
                                 glance_s3_proxy_python=os.path.join(TOOLS_BIN, 'python')), {}, 'install_extension is false'),
        ('bad_input', dict(v, glance_s3_proxy_proxy=dict(v['glance_s3_proxy_proxy'], port=70000)), {}, 'outside 1-65535'),
        # The user:password@host habit: the credentials must not come back in the message.
        ('credentials_in_host', dict(v, glance_s3_proxy_proxy=dict(
            v['glance_s3_proxy_proxy'], host='glance-s3:%s@%s' % (PASSWORD, v['glance_s3_proxy_proxy']['host']))),
         {}, 'must be a bare host name or address'),
    ]


def test_no_secret_in_any_output_at_vvv_on_any_branch(env, secrets):
    found = {}
    for name, variables, opts, expect in branches(env):
        later = expect if expect and expect.endswith('.conf') else None
        if later:
            with open(later, 'w') as f:
                f.write('[fast]\ns3_store_enable_proxy = false\n')
        try:
            run = run_playbook(ROLE_PLAYBOOK, variables, env['dir'], verbosity=3, env=own_tmp(env), **opts)
        finally:
            if later:
                os.unlink(later)
        if expect is None:
            assert run.rc == 0, (name, run.output[-3000:])
        else:
            assert run.rc != 0, (name, run.output[-3000:])
            if not later:
                assert expect in run.output, (name, run.output[-3000:])
        found[name] = leaks(run.output, secrets)
    check = run_playbook(CHECK_PLAYBOOK, check_vars(env), env['dir'], verbosity=3, env=own_tmp(env))
    assert check.rc == 0, check.output[-3000:]
    found['check_playbook'] = leaks(check.output, secrets)
    assert not any(found.values()), dict((k, len(v)) for k, v in found.items() if v)


def test_no_secret_in_any_other_file(env, secrets):
    dropin = os.path.realpath(env['vars']['glance_s3_proxy_config_dropin'])
    with open(dropin) as f:
        assert leaks(f.read(), secrets), 'the drop-in is the one file meant to hold the secrets'
    bad = []
    for top in (env['dir'],):
        for root, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.realpath(os.path.join(root, name))
                if path == dropin or name.startswith('play-') or 'images' in root.split(os.sep):
                    continue
                try:
                    with open(path, 'rb') as f:
                        text = f.read().decode('utf-8', 'replace')
                except OSError:
                    continue
                if leaks(text, secrets):
                    bad.append(path)
    assert not bad, bad


def test_glance_log_at_debug_holds_no_secret(env, secrets):
    log = env['api'].log()
    assert 'DEBUG' in log, 'glance-api did not log at debug level'
    assert 'S3 store fast uses proxy http://glance-s3:***@' in log  # an upload went through the proxy
    assert not leaks(log, secrets)
