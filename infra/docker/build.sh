#!/usr/bin/env bash
# Builds the compose lab's images from the sources (needs a running engine),
# as `docker-compose build` would, with infra/docker/lab.Dockerfile:
#   base                 STRATA_LAB_BASE, or strata/debian-base:bookworm (base-image.sh: pulled, or made offline)
#   strata/lab-system    base + Debian packages (target system)
#   strata/lab           system + Node.js 20 + the workspace, installed and built in the image (target lab)
#   strata/lab-keystone  base + Keystone + the stock openstack CLI (target keystone)
#   strata/lab-prometheus  base + Debian's prometheus + infra/prometheus (target prometheus)
# STRATA_LAB_TAG: the images' tag (default latest), as in docker-compose.yml.
# The certificate authorities this host added (/usr/local/share/ca-certificates)
# are passed to the npm steps (EXTRA_CA_CERTS), so a TLS-intercepting proxy the
# host trusts works for the build too; STRATA_LAB_EXTRA_CA_CERTS overrides them.
# Unchanged layers come from the engine's cache; prints each step's time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(cd ../.. && pwd)
TAG=${STRATA_LAB_TAG:-latest}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
mkdir -p .build
# `docker build` of one target, its output kept in .build/<image>.log and shown when it fails.
build() {
  local tag=$1 target=$2 log=.build/${1//[\/:]/_}.log t=$SECONDS
  if ! docker build --network=host --build-arg "BASE=$base" --build-arg "EXTRA_CA_CERTS=$extra_ca" \
    --target "$target" -t "$tag" -f "$ROOT/infra/docker/lab.Dockerfile" "$ROOT" >"$log" 2>&1; then
    echo "error: building $tag failed; last lines of infra/docker/$log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  say "  $tag built in $((SECONDS - t)) s"
}

extra_ca=${STRATA_LAB_EXTRA_CA_CERTS-$(cat /usr/local/share/ca-certificates/*.crt 2>/dev/null || true)}

say "base image"
base=${STRATA_LAB_BASE:-$(bash base-image.sh)}
say "  using $base"

say "strata/lab-system:$TAG (Debian packages)"
build "strata/lab-system:$TAG" system

say "strata/lab:$TAG (Node.js + the workspace, built in the image)"
build "strata/lab:$TAG" lab

say "strata/lab-keystone:$TAG (Keystone and the openstack CLI)"
build "strata/lab-keystone:$TAG" keystone

say "strata/lab-prometheus:$TAG (Prometheus and the lab's alert rules)"
build "strata/lab-prometheus:$TAG" prometheus
