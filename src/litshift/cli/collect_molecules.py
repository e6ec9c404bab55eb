"""``litshift collect-molecules``: the distinct structures that need conformers
(``molecules.parquet``).

What is pooled and how it is keyed is :mod:`litshift.data.molecules`; this module checks the
options and paths and logs the counts to MLflow.
"""

from __future__ import annotations

import argparse
import logging

from litshift.cli.args import names
from litshift.cli.tracking import stage_run
from litshift.data.molecules import collect_molecules
from litshift.usage import PARQUET, UsageError, check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "collect_molecules"


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
    heteronuclei = names(args.heteronuclei)
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
    with stage_run(STAGE, params) as tracker:
        counts = collect_molecules(
            args.assigned,
            args.weak,
            args.out,
            heteronuclei=heteronuclei,
            unassigned=args.unassigned,
            splits=args.splits,
        )
        tracker.log_metrics(counts)
    logger.info("collect_molecules: %s", counts)
    return 0
