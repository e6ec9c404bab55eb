"""``litshift predict`` end to end on a tiny model trained here (with the uncertainty head);
atom order of the user's SMILES, calibrated std and intervals, ensembles."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch
from rdkit import Chem

from litshift.chem.conformers import embed_geometry
from litshift.cli import main
from litshift.evaluate.predictors import load_model_predictor
from litshift.evaluate.uncertainty import Calibration, z_value
from litshift.predict import predict_molecules, prepare
from tests.training_data import TEST_MODEL, config_json, write_training_inputs


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    directory = tmp_path_factory.mktemp("predict")
    inputs = write_training_inputs(directory / "inputs")
    out = directory / "model"
    assert (
        main(
            [
                "train",
                *inputs.cli_args(),
                "--out",
                str(out),
                "--config-json",
                config_json(
                    max_steps=3, eval_every=3, model={**TEST_MODEL, "uncertainty": "gaussian"}
                ),
            ]
        )
        == 0
    )
    return out / "model.pt"


def _shifts(predictor, smiles: str) -> tuple[Chem.Mol, np.ndarray]:
    molecule = prepare(0, smiles, "CDCl3", embed_geometry, 512)
    _, (shifts,) = predict_molecules(predictor, [molecule], ["1H", "13C"])
    return molecule.mol_h, shifts


def test_predictions_follow_the_atom_order_of_the_given_smiles(model_path) -> None:
    predictor = load_model_predictor([model_path], torch.device("cpu"))
    mol_a, shifts_a = _shifts(predictor, "OCC(C)c1ccccc1")
    mol_b, shifts_b = _shifts(predictor, "c1ccc(cc1)C(C)CO")
    heavy_a = Chem.RemoveHs(mol_a)
    match = Chem.RemoveHs(mol_b).GetSubstructMatch(heavy_a)  # atom i of a -> match[i] of b
    assert len(match) == heavy_a.GetNumAtoms()
    for i, j in enumerate(match):
        assert np.allclose(shifts_a[i], shifts_b[j], equal_nan=True, atol=1e-4)
        h_a = sorted(
            shifts_a[n.GetIdx(), 0]
            for n in mol_a.GetAtomWithIdx(i).GetNeighbors()
            if n.GetAtomicNum() == 1
        )
        h_b = sorted(
            shifts_b[n.GetIdx(), 0]
            for n in mol_b.GetAtomWithIdx(j).GetNeighbors()
            if n.GetAtomicNum() == 1
        )
        assert h_a == pytest.approx(h_b, abs=1e-4)
    # 1H only on H atoms, 13C only on C atoms
    elements = np.array([a.GetSymbol() for a in mol_a.GetAtoms()])
    assert np.all(np.isfinite(shifts_a[elements == "H", 0]))
    assert np.all(np.isnan(shifts_a[elements != "H", 0]))
    assert np.all(np.isnan(shifts_a[elements != "C", 1]))


def test_single_smiles_prints_a_table(model_path, capsys) -> None:
    assert (
        main(["predict", "--smiles", "CCO", "--solvent", "DMSO-d6", "--model", str(model_path)])
        == 0
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["atom", "element", "nucleus", "shift_ppm", "std", "95%", "interval"]
    rows = [line.split() for line in lines[1:]]
    for row in rows:
        shift, std, lo, hi = float(row[3]), float(row[4]), float(row[5]), float(row[7])
        assert std > 0 and lo < shift < hi
    assert sorted((r[1], r[2]) for r in rows) == [("C", "13C")] * 2 + [("H", "1H")] * 6
    assert main(["predict", "--smiles", "C1CC", "--model", str(model_path)]) == 1


def test_file_prediction_with_failures_and_svg(model_path, tmp_path) -> None:
    source = tmp_path / "molecules.csv"
    pl.DataFrame(
        {
            "smiles": ["OCC", "C1CC", "c1ccncc1", None],
            "solvent": ["DMSO-d6", "CDCl3", None, "CDCl3"],
        }
    ).write_csv(source)
    output = tmp_path / "predictions.csv"
    assert (
        main(
            [
                "predict",
                str(source),
                str(output),
                "--model",
                str(model_path),
                "--svg",
                str(tmp_path / "svg"),
            ]
        )
        == 0
    )
    predictions = pl.read_csv(output)
    assert predictions.columns == [
        "input_row",
        "smiles",
        "solvent",
        "nucleus",
        "atom_index",
        "element",
        "shift_ppm",
        "shift_std_ppm",
        "shift_lo95_ppm",
        "shift_hi95_ppm",
    ]
    half = predictions["shift_hi95_ppm"] - predictions["shift_ppm"]
    np.testing.assert_allclose(half, z_value(0.95) * predictions["shift_std_ppm"], rtol=1e-6)
    np.testing.assert_allclose(predictions["shift_ppm"] - predictions["shift_lo95_ppm"], half)
    ethanol = predictions.filter(pl.col("input_row") == 0)
    mol = Chem.AddHs(Chem.MolFromSmiles("OCC"))
    for row in ethanol.iter_rows(named=True):
        assert mol.GetAtomWithIdx(row["atom_index"]).GetSymbol() == row["element"]
        assert row["element"] == {"1H": "H", "13C": "C"}[row["nucleus"]]
    assert ethanol.height == 2 + 6 and set(ethanol["solvent"]) == {"DMSO-d6"}
    assert set(predictions["input_row"]) == {0, 2}
    # a row without solvent takes --solvent (default CDCl3)
    assert set(predictions.filter(pl.col("input_row") == 2)["solvent"]) == {"CDCl3"}
    failures = pl.read_csv(tmp_path / "predictions.failures.csv")
    assert dict(zip(failures["record_id"], failures["reason"], strict=True)) == {
        1: "invalid SMILES",
        3: "missing SMILES",
    }
    assert sorted(p.name for p in (tmp_path / "svg").iterdir()) == ["00000.svg", "00002.svg"]

    carbons = tmp_path / "carbons.parquet"
    assert (
        main(["predict", str(source), str(carbons), "--model", str(model_path), "--nucleus", "13C"])
        == 0
    )
    assert set(pl.read_parquet(carbons)["nucleus"]) == {"13C"}
    assert (tmp_path / "carbons.failures.parquet").exists()


def test_std_is_the_calibrated_head_and_an_ensemble_adds_its_spread(model_path, tmp_path) -> None:
    calibration = Calibration.load(model_path.parent / "calibration.json")
    assert "13C" in calibration.scales  # written by litshift train (this split has no 1H)
    molecule = prepare(0, "CC(=O)Nc1ccc(O)cc1", "DMSO-d6", embed_geometry, 512)
    single = load_model_predictor([model_path], torch.device("cpu"))
    (calibrated,) = single.predict_distribution([molecule.structure], ["DMSO-d6"])
    (raw,) = single.raw_distribution([molecule.structure], ["DMSO-d6"])
    for k, nucleus in enumerate(single.nuclei):
        finite = np.isfinite(raw.mean[:, k])
        np.testing.assert_allclose(
            calibrated.std[finite, k], raw.std[finite, k] * calibration.factor(nucleus)
        )
        assert np.all(calibrated.std[finite, k] > 0) and np.isnan(calibrated.std[~finite, k]).all()

    # a second member with another calibration: same model, so no spread, std = RMS of members
    member = tmp_path / "member"
    member.mkdir()
    (member / "model.pt").write_bytes(model_path.read_bytes())
    Calibration({n: {"all": 2 * calibration.factor(n)} for n in single.nuclei}).save(
        member / "calibration.json"
    )
    ensemble = load_model_predictor([model_path, member / "model.pt"], torch.device("cpu"))
    (combined,) = ensemble.predict_distribution([molecule.structure], ["DMSO-d6"])
    np.testing.assert_allclose(combined.mean, calibrated.mean, rtol=1e-6)
    np.testing.assert_allclose(combined.std, calibrated.std * np.sqrt((1 + 4) / 2), rtol=1e-6)


def test_ensemble_of_models_on_the_command_line(model_path, tmp_path) -> None:
    output = tmp_path / "ensemble.parquet"
    source = tmp_path / "molecules.csv"
    pl.DataFrame({"smiles": ["CCO"]}).write_csv(source)
    args = ["predict", str(source), str(output), "--model", str(model_path)]
    assert main([*args, "--model", str(model_path)]) == 0
    single = tmp_path / "single.parquet"
    assert main(["predict", str(source), str(single), "--model", str(model_path)]) == 0
    a, b = pl.read_parquet(output), pl.read_parquet(single)
    np.testing.assert_allclose(a["shift_ppm"], b["shift_ppm"], rtol=1e-6)
    np.testing.assert_allclose(a["shift_std_ppm"], b["shift_std_ppm"], rtol=1e-6)


@pytest.mark.parametrize("smiles", ["CCO", "OCC", "Cc1ccccc1", "c1ccccc1", "CC(C)(C)C"])
def test_topologically_equivalent_atoms_get_one_shift(model_path, smiles) -> None:
    predictor = load_model_predictor([model_path], torch.device("cpu"))
    molecule = prepare(0, smiles, "CDCl3", embed_geometry, 512)
    (distribution,) = predictor.predict_distribution([molecule.structure], ["CDCl3"])
    _, (shifts,) = predict_molecules(predictor, [molecule], ["1H", "13C"])
    std = distribution.std[molecule.litshift_index]  # user order, like shifts
    classes = np.asarray(list(Chem.CanonicalRankAtoms(molecule.mol_h, breakTies=False)))
    for rank in np.unique(classes):
        atoms = np.flatnonzero(classes == rank)
        for values in (shifts, std):
            for atom in atoms[1:]:  # e.g. each methyl H equals the first one
                np.testing.assert_allclose(values[atom], values[atoms[0]], atol=1e-5)
