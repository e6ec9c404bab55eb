"""Parquet I/O at stage boundaries: schema-checked, atomic writes.

A stage killed half-way must never leave a file that Snakemake (or the next stage) would take
for a finished output, so every write goes to a temporary file in the same directory and is
renamed into place only once complete.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from litshift.data.schemas import schema

__all__ = [
    "SchemaError",
    "atomic_path",
    "read_table",
    "reject_row",
    "rows_to_table",
    "validate",
    "write_table",
]


class SchemaError(ValueError):
    """A table does not match its declared schema."""


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; rename it onto ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make outputs private to their writer
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def validate(table: pa.Table, name: str) -> pa.Table:
    """Check ``table`` against schema ``name`` and return it with exactly that schema.

    Columns are reordered to the declared order; missing columns, extra columns, uncastable
    types and nulls in non-nullable columns raise :class:`SchemaError`.
    """
    expected = schema(name)
    missing = [f.name for f in expected if f.name not in table.column_names]
    extra = [c for c in table.column_names if c not in expected.names]
    if missing or extra:
        raise SchemaError(f"table {name!r}: missing columns {missing}, unexpected columns {extra}")
    columns = []
    for field in expected:
        column = table.column(field.name)
        try:
            column = column.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
            raise SchemaError(
                f"table {name!r}: column {field.name!r} has type {column.type}, "
                f"expected {field.type}: {err}"
            ) from None
        if not field.nullable and column.null_count:
            raise SchemaError(
                f"table {name!r}: column {field.name!r} has {column.null_count} nulls"
            )
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=expected)


def rows_to_table(rows: Sequence[dict[str, Any]], name: str) -> pa.Table:
    """Build a table of schema ``name`` from row dicts (an empty list gives an empty table)."""
    return validate(pa.Table.from_pylist(list(rows), schema=schema(name)), name)


def reject_row(source: str, record_id: str | None, stage: str, message: str, excerpt: str) -> dict:
    """A ``rejected`` row. ``message`` is ``"reason: detail"``; the reason part stays a stable
    category (so rejects can be counted per reason) and the detail goes in front of the excerpt."""
    reason, _, detail = message.partition(": ")
    text = f"{detail} | {excerpt}" if detail else excerpt
    return {
        "source": source,
        "record_id": record_id,
        "stage": stage,
        "reason": reason,
        "excerpt": text[:500],
    }


def write_table(
    table: pa.Table | Sequence[dict[str, Any]], path: str | os.PathLike[str], name: str
) -> pa.Table:
    """Validate against schema ``name`` and write atomically as Parquet (zstd)."""
    if not isinstance(table, pa.Table):
        table = rows_to_table(table, name)
    table = validate(table, name)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return table


def read_table(path: str | os.PathLike[str], name: str) -> pa.Table:
    """Read a Parquet file and check it against schema ``name``."""
    if not Path(path).exists():
        raise FileNotFoundError(f"{name} table not found: {path}")
    return validate(pq.read_table(path), name)
