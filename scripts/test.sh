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
# Glance's Python environment of each maintained OpenStack series (see README, "Supported series").
declare -A SERIES_PY=(
  [4.9.1]=$CACHE/venv-glance-2025.1/bin   # 2025.1, glance 30
  [5.2.0]=$CACHE/venv-gs-5.2.0/bin        # 2025.2
  [5.4.0]=$CACHE/venv-gs-5.4.0/bin        # 2026.1
  [5.6.0]=$CACHE/venv-gs-5.6.0/bin        # 2026.2, previous
  [5.7.0]=$GLANCE                         # 2026.2, glance 33
)
RELEASES="4.9.1 5.2.0 5.4.0 5.6.0 5.7.0"
EXTENSION_STEPS="extension_4.9.1 extension_5.2.0 extension_5.4.0 extension_5.6.0 extension_5.7.0 extension_native"
NATIVE=$CACHE/venv-gs-native/bin  # glance_store 5.7.0 + upstream/0001-s3-Add-HTTP-proxy-support.patch
# The Docker lab (its images, then the Docker scenarios one after another) is independent of the
# network-namespace lab: docker_start runs it in the background while the other steps run, and
# docker_wait waits for it. images_start/images and molecule_NAME run the same steps in the foreground.
DOCKER_STEPS="molecule_default molecule_tls molecule_two_stores molecule_legacy molecule_wrong_password"
STEPS=${STEPS:-"lint changelog links sanity build ee units units_extension lab_images docker_start gs_units module $EXTENSION_STEPS glance_api glance_api_2025.1 glance_api_native glance_config role consumers osa kolla_build kolla_ansible molecule_kolla molecule_openstack_ansible docker_wait"}

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

run_build() {  # the collection builds and its module docs render
  rm -rf "$ROOT/build/collection" && mkdir -p "$ROOT/build/collection"
  ansible-galaxy collection build --force --output-path "$ROOT/build/collection" || return 1
  ansible-doc glancestore.s3proxy.s3_proxy_check | grep -q 'expect_direct_blocked' || return 1
  if [ -f roles/glance_s3_proxy/meta/argument_specs.yml ]; then
    ansible-doc -t role glancestore.s3proxy.glance_s3_proxy | grep -q 'glance_s3_proxy_stores' || return 1
  fi
}

run_changelog() {  # the fragments and changelog.yaml, as antsibull-changelog reads them for a release
  antsibull-changelog lint && antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
}

run_links() {  # every link between the Markdown files, with its #fragment (web links are not followed here)
  git ls-files -co --exclude-standard -- '*.md' | xargs "$CACHE/venv-packaging/bin/lychee" --offline \
    --include-fragments --no-progress
}

run_ee() {  # an execution environment with the collection: ansible-builder's context, and its introspection
  local ee=$CACHE/venv-packaging/bin tarball installed out
  tarball=$(ls build/collection/glancestore-s3proxy-*.tar.gz) || { echo "run the build step first"; return 1; }
  rm -rf build/ee
  "$ee/ansible-builder" create -f tests/ee/execution-environment.yml -c build/ee || return 1
  cmp "$tarball" "build/ee/_build/collections/$(basename "$tarball")" || return 1
  grep -q "name: collections/$(basename "$tarball")" build/ee/_build/requirements.yml || return 1
  # What ansible-builder adds for the collection, read from the built tarball's meta/execution-environment.yml.
  installed=$(mktemp -d)
  ansible-galaxy collection install --force -p "$installed" "$tarball" >/dev/null 2>&1 || return 1
  out=$("$ee/ansible-builder" introspect --sanitize "$installed"); rm -rf "$installed"
  echo "$out"
  grep -qx -- "- 'boto3>=1.35.99  # from collection glancestore.s3proxy'" <<<"$out" || return 1
  grep -qx -- "- 'botocore>=1.35.99  # from collection glancestore.s3proxy'" <<<"$out" || return 1
  grep -qx -- "system: \[\]" <<<"$out"
}

run_images() {  # the Docker engine and the lab images, once for all the docker scenarios
  local out
  out=$(bash scripts/build-images.sh) || return 1
  echo "$out" >"$REPORTS/images.env"
  echo "$out"
}
IMAGES_PID=
DOCKER_PID=

run_docker_lab() {  # the images, then each Docker scenario (its output goes to docker.out)
  local s
  step images run_images
  # shellcheck disable=SC1090,SC1091
  [ -f "$REPORTS/images.env" ] && eval "$(cat "$REPORTS/images.env")"
  for s in $DOCKER_STEPS; do
    if [ "$(cat "$REPORTS/images.status")" = pass ]; then
      step "$s" bash scripts/molecule.sh "${s#molecule_}"
    else
      echo "fail" >"$REPORTS/$s.status"; echo "the lab images were not built" >"$REPORTS/$s.log"
    fi
  done
}

