"""``litshift concat``: gather per-stage or per-shard tables into one schema-checked table.

Stages write their own files (so parallel jobs never share an output); consumers that want one
table, e.g. ``results/curated/rejected.parquet`` across all stages, get it through this gather.
"""

from __future__ import annotations

import argparse
import logging

import pyarrow as pa

from litshift.data.io import read_table, write_table
from litshift.data.schemas import schema
from litshift.usage import PARQUET, check_paths

__all__ = ["concat_tables", "configure_parser", "run"]

logger = logging.getLogger(__name__)


def concat_tables(paths: list[str], name: str) -> pa.Table:
    """Concatenate Parquet files that all follow schema ``name`` (none -> empty table)."""
    tables = [read_table(path, name) for path in paths]
    return pa.concat_tables(tables) if tables else schema(name).empty_table()


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="*", help="Parquet files to concatenate")
    parser.add_argument("--schema", required=True, help="schema name (litshift.data.schemas)")
    parser.add_argument("--out", required=True, help="Parquet file to write")


def run(args: argparse.Namespace) -> int:
    check_paths(inputs={"input": args.inputs}, outputs={"--out": (args.out, PARQUET)})
    table = write_table(concat_tables(args.inputs, args.schema), args.out, args.schema)
    logger.info(
        "concat %s: %d files, %d rows -> %s",
        args.schema,
        len(args.inputs),
        table.num_rows,
        args.out,
    )
    return 0
