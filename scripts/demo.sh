#!/usr/bin/env bash
# The README's main command: set up, start the control plane, run the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
printf '\033[1m==> starting the demo\033[0m\n'
exec node infra/lab/dist/demo/main.js
