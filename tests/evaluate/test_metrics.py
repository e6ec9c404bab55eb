"""Evaluation metrics: bootstrap intervals, sorted matching, environments, similarity bins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from rdkit import Chem

from litshift.chem.matching import MatchPlan, MatchSkip, plan_match
from litshift.evaluate.metrics import (
    atom_environment,
    bin_labels,
    error_summary,
    fingerprints,
    max_similarity,
    pooled_sorted_pairs,
    similarity_bins,
    sorted_pairs,
)

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False)


def test_mae_and_rmse_are_the_plain_formulas() -> None:
    summary = error_summary(np.array([1.0, -1.0, 2.0, -2.0]), np.array([0, 0, 1, 1]))
    assert summary.mae == pytest.approx(1.5)
    assert summary.rmse == pytest.approx(math.sqrt(2.5))
    assert (summary.n, summary.n_clusters) == (4, 2)


def test_bootstrap_resamples_molecules_not_atoms() -> None:
    # two molecules of 100 atoms each, every atom of a molecule wrong by the same amount: with
    # two independent units, a quarter of the replicates see only one of them
    errors = np.r_[np.full(100, 1.0), np.full(100, 3.0)]
    clusters = np.r_[np.zeros(100), np.ones(100)]
    summary = error_summary(errors, clusters, n_boot=2000, seed=1)
    assert summary.mae == pytest.approx(2.0)
    assert summary.mae_ci == pytest.approx((1.0, 3.0))


def test_bootstrap_is_seeded() -> None:
    rng = np.random.default_rng(0)
    errors, clusters = rng.normal(size=300), rng.integers(0, 40, 300)
    first = error_summary(errors, clusters, seed=7)
    assert error_summary(errors, clusters, seed=7) == first
    assert error_summary(errors, clusters, seed=8).mae_ci != first.mae_ci
    assert first.mae == error_summary(errors, clusters, seed=8).mae


def test_molecule_weights_give_each_molecule_one_vote() -> None:
    errors = np.array([1.0, 3.0, 3.0, 3.0])
    clusters = np.array(["a", "b", "b", "b"])
    weights = np.array([1.0, 1 / 3, 1 / 3, 1 / 3])
    assert error_summary(errors, clusters, weights).mae == pytest.approx(2.0)
    assert error_summary(errors, clusters).mae == pytest.approx(2.5)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 60), elements=finite), st.integers(1, 8), st.integers())
def test_interval_lies_between_the_best_and_worst_molecule(errors, n_clusters, seed) -> None:
    clusters = np.arange(errors.size) % n_clusters
    summary = error_summary(errors, clusters, n_boot=200, seed=abs(seed))
    per_cluster = [np.abs(errors[clusters == c]).mean() for c in np.unique(clusters)]
    lo, hi = summary.mae_ci
    assert min(per_cluster) - 1e-9 <= lo <= hi <= max(per_cluster) + 1e-9
    assert summary.rmse >= summary.mae - 1e-9


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="same length"):
        error_summary(np.ones(3), np.zeros(2))
    with pytest.raises(ValueError, match="no errors"):
        error_summary(np.ones(0), np.zeros(0))
    with pytest.raises(ValueError, match="non-finite"):
        error_summary(np.array([1.0, np.nan]), np.zeros(2))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_sorted_pairing_is_the_best_assignment(data) -> None:
    n = data.draw(st.integers(1, 12))
    predicted = data.draw(arrays(np.float64, n, elements=finite))
    observed = data.draw(arrays(np.float64, n, elements=finite))
    order, pred_sorted, obs_sorted = sorted_pairs(predicted, observed)
    np.testing.assert_array_equal(predicted[order], pred_sorted)
    assert np.all(np.diff(pred_sorted) >= 0) and np.all(np.diff(obs_sorted) >= 0)
    permutation = data.draw(st.permutations(range(n)))
    sorted_mae = np.abs(pred_sorted - obs_sorted).mean()
    assert sorted_mae <= np.abs(predicted - observed[list(permutation)]).mean() + 1e-9


P_CRESOL = "Cc1ccc(O)cc1"  # litshift order: C0 H3C, C1, C2/C7 and C3/C6 symmetric, C4-O5H


def test_symmetric_carbons_are_pooled_before_sorting() -> None:
    mol_h = Chem.AddHs(Chem.MolFromSmiles(P_CRESOL))
    plan = plan_match(mol_h, "13C", [20.4, 130.1, 130.0, 115.2, 153.2], None)
    assert isinstance(plan, MatchPlan) and plan.branch == "symmetry_classes"
    predictions = np.zeros(mol_h.GetNumAtoms())
    predictions[[0, 1, 2, 7, 3, 6, 4]] = [21.0, 129.0, 131.0, 129.0, 116.0, 114.0, 155.0]
    groups, predicted, observed = pooled_sorted_pairs(plan, predictions)
    assert groups == [[0], [3, 6], [1], [2, 7], [4]]
    np.testing.assert_allclose(predicted, [21.0, 115.0, 129.0, 130.0, 155.0])
    np.testing.assert_allclose(observed, [20.4, 115.2, 130.0, 130.1, 153.2])


def test_missing_exchangeable_proton_is_left_out() -> None:
    mol_h = Chem.AddHs(Chem.MolFromSmiles(P_CRESOL))
    hydroxyl = 13
    assert mol_h.GetAtomWithIdx(hydroxyl).GetNeighbors()[0].GetSymbol() == "O"
    plan = plan_match(mol_h, "1H", [2.28, 7.03, 6.75], [3, 2, 2])
    assert plan.branch == "nh_expanded_no_exchangeable"
    predictions = np.full(mol_h.GetNumAtoms(), 7.0)
    predictions[[8, 9, 10]] = 2.0
    predictions[hydroxyl] = 100.0  # never paired: the OH peak is not in the list
    groups, predicted, observed = pooled_sorted_pairs(plan, predictions)
    assert hydroxyl not in {a for g in groups for a in g}
    mae = np.abs(predicted - observed).mean()
    assert mae == pytest.approx((3 * 0.28 + 2 * 0.03 + 2 * 0.25) / 7)
    assert plan_match(mol_h, "13C", [20.4, 130.0], None) == MatchSkip("fewer_peaks_than_classes")


def test_atom_environments() -> None:
    mol_h = Chem.AddHs(Chem.MolFromSmiles("CC(=O)Nc1ccc(C=O)cc1C#CC(C)(C)C=C"))
    categories = {}
    for atom in mol_h.GetAtoms():
        categories.setdefault(atom_environment(mol_h, atom.GetIdx()), set()).add(atom.GetSymbol())
    assert categories == {
        "CH3": {"C", "H"},
        "carbonyl C": {"C"},
        "other O": {"O"},
        "other N": {"N"},
        "NH/OH/SH": {"H"},
        "aromatic C": {"C"},
        "aromatic CH": {"C", "H"},
        "aldehyde CHO": {"H"},
        "alkyne/nitrile C": {"C"},
        "quaternary C": {"C"},
        "alkene/imine C": {"C"},
        "alkene/imine CH": {"H"},
    }
    isopropanol = Chem.AddHs(Chem.MolFromSmiles("CC(C)O"))
    assert [atom_environment(isopropanol, i) for i in (0, 1, 4, 7)] == ["CH3", "CH", "CH3", "CH"]


def test_similarity_to_the_training_set_and_bins() -> None:
    train = fingerprints(Chem.MolFromSmiles(s) for s in ["c1ccccc1O", "CCCCCC"])
    queries = fingerprints(Chem.MolFromSmiles(s) for s in ["c1ccccc1O", "Cc1ccccc1O", "N#N"])
    similarity = max_similarity(queries, train)
    assert similarity[0] == 1.0 and 0.0 < similarity[1] < 1.0 and similarity[2] == 0.0
    assert max_similarity(queries, []).tolist() == [0.0, 0.0, 0.0]
    assert bin_labels([0.5, 0.7]) == ["<0.5", "0.5-0.7", ">=0.7"]
    assert similarity_bins([0.0, 0.4999, 0.5, 0.69, 0.7, 1.0], [0.5, 0.7]) == [
        "<0.5",
        "<0.5",
        "0.5-0.7",
        "0.5-0.7",
        ">=0.7",
        ">=0.7",
    ]
    with pytest.raises(ValueError, match="increasing"):
        bin_labels([0.7, 0.5])