run_gs_units() {  # glance_store's own S3 unit tests of each release, with the extension active; side by side
  local v pids=()
  for v in $RELEASES; do
    (pytest_step "gs_units_$v" "${SERIES_PY[$v]}/python" tests/upstream_units >"$REPORTS/gs_units_$v.out" 2>&1) &
    pids+=($!)
  done
  # glance_store built from upstream/'s patch, without the extension: its own tests, and the patch's
  (GS_UNITS_EXPECT=native pytest_step gs_units_native "$NATIVE/python" tests/upstream_units \
     >"$REPORTS/gs_units_native.out" 2>&1) &
  pids+=($!)
  wait "${pids[@]}"
  for v in $RELEASES native; do cat "$REPORTS/gs_units_$v.out"; done
}

install_extension() {  # the shipped wheel, into each Glance test environment
  local venv
  for venv in "$@"; do
    "$venv/pip" install -q --disable-pip-version-check --no-index --no-deps --force-reinstall \
      roles/glance_s3_proxy/files/glance_store_s3proxy-*.whl 2>&1 | grep -v '^WARNING: Location' || true
  done
}

install_extension "${SERIES_PY[@]}"
[ -n "${KEEP_LAB:-}" ] || "$TOOLS/python" tests/lab/netlab.py up >"$REPORTS/lab-up.txt" 2>&1 || cat "$REPORTS/lab-up.txt"

for s in $STEPS; do
  case $s in
    lint) step lint run_lint ;;
    sanity) step sanity run_sanity ;;
    build) step build run_build ;;
    changelog) step changelog run_changelog ;;
    links) step links run_links ;;
    ee) step ee run_ee ;;
    units) (cd "$CACHE/collections/ansible_collections/glancestore/s3proxy" && \
            PYTHONPATH=$CACHE/collections pytest_step units "$TOOLS/python" tests/unit/plugins tests/unit/roles) ;;
    module) pytest_step module "$TOOLS/python" tests/functional/module ;;
    units_extension) pytest_step units_extension "$GLANCE/python" tests/unit/extension ;;
    gs_units) run_gs_units ;;
    extension_native) GS_UNITS_EXPECT=native pytest_step extension_native "$NATIVE/python" tests/functional/extension ;;
    extension_*) pytest_step "$s" "${SERIES_PY[${s#extension_}]}/python" tests/functional/extension ;;
    glance_api) pytest_step glance_api "$GLANCE/python" tests/functional/glance_api ;;
    glance_api_2025.1) pytest_step glance_api_2025.1 "${SERIES_PY[4.9.1]}/python" \
        tests/functional/glance_api/test_glance_api.py tests/functional/glance_api/test_runtime_check.py \
        -k "64mib or announces or forked_after or respawned or no_site" ;;
    glance_api_native) GS_UNITS_EXPECT=native pytest_step glance_api_native "$CACHE/venv-glance-native/bin/python" \
        tests/functional/glance_api_native ;;
    glance_config) pytest_step glance_config "$GLANCE/python" tests/functional/glance_config ;;
    role) pytest_step role "$TOOLS/python" tests/functional/role ;;
    consumers) pytest_step consumers "$CACHE/venv-consumers/bin/python" tests/functional/consumers ;;
    osa) pytest_step osa "$CACHE/venv-osa/bin/python" tests/functional/osa ;;
    kolla_build) pytest_step kolla_build "$CACHE/venv-kolla/bin/python" tests/functional/kolla_build ;;
    kolla_ansible) pytest_step kolla_ansible "$CACHE/venv-kolla-ansible/bin/python" tests/functional/kolla_ansible ;;
    lab_images) pytest_step lab_images "$TOOLS/python" tests/functional/lab_images ;;
    images_start) (step images run_images >"$REPORTS/images.out" 2>&1) & IMAGES_PID=$! ;;
    images)
      if [ -n "$IMAGES_PID" ]; then wait "$IMAGES_PID"; cat "$REPORTS/images.out"; else step images run_images; fi
      cat "$REPORTS/images.log"
      # shellcheck disable=SC1090,SC1091
      [ -f "$REPORTS/images.env" ] && eval "$(cat "$REPORTS/images.env")" ;;
    docker_start) (run_docker_lab >"$REPORTS/docker.out" 2>&1) & DOCKER_PID=$! ;;
    docker_wait)
      if [ -n "$DOCKER_PID" ]; then wait "$DOCKER_PID"; else run_docker_lab >"$REPORTS/docker.out" 2>&1; fi
      cat "$REPORTS/docker.out" ;;
    molecule_*) step "$s" bash scripts/molecule.sh "${s#molecule_}" ;;
  esac
done

[ -n "${KEEP_LAB:-}" ] || "$TOOLS/python" tests/lab/netlab.py down >/dev/null 2>&1
[ -n "${KEEP_LAB:-}" ] || bash scripts/docker-engine.sh down >/dev/null 2>&1
"$TOOLS/python" scripts/summary.py "$REPORTS"
