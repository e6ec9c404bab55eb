"""DP4-style probabilities: normalised, order-invariant, and the exact structure wins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem
from scipy import stats

from litshift.chem.symmetry import element_classes
from litshift.verify.likelihood import ErrorModel
from litshift.verify.peaks import PeakList
from litshift.verify.scoring import COMBINED, dp4_probabilities, ranks, score_candidates

NUCLEI = ("1H", "13C")
#: the true structure first, then same-formula isomers (C8H10) and a symmetric one
CANDIDATES = ("CCc1ccccc1", "Cc1ccc(C)cc1", "Cc1cccc(C)c1", "Cc1ccccc1C")
log_likelihoods = st.lists(
    st.floats(min_value=-1e4, max_value=1e3, allow_nan=False), min_size=1, max_size=12
)


@given(log_likelihoods)
def test_probabilities_sum_to_one_and_follow_the_likelihood(values: list[float]) -> None:
    p = dp4_probabilities(values)
    assert p.sum() == pytest.approx(1.0)
    assert np.all((p >= 0) & (p <= 1))
    assert p[int(np.argmax(values))] == pytest.approx(p.max())


@given(log_likelihoods, st.randoms(use_true_random=False))
def test_probabilities_do_not_depend_on_candidate_order(values, rng) -> None:
    order = list(range(len(values)))
    rng.shuffle(order)
    p = dp4_probabilities(values)
    shuffled = dp4_probabilities([values[i] for i in order])
    assert np.allclose(shuffled, p[order])


def test_unscored_candidates_stay_out_of_the_normalisation() -> None:
    p = dp4_probabilities([0.0, float("nan"), 0.0])
    assert np.isnan(p[1]) and p[0] == pytest.approx(0.5) and p[2] == pytest.approx(0.5)
    assert ranks(p) == [2, None, 2]
    assert ranks([0.5, 0.5, 0.0]) == [2, 2, 3]  # a tie counts against each candidate in it
    assert ranks([0.1, 0.7, 0.2]) == [3, 1, 2]


def test_error_model_densities() -> None:
    errors, std = np.array([-1.0, 0.0, 2.5]), np.array([0.5, 1.0, 2.0])
    gaussian = ErrorModel("gaussian").log_density(errors, std)
    assert np.allclose(gaussian, stats.norm.logpdf(errors, scale=std))
    student = ErrorModel("student_t", dof=4).log_density(errors, std)
    assert np.allclose(student, stats.t.logpdf(errors, 4, scale=std))
    assert ErrorModel().unexplained_log_density("13C") == pytest.approx(-math.log(300))
    with pytest.raises(ValueError):
        ErrorModel("laplace")
    with pytest.raises(ValueError):
        ErrorModel(missing_probability=1.0)


def _mols() -> list[Chem.Mol]:
    return [Chem.AddHs(Chem.MolFromSmiles(s)) for s in CANDIDATES]


def _class_values(mol_h: Chem.Mol, atomic_number: int, values: np.ndarray) -> np.ndarray:
    """Per atom: the value of its symmetry class (``values`` cycled over the classes)."""
    out = np.full(mol_h.GetNumAtoms(), np.nan)
    for i, group in enumerate(element_classes(mol_h, atomic_number)):
        out[group] = values[i % len(values)]
    return out


def _predictions(mol_h: Chem.Mol, h: np.ndarray, c: np.ndarray, std: float):
    mean = np.stack([_class_values(mol_h, 1, h), _class_values(mol_h, 6, c)], axis=1)
    return mean, np.where(np.isnan(mean), np.nan, std)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(0.5, 8.0), min_size=6, max_size=6),
    st.lists(st.floats(10.0, 160.0), min_size=8, max_size=8),
    st.floats(0.2, 2.0),
    st.randoms(use_true_random=False),
)
def test_exact_predictions_make_the_true_structure_win(h, c, std, rng) -> None:
    """Observed = the true candidate's predictions: it ranks first (ties allowed) whatever the
    decoys predict, for each nucleus and both together, in any candidate order."""
    mols = _mols()
    predictions = [
        _predictions(m, np.asarray(h) + i * 0.37, np.asarray(c) + i * 3.1, std)
        for i, m in enumerate(mols)
    ]
    sizes = {n: len(element_classes(mols[0], z)) for n, z in (("1H", 1), ("13C", 6))}
    peaks = {
        n: PeakList(n, tuple(values[: sizes[n]]), (None,) * sizes[n])
        for n, values in (("1H", h), ("13C", c))
    }
    order = list(range(len(mols)))
    rng.shuffle(order)
    scores = score_candidates(
        [mols[i] for i in order],
        [predictions[i][0] for i in order],
        [predictions[i][1] for i in order],
        NUCLEI,
        peaks,
        ErrorModel("gaussian"),
    )
    true_position = order.index(0)
    for key in [*NUCLEI, COMBINED]:
        p = [s.probability[key] for s in scores]
        assert sum(p) == pytest.approx(1.0)
        assert p[true_position] == pytest.approx(max(p))
    reference = score_candidates(
        mols,
        [p[0] for p in predictions],
        [p[1] for p in predictions],
        NUCLEI,
        peaks,
        ErrorModel("gaussian"),
    )
    for position, index in enumerate(order):
        assert scores[position].probability[COMBINED] == pytest.approx(
            reference[index].probability[COMBINED]
        )


def test_a_candidate_without_predictions_is_unscored_not_dropped() -> None:
    mols = _mols()[:2]
    predictions = [
        _predictions(m, np.array([1.0, 7.0]), np.array([20.0, 130.0]), 1.0) for m in mols
    ]
    predictions[1][0][:, 1] = np.nan  # no 13C prediction for candidate 1
    peaks = {"13C": PeakList("13C", (20.0, 130.0), (None, None))}
    scores = score_candidates(
        mols,
        [p[0] for p in predictions],
        [p[1] for p in predictions],
        NUCLEI,
        peaks,
        ErrorModel(),
    )
    assert scores[0].probability["13C"] == pytest.approx(1.0)
    assert math.isnan(scores[1].probability["13C"]) and "13C" in scores[1].unscored
    with pytest.raises(ValueError, match="no predictions"):
        score_candidates(mols, [], [], ("1H",), peaks, ErrorModel())
