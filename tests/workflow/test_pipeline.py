"""End-to-end: the Snakemake DAG on a tiny slice of the shared data, as a user runs it."""

from __future__ import annotations

import subprocess

import polars as pl
import pytest
import yaml

from tests.workflow.tiny_pipeline import TARGET, snakemake, write_workdir


def _snakemake(workdir, *args: str) -> subprocess.CompletedProcess:
    return snakemake(workdir, "--cores", "2", *args)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pipeline")
    write_workdir(workdir, "pipeline-test")
    env_overrides = {"LITSHIFT_TRACKING": "1"}
    return workdir, env_overrides


def test_pipeline_runs_then_has_nothing_to_do(pipeline, monkeypatch) -> None:
    workdir, env = pipeline
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("LITSHIFT_PIPELINE_RUN", raising=False)
    first = _snakemake(workdir, TARGET)
    assert first.returncode == 0, first.stderr[-3000:]
    for name in (
        "curated/assigned.parquet",
        "curated/unassigned.parquet",
        "curated/rejected/assigned.parquet",
        "curated/rejected.parquet",
        "curated/literature.parquet",
        "splits/literature_test.parquet",
        "splits/assigned_splits.parquet",
        "splits/weak_train.parquet",
        "molecules/molecules.parquet",
        "conformers/done.json",
        "models/supervised/model.pt",
        "models/semi/metrics.json",
        "eval/predictions.parquet",
        "eval/metrics.parquet",
        "catalog.duckdb",
        "verify/benchmark.parquet",
        "verify/summary.json",
        "report.html",
    ):
        assert (workdir / "results" / name).exists(), name
    for rule in (
        "curate_assigned",
        "curate_unassigned",
        "split",
        "catalog",
        "evaluate",
        "verify_benchmark",
        "report",
    ):
        assert (workdir / "results" / "logs" / f"{rule}.log").exists()
        assert (workdir / "results" / "benchmarks" / f"{rule}.tsv").exists()
    assigned = pl.read_parquet(workdir / "results/curated/assigned.parquet")
    assert assigned.height > 100

    second = _snakemake(workdir, TARGET)
    assert second.returncode == 0
    assert "Nothing to be done" in second.stdout + second.stderr

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{workdir}/results/mlflow/mlflow.db")
    experiment = client.get_experiment_by_name("pipeline-test")
    runs = client.search_runs([experiment.experiment_id])
    stages = {run.data.tags["stage"] for run in runs}
    assert {
        "curate_assigned",
        "curate_unassigned",
        "split",
        "collect_molecules",
        "catalog",
        "evaluate",
        "verify_benchmark",
        "report",
    } <= stages
    assert len({run.data.tags["pipeline_run"] for run in runs}) == 1
    assert all(run.info.status == "FINISHED" for run in runs)


def test_invalid_config_is_refused_before_any_rule_runs(tmp_path) -> None:
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"split": {"method": "random"}}))
    result = _snakemake(tmp_path, "-n", TARGET)
    assert result.returncode != 0
    assert "random" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists()
