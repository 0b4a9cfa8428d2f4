#!/usr/bin/env bash
# A Python 3.12 that a user other than root can run, for .cache/venv-kolla-ansible
# (kolla-ansible 23.0.0 needs Python >= 3.12; Debian 12 has 3.11).
#
# pyenv's 3.12 sits under /root (mode 0700) and its binary finds libpython
# through a RUNPATH into /root, so this copies the interpreter and its standard
# library (without the test suite and site-packages) to DEST and points the
# RUNPATH of the copy at $ORIGIN/../lib (patchelf, from Debian). Idempotent:
# redone only when the source interpreter changes. Prints DEST/bin/python3.12.
#
#   python312.sh DEST [SOURCE_PREFIX]   (default: the newest /root/.pyenv/versions/3.12.*)
set -euo pipefail
dest=${1:?usage: python312.sh DEST [SOURCE_PREFIX]}
src=${2:-}
if [ -z "$src" ]; then
  for candidate in /root/.pyenv/versions/3.12.*; do  # the last match in glob order
    [ -x "$candidate/bin/python3.12" ] && src=$candidate
  done
fi
if [ -z "$src" ] || [ ! -x "$src/bin/python3.12" ]; then
  echo "python312.sh: no Python 3.12 found (looked for /root/.pyenv/versions/3.12.*); give its prefix" >&2
  exit 1
fi
stamp="$src $(stat -c %Y "$src/bin/python3.12" "$src/lib/libpython3.12.so.1.0" 2>/dev/null | tr '\n' ' ')"
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ] && [ -x "$dest/bin/python3.12" ]; then
  echo "$dest/bin/python3.12"
  exit 0
fi
if ! command -v patchelf >/dev/null 2>&1; then
  echo "python312.sh: apt-get install patchelf" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq patchelf >/dev/null 2>&1 || apt-get install -y patchelf >&2
fi
echo "python312.sh: copying $src to $dest" >&2
rm -rf "$dest" "$dest.tmp"
mkdir -p "$dest.tmp"
tar -C "$src" -cf - --exclude=./lib/python3.12/test --exclude=./lib/python3.12/idlelib \
    --exclude='./lib/python3.12/site-packages/*' --exclude='*/__pycache__' bin lib include \
  | tar -C "$dest.tmp" -xf -
for elf in "$dest.tmp/bin/python3.12" "$dest.tmp/lib/libpython3.12.so.1.0"; do
  [ -f "$elf" ] && patchelf --set-rpath "\$ORIGIN/../lib" "$elf"
done
chmod -R a+rX "$dest.tmp"
"$dest.tmp/bin/python3.12" -c 'import ssl, sqlite3, ctypes, venv, ensurepip' \
  || { echo "python312.sh: the copy in $dest.tmp does not run" >&2; exit 1; }
mv "$dest.tmp" "$dest"
echo "$stamp" >"$dest/.stamp"
echo "$dest/bin/python3.12"
