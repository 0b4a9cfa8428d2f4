#!/usr/bin/env bash
# Run Molecule scenarios: molecule.sh SCENARIO... (the docker scenarios get a
# Docker engine and the lab images first).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.cache/venv-tools/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$PWD/.cache/collections
export ANSIBLE_HOME=$PWD/.cache/ansible-home
rc=0
for scenario in "$@"; do
  if [ -f "molecule/$scenario/vars.yml" ] && [ -z "${LAB_S3_IMAGE:-}" ]; then
    images=$(bash scripts/build-images.sh)
    eval "$images"
  fi
  molecule test -s "$scenario" || rc=1
done
exit $rc
