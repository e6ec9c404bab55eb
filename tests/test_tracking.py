import pytest

from litshift.tracking import stage_run


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("LITSHIFT_TRACKING", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "test")
    monkeypatch.setenv("LITSHIFT_PIPELINE_RUN", "run-42")
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri)


def test_stage_run_logs_params_metrics_artifact_and_group_tag(store, tmp_path) -> None:
    with stage_run("curate", {"a": 1, "nested": {"b": [1, 2]}}) as run:
        run.log_metrics({"kept": 10, "rejected": 2})
        run.log_dict({"kept": 10}, "summary.json")
    logged = store.get_run(run.run_id)
    assert logged.info.status == "FINISHED"
    assert logged.data.params == {"a": "1", "nested.b": "[1, 2]"}
    assert logged.data.metrics == {"kept": 10.0, "rejected": 2.0}
    assert logged.data.tags["pipeline_run"] == "run-42"
    assert logged.data.tags["stage"] == "curate"
    artifacts = [f.path for f in store.list_artifacts(run.run_id)]
    assert artifacts == ["summary.json"]
    assert str(tmp_path) in logged.info.artifact_uri


def test_failed_stage_is_marked_failed(store) -> None:
    with pytest.raises(ValueError), stage_run("boom") as run:
        raise ValueError("bad input")
    assert store.get_run(run.run_id).info.status == "FAILED"


def test_tracking_off_is_a_no_op(monkeypatch) -> None:
    monkeypatch.setenv("LITSHIFT_TRACKING", "0")
    with stage_run("x", {"a": 1}) as run:
        run.log_metrics({"m": 1})
    assert not run.active and run.run_id is None
