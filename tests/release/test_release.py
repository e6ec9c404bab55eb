"""The shipped model: which checkpoint commands default to, and `litshift release` packaging."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from litshift.cli import main
from litshift.inference import shipped
from litshift.inference.shipped import PIPELINE_MODEL, default_model
from litshift.release.card import model_card
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


def test_the_pipeline_model_wins_then_the_release_model(tmp_path, monkeypatch) -> None:
    shipped_model = tmp_path / "shipped" / "model.pt"
    monkeypatch.setattr(shipped, "RELEASE_MODEL", shipped_model)
    with pytest.raises(FileNotFoundError, match="make release"):
        default_model(tmp_path)  # neither exists: one line saying how to get one
    shipped_model.parent.mkdir()
    shipped_model.write_bytes(b"weights")
    path, line = default_model(tmp_path)
    assert path == shipped_model and "release model" in line and "MODEL_CARD.md" in line
    pipeline = tmp_path / PIPELINE_MODEL
    pipeline.parent.mkdir(parents=True)
    pipeline.write_bytes(b"weights")
    path, line = default_model(tmp_path)
    assert path == pipeline and "pipeline model" in line


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
    assert (out / "model.pt").read_bytes() == (run_dir / "model.pt").read_bytes()
    assert (out / "calibration.json").exists()
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
    card = model_card(metrics, config, {"scales": {"1H": {"all": 1.2}}}, "abc", "make release")
    assert "| 1H | all | 0.200 | 100 | 0.600 / 0.850 / 0.950 |" in card
    assert "| 1H | CDCl3 | 0.100 | 40 |  |" in card
    assert "1H × 1.200" in card and "`abc`" in card
