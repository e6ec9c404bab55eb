"""What the two NMRShiftDB2 curation stages share: their result and its final write."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from litshift.data.io import reject_row, write_table

__all__ = ["CurationResult", "write_result"]


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


def write_result(result: CurationResult, out: str, rejected: str, table: str) -> dict[str, int]:
    """Write the kept rows as ``table`` and the rejects (schema-checked, atomic).

    Returns the counters, sorted by name: the stage's summary (its MLflow metrics).
    """
    write_table(result.rows, out, table)
    write_table(result.rejected, rejected, "rejected")
    return dict(sorted(result.counts.items()))
