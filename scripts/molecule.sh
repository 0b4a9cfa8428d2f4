#!/usr/bin/env bash
# Run Molecule scenarios: molecule.sh SCENARIO... is `molecule test -s SCENARIO` for each, with this
# checkout's tools on PATH. A docker scenario (any but those on the local inventory) gets a Docker
# engine first, from scripts/docker-engine.sh (the reachable one, or a private one); its create step
# builds the lab images (cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.cache/venv-tools/bin:$PATH
export ANSIBLE_HOME=${ANSIBLE_HOME:-$PWD/.cache/ansible-home}
rc=0
for scenario in "$@"; do
  if ! grep -q 'inventory-local.yml' "molecule/$scenario/molecule.yml"; then
    engine=$(bash scripts/docker-engine.sh up)
    eval "$engine"
    export DOCKER_HOST
  fi
  molecule test -s "$scenario" || rc=1
done
exit $rc
