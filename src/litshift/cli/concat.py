"""``litshift concat``: concatenate tables of one schema (the gathers of per-stage and per-shard
outputs, :mod:`litshift.data.concat`)."""

from __future__ import annotations

import argparse
import logging

from litshift.data.concat import concat_files
from litshift.usage import PARQUET, check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", help="Parquet files to concatenate")
    parser.add_argument("--schema", required=True, help="schema name (litshift.data.schemas)")
    parser.add_argument("--out", required=True, help="Parquet file to write")


def run(args: argparse.Namespace) -> int:
    check_paths(inputs={"input": args.inputs}, outputs={"--out": (args.out, PARQUET)})
    rows = concat_files(args.inputs, args.schema, args.out)
    logger.info("concat %s: %d files, %d rows -> %s", args.schema, len(args.inputs), rows, args.out)
    return 0
