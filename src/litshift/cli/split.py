"""``litshift split``: leakage-safe train/valid/test split of assigned molecules and the weak
training set.

The grouping, the heteronuclei and the leakage guard are :mod:`litshift.data.splits`; this
module reads the options, checks the paths and logs the counts to MLflow.
"""

from __future__ import annotations

import argparse
import logging

from litshift.cli.args import ConfigOption, comma_list, names
from litshift.cli.tracking import stage_run
from litshift.data.splits import SplitOptions, write_splits
from litshift.usage import PARQUET, check_paths

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "split"
#: config section ``split`` -> flags (``--config-json``)
CONFIG_OPTIONS: dict[str, ConfigOption] = {
    "fractions": ("fractions", comma_list),
    "seed": "seed",
    "method": "method",
    "heteronuclei": ("heteronuclei", comma_list),
}


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
    parser.add_argument(
        "--heteronuclei",
        default="",
        help="comma-separated nuclei whose molecules are split after the others, weak ones "
        "included, so that they have held-out molecules (default: none)",
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
    options = SplitOptions(
        fractions=[float(x) for x in args.fractions.split(",")],
        seed=args.seed,
        method=args.method,
        literature_test_sources=frozenset(names(args.literature_test_sources)),
        heteronuclei=frozenset(names(args.heteronuclei)),
    )
    params = {
        "fractions": options.fractions,
        "seed": options.seed,
        "method": options.method,
        "literature_test_sources": sorted(options.literature_test_sources),
        "heteronuclei": sorted(options.heteronuclei),
    }
    with stage_run(STAGE, params) as tracker:
        counts = write_splits(
            assigned=args.assigned,
            unassigned=args.unassigned,
            literature=args.literature,
            out_splits=args.out_splits,
            out_weak=args.out_weak,
            out_literature_test=args.out_literature_test,
            options=options,
        )
        tracker.log_metrics(counts)
        tracker.log_dict(counts, "summary.json")
    logger.info("split: %s", counts)
    return 0
