"""Architecture and input comparison on the pipeline's data: validation MAE at equal budget.

Each variant is one ``litshift train`` run (one thread, same data, seed, steps and learning
schedule) differing from the previous line by one setting, so every row says what that
setting buys; wall time and molecules/s are reported beside the MAE, so an apparent gain that
costs more compute is visible. Needs the pipeline's curated tables and conformers (e.g.
``snakemake --cores 2 results/conformers/done.json``).

Example (what produced benchmarks/results/architecture.txt)::

    python benchmarks/architecture.py --steps 4000 --jobs 2 --seeds 0

Results: one JSON line per run appended to ``--out-json`` and a Markdown table in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]

_PUBLISHED = {"atom_features": False, "topology_bias": False, "implicit_hydrogens": False}
_CHEMISTRY = {"atom_features": True, "topology_bias": True, "implicit_hydrogens": False}
_BEST = {"model": _CHEMISTRY, "bucket_window": 16, "ema_decay": 0.999}

#: name -> overrides of the config.yaml ``train:`` settings; each line adds one change to the
#: line before it, the last ones vary the width/depth or batching of the full recipe
VARIANTS: dict[str, dict[str, Any]] = {
    "published inputs, random batches": {
        "model": _PUBLISHED, "bucket_window": 1, "ema_decay": None,
    },
    "+ size-bucketed batches": {"model": _PUBLISHED, "bucket_window": 16, "ema_decay": None},
    "+ atom features": {
        "model": {"atom_features": True, "topology_bias": False, "implicit_hydrogens": False},
        "bucket_window": 16,
        "ema_decay": None,
    },
    "+ topological distance bias": {"model": _CHEMISTRY, "bucket_window": 16, "ema_decay": None},
    "+ weight EMA (0.999)": _BEST,
    "full recipe, bucket window 4": _BEST | {"bucket_window": 4},
    "full recipe, width 192 (ffn 384)": _BEST
    | {"model": _CHEMISTRY | {"d_model": 192, "d_ffn": 384}},
    "full recipe, 6 layers": _BEST | {"model": _CHEMISTRY | {"n_layers": 6}},
    "full recipe, lr 1e-3": _BEST | {"lr": 1.0e-3},
    "full recipe, window 4, implicit hydrogens": _BEST
    | {"bucket_window": 4, "model": _CHEMISTRY | {"implicit_hydrogens": True}},
}  # fmt: skip


def _train_section(config_path: Path) -> dict[str, Any]:
    with open(config_path) as handle:
        section = yaml.safe_load(handle)["train"]
    return {k: v for k, v in section.items() if k not in ("runs", "resources")}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def run_variant(
    name: str, overrides: dict[str, Any], seed: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Train one variant from scratch and return its scores and cost."""
    config = _merge(_train_section(args.config), overrides)
    config |= {
        "mode": args.mode,
        "max_steps": args.steps,
        "epochs": 1000,
        "patience": None,
        "eval_every": args.eval_every,
        "seed": seed,
        "device": "cpu",
    }
    slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    out = Path(args.work) / f"{slug}.seed{seed}"
    results = Path(args.results)
    command = [
        str(Path(sys.executable).with_name("litshift")), "train",
        "--assigned", str(results / "curated/assigned.parquet"),
        "--splits", str(results / "splits/assigned_splits.parquet"),
        "--weak", str(results / "splits/weak_train.parquet"),
        "--conformers", str(results / "conformers"),
        "--out", str(out), "--config-json", json.dumps(config),
        "--threads", "1", "--resume", "never", "--budget", f"architecture-{args.steps}",
    ]  # fmt: skip
    env = os.environ | {"LITSHIFT_TRACKING": "0", "OMP_NUM_THREADS": "1"}
    if not args.collect_only:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out.with_suffix(".log"), "w") as log:
            subprocess.run(command, check=True, env=env, stdout=log, stderr=subprocess.STDOUT)
    metrics = json.loads((out / "metrics.json").read_text())
    return {
        "variant": name,
        "mode": args.mode,
        "seed": seed,
        "steps": metrics["steps"],
        "wall_s": round(metrics["wall_seconds"], 1),
        "train_s": round(metrics["train_seconds"], 1),
        "molecules_per_s": round(metrics["molecules_per_s"], 1),
        "n_parameters": metrics["n_parameters"],
        "valid_13C": round(metrics["valid"]["mae.13C"], 3),
        "valid_1H": round(metrics["valid"]["mae.1H"], 4),
        "test_13C": round(metrics["test"]["mae.13C"], 3),
        "test_1H": round(metrics["test"]["mae.1H"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO / "config.yaml")
    parser.add_argument("--results", default=str(REPO / "results"), help="pipeline results")
    parser.add_argument("--work", default="/tmp/litshift-architecture", help="run directories")
    parser.add_argument("--mode", default="supervised", choices=["supervised", "semi"])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--jobs", type=int, default=2, help="runs in parallel (one core each)")
    parser.add_argument("--variants", nargs="*", default=None, help="subset of VARIANTS")
    parser.add_argument(
        "--collect-only",
        action="store_true",
        help="train nothing: tabulate the finished runs already in --work",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/architecture.md")
    parser.add_argument(
        "--out-json", type=Path, default=REPO / "benchmarks/results/architecture.jsonl"
    )
    args = parser.parse_args()
    names = args.variants or list(VARIANTS)
    jobs = [(n, VARIANTS[n], s) for n in names for s in args.seeds]
    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda job: run_variant(*job, args), jobs))
    with open(args.out_json, "a") as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    header = (
        "| variant | seed | steps | train s | molecules/s | valid 13C | valid 1H "
        "| test 13C | test 1H |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = [
        f"| {r['variant']} | {r['seed']} | {r['steps']} | {r['train_s']} | "
        f"{r['molecules_per_s']} | {r['valid_13C']} | {r['valid_1H']} | {r['test_13C']} | "
        f"{r['test_1H']} |"
        for r in rows
    ]
    table = header + "\n".join(lines) + "\n"
    with open(args.out, "a") as handle:
        handle.write(f"\n## {time.strftime('%Y-%m-%d')} {args.mode}, {args.steps} steps, "
                     f"1 thread per run, {args.jobs} runs in parallel\n\n{table}")  # fmt: skip
    print(table)


if __name__ == "__main__":
    main()
