"""``litshift train``: curated tables + conformers -> one trained run (``results/models/{run}``).

What the run directory holds, and how a killed or retried job resumes, is
:mod:`litshift.train.run`. A run stopped by SIGTERM or SIGUSR1 exits with 128 + the signal
number and no outputs (:mod:`litshift.train.preemption`), so that Snakemake retries it or SLURM
requeues it.

Multi-process: ``litshift launch --procs-per-node N [--nodes M] -- train ...`` (torchrun, one
per node; :mod:`litshift.train.launch`); process 0 alone logs to MLflow: the run's parameters and
data counts, each evaluation, the final scores, the run files and the model in MLflow's pytorch
flavour.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch

from litshift.cli.tracking import StageRun, stage_run, tracking_uri
from litshift.model.transformer import ShiftTransformer
from litshift.train.config import TrainConfig
from litshift.train.preemption import TrainingPreempted
from litshift.train.resume import MODES
from litshift.train.run import TrainInputs, TrainOutcome, prepare_run, process_group, run_training
from litshift.usage import check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "train"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="assigned.parquet (curated)")
    parser.add_argument("--splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--weak", required=True, help="weak_train.parquet (leakage-filtered)")
    parser.add_argument(
        "--unassigned",
        default=None,
        help="curated unassigned.parquet: validation and test labels of train.atom_label_nuclei",
    )
    parser.add_argument(
        "--conformers", required=True, help="directory of conformer shards (shard-*.parquet)"
    )
    parser.add_argument("--out", required=True, help="run directory, e.g. results/models/semi")
    parser.add_argument(
        "--config-json",
        default="{}",
        help="run config as JSON (train: section merged with the run)",
    )
    parser.add_argument("--run-name", default=None, help="run name (default: name of --out)")
    parser.add_argument("--budget", default="manual", help="budget label written to metrics.json")
    parser.add_argument(
        "--resume",
        choices=MODES,
        nargs="?",
        const="always",
        default="auto",
        help="continue from OUT/checkpoints/last.pt: auto (default) when it is this run's and "
        "the run did not finish, always, never",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads per process (the job's share; more threads than free cores make "
        "CPU training many times slower)",
    )


def log_model(tracker: StageRun, model: ShiftTransformer) -> None:
    """Log ``model`` in MLflow's pytorch flavour so ``mlflow.pytorch.load_model`` reloads it."""
    if not tracker.active:
        return
    import mlflow.pytorch

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model"
        # pinned requirements skip MLflow's slow requirement inference (it re-imports the model)
        mlflow.pytorch.save_model(
            model.cpu(),
            path,
            serialization_format="pickle",
            pip_requirements=[f"torch=={torch.__version__.split('+')[0]}", "litshift"],
        )
        for file in sorted(p for p in path.rglob("*") if p.is_file()):
            relative = file.parent.relative_to(Path(tmp))
            tracker.log_artifact(file, str(relative))


def _log_outputs(tracker: StageRun, outcome: TrainOutcome) -> None:
    """Final scores, the run files and the MLflow model of a finished run."""
    result = outcome.result
    # the best model's scores; "valid_*" names are the per-evaluation curves
    prefixes = {"valid": "best_valid", "test": "test"}
    scores = {
        f"{prefixes[split]}_{k}": v for split, m in outcome.final.items() for k, v in m.items()
    }
    tracker.log_metrics(
        scores | {"train_molecules_per_s": result.molecules_per_s}, step=result.steps
    )
    for file in outcome.files:
        tracker.log_artifact(file)
    log_model(tracker, result.model)


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--weak": args.weak,
            "--unassigned": args.unassigned,
        },
        input_dirs={"--conformers": args.conformers},
        output_dirs={"--out": args.out},
    )
    started = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    config = TrainConfig.from_dict(json.loads(args.config_json))
    inputs = TrainInputs(
        assigned=Path(args.assigned),
        splits=Path(args.splits),
        weak=Path(args.weak),
        conformers=Path(args.conformers),
        unassigned=Path(args.unassigned) if args.unassigned else None,
    )
    out = Path(args.out)
    name = args.run_name or out.name
    try:
        with process_group(config):
            prepared = prepare_run(config, inputs, out, name, args.budget, args.resume)
            params = {
                "run": name,
                "budget": args.budget,
                "world_size": prepared.world,
                "resume": prepared.resume_reason,
                **config.to_dict(),
            }
            tracking: AbstractContextManager[StageRun] = (
                stage_run(f"{STAGE}:{name}", params)
                if prepared.rank == 0
                else nullcontext(StageRun(None, None, tracking_uri()))
            )
            with tracking as tracker:
                # data counts (match branches, skip reasons) are logged before a crash could
                # lose them
                tracker.log_dict(dict(sorted(prepared.counts.items())), "counts.json")
                run_training(
                    prepared,
                    started,
                    on_eval=lambda entry: tracker.log_metrics(entry, step=int(entry["step"])),
                    on_outputs=lambda outcome: _log_outputs(tracker, outcome),
                )
    except TrainingPreempted as stop:
        # no outputs: the job must fail, so that Snakemake retries it (or SLURM requeues it)
        logger.warning("%s: %s", name, stop)
        return 128 + stop.signum
    return 0
