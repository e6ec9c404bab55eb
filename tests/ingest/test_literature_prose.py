"""The literature parser beyond tidy SI paragraphs: shifts spread through prose, bracketed and
grouped lists, multipliers, header variants, numbers in per-peak annotations, page furniture and
typos. The examples here are written for the tests (not taken from the fixture); the fixture
test checks the recall/precision targets on the hand-annotated paragraphs of
``fixtures/literature_prose.jsonl``."""

from __future__ import annotations

import pytest

from benchmarks.ingest_accuracy import PROSE_FILE, load_prose, score_prose
from litshift.ingest.literature import (
    COMPARISON,
    CORRELATIONS,
    CUT_SHORT,
    PURPOSE,
    REGION,
    REJECT_REASONS,
    UNREADABLE,
    parse_paragraph,
)


def blocks(text: str, nucleus: str):
    return [s for s in parse_paragraph(text) if s.nucleus == nucleus and s.compound_index == 0]


def accepted(text: str, nucleus: str) -> list[list[float]]:
    """Every list the parser accepts for ``nucleus`` (the pipeline keeps each one)."""
    return [s.shifts for s in blocks(text, nucleus) if s.peaks]


def rejected(text: str, nucleus: str) -> str:
    """The reason of the one block of ``nucleus``, which must have given up on its list."""
    (block,) = blocks(text, nucleus)
    assert block.peaks == [] and block.reject_reason is not None, block
    return block.reject_reason


# --- the fixture -----------------------------------------------------------------------------


def test_prose_fixture_meets_the_targets() -> None:
    rows = load_prose()
    assert len(rows) >= 150
    assert {r["family"] for r in rows} >= {
        "prose",
        "brackets",
        "multipliers",
        "headers",
        "annotations",
        "furniture",
        "negative",
    }
    scores = score_prose(rows)
    failures = {n: s.failures for n, s in scores.items()}
    assert scores["13C"].recall >= 0.93, failures["13C"]
    assert scores["1H"].recall >= 0.90, failures["1H"]
    for nucleus, score in scores.items():
        assert score.precision >= 0.99, (nucleus, failures[nucleus])


def test_fixture_rows_are_well_formed() -> None:
    for row in load_prose():
        assert row["paragraph"].strip() and row["id"], row
        for nucleus in ("13C", "1H"):
            assert row[nucleus] is None or all(isinstance(v, float | int) for v in row[nucleus])
    assert PROSE_FILE.name == "literature_prose.jsonl"


# --- shifts spread through prose -------------------------------------------------------------


def test_runs_of_tagged_shifts_across_a_sentence_form_one_list() -> None:
    text = (
        "The 13C NMR spectrum (CDCl3) of 7 showed a ketone at δC 209.1, three olefinic carbons at "
        "δC 157.3, 128.0 and 121.6, an oxymethine (δC 70.2) and two methyls resonating at 23.4 "
        "and 18.8 ppm."
    )
    assert accepted(text, "13C") == [[209.1, 157.3, 128.0, 121.6, 70.2, 23.4, 18.8]]
    assert blocks(text, "13C")[0].solvent == "CDCl3"


def test_tags_send_each_run_to_its_nucleus_and_no_header_is_needed() -> None:
    text = (
        "Compound 4 was a yellow oil. Its NMR data indicated an aldehyde (δH 9.71; δC 201.5), a "
        "methoxy group (δH 3.80; δC 55.2) and an aromatic ring (δH 7.30, 6.88; δC 159.9, 130.8)."
    )
    assert accepted(text, "1H") == [[9.71, 3.80, 7.30, 6.88]]
    assert accepted(text, "13C") == [[201.5, 55.2, 159.9, 130.8]]


def test_a_header_after_the_shifts_claims_them() -> None:
    text = (
        "Signals at δ 5.62 and 5.48 in the 1H NMR spectrum (C6D6) belong to the olefinic "
        "protons, and the methyl groups appear at δ 1.71 and 1.02."
    )
    assert accepted(text, "1H") == [[5.62, 5.48, 1.71, 1.02]]
    assert blocks(text, "1H")[0].solvent == "C6D6"


