"""A tiny but real ``results/`` folder: every stage's own CLI run on a slice of the shared data.

The chain is the Snakefile's (curate, ingest literature, gather rejects, split, collect
molecules, conformers, train, evaluate) called in-process with small inputs and a tiny model,
so evaluation and report tests see exactly the files, schemas and MLflow runs a pipeline run
leaves behind, in well under a minute. Each step writes a Snakemake-style benchmark TSV.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from litshift.cli import main
from litshift.train.ablations import ablation_config, ablation_names
from tests.conftest import LIT_TEST, LIT_TRAIN, REPO, head_jsonl, head_sdf
from tests.training_data import TEST_MODEL, config_json

__all__ = [
    "ABLATIONS",
    "RUNS",
    "TRACKED_RUNS",
    "pipeline_config",
    "run_tiny_pipeline",
    "shared_tiny_pipeline",
    "tracking_env",
]

#: the headline runs of the tiny pipeline: name -> overrides of tests.training_data.config_json
RUNS: dict[str, dict[str, Any]] = {"supervised": {"mode": "supervised"}, "semi": {}}
#: its ablations (as `make ablations` trains them: once per seed, then summarized)
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
#: runs trained with MLflow tracking on (the others exercise the history.json fallback)
TRACKED_RUNS = ("semi",)

BENCHMARK_HEADER = (
    "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"
)


@contextmanager
def tracking_env(root: Path, enabled: bool = True):
    """MLflow into ``root/results/mlflow`` (or off) for the block; the environment is restored."""
    saved = {
        k: os.environ.get(k)
        for k in (
            "LITSHIFT_TRACKING",
            "MLFLOW_TRACKING_URI",
            "MLFLOW_EXPERIMENT_NAME",
            "LITSHIFT_PIPELINE_RUN",
        )
    }
    os.environ.update(
        LITSHIFT_TRACKING="1" if enabled else "0",
        MLFLOW_TRACKING_URI=f"sqlite:///{root}/results/mlflow/mlflow.db",
        MLFLOW_EXPERIMENT_NAME="tiny-pipeline",
        LITSHIFT_PIPELINE_RUN="tiny-pipeline-run",
    )
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def pipeline_config(root: Path) -> dict[str, Any]:
    """The repository's config.yaml with this tiny run's budget, inputs and training runs."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["budget"] = "test-tiny"
    config["inputs"] = {
        "nmrshiftdb2_sdf": str(root / "sample.sdf"),
        "nmrshiftdb2_jsonl": str(root / "sample.jsonl"),
    }
    config["tracking"]["uri"] = f"sqlite:///{root}/results/mlflow/mlflow.db"
    # the uncertainty head as in config.yaml (ablation overrides deep-merge over this model)
    config["train"] |= json.loads(config_json(model=TEST_MODEL | {"uncertainty": "gaussian"}))
    config["train"]["runs"] = RUNS
    config["ablations"] = ABLATIONS
    return config


def _step(root: Path, name: str, argv: list[str]) -> None:
    """Run one CLI step from ``root`` and record its wall time as Snakemake would."""
    started = time.perf_counter()
    code = main([str(a) for a in argv])
    assert code == 0, f"step {name} failed"
    seconds = time.perf_counter() - started
    path = root / "results" / "benchmarks" / f"{name}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    clock = time.strftime("%H:%M:%S", time.gmtime(seconds))
    path.write_text(f"{BENCHMARK_HEADER}\n{seconds:.4f}\t{clock}\t" + "\t".join(["NA"] * 8) + "\n")


def _literature_sample(source: Path, rows: int, out: Path) -> Path:
    pl.read_csv(source, infer_schema_length=0).head(rows).write_csv(out)
    return out


