"""``litshift predict`` end to end on a tiny model trained here (with the uncertainty head);
atom order of the user's SMILES, calibrated std and intervals, ensembles, the applicability
domain stored by ``litshift train``, failure rows and solvent warnings."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
import torch
from rdkit import Chem

from litshift.chem.conformers import embed_geometry
from litshift.cli import main
from litshift.inference.domain import OUT_OF_DOMAIN_STD_FACTOR, Domain
from litshift.inference.molecules import predict_molecules, prepare
from litshift.inference.predictors import load_model_predictor
from litshift.inference.uncertainty import Calibration, z_value
from litshift.model.checkpoint import load_checkpoint, save_checkpoint
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
    assert lines[0].startswith("solvent DMSO-d6 (model class DMSO-d6); ")
    assert lines[1].split() == ["atom", "element", "nucleus", "shift_ppm", "std", "95%", "interval"]
    rows = [line.split() for line in lines[2:]]
    for row in rows:
        shift, std, lo, hi = float(row[3]), float(row[4]), float(row[5]), float(row[7])
        assert std > 0 and lo < shift < hi
    assert sorted((r[1], r[2]) for r in rows) == [("C", "13C")] * 2 + [("H", "1H")] * 6
    capsys.readouterr()
    assert main(["predict", "--smiles", "C1CC", "--model", str(model_path)]) == 1
    # one line that says what is wrong with the input, not only that it is wrong
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "litshift predict: failed: invalid SMILES: unclosed ring"
    )


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
        "solvent_class",
        "nucleus",
        "atom_index",
        "element",
        "shift_ppm",
        "shift_std_ppm",
        "shift_lo95_ppm",
        "shift_hi95_ppm",
        "in_domain",
        "domain_reason",
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
    assert failures.filter(pl.col("record_id") == 1)["excerpt"].item() == "unclosed ring | C1CC"
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


def test_train_stores_the_domain_of_its_training_molecules(model_path) -> None:
    domain = Domain.from_dict(load_checkpoint(model_path)["domain"])
    assert domain.molecules > 10 and {"C", "H", "O"} <= set(domain.elements)
    assert "Fe" not in domain.elements and not domain.radicals


@pytest.fixture(scope="module")
def inside_smiles(model_path) -> str:
    """A training molecule: inside the domain whatever the tiny training set holds."""
    predictor = load_model_predictor([model_path], torch.device("cpu"))
    assigned = pl.read_parquet(model_path.parents[1] / "inputs" / "assigned.parquet")
    for smiles in assigned["smiles"]:
        if predictor.outside_domain(Chem.MolFromSmiles(smiles)) == []:
            return smiles
    raise AssertionError("no training molecule is inside the domain")


def _predict_file(model_path, tmp_path, smiles, *extra, solvents=None):
    source = tmp_path / "in.csv"
    columns = {"smiles": smiles} | ({"solvent": solvents} if solvents else {})
    pl.DataFrame(columns).write_csv(source)
    output = tmp_path / "out.csv"
    argv = ["predict", str(source), str(output), "--model", str(model_path), *extra]
    assert main(argv) == 0
    return pl.read_csv(output), pl.read_csv(tmp_path / "out.failures.csv")


def test_out_of_domain_rows_are_flagged_and_widened(
    model_path, inside_smiles, tmp_path, capsys
) -> None:
    smiles = [inside_smiles, "CI", "[CH2]CO", "[Fe]"]
    predictions, failures = _predict_file(model_path, tmp_path, smiles)
    inside = predictions.filter(pl.col("input_row") == 0)
    assert inside["in_domain"].to_list() == [True] * inside.height
    assert set(inside["domain_reason"].fill_null("")) == {""}
    iodide = predictions.filter(pl.col("input_row") == 1)
    assert set(iodide["in_domain"]) == {False}
    assert iodide["domain_reason"][0].startswith("unseen element I")
    (radical,) = set(predictions.filter(pl.col("input_row") == 2)["domain_reason"])
    assert "radical (training had none)" in radical
    # the std is the calibrated one times the factor, and the interval follows it
    predictor = load_model_predictor([model_path], torch.device("cpu"))
    molecule = prepare(1, "CI", "CDCl3", embed_geometry, 512)
    (distribution,) = predictor.predict_distribution([molecule.structure], ["CDCl3"])
    carbon = iodide.filter(pl.col("nucleus") == "13C")
    expected = distribution.std[molecule.litshift_index[carbon["atom_index"][0]], 1]
    assert carbon["shift_std_ppm"][0] == pytest.approx(OUT_OF_DOMAIN_STD_FACTOR * expected)
    half = carbon["shift_hi95_ppm"][0] - carbon["shift_ppm"][0]
    assert half == pytest.approx(z_value(0.95) * carbon["shift_std_ppm"][0])
    # [Fe] has no atom the model predicts: a failure row, not a silent gap
    assert dict(zip(failures["record_id"], failures["reason"], strict=True)) == {
        3: "no atom of a predicted nucleus"
    }
    assert failures["excerpt"][0].startswith("1H, 13C")
    err = capsys.readouterr().err
    assert "litshift predict: 2 of 3 molecules outside the model's domain: " in err
    assert "unseen element I (1)" in err


def test_strict_refuses_out_of_domain_molecules(model_path, inside_smiles, tmp_path) -> None:
    predictions, failures = _predict_file(model_path, tmp_path, [inside_smiles, "CI"], "--strict")
    assert set(predictions["input_row"]) == {0}
    (reason,) = failures["reason"]
    assert reason == "outside the model's domain"
    assert failures["excerpt"][0].startswith("unseen element I")


def test_checkpoint_without_domain_predicts_with_domain_unknown(model_path, tmp_path, caplog):
    old = tmp_path / "old"
    old.mkdir()
    state = load_checkpoint(model_path)
    del state["domain"]
    save_checkpoint(state, old / "model.pt")
    (old / "calibration.json").write_bytes((model_path.parent / "calibration.json").read_bytes())
    predictions, _ = _predict_file(old / "model.pt", tmp_path, ["CCO"])
    assert predictions["in_domain"].null_count() == predictions.height
    assert set(predictions["domain_reason"]) == {"domain unknown"}
    assert "stores no training domain" in caplog.text


def test_unknown_solvent_is_named_and_its_class_shown(model_path, tmp_path, capsys) -> None:
    predictions, _ = _predict_file(model_path, tmp_path, ["CCO", "CCO"], solvents=["foo", "DMSO"])
    assert predictions.group_by("input_row").agg(
        pl.col("solvent").first(), pl.col("solvent_class").first()
    ).sort("input_row").rows() == [(0, "unrecognized", "other"), (1, "DMSO-d6", "DMSO-d6")]
    err = capsys.readouterr().err
    assert "litshift predict: warning: solvent 'foo' not recognized; predicted as solvent " in err
    assert main(["predict", "--smiles", "CCO", "--solvent", "foo", "--model", str(model_path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("solvent unrecognized (model class other)")
    assert "solvent 'foo' not recognized" in captured.err
