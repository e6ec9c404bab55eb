"""``litshift catalog``: (re)build the DuckDB catalog of curated tables
(:mod:`litshift.data.catalog`) and log its row counts to MLflow."""

from __future__ import annotations

import argparse
import logging

from litshift.cli.tracking import stage_run
from litshift.data.catalog import build_catalog
from litshift.usage import check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "catalog"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default="results/catalog.duckdb", help="catalog file to write")
    parser.add_argument("--results", default="results", help="results directory")
    parser.add_argument("inputs", nargs="*", help="outputs the catalog depends on (for Snakemake)")


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={"input": args.inputs},
        input_dirs={"--results": args.results},
        outputs={"--db": (args.db, (".duckdb",))},
    )
    with stage_run(STAGE, {"db": args.db}) as tracker:
        counts = build_catalog(args.db, args.results)
        tracker.log_metrics({f"rows.{k}": v for k, v in counts.items()})
    for name, count in counts.items():
        logger.info("view %-16s %10d rows", name, count)
    return 0
