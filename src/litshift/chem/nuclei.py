"""Nuclei: names, their element, and plausible shift windows."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping

__all__ = [
    "DEFAULT_WINDOWS",
    "add_window_argument",
    "element_of",
    "parse_window",
    "window_violation",
    "windows_from_args",
]

#: Windows (ppm) used when the configuration names none; the paper's weak-data filter.
DEFAULT_WINDOWS: dict[str, tuple[float, float]] = {"1H": (-1.0, 15.0), "13C": (-50.0, 250.0)}


def element_of(nucleus: str) -> str:
    """``"13C"`` -> ``"C"``, ``"195Pt"`` -> ``"Pt"``; raises on names that are not a nucleus."""
    match = re.fullmatch(r"(\d+)([A-Z][a-z]?)", nucleus.strip())
    if not match:
        raise ValueError(f"not a nucleus name: {nucleus!r}")
    return match.group(2)


def window_violation(
    shifts: Iterable[float], nucleus: str, windows: Mapping[str, tuple[float, float]]
) -> str | None:
    """The reject reason if any shift lies outside the nucleus' plausible window, else ``None``."""
    window = windows.get(nucleus)
    if window is None:
        return None
    lo, hi = window
    outside = [s for s in shifts if not lo <= s <= hi]
    if outside:
        return f"shift outside plausible window: {nucleus} {outside[0]:g} not in [{lo:g}, {hi:g}]"
    return None


def parse_window(text: str) -> tuple[str, tuple[float, float]]:
    """CLI form ``13C=-50,250`` -> ``("13C", (-50.0, 250.0))``."""
    try:
        nucleus, bounds = text.split("=", 1)
        lo, hi = (float(v) for v in bounds.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NUCLEUS=LO,HI, got {text!r}") from None
    if lo >= hi:
        raise argparse.ArgumentTypeError(f"empty window {text!r}")
    element_of(nucleus)
    return nucleus, (lo, hi)


def add_window_argument(parser: argparse.ArgumentParser) -> None:
    """``--window 1H=-1,15 --window 13C=-50,250`` (defaults: the paper's windows)."""
    parser.add_argument(
        "--window",
        type=parse_window,
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
