#!/usr/bin/env bash
# An execution environment with the collection: ansible-builder's context, and its introspection.
#   check.sh PACKAGING_VENV_BIN   (run after the build session: build/collection holds the tarball)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ee=${1:?usage: check.sh PACKAGING_VENV_BIN}
tarball=$(ls build/collection/glancestore-s3proxy-*.tar.gz) || { echo "run the build session first"; exit 1; }
rm -rf build/ee
"$ee/ansible-builder" create -f tests/ee/execution-environment.yml -c build/ee || exit 1
cmp "$tarball" "build/ee/_build/collections/$(basename "$tarball")" || exit 1
grep -q "name: collections/$(basename "$tarball")" build/ee/_build/requirements.yml || exit 1
# What ansible-builder adds for the collection, read from the built tarball's meta/execution-environment.yml.
installed=$(mktemp -d)
trap 'rm -rf "$installed"' EXIT
ansible-galaxy collection install --force -p "$installed" "$tarball" >/dev/null 2>&1 || exit 1
out=$("$ee/ansible-builder" introspect --sanitize "$installed") || exit 1
echo "$out"
grep -qx -- "- 'boto3>=1.35.99  # from collection glancestore.s3proxy'" <<<"$out" || exit 1
grep -qx -- "- 'botocore>=1.35.99  # from collection glancestore.s3proxy'" <<<"$out" || exit 1
grep -qx -- "system: \[\]" <<<"$out"
