"""How far apart NMRShiftDB2's repeated spectra of one molecule are: a floor under any test MAE.

Two spectra of the same molecule and nucleus (another record, or another spectrum of the same
record) should report the same shifts up to solvent, temperature and referencing. Their
disagreement bounds what any predictor can score on these labels: if ``y1 = t + e1`` and
``y2 = t + e2`` with ``e1``, ``e2`` alike in distribution, ``E|y1 - y2| <= 2 E|e|`` (triangle
inequality), so a predictor of the true shift ``t`` has an MAE of at least half the replicates'
mean absolute difference on labels like these.

Atom-assigned spectra (curated ``assigned.parquet``) are compared atom by atom (rows of one
canonical SMILES share their atom order); molecule-level sets (curated ``unassigned.parquet``, one
or more files, rows deduplicated by record and nucleus) of the same InChIKey and the same number
of peaks by sorted matching, the optimal pairing for an L1 cost. Prints a Markdown table; seconds
on one core.

Example::

    .venv/bin/python benchmarks/replicate_noise.py --assigned results/curated/assigned.parquet \\
        --unassigned results/curated/unassigned.parquet \\
        --unassigned /tmp/hx/work/results/curated/unassigned.parquet
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl

#: thresholds (ppm) of the "pairs differing by more than" columns, per nucleus scale
THRESHOLDS = {"1H": (0.1, 0.3, 1.0), "13C": (1.0, 3.0, 10.0)}
HETERO_THRESHOLDS = (1.0, 5.0, 20.0)


def assigned_differences(table: pl.DataFrame, nucleus: str) -> tuple[int, np.ndarray]:
    """(molecules with >= 2 spectra, |shift difference| of every atom both spectra label)."""
    groups = (
        table.filter(pl.col("nucleus") == nucleus)
        .group_by("smiles")
        .agg("labels")
        .filter(pl.col("labels").list.len() > 1)
    )
    diffs: list[float] = []
    for spectra in groups["labels"].to_list():
        for a, b in itertools.combinations(spectra, 2):
            shifts_a = {label["atom_index"]: label["shift"] for label in a}
            shifts_b = {label["atom_index"]: label["shift"] for label in b}
            diffs += [abs(shifts_a[i] - shifts_b[i]) for i in shifts_a.keys() & shifts_b.keys()]
    return groups.height, np.asarray(diffs)


def set_differences(table: pl.DataFrame, nucleus: str) -> tuple[int, np.ndarray]:
    """(molecules with >= 2 sets of equal size, |difference| of sorted-matched peaks)."""
    groups = (
        table.filter(pl.col("nucleus") == nucleus)
        .group_by("inchikey", pl.col("shifts").list.len().alias("n_peaks"))
        .agg("shifts")
        .filter(pl.col("shifts").list.len() > 1)
    )
    diffs: list[float] = []
    molecules = set()
    for key, sets in groups.select("inchikey", "shifts").iter_rows():
        molecules.add(key)
        for a, b in itertools.combinations(sets, 2):
            diffs += np.abs(np.sort(a) - np.sort(b)).tolist()
    return len(molecules), np.asarray(diffs)


def row(source: str, nucleus: str, molecules: int, diffs: np.ndarray) -> list[str]:
    """One Markdown table row of the statistics of ``diffs``."""
    if not len(diffs):
        return [nucleus, source, str(molecules), "0", "", "", "", ""]
    thresholds = THRESHOLDS.get(nucleus, HETERO_THRESHOLDS)
    shares = " / ".join(f"{(diffs > t).mean():.1%}" for t in thresholds)
    above = f"{shares} (> {' / '.join(f'{t:g}' for t in thresholds)} ppm)"
    mean = diffs.mean()
    median = np.median(diffs)
    return [
        nucleus,
        source,
        f"{molecules:,}",
        f"{len(diffs):,}",
        f"{mean:.3g}",
        f"{median:.3g}",
    ] + [
        above,
        f"{mean / 2:.3g}",
    ]


def read_unassigned(paths: Iterable[Path]) -> pl.DataFrame:
    """The curated molecule-level sets of ``paths``, each (record, nucleus) once."""
    columns = ["record_id", "inchikey", "nucleus", "shifts"]
    frames = [pl.read_parquet(path, columns=columns) for path in paths]
    return pl.concat(frames).unique(subset=["record_id", "nucleus"], keep="first")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--assigned", type=Path, required=True)
    parser.add_argument("--unassigned", type=Path, action="append", default=[])
    parser.add_argument("--nuclei", default="1H,13C,31P,19F")
    args = parser.parse_args()
    assigned = pl.read_parquet(args.assigned, columns=["smiles", "nucleus", "labels"])
    unassigned = read_unassigned(args.unassigned) if args.unassigned else None
    header = ["nucleus", "labels", "molecules", "pairs", "mean abs. diff.", "median"]
    header += ["pairs differing by more than", "MAE floor (mean / 2)"]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for nucleus in args.nuclei.split(","):
        rows = [row("atom-assigned", nucleus, *assigned_differences(assigned, nucleus))]
        if unassigned is not None:
            rows.append(row("molecule-level", nucleus, *set_differences(unassigned, nucleus)))
        for cells in rows:
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
