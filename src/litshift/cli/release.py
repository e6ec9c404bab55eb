"""``litshift release``: package finished training runs (one, or several as a deep ensemble) as
the model shipped with litshift (:mod:`litshift.release.package`)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from litshift.inference.shipped import RELEASE_DIR
from litshift.release.package import EVAL_FILES, missing_run_files, package_release
from litshift.usage import UsageError, check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)

DEFAULT_COMMAND = "make release"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run",
        action="append",
        required=True,
        help="finished run directory (model.pt, metrics.json, ...); repeat for a deep ensemble",
    )
    parser.add_argument(
        "--out", default=str(RELEASE_DIR), help=f"package folder to write (default {RELEASE_DIR})"
    )
    parser.add_argument(
        "--command", default=DEFAULT_COMMAND, help="the command that trained the run (on the card)"
    )
    parser.add_argument(
        "--commit",
        default=None,
        help="git commit the run was trained at (default: the one in its metrics.json)",
    )
    parser.add_argument(
        "--eval-metrics",
        default=None,
        help="results/eval/metrics.parquet of the same split: the other predictors' test MAE "
        "(HOSE, pipeline runs) goes on the card beside this model's",
    )
    parser.add_argument(
        "--evaluation",
        default=None,
        help="litshift evaluate output folder that scored the runs as one predictor (make "
        "release: results/release): the card's figures; required for several --run",
    )


def run(args: argparse.Namespace) -> int:
    # --eval-metrics is optional even when given: `make release` names it before it exists
    check_paths(
        inputs={"--evaluation": [str(Path(args.evaluation) / f) for f in EVAL_FILES]}
        if args.evaluation
        else {},
        input_dirs={"--run": args.run},
        output_dirs={"--out": args.out},
    )
    run_dirs, out = [Path(run) for run in args.run], Path(args.out)
    for run_dir in run_dirs:
        missing = missing_run_files(run_dir)
        if missing:
            raise SystemExit(
                f"litshift release: {run_dir} is not a finished run (missing {missing})"
            )
    try:
        test_mae = package_release(
            run_dirs,
            out,
            args.command,
            args.commit,
            Path(args.eval_metrics) if args.eval_metrics else None,
            Path(args.evaluation) if args.evaluation else None,
        )
    except ValueError as err:
        raise UsageError(str(err)) from None
    logger.info(
        "release model written to %s (test MAE %s)",
        out,
        {k: round(v, 3) for k, v in test_mae.items()},
    )
    return 0
