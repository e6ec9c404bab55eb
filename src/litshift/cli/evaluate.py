"""``litshift evaluate``: every trained model, HOSE and CSP5 scored on the held-out test sets.

Checks the paths, logs the stage to MLflow (params: the options, the runs by name; metrics: the
headline MAE per split, level, model and nucleus) and lets
:func:`litshift.evaluate.comparison.evaluate` do the work.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import polars as pl

from litshift.cli.predictors import (
    PREDICTOR_CONFIG,
    SCORING_CONFIG,
    add_predictor_arguments,
    add_scoring_arguments,
    held_out_inputs,
    model_files,
    predictor_options,
    run_params,
    scoring_options,
)
from litshift.cli.tracking import stage_run
from litshift.evaluate.comparison import STAGE, EvaluationOptions, EvaluationOutputs, evaluate
from litshift.usage import JSON, PARQUET, check_device, check_paths

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

#: config section ``evaluate`` and ``train.match_policy`` -> flags (``--config-json``)
CONFIG_OPTIONS = PREDICTOR_CONFIG | SCORING_CONFIG


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_predictor_arguments(parser)
    parser.add_argument(
        "--weak", required=True, help="weak_train.parquet (training molecules for similarity)"
    )
    parser.add_argument("--out-predictions", required=True, help="predictions.parquet")
    parser.add_argument("--out-metrics", required=True, help="metrics.parquet")
    parser.add_argument("--out-uncertainty", required=True, help="uncertainty.parquet")
    parser.add_argument("--out-summary", required=True, help="summary.json")
    add_scoring_arguments(parser)


def _headline(metrics: pl.DataFrame) -> dict[str, float]:
    """``<split>.<level>.<model>.mae.<nucleus>`` of the ``all`` rows, for MLflow."""
    rows = metrics.filter(pl.col("breakdown") == "all")
    return {
        f"{r['split']}.{r['level']}.{r['model']}.mae.{r['nucleus']}": r["mae"]
        for r in rows.iter_rows(named=True)
    }


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--literature-test": args.literature_test,
            "--weak": args.weak,
            "--models": model_files(args.models),
        },
        input_dirs={"--conformers": args.conformers},
        outputs={
            "--out-predictions": (args.out_predictions, PARQUET),
            "--out-metrics": (args.out_metrics, PARQUET),
            "--out-uncertainty": (args.out_uncertainty, PARQUET),
            "--out-summary": (args.out_summary, JSON),
        },
    )
    check_device(args.device)
    options = EvaluationOptions(predictor_options(args), scoring_options(args))
    outputs = EvaluationOutputs(
        Path(args.out_predictions),
        Path(args.out_metrics),
        Path(args.out_uncertainty),
        Path(args.out_summary),
    )
    with stage_run(STAGE, run_params(args)) as tracker:
        result = evaluate(held_out_inputs(args), Path(args.weak), outputs, options)
        tracker.log_metrics(
            _headline(result.metrics) | {"wall_seconds": result.summary["wall_seconds"]}
        )
        tracker.log_dict(result.summary, "summary.json")
    logger.info(
        "evaluate: %d predictions, %d metric rows", result.n_predictions, result.metrics.height
    )
    return 0
