#!/usr/bin/env bash
# Provide a Squid built with OpenSSL (for `https_port`, TLS to the proxy itself)
# without installing it: Debian's `squid-openssl` Conflicts: squid, and the lab
# needs the plain `squid` package too. The .deb is downloaded with apt and
# unpacked under .cache/squid-openssl/root; its squid binary runs from there
# and uses squid-common's files (error pages, mime.conf) and the plain
# package's helpers (basic_ncsa_auth), which are the same version.
#
# Idempotent. Prints the path of the squid binary as the last line of stdout.
# Usage: scripts/squid-openssl.sh [--print]   (--print: only print the path if present, exit 1 if not)
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${CACHE:-$PWD/.cache}
DIR=$CACHE/squid-openssl
ROOTDIR=$DIR/root
BIN=$ROOTDIR/usr/sbin/squid

has_tls() {  # the unpacked binary runs, all its libraries resolve, and it was built with OpenSSL
  [ -x "$BIN" ] || return 1
  ! ldd "$BIN" 2>/dev/null | grep -q 'not found' || return 1
  "$BIN" -v 2>/dev/null | grep -q -- "--with-openssl"
}

if has_tls; then
  echo "$BIN"
  exit 0
fi
if [ "${1:-}" = "--print" ]; then
  exit 1
fi

command -v squid >/dev/null 2>&1 || { echo "squid-openssl.sh: the plain squid package is needed first (scripts/bootstrap.sh)" >&2; exit 1; }
mkdir -p "$DIR"
cd "$DIR"
rm -f squid-openssl_*.deb
# Prefer the exact version of the installed squid-common (same error pages,
# same helpers); fall back to the archive's candidate.
version=$(dpkg-query -W -f='${Version}' squid-common 2>/dev/null || true)
download() {
  { [ -n "$version" ] && apt-get download -qq "squid-openssl=$version"; } || apt-get download -qq squid-openssl
}
if ! download >/dev/null 2>&1; then
  echo "squid-openssl.sh: apt-get update, then download again" >&2
  apt-get update -qq >/dev/null
  download >/dev/null
fi
debs=(squid-openssl_*.deb)
deb=${debs[0]}
rm -rf "$ROOTDIR.new"
dpkg-deb -x "$deb" "$ROOTDIR.new"
rm -rf "$ROOTDIR"
mv "$ROOTDIR.new" "$ROOTDIR"

# Libraries the binary needs but this machine lacks: install only those
# (they are plain shared-library packages that do not conflict with squid).
missing=$(ldd "$BIN" | awk '/not found/ {print $1}')
if [ -n "$missing" ]; then
  pkgs=()
  for lib in $missing; do
    pkg=$(apt-file search -l "$lib" 2>/dev/null | head -n1 || true)
    if [ -z "$pkg" ]; then
      # No apt-file: take the library packages from the .deb's Depends.
      mapfile -t pkgs < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | grep '^lib')
      break
    fi
    pkgs+=("$pkg")
  done
  echo "squid-openssl.sh: apt-get install ${pkgs[*]} (missing: $missing)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null
fi

if ! has_tls; then
  echo "squid-openssl.sh: $BIN does not run or lacks OpenSSL:" >&2
  ldd "$BIN" >&2 || true
  exit 1
fi
echo "$BIN"
