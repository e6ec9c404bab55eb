"""Scale test: literature ingestion and conformer sharding on 3k-100k synthetic records.

The shared NMRExtractor records (1,300) are multiplied into larger corpora by
:func:`litshift.ingest.synthetic.write_corpus` (paragraphs verbatim, isotope-labelled
structures, ``#copy-j`` document ids), then two steps are timed, each in a fresh process
whose wall time and peak RSS (``wait4``) are recorded:

- ``ingest``: ``litshift ingest-literature`` on the corpus (1 worker, MLflow off), i.e. the
  ``ingest_literature`` rule;
- ``peaks``: the same command on the parsed lists with a structure written as a peak-list
  Parquet (the ShiftDB-Lit-style source of config.full.yaml: no parser, same filters);
- ``shard``: what the conformer stage does with the structures before any embedding: the
  distinct molecules of the ok rows with their keys (``collect_molecules``), written as
  ``molecules.parquet``, then for every shard the work of one ``conformers shard`` job up to
  the embedding: read ``molecules.parquet``, pick the shard's molecules and check their keys,
  look them up in an (empty) conformer store.

Time is fitted linearly against records (slope, intercept, R^2). ``chunk-profile`` splits
one in-process ingestion into CPU time per chunk (parse + filter, duplicate merge, garbage
collection). Usage, from the repository root (writes benchmarks/results/scale.txt, scale.png
and scale_chunks.txt)::

    nice -n 5 .venv/bin/python benchmarks/scale.py
    nice -n 5 .venv/bin/python benchmarks/scale.py chunk-profile
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from litshift.chem.conformers import EmbedOptions
from litshift.data.conformer_shards import ConformerCache, shard_molecules
from litshift.data.io import read_table, write_table
from litshift.data.molecules import collect
from litshift.ingest import literature_filters
from litshift.ingest.ingest_literature import (
    IngestOptions,
    ingest_chunk,
    merge_duplicates,
    read_records,
)
from litshift.ingest.literature import NUCLEI
from litshift.ingest.synthetic import write_corpus

REPO = Path(__file__).resolve().parents[1]
SOURCES = [
    REPO.parent / "shared" / "data" / "literature" / f"nmrextractor_{name}.csv.gz"
    for name in ("train_1000", "test_300")
]
LITSHIFT = Path(sys.executable).with_name("litshift")


def timed(command: list[str]) -> tuple[float, float, float, str]:
    """Run ``command``; its wall and CPU seconds, peak RSS (MiB) and stdout. Raises on failure.

    CPU time (user + system) is what linearity is judged on: other users' jobs on the machine
    stretch the wall time of a run but hardly its CPU time.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        env = os.environ | {"LITSHIFT_TRACKING": "0"}
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            err.seek(0)
            raise RuntimeError(f"{command} failed:\n{err.read().decode()[-3000:]}")
        out.seek(0)
        cpu = usage.ru_utime + usage.ru_stime
        return wall, cpu, usage.ru_maxrss / 1024, out.read().decode()


def shard_step(literature: Path, molecules: Path, n_shards: int, cache: Path) -> dict:
    """The conformer stage up to the embedding (runs in the measured child process).

    Returns the CPU seconds of this work without the interpreter and import start-up.
    """
    start, start_cpu = time.perf_counter(), time.process_time()
    ok = pl.from_arrow(read_table(literature, "literature")).filter(pl.col("status") == "ok")
    table = collect([ok["smiles"]])
    write_table(table.to_arrow(), molecules, "molecules")
    collected = time.perf_counter()
    store = ConformerCache(cache, EmbedOptions())
    sizes, job_seconds = [], []
    for shard in range(n_shards):
        job_start = time.process_time()
        mine = shard_molecules(read_table(molecules, "molecules"), shard, n_shards)
        store.lookup(mine, shard, n_shards)
        job_seconds.append(time.process_time() - job_start)
        sizes.append(len(mine))
    if sum(sizes) != table.height:
        raise AssertionError(f"shards hold {sum(sizes)} molecules, collected {table.height}")
    return {
        "molecules": table.height,
        "collect_s": collected - start,
        "shard_job_cpu_s": float(np.mean(job_seconds)),
        "work_cpu_s": time.process_time() - start_cpu,
        "shard_sizes": sizes,
    }


