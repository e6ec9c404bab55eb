"""``litshift report``: the pipeline's outputs -> ``results/report.html`` (logged to MLflow).

The page (:mod:`litshift.report`) is built from files; this command adds what only the MLflow
store knows (learning curves as logged, the split stage's leakage-guard counts, the run ids
behind the numbers). Each run is found by a number it logged that the files also hold
(:func:`litshift.report.collect.run_queries`), so a stale run of an earlier invocation is
never shown.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from litshift.cli.tracking import DEFAULT_EXPERIMENT, stage_run, tracking_enabled, tracking_uri
from litshift.data.io import atomic_path
from litshift.provenance import config_hash
from litshift.report.collect import (
    CURVE_SCHEMA,
    RunQuery,
    TrackedRun,
    Tracking,
    collect,
    run_queries,
)
from litshift.report.page import render
from litshift.report.roles import Roles
from litshift.usage import UsageError, check_paths

__all__ = ["configure_parser", "read_tracking", "run"]

logger = logging.getLogger(__name__)

STAGE = "report"
#: :attr:`Tracking.status` when tracking is off
TRACKING_OFF = "off (no tracking URI, or LITSHIFT_TRACKING=0): curves from history.json"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="results", help="the pipeline's results directory")
    parser.add_argument(
        "--config-json", required=True, help="the resolved pipeline config (JSON) behind the run"
    )
    parser.add_argument("--out", default="results/report.html", help="HTML file to write")
    parser.add_argument("--worst-molecules", type=int, default=6, help="gallery size per nucleus")
    parser.add_argument("--repo", default=".", help="git checkout whose commit the report names")
    parser.add_argument("inputs", nargs="*", help="outputs the report depends on (for Snakemake)")


def _matches(run: Any, expected: Mapping[str, float]) -> bool:
    logged = run.data.metrics
    return all(
        k in logged and math.isclose(logged[k], v, rel_tol=1e-9, abs_tol=1e-12)
        for k, v in expected.items()
    )


def read_tracking(queries: Sequence[RunQuery]) -> Tracking:
    """Answer ``queries`` from the finished runs of the configured MLflow experiment: for each,
    the newest run of its stage that logged its numbers (queries without one are left out)."""
    if not tracking_enabled():
        return Tracking(TRACKING_OFF)
    from mlflow.tracking import MlflowClient

    uri = tracking_uri()
    experiment_name = os.environ.get("MLFLOW_EXPERIMENT_NAME", DEFAULT_EXPERIMENT)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name(experiment_name)
    status = f"{uri}, experiment {experiment_name!r}"
    if experiment is None:
        return Tracking(status + " (no runs)")
    by_stage: dict[str, list[Any]] = {}
    for run in client.search_runs(
        [experiment.experiment_id],
        filter_string="attributes.status = 'FINISHED'",
        max_results=50000,
        order_by=["attributes.start_time DESC"],
    ):
        by_stage.setdefault(run.data.tags.get("stage", ""), []).append(run)
    found = {}
    for query in queries:
        run = next((r for r in by_stage.get(query.stage, []) if _matches(r, query.metrics)), None)
        if run is None:
            continue
        rows = [
            {"metric": key, "step": int(m.step), "value": float(m.value)}
            for key in query.curves
            for m in client.get_metric_history(run.info.run_id, key)
        ]
        curves = pl.DataFrame(rows, schema=CURVE_SCHEMA).sort("metric", "step")
        found[query.stage] = TrackedRun(run.info.run_id, dict(run.data.metrics), curves)
    return Tracking(status, found)


def _roles(config: Mapping[str, Any]) -> Roles:
    try:
        return Roles.from_config(config)
    except ValueError as err:
        raise UsageError(f"--config-json: {err}") from None


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={"input": args.inputs},
        input_dirs={"--results": args.results, "--repo": args.repo},
        outputs={"--out": (args.out, (".html",))},
    )
    started = time.perf_counter()
    config = json.loads(args.config_json)
    roles = _roles(config)
    params = {
        "results": args.results,
        "out": args.out,
        "config_hash": config_hash(config),
        "budget": config.get("budget"),
    }
    with stage_run(STAGE, params) as tracker:
        data = collect(args.results, config, args.repo)
        tracking = read_tracking(run_queries(data))
        if tracker.run_id is not None:
            tracking = replace(tracking, page_run_id=tracker.run_id)
        page = render(data, roles, tracking, args.worst_molecules)
        with atomic_path(args.out) as tmp:
            tmp.write_text(page, encoding="utf-8")
        tracker.log_artifact(Path(args.out))
        seconds = time.perf_counter() - started
        tracker.log_metrics({"bytes": len(page.encode()), "wall_seconds": seconds})
    logger.info("report: %s (%.0f kB, %.1f s)", args.out, len(page.encode()) / 1e3, seconds)
    return 0
