"""``litshift hose-baseline``: HOSE per heteronucleus (31P, 19F) on held-out molecule-level sets.

Checks the paths, logs the stage to MLflow (metrics: MAE per model, split and nucleus) and lets
:func:`litshift.evaluate.heteronuclei.score_heteronuclei` do the work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from litshift.chem.matching import POLICIES
from litshift.cli.args import ConfigOption, comma_list, names
from litshift.cli.predictors import (
    DEVICE_CONFIG,
    HOSE_CONFIG,
    SCORING_CONFIG,
    add_budget_argument,
    add_device_arguments,
    add_hose_arguments,
    add_scoring_arguments,
    run_params,
    scoring_options,
)
from litshift.cli.tracking import stage_run
from litshift.evaluate.heteronuclei import (
    STAGE,
    HeteronucleiInputs,
    HeteronucleiOptions,
    HeteronucleiOutputs,
    score_heteronuclei,
)
from litshift.evaluate.scoring import ScoringOptions
from litshift.usage import JSON, PARQUET, UsageError, check_paths

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

#: ``split.heteronuclei``, the HOSE, scoring and device settings of ``evaluate`` and
#: ``train.match_policy`` -> flags (``--config-json``)
CONFIG_OPTIONS: dict[str, ConfigOption] = {
    "heteronuclei": ("nuclei", comma_list),
    "match_policy": "match_policy",
    **HOSE_CONFIG,
    **SCORING_CONFIG,
    **DEVICE_CONFIG,
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument("--splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--weak", required=True, help="weak_train.parquet")
    parser.add_argument("--unassigned", required=True, help="curated unassigned.parquet")
    parser.add_argument("--literature", default=None, help="curated literature.parquet")
    parser.add_argument(
        "--literature-test-sources",
        default="",
        help="comma-separated literature sources held out as the literature test set",
    )
    parser.add_argument("--literature-test", required=True, help="literature_test.parquet")
    parser.add_argument("--nuclei", required=True, help="comma-separated nuclei, e.g. 31P,19F")
    parser.add_argument("--split", default="test", help="held-out split scored (default: test)")
    parser.add_argument(
        "--match-policy",
        choices=POLICIES,
        default=ScoringOptions().match_policy,
        help="count-mismatch policy of the sorted matching (the training one)",
    )
    add_hose_arguments(parser)
    add_scoring_arguments(parser)
    add_budget_argument(parser)
    parser.add_argument(
        "--models",
        nargs="*",
        default=[],
        help="model.pt of trained runs with heads for --nuclei, scored beside HOSE",
    )
    parser.add_argument("--conformers", default=None, help="conformer shards (with --models)")
    add_device_arguments(parser)
    parser.add_argument("--out-predictions", required=True, help="predictions.parquet to write")
    parser.add_argument("--out-metrics", required=True, help="metrics.parquet to write")
    parser.add_argument("--out-summary", required=True, help="summary.json to write")


def run(args: argparse.Namespace) -> int:
    if args.models and args.conformers is None:
        raise UsageError("--models needs --conformers")
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--weak": args.weak,
            "--unassigned": args.unassigned,
            "--literature": args.literature,
            "--literature-test": args.literature_test,
            "--models": args.models,
        },
        input_dirs={"--conformers": args.conformers},
        outputs={
            "--out-predictions": (args.out_predictions, PARQUET),
            "--out-metrics": (args.out_metrics, PARQUET),
            "--out-summary": (args.out_summary, JSON),
        },
    )
    inputs = HeteronucleiInputs(
        assigned=Path(args.assigned),
        splits=Path(args.splits),
        weak=Path(args.weak),
        unassigned=Path(args.unassigned),
        literature=Path(args.literature) if args.literature else None,
        literature_test_sources=frozenset(names(args.literature_test_sources)),
        literature_test=Path(args.literature_test),
        models=tuple(Path(p) for p in args.models),
        conformers=Path(args.conformers) if args.conformers else None,
    )
    options = HeteronucleiOptions(
        nuclei=tuple(names(args.nuclei)),
        split=args.split,
        hose_max_radius=args.hose_max_radius,
        hose_min_count=args.hose_min_count,
        scoring=scoring_options(args),
        batch_size=args.batch_size,
        device=args.device,
    )
    outputs = HeteronucleiOutputs(
        Path(args.out_predictions), Path(args.out_metrics), Path(args.out_summary)
    )
    with stage_run(STAGE, run_params(args)) as tracker:
        result = score_heteronuclei(inputs, outputs, options)
        headline = result.metrics.filter(pl.col("breakdown") == "all")
        tracker.log_metrics(
            {
                f"{r['model']}.{r['split']}.mae.{r['nucleus']}": r["mae"]
                for r in headline.iter_rows(named=True)
            }
        )
        tracker.log_dict(result.summary, "summary.json")
    return 0
