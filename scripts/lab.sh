#!/usr/bin/env bash
# make lab / make lab-down: the local lab, and the main job run against it.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-up}" in
  up) exec .cache/venv-glance/bin/python tests/lab/lab_main.py up ;;
  down)
    if [ -x .cache/venv-glance/bin/python ]; then
      exec .cache/venv-glance/bin/python tests/lab/lab_main.py down
    fi ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
