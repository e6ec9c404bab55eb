"""Everything the report shows, read from the pipeline's outputs.

Files are found through the catalog's layout (:data:`litshift.data.catalog.VIEWS`), the
training run directories (``models/<run>/{config,metrics,history}.json``), the ablation summary
(``ablations/summary.parquet``, when `make ablations` ran) and the Snakemake
benchmark files (``benchmarks/**/*.tsv``).

MLflow adds the learning curves as logged, the split stage's leakage-guard counts and the run
ids; this package does not talk to it. :func:`run_queries` says which run made which output,
by a number the run logged (a training run by its test MAE, the split run by its row counts),
so a stale run from an earlier invocation is never shown; the caller (``litshift report``)
looks them up and hands back a :class:`Tracking` of plain data. Where tracking is off or no
run matches, curves come from ``history.json`` and the report says so.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import math
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from litshift.data.catalog import VIEWS
from litshift.data.io import read_table
from litshift.evaluate.ablations import SUMMARY
from litshift.provenance import git_commit

__all__ = [
    "CURVE_METRICS",
    "CURVE_SCHEMA",
    "PACKAGES",
    "ReportData",
    "RunInfo",
    "RunQuery",
    "TrackedRun",
    "Tracking",
    "collect",
    "package_versions",
    "run_queries",
    "train_stage",
]

logger = logging.getLogger(__name__)

#: per-evaluation metrics drawn as learning curves (history.json keys = MLflow metric keys)
CURVE_METRICS = ("valid_mae.1H", "valid_mae.13C", "loss_atom", "loss_mol")
#: columns of a learning-curve table
CURVE_SCHEMA = {"metric": pl.String, "step": pl.Int64, "value": pl.Float64}
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
    history: pl.DataFrame
    """``history.json``'s :data:`CURVE_METRICS` (:data:`CURVE_SCHEMA`), the curves shown when
    MLflow has none."""


@dataclass(frozen=True, slots=True)
class RunQuery:
    """Which MLflow run made an output: the newest finished run of ``stage`` that logged
    ``metrics`` (all of them, equal to within rounding)."""

    stage: str
    """The run's ``stage`` tag (``split``, ``evaluate``, ``train:<run>``)."""
    metrics: dict[str, float]
    curves: tuple[str, ...] = ()
    """Metrics whose history (every logged step) to read back: the learning curves."""


@dataclass(frozen=True, slots=True)
class TrackedRun:
    """The MLflow run that answered a :class:`RunQuery`."""

    run_id: str
    metrics: dict[str, float]
    """Its logged metrics (last value of each)."""
    curves: pl.DataFrame
    """Histories of the query's ``curves`` (:data:`CURVE_SCHEMA`)."""


@dataclass(frozen=True, slots=True)
class Tracking:
    """What the MLflow store said about these outputs (empty when tracking is off)."""

    status: str
    """Where runs were read from, or why not."""
    runs: dict[str, TrackedRun] = field(default_factory=dict)
    """Stage -> the run that produced the outputs shown (stages without a match are absent)."""
    page_run_id: str | None = None
    """The run of this report itself."""


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
    benchmarks: pl.DataFrame
    """Columns ``rule``, ``seconds``, ``max_rss_mb``."""
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
    return pl.DataFrame(rows, schema=CURVE_SCHEMA)


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


def _run_info(name: str, directory: Path) -> RunInfo:
    return RunInfo(
        name=name,
        config=_read_json(directory / "config.json"),
        metrics=_read_json(directory / "metrics.json"),
        history=_history_curves(json.loads((directory / "history.json").read_text())),
    )


def train_stage(run: str) -> str:
    """The ``stage`` tag of training run ``run``'s MLflow run (``litshift train``'s)."""
    return f"train:{run}"


def run_queries(data: ReportData) -> list[RunQuery]:
    """The MLflow runs behind ``data``: every training run with a finite test MAE (and its
    learning curves), the split stage (by the row counts of the tables it wrote, when both are
    present) and the evaluate stage (by its wall time)."""
    queries = [
        RunQuery(train_stage(run.name), {"test_mae": test_mae}, CURVE_METRICS)
        for run in data.runs.values()
        if (test_mae := run.metrics.get("test", {}).get("mae")) is not None
        and math.isfinite(test_mae)
    ]
    split_rows = {"weak_rows_kept": "weak_train", "literature_test_rows": "literature_test"}
    if all(view in data.tables for view in split_rows.values()):
        counts = {
            key: data.tables[view].select(pl.len()).collect().item()
            for key, view in split_rows.items()
        }
        queries.append(RunQuery("split", counts))
    queries.append(
        RunQuery("evaluate", {"wall_seconds": data.eval_summary.get("wall_seconds", -1)})
    )
    return queries


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
    run_names = [
        name
        for name in (config.get("train", {}).get("runs") or {})
        if (results / "models" / name / "metrics.json").exists()
    ]
    return ReportData(
        config=dict(config),
        metrics=tables.pop("eval_metrics").collect(),
        predictions=tables.pop("eval_predictions").collect(),
        eval_summary=_read_json(results / "eval" / "summary.json"),
        runs={name: _run_info(name, results / "models" / name) for name in run_names},
        tables=tables,
        benchmarks=_benchmarks(results / "benchmarks"),
        git=git_commit(repo),
        versions=package_versions(),
        verify_summary=_read_json(results / "verify" / "summary.json"),
        ablations=(
            pl.from_arrow(read_table(results / SUMMARY, "ablation_summary"))
            if (results / SUMMARY).exists()
            else None
        ),
    )
