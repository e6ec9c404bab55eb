"""``litshift sql "SELECT ..."``: query the DuckDB catalog and print the result.

The read-only confinement (which statements pass, which files DuckDB may read) is
:mod:`litshift.data.sql`; here a refused query exits 2 and a failing one exits 1, each with one
line on stderr.
"""

from __future__ import annotations

import argparse
import sys

from litshift.data.sql import BUILD_HINT, QueryRefused, query
from litshift.usage import check_input

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sql",
        help='read-only SQL query, e.g. "SELECT nucleus, count(*) FROM assigned GROUP BY 1" '
        "(SELECT, FROM, SHOW, DESCRIBE, SUMMARIZE, EXPLAIN; no COPY, ATTACH, INSTALL, LOAD, "
        "EXPORT, SET or writes; files are readable only under the catalog's folder)",
    )
    parser.add_argument(
        "--db",
        default="results/catalog.duckdb",
        help="catalog file (default: %(default)s; works from any directory)",
    )
    parser.add_argument(
        "--format",
        choices=["table", "csv", "json"],
        default="table",
        help="output format (default: %(default)s)",
    )


def run(args: argparse.Namespace) -> int:
    import duckdb  # here, not at the top: `litshift sql --help` need not load DuckDB

    check_input(args.db, "catalog", BUILD_HINT)
    try:
        sys.stdout.write(query(args.sql, args.db, args.format).rstrip("\n") + "\n")
    except QueryRefused as err:
        sys.stderr.write(f"litshift sql: refused: {err}\n")
        return 2
    except (duckdb.Error, FileNotFoundError) as err:
        sys.stderr.write(f"litshift sql: {err}\n")
        return 1
    return 0
