"""One training run, the library of ``litshift train``: curated tables + conformers -> a run
directory (``results/models/{run}``).

Outputs of a run directory:

- ``model.pt``: the best-validation checkpoint, self-describing (what ``litshift predict`` loads),
  with the applicability domain of its training molecules (:mod:`litshift.inference.domain`);
- ``metrics.json``: final validation/test MAE per nucleus and solvent class, data counts
  (including every skip reason and match branch), throughput, wall time, budget label;
- ``history.json``: one entry per evaluation (losses, learning rate, validation MAE, molecules/s);
- ``config.json``: the run configuration;
- ``calibration.json``: the std scale ``litshift predict`` applies (fitted on the validation split);
- ``checkpoints/last.pt``, ``checkpoints/best.pt``: for resuming; ``checkpoints/finished.json``
  once the outputs are complete (:mod:`litshift.train.resume`: a killed or retried job reruns the
  same command and continues from ``last.pt``, a finished run's rerun starts afresh).

SIGTERM (preemption) or SIGUSR1 (``sbatch --signal=USR1@120``) during training ends the run
after the current step with ``last.pt`` saved and no other output:
:class:`~litshift.train.preemption.TrainingPreempted` reaches the caller.

A run takes two calls inside :func:`process_group`: :func:`prepare_run` builds the examples
and decides whether to resume, :func:`run_training` trains and writes the outputs. The caller
opens its MLflow run between them, because its parameters name what the first decided (world
size, why the run resumes or not). Multi-process (``litshift launch``, torchrun): every process
builds the examples and trains; process 0 alone writes files and calls the callbacks.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from litshift.data.datasets import LabeledExample
from litshift.data.io import atomic_path
from litshift.inference.domain import build_domain
from litshift.inference.prediction import atom_mae
from litshift.inference.predictors import CALIBRATION_FILE, calibrate_model, coverage_metrics
from litshift.inference.runtime import rank_world, resolve_device
from litshift.provenance import git_commit
from litshift.train.config import TrainConfig
from litshift.train.examples import load_data
from litshift.train.resume import (
    clear_checkpoints,
    data_fingerprint,
    mark_finished,
    resume_decision,
)
from litshift.train.trainer import TrainData, TrainResult, train

__all__ = [
    "RUN_FILES",
    "PreparedRun",
    "TrainInputs",
    "TrainOutcome",
    "prepare_run",
    "process_group",
    "run_training",
]

logger = logging.getLogger(__name__)

#: the run files a finished run is made of, in the order a caller should keep them
RUN_FILES = ("config.json", "metrics.json", "history.json", "model.pt", CALIBRATION_FILE)


@dataclass(frozen=True, slots=True)
class TrainInputs:
    """The files one run reads."""

    assigned: Path
    """assigned.parquet (curated)."""
    splits: Path
    """assigned_splits.parquet."""
    weak: Path
    """weak_train.parquet (leakage-filtered)."""
    conformers: Path
    """Directory of conformer shards (``shard-*.parquet``)."""
    unassigned: Path | None = None
    """Curated unassigned.parquet: validation and test labels of ``train.atom_label_nuclei``."""


@dataclass(slots=True)
class PreparedRun:
    """A run ready to train: its examples and where it starts (alike on every process)."""

    config: TrainConfig
    out: Path
    """The run directory."""
    name: str
    budget: str
    """Budget label written to ``metrics.json``."""
    data: TrainData
    test: list[LabeledExample]
    counts: Counter[str]
    """Every keep/skip count of the examples (match branches, skip reasons)."""
    fingerprint: str
    """:func:`~litshift.train.resume.data_fingerprint` of ``data``."""
    resume: bool
    """Continue from ``checkpoints/last.pt``."""
    resume_reason: str
    """Why it resumes or starts afresh."""
    rank: int
    world: int


@dataclass(frozen=True, slots=True)
class TrainOutcome:
    """A finished run, as process 0 wrote it."""

    result: TrainResult
    """The training loop's result; ``model`` holds the best weights."""
    final: dict[str, dict[str, float]]
    """The best model's ``valid`` and ``test`` scores (MAE per nucleus and solvent class; on
    test also the coverage of the calibrated intervals)."""
    files: tuple[Path, ...]
    """The run files (:data:`RUN_FILES` in the run directory)."""


