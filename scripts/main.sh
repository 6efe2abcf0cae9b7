#!/usr/bin/env bash
# The main job: set up whatever is missing, then run both stages with the shipped models on the example slices
# (a patient of the shipped models' test split). Extra arguments go to `tumorscope predict`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/tumorscope.js predict examples/TCGA_DU_8167_19970402 --out out/examples "$@"
