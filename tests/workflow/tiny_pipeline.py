"""The tiny pipeline: one config and working folder for every test that runs the real DAG.

One place builds the working folder (a slice of the shared data and a config.yaml pointing at
it) and runs Snakemake on it, so the local and the SLURM pipeline tests run the same DAG on the
same inputs, and the tests that read a pipeline's outputs (evaluation, report, catalog) get
them from that DAG too, through :func:`shared_tiny_pipeline`, rather than from a copy of the
Snakefile's chain that could drift from it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from snakemake.utils import validate

from tests.conftest import LIT_TEST, LIT_TRAIN, REPO, head_jsonl, head_sdf
from tests.training_data import TEST_MODEL

__all__ = [
    "ABLATIONS",
    "RUNS",
    "TARGET",
    "TRACKED_RUNS",
    "pipeline_config",
    "shared_tiny_pipeline",
    "snakemake",
    "tracking_env",
    "write_workdir",
]

#: what the local and SLURM tests build: the whole DAG, from raw records to the report
TARGET = "results/report.html"
#: the ablation runs x seeds and their summary (`make ablations`' first target)
ABLATION_SUMMARY = "results/ablations/summary.parquet"
#: the headline runs (config train.runs)
RUNS: dict[str, dict[str, Any]] = {"supervised": {"mode": "supervised"}, "semi": {}}
#: the ablations (config ablations:), trained by the DAG only for :data:`ABLATION_SUMMARY`: the
#: fewest runs the report's sections need (a λ sweep of two, a solvent input against its λ
#: reference, weak-only), two seeds for a spread, at the headline runs' budget (max_steps null)
#: so that the report finds them comparable
ABLATIONS: dict[str, Any] = {
    "max_steps": None,
    "seeds": [0, 1],
    "runs": {
        "lambda_1": {"lambda_mol": 1.0},
        "lambda_16": {"lambda_mol": 16.0},
        "global_bias": {"model": {"solvent_mode": "global_bias"}},
        "weak_only": {"mode": "weak_only"},
    },
}
#: headline runs with an MLflow run: all of them, as the shared run tracks every job but the
#: ablations (tests reach the history.json fallback by collecting with tracking off)
TRACKED_RUNS = tuple(RUNS)
#: MLflow experiment of the shared run
EXPERIMENT = "tiny-pipeline"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _store(workdir: Path) -> str:
    return f"sqlite:///{workdir}/results/mlflow/mlflow.db"


def write_workdir(workdir: Path, experiment: str) -> None:
    """Inputs (120 SD records, 150 JSON lines, 25 + 60 literature rows) and their config.yaml.

    The tests prove the chain, not the accuracy: the weak sets are few (each molecule costs a
    conformer embedding), training is cut to 4 steps of a tiny model, and the verification
    benchmark keeps cases with 2 decoys, which these few molecules have. CSP5 is left on:
    evaluated when installed, else the report says so.
    """
    (workdir / "sample.sdf").write_text(head_sdf(120))
    (workdir / "sample.jsonl").write_text("".join(head_jsonl(150)))
    pl.read_csv(LIT_TRAIN).head(25).write_csv(workdir / "lit_train.csv")
    pl.read_csv(LIT_TEST).head(60).write_csv(workdir / "lit_test.csv")
    config = {
        "budget": "test-tiny",
        "inputs": {
            "nmrshiftdb2_sdf": str(workdir / "sample.sdf"),
            "nmrshiftdb2_jsonl": str(workdir / "sample.jsonl"),
        },
        "tracking": {"uri": _store(workdir), "experiment": experiment},
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
        # a fifth of the molecules held out, so that both nuclei have test atoms
        "split": {"fractions": [0.6, 0.2, 0.2], "seed": 3},
        "conformers": {"n_shards": 2, "workers": 1},
        "train": {
            "model": TEST_MODEL | {"uncertainty": "gaussian"},
            "max_steps": 4,
            "eval_every": 2,
            "checkpoint_every": 2,
            "batch_labeled": 4,
            "batch_weak": 4,
            "runs": RUNS,
        },
        "ablations": ABLATIONS,
        "evaluate": {"n_bootstrap": 20, "threads": 1},
        "verify": {"max_cases": 5, "min_decoys": 2},
    }
    # in order: the DAG trains and scores the runs in config order
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def pipeline_config(workdir: Path) -> dict[str, Any]:
    """The config the DAG in ``workdir`` ran: its config.yaml with the schema's defaults."""
    config = yaml.safe_load((workdir / "config.yaml").read_text())
    validate(config, str(SCHEMA))
    return config


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


@contextmanager
def tracking_env(workdir: Path, enabled: bool = True):
    """MLflow into the store of ``workdir`` (or off) for the block; the environment is restored.

    The variables outrank the session's private store (conftest) for in-process commands and
    for Snakemake and its jobs alike.
    """
    names = ("LITSHIFT_TRACKING", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(
        LITSHIFT_TRACKING="1" if enabled else "0",
        MLFLOW_TRACKING_URI=_store(workdir),
        MLFLOW_EXPERIMENT_NAME=EXPERIMENT,
    )
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_tiny_pipeline(workdir: Path) -> None:
    """Everything a report reads, built by Snakemake in ``workdir``.

    Two calls: the report's inputs with MLflow on, then the ablations with it off (nothing
    reads their MLflow runs, and tracking costs every training job seconds). The report itself
    is left out: the tests render their own, and the DAG's would be stale once the ablation
    summary exists (it reads the summary only when it is on disk).
    """
    write_workdir(workdir, EXPERIMENT)
    for target, tracked in ((TARGET, True), (ABLATION_SUMMARY, False)):
        with tracking_env(workdir, enabled=tracked):
            run = snakemake(workdir, "--cores", "2", target, "--omit-from", "report")
        if run.returncode != 0:
            logs = "\n".join(
                f"--- {log.relative_to(workdir)}\n{log.read_text()[-2000:]}"
                for log in sorted((workdir / "results" / "logs").rglob("*.log"))
            )
            pytest.fail(f"tiny pipeline failed on {target}:\n{run.stderr[-3000:]}\n{logs}")


def shared_tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The working folder of one :func:`run_tiny_pipeline` per test session, shared by xdist
    workers; its results are under ``results/``.

    The first worker to get the lock builds it; the others wait and reuse it (results must
    then be treated as read-only).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the directory all workers' temp roots live in
    workdir = base / "tiny-pipeline"
    with open(base / "tiny-pipeline.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (workdir / "complete").exists():
            shutil.rmtree(workdir, ignore_errors=True)
            workdir.mkdir()
            run_tiny_pipeline(workdir)
            (workdir / "complete").touch()
    return workdir
