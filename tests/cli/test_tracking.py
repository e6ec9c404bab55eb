"""Stage runs log what produced them, and only where someone asked for tracking."""

import importlib.metadata
import re

import pytest
from mlflow.tracking import MlflowClient

from litshift.cli import TRACKED_COMMANDS, main
from litshift.cli.tracking import (
    DEFAULT_TRACKING_URI,
    given_tracking_uri,
    stage_run,
    tracking_enabled,
    tracking_uri,
)
from litshift.provenance import config_hash


@pytest.fixture
def store(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("LITSHIFT_TRACKING", "1")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "test")
    monkeypatch.setenv("LITSHIFT_PIPELINE_RUN", "run-42")
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


def test_metric_names_mlflow_refuses_are_logged_with_underscores(store) -> None:
    with stage_run("evaluate") as run:  # an ensemble's evaluation name joins runs with '+'
        run.log_metrics({"assigned_test.atom.supervised+semi.mae.13C": 2.0, "a b/c:d-e": 1.0})
    metrics = store.get_run(run.run_id).data.metrics
    assert metrics == {"assigned_test.atom.supervised_semi.mae.13C": 2.0, "a b/c:d-e": 1.0}


def test_failed_stage_is_marked_failed(store) -> None:
    with pytest.raises(ValueError), stage_run("boom") as run:
        raise ValueError("bad input")
    assert store.get_run(run.run_id).info.status == "FAILED"


def test_tracking_off_is_a_no_op(monkeypatch) -> None:
    monkeypatch.setenv("LITSHIFT_TRACKING", "0")
    with stage_run("x", {"a": 1}) as run:
        run.log_metrics({"m": 1})
    assert not run.active and run.run_id is None


@pytest.fixture
def nothing_given(tmp_path, monkeypatch):
    """A user's shell: no tracking variable set, in a folder that could hold results/."""
    for name in ("LITSHIFT_TRACKING", "LITSHIFT_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    return tmp_path


def _catalog_argv(root) -> list[str]:
    """A cheap command that logs: the catalog of an empty results folder."""
    return ["catalog", "--db", str(root / "results" / "catalog.duckdb"), "--results", "results"]


def test_a_plain_cli_call_writes_no_run_to_the_default_store(nothing_given) -> None:
    assert not tracking_enabled()
    assert main(_catalog_argv(nothing_given)) == 0
    assert not (nothing_given / "results" / "mlflow").exists()
    assert not (nothing_given / "mlruns").exists()


def test_a_given_uri_logs_a_run_tagged_with_commit_config_hash_and_version(
    nothing_given, monkeypatch
) -> None:
    uri = f"sqlite:///{nothing_given}/store/mlflow.db"
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "cli")
    assert main([*_catalog_argv(nothing_given), "--tracking-uri", uri]) == 0
    assert not tracking_enabled()  # the option held for that command only
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("cli").experiment_id])
    tags = run.data.tags
    assert run.info.run_name == "catalog" and tags["stage"] == "catalog"
    assert re.fullmatch(r"[0-9a-f]{40}", tags["git_commit"])  # the tests run from the checkout
    assert tags["git_dirty"] in {"true", "false"}
    assert tags["config_hash"] == config_hash({"db": str(nothing_given / "results/catalog.duckdb")})
    assert tags["litshift_version"] == importlib.metadata.version("litshift")
    assert not (nothing_given / "results" / "mlflow").exists()


def test_opt_in_and_opt_out_switches(nothing_given, monkeypatch) -> None:
    monkeypatch.setenv("LITSHIFT_TRACKING", "1")
    assert tracking_enabled() and tracking_uri() == DEFAULT_TRACKING_URI
    monkeypatch.setenv("LITSHIFT_TRACKING", "0")
    monkeypatch.setenv("LITSHIFT_TRACKING_URI", "sqlite:///elsewhere.db")
    assert not tracking_enabled()
    monkeypatch.delenv("LITSHIFT_TRACKING")
    assert tracking_enabled() and tracking_uri() == "sqlite:///elsewhere.db"
    with given_tracking_uri("sqlite:///option.db"):
        assert tracking_uri() == "sqlite:///option.db"
    assert tracking_uri() == "sqlite:///elsewhere.db"


def test_the_pipeline_config_hash_and_the_wildcard_run_name(store, monkeypatch) -> None:
    monkeypatch.setenv("LITSHIFT_CONFIG_HASH", "0123456789ab")
    with stage_run("ingest_literature", {"source": "nmrbank"}, "ingest_literature:nmrbank") as run:
        pass
    logged = store.get_run(run.run_id)
    assert logged.info.run_name == "ingest_literature:nmrbank"
    assert logged.data.tags["stage"] == "ingest_literature"
    assert logged.data.tags["config_hash"] == "0123456789ab"


@pytest.mark.parametrize("command", sorted(TRACKED_COMMANDS))
def test_help_of_every_logging_command_states_the_default(command, capsys) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--tracking-uri URI" in help_text
    assert "Default: no tracking, unless LITSHIFT_TRACKING=1" in help_text
