#!/usr/bin/env bash
# Regenerate docs/ files that are generated from code (make docs).
set -euo pipefail
cd "$(dirname "$0")/.."
.cache/venv-glance/bin/oslo-config-generator --namespace glance_store_s3proxy --format ini \
  --output-file docs/glance-store-s3proxy.conf.sample
echo "docs/glance-store-s3proxy.conf.sample"
