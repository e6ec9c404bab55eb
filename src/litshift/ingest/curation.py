"""What the two NMRShiftDB2 curation stages share: their result, options and final write."""

from __future__ import annotations

import argparse
import logging
from collections import Counter
from dataclasses import dataclass, field

from litshift.chem.nuclei import add_window_argument
from litshift.cli.tracking import StageRun
from litshift.data.io import reject_row, write_table

__all__ = ["CurationResult", "add_curation_arguments", "finish"]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class CurationResult:
    """Kept rows, reject rows and counters of one curation stage."""

    source: str
    stage: str
    rows: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)

    def reject(self, record_id: str, message: str, excerpt: str) -> None:
        """Record a reject; ``message`` is ``"reason: detail"`` (see :func:`reject_row`)."""
        self.rejected.append(reject_row(self.source, record_id, self.stage, message, excerpt))
        self.counts[f"rejected.{self.rejected[-1]['reason']}"] += 1


def add_curation_arguments(parser: argparse.ArgumentParser, table: str) -> None:
    """``--out``, ``--rejected``, ``--nuclei`` and ``--window`` of a curation stage."""
    parser.add_argument("--out", required=True, help=f"{table}.parquet to write")
    parser.add_argument("--rejected", required=True, help="rejected rows (Parquet) to write")
    parser.add_argument("--nuclei", default="1H,13C", help="comma-separated nuclei to keep")
    add_window_argument(parser)


def finish(result: CurationResult, args: argparse.Namespace, table: str, tracker: StageRun) -> None:
    """Write both tables (schema-checked, atomic) and log the counters to MLflow."""
    write_table(result.rows, args.out, table)
    write_table(result.rejected, args.rejected, "rejected")
    summary = dict(sorted(result.counts.items()))
    tracker.log_metrics(summary)
    tracker.log_dict(summary, "summary.json")
    logger.info("%s: %s", result.stage, summary)
