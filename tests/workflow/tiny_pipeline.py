"""The tiny end-to-end set-up shared by the local and the SLURM pipeline tests.

One place builds the working folder (a slice of the shared data and a config.yaml pointing at
it) and runs Snakemake on it, so both tests run the same DAG on the same inputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import LIT_TEST, LIT_TRAIN, REPO, head_jsonl, head_sdf

__all__ = ["TARGET", "snakemake", "write_workdir"]

#: what both tests build
TARGET = "results/catalog.duckdb"


def write_workdir(workdir: Path, experiment: str) -> None:
    """Inputs (120 SD records, 300 JSON lines, the two literature files) and their config.yaml."""
    (workdir / "sample.sdf").write_text(head_sdf(120))
    (workdir / "sample.jsonl").write_text("".join(head_jsonl(300)))
    config = {
        "budget": "test-tiny",
        "inputs": {"nmrshiftdb2_sdf": str(workdir / "sample.sdf"),
                   "nmrshiftdb2_jsonl": str(workdir / "sample.jsonl")},
        "tracking": {"uri": f"sqlite:///{workdir}/results/mlflow/mlflow.db",
                     "experiment": experiment},
        "literature": {"sources": {
            "lit_train": {"path": str(LIT_TRAIN), "format": "csv", "text_column": "Paragraph",
                          "smiles_column": "SMILES", "role": "train"},
            "lit_test": {"path": str(LIT_TEST), "format": "csv", "text_column": "Paragraph",
                         "smiles_column": "SMILES", "role": "test"},
        }},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def snakemake(workdir: Path, *args: str, env: dict[str, str] | None = None,
              timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` (also the cwd: the SLURM plugin's -D).

    ``timeout`` only guards against a hang (a job SLURM never starts is waited for forever).
    """
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "-d", str(workdir),
         *args],
        cwd=workdir, env={**os.environ, **(env or {})}, capture_output=True, text=True,
        check=False, timeout=timeout,
    )
