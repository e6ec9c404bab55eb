"""Shared fixtures: small real samples of ../shared/data; tracking off and never into results/."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
SDF = DATA / "nmrshiftdb2" / "nmr8k_assigned.sdf.gz"
JSONL = DATA / "nmrshiftdb2" / "nmrshiftdb2_records.jsonl.gz"
LIT_TRAIN = DATA / "literature" / "nmrextractor_train_1000.csv.gz"
LIT_TEST = DATA / "literature" / "nmrextractor_test_300.csv.gz"


@pytest.fixture(autouse=True, scope="session")
def _private_tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test writes to the project's MLflow store (``results/mlflow`` of the checkout).

    Tracking is off, and a test that switches it on without a URI of its own logs to a store of
    this session; subprocesses and Snakemake runs inherit both. Session-scoped so that the
    module fixtures that train a model before any function fixture runs are covered too.
    """
    store = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LITSHIFT_TRACKING", "0")
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{store}/mlflow.db")
        for name in ("LITSHIFT_TRACKING_URI", "LITSHIFT_CONFIG_HASH", "LITSHIFT_PIPELINE_RUN"):
            patch.delenv(name, raising=False)
        yield


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
