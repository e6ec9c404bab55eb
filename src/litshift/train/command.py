"""``litshift train``: curated tables + conformers -> one trained run (``results/models/{run}``).

Outputs of a run directory:

- ``model.pt``: the best-validation checkpoint, self-describing (what ``litshift predict`` loads),
  with the applicability domain of its training molecules (:mod:`litshift.inference.domain`);
- ``metrics.json``: final validation/test MAE per nucleus and solvent class, data counts
  (including every skip reason and match branch), throughput, wall time, budget label;
- ``history.json``: one entry per evaluation (losses, learning rate, validation MAE, molecules/s);
- ``config.json``: the run configuration;
- ``checkpoints/last.pt``, ``checkpoints/best.pt``: for ``--resume``; ``checkpoints/finished.json``
  once the outputs are complete (:mod:`litshift.train.resume`: a killed or retried job reruns the
  same command and continues from ``last.pt``, a finished run's rerun starts afresh).

SIGTERM (preemption) or SIGUSR1 (``sbatch --signal=USR1@120``) during training ends the run
after the current step with ``last.pt`` saved and no other output; the command then exits with
128 + the signal number (:mod:`litshift.train.preemption`).

Multi-process: ``litshift launch --procs-per-node N [--nodes M] -- train ...`` (torchrun, one
per node; :mod:`litshift.train.launch`); every process builds the datasets, process 0 alone
writes files and logs to MLflow.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import torch
import torch.distributed as dist

from litshift.chem.molecules import molecule_key
from litshift.cli.tracking import StageRun, stage_run, tracking_uri
from litshift.data.conformer_shards import load_conformers
from litshift.data.datasets import build_atom_labeled, build_labeled, build_weak
from litshift.data.io import atomic_path, read_table
from litshift.data.splits import held_out_sets
from litshift.inference.domain import build_domain
from litshift.inference.prediction import atom_mae
from litshift.inference.predictors import CALIBRATION_FILE, calibrate_model, coverage_metrics
from litshift.inference.runtime import resolve_device
from litshift.model.transformer import ShiftTransformer
from litshift.provenance import git_commit
from litshift.train.config import TrainConfig
from litshift.train.preemption import TrainingPreempted
from litshift.train.resume import (
    MODES,
    clear_checkpoints,
    data_fingerprint,
    mark_finished,
    resume_decision,
)
from litshift.train.trainer import TrainData, TrainResult, build_model_config, train
from litshift.usage import check_paths

__all__ = ["configure_parser", "load_data", "run"]

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


def _subsample(table: pa.Table, limit: int | None, seed: int) -> pa.Table:
    """At most ``limit`` rows, drawn without replacement in a seed-determined, order-kept way."""
    if limit is None or table.num_rows <= limit:
        return table
    rows = np.sort(np.random.default_rng(seed).choice(table.num_rows, limit, replace=False))
    return table.take(pa.array(rows))


def load_data(
    assigned_path: str | os.PathLike[str],
    splits_path: str | os.PathLike[str],
    weak_path: str | os.PathLike[str],
    conformer_dir: str | os.PathLike[str],
    config: TrainConfig,
    unassigned_path: str | os.PathLike[str] | None = None,
) -> tuple[TrainData, list[Any], Counter[str]]:
    """Read the tables and conformers and build the examples a run needs.

    Weak sets the run does not read (other nuclei than the model's) are dropped before
    ``max_weak`` subsamples, and conformers are read only for the molecules left. With
    ``config.atom_label_nuclei`` the unambiguous weak sets of those nuclei become labeled
    training examples, and those of the held-out molecules in ``unassigned_path`` labeled
    validation and test examples.

    Returns
    -------
    data, test, counts
        Training data, the labeled test examples, and every keep/skip count.
    """
    model_config = build_model_config(config)
    nuclei = model_config.nuclei
    label_nuclei = config.atom_label_nuclei
    if not set(label_nuclei) <= set(nuclei):
        raise ValueError(
            f"train.atom_label_nuclei {label_nuclei} are not all model nuclei {nuclei}"
        )
    if label_nuclei and unassigned_path is None:
        raise ValueError(
            "train.atom_label_nuclei needs --unassigned (the sets of the held-out molecules)"
        )
    assigned = read_table(assigned_path, "assigned")
    splits = read_table(splits_path, "splits")
    counts: Counter[str] = Counter()
    weak = None
    if config.uses_weak or label_nuclei:
        weak = read_table(weak_path, "weak")
        counts["weak.records"] = weak.num_rows
        # only sets the run reads: the model's nuclei (just the label nuclei when supervised)
        read = nuclei if config.uses_weak else label_nuclei
        weak = weak.filter(pc.is_in(weak["nucleus"], pa.array(read, pa.string())))
        weak = _subsample(weak, config.max_weak, config.seed)
        counts["weak.records_used"] = weak.num_rows
    held_out = {"valid": [], "test": []}
    if label_nuclei:
        sets = held_out_sets(read_table(unassigned_path, "unassigned"), splits, label_nuclei)
        held_out = {s: sets.filter(pl.col("split") == s).to_dicts() for s in held_out}
    smiles = set(assigned.column("smiles").to_pylist())
    if weak is not None:
        smiles |= set(weak.column("smiles").to_pylist())
    smiles |= {r["smiles"] for rows in held_out.values() for r in rows}
    if not any(Path(conformer_dir).glob("shard-*.parquet")):
        raise FileNotFoundError(f"no conformer shards (shard-*.parquet) in {conformer_dir}")
    conformers = load_conformers(conformer_dir, {molecule_key(s) for s in smiles})

    labeled, labeled_counts = build_labeled(
        assigned, splits, conformers, nuclei, model_config.max_atoms
    )
    counts.update(labeled_counts)
    if weak is not None and label_nuclei:
        rows = weak.to_pylist()
        for split, split_rows, filters in (
            ("train", rows, config.weak_filters),
            ("valid", held_out["valid"], None),
            ("test", held_out["test"], None),
        ):
            examples, used, split_counts = build_atom_labeled(
                split_rows, split, conformers, nuclei, label_nuclei, model_config.max_atoms, filters
            )
            labeled[split] += examples
            counts.update(split_counts)
            if split == "train":  # read as labels, so not matched again by L_mol
                weak = weak.filter(pa.array([i not in used for i in range(len(rows))]))
    weak_examples = []
    if weak is not None and config.uses_weak:
        weak_examples, weak_counts = build_weak(
            weak,
            conformers,
            nuclei,
            model_config.max_atoms,
            config.match_policy,
            config.weak_filters,
        )
        counts.update(weak_counts)
    data = TrainData(train=labeled["train"], valid=labeled["valid"], weak=weak_examples)
    return data, labeled["test"], counts


def _init_distributed(config: TrainConfig) -> tuple[int, int]:
    """Join the process group torchrun describes in the environment; (rank, world size)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = resolve_device(config.device, local_rank).type == "cuda"
    if use_cuda:
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return dist.get_rank(), world


def _write_json(data: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))


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


