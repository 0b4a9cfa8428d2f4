#!/usr/bin/env bash
# Install what the tests and the lab need on a fresh Debian 12 machine:
# apt packages, the test runner (nox), the collections Ansible looks for. Idempotent.
# The pinned Python environments come from nox's sessions (noxfile.py).
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
# The reliability cases (tests/functional/reliability): HAProxy in front of two glance-api hosts,
# nftables for an S3 that stops answering, PostgreSQL as Glance's database under concurrent uploads.
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || need_apt+=(haproxy)
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || need_apt+=(nftables)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need_apt+=(postgresql)
# The daemons these packages start; the tests run their own. Only those this run installs are stopped: a
# Squid, HAProxy or PostgreSQL the machine already ran is left alone (nftables has no daemon, and stopping
# its service would flush the host's rules).
new_services=()
for pkg in "${need_apt[@]}"; do
  case $pkg in squid|haproxy|postgresql) new_services+=("$pkg") ;; esac
done
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "bootstrap: apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
  for svc in "${new_services[@]}"; do
    (systemctl disable --now "$svc" >/dev/null 2>&1 || service "$svc" stop >/dev/null 2>&1 || true)
  done
fi

# The test runner, nox (noxfile.py): its sessions build the other environments under .cache/
# (nox -s envs builds them all, side by side; a session run alone builds what it lacks).
NOX=$CACHE/venv-nox
stamp=$(sha256sum tests/requirements-nox.txt | cut -c1-16)
if [ ! -f "$NOX/.stamp" ] || [ "$(cat "$NOX/.stamp")" != "$stamp" ]; then
  echo "bootstrap: creating venv nox from tests/requirements-nox.txt"
  rm -rf "$NOX"
  "$PYTHON" -m venv "$NOX"
  "$NOX/bin/pip" install -q --disable-pip-version-check -r tests/requirements-nox.txt 2>&1 | grep -v '^WARNING: Location' || true
  "$NOX/bin/nox" --version >/dev/null 2>&1 || { echo "bootstrap: nox could not be installed" >&2; exit 1; }
  echo "$stamp" >"$NOX/.stamp"
fi
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
  "$NOX/bin/pip" download -q --disable-pip-version-check --no-deps -d "$tmpd" ansible==12.3.0 2>&1 \
    | grep -v '^WARNING: Location' || true
  rm -rf "$COLL/community/docker" && mkdir -p "$COLL"
  "$NOX/bin/python" - "$tmpd"/ansible-12.3.0-py3-none-any.whl "$CACHE/collections" <<'PY'
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
