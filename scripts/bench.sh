#!/usr/bin/env bash
# make bench: ours (the extension) against direct, the peer (glance-api behind HTTP_PROXY) and the proxy's own
# limit (bare boto3 through the same Squid); Squid and Glance settings one at a time; peak RSS; the module's
# probes; converge on 1, 4 and 8 hosts. Writes docs/benchmarks.{md,json,png} (lab/bench.py).
# BENCH_PHASES="transfers tuning rss probes converge" (any subset; the others are read from build/bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
.cache/venv-tools/bin/pip install -q --disable-pip-version-check -r tests/requirements-bench.txt 2>&1 \
  | grep -v '^WARNING: Location' || true
images=$(bash scripts/build-images.sh)
eval "$images"

# Squid 6 from Debian 13, the other Squid the apt archive has: an image of its own (debootstrap, cached).
# Without it the bench says so in its tuning table and goes on.
SQUID6=glancestore-bench-squid6:trixie
if ! docker image inspect "$SQUID6" >/dev/null 2>&1; then
  MIRROR=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1)
  MIRROR=${MIRROR:-http://deb.debian.org/debian}
  tmp=$(mktemp -d)
  echo "bench: debootstrap trixie with squid ($MIRROR)" >&2
  # squid's dependencies (systemd, through cron-daemon-common) do not install in debootstrap's own order:
  # the minimal system first, then apt-get inside it.
  if debootstrap --variant=minbase trixie "$tmp/root" "$MIRROR" >"$tmp/debootstrap.log" 2>&1 &&
     cp /etc/resolv.conf "$tmp/root/etc/resolv.conf" &&
     printf '#!/bin/sh\nexit 101\n' > "$tmp/root/usr/sbin/policy-rc.d" && chmod 0755 "$tmp/root/usr/sbin/policy-rc.d" &&
     chroot "$tmp/root" /bin/sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
       squid apache2-utils procps' >>"$tmp/debootstrap.log" 2>&1; then
    rm -f "$tmp/root/usr/sbin/policy-rc.d"
    : > "$tmp/root/etc/resolv.conf"
    rm -rf "$tmp/root/var/lib/apt/lists/"* "$tmp/root/var/cache/apt/"*.bin "$tmp/root/var/cache/apt/archives/"*.deb
    tar -C "$tmp/root" -c . | docker import -c 'CMD ["sleep", "infinity"]' - "$SQUID6" >/dev/null
  else
    echo "bench: no Squid 6 image (debootstrap trixie or apt-get install squid failed):" >&2
    tail -n 5 "$tmp/debootstrap.log" >&2
  fi
  rm -rf "$tmp"
fi
if docker image inspect "$SQUID6" >/dev/null 2>&1; then
  export BENCH_SQUID6_IMAGE=$SQUID6
fi
export PATH=$PWD/.cache/venv-tools/bin:$PATH
exec .cache/venv-tools/bin/python lab/bench.py
