"""Stage ``split``: leakage-safe train/valid/test split and the weak training set.

Assigned molecules are split by *groups*: the InChIKey connectivity block (first 14 characters)
by default, so stereoisomers and isotopologues never straddle splits, or Bemis-Murcko scaffolds.
Weak (molecule-level) shift sets then lose every molecule whose connectivity key is in the
assigned valid/test splits or in the held-out literature test set: otherwise the sorted-matching
loss would train on exactly the molecules the model is evaluated on.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
from collections.abc import Sequence

import polars as pl
from rdkit.Chem.Scaffolds import MurckoScaffold

from litshift.chem.molecules import MoleculeError, mol_from_smiles
from litshift.data.io import read_table, write_table
from litshift.tracking import stage_run
from litshift.usage import PARQUET, check_paths

__all__ = ["assign_splits", "group_ids", "weak_rows", "configure_parser", "run"]

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")
WEAK_COLUMNS = [
    "source",
    "record_id",
    "inchikey",
    "smiles",
    "nucleus",
    "solvent",
    "solvent_class",
    "shifts",
    "n_h",
]


def _scaffold(smiles: str) -> str | None:
    try:
        scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol_from_smiles(smiles))
    except (MoleculeError, ValueError):
        return None
    return scaffold or None


def group_ids(molecules: pl.DataFrame, method: str) -> pl.Series:
    """The grouping unit of each molecule (``connectivity_key``, ``smiles`` columns).

    Acyclic molecules have no scaffold; they form their own group by connectivity key.
    """
    if method == "connectivity":
        return molecules["connectivity_key"]
    if method == "scaffold":
        scaffolds = [_scaffold(s) for s in molecules["smiles"]]
        return pl.Series(
            [
                f"scaffold:{s}" if s else f"key:{k}"
                for s, k in zip(scaffolds, molecules["connectivity_key"], strict=True)
            ]
        )
    raise ValueError(f"unknown split method {method!r} (connectivity | scaffold)")


def _rank(group: str, seed: int) -> str:
    """A seeded, platform-independent pseudo-random order of groups."""
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def assign_splits(
    molecules: pl.DataFrame, fractions: Sequence[float], seed: int, method: str
) -> pl.DataFrame:
    """Assign each connectivity key to train/valid/test; all keys of a group go together.

    Groups are visited in seeded hash order and filled into the split whose share of molecules
    is furthest below its target, so the realised fractions track ``fractions`` closely even
    with large scaffold groups.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be three non-negative numbers, got {fractions}")
    total_fraction = sum(fractions)
    targets = [f / total_fraction for f in fractions]
    unique = molecules.unique("connectivity_key", keep="first", maintain_order=True)
    unique = unique.with_columns(group=group_ids(unique, method))
    sizes = unique.group_by("group").len()
    order = sorted(sizes.iter_rows(), key=lambda row: _rank(row[0], seed))
    filled = [0, 0, 0]
    group_split: dict[str, str] = {}
    assigned = 0
    for group, size in order:
        deficits = [targets[i] * (assigned + size) - filled[i] for i in range(3)]
        choice = max(range(3), key=lambda i: deficits[i])
        group_split[group] = SPLITS[choice]
        filled[choice] += size
        assigned += size
    return unique.select(
        "connectivity_key",
        split=pl.col("group").replace_strict(group_split, return_dtype=pl.String),
    ).sort("connectivity_key")


