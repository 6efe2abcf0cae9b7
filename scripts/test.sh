#!/usr/bin/env bash
# The test command: set up whatever is missing, type-check, lint, then run every test file with node's runner.
set -euo pipefail
cd "$(dirname "$0")/.."
# The browser test drives Debian's chromium; the main job does not need it.
TUMORSCOPE_EXTRA_APT="${TUMORSCOPE_EXTRA_APT:-} chromium" bash scripts/setup.sh
npx --no-install tsc --noEmit -p .
npx --no-install tsc --noEmit -p web   # the viewer type-checks against the DOM library
npx --no-install biome check src test bench bin scripts web
mapfile -t files < <(find test -name '*.test.ts' | sort)
mkdir -p .tmp
tap=.tmp/test-results.tap
status=0
node --import tsx --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" "$@" "${files[@]}" || status=$?
# One plain closing line that any CI can read.
pass=$(grep -E '^# pass ' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail ' "$tap" | tail -1 | awk '{print $3}')
skip=$(grep -E '^# skipped ' "$tap" | tail -1 | awk '{print $3}')
echo "${pass:-0} passed, ${fail:-0} failed, ${skip:-0} skipped"
exit "$status"
