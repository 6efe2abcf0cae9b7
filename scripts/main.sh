#!/usr/bin/env bash
# The main job: set up whatever is missing, then run tumorscope's default pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/tumorscope.js demo "$@"
