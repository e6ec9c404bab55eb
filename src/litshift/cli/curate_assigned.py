"""``litshift curate-assigned``: NMRShiftDB2 SD file -> atom-assigned spectra.

Checks the paths, logs the stage to MLflow and lets
:func:`litshift.ingest.curate_assigned.curate_sdf` do the work.
"""

from __future__ import annotations

import argparse
import logging

from litshift.cli.args import CURATION_OPTIONS, add_curation_arguments
from litshift.cli.tracking import stage_run
from litshift.ingest.curate_assigned import STAGE, curate_sdf
from litshift.usage import PARQUET, check_paths

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

#: config section ``curation`` (its nuclei and windows) -> flags (``--config-json``)
CONFIG_OPTIONS = CURATION_OPTIONS


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("sdf", help="NMRShiftDB2 SD file (.sd/.sdf, optionally gzipped)")
    add_curation_arguments(parser, "assigned")


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={"input": args.sdf},
        outputs={"--out": (args.out, PARQUET), "--rejected": (args.rejected, PARQUET)},
    )
    nuclei = set(args.nuclei.split(","))
    windows = dict(args.window)
    params = {"input": args.sdf, "nuclei": sorted(nuclei), "windows": windows}
    with stage_run(STAGE, params) as tracker:
        summary = curate_sdf(args.sdf, args.out, args.rejected, nuclei, windows)
        tracker.log_metrics(summary)
        tracker.log_dict(summary, "summary.json")
        logger.info("%s: %s", STAGE, summary)
    return 0
