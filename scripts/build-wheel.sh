#!/usr/bin/env bash
# Build the glance-store-s3proxy wheel shipped in the role's files/ (offline).
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=roles/glance_s3_proxy/files/glance-store-s3proxy
OUT=${1:-roles/glance_s3_proxy/files}
PY=${PY:-.cache/venv-tools/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$SRC" "$tmp/src"
rm -rf "$tmp/src/build" "$tmp/src/"*.egg-info
SOURCE_DATE_EPOCH=1767225600 "$PY" -m pip wheel -q --disable-pip-version-check --no-deps --no-build-isolation \
  -w "$tmp/out" "$tmp/src" 2>&1 | grep -v '^WARNING: Location' || true
mkdir -p "$OUT"
rm -f "$OUT"/glance_store_s3proxy-*.whl
cp "$tmp/out"/glance_store_s3proxy-*.whl "$OUT/"
ls "$OUT"/glance_store_s3proxy-*.whl
