"""Nuclei: names, their element, plausible shift windows and shift references.

Shifts are only comparable on one scale: IUPAC's standards are TMS for 1H, 13C and 29Si, CFCl3
for 19F, 85 % H3PO4 for 31P and BF3·OEt2 for 11B. Papers sometimes set another compound to 0 ppm
instead (C6F6, TFA or PhCF3 for 19F; trimethyl phosphite or phosphate for 31P), which moves every
shift of the list by tens of ppm: :func:`reference_mismatch` recognizes such lists from their
conditions text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = [
    "DEFAULT_WINDOWS",
    "SHIFT_REFERENCES",
    "STANDARD_REFERENCES",
    "ShiftReference",
    "element_of",
    "named_references",
    "parse_window",
    "reference_mismatch",
    "window_violation",
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
    """``13C=-50,250`` -> ``("13C", (-50.0, 250.0))``; ``ValueError`` says what is wrong.

    The form ``--window`` takes; kept here, free of argparse, so that the check travels with
    the element names it relies on. The command line turns the ``ValueError`` into its usage
    error.
    """
    try:
        nucleus, bounds = text.split("=", 1)
        lo, hi = (float(v) for v in bounds.split(","))
    except ValueError:
        raise ValueError(f"expected NUCLEUS=LO,HI, got {text!r}") from None
    if lo >= hi:
        raise ValueError(f"empty window {text!r}")
    element_of(nucleus)
    return nucleus, (lo, hi)


@dataclass(frozen=True, slots=True)
class ShiftReference:
    """A compound whose signal papers set to (or calibrate against) a nucleus' scale."""

    name: str
    """Short name used in reject reasons and configuration (``C6F6``)."""
    nuclei: tuple[str, ...]
    """Nuclei it is a reference for."""
    pattern: re.Pattern[str]
    """How papers write it (formula, abbreviation or name)."""
    standard_shift: float
    """Its shift (ppm) on the standard scale of its nuclei (0 for the standard itself): a paper
    that quotes this value for it ("C6F6 at -164.9 ppm") reports on the standard scale."""


def _reference(name: str, nuclei: tuple[str, ...], pattern: str, shift: float) -> ShiftReference:
    return ShiftReference(name, nuclei, re.compile(pattern, re.IGNORECASE), shift)


#: Reference compounds litshift recognizes; the standards and the common secondary references.
SHIFT_REFERENCES: tuple[ShiftReference, ...] = (
    _reference("TMS", ("1H", "13C", "29Si"), r"\bTMS\b|tetramethylsilane|\bMe4Si\b|\bSiMe4\b", 0.0),
    _reference(
        "CFCl3",
        ("19F",),
        r"CFCl3|CCl3F|trichloro-?fluoro-?methane|fluoro-?trichloro-?methane|freon[- ]?11\b",
        0.0,
    ),
    _reference("C6F6", ("19F",), r"C6F6|hexafluorobenzene", -164.9),
    # "TFA-d" and "CF3COOD" are solvents, not references
    _reference("TFA", ("19F",), r"\bTFA\b(?!-?d)|CF3COOH|CF3CO2H|trifluoroacetic acid", -76.55),
    _reference(
        "PhCF3",
        ("19F",),
        r"PhCF3|C6H5CF3|CF3Ph\b|trifluorotoluene|benzotrifluoride",
        -63.72,
    ),
    _reference("C6H5F", ("19F",), r"\bPhF\b|\bC6H5F\b|(?<![a-z])fluorobenzene", -113.15),
    _reference("H3PO4", ("31P",), r"H3PO4|phosphoric acid", 0.0),
    _reference("P(OMe)3", ("31P",), r"P\(OMe\)3|\(MeO\)3P(?!=?O)|trimethyl ?phosphite", 140.0),
    _reference("OP(OMe)3", ("31P",), r"O=?P\(OMe\)3|\(MeO\)3P=?O|trimethyl ?phosphate", 2.1),
    _reference("BF3·OEt2", ("11B",), r"BF3", 0.0),
)

#: IUPAC's standard reference per nucleus (names of :data:`SHIFT_REFERENCES`).
STANDARD_REFERENCES: dict[str, str] = {
    "1H": "TMS",
    "13C": "TMS",
    "29Si": "TMS",
    "19F": "CFCl3",
    "31P": "H3PO4",
    "11B": "BF3·OEt2",
}

# a value, not the digit of a formula ("CDCl3", "P(OMe)3")
_NUMBER = re.compile(r"-?(?<![\w)])\d+(?:\.\d+)?(?![\w(])")


def named_references(text: str, nucleus: str) -> list[ShiftReference]:
    """The reference compounds of ``nucleus`` that ``text`` names, in catalogue order."""
    return [r for r in SHIFT_REFERENCES if nucleus in r.nuclei and r.pattern.search(text)]


def reference_mismatch(
    texts: Iterable[str | None], nucleus: str, standard: str, tolerance: float = 3.0
) -> str | None:
    """Why a list whose conditions read ``texts`` is not on the ``standard`` scale, or None.

    A list is on the standard scale unless its conditions name another reference compound of
    the nucleus without naming the standard too; a secondary reference quoted with its value on
    the standard scale (within ``tolerance`` ppm: "C6F6 (-164.9 ppm)") is fine as well. A
    conditions text naming no compound is taken to follow the convention.
    """
    text = " ".join(t for t in texts if t)
    named = named_references(text, nucleus)
    if not named or any(r.name == standard for r in named):
        return None
    numbers = [float(n) for n in _NUMBER.findall(text)]
    for reference in named:
        if not any(abs(n - reference.standard_shift) <= tolerance for n in numbers):
            return f"{nucleus} referenced to {reference.name}, not {standard}"
    return None
