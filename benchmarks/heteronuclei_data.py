"""Data-side numbers of the heteronuclei (31P, 19F) behind benchmarks/results/heteronuclei_data.md.

Runs the pipeline's data stages and the HOSE baseline with config.yaml + config.hetero.yaml
(Snakemake, the repository's Snakefile) in a scratch working folder, never the project's
``results/``, then prints Markdown tables per nucleus: curated spectra per solvent class,
molecules passing the weak-data filters, molecules whose sets are atom-level labels, the split
and the HOSE baseline. About one minute on one core.

Example::

    nice -n 5 .venv/bin/python benchmarks/heteronuclei_data.py --work /tmp/hetero
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polars as pl
import yaml
from rdkit import Chem
from snakemake.utils import update_config

from litshift.chem.molecules import MoleculeError, mol_from_smiles
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.data.atom_labels import atom_level_examples
from litshift.data.datasets import weak_filter_reason
from litshift.data.splits import weak_sources
from litshift.data.weak_filters import WeakFilters

REPO = Path(__file__).resolve().parents[1]
HETERO = REPO / "config.hetero.yaml"
TARGETS = ("results/eval/hose_baseline/summary.json", "results/curated/rejected.parquet")


def run_stages(work: Path) -> dict:
    """The merged config, after Snakemake built ``TARGETS`` in ``work`` (shared data linked)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "config.yaml").write_text((REPO / "config.yaml").read_text())
    shared = work.parent / "shared"
    if not shared.exists():
        shared.mkdir()
        (shared / "data").symlink_to(REPO.parent / "shared" / "data")
    command = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(work)]
    command += ["--cores", "1", *TARGETS, "--configfile", str(HETERO)]
    subprocess.run(command, cwd=work, check=True, env={**os.environ, "LITSHIFT_TRACKING": "0"})
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load(HETERO.read_text()))
    return config


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _per_class(frame: pl.DataFrame) -> list:
    counts = dict(frame.group_by("solvent_class").len().iter_rows())
    molecules = frame["inchikey"].str.slice(0, 14).n_unique()
    return [*(counts.get(c, 0) for c in SOLVENT_CLASSES), frame.height, molecules]


def curated_table(results: Path, nuclei: list[str]) -> str:
    tables = {
        "assigned (SD file)": pl.read_parquet(results / "curated/assigned.parquet"),
        "unassigned (JSON lines)": pl.read_parquet(results / "curated/unassigned.parquet"),
        "literature lists passing the filters": pl.read_parquet(
            results / "curated/literature.parquet"
        ).filter(pl.col("status") == "ok"),
    }
    rows = [
        [nucleus, name, *_per_class(frame.filter(pl.col("nucleus") == nucleus))]
        for nucleus in nuclei
        for name, frame in tables.items()
    ]
    return _table(["nucleus", "table", *SOLVENT_CLASSES, "spectra", "molecules"], rows)


def rejected_table(results: Path, nuclei: list[str]) -> str:
    rejected = pl.read_parquet(results / "curated/rejected.parquet")
    literature = pl.read_parquet(results / "curated/literature.parquet")
    rows = []
    for nucleus in nuclei:
        curation = rejected.filter(pl.col("excerpt").str.contains(f"Spectrum {nucleus} "))
        for stage, reason, n in sorted(curation.group_by("stage", "reason").len().rows()):
            rows.append([nucleus, stage, reason, n])
        lists = literature.filter(pl.col("nucleus") == nucleus, pl.col("status") != "ok")
        for reason, n in sorted(lists.group_by("status").len().rows()):
            rows.append([nucleus, "ingest_literature", reason, n])
    return _table(["nucleus", "stage", "reason", "rejected"], rows)


