"""Peak inputs of ``litshift verify``: text, JSON, files and paragraphs; bad input fails clearly."""

from __future__ import annotations

import json

import pytest

from litshift.verify.peaks import (
    PeakInputError,
    PeakList,
    drop_residual_lines,
    parse_peaks_json,
    parse_peaks_text,
    peaks_from_paragraph,
    read_peaks_file,
)


def test_text_with_two_nuclei_integrations_and_ranges() -> None:
    measured = parse_peaks_text(
        "13C: 137.9, 129.1, 128.3, 125.4, 21.5; 1H: 7.30-7.20 (m, 2H), 7.17 (m, 3H), 2.35 (s, 3H)"
    )
    assert list(measured.peaks) == ["13C", "1H"]
    assert measured.peaks["13C"].shifts == (137.9, 129.1, 128.3, 125.4, 21.5)
    assert measured.peaks["13C"].n_h == (None,) * 5
    assert measured.peaks["1H"].shifts == pytest.approx((7.25, 7.17, 2.35))
    assert measured.peaks["1H"].n_h == (2, 3, 3)
    assert measured.solvent_text is None


def test_text_variants_unicode_and_nmr_label() -> None:
    measured = parse_peaks_text("¹³C NMR: 170.2,21.0 | 1H = 2.10 (3H)\n")
    assert measured.peaks["13C"].shifts == (170.2, 21.0)
    assert measured.peaks["1H"] == PeakList("1H", (2.10,), (3,))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("170.2, 135.8", "no nucleus label"),
        ("spectrum; 13C: 170.2", "text before the first nucleus label"),
        ("13C: 170.2, abc", "cannot read peaks"),
        ("13C: ", "no peaks"),
        ("13C: 170.2; 13C: 20.1", "listed twice"),
    ],
)
def test_bad_text_is_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(PeakInputError, match=message):
        parse_peaks_text(text)


def test_json_forms() -> None:
    measured = parse_peaks_json(
        {"13C": [170.2, 21], "1H": [7.26, [2.35, 3], {"shift": 1.2, "n_h": 6}]}
    )
    assert measured.peaks["13C"].shifts == (170.2, 21.0)
    assert measured.peaks["1H"].shifts == (7.26, 2.35, 1.2)
    assert measured.peaks["1H"].n_h == (None, 3, 6)


@pytest.mark.parametrize(
    "data",
    [
        [170.2],
        {},
        {"carbon": [1.0]},
        {"13C": 170.2},
        {"13C": ["x"]},
        {"1H": [[7.2, 1.5]]},
        {"1H": [[7.2, 0]]},
    ],
)
def test_bad_json_is_refused(data) -> None:
    with pytest.raises(PeakInputError):
        parse_peaks_json(data)


def test_files_hold_text_or_json(tmp_path) -> None:
    text = tmp_path / "peaks.txt"
    text.write_text("13C: 170.2, 21.0\n")
    assert read_peaks_file(text).peaks["13C"].shifts == (170.2, 21.0)
    as_json = tmp_path / "peaks.json"
    as_json.write_text(json.dumps({"1H": [2.1]}))
    assert read_peaks_file(as_json).peaks["1H"].shifts == (2.1,)
    broken = tmp_path / "broken.json"
    broken.write_text('{"1H": [2.1')
    with pytest.raises(PeakInputError, match="invalid JSON"):
        read_peaks_file(broken)


def test_paragraph_gives_peaks_and_solvent() -> None:
    measured = peaks_from_paragraph(
        "Colourless oil. 1H NMR (400 MHz, CDCl3) δ 7.26-7.15 (m, 5H), 2.35 (s, 3H); "
        "13C NMR (101 MHz, CDCl3) δ 137.9, 129.1, 128.3, 125.4, 21.5."
    )
    assert measured.solvent_text == "CDCl3"
    assert measured.peaks["1H"].n_h == (5, 3)
    assert len(measured.peaks["13C"].shifts) == 5
    with pytest.raises(PeakInputError, match="no NMR peak list"):
        peaks_from_paragraph("The compound was obtained as a white solid.")


def test_residual_solvent_lines_are_dropped_unless_integrated() -> None:
    peaks = PeakList("13C", (137.9, 77.16, 21.5), (None, None, None))
    kept, dropped = drop_residual_lines(peaks, "CDCl3")
    assert kept.shifts == (137.9, 21.5)
    assert dropped == [77.16]
    protons = PeakList("1H", (7.26, 7.26), (None, 2))
    kept, dropped = drop_residual_lines(protons, "CDCl3")
    assert kept == PeakList("1H", (7.26,), (2,))
