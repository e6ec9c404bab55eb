"""Parsing of NMRShiftDB2 records: SD files with atom-assigned spectra and JSON-lines dumps.

NMRShiftDB2 spectrum tags look like ``Spectrum 13C 0`` -> ``"8.1;0.0Q;3|9.0;0.0Q;19|..."``:
``shift;intensity[multiplicity];atom_index`` entries separated by ``|``, atom indices 0-based
into the molblock. The trailing number of the tag name is the spectrum index, and the
per-spectrum tags (``Solvent``, ``Temperature [K]``, ``Field Strength [MHz]``) are written as
``"0:Chloroform-D1 (CDCl3) 1:Unreported"``, indexed by that same number.

Everything here is pure (text in, records out); the stages in :mod:`litshift.ingest.curate_assigned`
and :mod:`litshift.ingest.curate_unassigned` do the I/O.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Peak",
    "SdRecord",
    "SpectrumTagError",
    "iter_sd_records",
    "open_text",
    "parse_indexed_tag",
    "parse_spectrum",
    "spectrum_tags",
]

_SPECTRUM_TAG = re.compile(r"^Spectrum (\d+[A-Z][a-z]?) (\d+)$")
_INDEXED_VALUE = re.compile(r"(?:^|\s)(\d+):")
_PEAK_META = re.compile(r"^\s*(-?\d+(?:\.\d*)?(?:[eE]-?\d+)?)?\s*(.*?)\s*$")


class SpectrumTagError(ValueError):
    """A spectrum tag that does not follow the ``shift;intensity;atom|...`` layout."""


@dataclass(frozen=True, slots=True)
class Peak:
    """One assigned signal of an NMRShiftDB2 spectrum."""

    shift: float
    """Chemical shift (ppm)."""
    atom_index: int
    """0-based index into the record's molblock (for 1H: the heavy atom carrying the H)."""
    multiplicity: str | None
    """Multiplicity after the intensity (``S``/``D``/``T``/``Q`` for 13C; ``s``, ``br s``...)."""


@dataclass(slots=True)
class SdRecord:
    """One raw SD record: molblock text plus its data tags, before any chemistry."""

    molblock: str
    tags: dict[str, str]
    ordinal: int
    """0-based position in the file, an id for records whose ID tag is missing."""

    @property
    def record_id(self) -> str:
        return self.tags.get("nmrshiftdb2 ID", "").strip() or f"#{self.ordinal}"


def open_text(path: str | Path) -> Iterator[str]:
    """Iterate the lines of a text file, transparently gunzipping ``*.gz``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
        yield from handle


def iter_sd_records(lines: Iterator[str]) -> Iterator[SdRecord]:
    """Split an SD stream into records without interpreting the molblock.

    Splitting by hand (instead of RDKit's supplier) keeps a corrupt molblock from hiding the
    tags of its record, so the reject row can still name the record.
    """
    block: list[str] = []
    tags: dict[str, str] = {}
    tag_name: str | None = None
    in_molblock = True
    ordinal = 0
    for raw in lines:
        line = raw.rstrip("\r\n")
        if line.strip() == "$$$$":
            yield SdRecord("\n".join(block) + "\n", tags, ordinal)
            block, tags, tag_name, in_molblock = [], {}, None, True
            ordinal += 1
            continue
        if in_molblock:
            block.append(line)
            if line.startswith("M  END"):
                in_molblock = False
            continue
        if line.startswith(">"):
            match = re.search(r"<([^>]*)>", line)
            tag_name = match.group(1) if match else None
            if tag_name is not None:
                tags[tag_name] = ""
        elif tag_name is not None:
            if line.strip() == "":
                tag_name = None
            else:
                tags[tag_name] = (tags[tag_name] + "\n" + line) if tags[tag_name] else line
    if any(line.strip() for line in block):
        yield SdRecord("\n".join(block) + "\n", tags, ordinal)


def spectrum_tags(tags: dict[str, str]) -> Iterator[tuple[str, int, str]]:
    """``(nucleus, spectrum_index, value)`` for every 1D ``Spectrum <nucleus> <n>`` tag."""
    for name, value in tags.items():
        match = _SPECTRUM_TAG.match(name.strip())
        if match:
            yield match.group(1), int(match.group(2)), value


def parse_indexed_tag(value: str | None) -> dict[int, str]:
    """``"0:Chloroform-D1 (CDCl3) 1:Unreported"`` -> ``{0: "Chloroform-D1 (CDCl3)", 1: ...}``."""
    if not value:
        return {}
    matches = list(_INDEXED_VALUE.finditer(value))
    out: dict[int, str] = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() if following is not None else len(value)
        out[int(match.group(1))] = value[match.end() : end].strip()
    return out


def parse_spectrum(value: str) -> list[Peak]:
    """Parse a spectrum tag; raise :class:`SpectrumTagError` naming the offending entry."""
    peaks: list[Peak] = []
    for entry in value.replace("\n", "").split("|"):
        if not entry.strip():
            continue
        parts = entry.split(";")
        if len(parts) != 3:
            raise SpectrumTagError(
                f"unparseable spectrum tag: {entry!r} is not shift;intensity;atom"
            )
        shift_text, meta, atom_text = parts
        try:
            shift = float(shift_text)
            atom_index = int(atom_text)
        except ValueError:
            raise SpectrumTagError(f"unparseable spectrum tag: {entry!r}") from None
        match = _PEAK_META.match(meta)
        multiplicity = match.group(2) if match and match.group(2) else None
        peaks.append(Peak(shift, atom_index, multiplicity))
    if not peaks:
        raise SpectrumTagError("empty spectrum")
    return peaks


def parse_number(value: str | None) -> float | None:
    """A numeric tag value, or ``None`` for ``Unreported``/``Unknown``/garbage."""
    if value is None:
        return None
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", value)
    return float(match.group(1)) if match else None