def run_tiny_pipeline(root: Path) -> Path:
    """Run the chain into ``root/results`` (MLflow on, except for some runs); return it.

    The caller sets nothing up: tracking goes to ``root/results/mlflow`` through
    :func:`tracking_env`.
    """
    r = root / "results"
    (root / "sample.sdf").write_text(head_sdf(120))
    (root / "sample.jsonl").write_text("".join(head_jsonl(150)))
    lit = {
        "train_1000": (_literature_sample(LIT_TRAIN, 25, root / "train_1000.csv"), "train"),
        "test_300": (_literature_sample(LIT_TEST, 60, root / "test_300.csv"), "test"),
    }
    config = pipeline_config(root)
    with tracking_env(root):
        _step(
            root,
            "curate_assigned",
            [
                "curate-assigned",
                root / "sample.sdf",
                "--out",
                r / "curated/assigned.parquet",
                "--rejected",
                r / "curated/rejected/assigned.parquet",
            ],
        )
        _step(
            root,
            "curate_unassigned",
            [
                "curate-unassigned",
                root / "sample.jsonl",
                "--out",
                r / "curated/unassigned.parquet",
                "--rejected",
                r / "curated/rejected/unassigned.parquet",
            ],
        )
        for source, (path, role) in lit.items():
            _step(
                root,
                f"ingest_literature/{source}",
                [
                    "ingest-literature",
                    path,
                    r / f"curated/literature/{source}.parquet",
                    "--rejected",
                    r / f"curated/rejected/literature/{source}.parquet",
                    "--source",
                    source,
                    "--role",
                    role,
                ],
            )
        _step(
            root,
            "gather_literature",
            [
                "concat",
                "--schema",
                "literature",
                "--out",
                r / "curated/literature.parquet",
                *(r / f"curated/literature/{s}.parquet" for s in lit),
            ],
        )
        _step(
            root,
            "gather_rejected",
            [
                "concat",
                "--schema",
                "rejected",
                "--out",
                r / "curated/rejected.parquet",
                r / "curated/rejected/assigned.parquet",
                r / "curated/rejected/unassigned.parquet",
                *(r / f"curated/rejected/literature/{s}.parquet" for s in lit),
            ],
        )
        _step(
            root,
            "split",
            [
                "split",
                "--assigned",
                r / "curated/assigned.parquet",
                "--unassigned",
                r / "curated/unassigned.parquet",
                "--literature",
                r / "curated/literature.parquet",
                "--literature-test-sources",
                "test_300",
                "--fractions",
                "0.6,0.2,0.2",
                "--seed",
                "3",
                "--out-splits",
                r / "splits/assigned_splits.parquet",
                "--out-weak",
                r / "splits/weak_train.parquet",
                "--out-literature-test",
                r / "splits/literature_test.parquet",
            ],
        )
        _step(
            root,
            "collect_molecules",
            [
                "collect-molecules",
                "--assigned",
                r / "curated/assigned.parquet",
                "--weak",
                r / "splits/weak_train.parquet",
                r / "splits/literature_test.parquet",
                "--out",
                r / "molecules/molecules.parquet",
            ],
        )
        _step(
            root,
            "conformers/shard-0000",
            [
                "conformers",
                "shard",
                r / "molecules/molecules.parquet",
                "--shard",
                "0",
                "--n-shards",
                "1",
                "--out",
                r / "conformers/shard-0000.parquet",
                "--cache",
                r / "cache/conformers",
                "--workers",
                "1",
            ],
        )
        _step(
            root,
            "conformers/gather",
            [
                "conformers",
                "gather",
                r / "conformers/shard-0000.parquet",
                "--out",
                r / "conformers/done.json",
            ],
        )

        def train(out: Path, run_config: dict) -> list:
            """``litshift train`` arguments of one run, as the train rule passes them."""
            return [
                "train",
                "--assigned",
                r / "curated/assigned.parquet",
                "--splits",
                r / "splits/assigned_splits.parquet",
                "--weak",
                r / "splits/weak_train.parquet",
                "--conformers",
                r / "conformers",
                "--out",
                out,
                "--config-json",
                json.dumps(run_config),
                "--budget",
                config["budget"],
                "--threads",
                "1",
            ]

        for run in RUNS:
            with tracking_env(root, enabled=run in TRACKED_RUNS):
                _step(root, f"train/{run}", train(r / f"models/{run}", config["train"] | RUNS[run]))
        ablation_dirs = [r / f"ablations/models/{name}" for name in ablation_names(ABLATIONS)]
        with tracking_env(root, enabled=False):
            for out in ablation_dirs:
                run_config = ablation_config(config["train"], ABLATIONS, out.name)
                _step(root, f"ablations/train/{out.name}", train(out, run_config))
        _step(
            root,
            "summarize_ablations",
            [
                "summarize-ablations",
                *ablation_dirs,
                "--seeds",
                "0,1",
                "--overrides-json",
                json.dumps(ABLATIONS["runs"]),
                "--out",
                r / "ablations/summary.parquet",
            ],
        )
        _step(
            root,
            "evaluate",
            [
                "evaluate",
                "--assigned",
                r / "curated/assigned.parquet",
                "--splits",
                r / "splits/assigned_splits.parquet",
                "--literature-test",
                r / "splits/literature_test.parquet",
                "--weak",
                r / "splits/weak_train.parquet",
                "--conformers",
                r / "conformers",
                "--models",
                *(r / f"models/{run}/model.pt" for run in RUNS),
                "--out-predictions",
                r / "eval/predictions.parquet",
                "--out-metrics",
                r / "eval/metrics.parquet",
                "--out-uncertainty",
                r / "eval/uncertainty.parquet",
                "--out-summary",
                r / "eval/summary.json",
                "--n-bootstrap",
                "200",
                "--budget",
                config["budget"],
                "--threads",
                "1",
            ],
        )
        _step(
            root,
            "verify_benchmark",
            [
                "verify-benchmark",
                "--assigned",
                r / "curated/assigned.parquet",
                "--splits",
                r / "splits/assigned_splits.parquet",
                "--literature-test",
                r / "splits/literature_test.parquet",
                "--conformers",
                r / "conformers",
                "--pool",
                r / "molecules/molecules.parquet",
                r / "curated/unassigned.parquet",
                "--models",
                r / "models/semi/model.pt",
                r / "models/supervised/model.pt",
                "--out",
                r / "verify/benchmark.parquet",
                "--out-summary",
                r / "verify/summary.json",
                "--max-cases",
                "3",
                "--min-decoys",
                "2",
                "--budget",
                config["budget"],
                "--threads",
                "1",
            ],
        )
    return r


def shared_tiny_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The root of one :func:`run_tiny_pipeline` per test session, shared by xdist workers.

    The first worker to get the lock builds it; the others wait and reuse it (results must
    then be treated as read-only).
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the directory all workers' temp roots live in
    root = base / "tiny-pipeline"
    with open(base / "tiny-pipeline.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "complete").exists():
            shutil.rmtree(root, ignore_errors=True)
            root.mkdir()
            run_tiny_pipeline(root)
            (root / "complete").touch()
    return root
