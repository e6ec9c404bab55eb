"""Stage ``collect_molecules``: every distinct structure the run needs 3D coordinates for.

Assigned, weak-training and literature-test molecules are pooled and deduplicated by
:func:`litshift.chem.molecules.molecule_key` of their canonical SMILES, which is also the key
of the conformer store, so a molecule shared by several sources is embedded once.
"""

from __future__ import annotations

import argparse
import logging

import polars as pl

from litshift.chem.molecules import molecule_key
from litshift.data.io import read_table, write_table
from litshift.tracking import stage_run
from litshift.usage import PARQUET, check_paths

__all__ = ["collect", "configure_parser", "run"]

logger = logging.getLogger(__name__)


def collect(smiles_columns: list[pl.Series]) -> pl.DataFrame:
    """Distinct canonical SMILES with their keys, sorted by key (stable shard contents)."""
    smiles = pl.concat(smiles_columns).unique()
    keys = [molecule_key(s) for s in smiles]
    return pl.DataFrame({"key": keys, "smiles": smiles}).sort("key")


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument(
        "--weak",
        nargs="+",
        required=True,
        help="weak tables (weak_train.parquet, literature_test.parquet)",
    )
    parser.add_argument("--out", required=True, help="molecules.parquet to write")


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={"--assigned": args.assigned, "--weak": args.weak},
        outputs={"--out": (args.out, PARQUET)},
    )
    with stage_run("collect_molecules", {"weak": args.weak}) as tracker:
        columns = [pl.from_arrow(read_table(args.assigned, "assigned"))["smiles"]]
        columns += [pl.from_arrow(read_table(path, "weak"))["smiles"] for path in args.weak]
        molecules = collect(columns)
        write_table(molecules.to_arrow(), args.out, "molecules")
        counts = {
            "molecules": molecules.height,
            **{f"input_rows.{i}": len(c) for i, c in enumerate(columns)},
        }
        tracker.log_metrics(counts)
    logger.info("collect_molecules: %s", counts)
    return 0