@contextmanager
def process_group(config: TrainConfig) -> Iterator[None]:
    """Join the process group torchrun describes in the environment for the block.

    A single process (no ``WORLD_SIZE`` > 1) joins none.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        yield
        return
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = resolve_device(config.device, local_rank).type == "cuda"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def _decide_resume(
    ckpt_dir: Path, mode: str, config: TrainConfig, fingerprint: str, rank: int
) -> tuple[bool, str]:
    """Process 0 decides (and clears stale checkpoints) and tells the others, so that no
    process reads a checkpoint process 0 is deleting."""
    decision = [resume_decision(ckpt_dir, mode, config, fingerprint) if rank == 0 else None]
    if rank == 0 and not decision[0][0]:
        clear_checkpoints(ckpt_dir)
    if dist.is_available() and dist.is_initialized():
        dist.broadcast_object_list(decision, src=0)
    resume, why = decision[0]
    return resume, why


def prepare_run(
    config: TrainConfig,
    inputs: TrainInputs,
    out: Path,
    name: str,
    budget: str,
    resume: str = "auto",
) -> PreparedRun:
    """Build the run's examples and decide whether it continues from ``checkpoints/last.pt``.

    ``resume`` is a mode of :data:`litshift.train.resume.MODES`; checkpoints of another run are
    deleted when it starts afresh.
    """
    rank, world = rank_world()
    data, test, counts = load_data(
        inputs.assigned, inputs.splits, inputs.weak, inputs.conformers, config, inputs.unassigned
    )
    logger.info(
        "%s: %d train, %d valid, %d test labeled; %d weak examples",
        name,
        len(data.train),
        len(data.valid),
        len(test),
        len(data.weak),
    )
    fingerprint = data_fingerprint(data)
    resumes, why = _decide_resume(out / "checkpoints", resume, config, fingerprint, rank)
    logger.info("%s: %s: %s", name, "resuming" if resumes else "training from scratch", why)
    return PreparedRun(
        config=config,
        out=out,
        name=name,
        budget=budget,
        data=data,
        test=test,
        counts=counts,
        fingerprint=fingerprint,
        resume=resumes,
        resume_reason=why,
        rank=rank,
        world=world,
    )


def _write_json(data: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))


def _write_outputs(
    out: Path,
    config: TrainConfig,
    result: TrainResult,
    final: dict[str, dict[str, float]],
    summary: dict[str, Any],
) -> None:
    """Write ``metrics.json``, ``history.json``, ``config.json`` and ``model.pt`` (best)."""
    metrics = {
        **summary,
        **final,
        "best_step": result.best_step,
        "steps": result.steps,
        "stop_reason": result.stop_reason,
        "train_seconds": result.train_seconds,
        "molecules_per_s": result.molecules_per_s,
        "n_parameters": sum(p.numel() for p in result.model.parameters()),
    }
    _write_json(config.to_dict(), out / "config.json")
    _write_json(result.history, out / "history.json")
    _write_json(metrics, out / "metrics.json")
    with atomic_path(out / "model.pt") as tmp:
        shutil.copyfile(out / "checkpoints" / "best.pt", tmp)


def run_training(
    run: PreparedRun,
    started: float,
    on_eval: Callable[[dict[str, float]], None] | None = None,
    on_outputs: Callable[[TrainOutcome], None] | None = None,
) -> TrainOutcome | None:
    """Train a prepared run, score its best model and write the run directory.

    Parameters
    ----------
    run
        From :func:`prepare_run`.
    started
        ``time.perf_counter()`` when the command started: ``wall_seconds`` counts from there.
    on_eval
        Called on process 0 with each history entry (MLflow logging).
    on_outputs
        Called on process 0 once the run files are written, before the run is marked finished,
        so that a failure there (an MLflow upload) leaves the run resumable rather than finished.

    Returns
    -------
    The outcome on process 0; None on the others, which write nothing.

    Raises
    ------
    TrainingPreempted
        A stop signal arrived during training; ``last.pt`` holds the step it stopped at.
    """
    config, data, out = run.config, run.data, run.out
    result = train(
        config,
        data,
        out,
        resume=run.resume,
        on_eval=on_eval,
        description={
            "run": run.name,
            "budget": run.budget,
            "counts": dict(run.counts),
            "data_fingerprint": run.fingerprint,
            # what predict calls in domain: the chemistry of this run's training molecules
            "domain": build_domain(e.smiles for e in [*data.train, *data.weak]).to_dict(),
        },
    )
    device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    # every process scores its share (atom_mae reduces over them)
    final = {
        split: atom_mae(result.model, examples, config.eval_batch, device, config.precision)
        for split, examples in (("valid", data.valid), ("test", run.test))
    }
    if run.rank != 0:
        return None
    summary = {
        "run": run.name,
        "budget": run.budget,
        "mode": config.mode,
        "wall_seconds": time.perf_counter() - started,
        # the code that trained it, for model cards and reports
        "git_commit": git_commit(),
        "world_size": run.world,
        "device": str(device),
        "counts": dict(sorted(run.counts.items())),
    }
    # the std scale litshift predict applies, fitted on this run's validation split,
    # and the coverage of its intervals on the test split
    calibration = calibrate_model(result.model, data.valid, device, config.eval_batch)
    if run.test:
        final["test"] |= coverage_metrics(
            result.model, calibration, run.test, device, config.eval_batch
        )
    _write_outputs(out, config, result, final, summary)
    calibration.save(out / CALIBRATION_FILE)
    outcome = TrainOutcome(result, final, tuple(out / name for name in RUN_FILES))
    if on_outputs is not None:
        on_outputs(outcome)
    mark_finished(out / "checkpoints", result.steps)
    logger.info(
        "%s: test MAE %s",
        run.name,
        {k: round(v, 3) for k, v in final["test"].items() if k.startswith("mae")},
    )
    return outcome
