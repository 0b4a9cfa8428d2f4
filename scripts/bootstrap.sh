#!/usr/bin/env bash
# Install what the tests and the lab need on a fresh Debian 12 machine:
# apt packages, then the pinned Python venvs under .cache/. Idempotent: a venv
# is rebuilt only when its requirements file changes.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CACHE:-$PWD/.cache}
PYTHON=${PYTHON:-python3.11}
mkdir -p "$CACHE"

need_apt=()
command -v squid >/dev/null 2>&1 || need_apt+=(squid)
command -v htpasswd >/dev/null 2>&1 || need_apt+=(apache2-utils)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v nsenter >/dev/null 2>&1 || need_apt+=(util-linux)
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
# kolla-build runs as a user other than root in its test: from Debian's Python, outside /root.
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  # The Debian package starts a system Squid; the tests run their own.
  (systemctl disable --now squid >/dev/null 2>&1 || service squid stop >/dev/null 2>&1 || true)
fi

venv() {  # venv NAME REQUIREMENTS
  local dir="$CACHE/venv-$1" req="$2" stamp
  stamp=$(sha256sum "$req" | cut -c1-16)
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; then
    return 0
  fi
  echo "bootstrap: creating venv $1 from $req"
  rm -rf "$dir"
  "${PYTHON}" -m venv "$dir"
  if ! "$dir/bin/pip" install -q --disable-pip-version-check -r "$req" >"$dir/.pip.log" 2>&1; then
    grep -v "^WARNING: Location" "$dir/.pip.log" >&2
    echo "bootstrap: pip could not install $req into $dir" >&2
    return 1
  fi
  echo "$stamp" > "$dir/.stamp"
}
native_venv() {  # native_venv NAME REQUIREMENTS: glance_store 5.7.0's sdist with upstream/'s patch, no extension
  local dir="$CACHE/venv-$1" req=$2 patch=upstream/0001-s3-Add-HTTP-proxy-support.patch stamp tmp
  stamp=$(cat "$req" "$patch" | sha256sum | cut -c1-16)
  [ -f "$dir/.native" ] && [ "$(cat "$dir/.native")" = "$stamp" ] && return 0
  rm -f "$dir/.native" "$dir/.stamp"
  venv "$1" "$req" || return 1
  tmp=$(mktemp -d)
  if ! { "$dir/bin/pip" download -q --disable-pip-version-check --no-deps --no-binary :all: -d "$tmp" \
           glance-store==5.7.0 >"$dir/.pip.log" 2>&1 \
         && tar -xzf "$tmp"/glance_store-5.7.0.tar.gz -C "$tmp" \
         && patch -s -p1 -d "$tmp/glance_store-5.7.0" <"$patch" \
         && PBR_VERSION=5.7.0 "$dir/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall \
              "$tmp/glance_store-5.7.0" >>"$dir/.pip.log" 2>&1; }; then
    grep -v "^WARNING: Location" "$dir/.pip.log" >&2
    echo "bootstrap: could not build glance_store 5.7.0 with $patch" >&2
    rm -rf "$tmp"; rm -f "$dir/.stamp"; return 1
  fi
  rm -rf "$tmp"
  echo "$stamp" > "$dir/.native"
}
venv tools tests/requirements-tools.txt
# Independent of each other: built side by side (pip mostly waits on the package index).
pids=()
venv glance tests/requirements-glance.txt & pids+=($!)                 # 2026.2: glance 33, glance_store 5.7.0
venv glance-2025.1 tests/requirements-glance-2025.1.txt & pids+=($!)   # 2025.1: glance 30, glance_store 4.9.1
for v in 5.2.0 5.4.0 5.6.0; do                                          # 2025.2, 2026.1, 2026.2's previous
  venv "gs-$v" "tests/requirements-gs-$v.txt" & pids+=($!)
done
venv consumers tests/requirements-consumers.txt & pids+=($!)  # kolla-ansible, oslo.config, hypothesis
venv osa tests/requirements-osa.txt & pids+=($!)              # config_template 2.1.1 on ansible-core 2.17
venv packaging tests/requirements-packaging.txt & pids+=($!)  # ansible-builder
PYTHON=/usr/bin/python3 venv kolla tests/requirements-kolla.txt & pids+=($!)  # kolla-build 23 (2026.2)
PYTHON=$(bash scripts/python312.sh "$CACHE/python-3.12") \
  venv kolla-ansible tests/requirements-kolla-ansible.txt & pids+=($!)  # kolla-ansible 23 (2026.2), non-root
native_venv gs-native tests/requirements-gs-native.txt & pids+=($!)
native_venv glance-native tests/requirements-glance.txt & pids+=($!)  # glance 33 on it, for the live check
for pid in "${pids[@]}"; do wait "$pid" || { echo "bootstrap: a venv failed" >&2; exit 1; }; done
rm -rf "$CACHE/venv-gs-prev"  # replaced by venv-gs-5.6.0

# ansible-test downloads a get-pip script from a host this machine cannot
# reach; give it a stand-in that uses ensurepip and the package index.
mkdir -p "$HOME/.ansible/test/cache"
for v in 24_2 24_3 25_0 25_1 25_2; do
  cat > "$HOME/.ansible/test/cache/get_pip_$v.py" <<'PY'
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ('--no-setuptools', '--no-wheel', '--no-pip')]
subprocess.check_call([sys.executable, '-m', 'ensurepip', '--upgrade', '--default-pip'])
if args:
    subprocess.check_call([sys.executable, '-m', 'pip', 'install'] + args)
PY
done

# community.docker (for the Molecule lab scenarios), taken from the pinned
# ansible package on PyPI: Galaxy is not reachable.
COLL=$CACHE/collections/ansible_collections
if [ ! -f "$COLL/community/docker/.from-ansible-12.3.0" ]; then
  echo "bootstrap: community.docker from ansible 12.3.0"
  tmpd=$(mktemp -d)
  "$CACHE/venv-tools/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmpd" ansible==12.3.0 2>&1 \
    | grep -v '^WARNING: Location' || true
  rm -rf "$COLL/community/docker" && mkdir -p "$COLL"
  "$CACHE/venv-tools/bin/python" - "$tmpd"/ansible-12.3.0-py3-none-any.whl "$CACHE/collections" <<'PY'
import sys
import zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    whl.extractall(sys.argv[2], [n for n in whl.namelist() if n.startswith('ansible_collections/community/docker/')])
PY
  touch "$COLL/community/docker/.from-ansible-12.3.0"
  rm -rf "$tmpd"
fi

# The collection as Ansible looks for it.
mkdir -p "$CACHE/collections/ansible_collections/glancestore"
ln -sfn "$PWD" "$CACHE/collections/ansible_collections/glancestore/s3proxy"
echo "bootstrap: ready"
