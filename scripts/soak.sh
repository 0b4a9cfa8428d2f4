#!/usr/bin/env bash
# make soak: the reliability cases of tests/functional/reliability in their long form (RELIABILITY_MODE=soak:
# the soak loop runs SOAK_SECONDS, 1800 by default, and each fault is injected 3 times), against the
# network-namespace lab, which is brought up if it is not running. Writes docs/reliability.md and
# docs/reliability.json from what was measured, failures included. Not part of make test (its short form is
# the reliability step there). Takes SOAK_SECONDS plus about 10 minutes.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export RELIABILITY_MODE=soak
export SOAK_SECONDS=${SOAK_SECONDS:-1800}
PYTHON=${RELIABILITY_PYTHON:-.cache/venv-glance/bin/python}
if [ ! -x "$PYTHON" ]; then
  echo "soak: $PYTHON is missing: run make deps first" >&2
  exit 1
fi
for tool in haproxy squid nft tc; do
  command -v "$tool" >/dev/null 2>&1 || { echo "soak: $tool is missing: run make deps first" >&2; exit 1; }
done
echo "soak: RELIABILITY_MODE=soak SOAK_SECONDS=$SOAK_SECONDS"
"$PYTHON" -m pytest -p no:cacheprovider -q -rfE tests/functional/reliability
rc=$?
report=build/reports/reliability-soak.json
if [ -f "$report" ]; then
  "$PYTHON" tests/functional/reliability/write_report.py "$report" --md docs/reliability.md --json docs/reliability.json
  echo "soak: wrote docs/reliability.md and docs/reliability.json (pytest exit status $rc)"
else
  echo "soak: no report was written ($report)" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
