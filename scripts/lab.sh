#!/usr/bin/env bash
# make lab / make lab-down.
# up:   a Docker engine (the one reachable, or a private one), then the Molecule default scenario's
#       create and prepare playbooks (molecule/shared/: the lab images built offline, three containers
#       on two networks: glance on the client network, s3 on an internal storage network, the proxy on
#       both; Glance's API published on the host's 127.0.0.1:9292), then playbooks/deploy.yml against
#       the glance container with the default scenario's variables, and a report.
# down: removes the containers, the networks, the private engine and its
#       namespace; LAB_REMOVE_IMAGES=1 removes the images too.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.cache/venv-tools/bin:$PATH
export ANSIBLE_COLLECTIONS_PATH=$PWD/.cache/collections
export ANSIBLE_HOME=$PWD/.cache/ansible-home
export ANSIBLE_NOCOLOR=1
INV=molecule/shared/inventory-docker.yml
S=$SECONDS

case "${1:-up}" in
  up)
    engine=$(bash scripts/docker-engine.sh up)
    eval "$engine"
    # create.yml builds the images too (nothing, when they are built); here first, to show how long it takes.
    images=$(bash scripts/build-images.sh)
    eval "$images"
    echo "lab: images glancestore-lab-{glance,proxy}:$LAB_IMAGE_TAG and $LAB_S3_IMAGE ($LAB_S3_SERVER) ready ($((SECONDS - S))s)"
    # The default scenario's variables: the glance_api group's of molecule/default/molecule.yml.
    scenario=.cache/lab-scenario-vars.json
    python -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1]))["provisioner"]["inventory"]["group_vars"]["glance_api"], sys.stdout)' \
      molecule/default/molecule.yml >"$scenario"
    ansible-playbook -i "$INV" -e @"$scenario" molecule/shared/destroy.yml molecule/shared/create.yml \
      molecule/shared/prepare.yml >.cache/lab-setup.log 2>&1 || { tail -n 40 .cache/lab-setup.log; exit 1; }
    echo "lab: containers gs3p-glance, gs3p-proxy, gs3p-s3 up; glance-api has a file store only ($((SECONDS - S))s)"
    d=$SECONDS
    if ! ansible-playbook -i "$INV" -e @lab/constants.yml -e @molecule/shared/lab-platforms.yml -e @"$scenario" \
         -e @lab/deploy-vars.yml glancestore.s3proxy.deploy >.cache/lab-deploy.log 2>&1; then
      tail -n 40 .cache/lab-deploy.log; exit 1
    fi
    echo "lab: ansible-playbook glancestore.s3proxy.deploy: $(grep -E '^gs3p-glance +:' .cache/lab-deploy.log | tail -n 1 | cut -d: -f2- | xargs) ($((SECONDS - d))s)"
    python lab/report.py
    echo "lab: up in $((SECONDS - S))s. Deploy log: .cache/lab-deploy.log. Glance's API: http://127.0.0.1:9292 (no Keystone)."
    echo "lab: try DOCKER_HOST=$DOCKER_HOST docker exec -it gs3p-glance bash; remove with: make lab-down"
    ;;
  down)
    if [ -S .cache/docker/docker.sock ] || docker info >/dev/null 2>&1; then
      eval "$(bash scripts/docker-engine.sh up 2>/dev/null)" && export DOCKER_HOST
      ansible-playbook -i "$INV" molecule/shared/destroy.yml >/dev/null 2>&1 || true
      if [ -n "${LAB_REMOVE_IMAGES:-}" ]; then
        docker images --format '{{.Repository}}:{{.Tag}}' | grep '^glancestore-lab-' | xargs -r docker rmi -f >/dev/null
      fi
    fi
    bash scripts/docker-engine.sh down
    .cache/venv-tools/bin/python tests/lab/netlab.py down >/dev/null 2>&1 || true
    echo "lab: down (containers, networks and the private Docker engine removed)"
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
