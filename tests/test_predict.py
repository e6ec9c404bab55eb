"""``litshift predict`` end to end on a tiny model trained here; atom order of the user's SMILES."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch
from rdkit import Chem

from litshift.chem.conformers import embed_geometry
from litshift.cli import main
from litshift.predict import predict_molecules, prepare
from litshift.train.checkpoint import load_model
from tests.training_data import config_json, write_training_inputs


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
                config_json(max_steps=3, eval_every=3),
            ]
        )
        == 0
    )
    return out / "model.pt"


def _shifts(model, smiles: str) -> tuple[Chem.Mol, np.ndarray]:
    molecule = prepare(0, smiles, "CDCl3", embed_geometry, 512)
    _, (shifts,) = predict_molecules(model, [molecule], ["1H", "13C"], torch.device("cpu"))
    return molecule.mol_h, shifts


def test_predictions_follow_the_atom_order_of_the_given_smiles(model_path) -> None:
    model, _ = load_model(model_path)
    mol_a, shifts_a = _shifts(model, "OCC(C)c1ccccc1")
    mol_b, shifts_b = _shifts(model, "c1ccc(cc1)C(C)CO")
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
    assert lines[0].split() == ["atom", "element", "nucleus", "shift_ppm"]
    rows = [line.split() for line in lines[1:]]
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
    ]
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
