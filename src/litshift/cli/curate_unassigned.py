"""``litshift curate-unassigned``: NMRShiftDB2 JSON lines -> molecule-level shift sets.

Checks the paths and the nuclei, logs the stage to MLflow and lets
:func:`litshift.ingest.curate_unassigned.curate_jsonl` do the work.
"""

from __future__ import annotations

import argparse
import logging

from litshift.cli.args import CURATION_OPTIONS, add_curation_arguments, comma_list, names
from litshift.cli.tracking import stage_run
from litshift.ingest.curate_unassigned import STAGE, curate_jsonl
from litshift.usage import PARQUET, UsageError, check_paths

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

#: config section ``curation`` -> flags (``--config-json``)
CONFIG_OPTIONS = CURATION_OPTIONS | {
    "unassigned_max_records": "max_records",
    "unassigned_uncapped_nuclei": ("uncapped_nuclei", comma_list),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("jsonl", help="NMRShiftDB2 JSON-lines file (optionally gzipped)")
    add_curation_arguments(parser, "unassigned")
    parser.add_argument(
        "--max-records",
        type=int,
        default=None,
        help="read only the first N records (subsample knob)",
    )
    parser.add_argument(
        "--uncapped-nuclei",
        default="",
        help="comma-separated nuclei whose spectra are read from every record, past "
        "--max-records (rare heteronuclei, e.g. 31P,19F)",
    )


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={"input": args.jsonl},
        outputs={"--out": (args.out, PARQUET), "--rejected": (args.rejected, PARQUET)},
    )
    nuclei = set(args.nuclei.split(","))
    uncapped = frozenset(names(args.uncapped_nuclei))
    if not uncapped <= nuclei:
        raise UsageError(
            f"--uncapped-nuclei {sorted(uncapped - nuclei)} not among --nuclei {sorted(nuclei)}"
        )
    windows = dict(args.window)
    params = {
        "input": args.jsonl,
        "nuclei": sorted(nuclei),
        "windows": windows,
        "max_records": args.max_records,
        "uncapped_nuclei": sorted(uncapped),
    }
    with stage_run(STAGE, params) as tracker:
        summary = curate_jsonl(
            args.jsonl, args.out, args.rejected, nuclei, windows, args.max_records, uncapped
        )
        tracker.log_metrics(summary)
        tracker.log_dict(summary, "summary.json")
        logger.info("%s: %s", STAGE, summary)
    return 0
