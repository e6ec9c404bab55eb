"""Measured peak lists for ``litshift verify``: typed, parsed once, with a clear error.

Three forms are read:

- text: ``"13C: 170.2, 135.8, 21.5; 1H: 7.26 (m, 5H), 2.35 (s, 3H)"`` — a nucleus label, a
  colon, then peaks written as in an experimental section (ranges, multiplicities and ``nH``
  integrations are read by the literature parser's own peak reader);
- JSON: ``{"13C": [170.2, 135.8], "1H": [7.26, [2.35, 3], {"shift": 1.2, "n_h": 6}]}``;
- a literature paragraph (``1H NMR (400 MHz, CDCl3) δ ...``) through
  :func:`litshift.ingest.literature.parse_paragraph`, which also names the solvent.

Anything that cannot be read raises :class:`PeakInputError` with the offending text, before a
single candidate is embedded.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litshift.chem.nuclei import element_of
from litshift.ingest.literature import (
    Peak,
    normalize_paragraph,
    parse_paragraph,
    parse_peak_list,
)
from litshift.ingest.literature_filters import residual_hits

__all__ = [
    "MeasuredSpectrum",
    "PeakInputError",
    "PeakList",
    "drop_residual_lines",
    "parse_peaks_json",
    "parse_peaks_text",
    "peaks_from_paragraph",
    "read_peaks_file",
]

#: a nucleus label opening a list: "13C:", "1H NMR:", "13C =" (at the start or after ; or |)
_LABEL = re.compile(r"(?:^|[;|\n])\s*(?P<nucleus>\d{1,3}[A-Z][a-z]?)(?:\s?NMR)?\s*[:=]")
#: residual-line tolerance (ppm) per nucleus: the literature filters' defaults
_RESIDUAL_TOLERANCE = {"1H": 0.005, "13C": 0.06}


class PeakInputError(ValueError):
    """Peak input that cannot be read; the message names the offending part."""


@dataclass(frozen=True, slots=True)
class PeakList:
    """Observed peaks of one nucleus."""

    nucleus: str
    shifts: tuple[float, ...]
    """Peak positions (ppm), in the order given; a range gives its midpoint."""
    n_h: tuple[int | None, ...]
    """Integration (nuclei per peak) where given, else ``None``; same length as ``shifts``."""


@dataclass(frozen=True, slots=True)
class MeasuredSpectrum:
    """Everything measured about the unknown: peak lists and (when the text names it) solvent."""

    peaks: dict[str, PeakList]
    """Nucleus -> its peak list (only nuclei with at least one peak)."""
    solvent_text: str | None = None
    """Solvent as written in a paragraph; ``None`` for the other input forms."""


def _checked(nucleus: str, shifts: list[float], n_h: list[int | None]) -> PeakList:
    try:
        element_of(nucleus)
    except ValueError:
        raise PeakInputError(f"not a nucleus: {nucleus!r} (write e.g. 13C: or 1H:)") from None
    if not shifts:
        raise PeakInputError(f"{nucleus}: no peaks")
    bad = [s for s in shifts if not math.isfinite(s)]
    if bad:
        raise PeakInputError(f"{nucleus}: non-finite shift {bad[0]!r}")
    if any(n is not None and n < 1 for n in n_h):
        raise PeakInputError(f"{nucleus}: integrations must be >= 1")
    return PeakList(nucleus, tuple(shifts), tuple(n_h))


def parse_peaks_text(text: str) -> MeasuredSpectrum:
    """``"13C: 170.2, 135.8; 1H: 7.26 (m, 5H)"`` -> peak lists (see the module docstring)."""
    folded = normalize_paragraph(text)
    labels = list(_LABEL.finditer(folded))
    if not labels:
        raise PeakInputError(f"no nucleus label (e.g. '13C:') in {text[:60]!r}")
    if folded[: labels[0].start()].strip(" ;|"):
        raise PeakInputError(
            f"text before the first nucleus label: {folded[: labels[0].start()]!r}"
        )
    peaks: dict[str, PeakList] = {}
    for label, following in zip(labels, [*labels[1:], None], strict=True):
        nucleus = label["nucleus"]
        segment = folded[label.end() : following.start() if following else len(folded)]
        segment = segment.strip().rstrip(";|.").strip()
        found, end = parse_peak_list(segment, 0, element_of(nucleus))
        if segment[end:].strip(" ,;"):
            raise PeakInputError(f"{nucleus}: cannot read peaks at {segment[end:][:40]!r}")
        if nucleus in peaks:
            raise PeakInputError(f"{nucleus} listed twice")
        peaks[nucleus] = _checked(nucleus, [p.shift for p in found], [p.count for p in found])
    return MeasuredSpectrum(peaks)


def _json_peak(nucleus: str, item: Any) -> tuple[float, int | None]:
    """``7.26`` | ``[7.26, 5]`` | ``{"shift": 7.26, "n_h": 5}`` -> (shift, integration)."""
    if isinstance(item, Mapping):
        shift, n_h = item.get("shift"), item.get("n_h")
    elif isinstance(item, list | tuple) and len(item) == 2:
        shift, n_h = item
    else:
        shift, n_h = item, None
    if isinstance(shift, bool) or not isinstance(shift, int | float):
        raise PeakInputError(f"{nucleus}: not a shift: {item!r}")
    if n_h is not None and (isinstance(n_h, bool) or not isinstance(n_h, int)):
        raise PeakInputError(f"{nucleus}: integration must be an integer: {item!r}")
    return float(shift), n_h


def parse_peaks_json(data: Any) -> MeasuredSpectrum:
    """``{"13C": [170.2, ...], "1H": [[7.26, 5], ...]}`` -> peak lists."""
    if not isinstance(data, Mapping) or not data:
        raise PeakInputError("JSON peaks must be an object: {nucleus: [shifts ...]}")
    peaks = {}
    for nucleus, items in data.items():
        if not isinstance(items, list):
            raise PeakInputError(f"{nucleus}: expected a list of peaks, got {items!r}")
        pairs = [_json_peak(nucleus, item) for item in items]
        peaks[nucleus] = _checked(nucleus, [s for s, _ in pairs], [n for _, n in pairs])
    return MeasuredSpectrum(peaks)


def read_peaks_file(path: str | Path) -> MeasuredSpectrum:
    """A file holding the text form or the JSON form (told apart by content)."""
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("{"):
        try:
            return parse_peaks_json(json.loads(text))
        except json.JSONDecodeError as err:
            raise PeakInputError(f"{path}: invalid JSON ({err})") from None
    return parse_peaks_text(text)


def peaks_from_paragraph(text: str) -> MeasuredSpectrum:
    """The first compound's peak lists of an experimental-section paragraph, and its solvent.

    A nucleus reported twice (two solvents) keeps its first list; the solvent is that of the
    first block naming one.
    """
    spectra = [s for s in parse_paragraph(text) if s.compound_index == 0 and s.peaks]
    if not spectra:
        raise PeakInputError(f"no NMR peak list found in the paragraph {text[:60]!r}")
    peaks: dict[str, PeakList] = {}
    for spectrum in spectra:
        if spectrum.nucleus not in peaks:
            peaks[spectrum.nucleus] = _checked(
                spectrum.nucleus, spectrum.shifts, [p.count for p in spectrum.peaks]
            )
    solvent = next((s.solvent_raw for s in spectra if s.solvent_raw), None)
    return MeasuredSpectrum(peaks, solvent)


def drop_residual_lines(peaks: PeakList, solvent: str) -> tuple[PeakList, list[float]]:
    """The list without peaks sitting on a residual line of ``solvent`` (canonical name),
    and the dropped shifts; 1H peaks with an integration are kept (the filters' rule)."""
    tolerance = _RESIDUAL_TOLERANCE.get(peaks.nucleus, 0.0)
    keep, dropped = [], []
    for shift, n_h in zip(peaks.shifts, peaks.n_h, strict=True):
        if residual_hits([Peak(shift, shift, shift, count=n_h)], solvent, peaks.nucleus, tolerance):
            dropped.append(shift)
        else:
            keep.append((shift, n_h))
    kept = PeakList(peaks.nucleus, tuple(s for s, _ in keep), tuple(n for _, n in keep))
    return kept, dropped
