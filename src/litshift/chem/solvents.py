"""Solvent normalization: free text -> canonical solvent name -> one of three model classes.

The model only sees three solvent classes (``CDCl3``, ``DMSO-d6``, ``other``) because the
other solvents are too rare to learn an embedding for; the fine canonical name is kept in the
data so that breakdowns and future models can use it.

The mapping is table driven: every canonical solvent lists its spellings (NMRShiftDB2 tags,
literature variants, formulas, protio names). Matching is case-insensitive and Unicode-folded
(NFKC, all dash variants -> ``-``, subscript digits -> digits), so ``DMSO‑d₆`` (U+2011, U+2086)
and ``dmso-d6`` are the same key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = [
    "SOLVENT_CLASSES",
    "SolventInfo",
    "SOLVENTS",
    "normalize_text",
    "canonical_solvent",
    "solvent_class",
    "classify",
    "residual_peaks",
]

#: The three classes the model conditions on, in embedding-index order.
SOLVENT_CLASSES: tuple[str, ...] = ("CDCl3", "DMSO-d6", "other")

MIXTURE = "mixture"
UNREPORTED = "unreported"
UNRECOGNIZED = "unrecognized"


@dataclass(frozen=True, slots=True)
class SolventInfo:
    """One canonical solvent."""

    name: str
    """Canonical name used everywhere in litshift (e.g. ``DMSO-d6``)."""
    aliases: tuple[str, ...]
    """Spellings, already in :func:`normalize_text` form."""
    residual_1h: tuple[float, ...] = ()
    """Residual protio-solvent 1H peaks (ppm), to flag solvent lines listed as compound peaks."""
    residual_13c: tuple[float, ...] = ()
    """Solvent 13C peaks (ppm)."""


# Residual peak positions: Fulmer et al., Organometallics 2010, 29, 2176.
SOLVENTS: tuple[SolventInfo, ...] = (
    SolventInfo(
        "CDCl3",
        (
            "cdcl3",
            "cdci3",
            "cdc13",
            "cdcl 3",
            "chloroform-d",
            "chloroform-d1",
            "chloroform-d3",
            "deuterochloroform",
            "deuteriochloroform",
            "deuterated chloroform",
            "chloroform",
            "chcl3",
            "[d]chloroform",
            "[d1]chloroform",
        ),
        residual_1h=(7.26,),
        residual_13c=(77.16,),
    ),
    SolventInfo(
        "DMSO-d6",
        (
            "dmso-d6",
            "dmso-d 6",
            "d6-dmso",
            "[d6]dmso",
            "[d6]-dmso",
            "[d6] dmso",
            "dmso",
            "dmso d6",
            "dmsod6",
            "dmco-d6",
            "(cd3)2so",
            "cd3socd3",
            "c2d6so",
            "dimethylsulfoxide-d6",
            "dimethylsulphoxide-d6",
            "dimethyl sulfoxide-d6",
            "dimethyl sulphoxide-d6",
            "deuterated dimethyl sulfoxide",
            "dimethyl sulfoxide",
            "dimethylsulfoxide",
            "hexadeuterodimethyl sulfoxide",
        ),
        residual_1h=(2.50,),
        residual_13c=(39.52,),
    ),
    SolventInfo(
        "CD3OD",
        (
            "cd3od",
            "methanol-d4",
            "methanol-d3",
            "methanol-d",
            "[d4]methanol",
            "d4-methanol",
            "meod-d4",
            "meod",
            "meoh-d4",
            "cd3oh",
            "methanol",
            "meoh",
            "ch3oh",
            "methyl alcohol-d4",
        ),
        residual_1h=(3.31,),
        residual_13c=(49.00,),
    ),
    SolventInfo(
        "acetone-d6",
        (
            "acetone-d6",
            "(cd3)2co",
            "cd3cocd3",
            "cd3cocd",
            "[d6]acetone",
            "d6-acetone",
            "acetone",
            "(ch3)2co",
        ),
        residual_1h=(2.05,),
        residual_13c=(29.84, 206.26),
    ),
    SolventInfo(
        "CD2Cl2",
        (
            "cd2cl2",
            "dichloromethane-d2",
            "methylene chloride-d2",
            "[d2]dichloromethane",
            "dcm-d2",
            "ch2cl2",
            "dichloromethane",
            "dcm",
        ),
        residual_1h=(5.32,),
        residual_13c=(53.84,),
    ),
    SolventInfo(
        "C6D6",
        ("c6d6", "benzene-d6", "[d6]benzene", "d6-benzene", "benzene", "c6h6"),
        residual_1h=(7.16,),
        residual_13c=(128.06,),
    ),
    SolventInfo(
        "CD3CN",
        (
            "cd3cn",
            "acetonitrile-d3",
            "[d3]acetonitrile",
            "mecn-d3",
            "mecn",
            "ch3cn",
            "cdcn",
            "acetonitrile",
            "acetonitril",
        ),
        residual_1h=(1.94,),
        residual_13c=(1.32, 118.26),
    ),
    SolventInfo(
        "D2O",
        (
            "d2o",
            "deuterium oxide",
            "deuteriumoxide",
            "deuterated water",
            "water-d2",
            "h2o",
            "water",
        ),
        residual_1h=(4.79,),
    ),
    SolventInfo(
        "THF-d8",
        (
            "thf-d8",
            "tetrahydrofuran-d8",
            "[d8]thf",
            "d8-thf",
            "c4d8o",
            "c4d4o",
            "thf",
            "tetrahydrofuran",
        ),
        residual_1h=(1.72, 3.58),
        residual_13c=(25.31, 67.21),
    ),
    SolventInfo(
        "toluene-d8",
        (
            "toluene-d8",
            "toluol-d8",
            "[d8]toluene",
            "d8-toluene",
            "c7d8",
            "c6d5cd3",
            "toluene",
            "toluol",
        ),
        residual_1h=(2.08, 6.97, 7.01, 7.09),
        residual_13c=(20.43, 125.13, 127.96, 128.87),
    ),
    SolventInfo(
        "pyridine-d5",
        ("pyridine-d5", "pyridin-d5", "[d5]pyridine", "d5-pyridine", "c5d5n", "py-d5", "pyridine"),
        residual_1h=(7.22, 7.58, 8.74),
        residual_13c=(123.87, 135.91, 150.35),
    ),
    SolventInfo(
        "CCl4",
        ("ccl4", "tetrachloromethane", "tetrachloro-methane", "carbon tetrachloride"),
        residual_13c=(96.1,),
    ),
    SolventInfo(
        "DMF-d7",
        ("dmf-d7", "[d7]dmf", "(cd3)2ncdo", "dimethylformamide-d7", "dmf"),
        residual_1h=(2.75, 2.92, 8.03),
        residual_13c=(29.76, 34.89, 162.79),
    ),
    SolventInfo(
        "TFA-d",
        ("tfa-d", "cf3cood", "cf3co2d", "trifluoroacetic acid-d", "trifluoroacetic acid", "tfa"),
        residual_1h=(11.50,),
        residual_13c=(116.6, 164.2),
    ),
    SolventInfo(
        "acetic acid-d4",
        ("acetic acid-d4", "cd3cood", "cd3co2d", "acetic acid"),
        residual_1h=(2.04, 11.65),
        residual_13c=(20.0, 178.99),
    ),
    SolventInfo(
        "dioxane-d8",
        ("dioxane-d8", "1,4-dioxane-d8", "[d8]dioxane", "c4d8o2", "dioxane"),
        residual_1h=(3.53,),
        residual_13c=(66.66,),
    ),
    SolventInfo(
        "nitromethane-d3",
        ("nitromethane-d3", "cd3no2", "nitromethane"),
        residual_1h=(4.33,),
        residual_13c=(62.5,),
    ),
    SolventInfo(
        "cyclohexane-d12",
        ("cyclohexane-d12", "c6d12", "cyclohexane"),
        residual_1h=(1.38,),
        residual_13c=(26.43,),
    ),
    SolventInfo(
        "diethyl ether-d10",
        (
            "diethyl ether-d10",
            "diethylether",
            "diethyl ether",
            "et2o",
            "eto",
            "ether",
            "(ch3ch2)2o",
            "(cd3cd2)2o",
        ),
        residual_1h=(1.11, 3.26),
        residual_13c=(15.46, 66.14),
    ),
    SolventInfo(
        "tetrachloroethane-d2",
        ("tetrachloroethane-d2", "tetrachloro-ethanol", "tetrachloroethane", "c2d2cl4"),
        residual_1h=(6.00,),
        residual_13c=(73.78,),
    ),
    SolventInfo("formic acid-d2", ("formic acid-d2", "dcood", "formic acid")),
    SolventInfo("dimethyl ether-d6", ("dimethylether-d6", "dimethyl ether-d6", "cd3ocd3")),
    SolventInfo("nitrobenzene-d5", ("nitrobenzene-d5", "nitrobenzene", "phno2", "c6d5no2")),
    SolventInfo("ammonia", ("nh3", "ammonia", "nd3")),
    SolventInfo("C6F6", ("c6f6", "hexafluorobenzene")),
    SolventInfo("CFCl3", ("cfcl3", "freon-11", "trichlorofluoromethane")),
    SolventInfo(
        "alkane",
        ("pentane", "n-pentane", "hexane", "n-hexane", "cyclopentane", "heptane", "n-heptane"),
    ),
    SolventInfo(
        "superacid/inorganic",
        (
            "so2clf",
            "sf6",
            "hf",
            "hi",
            "hso3f",
            "sbf5",
            "brf5",
            "cf2clcfcl2",
            "cf3ccl3",
            "perfluorotributylamine",
        ),
    ),
    SolventInfo("gas phase", ("gas phase",)),
    SolventInfo("solid state", ("solid phase", "solid state")),
    SolventInfo("CS2", ("cs2", "carbon disulfide", "carbon disulphide")),
    SolventInfo("SO2", ("so2", "liquid so2")),
    SolventInfo("neat", ("neat", "pure liquid", "no solvent")),
)

_NOT_REPORTED = {"", "unreported", "unknown", "n/a", "na", "none", "not reported", "-", "?"}

_DASH_CHARS = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASHES = dict.fromkeys(map(ord, _DASH_CHARS), "-")


def normalize_text(text: str) -> str:
    """Fold Unicode, case, dashes and whitespace so that spelling variants compare equal."""
    folded = unicodedata.normalize("NFKC", text).translate(_DASHES).casefold()
    return re.sub(r"\s+", " ", folded).strip()


@lru_cache(maxsize=1)
def _alias_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    alias_to_name = {alias: s.name for s in SOLVENTS for alias in s.aliases}
    # Longest first, so that "dmso-d6" wins over "dmso" and "methanol-d4" over "methanol".
    alternatives = sorted(alias_to_name, key=len, reverse=True)
    body = "|".join(re.escape(a) for a in alternatives)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])"), alias_to_name


def find_solvents(text: str) -> list[str]:
    """All distinct canonical solvents named in ``text``, in order of appearance."""
    pattern, alias_to_name = _alias_pattern()
    found: list[str] = []
    for match in pattern.finditer(normalize_text(text)):
        name = alias_to_name[match.group(0)]
        if name not in found:
            found.append(name)
    return found


@lru_cache(maxsize=65536)
def canonical_solvent(text: str | None) -> str:
    """Map free text to a canonical solvent name.

    Returns ``unreported`` for empty/unknown text, ``mixture`` when two or more different
    solvents are named (``CDCl3/CD3OD``), and ``unrecognized`` when the text names no known
    solvent (those strings are worth reporting, see :func:`unmatched`).
    """
    if text is None:
        return UNREPORTED
    if normalize_text(text) in _NOT_REPORTED:
        return UNREPORTED
    found = find_solvents(text)
    if not found:
        return UNRECOGNIZED
    return found[0] if len(found) == 1 else MIXTURE


def solvent_class(canonical: str) -> str:
    """Collapse a canonical solvent name onto the three model classes."""
    return canonical if canonical in SOLVENT_CLASSES[:2] else "other"


def classify(text: str | None) -> tuple[str, str]:
    """``(canonical name, model class)`` for free text, the pair every curated table stores."""
    name = canonical_solvent(text)
    return name, solvent_class(name)


def unmatched(texts: list[str | None]) -> dict[str, int]:
    """Count the raw strings that named no known solvent, to extend the table from real data."""
    counts: dict[str, int] = {}
    for text in texts:
        if text is not None and canonical_solvent(text) == UNRECOGNIZED:
            counts[text] = counts.get(text, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def residual_peaks(canonical: str, nucleus: str) -> tuple[float, ...]:
    """Known solvent peaks of ``canonical`` for ``nucleus`` ("1H" or "13C"); empty if unknown."""
    for solvent in SOLVENTS:
        if solvent.name == canonical:
            return (
                solvent.residual_1h
                if nucleus == "1H"
                else (solvent.residual_13c if nucleus == "13C" else ())
            )
    return ()
