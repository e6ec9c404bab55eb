"""``litshift verify`` end to end on a tiny model trained here."""

from __future__ import annotations

import json

import pytest

from litshift.cli import main
from tests.training_data import config_json, write_training_inputs

PEAKS = "13C: 137.9, 129.1, 128.3, 125.4, 21.5; 1H: 7.26-7.15 (m, 5H), 2.35 (s, 3H)"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    directory = tmp_path_factory.mktemp("verify")
    inputs = write_training_inputs(directory / "inputs")
    out = directory / "model"
    argv = ["train", *inputs.cli_args(), "--out", str(out)]
    assert main([*argv, "--config-json", config_json(max_steps=3, eval_every=3)]) == 0
    return out / "model.pt"


def test_candidates_are_ranked_with_json_and_svg(model_path, tmp_path, capsys) -> None:
    candidates = tmp_path / "candidates.csv"
    candidates.write_text("name,smiles\np-xylene,Cc1ccc(C)cc1\nbroken,C1CC\n")
    out = tmp_path / "result.json"
    argv = ["verify", "--peaks", PEAKS, "--solvent", "CDCl3", "--model", str(model_path)]
    argv += ["--smiles", "Cc1ccccc1", "--smiles", "c1ccccc1C", "--candidates", str(candidates)]
    argv += ["--json", str(out), "--svg-dir", str(tmp_path / "svg")]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "solvent CDCl3 (model class CDCl3)"
    assert "rank" in printed.splitlines()[1] and "rejected" in printed
    result = json.loads(out.read_text())
    names = [c["name"] for c in result["candidates"]]
    assert sorted(names) == ["Cc1ccccc1", "p-xylene"]
    assert sum(c["probability"]["all"] for c in result["candidates"]) == pytest.approx(1.0)
    assert [c["rank"] for c in result["candidates"]] == [1, 2]
    reasons = {r["name"]: r["reason"] for r in result["rejected"]}
    assert reasons["broken"] == "invalid SMILES: unclosed ring"
    assert "same structure" in reasons["c1ccccc1C"]
    toluene = next(c for c in result["candidates"] if c["name"] == "Cc1ccccc1")
    assert toluene["branch"] == {"13C": "symmetry_classes", "1H": "nh_expanded"}
    observed = sorted(r["observed"] for r in toluene["assignment"] if r["nucleus"] == "13C")
    assert observed == [21.5, 125.4, 128.3, 129.1, 137.9]
    methyl = next(r for r in toluene["assignment"] if r["observed"] == 21.5)
    assert methyl["atoms"] == [0]  # indices in the SMILES as given
    svgs = sorted((tmp_path / "svg").glob("*.svg"))
    assert len(svgs) == 2 and "<svg" in svgs[0].read_text()


def test_paragraph_input_gives_the_solvent(model_path, tmp_path) -> None:
    paragraph = tmp_path / "p.txt"
    paragraph.write_text("13C NMR (101 MHz, DMSO-d6) δ 137.9, 129.1, 128.3, 125.4, 21.5.")
    out = tmp_path / "r.json"
    argv = ["verify", "--paragraph-file", str(paragraph), "--model", str(model_path)]
    assert main([*argv, "--smiles", "Cc1ccccc1", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["solvent"] == "DMSO-d6"
    assert result["candidates"][0]["probability"]["13C"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    "argv",
    [
        ["--peaks", "170.2, 135.8", "--smiles", "CCO"],
        ["--peaks", "13C: 20.0", "--smiles", "not-a-molecule"],
        ["--peaks", "13C: 20.0"],
        ["--peaks", "13C: 20.0", "--smiles", "CC", "--model", "missing/model.pt"],
    ],
)
def test_bad_input_stops_with_a_message(model_path, argv, capsys) -> None:
    try:
        status = main(["verify", "--model", str(model_path), *argv])
        message = capsys.readouterr().err
    except SystemExit as stop:
        status, message = 1, str(stop.code)
    assert status in (1, 2) and message.startswith("litshift verify")
    assert len(message.strip().splitlines()) == 1


def test_candidates_outside_the_domain_are_flagged_or_rejected(model_path, tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = ["verify", "--peaks", PEAKS, "--model", str(model_path), "--json", str(out)]
    argv += ["--smiles", "CCc1ccccc1", "--smiles", "C[Si](C)(C)c1ccccc1"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "outside the model's domain: C[Si](C)(C)c1ccccc1 (unseen element Si" in captured.out
    assert "molecules outside the model's domain: " in captured.err
    by_name = {c["name"]: c for c in json.loads(out.read_text())["candidates"]}
    assert by_name["C[Si](C)(C)c1ccccc1"]["in_domain"] is False
    assert by_name["C[Si](C)(C)c1ccccc1"]["domain_reason"].startswith("unseen element Si")
    assert main([*argv, "--strict"]) == 0
    result = json.loads(out.read_text())
    assert [c["name"] for c in result["candidates"]] == ["CCc1ccccc1"]
    (rejected,) = result["rejected"]
    assert rejected["reason"].startswith("outside the model's domain: unseen element Si")


def test_svg_marks_atoms_without_a_peak(model_path, tmp_path) -> None:
    """Ethylbenzene has six carbon environments for toluene's five 13C peaks: one group is
    left without a peak and is drawn grey, apart from the worst-matching (orange/red) atoms."""
    argv = ["verify", "--peaks", PEAKS, "--solvent", "CDCl3", "--model", str(model_path)]
    argv += ["--smiles", "CCc1ccccc1", "--svg-dir", str(tmp_path / "svg")]
    argv += ["--json", str(tmp_path / "r.json")]
    assert main(argv) == 0
    result = json.loads((tmp_path / "r.json").read_text())
    unexplained = [r for r in result["candidates"][0]["assignment"] if r["observed"] is None]
    assert any(r["nucleus"] == "13C" for r in unexplained)
    (svg,) = (tmp_path / "svg").glob("*.svg")
    assert "fill:#CCCCCC" in svg.read_text()


def test_a_typo_in_the_solvent_and_peaks_the_structure_cannot_explain_are_said(
    model_path, capsys
) -> None:
    # ethanol has two carbons: of four peaks two stay unexplained whatever the model predicts;
    # propane's one 1H multiplet (6H) leaves protons of it without a peak
    argv = ["verify", "--peaks", "13C: 77.2, 58.3, 30.0, 18.4", "--solvent", "xyz"]
    assert main([*argv, "--model", str(model_path), "--smiles", "CCO"]) == 0
    printed = capsys.readouterr()
    assert "solvent 'xyz' not recognized; predicted as solvent class 'other'" in printed.err
    lines = printed.out.splitlines()
    assert lines[0] == "solvent unrecognized (model class other)"
    assert lines[-1].startswith("13C: 2 of 4 peaks unexplained by CCO (impurity")

    argv = ["verify", "--peaks", "1H: 1.3 (t, 6H)", "--solvent", "CDCl3"]
    assert main([*argv, "--model", str(model_path), "--smiles", "CCC"]) == 0
    printed = capsys.readouterr()
    assert "warning" not in printed.err
    assert printed.out.splitlines()[0] == "solvent CDCl3 (model class CDCl3)"
    assert "atom group(s) of CCC without a peak" in printed.out.splitlines()[-1]
