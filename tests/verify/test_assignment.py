"""Matching observed peaks to atoms: symmetric molecules, integrations, missing and extra peaks."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from litshift.chem.symmetry import element_classes
from litshift.verify.assignment import assign
from litshift.verify.likelihood import ErrorModel
from litshift.verify.peaks import PeakList

GAUSSIAN = ErrorModel("gaussian")


def _mol(smiles: str) -> Chem.Mol:
    return Chem.AddHs(Chem.MolFromSmiles(smiles))


def _exact(mol_h: Chem.Mol, atomic_number: int, values: list[float]) -> np.ndarray:
    """Predictions equal to ``values`` per symmetry class (classes in first-atom order)."""
    mean = np.full(mol_h.GetNumAtoms(), np.nan)
    for value, group in zip(values, element_classes(mol_h, atomic_number), strict=True):
        mean[group] = value
    return mean


def _std(mean: np.ndarray, value: float = 1.0) -> np.ndarray:
    return np.where(np.isnan(mean), np.nan, value)


def test_toluene_13c_one_peak_per_symmetry_class() -> None:
    mol_h = _mol("Cc1ccccc1")  # 7 carbons, 5 classes
    classes = element_classes(mol_h, 6)
    truth = [21.5, 137.9, 129.1, 128.3, 125.4]
    mean = _exact(mol_h, 6, truth)
    peaks = PeakList("13C", (137.9, 129.1, 128.3, 125.4, 21.5), (None,) * 5)
    result = assign(mol_h, peaks, mean, _std(mean), GAUSSIAN)
    assert result.branch == "symmetry_classes"
    assert len(result.matches) == 5
    for match in result.matches:
        assert match.error == pytest.approx(0.0)
        assert list(match.atoms) in classes
        assert peaks.shifts[match.peak_index] == match.observed
    # the two ortho carbons share the 129.1 peak
    ortho = next(m for m in result.matches if m.observed == 129.1)
    assert len(ortho.atoms) == 2
    assert result.log_likelihood == pytest.approx(5 * -0.5 * np.log(2 * np.pi))


def test_p_xylene_fewer_peaks_than_atoms_for_both_nuclei() -> None:
    mol_h = _mol("Cc1ccc(C)cc1")
    carbon = _exact(mol_h, 6, [21.0, 134.7, 129.0])
    result = assign(
        mol_h, PeakList("13C", (129.0, 134.7, 21.0), (None,) * 3), carbon, _std(carbon), GAUSSIAN
    )
    assert result.branch == "symmetry_classes"
    assert sorted(len(m.atoms) for m in result.matches) == [2, 2, 4]
    hydrogen = _exact(mol_h, 1, [2.30, 7.05])
    # integrations: every H gets its own row
    expanded = assign(
        mol_h, PeakList("1H", (7.05, 2.30), (4, 6)), hydrogen, _std(hydrogen), GAUSSIAN
    )
    assert expanded.branch == "nh_expanded"
    assert len(expanded.matches) == 10
    assert {m.peak_index for m in expanded.matches if m.observed == 2.30} == {1}
    # without integrations: one peak per class
    plain = assign(
        mol_h, PeakList("1H", (7.05, 2.30), (None, None)), hydrogen, _std(hydrogen), GAUSSIAN
    )
    assert plain.branch == "symmetry_classes"
    assert sorted(len(m.atoms) for m in plain.matches) == [4, 6]


def test_missing_peak_falls_back_to_a_partial_assignment() -> None:
    mol_h = _mol("Cc1ccccc1")
    mean = _exact(mol_h, 6, [21.5, 137.9, 129.1, 128.3, 125.4])
    # the quaternary carbon (137.9) is not observed: 4 peaks for 5 classes
    peaks = PeakList("13C", (129.1, 128.3, 125.4, 21.5), (None,) * 4)
    model = ErrorModel("gaussian", missing_probability=0.1)
    result = assign(mol_h, peaks, mean, _std(mean, 0.5), model)
    assert result.branch == "partial:fewer_peaks_than_classes"
    missing = [m for m in result.matches if m.observed is None]
    assert len(missing) == 1 and missing[0].predicted == pytest.approx(137.9)
    assert missing[0].log_likelihood == pytest.approx(np.log(0.1))
    assert all(m.error == pytest.approx(0.0) for m in result.matches if m.observed is not None)


def test_extra_peak_is_unexplained_and_exchangeable_protons_miss_for_free() -> None:
    mol_h = _mol("CCO")  # classes: CH3, CH2, OH
    mean = _exact(mol_h, 1, [1.22, 3.69, 2.6])
    model = ErrorModel("gaussian")
    # two impurities and no OH peak: 4 peaks fit no rule of the policy; the best explanation
    # leaves OH missing and the impurities unexplained
    peaks = PeakList("1H", (5.30, 3.69, 1.22, 0.88), (None,) * 4)
    result = assign(mol_h, peaks, mean, _std(mean, 0.05), model)
    assert result.branch.startswith("partial:")
    unexplained = sorted(m.observed for m in result.matches if not m.atoms)
    assert unexplained == [0.88, 5.30]
    missing = [m for m in result.matches if m.observed is None]
    assert len(missing) == 1 and missing[0].log_likelihood == 0.0
    window = model.windows["1H"][1] - model.windows["1H"][0]
    assert result.log_likelihood == pytest.approx(
        2 * -np.log(window) + 2 * (-0.5 * np.log(2 * np.pi) - np.log(0.05))
    )


def test_an_atom_without_prediction_is_an_error() -> None:
    mol_h = _mol("CCO")
    mean = _exact(mol_h, 6, [18.0, 58.0])
    mean[0] = np.nan
    with pytest.raises(ValueError, match="no 13C prediction"):
        assign(mol_h, PeakList("13C", (18.0, 58.0), (None, None)), mean, _std(mean), GAUSSIAN)


def test_an_integrated_multiplet_covers_several_classes_in_the_partial_branch() -> None:
    """Toluene's 1H list against ethylbenzene: 8 integrated protons for 10, so no rule fits. The
    5H aromatic multiplet must explain all five ring protons (three classes), and what stays
    without a peak costs log(missing_probability) per missing class."""
    mol_h = _mol("CCc1ccccc1")  # 1H classes: CH3, CH2, ortho, meta, para
    mean = _exact(mol_h, 1, [1.24, 2.65, 7.20, 7.28, 7.18])
    model = ErrorModel("gaussian", missing_probability=0.1)
    peaks = PeakList("1H", (7.21, 2.35), (5, 3))
    result = assign(mol_h, peaks, mean, _std(mean, 0.3), model)
    assert result.branch.startswith("partial:")
    ring = [a.GetIdx() for a in mol_h.GetAtoms() if a.GetAtomicNum() == 1 and a.GetIdx() >= 13]
    multiplet = next(m for m in result.matches if m.observed == 7.21)
    assert sorted(multiplet.atoms) == ring
    # 2.35 (3H) is explained by protons of one or both aliphatic classes; the rest is missing
    # or unexplained, and every proton and every slot is accounted for exactly once
    aliphatic = [m for m in result.matches if m.observed == 2.35 and m.atoms]
    missing = [m for m in result.matches if m.observed is None]
    assert sum(len(m.atoms) for m in aliphatic + missing) == 5
    methyl, methylene = {8, 9, 10}, {11, 12}
    for m in missing:
        size = 3 if set(m.atoms) <= methyl else 2
        assert set(m.atoms) <= (methyl if size == 3 else methylene)
        assert m.log_likelihood == pytest.approx(np.log(0.1) * len(m.atoms) / size)
