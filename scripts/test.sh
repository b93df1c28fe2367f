#!/usr/bin/env bash
# The whole test suite: unit, integration (real nats-server, ...), end-to-end.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m==> running tests\033[0m\n'
npx vitest run "$@"
