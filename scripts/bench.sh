#!/usr/bin/env bash
# make bench: throughput direct vs proxied through the Glance API, module
# probes vs bare boto3, role converge time, peak RSS. Writes docs/benchmarks.*
set -euo pipefail
cd "$(dirname "$0")/.."
.cache/venv-tools/bin/pip install -q --disable-pip-version-check -r tests/requirements-bench.txt 2>&1 \
  | grep -v '^WARNING: Location' || true
images=$(bash scripts/build-images.sh)
eval "$images"
export PATH=$PWD/.cache/venv-tools/bin:$PATH
exec .cache/venv-tools/bin/python lab/bench.py
