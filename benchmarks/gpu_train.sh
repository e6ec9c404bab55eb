#!/usr/bin/env bash
# Training throughput of the `paper` preset on one CUDA GPU: fp32 vs bf16 autocast (and bf16 +
# torch.compile), a few hundred steps each on synthetic 3D molecules of 20-70 atoms (the paper's
# weak-data limit is 70 atoms incl. H). Writes benchmarks/results/gpu_train.txt.
#
# Usage (from anywhere; needs a CUDA build of torch and RDKit-free imports only):
#   bash benchmarks/gpu_train.sh            # PYTHON=/path/to/python to choose the interpreter
#   STEPS=300 BATCH=32 bash benchmarks/gpu_train.sh
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
STEPS="${STEPS:-300}"
BATCH="${BATCH:-32}"
OUT=benchmarks/results/gpu_train.txt
mkdir -p "$(dirname "$OUT")"

"$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')"
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/# /'
} >> "$OUT"

run() {
    "$PYTHON" benchmarks/model_throughput.py --preset paper --device cuda \
        --batch-size "$BATCH" --min-atoms 20 --max-atoms 70 --steps "$STEPS" --warmup 20 \
        --out "$OUT" "$@"
}
run --dtype fp32
run --dtype bf16
# Compilation can fail on exotic stacks; record that instead of losing the two lines above.
run --dtype bf16 --compile || echo "# bf16+compile failed (exit $?)" >> "$OUT"
echo "results appended to $OUT"