def test_following_sentences_continue_the_list_and_repeats_are_dropped() -> None:
    text = (
        "The 1H NMR spectrum (CD3OD) of 9 exhibited two doublets at δ 7.61 and 6.30 (J = 16.0 Hz). "
        "It also showed a methoxy singlet at δ 3.77. The 13C NMR spectrum displayed signals at "
        "δ 168.9, 146.2, 116.0 and 52.1. The olefinic protons at δ 7.61 and 6.30 confirm the "
        "E geometry."
    )
    assert accepted(text, "1H") == [[7.61, 6.30, 3.77]]
    assert accepted(text, "13C") == [[168.9, 146.2, 116.0, 52.1]]


def test_a_correlation_sentence_ends_the_description() -> None:
    text = (
        "The 1H NMR spectrum (CDCl3) showed an anomeric proton at δH 4.98 (d, J = 3.5 Hz). "
        "HMBC correlations from δH 4.98 to δC 80.1 and δC 99.7 linked the two sugars."
    )
    assert accepted(text, "1H") == [[4.98]]
    assert accepted(text, "13C") == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "The 13C NMR spectrum of 12 (CDCl3) resembled that of 11 except for C-4 (δC 71.2 vs "
            "66.0).",
            COMPARISON,
        ),
        (
            "The dr (5:1) was determined by integration of the 1H NMR signals at δ 4.61 and 4.55.",
            PURPOSE,
        ),
        (
            "The 13C NMR spectrum (CDCl3) showed the methylene carbons between δ 22.1 and 31.9.",
            REGION,
        ),
    ],
)
def test_sentences_that_cite_signals_give_no_list(text: str, reason: str) -> None:
    nucleus = "13C" if "13C" in text else "1H"
    assert rejected(text, nucleus) == reason


def test_correlations_without_a_header_give_no_block() -> None:
    text = "NOESY cross-peaks between δH 1.21 (H3-18) and δH 2.05 (H-8) fixed the configuration."
    assert parse_paragraph(text) == []
    assert CORRELATIONS in REJECT_REASONS


def test_a_number_no_run_accounts_for_rejects_the_prose_list() -> None:
    # "(137.6-155.9)" is neither introduced as a shift nor a unit value: the list is incomplete.
    text = (
        "The 13C NMR spectrum showed a carbonyl at δ 181.3 and seven oxygenated aromatic carbons "
        "(137.6-155.9)."
    )
    assert rejected(text, "13C").startswith("number not read as a shift")


# --- lists in brackets and sub-groups ------------------------------------------------------


def test_a_list_inside_its_own_bracket() -> None:
    assert accepted("13C NMR (CDCl3) δ [165.9, 133.8, 129.6, 61.4].", "13C") == [
        [165.9, 133.8, 129.6, 61.4]
    ]
    # a reference in brackets is not a list, and neither is a citation
    text = "1H NMR (CDCl3, TMS (δ 0.00)): δ 7.10 (s, 2H). 13C NMR data agree with ref. [21,22]."
    assert accepted(text, "1H") == [[7.10]]
    assert accepted(text, "13C") == []


def test_sub_groups_with_class_labels_and_bracketed_groups() -> None:
    text = (
        "13C NMR (101 MHz, DMSO-d6) δ: carbonyl carbons 172.0, 166.5; aromatic carbons at δ "
        "138.2, 129.1, 127.7; CH2 41.0, 35.3."
    )
    assert accepted(text, "13C") == [[172.0, 166.5, 138.2, 129.1, 127.7, 41.0, 35.3]]
    grouped = "13C NMR (CDCl3): δ 170.1 (C=O), aromatic C (139.0, 128.4, 126.9), 21.5 (CH3)."
    assert accepted(grouped, "13C") == [[170.1, 139.0, 128.4, 126.9, 21.5]]


