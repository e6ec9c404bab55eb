"""Everything the report shows, read from the pipeline's outputs and MLflow.

Files are found through the catalog's layout (:data:`litshift.data.catalog.VIEWS`), the
training run directories (``models/<run>/{config,metrics,history}.json``), the ablation summary
(``ablations/summary.parquet``, when `make ablations` ran) and the Snakemake
benchmark files (``benchmarks/**/*.tsv``). MLflow supplies the learning curves, the split
stage's leakage-guard counts and the run ids; each MLflow run is matched to the files it
produced by a logged number (a training run by its test MAE, the split run by its row counts),
so a stale run from an earlier invocation is never shown. Where tracking is off or no run
matches, curves come from ``history.json`` and the report says so.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import math
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from litshift.cli.tracking import DEFAULT_EXPERIMENT, tracking_enabled, tracking_uri
from litshift.data.catalog import VIEWS
from litshift.data.io import read_table
from litshift.evaluate.ablations import SUMMARY
from litshift.provenance import git_commit

__all__ = [
    "CURVE_METRICS",
    "PACKAGES",
    "ReportData",
    "RunInfo",
    "collect",
    "package_versions",
]

logger = logging.getLogger(__name__)

#: per-evaluation metrics drawn as learning curves (history.json keys = MLflow metric keys)
CURVE_METRICS = ("valid_mae.1H", "valid_mae.13C", "loss_atom", "loss_mol")
#: distributions whose versions the reproducibility section lists
PACKAGES = (
    "litshift",
    "torch",
    "rdkit",
    "numpy",
    "polars",
    "pyarrow",
    "duckdb",
    "mlflow",
    "snakemake",
    "matplotlib",
    "csp5",
)


@dataclass(slots=True)
class RunInfo:
    """One training run as the report needs it."""

    name: str
    config: dict[str, Any]
    """``config.json``: the run's full TrainConfig."""
    metrics: dict[str, Any]
    """``metrics.json``: final scores, counts, budget, wall time."""
    curves: pl.DataFrame
    """Columns ``metric``, ``step``, ``value``."""
    curve_source: str
    """``MLflow`` or ``history.json``."""
    mlflow_run_id: str | None = None


@dataclass(slots=True)
class ReportData:
    """Inputs of :func:`litshift.report.page.render`."""

    config: dict[str, Any]
    metrics: pl.DataFrame
    """Schema ``eval_metrics``."""
    predictions: pl.DataFrame
    """Schema ``eval_predictions``."""
    eval_summary: dict[str, Any]
    runs: dict[str, RunInfo]
    tables: dict[str, pl.LazyFrame]
    """Catalog view name -> table (only those present), read lazily."""
    leakage: dict[str, float] | None
    """Metrics of the split stage's MLflow run (None: not tracked)."""
    benchmarks: pl.DataFrame
    """Columns ``rule``, ``seconds``, ``max_rss_mb``."""
    mlflow_runs: dict[str, str] = field(default_factory=dict)
    """Stage -> MLflow run id of the run behind the shown numbers."""
    tracking: str = "off"
    """Where MLflow runs were read from, or why not."""
    git: str = "unknown"
    versions: dict[str, str] = field(default_factory=dict)
    verify_summary: dict[str, Any] = field(default_factory=dict)
    """``verify/summary.json`` of the decoy benchmark ({} when it did not run)."""
    ablations: pl.DataFrame | None = None
    """``ablations/summary.parquet`` (schema ``ablation_summary``; None: `make ablations` did
    not run)."""


