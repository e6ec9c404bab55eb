"""The shipped model: which checkpoint commands default to, and `litshift release` packaging."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from litshift.cli import main
from litshift.inference import shipped
from litshift.inference.shipped import (
    PIPELINE_MODEL,
    PIPELINE_PARTNER,
    RELEASE_DIR,
    default_model,
    model_group,
    model_name,
)
from litshift.model.transformer import PRESETS
from litshift.release.card import Member, model_card
from tests.training_data import TEST_MODEL, config_json, write_training_inputs


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("release")
    inputs = write_training_inputs(directory / "inputs")
    out = directory / "run"
    args = ["train", *inputs.cli_args(), "--out", str(out), "--config-json"]
    config = config_json(
        mode="supervised",
        max_steps=4,
        eval_every=2,
        model={**TEST_MODEL, "uncertainty": "gaussian"},
    )
    assert main([*args, config]) == 0
    return out


def test_the_pipeline_model_wins_then_the_release_ensemble(tmp_path, monkeypatch) -> None:
    package = tmp_path / "shipped"
    monkeypatch.setattr(shipped, "RELEASE_DIR", package)
    with pytest.raises(FileNotFoundError, match="make release"):
        default_model(tmp_path)  # neither exists: one line saying how to get one
    members = [package / "members" / run / "model.pt" for run in ("release_1", "release")]
    for member in members:
        member.parent.mkdir(parents=True)
        member.write_bytes(b"weights")
    paths, line = default_model(tmp_path)
    assert paths == sorted(members) and "ensemble of 2" in line and "MODEL_CARD.md" in line
    pipeline = tmp_path / PIPELINE_MODEL
    pipeline.parent.mkdir(parents=True)
    pipeline.write_bytes(b"weights")
    paths, line = default_model(tmp_path)
    assert paths == [pipeline] and "pipeline model" in line
    partner = tmp_path / PIPELINE_PARTNER  # both headline runs trained: their mean
    partner.parent.mkdir(parents=True)
    partner.write_bytes(b"weights")
    paths, line = default_model(tmp_path)
    assert paths == [partner, pipeline] and "averaged" in line


def test_a_model_spec_is_a_checkpoint_an_ensemble_or_a_package(tmp_path) -> None:
    assert model_group("a/model.pt") == [Path("a/model.pt")]
    assert model_group("a/model.pt,b/model.pt") == [Path("a/model.pt"), Path("b/model.pt")]
    member = tmp_path / "members" / "release" / "model.pt"
    with pytest.raises(FileNotFoundError, match="holds no members"):
        model_group(tmp_path)  # a folder that is no package
    member.parent.mkdir(parents=True)
    member.write_bytes(b"weights")
    assert model_group(tmp_path) == [member]
    # the name in evaluation tables: the package folder, else the runs' folders
    assert model_name(tmp_path) == tmp_path.name
    assert model_name("runs/semi/model.pt") == "semi"
    assert model_name("runs/semi/model.pt,runs/semi_1/model.pt") == "semi+semi_1"


def test_the_shipped_package_loads_as_an_ensemble_of_its_members() -> None:
    members = shipped.release_members()
    assert members, "the package ships its release model (make release)"
    paths, _ = default_model(Path("/nonexistent"))
    assert paths == members
    for member in members:  # each with the calibration fitted by its own run
        assert (member.parent / "calibration.json").exists()


def test_predict_reads_the_package_folder_as_its_ensemble(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # no pipeline model here: the default is the release model
    assert main(["predict", "--smiles", "CCO", "--device", "cpu"]) == 0
    default = capsys.readouterr()
    assert f"an ensemble of {len(shipped.release_members())}" in default.err
    assert main(["predict", "--smiles", "CCO", "--device", "cpu", "--model", str(RELEASE_DIR)]) == 0
    assert capsys.readouterr().out == default.out


def test_release_packages_the_run_with_a_card(run_dir, tmp_path) -> None:
    out = tmp_path / "package"
    metrics = tmp_path / "eval_metrics.parquet"
    row = {"split": "assigned_test", "level": "atom", "breakdown": "all", "group": "all"}
    pl.DataFrame(
        [
            row | {"model": "HOSE", "nucleus": "13C", "mae": 4.5},
            row | {"model": "release", "nucleus": "13C", "mae": 1.0},  # itself: not a baseline
            row | {"model": "HOSE", "nucleus": "13C", "mae": 9.9, "level": "molecule"},
        ]
    ).write_parquet(metrics)
    args = ["release", "--run", str(run_dir), "--out", str(out), "--eval-metrics", str(metrics)]
    assert main(args) == 0
    member = out / "members" / run_dir.name
    assert (member / "model.pt").read_bytes() == (run_dir / "model.pt").read_bytes()
    assert (member / "calibration.json").exists()
    card = (out / "MODEL_CARD.md").read_text()
    trained = json.loads((run_dir / "metrics.json").read_text())
    assert f"{trained['test']['mae.13C']:.3f}" in card  # the run's own test figure
    assert trained["git_commit"] in card
    assert "| HOSE | 4.500 |" in card and "9.900" not in card
    sections = ("## Data sources", "## Test metrics", "## Applicability domain", "## Calibration")
    for section in (*sections, "## Known limits"):
        assert section in card
    assert "CC BY-SA" in card


def test_a_fine_tuned_release_names_the_run_it_started_from(run_dir, tmp_path) -> None:
    inputs = write_training_inputs(tmp_path / "inputs")
    tuned = tmp_path / "tuned"
    config = config_json(
        mode="semi",
        max_steps=2,
        eval_every=2,
        lr=1e-4,
        model={**TEST_MODEL, "uncertainty": "gaussian"},
        init_from=str(run_dir / "model.pt"),
    )
    assert main(["train", *inputs.cli_args(), "--out", str(tuned), "--config-json", config]) == 0
    out = tmp_path / "package"
    assert main(["release", "--run", str(tuned), "--out", str(out)]) == 0
    card = (out / "MODEL_CARD.md").read_text()
    base_step = json.loads((run_dir / "metrics.json").read_text())["best_step"]
    assert f"Started from `{run_dir / 'model.pt'}`: a supervised run" in card
    base_commit = json.loads((run_dir / "metrics.json").read_text())["git_commit"]
    assert f"best validation at step {base_step}, commit `{base_commit}`); the steps" in card


def _evaluation(folder: Path, name: str) -> Path:
    """An evaluate output folder that scored ``name`` (and HOSE) on the assigned test split."""
    folder.mkdir()
    row = {"split": "assigned_test", "level": "atom", "n_molecules": 5}
    rows = [
        row | {"model": name, "nucleus": "13C", "breakdown": "all", "group": "all", "n": 50,
               "mae": 1.5, "mae_ci_lo": 1.25, "mae_ci_hi": 1.75},
        row | {"model": name, "nucleus": "13C", "breakdown": "solvent_class", "group": "CDCl3",
               "n": 20, "mae": 1.125, "mae_ci_lo": 1.0, "mae_ci_hi": 1.3},
        row | {"model": "HOSE", "nucleus": "13C", "breakdown": "all", "group": "all", "n": 50,
               "mae": 3.5, "mae_ci_lo": 3.0, "mae_ci_hi": 4.0},
    ]  # fmt: skip
    pl.DataFrame(rows).write_parquet(folder / "metrics.parquet")
    coverage = {"coverage_50": 0.5, "coverage_80": 0.75, "coverage_95": 0.875}
    pl.DataFrame(
        [{"model": name, "split": "assigned_test", "nucleus": "13C", **coverage}]
    ).write_parquet(folder / "uncertainty.parquet")
    return folder


def test_an_ensemble_ships_every_member_and_the_ensembles_own_figures(
    run_dir, tmp_path, capsys
) -> None:
    second = tmp_path / "release_1"
    shutil.copytree(run_dir, second)
    # another seed, and a preset value written out as an override: the architecture is the same
    config = json.loads((second / "config.json").read_text())
    preset = PRESETS[config["preset"]]
    implicit = next(k for k in ("attn_dropout", "solvent_mode") if k not in config["model"])
    written = {**config["model"], implicit: getattr(preset, implicit)}
    # and another weight of 1H (a mixed-recipe ensemble)
    config |= {"seed": config["seed"] + 1, "model": written, "nucleus_weights": {"1H": 0.25}}
    (second / "config.json").write_text(json.dumps(config))
    out = tmp_path / "package"
    runs = ["--run", str(run_dir), "--run", str(second)]
    # several runs need the evaluation of the ensemble: one line, nothing written
    assert main(["release", *runs, "--out", str(out)]) == 2
    assert "give --evaluation" in capsys.readouterr().err
    assert not out.exists()
    evaluation = _evaluation(tmp_path / "evaluation", f"{run_dir.name}+release_1")
    (out / "members" / "stale").mkdir(parents=True)  # a member of an older package
    (out / "model.pt").write_bytes(b"the single-checkpoint layout")
    assert main(["release", *runs, "--out", str(out), "--evaluation", str(evaluation)]) == 0
    assert sorted(p.name for p in (out / "members").iterdir()) == sorted(
        [run_dir.name, "release_1"]
    )
    assert not (out / "model.pt").exists()
    assert model_group(out) == sorted((out / "members").glob("*/model.pt"))
    card = (out / "MODEL_CARD.md").read_text()
    assert "A deep ensemble of 2 runs, differing in nucleus_weights.1H, seed:" in card
    seed = config["seed"]
    assert f"| {run_dir.name} | {seed - 1} | default |" in card
    assert f"| release_1 | {seed} | 0.25 |" in card
    assert "| 13C | all | 1.500 [1.250, 1.750] | 50 | 0.500 / 0.750 / 0.875 |" in card
    assert "| 13C | CDCl3 | 1.125 | 20 |  |" in card
    assert "| HOSE | 3.500 |" in card  # the evaluation's HOSE when no pipeline evaluation
    recorded = json.loads((out / "card.json").read_text())
    assert [m["run"] for m in recorded["members"]] == [run_dir.name, "release_1"]
    assert recorded["test"]["mae.13C"] == 1.5


def test_release_refuses_an_unfinished_run(tmp_path, capsys) -> None:
    (tmp_path / "run").mkdir()
    with pytest.raises(SystemExit, match="not a finished run"):
        main(["release", "--run", str(tmp_path / "run"), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()


def test_card_lists_each_solvent_class_and_the_coverage() -> None:
    metrics = {
        "test": {
            "mae.1H": 0.2, "n.1H": 100, "mae.1H.CDCl3": 0.1, "n.1H.CDCl3": 40,
            "cov50.1H": 0.6, "cov80.1H": 0.85, "cov95.1H": 0.95,
        },
        "steps": 10, "best_step": 8, "stop_reason": "completed", "train_seconds": 60.0,
        "n_parameters": 1000, "counts": {},
    }  # fmt: skip
    config = {"mode": "supervised", "preset": "tiny", "lr": 0.003, "batch_labeled": 16}
    member = Member("run", metrics, config, {"scales": {"1H": {"all": 1.2}}})
    card = model_card([member], metrics["test"], "abc", "make release")
    assert "| 1H | all | 0.200 | 100 | 0.600 / 0.850 / 0.950 |" in card
    assert "| 1H | CDCl3 | 0.100 | 40 |  |" in card
    assert "1H × 1.200" in card and "`abc`" in card
