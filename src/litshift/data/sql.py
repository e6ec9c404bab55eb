"""``litshift sql "SELECT ..."``: query the DuckDB catalog and print the result."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["query", "configure_parser", "run"]


def query(sql: str, db: str | Path, fmt: str = "table") -> str:
    """Run ``sql`` read-only against the catalog and render it as a table, CSV or JSON."""
    import duckdb
    import polars as pl

    if not Path(db).exists():
        raise FileNotFoundError(
            f"catalog not found: {db} (build it with `make report` or "
            "`snakemake --cores all results/catalog.duckdb`)"
        )
    con = duckdb.connect(str(db), read_only=True)
    try:
        frame = pl.from_arrow(con.sql(sql).to_arrow_table())
    finally:
        con.close()
    if fmt == "csv":
        return frame.write_csv()
    if fmt == "json":
        return frame.write_json()
    with pl.Config(tbl_rows=100, tbl_cols=30, fmt_str_lengths=60, tbl_width_chars=160):
        return str(frame)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sql", help='SQL query, e.g. "SELECT nucleus, count(*) FROM assigned GROUP BY 1"'
    )
    parser.add_argument("--db", default="results/catalog.duckdb", help="catalog file")
    parser.add_argument("--format", choices=["table", "csv", "json"], default="table")


def run(args: argparse.Namespace) -> int:
    import duckdb

    try:
        sys.stdout.write(query(args.sql, args.db, args.format).rstrip("\n") + "\n")
    except (duckdb.Error, FileNotFoundError) as err:
        sys.stderr.write(f"litshift sql: {err}\n")
        return 1
    return 0
