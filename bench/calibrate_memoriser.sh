#!/usr/bin/env bash
# The memoriser's calibration (issue 18), as run for docs/memoriser-calibration/:
# case14's N case, 10 N-1 and 10 load-perturbed variants (seed 1), answered by the controls,
# the default model with the memoriser adapter and without it, each with the likelihood
# probe; then the report by family. About 30 minutes on a 2-core CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-memoriser-calibration}
S=$OUT/study.n1study
A=resources/memoriser/gemma3-270m-memoriser-case14.gguf
N=.venv/bin/n1studio
mkdir -p "$OUT"
$N dataset build case14 --study "$S" --family n-1 --family load:0.1 --sample 10 --seed 1 \
  --no-islanding --workers 1
$N eval --study "$S" --model control:recall-n --model control:reference
$N eval --study "$S" --lora "$A" --likelihood --threads 1
$N eval --study "$S" --likelihood --threads 1
$N report --study "$S" --out "$OUT" | tee "$OUT/report.txt"
