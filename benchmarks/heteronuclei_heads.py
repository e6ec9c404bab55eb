"""31P/19F heads on one CPU core, behind benchmarks/results/heteronuclei_heads.md.

Reads the curated tables and the split that benchmarks/heteronuclei_data.py left in ``--work``
(config.yaml + config.hetero.yaml), and in a scratch folder ``--out`` (never the project's
``results/``):

1. keeps ``--p-train`` of the 31P training molecules (all 19F ones) and ``--p-valid`` /
   ``--p-test`` of the held-out 31P molecules (all 19F ones), to fit one core's budget;
2. embeds the conformers those molecules need beyond the shards in ``--conformers`` (the
   default pipeline's, which hold the assigned 1H/13C molecules);
3. trains config.hetero.yaml's run ``hetero`` for ``--max-steps`` steps on one thread;
4. scores it beside HOSE with ``litshift hose-baseline --models``: HOSE fitted on the same
   training molecules, and once more on all of them, on the same held-out sets.

Prints Markdown tables: what was kept, wall times, molecule-level MAE per nucleus, the run's
atom-level validation/test MAE, and how many 31P/19F training molecules the element filter
drops with and without Br, I and Si.

Example::

    nice .venv/bin/python benchmarks/heteronuclei_heads.py --work /tmp/hetero/work \\
        --conformers results/conformers --out /tmp/hetero_heads
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import polars as pl
import yaml
from rdkit import Chem
from snakemake.utils import update_config

from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key
from litshift.data.datasets import weak_filter_reason
from litshift.data.io import write_table
from litshift.data.weak_filters import WeakFilters
from litshift.train.config import run_config

REPO = Path(__file__).resolve().parents[1]
LITSHIFT = str(Path(sys.executable).parent / "litshift")


def _pick(keys: pl.Series, n: int, rng: np.random.Generator) -> list[str]:
    keys = sorted(set(keys))
    return sorted(rng.choice(keys, min(n, len(keys)), replace=False).tolist())


def prepare(work: Path, conformers: Path, out: Path, args: argparse.Namespace) -> dict:
    """Write the reduced weak and unassigned tables and the molecules to embed; their counts."""
    rng = np.random.default_rng(args.seed)
    ck = pl.col("inchikey").str.slice(0, 14).alias("ck")
    weak = pl.read_parquet(work / "results/splits/weak_train.parquet").with_columns(ck)
    unassigned = pl.read_parquet(work / "results/curated/unassigned.parquet")
    splits = pl.read_parquet(work / "results/splits/assigned_splits.parquet")
    p_train = _pick(weak.filter(pl.col("nucleus") == "31P")["ck"], args.p_train, rng)
    weak = weak.filter((pl.col("nucleus") != "31P") | pl.col("ck").is_in(p_train)).drop("ck")
    held = (
        unassigned.with_columns(ck)
        .join(splits, left_on="ck", right_on="connectivity_key")
        .filter(pl.col("split").is_in(["valid", "test"]), pl.col("nucleus").is_in(["31P", "19F"]))
    )
    phosphorus = held.filter(pl.col("nucleus") == "31P")
    kept = _pick(phosphorus.filter(pl.col("split") == "valid")["ck"], args.p_valid, rng)
    kept += _pick(phosphorus.filter(pl.col("split") == "test")["ck"], args.p_test, rng)
    dropped = phosphorus.filter(~pl.col("ck").is_in(kept))["record_id"].implode()
    unassigned = unassigned.filter(~pl.col("record_id").is_in(dropped))
    held = held.filter(~pl.col("record_id").is_in(dropped))
    write_table(weak.to_arrow(), out / "weak.parquet", "weak")
    write_table(unassigned.to_arrow(), out / "unassigned.parquet", "unassigned")

    have: set[str] = set()
    for shard in conformers.glob("shard-*.parquet"):
        have |= set(pl.read_parquet(shard, columns=["key"])["key"])
    hetero = weak.filter(pl.col("nucleus").is_in(["31P", "19F"]))["smiles"]
    smiles = sorted(set(hetero) | set(held["smiles"]))
    keys = [molecule_key(s) for s in smiles]
    need = pl.DataFrame({"key": keys, "smiles": smiles}).filter(~pl.col("key").is_in(sorted(have)))
    write_table(need.sort("key").to_arrow(), out / "molecules.parquet", "molecules")
    return {
        "31P training molecules": len(p_train),
        "19F training sets": int((weak["nucleus"] == "19F").sum()),
        "held-out 31P sets (valid, test)": [
            int(((held["nucleus"] == "31P") & (held["split"] == s)).sum())
            for s in ("valid", "test")
        ],
        "held-out 19F sets (valid, test)": [
            int(((held["nucleus"] == "19F") & (held["split"] == s)).sum())
            for s in ("valid", "test")
        ],
        "molecules embedded": need.height,
    }


def _timed(command: list[str], log: Path) -> float:
    started = time.perf_counter()
    with log.open("w") as handle:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "LITSHIFT_TRACKING": "0"}
        subprocess.run(command, check=True, stdout=handle, stderr=subprocess.STDOUT, env=env)
    return time.perf_counter() - started


def element_counts(work: Path) -> list[list]:
    """31P/19F training molecules kept by the weak filters, with and without Br, I, Si."""
    weak = pl.read_parquet(work / "results/splits/weak_train.parquet")
    base = WeakFilters()
    wider = WeakFilters(elements=(*(base.elements or ()), "Br", "I", "Si"))
    rows = []
    for nucleus in ("31P", "19F"):
        counts: Counter[str] = Counter()
        for smiles in weak.filter(pl.col("nucleus") == nucleus)["smiles"].unique():
            try:
                mol_h = Chem.AddHs(mol_from_smiles(smiles))
            except MoleculeError:
                continue
            counts["base"] += weak_filter_reason(mol_h, base) is None
            counts["wider"] += weak_filter_reason(mol_h, wider) is None
            counts["all"] += 1
        rows.append([nucleus, counts["all"], counts["base"], counts["wider"]])
    return rows


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="heteronuclei_data.py --work")
    parser.add_argument("--conformers", type=Path, required=True, help="conformer shards to reuse")
    parser.add_argument("--out", type=Path, required=True, help="scratch folder")
    parser.add_argument("--p-train", type=int, default=2000, help="31P training molecules")
    parser.add_argument("--p-valid", type=int, default=150, help="held-out 31P valid molecules")
    parser.add_argument("--p-test", type=int, default=400, help="held-out 31P test molecules")
    parser.add_argument("--max-steps", type=int, default=3000, help="training steps")
    parser.add_argument("--seed", type=int, default=0, help="subsample seed")
    parser.add_argument(
        "--run-overrides",
        default="{}",
        help="JSON merged over the run config (e.g. init_from and lr for fine-tuning)",
    )
    args = parser.parse_args()
    work, out = args.work.resolve(), args.out.resolve()
    (out / "conformers").mkdir(parents=True, exist_ok=True)
    kept = prepare(work, args.conformers.resolve(), out, args)
    for shard in args.conformers.resolve().glob("shard-*.parquet"):
        link = out / "conformers" / shard.name
        if not link.exists():
            link.symlink_to(shard)

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load((REPO / "config.hetero.yaml").read_text()))
    run = run_config(config["train"], "hetero")
    run |= {"max_steps": args.max_steps, "eval_every": max(args.max_steps // 4, 1)}
    update_config(run, json.loads(args.run_overrides))
    data = work / "results"
    seconds = {}
    seconds["conformers"] = _timed(
        [LITSHIFT, "conformers", "shard", str(out / "molecules.parquet"), "--shard", "0"]
        + ["--n-shards", "1", "--out", str(out / "conformers/shard-hetero.parquet")]
        + ["--cache", str(out / "cache"), "--workers", "1"],
        out / "conformers.log",
    )
    tables = ["--assigned", str(data / "curated/assigned.parquet")]
    tables += ["--splits", str(data / "splits/assigned_splits.parquet")]
    seconds["train"] = _timed(
        [LITSHIFT, "train", *tables, "--weak", str(out / "weak.parquet")]
        + ["--unassigned", str(out / "unassigned.parquet"), "--conformers", str(out / "conformers")]
        + ["--out", str(out / "models/hetero"), "--config-json", json.dumps(run)]
        + ["--budget", "hetero-heads-benchmark", "--threads", "1", "--resume", "never"],
        out / "train.log",
    )
    metrics = {}
    for name, weak in (("same", out / "weak.parquet"), ("all", data / "splits/weak_train.parquet")):
        models = ["--models", str(out / "models/hetero/model.pt")] if name == "same" else []
        seconds[f"hose_baseline ({name})"] = _timed(
            [LITSHIFT, "hose-baseline", *tables, "--weak", str(weak)]
            + ["--unassigned", str(out / "unassigned.parquet")]
            + ["--literature", str(data / "curated/literature.parquet")]
            + ["--literature-test-sources", "test_300"]
            + ["--literature-test", str(data / "splits/literature_test.parquet")]
            + ["--nuclei", "31P,19F", *models, "--conformers", str(out / "conformers")]
            + ["--out-predictions", str(out / f"eval_{name}/predictions.parquet")]
            + ["--out-metrics", str(out / f"eval_{name}/metrics.parquet")]
            + ["--out-summary", str(out / f"eval_{name}/summary.json")],
            out / f"hose_{name}.log",
        )
        metrics[name] = pl.read_parquet(out / f"eval_{name}/metrics.parquet").filter(
            pl.col("split") == "weak_test", pl.col("breakdown") == "all"
        )

    print(_table(["kept", "count"], [[k, v] for k, v in kept.items()]))
    print()
    print(_table(["step", "seconds"], [[k, round(v)] for k, v in seconds.items()]))
    print()
    rows = []
    for name, frame in metrics.items():
        for r in frame.iter_rows(named=True):
            model = r["model"]
            if model == "HOSE":
                model = f"HOSE, {name} training molecules"
            ci = f"{r['mae_ci_lo']:.2f}-{r['mae_ci_hi']:.2f}"
            rows.append([r["nucleus"], model, r["n_molecules"], f"{r['mae']:.2f}", ci])
    rows.sort(key=lambda row: (row[0], row[1]))
    print(_table(["nucleus", "model", "molecules", "MAE (ppm)", "95 % CI"], rows))
    print()
    trained = json.loads((out / "models/hetero/metrics.json").read_text())
    rows = [
        [n, *(f"{trained[s].get(f'mae.{n}', float('nan')):.3f}" for s in ("valid", "test"))]
        + [int(trained["test"].get(f"n.{n}", 0))]
        for n in run["model"]["nuclei"]
    ]
    print(_table(["nucleus", "valid MAE", "test MAE", "test atoms"], rows))
    steps = {k: trained[k] for k in ("steps", "best_step", "stop_reason", "train_seconds")}
    print(f"\n{steps}")
    print()
    print(
        _table(
            ["nucleus", "training molecules", "pass the filters", "with Br, I, Si allowed"],
            element_counts(work),
        )
    )


if __name__ == "__main__":
    main()
