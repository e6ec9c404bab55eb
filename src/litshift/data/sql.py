"""Read-only queries against the DuckDB catalog, rendered as a table, CSV or JSON.

A query tool, not a database shell: the catalog opens read-only, DuckDB may read files only
under the catalog's folder (the results directory whose tables the views describe), extensions
are neither installed nor loaded, and the configuration is locked before the user's SQL runs.
Only read-only statements pass (``SELECT`` and its ``SHOW``/``DESCRIBE``/``SUMMARIZE``/``FROM``
shorthands, ``EXPLAIN``), because ``COPY ... TO`` would still write inside the results folder
that reads are confined to.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = ["BUILD_HINT", "QueryRefused", "query"]

#: DuckDB statement types a query may consist of (SHOW, DESCRIBE, SUMMARIZE parse as SELECT).
ALLOWED_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})

#: how to get a catalog when there is none
BUILD_HINT = "build it with `make report` or `snakemake --cores all results/catalog.duckdb`"

_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)


class QueryRefused(Exception):
    """The query asks for something ``litshift sql`` does not do (a usage error, exit 2)."""


def _keyword(statement_sql: str, fallback: str) -> str:
    """The statement's first word (``INSTALL`` rather than DuckDB's type name ``LOAD``)."""
    words = _LEADING_COMMENTS.sub("", statement_sql).split(maxsplit=1)
    return words[0].upper() if words else fallback


def _connect(db: Path) -> Any:
    """Open ``db`` read-only with file access confined to its folder and settings locked."""
    import duckdb

    con = duckdb.connect(
        str(db),
        read_only=True,
        config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
    )
    # allowed_directories can only be set once the database has started, and must precede
    # switching external access off; the lock keeps the query itself from undoing either.
    folder = db.resolve().parent.as_posix().replace("'", "''")
    con.execute(f"SET allowed_directories = ['{folder}/']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def query(sql: str, db: str | Path, fmt: str = "table") -> str:
    """Run ``sql`` read-only against the catalog and render it as a table, CSV or JSON.

    Raises :class:`QueryRefused` for a statement other than a read-only query or an access to
    a file outside the catalog's folder, :class:`FileNotFoundError` without a catalog.
    """
    import duckdb
    import polars as pl

    db = Path(db)
    if not db.exists():
        raise FileNotFoundError(f"catalog not found: {db} ({BUILD_HINT})")
    con = _connect(db)
    try:
        for statement in con.extract_statements(sql):
            if statement.type.name not in ALLOWED_STATEMENTS:
                keyword = _keyword(statement.query, statement.type.name)
                raise QueryRefused(
                    f"{keyword} is not allowed: litshift sql runs read-only queries "
                    "(SELECT, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN) on the catalog's views"
                )
        try:
            frame = pl.from_arrow(con.sql(sql).to_arrow_table())
        except duckdb.PermissionException as err:
            raise QueryRefused(
                f"{str(err).removeprefix('Permission Error: ')}; litshift sql reads only "
                f"the catalog's views and files under {db.resolve().parent}/"
            ) from err
    finally:
        con.close()
    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        return frame.write_json()
    with pl.Config(tbl_rows=100, tbl_cols=30, fmt_str_lengths=60, tbl_width_chars=160):
        return str(frame)
