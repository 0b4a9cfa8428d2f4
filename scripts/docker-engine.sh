#!/usr/bin/env bash
# Make a Docker engine reachable for the lab and the Molecule scenarios.
#   docker-engine.sh up    prints "export DOCKER_HOST=..." for the engine to use
#   docker-engine.sh down  stops the private engine this script started
# An engine that already answers (a laptop, a CI service) is used as it is.
# Otherwise docker.io is installed and a private dockerd is started in its own
# network namespace (nsenter, so /sys and the cgroup mounts stay visible), so
# its bridges and iptables rules never touch the host.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${LAB_DOCKER_DIR:-$PWD/.cache/docker}
NS=gs3p-docker-$(printf %s "$DIR" | sha256sum | cut -c1-8)  # one per checkout
SOCK=$DIR/docker.sock

private_up() {
  [ -S "$SOCK" ] && DOCKER_HOST=unix://$SOCK docker version >/dev/null 2>&1 && return 0
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker-engine: installing docker.io" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
  fi
  mkdir -p "$DIR"
  ip netns add "$NS" 2>/dev/null || true
  ip -n "$NS" link set lo up
  nsenter --net="/run/netns/$NS" setsid dockerd --data-root "$DIR/data" --exec-root "$DIR/exec" \
    --pidfile "$DIR/dockerd.pid" -H "unix://$SOCK" --storage-driver overlay2 \
    >"$DIR/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 60); do
    DOCKER_HOST=unix://$SOCK docker version >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "docker-engine: dockerd did not start, see $DIR/dockerd.log" >&2
  tail -n 20 "$DIR/dockerd.log" >&2
  return 1
}

case "${1:-up}" in
  up)
    if [ -z "${LAB_PRIVATE_DOCKER:-}" ] && [ ! -S "$SOCK" ] && docker info >/dev/null 2>&1; then
      echo "export DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock}"
    else
      private_up >&2
      echo "export DOCKER_HOST=unix://$SOCK"
    fi ;;
  down)
    if [ -f "$DIR/dockerd.pid" ]; then
      pid=$(cat "$DIR/dockerd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$DIR/dockerd.pid"
    fi
    pkill -f "containerd --config $DIR" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
