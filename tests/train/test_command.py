"""``litshift train`` end to end: run directory contents and what MLflow records."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from litshift.cli import main
from litshift.data.datasets import Structure, collate_inputs
from litshift.model.checkpoint import load_model
from tests.training_data import config_json, write_training_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_training_inputs(tmp_path_factory.mktemp("command"))


def test_train_writes_the_run_directory_and_logs_to_mlflow(inputs, tmp_path, monkeypatch) -> None:
    import mlflow
    import mlflow.pytorch

    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("LITSHIFT_TRACKING", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "train-test")
    out = tmp_path / "models" / "semi"
    code = main(
        [
            "train",
            *inputs.cli_args(),
            "--out",
            str(out),
            "--config-json",
            config_json(),
            "--budget",
            "test-tiny",
            "--threads",
            "1",
        ]
    )
    assert code == 0

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["run"] == "semi" and metrics["budget"] == "test-tiny"
    assert metrics["steps"] == 6 and metrics["molecules_per_s"] > 0
    for split in ("valid", "test"):
        assert np.isfinite(metrics[split]["mae"])
        assert any(k.startswith("mae.13C.") for k in metrics[split])
    assert any(k.startswith("weak.branch.") for k in metrics["counts"])
    history = json.loads((out / "history.json").read_text())
    assert [h["step"] for h in history] == [3.0, 6.0]
    assert json.loads((out / "config.json").read_text())["batch_weak"] == 4

    client = mlflow.MlflowClient(uri)
    (run,) = client.search_runs([client.get_experiment_by_name("train-test").experiment_id])
    assert run.info.run_name == "train:semi" and run.info.status == "FINISHED"
    assert run.data.params["lambda_mol"] == "16.0" and run.data.params["model.d_model"] == "16"
    curve = client.get_metric_history(run.info.run_id, "valid_mae")
    assert [m.step for m in curve] == [3, 6]
    assert "test_mae" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    expected = {"model.pt", "metrics.json", "config.json", "history.json", "counts.json", "model"}
    assert expected <= artifacts

    reloaded = mlflow.pytorch.load_model(f"runs:/{run.info.run_id}/model")
    model, state = load_model(out / "model.pt")
    assert state["run"] == "semi" and state["step"] == metrics["best_step"]
    methanol = Structure("k", "CO", np.array([6, 8, 1, 1, 1, 1]), np.random.randn(6, 3), 1)
    inputs = collate_inputs([methanol])  # with the graph inputs the tiny preset reads
    assert torch.allclose(reloaded.eval()(*inputs), model(*inputs))
