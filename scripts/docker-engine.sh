#!/usr/bin/env bash
# Make a Docker engine reachable for the lab and the Molecule scenarios.
#   docker-engine.sh up                   prints "export DOCKER_HOST=..." for the engine to use
#   docker-engine.sh down                 stops the private engine this script started (and its forwarders)
#   docker-engine.sh forward ADDR:PORT    makes a port that a container publishes on ADDR:PORT reachable
#                                         on the host's ADDR:PORT (see below)
#   docker-engine.sh unforward ADDR:PORT  stops that forwarder
# The engine DOCKER_HOST names, when it answers, is used as it is; so is the default socket's (a
# laptop, a CI service) when DOCKER_HOST is unset. Otherwise docker.io is installed and a private
# dockerd is started in its own network namespace (nsenter, so /sys and the cgroup mounts stay
# visible), so its bridges and iptables rules never touch the host.
# A port that a container of the private engine publishes is published inside that namespace, where
# the host cannot reach it: `forward` listens on the host's ADDR:PORT and relays each connection to
# ADDR:PORT inside the namespace (a small Python relay, one per port, its pid in the engine's
# directory). With any other engine Docker publishes on the host itself, and `forward` does nothing.
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

# The relay: listens in the host's namespace; each connection is served by a thread that enters the
# engine's namespace (setns applies to the calling thread only) and connects to the same address there.
RELAY='
import ctypes, os, socket, sys, threading
ns, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
nsfd = os.open(ns, os.O_RDONLY)
server = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind((addr, port))
server.listen(64)
print("listening", flush=True)

def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve(client):
    if libc.setns(nsfd, 0x40000000) != 0:  # CLONE_NEWNET
        client.close()
        return
    try:
        upstream = socket.create_connection((addr, port), 10)
        upstream.settimeout(None)
    except OSError:
        client.close()
        return
    back = threading.Thread(target=pump, args=(upstream, client), daemon=True)
    back.start()
    pump(client, upstream)
    back.join()
    client.close()
    upstream.close()

while True:
    client, _peer = server.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
'

relay_pidfile() { printf '%s/forward-%s.pid' "$DIR" "$(printf %s "$1" | tr -c 'A-Za-z0-9.\n' -)"; }

relay_alive() {  # relay_alive PIDFILE: its pid is this checkout's relay (not a stranger that took a stale pid)
  local pid
  [ -f "$1" ] && [ ! -L "$1" ] || return 1
  pid=$(cat "$1")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "/run/netns/$NS"
}

relay_stop() {  # relay_stop PIDFILE
  local pid
  [ -e "$1" ] || [ -L "$1" ] || return 0
  if ! relay_alive "$1"; then rm -f "$1"; return 0; fi
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$1"
}

case "${1:-up}" in
  up)
    if [ -z "${LAB_PRIVATE_DOCKER:-}" ] && [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix://$SOCK" ] &&
       docker info >/dev/null 2>&1; then
      echo "export DOCKER_HOST=$DOCKER_HOST"
    elif [ -z "${LAB_PRIVATE_DOCKER:-}" ] && [ -z "${DOCKER_HOST:-}" ] && [ ! -S "$SOCK" ] && docker info >/dev/null 2>&1; then
      echo "export DOCKER_HOST=unix:///var/run/docker.sock"
    else
      private_up >&2
      echo "export DOCKER_HOST=unix://$SOCK"
    fi ;;
  forward | unforward)
    target=${2:?usage: $0 $1 ADDR:PORT}
    addr=${target%:*} port=${target##*:}
    case $addr in  # the lab's API takes requests without credentials: the host's loopback only
      127.*|::1|\[::1\]) ;;
      *) echo "docker-engine: $1 takes a loopback address (127.0.0.0/8 or ::1), not $addr" >&2; exit 2 ;;
    esac
    [[ $port =~ ^[0-9]+$ ]] || { echo "docker-engine: $1 takes ADDR:PORT, not $target" >&2; exit 2; }
    pidfile=$(relay_pidfile "$target")
    if [ "$1" = unforward ]; then
      relay_stop "$pidfile"
      exit 0
    fi
    if [ "${DOCKER_HOST:-}" != "unix://$SOCK" ]; then
      echo "docker-engine: $target is published by the engine at ${DOCKER_HOST:-unix:///var/run/docker.sock} itself" >&2
      exit 0
    fi
    if relay_alive "$pidfile"; then
      exit 0
    fi
    log=${pidfile%.pid}.log
    rm -f "$pidfile" "$log"  # never write through a link left in their place
    py=/usr/bin/python3
    [ -x "$py" ] || py=python3
    setsid "$py" -c "$RELAY" "/run/netns/$NS" "$addr" "$port" >"$log" 2>&1 </dev/null &
    echo $! >"$pidfile"
    for _ in $(seq 50); do
      grep -q '^listening$' "$log" 2>/dev/null && {
        echo "docker-engine: the host's $target is relayed to $target in the private engine's namespace $NS" >&2
        exit 0
      }
      kill -0 "$(cat "$pidfile")" 2>/dev/null || break
      sleep 0.1
    done
    echo "docker-engine: could not listen on the host's $target:" "$(tail -n 1 "$log")" >&2
    relay_stop "$pidfile"
    exit 1 ;;
  down)
    for pidfile in "$DIR"/forward-*.pid; do
      [ -e "$pidfile" ] && relay_stop "$pidfile"
    done
    if [ -f "$DIR/dockerd.pid" ]; then
      pid=$(cat "$DIR/dockerd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$DIR/dockerd.pid"
    fi
    pkill -f "containerd --config $DIR" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true ;;
  *) echo "usage: $0 up|down|forward ADDR:PORT|unforward ADDR:PORT" >&2; exit 2 ;;
esac