def _log_outputs(
    tracker: StageRun, out: Path, result: TrainResult, final: dict[str, dict[str, float]]
) -> None:
    """Final scores, the run files and the MLflow model of a finished run."""
    # the best model's scores; "valid_*" names are the per-evaluation curves
    prefixes = {"valid": "best_valid", "test": "test"}
    scores = {f"{prefixes[split]}_{k}": v for split, m in final.items() for k, v in m.items()}
    tracker.log_metrics(
        scores | {"train_molecules_per_s": result.molecules_per_s}, step=result.steps
    )
    for file in ("config.json", "metrics.json", "history.json", "model.pt", CALIBRATION_FILE):
        tracker.log_artifact(out / file)
    log_model(tracker, result.model)


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
    out = Path(args.out)
    name = args.run_name or out.name
    rank, world = _init_distributed(config)
    try:
        data, test, counts = load_data(
            args.assigned, args.splits, args.weak, args.conformers, config, args.unassigned
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
        resume, why = _decide_resume(out / "checkpoints", args.resume, config, fingerprint, rank)
        logger.info("%s: %s: %s", name, "resuming" if resume else "training from scratch", why)
        params = {
            "run": name,
            "budget": args.budget,
            "world_size": world,
            "resume": why,
            **config.to_dict(),
        }
        tracking: AbstractContextManager[StageRun] = (
            stage_run(f"{STAGE}:{name}", params)
            if rank == 0
            else nullcontext(StageRun(None, None, tracking_uri()))
        )
        with tracking as tracker:
            # data counts (match branches, skip reasons) are logged before a crash could lose them
            tracker.log_dict(dict(sorted(counts.items())), "counts.json")
            result = train(
                config,
                data,
                out,
                resume=resume,
                on_eval=lambda entry: tracker.log_metrics(entry, step=int(entry["step"])),
                description={
                    "run": name,
                    "budget": args.budget,
                    "counts": dict(counts),
                    "data_fingerprint": fingerprint,
                    # what predict calls in domain: the chemistry of this run's training molecules
                    "domain": build_domain(e.smiles for e in [*data.train, *data.weak]).to_dict(),
                },
            )
            device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
            final = {
                split: atom_mae(result.model, examples, config.eval_batch, device, config.precision)
                for split, examples in (("valid", data.valid), ("test", test))
            }
            if rank == 0:
                summary = {
                    "run": name,
                    "budget": args.budget,
                    "mode": config.mode,
                    "wall_seconds": time.perf_counter() - started,
                    # the code that trained it, for model cards and reports
                    "git_commit": git_commit(),
                    "world_size": world,
                    "device": str(device),
                    "counts": dict(sorted(counts.items())),
                }
                # the std scale litshift predict applies, fitted on this run's validation split,
                # and the coverage of its intervals on the test split
                calibration = calibrate_model(result.model, data.valid, device, config.eval_batch)
                if test:
                    final["test"] |= coverage_metrics(
                        result.model, calibration, test, device, config.eval_batch
                    )
                _write_outputs(out, config, result, final, summary)
                calibration.save(out / CALIBRATION_FILE)
                _log_outputs(tracker, out, result, final)
                mark_finished(out / "checkpoints", result.steps)
                logger.info(
                    "%s: test MAE %s",
                    name,
                    {k: round(v, 3) for k, v in final["test"].items() if k.startswith("mae")},
                )
    except TrainingPreempted as stop:
        # no outputs: the job must fail, so that Snakemake retries it (or SLURM requeues it)
        logger.warning("%s: %s", name, stop)
        return 128 + stop.signum
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    return 0