def test_a_prose_bracket_that_ends_in_ppm() -> None:
    text = (
        "Its 13C NMR spectrum (D2O) contained two carbonyls (177.9 and 174.2 ppm) and a CH2 "
        "(43.5 ppm)."
    )
    assert accepted(text, "13C") == [[177.9, 174.2, 43.5]]


# --- multipliers and counts ------------------------------------------------------------------


def test_multipliers_give_the_count_and_list_the_shift_once() -> None:
    text = (
        "13C NMR (CDCl3) δ 171.5, 130.2 × 2, 2 × 128.9, 127.4 (×3), 115.7 (2C), 56.0 (2 × OCH3), "
        "29.7 x2, 21.1."
    )
    (block,) = blocks(text, "13C")
    assert block.shifts == [171.5, 130.2, 128.9, 127.4, 115.7, 56.0, 29.7, 21.1]
    assert [p.count for p in block.peaks] == [None, 2, 2, 3, 2, 2, 2, None]


def test_integrations_with_multiplied_groups_stay_integrations() -> None:
    (block,) = blocks("1H NMR (CDCl3) δ 1.33 (s, 18H, 2 × tBu), 7.20 (s, 2H).", "1H")
    assert block.shifts == [1.33, 7.20]
    assert [p.count for p in block.peaks] == [18, 2]


# --- header variants, conditions, solvents ---------------------------------------------------


@pytest.mark.parametrize(
    ("header", "nucleus"),
    [
        ("13CNMR (126 MHz, CDCl3):", "13C"),
        ("13C nuclear magnetic resonance (CDCl3, 126 MHz):", "13C"),
        ("Carbon-13 NMR (CDCl3):", "13C"),
        ("1H Nuclear Magnetic Resonance (CDCl3):", "1H"),
        ("Proton NMR (CDCl3):", "1H"),
        ("δH (CDCl3)", "1H"),
        ("1H NMR (CDCl3) δ p.p.m.:", "1H"),
        ("1H NMR (CDCl3) δ: δ", "1H"),
        ("1H NMR (500 MHz, CDCl3) at 300 K, referenced to internal TMS (δ 0.00):", "1H"),
        ("1H NMR spectrum recorded at 400 MHz in CDCl3 at 298 K: δ", "1H"),
    ],
)
def test_header_variants(header: str, nucleus: str) -> None:
    (block,) = blocks(f"{header} 7.51 (d, J = 8.0 Hz, 2H), 7.02 (d, J = 8.0 Hz, 2H).", nucleus)
    assert block.shifts == [7.51, 7.02]
    assert block.solvent == "CDCl3"


@pytest.mark.parametrize(
    ("solvent", "canonical"),
    [("[D7]DMF", "DMF-d7"), ("d6-acetone", "acetone-d6"), ("[D6]DMSO", "DMSO-d6")],
)
def test_solvent_spellings(solvent: str, canonical: str) -> None:
    (block,) = blocks(f"13C NMR (101 MHz, {solvent}) δ 160.2, 131.0, 115.4.", "13C")
    assert (block.shifts, block.solvent) == ([160.2, 131.0, 115.4], canonical)


def test_reference_values_in_the_conditions_are_not_peaks() -> None:
    text = "13C NMR (CD3OD, 25 °C, referenced to the solvent signal at δ 49.00) δ 174.0, 58.2."
    (block,) = blocks(text, "13C")
    assert block.shifts == [174.0, 58.2] and block.temperature_k == 298.15


def test_a_compound_number_after_the_header_is_not_a_peak() -> None:
    text = "The 1H NMR spectrum of 3 (CDCl3) showed δ 7.33 (s, 1H), 2.41 (s, 3H)."
    assert accepted(text, "1H") == [[7.33, 2.41]]


# --- per-peak annotations that carry numbers --------------------------------------------------


