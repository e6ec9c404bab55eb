"""The tiny end-to-end set-up shared by the local and the SLURM pipeline tests.

One place builds the working folder (a slice of the shared data and a config.yaml pointing at
it) and runs Snakemake on it, so both tests run the same DAG on the same inputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml

from tests.conftest import LIT_TEST, LIT_TRAIN, REPO, head_jsonl, head_sdf

__all__ = ["TARGET", "snakemake", "write_workdir"]

#: what both tests build: the whole DAG, from raw records to the report
TARGET = "results/report.html"


def write_workdir(workdir: Path, experiment: str) -> None:
    """Inputs (120 SD records, 300 JSON lines, 150 + 60 literature rows) and their config.yaml.

    Training is cut to a few steps of two runs: the test proves the chain, not the accuracy.
    """
    (workdir / "sample.sdf").write_text(head_sdf(120))
    (workdir / "sample.jsonl").write_text("".join(head_jsonl(300)))
    pl.read_csv(LIT_TRAIN).head(150).write_csv(workdir / "lit_train.csv")
    pl.read_csv(LIT_TEST).head(60).write_csv(workdir / "lit_test.csv")
    config = {
        "budget": "test-tiny",
        "inputs": {
            "nmrshiftdb2_sdf": str(workdir / "sample.sdf"),
            "nmrshiftdb2_jsonl": str(workdir / "sample.jsonl"),
        },
        "tracking": {
            "uri": f"sqlite:///{workdir}/results/mlflow/mlflow.db",
            "experiment": experiment,
        },
        "literature": {
            "sources": {
                "lit_train": {
                    "path": str(workdir / "lit_train.csv"),
                    "format": "csv",
                    "text_column": "Paragraph",
                    "smiles_column": "SMILES",
                    "role": "train",
                },
                "lit_test": {
                    "path": str(workdir / "lit_test.csv"),
                    "format": "csv",
                    "text_column": "Paragraph",
                    "smiles_column": "SMILES",
                    "role": "test",
                },
            }
        },
        "conformers": {"n_shards": 2, "workers": 1},
        "train": {
            "max_steps": 4,
            "eval_every": 2,
            "checkpoint_every": 2,
            "batch_labeled": 4,
            "batch_weak": 4,
            "runs": {"supervised": {"mode": "supervised"}, "semi": {}},
        },
        "evaluate": {"n_bootstrap": 20, "csp5": False, "threads": 1},
        "verify": {"max_cases": 5},
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))


def snakemake(
    workdir: Path, *args: str, env: dict[str, str] | None = None, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """Run the repository's Snakefile in ``workdir`` (also the cwd: the SLURM plugin's -D).

    ``timeout`` only guards against a hang (a job SLURM never starts is waited for forever).
    """
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(REPO / "Snakefile"),
            "-d",
            str(workdir),
            *args,
        ],
        cwd=workdir,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
