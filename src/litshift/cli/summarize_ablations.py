"""``litshift summarize-ablations``: ablation run folders -> ``results/ablations/summary.parquet``.

Reads every ``<run>_seed<seed>`` folder given, checks that each run has all configured seeds
and writes the schema-checked summary (:mod:`litshift.evaluate.ablations`).
"""

from __future__ import annotations

import argparse
import json
import logging

from litshift.cli.args import ConfigOption, comma_list
from litshift.cli.tracking import stage_run
from litshift.evaluate.ablations import write_summary
from litshift.usage import PARQUET, check_paths

__all__ = ["CONFIG_IGNORED", "CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "summarize_ablations"
#: config section ``ablations`` -> flags (``--config-json``)
CONFIG_OPTIONS: dict[str, ConfigOption] = {
    "seeds": ("seeds", comma_list),
    "runs": ("overrides_json", json.dumps),
}
#: the training budget of the runs (the train rule's)
CONFIG_IGNORED = frozenset({"max_steps"})


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="*", help="ablation run folders (<run>_seed<seed>)")
    parser.add_argument(
        "--seeds",
        default="0,1",
        help="comma-separated seeds every run must have (default: 0,1; '' for any)",
    )
    parser.add_argument(
        "--overrides-json", default="{}", help="declared overrides per run (ablations.runs)"
    )
    parser.add_argument("--out", required=True, help="Parquet file to write")


def run(args: argparse.Namespace) -> int:
    check_paths(input_dirs={"run": args.runs}, outputs={"--out": (args.out, PARQUET)})
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else None
    with stage_run(STAGE, {"runs": len(args.runs), "seeds": args.seeds}) as tracker:
        rows = write_summary(args.runs, args.out, seeds, json.loads(args.overrides_json))
        tracker.log_metrics({"rows": rows, "run_folders": len(args.runs)})
    logger.info("ablations: %d run folders -> %d rows in %s", len(args.runs), rows, args.out)
    return 0
