"""``litshift verify-benchmark``: true test structures ranked against same-formula decoys.

Checks the paths, logs the stage to MLflow (metrics: top-k accuracy per split, model and
nucleus set) and lets :func:`litshift.verify.benchmark.benchmark` do the work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from litshift.cli.predictors import (
    ERROR_MODEL_CONFIG,
    PREDICTOR_CONFIG,
    add_error_model_arguments,
    add_predictor_arguments,
    error_model_from_args,
    held_out_inputs,
    model_files,
    predictor_options,
    run_params,
)
from litshift.cli.tracking import stage_run
from litshift.usage import JSON, PARQUET, check_device, check_paths
from litshift.verify.benchmark import STAGE, TOP_K, BenchmarkOptions, benchmark

__all__ = ["CONFIG_IGNORED", "CONFIG_OPTIONS", "configure_parser", "run"]

_DEFAULTS = BenchmarkOptions()

#: config section ``verify``, the predictor settings of ``evaluate`` and ``train.match_policy``
#: -> flags (``--config-json``)
CONFIG_OPTIONS = (
    PREDICTOR_CONFIG
    | ERROR_MODEL_CONFIG
    | {key: key for key in ("max_cases", "n_decoys", "min_decoys", "n_positional", "seed")}
)
#: the trained runs it scores: the rule's --models inputs
CONFIG_IGNORED = frozenset({"runs"})


def configure_parser(parser: argparse.ArgumentParser) -> None:
    add_predictor_arguments(parser)
    parser.add_argument(
        "--pool",
        nargs="+",
        required=True,
        help="tables with a smiles column whose molecules are formula-mate decoys "
        "(molecules.parquet, curated tables)",
    )
    parser.add_argument("--out", required=True, help="verify_benchmark.parquet")
    parser.add_argument("--out-summary", required=True, help="summary JSON (accuracy table)")
    parser.add_argument(
        "--max-cases",
        type=int,
        default=_DEFAULTS.max_cases,
        help="usable cases per test split (seeded pick; default all)",
    )
    parser.add_argument(
        "--n-decoys", type=int, default=_DEFAULTS.n_decoys, help="most decoys per case"
    )
    parser.add_argument(
        "--min-decoys", type=int, default=_DEFAULTS.min_decoys, help="fewer: the case is skipped"
    )
    parser.add_argument(
        "--n-positional",
        type=int,
        default=_DEFAULTS.n_positional,
        help="positional isomers taken first per case",
    )
    add_error_model_arguments(parser)
    parser.add_argument(
        "--seed", type=int, default=_DEFAULTS.seed, help="case pick and decoy order"
    )


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--literature-test": args.literature_test,
            "--pool": args.pool,
            "--models": model_files(args.models),
        },
        input_dirs={"--conformers": args.conformers},
        outputs={"--out": (args.out, PARQUET), "--out-summary": (args.out_summary, JSON)},
    )
    check_device(args.device)
    options = BenchmarkOptions(
        predictors=predictor_options(args),
        error_model=error_model_from_args(args),
        match_policy=args.match_policy,
        max_cases=args.max_cases,
        n_decoys=args.n_decoys,
        min_decoys=args.min_decoys,
        n_positional=args.n_positional,
        seed=args.seed,
        budget=args.budget,
    )
    with stage_run(STAGE, run_params(args, omit=frozenset({"pool"}))) as tracker:
        result = benchmark(
            held_out_inputs(args),
            [Path(p) for p in args.pool],
            Path(args.out),
            Path(args.out_summary),
            options,
        )
        tracker.log_metrics(
            {
                # MLflow names allow no "+": 1H+13C -> 1H_13C
                f"{r['split']}.{r['model']}.{r['nuclei'].replace('+', '_')}.top{k}": r[f"top{k}"]
                for r in result.accuracy.to_dicts()
                for k in TOP_K
            }
            | {"wall_seconds": result.summary["wall_seconds"]}
        )
        tracker.log_dict(result.summary, "summary.json")
    return 0