def package_versions() -> dict[str, str]:
    """Installed versions of :data:`PACKAGES` (``not installed`` where absent) and Python."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.exists() else {}


def _history_curves(history: list[dict[str, float]]) -> pl.DataFrame:
    rows = [
        {"metric": key, "step": int(entry["step"]), "value": float(entry[key])}
        for entry in history
        for key in CURVE_METRICS
        if key in entry
    ]
    return pl.DataFrame(rows, schema={"metric": pl.String, "step": pl.Int64, "value": pl.Float64})


def _benchmarks(directory: Path) -> pl.DataFrame:
    rows = []
    for path in sorted(directory.rglob("*.tsv")):
        frame = pl.read_csv(path, separator="\t", null_values=["NA", "-"], infer_schema_length=0)
        if frame.height == 0 or "s" not in frame.columns:
            continue
        rss = frame["max_rss"][-1] if "max_rss" in frame.columns else None
        rows.append(
            {
                "rule": path.relative_to(directory).with_suffix("").as_posix(),
                "seconds": float(frame["s"][-1]),
                "max_rss_mb": float(rss) if rss is not None else None,
            }
        )
    schema = {"rule": pl.String, "seconds": pl.Float64, "max_rss_mb": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


class _Tracking:
    """The finished MLflow runs of the configured experiment, grouped by stage tag."""

    def __init__(self) -> None:
        self.by_stage: dict[str, list[Any]] = {}
        self.client: Any = None
        self.status = "off (no tracking URI, or LITSHIFT_TRACKING=0): curves from history.json"
        if not tracking_enabled():
            return
        from mlflow.tracking import MlflowClient

        uri = tracking_uri()
        experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME", DEFAULT_EXPERIMENT)
        self.client = MlflowClient(tracking_uri=uri)
        experiment = self.client.get_experiment_by_name(experiment_name)
        self.status = f"{uri}, experiment {experiment_name!r}"
        if experiment is None:
            self.status += " (no runs)"
            return
        runs = self.client.search_runs(
            [experiment.experiment_id],
            filter_string="attributes.status = 'FINISHED'",
            max_results=50000,
            order_by=["attributes.start_time DESC"],
        )
        for run in runs:
            self.by_stage.setdefault(run.data.tags.get("stage", ""), []).append(run)

    def match(self, stage: str, expected: Mapping[str, float]) -> Any | None:
        """The newest run of ``stage`` whose metrics equal ``expected`` (all of them)."""
        for run in self.by_stage.get(stage, []):
            logged = run.data.metrics
            if all(
                k in logged and math.isclose(logged[k], v, rel_tol=1e-9, abs_tol=1e-12)
                for k, v in expected.items()
            ):
                return run
        return None

    def curves(self, run_id: str) -> pl.DataFrame:
        rows = [
            {"metric": key, "step": int(m.step), "value": float(m.value)}
            for key in CURVE_METRICS
            for m in self.client.get_metric_history(run_id, key)
        ]
        schema = {"metric": pl.String, "step": pl.Int64, "value": pl.Float64}
        return pl.DataFrame(rows, schema=schema).sort("metric", "step")


def _run_info(name: str, directory: Path, tracking: _Tracking) -> RunInfo:
    metrics = _read_json(directory / "metrics.json")
    test_mae = metrics.get("test", {}).get("mae")
    run = (
        tracking.match(f"train:{name}", {"test_mae": test_mae})
        if test_mae is not None and math.isfinite(test_mae)
        else None
    )
    if run is not None:
        curves, source = tracking.curves(run.info.run_id), "MLflow"
    else:
        history = json.loads((directory / "history.json").read_text())
        curves, source = _history_curves(history), "history.json"
    return RunInfo(
        name=name,
        config=_read_json(directory / "config.json"),
        metrics=metrics,
        curves=curves,
        curve_source=source,
        mlflow_run_id=run.info.run_id if run is not None else None,
    )


def collect(results: str | Path, config: Mapping[str, Any], repo: str | Path = ".") -> ReportData:
    """Read every report input under ``results`` (the pipeline's results directory)."""
    results = Path(results)
    tables = {
        name: pl.scan_parquet(results / pattern)
        for name, pattern in VIEWS.items()
        if "*" not in pattern and (results / pattern).exists()
    }
    for required in ("eval_metrics", "eval_predictions"):
        if required not in tables:
            raise FileNotFoundError(f"{results / VIEWS[required]} missing: run the evaluate stage")
    tracking = _Tracking()
    run_names = [
        name
        for name in (config.get("train", {}).get("runs") or {})
        if (results / "models" / name / "metrics.json").exists()
    ]
    runs = {name: _run_info(name, results / "models" / name, tracking) for name in run_names}
    mlflow_runs = {f"train:{r.name}": r.mlflow_run_id for r in runs.values() if r.mlflow_run_id}

    leakage = None
    if "weak_train" in tables and "literature_test" in tables:
        rows = {
            "weak_rows_kept": "weak_train",
            "literature_test_rows": "literature_test",
        }
        split = tracking.match(
            "split", {k: tables[v].select(pl.len()).collect().item() for k, v in rows.items()}
        )
        if split is not None:
            leakage = dict(split.data.metrics)
            mlflow_runs["split"] = split.info.run_id
    eval_summary = _read_json(results / "eval" / "summary.json")
    evaluation = tracking.match("evaluate", {"wall_seconds": eval_summary.get("wall_seconds", -1)})
    if evaluation is not None:
        mlflow_runs["evaluate"] = evaluation.info.run_id
    return ReportData(
        config=dict(config),
        metrics=tables.pop("eval_metrics").collect(),
        predictions=tables.pop("eval_predictions").collect(),
        eval_summary=eval_summary,
        runs=runs,
        tables=tables,
        leakage=leakage,
        benchmarks=_benchmarks(results / "benchmarks"),
        mlflow_runs=mlflow_runs,
        tracking=tracking.status,
        git=git_commit(repo),
        versions=package_versions(),
        verify_summary=_read_json(results / "verify" / "summary.json"),
        ablations=(
            pl.from_arrow(read_table(results / SUMMARY, "ablation_summary"))
            if (results / SUMMARY).exists()
            else None
        ),
    )