def weak_table(results: Path, config: dict, nuclei: list[str]) -> tuple[str, Counter]:
    """Molecules (connectivity keys) of every weak set before the leakage guard: passing the
    weak-data filters of train.weak_filters (windows of the curation added), and unambiguous."""
    test_sources = [n for n, s in config["literature"]["sources"].items() if s["role"] == "test"]
    weak, _ = weak_sources(
        pl.read_parquet(results / "curated/unassigned.parquet").to_arrow(),
        pl.read_parquet(results / "curated/literature.parquet").to_arrow(),
        test_sources,
    )
    settings = dict(config["train"]["weak_filters"])
    settings["windows"] = {**settings["windows"], **config["curation"]["shift_window"]}
    filters = WeakFilters.from_dict(settings)
    reasons: Counter = Counter()
    rows = []
    for nucleus in nuclei:
        sets = weak.filter(pl.col("nucleus") == nucleus)
        verdicts = {}
        for smiles in sets["smiles"].unique():
            try:
                verdicts[smiles] = weak_filter_reason(Chem.AddHs(mol_from_smiles(smiles)), filters)
            except MoleculeError as err:
                verdicts[smiles] = str(err)
        molecules = sets.unique("connectivity_key", keep="first", maintain_order=True)
        reasons.update(
            f"{nucleus}: {(verdicts[s] or 'pass').split(':')[0]}" for s in molecules["smiles"]
        )
        passing = sets.filter(pl.col("smiles").is_in([s for s, v in verdicts.items() if v is None]))
        examples, counts = atom_level_examples(sets.to_dicts(), [nucleus])
        unambiguous = pl.col("smiles").is_in(sorted({s for s, _, _ in examples}))
        rules = ", ".join(
            f"{k.split('.', 1)[1]} {v}"
            for k, v in sorted(counts.items())
            if not k.endswith("molecules_unambiguous")
        )
        rows.append(
            [
                nucleus,
                sets.height,
                sets["connectivity_key"].n_unique(),
                sets.filter(unambiguous)["connectivity_key"].n_unique(),
                rules,
                passing["connectivity_key"].n_unique(),
                passing.filter(unambiguous)["connectivity_key"].n_unique(),
            ]
        )
    header = ["nucleus", "weak sets", "molecules", "unambiguous molecules", "sets by rule"]
    header += ["molecules passing the weak filters", "of them unambiguous"]
    return _table(header, rows), reasons


def split_table(results: Path, nuclei: list[str]) -> str:
    splits = pl.read_parquet(results / "splits/assigned_splits.parquet")
    weak = pl.read_parquet(results / "splits/weak_train.parquet")
    unassigned = pl.read_parquet(results / "curated/unassigned.parquet")
    rows = []
    for nucleus in nuclei:
        keys = unassigned.filter(pl.col("nucleus") == nucleus)["inchikey"].str.slice(0, 14)
        of_nucleus = splits.filter(pl.col("connectivity_key").is_in(keys.unique().implode()))
        split = dict(of_nucleus.group_by("split").len().iter_rows())
        kept = weak.filter(pl.col("nucleus") == nucleus)
        rows.append(
            [
                nucleus,
                *(split.get(s, 0) for s in ("train", "valid", "test")),
                kept.height,
                kept["inchikey"].str.slice(0, 14).n_unique(),
            ]
        )
    header = ["nucleus", "train molecules", "valid", "test", "weak_train sets", "molecules"]
    return _table(header, rows)


def conformer_molecules(results: Path, nuclei: list[str]) -> str:
    """Structures collect_molecules passes on for conformers, and those only the heteronuclear
    rows bring (the extra conformer work of config.hetero.yaml)."""
    frames = [
        pl.read_parquet(results / path).select("smiles", "nucleus")
        for path in (
            "curated/assigned.parquet",
            "splits/weak_train.parquet",
            "splits/literature_test.parquet",
        )
    ]
    rows = pl.concat(frames)
    everything = rows["smiles"].n_unique()
    others = rows.filter(~pl.col("nucleus").is_in(nuclei))["smiles"].n_unique()
    return _table(
        ["molecules needing conformers", f"only through {'/'.join(nuclei)} sets"],
        [[everything, everything - others]],
    )


def baseline_table(results: Path) -> str:
    metrics = pl.read_parquet(results / "eval/hose_baseline/metrics.parquet")
    rows = [
        [r["nucleus"], r["split"], r["group"], r["n_molecules"], r["n"], f"{r['mae']:.2f}"]
        + [f"{r['mae_ci_lo']:.2f}-{r['mae_ci_hi']:.2f}", f"{r['rmse']:.2f}"]
        for r in metrics.filter(pl.col("breakdown").is_in(["all", "solvent_class"]))
        .sort("nucleus", "split", "breakdown", "group")
        .iter_rows(named=True)
    ]
    header = ["nucleus", "split", "solvent class", "molecules", "pairs", "MAE", "95 % CI", "RMSE"]
    return _table(header, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch working folder")
    args = parser.parse_args()
    config = run_stages(args.work)
    results = args.work / "results"
    nuclei = config["split"]["heteronuclei"]
    weak, reasons = weak_table(results, config, nuclei)
    summary = json.loads((results / "eval/hose_baseline/summary.json").read_text())
    for title, text in (
        ("Curated spectra per solvent class", curated_table(results, nuclei)),
        ("Rejected spectra and lists", rejected_table(results, nuclei)),
        ("Weak sets: weak-data filters and atom-level labels", weak),
        ("Weak-filter verdicts per molecule", json.dumps(dict(sorted(reasons.items())))),
        ("Split (split.heteronuclei)", split_table(results, nuclei)),
        ("Conformer work", conformer_molecules(results, nuclei)),
        ("HOSE baseline", baseline_table(results)),
        ("hose_baseline counts", json.dumps(summary["counts"])),
    ):
        print(f"### {title}\n\n{text}\n")


if __name__ == "__main__":
    main()
