#!/usr/bin/env bash
# One short GPU session (about ten minutes on an H100/H200): what the pipeline's GPU paths do.
#   1. the data stages, if results/ lacks them (conformers take ~1 min on 16 cores);
#   2. training throughput on real molecules: the `paper` preset (element tokens, as published)
#      and the `tiny` preset with the chemistry inputs, fp32 vs bf16 autocast (+ torch.compile);
#   3. `litshift train` of the tiny preset (bf16, supervised, the release recipe at a GPU batch)
#      and of the paper preset, each for a fixed number of steps on the default split, keeping
#      metrics.json, history.json and model.pt under benchmarks/results/gpu/.
# Writes benchmarks/results/gpu_train.txt. If the tiny run beats the shipped release model on
# the test split (benchmarks/results/gpu/*/metrics.json vs src/litshift/release/card.json), ship
# it with `litshift release --run benchmarks/results/gpu/tiny --commit <commit>`.
#
# Usage (from anywhere; needs a CUDA build of torch):
#   bash benchmarks/gpu_train.sh            # PYTHON=/path/to/python to choose the interpreter
#   STEPS=300 BATCH=32 TRAIN_STEPS=20000 bash benchmarks/gpu_train.sh
set -euo pipefail

cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
STEPS="${STEPS:-300}"
BATCH="${BATCH:-32}"
TRAIN_STEPS="${TRAIN_STEPS:-20000}"
OUT=benchmarks/results/gpu_train.txt
RUNS=benchmarks/results/gpu
mkdir -p "$(dirname "$OUT")" "$RUNS"
BIN="$(dirname "$("$PYTHON" -c 'import sys; print(sys.executable)')")"

"$PYTHON" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')"
{
    echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | sed 's/^/# /'
} >> "$OUT"

# 1. data (cached: nothing reruns when results/ is already complete)
"$BIN/snakemake" --workflow-profile workflow/profiles/default --cores all \
    results/conformers/done.json results/splits/assigned_splits.parquet

# 2. throughput on real molecules, size-bucketed as in training
throughput() {
    "$PYTHON" benchmarks/model_throughput.py --molecules results/conformers --device cuda \
        --batch-size "$BATCH" --steps "$STEPS" --warmup 20 --bucket-window 4 --out "$OUT" "$@"
}
for preset in paper tiny; do
    throughput --preset "$preset" --dtype fp32
    throughput --preset "$preset" --dtype bf16
    # compilation can fail on exotic stacks; record that instead of losing the lines above
    throughput --preset "$preset" --dtype bf16 --compile \
        || echo "# $preset bf16+compile failed (exit $?)" >> "$OUT"
done

# 3. fixed-step training runs on the default split (bf16 autocast on CUDA: precision auto)
train() {
    local name=$1 config=$2
    "$BIN/litshift" train --assigned results/curated/assigned.parquet \
        --splits results/splits/assigned_splits.parquet --weak results/splits/weak_train.parquet \
        --conformers results/conformers --out "$RUNS/$name" --resume never \
        --budget "gpu-$TRAIN_STEPS" --config-json "$config"
    "$PYTHON" - "$RUNS/$name/metrics.json" "$name" >> "$OUT" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1]))
t = m["test"]
print(f"train={sys.argv[2]} steps={m['steps']} best_step={m['best_step']} "
      f"train_s={m['train_seconds']:.0f} molecules_per_s={m['molecules_per_s']:.0f} "
      f"test_13C={t.get('mae.13C', float('nan')):.3f} test_1H={t.get('mae.1H', float('nan')):.4f}")
EOF
}
common='"mode": "supervised", "epochs": 100000, "eval_every": 1000, "patience": 10,
    "device": "cuda", "model": {"uncertainty": "gaussian"}, "ema_decay": 0.999'
train tiny "{$common, \"preset\": \"tiny\", \"max_steps\": $TRAIN_STEPS, \"batch_labeled\": 64,
    \"lr\": 0.003}"
train paper "{$common, \"preset\": \"paper\", \"max_steps\": $((TRAIN_STEPS / 4)),
    \"batch_labeled\": 32, \"lr\": 0.0004}"
echo "results appended to $OUT; runs in $RUNS"
