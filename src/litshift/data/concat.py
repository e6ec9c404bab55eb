"""Gather per-stage or per-shard tables into one schema-checked table.

Stages write their own files (so parallel jobs never share an output); consumers that want one
table, e.g. ``results/curated/rejected.parquet`` across all stages, get it through this gather.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pyarrow as pa

from litshift.data.io import read_table, write_table
from litshift.data.schemas import schema

__all__ = ["concat_files", "concat_tables"]


def concat_tables(paths: Sequence[str | os.PathLike[str]], name: str) -> pa.Table:
    """Concatenate Parquet files that all follow schema ``name`` (none -> empty table)."""
    tables = [read_table(path, name) for path in paths]
    return pa.concat_tables(tables) if tables else schema(name).empty_table()


def concat_files(
    paths: Sequence[str | os.PathLike[str]], name: str, out: str | os.PathLike[str]
) -> int:
    """Write the :func:`concat_tables` of ``paths`` to ``out``; returns its number of rows."""
    return write_table(concat_tables(paths, name), out, name).num_rows
