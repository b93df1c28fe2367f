#!/usr/bin/env bash
# Makes sure strata/debian-base:bookworm, the Debian bookworm image the lab's
# images build FROM (docker-compose.yml's default STRATA_LAB_BASE), exists,
# and prints its name:
#   1. present: reused (it is made once);
#   2. otherwise debian:bookworm-slim, when it is present or can be pulled,
#      tagged with that name (the usual way);
#   3. otherwise made offline from the Debian mirror with debootstrap
#      (--variant=minbase) + `docker import`.
# So a plain `docker-compose up` finds it, however it was made.
# Progress goes to stderr, the image name alone to stdout.
#
# The mirror: STRATA_DEBIAN_MIRROR, else the host's own apt mirror (the first
# URIs: of /etc/apt/sources.list.d/debian.sources, or the first `deb` line of
# /etc/apt/sources.list), else deb.debian.org. For a reproducible base, point
# STRATA_DEBIAN_MIRROR at a snapshot.debian.org URL (on this machine the
# sources file names the snapshot its mirror follows in a comment; that host
# itself is not reachable here, the mirror is).
set -euo pipefail

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

UPSTREAM=${STRATA_BASE_UPSTREAM:-debian:bookworm-slim}
LOCAL=${STRATA_BASE_LOCAL:-strata/debian-base:bookworm}

has_image() { docker image inspect "$1" >/dev/null 2>&1; }

host_mirror() {
  local f=/etc/apt/sources.list.d/debian.sources uri=""
  [ -f "$f" ] && uri=$(awk '/^URIs:/ { print $2; exit }' "$f")
  [ -z "$uri" ] && [ -f /etc/apt/sources.list ] && uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
  echo "${uri:-http://deb.debian.org/debian}"
}

if has_image "$LOCAL"; then say "base image $LOCAL present (cached)"; echo "$LOCAL"; exit 0; fi
if has_image "$UPSTREAM" || timeout 60 docker pull -q "$UPSTREAM" >/dev/null 2>&1; then
  docker tag "$UPSTREAM" "$LOCAL"
  say "base image $LOCAL is $UPSTREAM"
  echo "$LOCAL"
  exit 0
fi

mirror=${STRATA_DEBIAN_MIRROR:-$(host_mirror)}
say "no image registry reachable: building $LOCAL with debootstrap from $mirror"
command -v debootstrap >/dev/null || { echo "error: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
dir=$(mktemp -d /tmp/strata-debootstrap.XXXXXX)
trap 'rm -rf "$dir"' EXIT
start=$(date +%s)
if ! debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$dir.log" 2>&1; then
  echo "error: debootstrap from $mirror failed; last lines of $dir.log:" >&2
  tail -n 20 "$dir.log" >&2
  exit 1
fi
rm -f "$dir.log"
# The same suites as the host (updates, security) when it uses deb822 sources; else debootstrap's one line.
if [ -z "${STRATA_DEBIAN_MIRROR:-}" ] && [ -f /etc/apt/sources.list.d/debian.sources ]; then
  cp /etc/apt/sources.list.d/debian.sources "$dir/etc/apt/sources.list.d/debian.sources"
  rm -f "$dir/etc/apt/sources.list"
fi
# As in Debian's official images: no recommends, no package cache left in layers.
printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$dir/etc/apt/apt.conf.d/90strata-minimal"
printf 'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb || true"; };\n' >"$dir/etc/apt/apt.conf.d/90strata-clean"
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import -c 'CMD ["/bin/bash"]' - "$LOCAL" >/dev/null
say "made $LOCAL in $(( $(date +%s) - start )) s"
echo "$LOCAL"