def test_couplings_outside_brackets_and_bare_labels_are_not_peaks() -> None:
    couplings = "13C NMR (CDCl3) δ 163.0, d, J = 248.5 Hz; 130.9, JC-F 8.4 Hz, 115.8; 41.0."
    (block,) = blocks(couplings, "13C")
    assert block.shifts == [163.0, 130.9, 115.8, 41.0]
    assert block.peaks[0].j_hz == (248.5,) and block.peaks[0].multiplicity == "d"
    labels = "13C NMR (CDCl3): C-1 171.2, C-2′/6′ 129.0, OCH3 51.8; 40.3 C-5, 22.0 CH3."
    assert accepted(labels, "13C") == [[171.2, 129.0, 51.8, 40.3, 22.0]]


def test_delta_delta_and_position_numbers_in_details_are_not_peaks() -> None:
    text = (
        "1H NMR (CDCl3) δ 4.30 and 3.98 (each 1H, d, J = 11.0 Hz, Δδ = 0.32, H2-7), 2.01 (s, 3H)."
    )
    assert accepted(text, "1H") == [[4.30, 3.98, 2.01]]
    prose = (
        "In the 1H NMR spectrum (CDCl3) the H2-7 protons appeared at δH 4.30 and 3.98 "
        "(Δδ = 0.32) and H-3′ at δH 6.95 (d, J = 2.0 Hz)."
    )
    assert accepted(prose, "1H") == [[4.30, 3.98, 6.95]]


def test_unbracketed_details_in_prose() -> None:
    text = (
        "The 1H NMR spectrum (CD3OD) showed a para-phenylene (δH 7.70, 2H, d, J = 8.5 Hz; 6.80, "
        "2H, d, J = 8.5 Hz)."
    )
    (block,) = blocks(text, "1H")
    assert block.shifts == [7.70, 6.80] and [p.count for p in block.peaks] == [2, 2]


# --- page furniture and typos ------------------------------------------------------------------


@pytest.mark.parametrize("furniture", ["S14", "S-3", "17", "Figure S9", "Fig. 4", "Page S3 of S22"])
def test_page_furniture_inside_a_list_is_skipped(furniture: str) -> None:
    text = f"13C NMR (CDCl3) δ 166.0, 142.1, 130.5, {furniture} 128.2, 60.8, 14.1."
    assert accepted(text, "13C") == [[166.0, 142.1, 130.5, 128.2, 60.8, 14.1]]


def test_decimal_comma_and_doubled_punctuation_are_read() -> None:
    text = "13C NMR (CDCl3) δ 150.3, 137,8, 125.1., 119.9,, 33.0."
    assert accepted(text, "13C") == [[150.3, 137.8, 125.1, 119.9, 33.0]]


@pytest.mark.parametrize("typo", ["7.3.1", "7.3 1", "7.3l", "7S.31"])
def test_an_unreadable_value_rejects_the_list(typo: str) -> None:
    text = f"1H NMR (CDCl3) δ 8.02 (d, J = 8.1 Hz, 2H), {typo} (m, 3H), 2.40 (s, 3H)."
    assert rejected(text, "1H").startswith(UNREADABLE)


def test_an_unreadable_first_value_rejects_the_list() -> None:
    assert rejected("1H NMR (CDCl3) δ 7.3.1 (m, 5H), 4.51 (s, 2H).", "1H").startswith(UNREADABLE)


def test_a_list_cut_short_at_a_comma_is_rejected() -> None:
    text = "13C NMR (CDCl3) δ 170.0, 135.2, {128.8, 128.1}, 21.0; HRMS m/z 240.1019."
    assert rejected(text, "13C") == f"{CUT_SHORT}: before 128.8"


def test_rejections_name_one_of_the_reasons() -> None:
    for row in load_prose():
        for block in parse_paragraph(row["paragraph"]):
            if block.reject_reason is not None:
                assert block.peaks == []
                assert block.reject_reason.partition(": ")[0] in REJECT_REASONS
