"""Options that several commands share, and the argparse types behind them.

The parsing itself lives in the layers below (:func:`litshift.chem.nuclei.parse_window`) and
raises ``ValueError``; here it becomes argparse's one-line usage error, and the option's flag,
default and help text are written once for every command that takes it.
"""

from __future__ import annotations

import argparse

from litshift.chem.nuclei import DEFAULT_WINDOWS, parse_window

__all__ = ["add_curation_arguments", "add_window_argument", "window", "windows_from_args"]


def window(text: str) -> tuple[str, tuple[float, float]]:
    """argparse type of ``--window NUC=LO,HI``: :func:`parse_window`, its error as usage error."""
    try:
        return parse_window(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_window_argument(parser: argparse.ArgumentParser) -> None:
    """``--window 1H=-1,15 --window 13C=-50,250`` (defaults: the paper's windows)."""
    parser.add_argument(
        "--window",
        type=window,
        action="append",
        default=None,
        metavar="NUC=LO,HI",
        help="plausible shift window per nucleus (repeatable); default 1H=-1,15 13C=-50,250",
    )


def windows_from_args(
    values: list[tuple[str, tuple[float, float]]] | None,
) -> dict[str, tuple[float, float]]:
    """The windows a stage applies: those given on the command line, else the defaults."""
    return dict(values) if values else dict(DEFAULT_WINDOWS)


def add_curation_arguments(parser: argparse.ArgumentParser, table: str) -> None:
    """``--out``, ``--rejected``, ``--nuclei`` and ``--window`` of a curation stage."""
    parser.add_argument("--out", required=True, help=f"{table}.parquet to write")
    parser.add_argument("--rejected", required=True, help="rejected rows (Parquet) to write")
    parser.add_argument("--nuclei", default="1H,13C", help="comma-separated nuclei to keep")
    add_window_argument(parser)
