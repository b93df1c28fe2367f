#!/usr/bin/env bash
# Builds the compose lab's images (needs a running engine; the workspace must
# be built: `npm ci && npm run build`, which scripts/setup.sh does):
#   base     debian:bookworm-slim, or strata/debian-base:bookworm made offline (base-image.sh)
#   strata/lab-system   base + Debian packages (system.Dockerfile)
#   strata/lab          system + Node.js + the built workspace (runtime.Dockerfile)
# Unchanged layers come from the engine's cache; prints each step's time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$(cd ../.. && pwd)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
mkdir -p .build
# `docker build`, its output kept in .build/<image>.log and shown when it fails.
build() {
  local tag=$1 log=.build/${1//[\/:]/_}.log t=$SECONDS; shift
  if ! docker build --network=host -t "$tag" "$@" >"$log" 2>&1; then
    echo "error: building $tag failed; last lines of infra/docker/$log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  say "  $tag built in $((SECONDS - t)) s"
}

[ -f "$ROOT/services/agent/dist/main.js" ] && [ -f "$ROOT/infra/docker/dist/vm/main.js" ] ||
  { echo "error: the workspace is not built; run: npm ci && npm run build" >&2; exit 1; }

node_bin=$(command -v node || true)
[ -n "$node_bin" ] || { echo "error: node (20+) is not on PATH: the runtime image copies the host's Node.js" >&2; exit 1; }
node_bin=$(readlink -f "$node_bin")
if [ "$("$node_bin" -p 'process.versions.node.split(".")[0]')" -lt 20 ]; then
  echo "error: $node_bin is Node.js $("$node_bin" --version); the images need 20+" >&2; exit 1
fi
# A node linked against a shared libnode (Debian's nodejs) cannot be copied alone.
if ldd "$node_bin" | grep -q libnode; then
  echo "error: $node_bin needs libnode.so (Debian's nodejs package); install Node.js 20+ as a single binary (NodeSource, nvm, nodejs.org)" >&2; exit 1
fi

say "base image"
base=$(bash base-image.sh)
say "  using $base"

say "strata/lab-system (Debian packages)"
build strata/lab-system:latest --build-arg "BASE=$base" -f system.Dockerfile .

say "strata/lab (Node.js $("$node_bin" --version) + the built workspace)"
# Hard link when possible: same content, no copy; the build context checksums it either way.
ln -f "$node_bin" .build/node 2>/dev/null || cp -f "$node_bin" .build/node
build strata/lab:latest -f runtime.Dockerfile "$ROOT"
