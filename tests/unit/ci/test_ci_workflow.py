"""The GitHub Actions workflow keeps its hardened form (what actionlint does not check): actions pinned by
commit with the release in a comment, read-only token, superseded runs cancelled, a timeout on every job;
and its Molecule matrix is every scenario under molecule/."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
WORKFLOW = os.path.join(ROOT, '.github', 'workflows', 'ci.yml')
USES = re.compile(r'^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$')
PINNED = re.compile(r'^(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})$')


def load():
    with open(WORKFLOW, encoding='utf-8') as f:
        return yaml.safe_load(f)


def test_actions_are_pinned_by_commit_with_the_release_named():
    with open(WORKFLOW, encoding='utf-8') as f:
        uses = [m.groupdict() for m in map(USES.match, f) if m]
    assert uses
    shas = {}
    for use in uses:
        pinned = PINNED.match(use['ref'])
        assert pinned, '%s is not pinned by a full commit SHA' % use['ref']
        assert re.match(r'^\s+# v\d+\.\d+\.\d+$', use['rest']), '%s: no "# vX.Y.Z" comment' % use['ref']
        repo = '/'.join(pinned.group('action').split('/')[:2])
        shas.setdefault(repo, set()).add((pinned.group('sha'), use['rest'].strip()))
    for repo, pins in shas.items():
        assert len(pins) == 1, '%s is pinned to more than one commit: %s' % (repo, sorted(pins))


def test_token_is_read_only_and_checkout_keeps_no_credentials():
    workflow = load()
    assert workflow['permissions'] == {'contents': 'read'}
    for name, job in workflow['jobs'].items():
        assert 'permissions' not in job, name
        for step in job['steps']:
            if step.get('uses', '').startswith('actions/checkout@'):
                assert step['with']['persist-credentials'] is False, name


def test_superseded_runs_are_cancelled_and_every_job_has_a_timeout():
    workflow = load()
    assert workflow['concurrency']['cancel-in-progress'] is True
    for name, job in workflow['jobs'].items():
        assert 0 < job['timeout-minutes'] <= 90, name


def test_the_molecule_matrix_is_every_scenario():
    scenarios = sorted(name for name in os.listdir(os.path.join(ROOT, 'molecule'))
                       if os.path.isfile(os.path.join(ROOT, 'molecule', name, 'molecule.yml')))
    assert sorted(load()['jobs']['molecule']['strategy']['matrix']['scenario']) == scenarios