def weak_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Project a curated weak source onto the ``weak`` columns (``n_h`` null where absent)."""
    if "n_h" not in frame.columns:
        frame = frame.with_columns(n_h=pl.lit(None, dtype=pl.List(pl.Int32)))
    return frame.select(WEAK_COLUMNS)


def _connectivity(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(connectivity_key=pl.col("inchikey").str.slice(0, 14))


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument("--unassigned", required=True, help="curated unassigned.parquet")
    parser.add_argument(
        "--literature",
        default=None,
        help="curated literature.parquet (optional; rows with status ok are used)",
    )
    parser.add_argument(
        "--literature-test-sources",
        default="",
        help="comma-separated literature sources held out as the literature test set",
    )
    parser.add_argument("--fractions", default="0.8,0.1,0.1", help="train,valid,test fractions")
    parser.add_argument("--seed", type=int, default=17, help="split seed (default: 17)")
    parser.add_argument(
        "--method",
        choices=["connectivity", "scaffold"],
        default="connectivity",
        help="group molecules by InChIKey connectivity block or by Bemis-Murcko scaffold "
        "(default: connectivity)",
    )
    parser.add_argument("--out-splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--out-weak", required=True, help="weak_train.parquet")
    parser.add_argument("--out-literature-test", required=True, help="literature_test.parquet")


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--unassigned": args.unassigned,
            "--literature": args.literature,
        },
        outputs={
            "--out-splits": (args.out_splits, PARQUET),
            "--out-weak": (args.out_weak, PARQUET),
            "--out-literature-test": (args.out_literature_test, PARQUET),
        },
    )
    fractions = [float(x) for x in args.fractions.split(",")]
    test_sources = {s for s in args.literature_test_sources.split(",") if s}
    params = {
        "fractions": fractions,
        "seed": args.seed,
        "method": args.method,
        "literature_test_sources": sorted(test_sources),
    }
    with stage_run("split", params) as tracker:
        assigned = _connectivity(pl.from_arrow(read_table(args.assigned, "assigned")))
        splits = assign_splits(
            assigned.select("connectivity_key", "smiles"), fractions, args.seed, args.method
        )
        weak_sources = [weak_rows(pl.from_arrow(read_table(args.unassigned, "unassigned")))]
        literature_test = pl.DataFrame(schema=weak_sources[0].schema)
        if args.literature:
            literature = pl.from_arrow(read_table(args.literature, "literature"))
            literature = weak_rows(literature.filter(pl.col("status") == "ok"))
            is_test = pl.col("source").is_in(sorted(test_sources))
            literature_test = literature.filter(is_test)
            weak_sources.append(literature.filter(~is_test))
        weak = _connectivity(pl.concat(weak_sources))
        literature_test = _connectivity(literature_test)

        train_keys = splits.filter(pl.col("split") == "train")["connectivity_key"]
        held_out = splits.filter(pl.col("split") != "train")["connectivity_key"]
        # The literature test set keeps only molecules the assigned training set has not seen.
        lit_seen = literature_test["connectivity_key"].is_in(train_keys.implode())
        literature_test = literature_test.filter(~lit_seen)
        blocked = pl.concat([held_out, literature_test["connectivity_key"]]).unique()
        leaked = weak["connectivity_key"].is_in(blocked.implode())
        counts = {
            **{f"split_molecules.{s}": int((splits["split"] == s).sum()) for s in SPLITS},
            "weak_rows_read": weak.height,
            "weak_rows_removed_leakage": int(leaked.sum()),
            "weak_molecules_removed_leakage": weak.filter(leaked)["connectivity_key"].n_unique(),
            "literature_test_rows_removed_seen_in_train": int(lit_seen.sum()),
            "literature_test_rows": literature_test.height,
        }
        weak = weak.filter(~leaked)
        counts["weak_rows_kept"] = weak.height
        for nucleus in sorted(weak["nucleus"].unique()):
            counts[f"weak_rows_kept.{nucleus}"] = int((weak["nucleus"] == nucleus).sum())
        write_table(splits.to_arrow(), args.out_splits, "splits")
        write_table(weak.drop("connectivity_key").to_arrow(), args.out_weak, "weak")
        write_table(
            literature_test.drop("connectivity_key").to_arrow(), args.out_literature_test, "weak"
        )
        tracker.log_metrics(counts)
        tracker.log_dict(counts, "summary.json")
    logger.info("split: %s", counts)
    return 0
