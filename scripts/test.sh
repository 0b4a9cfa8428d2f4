#!/usr/bin/env bash
# The one test command (make test): lint, sanity, unit and integration tests.
# Every step runs even if an earlier one failed; the closing line counts them.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
CACHE=$ROOT/.cache
TOOLS=$CACHE/venv-tools/bin
GLANCE=$CACHE/venv-glance/bin
REPORTS=$ROOT/build/reports
rm -rf "$REPORTS"; mkdir -p "$REPORTS"
export ANSIBLE_COLLECTIONS_PATH=$CACHE/collections
export ANSIBLE_HOME=$CACHE/ansible-home
export ANSIBLE_LOCAL_TEMP=$ANSIBLE_HOME/tmp
export ANSIBLE_REMOTE_TEMP=$ANSIBLE_HOME/remote-tmp
export ANSIBLE_NOCOLOR=1
export PATH=$TOOLS:$PATH
STEPS=${STEPS:-"lint sanity units module extension glance_api role"}

step() {  # step NAME COMMAND... ; a non-pytest step counts as one test
  local name=$1; shift
  local start=$SECONDS
  echo "=== $name"
  if "$@" >"$REPORTS/$name.log" 2>&1; then
    echo "pass" >"$REPORTS/$name.status"
  else
    echo "fail" >"$REPORTS/$name.status"
    tail -n 60 "$REPORTS/$name.log"
  fi
  echo "=== $name: $(cat "$REPORTS/$name.status") ($((SECONDS - start))s)"
}

pytest_step() {  # pytest_step NAME PYTHON ARGS...; counted per test case
  local name=$1 python=$2; shift 2
  local start=$SECONDS
  echo "=== $name"
  "$python" -m pytest -p no:cacheprovider -q -rfE --junitxml="$REPORTS/$name.xml" "$@" 2>&1 | tee "$REPORTS/$name.log" | tail -n 40
  echo "=== $name ($((SECONDS - start))s)"
}

run_lint() {
  ansible-lint --offline --nocolor --profile production
}

run_sanity() {
  local dest=$ROOT/build/sanity/ansible_collections/glancestore/s3proxy
  rm -rf "$ROOT/build/sanity"; mkdir -p "$dest"
  git ls-files -co --exclude-standard -z | xargs -0 -I{} cp --parents {} "$dest/"
  (cd "$dest" && git init -q && git add -A && ansible-test sanity --venv --python 3.11 --color no)
}

for s in $STEPS; do
  case $s in
    lint) step lint run_lint ;;
    sanity) step sanity run_sanity ;;
    units) (cd "$CACHE/collections/ansible_collections/glancestore/s3proxy" && \
            PYTHONPATH=$CACHE/collections pytest_step units "$TOOLS/python" tests/unit) ;;
    module) pytest_step module "$TOOLS/python" tests/functional/module ;;
    extension) pytest_step extension "$GLANCE/python" tests/functional/extension ;;
    glance_api) pytest_step glance_api "$GLANCE/python" tests/functional/glance_api ;;
    role) pytest_step role "$TOOLS/python" tests/functional/role ;;
  esac
done

"$TOOLS/python" scripts/summary.py "$REPORTS"
