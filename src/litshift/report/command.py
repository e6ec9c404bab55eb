"""``litshift report``: the pipeline's outputs -> ``results/report.html`` (logged to MLflow)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from litshift.cli.tracking import stage_run
from litshift.data.io import atomic_path
from litshift.provenance import config_hash
from litshift.report.collect import collect
from litshift.report.page import render
from litshift.usage import check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "report"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--results", default="results", help="the pipeline's results directory")
    parser.add_argument(
        "--config-json", required=True, help="the resolved pipeline config (JSON) behind the run"
    )
    parser.add_argument("--out", default="results/report.html", help="HTML file to write")
    parser.add_argument("--worst-molecules", type=int, default=6, help="gallery size per nucleus")
    parser.add_argument("--repo", default=".", help="git checkout whose commit the report names")
    parser.add_argument("inputs", nargs="*", help="outputs the report depends on (for Snakemake)")


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={"input": args.inputs},
        input_dirs={"--results": args.results, "--repo": args.repo},
        outputs={"--out": (args.out, (".html",))},
    )
    started = time.perf_counter()
    config = json.loads(args.config_json)
    params = {
        "results": args.results,
        "out": args.out,
        "config_hash": config_hash(config),
        "budget": config.get("budget"),
    }
    with stage_run(STAGE, params) as tracker:
        data = collect(args.results, config, args.repo)
        if tracker.run_id is not None:
            data.mlflow_runs["report (this page)"] = tracker.run_id
        page = render(data, args.worst_molecules)
        with atomic_path(args.out) as tmp:
            tmp.write_text(page, encoding="utf-8")
        tracker.log_artifact(Path(args.out))
        seconds = time.perf_counter() - started
        tracker.log_metrics({"bytes": len(page.encode()), "wall_seconds": seconds})
    logger.info("report: %s (%.0f kB, %.1f s)", args.out, len(page.encode()) / 1e3, seconds)
    return 0
