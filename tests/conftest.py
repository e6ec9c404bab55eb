"""Shared fixtures: small real samples of ../shared/data and tracking switched off by default."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SDF = DATA / "nmrshiftdb2" / "nmr8k_assigned.sdf.gz"
JSONL = DATA / "nmrshiftdb2" / "nmrshiftdb2_records.jsonl.gz"
LIT_TRAIN = DATA / "literature" / "nmrextractor_train_1000.csv.gz"
LIT_TEST = DATA / "literature" / "nmrextractor_test_300.csv.gz"


@pytest.fixture(autouse=True)
def _no_tracking(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests do not write MLflow runs; tests of tracking turn it back on explicitly."""
    monkeypatch.setenv("LITSHIFT_TRACKING", "0")


def head_sdf(n: int) -> str:
    """The first ``n`` records of the shared NMRShiftDB2 SD file, as text."""
    lines: list[str] = []
    with gzip.open(SDF, "rt") as handle:
        for line in handle:
            lines.append(line)
            if line.strip() == "$$$$":
                n -= 1
                if n == 0:
                    break
    return "".join(lines)


def head_jsonl(n: int) -> list[str]:
    with gzip.open(JSONL, "rt") as handle:
        return list(itertools.islice(handle, n))


@pytest.fixture(scope="session")
def sdf_text() -> str:
    return head_sdf(150)


@pytest.fixture(scope="session")
def jsonl_lines() -> list[str]:
    return head_jsonl(400)
