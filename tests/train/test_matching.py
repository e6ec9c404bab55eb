"""The count-mismatch policy on real molecules and real peak lists."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from rdkit import Chem

from litshift.chem.matching import (
    BRANCHES,
    SKIP_REASONS,
    MatchPlan,
    MatchSkip,
    plan_match,
)
from litshift.ingest.nmrshiftdb2 import parse_spectrum

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def litshift_mol(smiles: str) -> Chem.Mol:
    """The litshift atom order: AddHs of the canonical SMILES."""
    return Chem.AddHs(Chem.MolFromSmiles(Chem.CanonSmiles(smiles)))


def plan(smiles, nucleus, shifts, n_h=None, policy="litshift") -> MatchPlan | MatchSkip:
    """Run the policy and check the invariants every plan must satisfy."""
    mol = litshift_mol(smiles)
    result = plan_match(mol, nucleus, shifts, n_h, policy)
    if isinstance(result, MatchSkip):
        assert result.reason in SKIP_REASONS
        return result
    assert result.branch in BRANCHES
    assert len(result.groups) == len(result.targets)
    element = 1 if nucleus == "1H" else 6
    flat = [i for group in result.groups for i in group]
    assert len(flat) == len(set(flat)), "an atom sits in two groups"
    assert all(mol.GetAtomWithIdx(i).GetAtomicNum() == element for i in flat)
    assert sorted(result.targets) == sorted(
        s
        for s, n in zip(shifts, n_h or [1] * len(shifts), strict=True)
        for _ in range(n if result.branch.startswith("nh_") else 1)
    )
    return result


def sizes(result: MatchPlan) -> list[int]:
    return sorted(len(g) for g in result.groups)


# --- toluene: C0 methyl, C1 ipso, C2/C6 ortho, C3/C5 meta, C4 para; H7-9 methyl, H10-14 ring
@pytest.mark.parametrize(
    ("shifts", "expected"),
    [
        ([21.4, 137.8, 129.0, 128.2, 125.3, 128.2, 129.0], "exact"),
        ([21.4, 137.8, 129.0, 128.2, 125.3], "symmetry_classes"),
        ([21.4, 129.0, 128.2, 125.3, 128.2, 129.0], "count_between_classes_and_atoms"),
        ([21.4, 137.8, 129.0, 128.2], "fewer_peaks_than_classes"),
        ([21.4] * 8, "more_peaks_than_atoms"),
    ],
)
def test_toluene_13c(shifts, expected):
    result = plan("Cc1ccccc1", "13C", shifts)
    assert getattr(result, "branch", getattr(result, "reason", None)) == expected


def test_toluene_13c_classes_pair_ortho_and_meta_carbons():
    result = plan("Cc1ccccc1", "13C", [21.4, 137.8, 129.0, 128.2, 125.3])
    assert {frozenset(g) for g in result.groups} == {
        frozenset(s) for s in ({0}, {1}, {2, 6}, {3, 5}, {4})
    }


def test_toluene_1h_granularities():
    assert plan("Cc1ccccc1", "1H", [2.34, 7.17, 7.25, 7.14]).branch == "symmetry_classes"
    per_carbon = plan("Cc1ccccc1", "1H", [2.34, 7.17, 7.25, 7.14, 7.25, 7.17])
    assert per_carbon.branch == "heavy_atom_groups" and sizes(per_carbon) == [1] * 5 + [3]
    integrated = plan("Cc1ccccc1", "1H", [2.34, 7.2], n_h=[3, 5])
    assert integrated.branch == "nh_expanded" and sizes(integrated) == [1] * 8
    assert plan("Cc1ccccc1", "1H", [2.34, 7.2], n_h=[3, 5], policy="paper").branch == "nh_expanded"
    assert plan("Cc1ccccc1", "1H", [2.34, 7.2, 7.1, 7.0], policy="paper") == MatchSkip(
        "count_mismatch"
    )


def test_para_xylene_shares_peaks_between_symmetric_atoms():
    carbons = plan("Cc1ccc(C)cc1", "13C", [21.0, 134.7, 129.0])
    assert carbons.branch == "symmetry_classes" and sizes(carbons) == [2, 2, 4]
    protons = plan("Cc1ccc(C)cc1", "1H", [2.30, 7.05])
    assert protons.branch == "symmetry_classes" and sizes(protons) == [4, 6]
    assert plan("Cc1ccc(C)cc1", "1H", [2.30, 7.05], n_h=[6, 4]).branch == "nh_expanded"
    paper = plan("Cc1ccc(C)cc1", "13C", [21.0, 134.7, 129.0], policy="paper")
    assert paper.branch == "symmetry_representative" and sizes(paper) == [1, 1, 1]


def test_ethanol_with_and_without_the_oh_peak():
    with_oh = plan("CCO", "1H", [1.22, 3.69, 2.61])
    assert with_oh.branch == "symmetry_classes"
    assert {frozenset(g) for g in with_oh.groups} == {
        frozenset({3, 4, 5}),
        frozenset({6, 7}),
        frozenset({8}),
    }
    without_oh = plan("CCO", "1H", [1.22, 3.69])
    assert without_oh.branch == "symmetry_classes_no_exchangeable"
    assert 8 not in {i for g in without_oh.groups for i in g}
    assert plan("CCO", "1H", [1.22, 3.69], n_h=[3, 2]).branch == "nh_expanded_no_exchangeable"
    assert plan("CCO", "1H", [1.22, 3.69, 2.61], n_h=[3, 2, 1]).branch == "nh_expanded"
    assert plan("CCO", "1H", [1.22, 3.69], policy="paper") == MatchSkip("count_mismatch")
    assert plan("CCO", "1H", [1.22, 3.69], n_h=[3, 2], policy="paper") == MatchSkip(
        "count_mismatch"
    )


# --- 1H/13C lists as reported in literature/nmrextractor_train_1000.csv.gz (ranges -> midpoints)
def test_literature_list_with_integrations_and_an_nh_peak():
    smiles = "O=C(OCC)CCNCC=C"  # ethyl 3-(allylamino)propanoate, CDCl3
    shifts = [5.87, 5.17, 5.08, 4.12, 3.25, 2.87, 2.50, 1.77, 1.24]
    n_h = [1, 1, 1, 2, 2, 2, 2, 1, 3]
    assert plan(smiles, "1H", shifts, n_h).branch == "nh_expanded"
    no_nh = plan(smiles, "1H", shifts[:7] + shifts[8:], n_h[:7] + n_h[8:])
    assert no_nh.branch == "nh_expanded_no_exchangeable" and len(no_nh.groups) == 14
    carbons = [172.67, 136.40, 116.11, 60.39, 52.11, 44.31, 34.62, 14.16]
    assert plan(smiles, "13C", carbons).branch == "exact"


def test_literature_phenylacetic_acid():
    smiles = "O=C(O)CC1=CC=CC=C1"  # 1H: 3.57 (2H, s), 7.17-7.29 (5H, m); COOH not reported
    protons = plan(smiles, "1H", [3.57, 7.23], n_h=[2, 5])
    assert protons.branch == "nh_expanded_no_exchangeable"
    assert plan(smiles, "1H", [3.57, 7.23], n_h=[2, 5], policy="paper") == MatchSkip(
        "count_mismatch"
    )
    carbons = plan(smiles, "13C", [41.2, 127.5, 128.8, 129.5, 133.3, 178.1])
    assert carbons.branch == "symmetry_classes" and sizes(carbons) == [1, 1, 1, 1, 2, 2]


def test_literature_mismatch_skips_with_the_right_reason():
    smiles = "CC1=C(CC)C(C)=NN1"  # 4-ethyl-3,5-dimethylpyrazole: the tautomer breaks symmetry
    carbons = [141.5, 117.2, 16.3, 15.2, 10.8, 10.7]  # 6 peaks, 7 carbons in 7 classes
    assert plan(smiles, "13C", carbons) == MatchSkip("fewer_peaks_than_classes")
    protons = plan(smiles, "1H", [9.96, 2.34, 2.20, 1.04], n_h=[1, 2, 6, 3])
    assert protons.branch == "nh_expanded"  # integrations resolve the accidental overlap


def test_integrations_that_fit_nothing_are_reported_as_such():
    result = plan("CCO", "1H", [1.2, 3.7, 3.6, 2.6], n_h=[3, 2, 2, 1])
    assert result == MatchSkip("integration_count_mismatch")


def test_partial_integrations_fall_back_to_peak_counts():
    assert plan("CCO", "1H", [1.22, 3.69], n_h=[3, None]).branch == (
        "symmetry_classes_no_exchangeable"
    )


@pytest.mark.parametrize(
    ("nucleus", "shifts", "n_h", "reason"),
    [
        ("1H", [], None, "no_peaks"),
        ("1H", [1.0, float("nan")], None, "non_finite_shift"),
        ("1H", [1.0, 2.0], [3], "n_h_length_mismatch"),
        ("19F", [-63.0], None, "no_atoms_of_element"),
    ],
)
def test_unusable_inputs_skip(nucleus, shifts, n_h, reason):
    assert plan_match(litshift_mol("CCO"), nucleus, shifts, n_h) == MatchSkip(reason)


def test_unknown_policy_is_an_error():
    with pytest.raises(ValueError, match="policy"):
        plan_match(litshift_mol("CCO"), "1H", [1.0], None, policy="greedy")


@pytest.fixture(scope="module")
def toluene_record() -> dict:
    """NMRShiftDB2 record 10008613 (toluene) from the shared JSON-lines dump."""
    with gzip.open(DATA / "nmrshiftdb2" / "nmrshiftdb2_records.jsonl.gz", "rt") as handle:
        for line in handle:
            if '"nmrshiftdb2 ID": 10008613,' in line or line.rstrip().endswith("10008613}"):
                return json.loads(line)
    raise AssertionError("toluene record missing from the shared data")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("Spectrum 13C 0", "exact"),  # one entry per carbon
        ("Spectrum 13C 2", "count_between_classes_and_atoms"),  # ipso carbon not listed
        ("Spectrum 1H 6", "exact"),  # one entry per proton
    ],
)
def test_real_nmrshiftdb2_toluene_spectra(toluene_record, tag, expected):
    shifts = [peak.shift for peak in parse_spectrum(toluene_record[tag])]
    nucleus = tag.split()[1]
    result = plan(toluene_record["SMILES"], nucleus, shifts)
    assert getattr(result, "branch", getattr(result, "reason", None)) == expected
