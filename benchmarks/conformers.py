"""Conformer stage throughput: a plain RDKit loop vs the pipeline, and the incremental run.

On ``--n`` NMRShiftDB2 molecules (a seeded sample of distinct SMILES) with the options of
``config.yaml`` (section ``conformers``), it measures

1. a plain single-process RDKit loop (ETKDGv3 + MMFF94/UFF, same seeds, attempts and
   timeout; no I/O, no cache, no worker processes), pinned to one core;
2. the pipeline (``litshift conformers shard``, one shard job with MLflow tracking into a
   pre-created store and a fresh cache) with 1 worker pinned to one core;
3. the same with 2 workers on two cores;
4. the incremental run: the 1-worker run's input plus 1 % new molecules, same cache.

Wall time is what the targets are about; CPU time (user + sys of the process tree) is printed
too because it does not suffer when other jobs share the machine. Run from the repository
root::

    python benchmarks/conformers.py --n 500 --out benchmarks/results/conformers.txt
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import yaml
from rdkit import Chem, RDLogger
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers

from litshift.chem.conformers import EmbedOptions, molecule_seed
from litshift.chem.molecules import molecule_key
from litshift.cli.tracking import stage_run
from litshift.data.io import write_table

REPO = Path(__file__).resolve().parents[1]
JSONL = REPO.parent / "shared" / "data" / "nmrshiftdb2" / "nmrshiftdb2_records.jsonl.gz"
#: molecules in 1.5 M for the core-hour extrapolation
SCALE = 1_500_000


def sample_smiles(n: int, seed: int) -> list[str]:
    """``n`` distinct canonical SMILES, a seeded sample of the NMRShiftDB2 records."""
    RDLogger.DisableLog("rdApp.*")
    distinct: set[str] = set()
    with gzip.open(JSONL, "rt") as handle:
        for line in handle:
            mol = Chem.MolFromSmiles(json.loads(line).get("SMILES") or "")
            if mol is not None:
                distinct.add(Chem.MolToSmiles(mol))
    return random.Random(seed).sample(sorted(distinct), n)


def plain_loop(smiles: list[str], options: EmbedOptions) -> int:
    """What one would write without the pipeline; returns the number of successes."""
    successes = 0
    for text in smiles:
        mol = Chem.AddHs(Chem.MolFromSmiles(text))
        seed = molecule_seed(options.seed, molecule_key(text))
        deadline = time.perf_counter() + options.timeout_s
        for attempt in range(options.max_attempts):
            params = rdDistGeom.ETKDGv3()
            params.useMacrocycleTorsions = params.useSmallRingTorsions = True
            params.randomSeed = (seed + attempt) & 0x7FFFFFFF
            params.useRandomCoords = attempt > 0
            params.numThreads = 1
            params.timeout = max(1, round(deadline - time.perf_counter()))
            try:
                ids = list(rdDistGeom.EmbedMultipleConfs(mol, options.n_confs, params))
            except RuntimeError:
                continue
            if any(i >= 0 for i in ids) or time.perf_counter() > deadline:
                break
        if mol.GetNumConformers():
            if rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol):
                rdForceFieldHelpers.MMFFOptimizeMoleculeConfs(
                    mol, numThreads=1, maxIters=options.ff_max_iters
                )
            elif rdForceFieldHelpers.UFFHasAllMoleculeParams(mol):
                rdForceFieldHelpers.UFFOptimizeMoleculeConfs(
                    mol, numThreads=1, maxIters=options.ff_max_iters
                )
            successes += 1
    return successes


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def pipeline(
    molecules: Path, out: Path, cache: Path, options: EmbedOptions, workers: int, cores: str
) -> dict[str, float | str]:
    """One ``litshift conformers shard`` job; wall and CPU time and its summary line."""
    command = ["taskset", "-c", cores, sys.executable, "-m", "litshift.cli", "conformers"]
    command += ["shard", str(molecules), "--shard", "0", "--n-shards", "1", "--out", str(out)]
    command += ["--cache", str(cache), "--workers", str(workers)]
    command += option_flags(options)
    cpu, start = children_cpu(), time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    line = re.search(r"(\d+) molecules, (\d+) from the cache, (\d+) to embed", done.stderr)
    busy = re.search(r"'workers_busy': ([0-9.]+)", done.stderr)
    assert line is not None and busy is not None, done.stderr[-2000:]
    return {
        "wall": wall,
        "cpu": cpu,
        "cached": int(line[2]),
        "embedded": int(line[3]),
        "busy": float(busy[1]),
    }


def option_flags(options: EmbedOptions) -> list[str]:
    """The command-line flags that give ``litshift conformers shard`` these options."""
    flags: list[str] = []
    for name, value in asdict(options).items():
        flag = f"--{name.replace('_', '-')}"
        flags += [flag, *map(str, value)] if isinstance(value, tuple) else [flag, str(value)]
    return flags


def used(run: dict[str, float]) -> str:
    """Cores a run actually got: CPU time over wall time."""
    return f"{run['cpu'] / run['wall']:.2f}"


def timed_plain_loop(smiles: list[str], options: EmbedOptions) -> dict[str, float]:
    """The plain loop pinned to core 0, like the 1-worker pipeline run."""
    os.sched_setaffinity(0, {0})
    cpu, start = time.process_time(), time.perf_counter()
    successes = plain_loop(smiles, options)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))
    return {"wall": wall, "cpu": cpu, "embedded": successes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="molecules of the full run")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--repeat", type=int, default=1, help="repetitions (best wall counts)")
    parser.add_argument("--config", default=str(REPO / "config.yaml"))
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/conformers.txt"))
    args = parser.parse_args()
    options = EmbedOptions.from_mapping(yaml.safe_load(Path(args.config).read_text())["conformers"])
    extra = max(1, args.n // 100)
    smiles = sample_smiles(args.n + extra, args.seed)
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{work}/mlflow/mlflow.db"
        os.environ["LITSHIFT_TRACKING"] = "1"
        with stage_run("benchmark-setup"):  # the store exists before any timed run
            pass
        base, grown = work / "base.parquet", work / "grown.parquet"
        for path, rows in ((base, smiles[: args.n]), (grown, smiles)):
            table = [{"key": molecule_key(s), "smiles": s} for s in rows]
            write_table(table, path, "molecules")

        runs: dict[str, list[dict]] = {"plain": [], "one": [], "two": []}
        for rep in range(args.repeat):  # interleaved, so that load from others hits all alike
            runs["plain"].append(timed_plain_loop(smiles[: args.n], options))
            runs["one"].append(
                pipeline(base, work / "out.parquet", work / f"one-{rep}", options, 1, "0")
            )
            runs["two"].append(
                pipeline(base, work / "out.parquet", work / f"two-{rep}", options, 2, "0,1")
            )
        incremental = pipeline(grown, work / "out.parquet", work / "one-0", options, 1, "0")
        fixed = pipeline(grown, work / "out.parquet", work / "one-0", options, 1, "0")

    plain, one, two = (min(runs[name], key=lambda r: r["wall"]) for name in runs)
    rate = {
        name: args.n / run["wall"] for name, run in (("plain", plain), ("one", one), ("two", two))
    }
    core_hours = SCALE * one["cpu"] / args.n / 3600  # CPU time: immune to other jobs
    marginal = (one["wall"] - fixed["wall"]) / plain["wall"] - 1
    marginal_speedup = (one["wall"] - fixed["wall"]) / (two["wall"] - fixed["wall"])
    embedding = one["wall"] - fixed["wall"]
    projected = one["wall"] / (fixed["wall"] + embedding / two["busy"])
    lines = [
        f"# conformers benchmark {time.strftime('%Y-%m-%d %H:%M')} on {platform.node()}: "
        f"{os.cpu_count()} CPUs ({platform.machine()}), load average {load_before:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after; best wall of {args.repeat}",
        f"molecules={args.n} (+{extra} for the incremental run), NMRShiftDB2 sample seed "
        f"{args.seed}; options {asdict(options)}",
        "(cores used = cpu / wall: below the cores offered when other jobs share the machine)",
        f"plain RDKit loop, 1 core:      wall {plain['wall']:6.1f} s  cpu {plain['cpu']:6.1f} s  "
        f"cores used {used(plain)}  {rate['plain']:6.2f} mol/s  ({plain['embedded']} embedded)",
        f"pipeline, 1 worker, 1 core:   wall {one['wall']:6.1f} s  cpu {one['cpu']:6.1f} s  "
        f"cores used {used(one)}  {rate['one']:6.2f} mol/s  "
        f"overhead vs plain {one['wall'] / plain['wall'] - 1:+.1%} (target <= +10%)",
        f"pipeline, 2 workers, 2 cores: wall {two['wall']:6.1f} s  cpu {two['cpu']:6.1f} s  "
        f"cores used {used(two)}  {rate['two']:6.2f} mol/s  "
        f"speedup vs 1 core {rate['two'] / rate['one']:.2f}x (target >= 1.8x)",
        f"  the pool kept {two['busy']:.2f} of 2 workers busy on average; on 2 free cores "
        f"that gives {projected:.2f}x (fixed cost + 1-worker embedding time / {two['busy']:.2f})",
        f"fixed cost of a shard job (all cached; start-up, MLflow run, I/O): wall "
        f"{fixed['wall']:.1f} s cpu {fixed['cpu']:.1f} s; beyond it: overhead vs plain "
        f"{marginal:+.1%}, 2-core speedup {marginal_speedup:.2f}x",
        f"incremental (+{extra} new), 1 worker: wall {incremental['wall']:.1f} s "
        f"({incremental['wall'] / one['wall']:.1%} of the full 1-core run); "
        f"embedded {incremental['embedded']}, from the cache {incremental['cached']}",
        f"extrapolation: {SCALE:,} molecules at the CPU time per molecule of the 1-core "
        f"pipeline run = {core_hours:,.0f} core-hours ({core_hours / 64:,.1f} h on 64 cores)",
    ]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "a") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
