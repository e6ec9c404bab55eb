"""Predictors behind one interface: NaN outside their element, atom order kept."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest
import torch

from litshift.chem.conformers import embed_geometry
from litshift.chem.hose import HoseModel
from litshift.chem.molecules import molecule_key
from litshift.data.datasets import LabeledExample, Structure
from litshift.inference.predictors import (
    Csp5Predictor,
    HosePredictor,
    ModelPredictor,
    csp5_version,
    fit_calibration_on,
)
from litshift.inference.uncertainty import Calibration
from litshift.model.transformer import ModelConfig, ShiftTransformer
from tests.training_data import TEST_MODEL

NUCLEI = ("1H", "13C")
METHYL_BENZOATE = "COC(=O)c1ccccc1"  # litshift order: C0 methyl, O1, C2 carbonyl, O3, ring


def _structure(smiles: str, solvent_class: int = 0) -> Structure:
    geometry = embed_geometry(smiles)
    return Structure(
        key=molecule_key(smiles),
        smiles=smiles,
        atomic_numbers=np.asarray(geometry.atomic_numbers, dtype=np.int64),
        coords=np.asarray(geometry.coords, dtype=np.float32).reshape(-1, 3),
        solvent_class=solvent_class,
    )


@pytest.fixture(scope="module")
def structures() -> list[Structure]:
    return [_structure(METHYL_BENZOATE), _structure("ClC(Cl)(Cl)Cl", 1)]


def _check_elements(structure: Structure, values: np.ndarray) -> None:
    assert values.shape == (len(structure.atomic_numbers), len(NUCLEI))
    for k, atomic_number in enumerate((1, 6)):
        np.testing.assert_array_equal(
            np.isfinite(values[:, k]), structure.atomic_numbers == atomic_number
        )


def test_hose_predicts_every_atom_of_the_nucleus(structures) -> None:
    train = [(METHYL_BENZOATE, "13C", [(0, 52.0), (2, 167.0)])]
    predictor = HosePredictor(HoseModel(max_radius=3).fit(train), NUCLEI)
    benzoate, chloroform = predictor.predict(structures, ["CDCl3", "DMSO-d6"])
    assert np.isnan(benzoate[:, 0]).all()  # not fitted on 1H
    assert benzoate[0, 1] == 52.0 and benzoate[2, 1] == 167.0
    assert np.isfinite(chloroform[1, 1])  # the carbon: element mean
    assert np.isnan(chloroform[:, 0]).all()


def test_model_predictions_are_masked_to_the_element(structures) -> None:
    torch.manual_seed(0)
    model = ShiftTransformer(ModelConfig(**TEST_MODEL, nuclei=("13C", "1H"))).eval()
    predictor = ModelPredictor("m", (model,), NUCLEI, torch.device("cpu"), batch_size=1)
    benzoate, chloroform = predictor.predict(structures, ["CDCl3", "DMSO-d6"])
    _check_elements(structures[0], benzoate)
    assert np.isfinite(chloroform[1, 1]) and np.isnan(chloroform[:, 0]).all()
    # the model's own nucleus order (13C first) is mapped onto the evaluated order
    assert not np.allclose(benzoate[0, 1], benzoate[8, 0])


@pytest.mark.skipif(csp5_version() is None, reason="csp5 not installed (extra 'peer')")
def test_csp5_keeps_litshift_atom_order(structures) -> None:
    predictor = Csp5Predictor(NUCLEI)
    benzoate, chloroform = predictor.predict(structures, ["CDCl3", "pyridine-d5"])
    _check_elements(structures[0], benzoate)
    assert 45 < benzoate[0, 1] < 60 and 160 < benzoate[2, 1] < 175  # OCH3, C=O
    assert 3.5 < np.nanmean(benzoate[[8, 9, 10], 0]) < 4.2  # OCH3 protons
    assert np.isnan(chloroform[:, 0]).all() and predictor.failures["1H.no_proton"] == 1


def test_hose_std_is_calibrated_per_matched_radius(structures) -> None:
    train = [(METHYL_BENZOATE, "13C", [(0, 52.0), (2, 167.0)])]
    predictor = HosePredictor(HoseModel(max_radius=3).fit(train), NUCLEI)
    raw = predictor.raw_distribution(structures, ["CDCl3", "DMSO-d6"])
    assert raw[0].group[0, 1] == "radius 3" and raw[1].group[1, 1] == "radius 0"
    predictor.calibration = Calibration(
        {"13C": {"all": 5.0, "radius 3": 1.0}}, {"13C": {"all": 100, "radius 3": 50}}
    )
    benzoate, chloroform = predictor.predict_distribution(structures, ["CDCl3", "DMSO-d6"])
    assert benzoate.std[0, 1] == 1.0 and chloroform.std[1, 1] == 5.0  # fallback: nucleus-wide
    np.testing.assert_array_equal(np.isfinite(benzoate.std), np.isfinite(benzoate.mean))


def test_model_without_head_gets_an_honest_constant_std(structures) -> None:
    torch.manual_seed(0)
    model = ShiftTransformer(ModelConfig(**TEST_MODEL)).eval()
    predictor = ModelPredictor("m", (model,), NUCLEI, torch.device("cpu"))
    raw = predictor.raw_distribution(structures, ["CDCl3", "DMSO-d6"])
    # labels = prediction + 3 ppm on every carbon: the fitted std is 3 ppm
    examples = []
    for structure, item in zip(structures, raw, strict=True):
        mask = np.isfinite(item.mean)
        targets = np.where(mask, item.mean + 3.0, 0.0)
        examples.append(LabeledExample(**vars_of(structure), targets=targets, mask=mask))
    predictor.calibrations = (fit_calibration_on(raw, examples, NUCLEI),)
    benzoate, _ = predictor.predict_distribution(structures, ["CDCl3", "DMSO-d6"])
    carbons = structures[0].atomic_numbers == 6
    np.testing.assert_allclose(benzoate.std[carbons, 1], 3.0)
    np.testing.assert_allclose(benzoate.mean, predictor.predict(structures[:1], ["CDCl3"])[0])


def vars_of(structure: Structure) -> dict:
    """The constructor arguments of ``structure`` (its graph inputs are derived, not passed)."""
    return {f.name: getattr(structure, f.name) for f in fields(Structure) if f.init}
