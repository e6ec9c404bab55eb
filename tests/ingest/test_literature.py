"""The literature parser on real snippets of ../shared/data/literature (row numbers of
nmrextractor_train_1000 in comments), one test per syntax family."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from litshift.ingest.literature import normalize_paragraph, parse_paragraph, parse_peak_list
from tests.conftest import LIT_TRAIN

# Row 25: the common layout; en-dash ranges, "J = ..." in the details.
STANDARD = (
    "mp 306–307 °C; 1H NMR (500 MHz, DMSO-d6) δ 11.04 (s, 1H), 9.34 (s, 1H), 7.49 (d, J = 7.9 Hz,"
    " 1H), 7.25–7.20 (m, 3H), 5.72 (s, 1H), 1.48 (s, 3H); 13C NMR (125 MHz, DMSO-d6) δ 169.0,"
    " 142.8, 111.4, 22.0; HRMS (ESI) m/z: [M + H]+ calculated for C32H26BrON2, 533.1223"
)


def only(text: str, nucleus: str):
    blocks = [s for s in parse_paragraph(text) if s.nucleus == nucleus]
    assert len(blocks) == 1, blocks
    return blocks[0]


@pytest.fixture(scope="module")
def train_paragraphs() -> list[str]:
    return pl.read_csv(LIT_TRAIN, infer_schema_length=0, columns=["Paragraph"])[
        "Paragraph"
    ].to_list()


def test_standard_blocks_peaks_and_conditions() -> None:
    h, c = parse_paragraph(STANDARD)
    assert (h.nucleus, c.nucleus) == ("1H", "13C")
    assert h.shifts == [11.04, 9.34, 7.49, 7.225, 5.72, 1.48]
    assert (h.peaks[3].lo, h.peaks[3].hi) == (7.20, 7.25)
    assert [p.multiplicity for p in h.peaks] == ["s", "s", "d", "m", "s", "s"]
    assert [p.count for p in h.peaks] == [1, 1, 1, 3, 1, 3]
    assert h.peaks[2].j_hz == (7.9,)
    assert (h.frequency_mhz, h.solvent_raw, h.solvent, h.solvent_class) == (
        500.0,
        "DMSO-d6",
        "DMSO-d6",
        "DMSO-d6",
    )
    assert c.shifts == [169.0, 142.8, 111.4, 22.0]  # stops before HRMS
    assert c.frequency_mhz == 125.0


def test_integration_first_order_equals_sign_and_dept_groups() -> None:
    # Row 7: "(1 H, bs, OH)" order, "δ=", a trailing "ppm", DEPT groups "Cq: ...; CH: ...".
    text = (
        "1H NMR (400 MHz, [D6]DMSO): δ=7.65 (1 H, bs, OH), 7.37 (2 H, d, J=8.2 Hz, Ar-H), "
        "2.39 ppm (3 H, s, CH3); 13C NMR (100.6 MHz, [D6]DMSO): Cq: δ=168.6, 154.0; CH: 130.2, "
        "126.8; CH2: 38.9, 35.9; CH3: 55.3, 20.8 ppm; HRMS (ES): m/z [M+H]+ calcd"
    )
    h, c = parse_paragraph(text)
    assert h.shifts == [7.65, 7.37, 2.39]
    assert [p.count for p in h.peaks] == [1, 2, 3]
    assert [p.multiplicity for p in h.peaks] == ["bs", "d", "s"]
    assert h.peaks[0].assignment == "OH" and h.peaks[1].assignment == "Ar-H"
    assert h.solvent == "DMSO-d6"
    assert c.shifts == [168.6, 154.0, 130.2, 126.8, 38.9, 35.9, 55.3, 20.8]


def test_unicode_spaces_hyphens_and_delta_h() -> None:
    # Row 22: NBSP, a non-breaking hyphen in DMSO‑d6, thin spaces, "δH(ppm):", no space before (.
    text = (
        "1H NMR (400\xa0MHz, DMSO\u2011d6) δH(ppm): 11.803(s, 1H, C=ONH), 8.62(d,1H, "
        "J\u2009=\u20097\xa0Hz, Ar–H), 5.21 (s, 2H, N–CH2–Ph). 13C NMR (100\xa0MHz, DMSO\u2011d6)"
    )
    h = only(text, "1H")
    assert h.shifts == [11.803, 8.62, 5.21]
    assert h.peaks[1].j_hz == (7.0,) and h.peaks[1].count == 1
    assert (h.solvent, h.frequency_mhz) == ("DMSO-d6", 400.0)


def test_ppm_variants_heteronuclear_j_and_final_and() -> None:
    # Row 1: "shows δ (ppm)", thin spaces, "J HF = 47.6, JHH = 4.2", ", and 7.76 (...)".
    text = (
        "1H NMR (400\u2009MHz, CDCl3) shows δ (ppm) 1.07 (t, 6H, J = 7.1\u2009Hz), 3.70–3.80 "
        "(m, 6H), 4.49–4.63 (dd, 2H, J HF = 47.6, JHH = 4.2), and 7.76 (d, 2H, J = 8.8\u2009Hz). "
        "13C NMR (100\u2009MHz, CDCl3) shows δ (ppm) 11.6, 37.1, 161.2, and 166.69. ESI-MS m/z"
    )
    h, c = parse_paragraph(text)
    assert h.shifts == [1.07, 3.75, 4.56, 7.76]
    assert h.peaks[2].j_hz == (47.6, 4.2)
    assert c.shifts == [11.6, 37.1, 161.2, 166.69]


@pytest.mark.parametrize(
    "header",
    ["13C NMR", "13C-NMR", "13CNMR", "13C{1H} NMR", "¹³C NMR", "13C-NMR {1H}", "13C{1H}-NMR"],
)
def test_13c_header_variants(header: str) -> None:
    # Row 526 writes "13C-NMR {1H} (101 MHz, CDCl3)"; the other spellings are its variants.
    block = only(f"{header} (101 MHz, CDCl3) δ 164.0 (C=O), 146.4 (m, 2 × CF), 50.3 (CHCy).", "13C")
    assert block.shifts == [164.0, 146.4, 50.3]
    assert block.peaks[1].count == 2 and block.peaks[0].assignment == "C=O"


def test_heteronuclei_unicode_minus_and_references() -> None:
    # Rows 15, 231, 884, 396, 436.
    text = (
        "19F-NMR (564.7 MHz, CD3OD): δ = −114.7 (dd, JFH = 9.6, 5.8 Hz). "
        "11B NMR (CDCl3): δ −3.73 (br s, 1B), −10.83 (br s, 8B). "
        "19F{1H}-NMR ((CD3)2CO) δ −113.02 (m, 1F, C2F), δ −113.02 (m, 1F, C6F). "
        "15N NMR (CDCl3 from MeNO2) δ (ppm): −93.11. "
        "29Si NMR (99 MHz, MeOD) (cis/trans-isomers) δ -18.15 (SiCH3), -78.12. FT-IR"
    )
    f1, b, f2, n, si = parse_paragraph(text)
    assert (f1.nucleus, f1.shifts, f1.peaks[0].j_hz, f1.solvent) == (
        "19F",
        [-114.7],
        (9.6, 5.8),
        "CD3OD",
    )
    assert (b.nucleus, b.shifts, [p.count for p in b.peaks]) == ("11B", [-3.73, -10.83], [1, 8])
    assert (f2.nucleus, f2.shifts, f2.solvent) == ("19F", [-113.02, -113.02], "acetone-d6")
    assert (n.nucleus, n.shifts, n.solvent, n.reference) == (
        "15N",
        [-93.11],
        "CDCl3",
        "CDCl3 from MeNO2",
    )
    assert (si.nucleus, si.shifts, si.frequency_mhz) == ("29Si", [-18.15, -78.12], 99.0)


def test_decimal_commas() -> None:
    # Row 109 has one "6,98 (t, ...)" inside a point-decimal list; a whole decimal-comma list
    # (European journals) is read when no point-decimal number appears.
    inside = only(
        "1H NMR (300 MHz, DMSO-d6) δ: 3.77 (s, 9H, 3 OMe), 6,98 (t, J = 6.9 Hz, 1H), "
        "7,14-7,16 (m, 2 H, Ar-H), 7.07 (t, J = 7.0 Hz, 1H).",
        "1H",
    )
    assert inside.shifts == [3.77, 6.98, 7.15, 7.07]
    european = only("1H NMR (400 MHz, CDCl3) δ 7,26 (d, J = 8,1 Hz, 2H); 3,81 (s, 3H).", "1H")
    assert european.shifts == [7.26, 3.81]
    assert european.peaks[0].j_hz == (8.1,)


def test_mojibake_is_repaired() -> None:
    # Row 143: UTF-8 decoded as cp1252 upstream.
    block = only("1H-NMR (CDCl3, 400 MHz) Î´ 1.52â€“1.58 (m, 6H), 2.65 (brS, 2H); 13C", "1H")
    assert block.shifts == [1.55, 2.65]
    assert normalize_paragraph("âˆ’5.2 Â°C") == "-5.2 °C"


def test_headers_without_nucleus_or_without_nmr() -> None:
    # Row 66 "NMR (300 MHz, CDCl3) δ 1.83–1.92 (m, 4H, ...)" is 1H by its integrations;
    # row 942 "δH (600 MHz, DMSO) 12.20 (1H, d, J 17.6)"; row 717 "1H (400 MHz, CDCl3) δ:".
    bare = only(
        "NMR (300 MHz, CDCl3) δ 1.83–1.92 (m, 4H, 2CH2), 3.79 (s, 6H, 2 OCH3); 13C NMR"
        " (75 MHz, CDCl3) δ 22.2 (CH2)",
        "1H",
    )
    assert bare.shifts == [1.875, 3.79]
    delta = only(
        "mp 256–258 °C, δH (600 MHz, DMSO) 12.20 (1H, d, J 17.6), 7.38–7.31 (2H, m).", "1H"
    )
    assert delta.shifts == [12.2, 7.345] and delta.solvent == "DMSO-d6"
    no_nmr = only(
        "1H (400 MHz, CDCl3) δ: 9.43 (d, J = 1.0 Hz, 1H), 7.35 (dd, J = 6.9, 1.6 Hz, 2H); 13C NMR",
        "1H",
    )
    assert no_nmr.shifts == [9.43, 7.35]
    assert parse_paragraph("NMR spectra were recorded on a Bruker AV-400 instrument.") == []


def test_missing_separators_nested_details_and_solvent_after_in() -> None:
    # Row 217: nested parentheses, no separator before the next header, "13C-NMR in CDCl3".
    # Row 176: "12.95 (br.s, 1H, OH)7.76-7.63 (m, 1H, Ar)"; row 222: "40.66 63.08," (no comma).
    text = (
        "1H-NMR (CDCl3) δ (ppm): 3.9 (t, 2H, J = 6.9 Hz, -CH2-OAc), 4.7 (q, 1H, J = 6.2, 12.5 Hz,"
        " -CH(OAc)-) 13C-NMR in CDCl3 δ (ppm): 174.17, 40.66 63.08, 20.91"
    )
    h, c = parse_paragraph(text)
    assert h.shifts == [3.9, 4.7] and h.peaks[1].assignment == "-CH(OAc)-"
    assert (c.shifts, c.solvent) == ([174.17, 40.66, 63.08, 20.91], "CDCl3")
    glued = only("1H NMR (300 MHz, DMSO-d6), δ: 12.95 (br.s, 1H, OH)7.76-7.63 (m, 1H, Ar)", "1H")
    assert glued.shifts == [12.95, 7.695] and glued.peaks[0].multiplicity == "br.s"


def test_list_ends_at_following_sections_and_citations() -> None:
    # Row 150: "1H-NMR see Table 3" has no list; row 61: "50.7 HRMS (ESI)" without a period.
    h, c = parse_paragraph(
        "1H-NMR see Table 3; 13C-NMR (CDCl3) δ 163.7, 129.9 (×2), 21.8; "
        "EI-MS (relative intensity) m/z 315 (M+, 15), 181 (32)"
    )
    assert (h.nucleus, h.peaks) == ("1H", [])
    assert c.shifts == [163.7, 129.9, 21.8]
    tail = only("13C-NMR (126 MHz, CDCl3): δ 125.4, 122.1, 50.7 HRMS (ESI): C35H29N2", "13C")
    assert tail.shifts == [125.4, 122.1, 50.7]


def test_several_compounds_are_kept_apart(train_paragraphs: list[str]) -> None:
    # Row 28: "Compound 1. ..." then "Compound 2. ..." each with 1H and 13C lists.
    spectra = parse_paragraph(train_paragraphs[28])
    assert [(s.nucleus, s.compound_index, s.compound_label) for s in spectra] == [
        ("1H", 0, "1"),
        ("13C", 0, "1"),
        ("1H", 1, "2"),
        ("13C", 1, "2"),
    ]
    assert spectra[1].shifts[:2] == [168.78, 161.96]  # "168.78. 161.96" read as a list
    assert spectra[2].shifts[0] == 14.15


def test_second_solvent_is_the_same_compound(train_paragraphs: list[str]) -> None:
    # Row 560: 1H in DMSO-d6, then 1H in CDCl3, then 13C: one compound measured twice.
    spectra = parse_paragraph(train_paragraphs[560])
    assert [(s.nucleus, s.solvent, s.compound_index) for s in spectra] == [
        ("1H", "DMSO-d6", 0),
        ("1H", "CDCl3", 0),
        ("13C", "DMSO-d6", 0),
    ]


def test_narrative_mentions_are_not_peak_lists(train_paragraphs: list[str]) -> None:
    # Row 785: "determined by 1H NMR: q = 0.94" before the real list; row 122 is prose.
    lists = [s.shifts for s in parse_paragraph(train_paragraphs[785]) if s.nucleus == "1H"]
    assert [len(x) for x in lists] == [0, 14]
    assert all(not s.peaks for s in parse_paragraph(train_paragraphs[122]))


@given(
    st.lists(
        st.decimals(min_value=-20, max_value=240, places=2, allow_nan=False),
        min_size=1,
        max_size=30,
    )
)
def test_comma_separated_lists_round_trip(values) -> None:
    text = "δ " + ", ".join(f"{v:.2f}" for v in values) + "."
    peaks, end = parse_peak_list(text, 2, "C")
    assert [p.shift for p in peaks] == [float(f"{v:.2f}") for v in values]
    assert text[end] == "."
