"""Stage ``collect_molecules``: every distinct structure the run needs 3D coordinates for.

Assigned, weak-training and literature-test molecules, and with ``--heteronuclei`` the held-out
molecules of those nuclei (:func:`litshift.data.splits.held_out_sets`, which no weak table
holds), are pooled and deduplicated by
:func:`litshift.chem.molecules.molecule_key` of their canonical SMILES, which is also the key
of the conformer store, so a molecule shared by several sources is embedded once.
"""

from __future__ import annotations

import argparse
import logging

import polars as pl

from litshift.chem.molecules import molecule_key
from litshift.cli.tracking import stage_run
from litshift.data.io import read_table, write_table
from litshift.data.splits import held_out_sets
from litshift.usage import PARQUET, UsageError, check_paths

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
    parser.add_argument(
        "--heteronuclei",
        default="",
        help="comma-separated nuclei whose held-out molecules (in --unassigned, split by "
        "--splits) are added, e.g. 31P,19F",
    )
    parser.add_argument("--unassigned", default=None, help="curated unassigned.parquet")
    parser.add_argument("--splits", default=None, help="assigned_splits.parquet")
    parser.add_argument("--out", required=True, help="molecules.parquet to write")


def run(args: argparse.Namespace) -> int:
    heteronuclei = [n for n in args.heteronuclei.split(",") if n]
    if heteronuclei and (args.unassigned is None or args.splits is None):
        raise UsageError("--heteronuclei needs --unassigned and --splits")
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--weak": args.weak,
            "--unassigned": args.unassigned,
            "--splits": args.splits,
        },
        outputs={"--out": (args.out, PARQUET)},
    )
    params = {"weak": args.weak, "heteronuclei": heteronuclei}
    with stage_run("collect_molecules", params) as tracker:
        columns = [pl.from_arrow(read_table(args.assigned, "assigned"))["smiles"]]
        columns += [pl.from_arrow(read_table(path, "weak"))["smiles"] for path in args.weak]
        if heteronuclei:
            unassigned = read_table(args.unassigned, "unassigned")
            splits = read_table(args.splits, "splits")
            columns.append(held_out_sets(unassigned, splits, heteronuclei)["smiles"])
        molecules = collect(columns)
        write_table(molecules.to_arrow(), args.out, "molecules")
        counts = {
            "molecules": molecules.height,
            **{f"input_rows.{i}": len(c) for i, c in enumerate(columns)},
        }
        tracker.log_metrics(counts)
    logger.info("collect_molecules: %s", counts)
    return 0
