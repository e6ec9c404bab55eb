"""Consistency filters, one test per reject reason, on real rows of nmrextractor_train_1000."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from litshift.chem.molecules import MoleculeError
from litshift.ingest import literature_filters as F
from litshift.ingest.literature import Peak, Spectrum, parse_paragraph
from tests.conftest import LIT_TRAIN

CONFIG = F.FilterConfig()


@pytest.fixture(scope="module")
def train() -> pl.DataFrame:
    return pl.read_csv(LIT_TRAIN, infer_schema_length=0, columns=["Paragraph", "SMILES"])


def check(block: Spectrum, smiles: str, config: F.FilterConfig = CONFIG) -> F.Verdict:
    """The verdict ingest-literature gives a parsed block."""
    return F.check_spectrum(
        block.nucleus,
        block.peaks,
        block.solvent,
        F.molecule_info(smiles),
        config,
        (block.solvent_raw, block.reference),
    )


def verdict(
    train: pl.DataFrame, row: int, nucleus: str, config: F.FilterConfig = CONFIG
) -> F.Verdict:
    paragraph, smiles = train.row(row)
    block = max(
        (s for s in parse_paragraph(paragraph) if s.nucleus == nucleus), key=lambda s: len(s.peaks)
    )
    return check(block, smiles, config)


def test_molecule_info_counts_and_symmetry() -> None:
    info = F.molecule_info("O=CC1=CC=C(OCCCCCCCCCCCC)C=C1")  # row 31
    assert info.atom_counts["C"] == 19 and info.atom_counts["H"] == 30
    assert info.distinct_carbons == 17  # the ortho and meta ring carbons pair up
    assert info.exchangeable_h == 0
    assert F.molecule_info("NCCCN1CCCCC1").exchangeable_h == 2  # row 143
    assert info.smiles == "CCCCCCCCCCCCOc1ccc(C=O)cc1"


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("N/A", "missing SMILES"),  # row 0
        # row 126: a five-valent nitrogen
        ("[NH3+]N12(CCCCC2)CCC(N)=N1.O=S(C3=CC=CC=C3[N+]([O-])=O)([O-])=O", "invalid SMILES"),
    ],
)
def test_unusable_smiles(smiles: str, reason: str) -> None:
    with pytest.raises(MoleculeError, match=reason):
        F.molecule_info(smiles)


def test_ok_spectrum(train: pl.DataFrame) -> None:
    assert verdict(train, 25, "1H") == F.Verdict(F.OK)
    assert verdict(train, 25, "13C") == F.Verdict(F.OK)


def test_no_peak_list() -> None:
    assert F.check_spectrum("1H", [], "CDCl3", F.molecule_info("CCO"), CONFIG).status == F.NO_PEAKS


def test_integration_and_carbon_count_against_a_wrong_structure(train: pl.DataFrame) -> None:
    # Row 27 describes a tetrakis(4-methoxybenzyl) ether; its SMILES column holds the
    # deprotected benzoate, so both lists are far too long for that formula.
    h = verdict(train, 27, "1H")
    assert (h.status, h.detail) == (F.INTEGRATION, "30 H integrated, formula has 16")
    c = verdict(train, 27, "13C")
    assert (c.status, c.detail) == (F.CARBON_EXCESS, "18 carbons listed, 13 in the formula")


def test_too_few_carbon_peaks_and_its_tolerance(train: pl.DataFrame) -> None:
    # Row 31: a dodecyl chain whose CH2 signals overlap (14 peaks, 17 distinct carbons).
    assert verdict(train, 31, "13C").status == F.CARBON_DEFICIT
    lenient = F.FilterConfig(carbon_deficit_tolerance=3)
    assert verdict(train, 31, "13C", lenient).status == F.OK


def test_integration_allows_missing_exchangeable_protons() -> None:
    mol = F.molecule_info("NCCCN1CCCCC1")  # 18 H, 2 on N
    peaks = [Peak(1.5, 1.5, 1.5, count=16)]
    assert F.check_spectrum("1H", peaks, "CDCl3", mol, CONFIG).status == F.OK
    peaks = [Peak(1.5, 1.5, 1.5, count=14)]
    assert F.check_spectrum("1H", peaks, "CDCl3", mol, CONFIG).status == F.INTEGRATION
    # an unintegrated peak makes a low total inconclusive
    peaks = [Peak(1.5, 1.5, 1.5, count=14), Peak(2.3, 2.3, 2.3)]
    assert F.check_spectrum("1H", peaks, "CDCl3", mol, CONFIG).status == F.OK


def test_carbon_count_sums_multipliers() -> None:
    mol = F.molecule_info("c1ccccc1C")  # 7 carbons, 5 distinct
    listed = [Peak(128.4, 128.4, 128.4, count=2), Peak(129.0, 129.0, 129.0, count=2)]
    complete = [*listed, Peak(125.3, 125.3, 125.3), Peak(137.8, 137.8, 137.8)]
    assert F.check_spectrum("13C", complete, "CDCl3", mol, CONFIG).status == F.OK
    padded = [*complete, Peak(21.4, 21.4, 21.4, count=3)]  # 9 carbons listed for 7
    v = F.check_spectrum("13C", padded, "CDCl3", mol, CONFIG)
    assert (v.status, v.detail) == (F.CARBON_EXCESS, "9 carbons listed, 7 in the formula")


def test_shift_outside_window(train: pl.DataFrame) -> None:
    # Row 242 writes "2. 30 (t, ...)": read as 2.0 and 30, and 30 ppm is no 1H shift.
    v = verdict(train, 242, "1H")
    assert (v.status, v.detail) == ("shift outside plausible window", "1H 30 not in [-5, 20]")


def test_nucleus_absent(train: pl.DataFrame) -> None:
    # Row 384 reports 31P and 29Si spectra for a structure without P or Si.
    assert verdict(train, 384, "31P").status == F.NUCLEUS_ABSENT


def test_solvent_residual_peaks_are_flagged(train: pl.DataFrame) -> None:
    # Row 143 lists the CDCl3 triplet "76.8, 77.2, 77.5" as compound peaks.
    v = verdict(train, 143, "13C")
    assert (v.status, v.flags) == (F.RESIDUAL, ("solvent residual 77.2",))
    kept = verdict(train, 143, "13C", F.FilterConfig(reject_residual=False))
    assert (kept.status, kept.flags) == (F.CARBON_EXCESS, ("solvent residual 77.2",))


def test_residual_needs_a_single_unintegrated_line() -> None:
    peaks = [
        Peak(7.26, 7.26, 7.26, "d", count=2),
        Peak(7.255, 7.18, 7.33, "m"),
        Peak(2.50, 2.50, 2.50),
    ]
    assert F.residual_hits(peaks, "CDCl3", "1H", 0.005) == []
    assert F.residual_hits(peaks, "DMSO-d6", "1H", 0.005) == [2.50]
    assert F.residual_hits([Peak(7.26, 7.26, 7.26)], "CDCl3", "1H", 0.005) == [7.26]


def test_duplicates_are_merged_into_the_first(train: pl.DataFrame) -> None:
    # Rows 162 and 636 are the same paragraph in two records.
    index = F.DuplicateIndex(CONFIG.duplicate_tolerance)
    for row in (162, 636):
        paragraph, smiles = train.row(row)
        smiles = F.molecule_info(smiles).smiles
        for s in parse_paragraph(paragraph):
            first = index.first_copy(smiles, s.nucleus, s.solvent, s.shifts, f"r{row}")
            assert first == (None if row == 162 else "r162")


@given(
    st.lists(st.floats(0, 12, allow_nan=False), min_size=1, max_size=20),
    st.randoms(),
    st.floats(0, 0.009),
)
def test_duplicate_detection_ignores_order_and_small_noise(shifts, rng, noise) -> None:
    index = F.DuplicateIndex({"1H": 0.01})
    assert index.first_copy("C", "1H", "CDCl3", shifts, "a") is None
    copy = [s + noise for s in shifts]
    rng.shuffle(copy)
    assert index.first_copy("C", "1H", "CDCl3", copy, "b") == "a"
    assert index.first_copy("C", "1H", "CD3OD", copy, "c") is None  # another solvent
    assert index.first_copy("C", "1H", "CDCl3", [*copy, 1.0], "d") is None  # another count


# Paragraphs written for these tests: the shared files hold one 19F list referenced to another
# compound (train_1000 row 660, "19F-NMR (CDCl3, C6F6)"), none to TFA, PhCF3 or a 31P one.
FLUORO = "FC(F)(F)c1ccc(F)cc1"  # 1-fluoro-4-(trifluoromethyl)benzene
TPPO = "O=P(c1ccccc1)(c1ccccc1)c1ccccc1"  # triphenylphosphine oxide
REFERENCED = [
    (
        "19F NMR (376 MHz, CDCl3, external TFA) δ 13.6 (s, 3F), -30.5 (m, 1F).",
        FLUORO,
        "19F referenced to TFA, not CFCl3",
    ),
    (
        "19F NMR (282 MHz, acetone-d6; PhCF3 as internal standard, δ 0.00) δ 1.2 (s, 3F).",
        FLUORO,
        "19F referenced to PhCF3, not CFCl3",
    ),
    (
        "31P{1H} NMR (121 MHz, CDCl3, P(OMe)3 as external reference) δ -111.0.",
        TPPO,
        "31P referenced to P(OMe)3, not H3PO4",
    ),
    (
        "19F NMR (376 MHz, CDCl3, CFCl3 as internal standard) δ -62.9 (s, 3F), -106.8 (m, 1F).",
        FLUORO,
        None,
    ),
    (
        "19F NMR (470 MHz, CDCl3, C6F6 as internal standard at −164.9 ppm) δ -62.9 (s, 3F), "
        "-106.8 (m, 1F).",
        FLUORO,
        None,
    ),
    ("31P{1H} NMR (162 MHz, CDCl3, 85% H3PO4 as external standard) δ 29.2.", TPPO, None),
    ("31P NMR (CDCl3) δ 29.1.", TPPO, None),
]


@pytest.mark.parametrize(("paragraph", "smiles", "detail"), REFERENCED)
def test_lists_on_another_shift_scale_are_rejected(
    paragraph: str, smiles: str, detail: str | None
) -> None:
    expected = F.Verdict(F.REFERENCE, detail) if detail else F.Verdict(F.OK)
    assert check(*parse_paragraph(paragraph), smiles) == expected


def test_the_reference_check_is_per_configured_nucleus(train: pl.DataFrame) -> None:
    paragraph, smiles, _ = REFERENCED[0]
    unchecked = F.FilterConfig(reference_standards={})
    assert check(*parse_paragraph(paragraph), smiles, unchecked).status == F.OK
    # TFA in the conditions of a 1H list is a co-solvent: 1H is not checked
    (block,) = parse_paragraph("1H NMR (400 MHz, CDCl3/TFA) δ 7.70-7.45 (m, 15H).")
    assert check(block, TPPO).status == F.OK
    # the one real case: C6F6 named beside the solvent, without its CFCl3-scale value
    assert verdict(train, 660, "19F") == F.Verdict(F.REFERENCE, "19F referenced to C6F6, not CFCl3")