def chunk_profile(n_records: int, chunk_size: int, work: Path) -> list[str]:
    """CPU seconds per chunk of one ingestion, split into parse + filter, merge and garbage
    collection: where a per-record cost that grows with the corpus would come from."""
    corpus = work / "profile.csv.gz"
    write_corpus(SOURCES, n_records, corpus)
    config = literature_filters.FilterConfig()
    options = IngestOptions("synthetic", "train", frozenset(NUCLEI), config)
    duplicates = literature_filters.DuplicateIndex(config.duplicate_tolerance)
    collecting = {"seconds": 0.0, "since": 0.0}

    def on_gc(phase: str, _: dict) -> None:
        if phase == "start":
            collecting["since"] = time.process_time()
        else:
            collecting["seconds"] += time.process_time() - collecting["since"]

    gc.callbacks.append(on_gc)
    lines = []
    for index, chunk in enumerate(read_records(str(corpus), "csv", chunk_size=chunk_size)):
        gc_before, start = collecting["seconds"], time.process_time()
        table, _ = ingest_chunk(chunk, options)
        parsed = time.process_time()
        merge_duplicates(table, duplicates)
        merged = time.process_time()
        lines.append(
            f"chunk {index}: parse + filter {parsed - start:.2f} s, merge {merged - parsed:.3f} s,"
            f" of which garbage collection {collecting['seconds'] - gc_before:.2f} s;"
            f" structure cache {literature_filters.molecule_info.cache_info().currsize:,} entries"
        )
        print(lines[-1], flush=True)
    gc.callbacks.remove(on_gc)
    return lines


