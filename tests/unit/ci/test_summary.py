"""make test's closing line (noxfile.py's summarize): every failure, crash and session that could not run counts."""

import json
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
NOX_PYTHON = os.path.join(ROOT, '.cache', 'venv-nox', 'bin', 'python')
CALL = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('noxfile', sys.argv[1])
noxfile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(noxfile)
print(json.dumps(noxfile.summarize(sys.argv[2])))
"""
EMPTY_XML = '<testsuites><testsuite name="pytest" tests="0"></testsuite></testsuites>'
ONE_PASS_XML = '<testsuites><testsuite><testcase classname="t" name="a"/></testsuite></testsuites>'


def summarize(reports):
    assert os.path.exists(NOX_PYTHON), 'make deps installs nox into %s' % NOX_PYTHON
    out = subprocess.run([NOX_PYTHON, '-c', CALL, os.path.join(ROOT, 'noxfile.py'), str(reports)],
                         capture_output=True, text=True, check=True).stdout
    lines, code = json.loads(out)
    return lines, code


def write(reports, name, text):
    (reports / name).write_text(text)


@pytest.mark.parametrize('files, nox_sessions, closing, failures', [
    # every kind of result counted
    ({'a.xml': ONE_PASS_XML, 'a.started': '', 'lint.status': 'pass\n', 'lint.started': ''},
     [{'name': 'a', 'result': 'success'}, {'name': 'lint', 'result': 'success'}], '2 passed, 0 failed', []),
    # a pytest session that ran no test, and that nox saw fail (pytest exit 4 or 5)
    ({'module.xml': EMPTY_XML, 'module.started': '', 'lint.status': 'pass\n'},
     [{'name': 'module', 'result': 'failed'}], '1 passed, 1 failed', ['FAILED module (nox: failed)']),
    # a session aborted because one it requires failed: it never started
    ({'build.status': 'fail\n', 'build.started': '', 'lint.status': 'pass\n'},
     [{'name': 'build', 'result': 'failed'}, {'name': 'ee', 'result': 'aborted'}], '1 passed, 2 failed',
     ['FAILED build', 'FAILED ee (nox: aborted)']),
    # a crash: started, no result
    ({'role.started': '', 'lint.status': 'pass\n'}, [], '1 passed, 1 failed', ['FAILED role']),
    # an unreadable report
    ({'osa.xml': '<bad', 'lint.status': 'pass\n'}, [], '1 passed, 1 failed', ['FAILED osa']),
    # the Docker lane's failure is its scenario's, counted once
    ({'molecule_tls.status': 'fail\n', 'molecule_tls.started': '', 'lint.status': 'pass\n'},
     [{'name': 'docker_lab', 'result': 'failed'}], '1 passed, 1 failed', ['FAILED molecule_tls']),
    # nothing passed at all is not a pass
    ({}, [], '0 passed, 0 failed', []),
])
def test_summary(tmp_path, files, nox_sessions, closing, failures):
    for name, text in files.items():
        write(tmp_path, name, text)
    if nox_sessions:
        write(tmp_path, 'nox.json', json.dumps({'result': 1, 'sessions': nox_sessions}))
    lines, code = summarize(tmp_path)
    assert lines[-1] == closing
    assert [line.split(' (its report')[0] for line in lines[:-1]] == failures
    assert code == (0 if closing.endswith(' 0 failed') and not closing.startswith('0 passed') else 1)
