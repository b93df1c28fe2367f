#!/usr/bin/env bash
# The whole test suite: unit, integration (real nats-server, ...), end-to-end,
# and the hostile tier (test/hostile). Afterwards, a check that the run left
# no network namespace and no process in a namespace without a name.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
before=$(bash scripts/leaks.sh | sort)
printf '\033[1m==> running tests\033[0m\n'
npx vitest run "$@"
printf '\033[1m==> checking that the tests left nothing behind\033[0m\n'
left=$(comm -13 <(echo "$before") <(bash scripts/leaks.sh | sort) | grep -v '^$' || true)
if [ -n "$left" ]; then
  printf 'the tests left these behind (a teardown has a gap):\n%s\n' "$left" >&2
  exit 1
fi
echo "nothing left behind"
