#!/usr/bin/env bash
# The test command: set up whatever is missing, type-check, lint, then run every test file with node's runner.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx --no-install tsc --noEmit -p .
npx --no-install biome check src test bench bin scripts
mapfile -t files < <(find test -name '*.test.ts' | sort)
exec node --import tsx --test --test-reporter=spec "$@" "${files[@]}"