def linear_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Least-squares ``y = slope x + intercept`` and its R^2."""
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    r2 = 1 - float(residual @ residual) / float(((y - y.mean()) ** 2).sum())
    return float(slope), float(intercept), r2


def write_peak_lists(literature: Path, out: Path) -> int:
    """The parsed lists with a structure, as the peak-list Parquet input (ShiftDB-Lit style)."""
    lists = (
        pl.read_parquet(literature)
        .filter(pl.col("nucleus").is_not_null() & pl.col("smiles").is_not_null())
        .select("smiles", "nucleus", pl.col("solvent_raw").alias("solvent"), "shifts", "n_h")
    )
    lists.write_parquet(out)
    return lists.height


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def measure(args: argparse.Namespace, work: Path, log: list[str]) -> list[dict]:
    rows = []
    for n in args.sizes:
        corpus = work / f"literature-{n}.csv.gz"
        start = time.perf_counter()
        multiplied = write_corpus(SOURCES, n, corpus)
        generated = time.perf_counter() - start
        table, rejected = work / f"literature-{n}.parquet", work / f"rejected-{n}.parquet"
        ingest_cmd = [
            str(LITSHIFT),
            "ingest-literature",
            str(corpus),
            str(table),
            "--rejected",
            str(rejected),
            "--source",
            "synthetic",
            "--workers",
            "1",
        ]
        shard_cmd = [
            sys.executable,
            __file__,
            "shard-step",
            str(table),
            str(work / f"molecules-{n}.parquet"),
            "--n-shards",
            str(args.n_shards),
            "--cache",
            str(work / "cache"),
        ]
        peaks, from_peaks = work / f"peaks-{n}.parquet", work / f"from-peaks-{n}.parquet"
        peaks_cmd = [
            str(LITSHIFT),
            "ingest-literature",
            str(peaks),
            str(from_peaks),
            "--source",
            "peaks",
            "--workers",
            "1",
        ]
        steps = (("ingest", ingest_cmd), ("peaks", peaks_cmd), ("shard", shard_cmd))
        for step, command in steps:
            if step == "peaks":
                n_lists = write_peak_lists(table, peaks)
            before = load()
            runs = [timed(command) for _ in range(args.repeats)]
            row = {
                "step": step,
                "records": n,
                "items": n_lists if step == "peaks" else n,
                "wall_s": min(r[0] for r in runs),
                "cpu_s": min(r[1] for r in runs),
                "rss_mib": max(r[2] for r in runs),
                "walls": [round(r[0], 2) for r in runs],
                "load_before": before,
                "load_after": load(),
                "generate_s": generated,
                "repeated_structures": multiplied.repeated_structures,
            }
            if step != "shard":
                output = table if step == "ingest" else from_peaks
                statuses = pl.read_parquet(output, columns=["status"])["status"]
                row["ok_rows"] = int((statuses == "ok").sum())
                row["rows"] = len(statuses)
                if step == "ingest":
                    row["rejects"] = pl.read_parquet(rejected, columns=["reason"]).height
            else:
                row |= json.loads(runs[-1][3].strip().splitlines()[-1])
                row.pop("shard_sizes")
            rows.append(row)
            log.append(json.dumps(row))
            print(log[-1], flush=True)
    return rows


#: what linearity is judged on per step: the measured process's CPU time for ingestion (start-up
#: included, it is part of every job), the in-process CPU time of the work for sharding (whose
#: start-up would otherwise hide it)
MEASURE = {"ingest": "cpu_s", "peaks": "cpu_s", "shard": "work_cpu_s"}
#: what one unit of a step's size is
UNIT = {"ingest": "records", "peaks": "peak lists", "shard": "records"}


def summarize(rows: list[dict]) -> tuple[list[str], dict]:
    lines, fits = [], {}
    for step, measure in MEASURE.items():
        mine = [r for r in rows if r["step"] == step]
        x = np.array([r["items"] for r in mine], float)
        y = np.array([r[measure] for r in mine], float)
        slope, intercept, r2 = linear_fit(x, y)
        wall_slope, wall_intercept, wall_r2 = linear_fit(x, np.array([r["wall_s"] for r in mine]))
        fits[step] = (slope, intercept)
        lines.append(
            f"== {step}: {measure} = {1000 * slope:.3f} s per 1k {UNIT[step]}"
            f" {intercept:+.2f} s, R^2 = {r2:.4f}   (wall: {1000 * wall_slope:.3f} s"
            f" per 1k {wall_intercept:+.2f} s, R^2 = {wall_r2:.4f})"
        )
        for r in mine:
            if step == "shard":
                extra = (
                    f"molecules {r['molecules']:,}, collect {r['collect_s']:.2f} s,"
                    f" one shard job {1000 * r['shard_job_cpu_s']:.1f} ms cpu"
                )
            else:
                extra = f"ok rows {r['ok_rows']:,} of {r['rows']:,}"
            lines.append(
                f"  {r['items']:>7,} {UNIT[step]}: {measure} {r[measure]:7.2f} s"
                f" = {1e6 * r[measure] / r['items']:6.1f} us each"
                f" ({1e6 * (r[measure] - intercept) / r['items']:6.1f} net of the intercept);"
                f" wall {r['wall_s']:7.2f} s (runs {r['walls']}); peak RSS {r['rss_mib']:4.0f} MiB;"
                f" {extra}; load {r['load_before']}"
            )
        by_size = {r["records"]: r for r in mine}
        if 10_000 in by_size and 100_000 in by_size:
            big, small = by_size[100_000], by_size[10_000]
            ratio = big[measure] / small[measure]
            net = (big[measure] - intercept) / (small[measure] - intercept)
            lines.append(
                f"  {measure}(100k records) / {measure}(10k records) = {ratio:.2f}"
                f" for {big['items'] / small['items']:.2f}x the {UNIT[step]}"
                f" (net of the intercept: {net:.2f})"
            )
    return lines, fits


def figure(rows: list[dict], fits: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (time_ax, mem_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    colors = ("tab:blue", "tab:green", "tab:orange")
    for (step, measure), color in zip(MEASURE.items(), colors, strict=True):
        mine = [r for r in rows if r["step"] == step]
        x = np.array([r["items"] for r in mine], float)
        time_ax.plot(x, [r[measure] for r in mine], "o", color=color, label=f"{step} ({measure})")
        time_ax.plot(
            x,
            [r["wall_s"] for r in mine],
            "x",
            color=color,
            alpha=0.6,
            label=f"{step} wall (loaded machine)",
        )
        slope, intercept = fits[step]
        grid = np.linspace(0, x.max(), 50)
        time_ax.plot(
            grid,
            slope * grid + intercept,
            "-",
            color=color,
            alpha=0.6,
            label=f"fit: {1000 * slope:.3f} s / 1k records",
        )
        mem_ax.plot(x, [r["rss_mib"] for r in mine], "o-", color=color, label=step)
    time_ax.set(xlabel="records (peaks: peak lists)", ylabel="seconds", title="time vs records")
    mem_ax.set(
        xlabel="records (peaks: peak lists)",
        ylabel="peak RSS of the process (MiB)",
        title="memory vs records",
        ylim=(0, None),
    )
    for ax in (time_ax, mem_ax):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("litshift scale test: synthetic NMRExtractor-layout corpora (1 core, nice 5)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action")
    step = actions.add_parser("shard-step", help="(internal) the measured sharding process")
    step.add_argument("literature", type=Path)
    step.add_argument("molecules", type=Path)
    step.add_argument("--n-shards", type=int, required=True)
    step.add_argument("--cache", type=Path, required=True)
    profile = actions.add_parser("chunk-profile", help="CPU time per chunk of one ingestion")
    profile.add_argument("--records", type=int, default=100_000)
    profile.add_argument("--chunk-size", type=int, default=10_000)
    profile.add_argument("--out", type=Path, default=REPO / "benchmarks/results/scale_chunks.txt")
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 10_000, 30_000, 100_000])
    parser.add_argument("--repeats", type=int, default=2, help="runs per step and size (best)")
    parser.add_argument("--n-shards", type=int, default=64, help="shards of the sharding step")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/scale.txt")
    parser.add_argument("--figure", type=Path, default=REPO / "benchmarks/results/scale.png")
    args = parser.parse_args(argv)
    if args.action == "shard-step":
        print(json.dumps(shard_step(args.literature, args.molecules, args.n_shards, args.cache)))
        return 0
    if args.action == "chunk-profile":
        header = [
            f"# ingestion CPU per chunk {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load {load()}:"
            f" nice -n 5 .venv/bin/python benchmarks/scale.py chunk-profile --records"
            f" {args.records} --chunk-size {args.chunk_size}",
            "# in-process ingest_chunk + merge_duplicates (what `ingest-literature --workers 1`"
            " runs per chunk); garbage collection is counted inside the two phases",
        ]
        with tempfile.TemporaryDirectory(prefix="litshift-scale-") as work:
            lines = chunk_profile(args.records, args.chunk_size, Path(work))
        args.out.write_text("\n".join([*header, *lines, f"# load at end {load()}"]) + "\n")
        return 0
    header = [
        f"# scale benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.node()}:"
        f" {os.cpu_count()} CPUs, nice {os.nice(0)}, load average at start {load()}",
        "# command: nice -n 5 .venv/bin/python benchmarks/scale.py"
        f" --sizes {' '.join(map(str, args.sizes))} --repeats {args.repeats}"
        f" --n-shards {args.n_shards}",
        "# corpus: NMRExtractor train_1000 + test_300 multiplied by litshift.ingest.synthetic"
        " (paragraphs verbatim, isotope-labelled structures, #copy-j ids); wall = best of runs,",
        "# cpu = user + system time and RSS = peak of the measured process (wait4); ingest ="
        " `litshift ingest-literature --workers 1` (MLflow off); peaks = the same on the parsed"
        " lists with a structure as peak-list Parquet; shard = collect_molecules +"
        f" every shard job's pre-embedding work ({args.n_shards} shards, empty store) in one"
        " process, work_cpu_s = its CPU time without interpreter start-up",
    ]
    log: list[str] = []
    with tempfile.TemporaryDirectory(prefix="litshift-scale-") as work:
        rows = measure(args, Path(work), log)
    lines, fits = summarize(rows)
    text = (
        "\n".join(
            [
                *header,
                *lines,
                f"# load average at end {load()}",
                "# raw rows:",
                *(f"# {line}" for line in log),
            ]
        )
        + "\n"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    figure(rows, fits, args.figure)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
