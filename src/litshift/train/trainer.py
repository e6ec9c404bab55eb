"""The mixed-supervision training loop: L = L_atom + lambda * L_mol.

Each step draws ``batch_labeled`` assigned molecules and ``batch_weak`` unassigned ones (per
process), runs them through the model in ONE forward pass (padded to a common size, so DDP sees a
single forward per backward), and combines

- ``L_atom``: per-nucleus mean loss over assigned atoms, averaged over the nuclei present;
- ``L_mol``: per (weak molecule, nucleus) sorted matching loss between the group-pooled
  predictions and the observed shifts, averaged over the pairs present.

Both are computed in normalized units (targets z-scored per nucleus with the labeled training
statistics stored in the model), so the two nuclei weigh alike. ``supervised`` drops L_mol,
``weak_only`` drops L_atom.

Reproducibility: batches are a pure function of (seed, step) (:func:`stream_indices`), and the
checkpoint holds the optimizer, the step and the torch RNG state (dropout), so a run resumed
from ``last.pt`` takes exactly the steps an uninterrupted run would have taken. SIGTERM or
SIGUSR1 during training saves ``last.pt`` after the current step and stops every process there
(:mod:`litshift.train.preemption`).
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from litshift.data.datasets import (
    LabeledBatch,
    LabeledExample,
    ModelInputs,
    StreamSampler,
    WeakBatch,
    WeakExample,
    collate_labeled,
    collate_weak,
    target_scaler,
)
from litshift.inference.prediction import atom_mae
from litshift.inference.runtime import all_reduce, autocast, rank_world, resolve_device
from litshift.model.checkpoint import (
    check_architecture,
    load_checkpoint,
    save_checkpoint,
    transfer_weights,
)
from litshift.model.transformer import PRESETS, ModelConfig, ShiftTransformer
from litshift.train.config import TrainConfig
from litshift.train.ema import WeightAverage
from litshift.train.losses import (
    atom_loss,
    gaussian_nll,
    sorted_matching_loss,
    sorted_matching_residuals,
)
from litshift.train.preemption import StopRequest, TrainingPreempted, stop_signals
from litshift.train.schedule import learning_rate, weak_weight

__all__ = [
    "TrainData",
    "TrainResult",
    "TrainingDivergedError",
    "build_model_config",
    "labeled_loss",
    "nll_loss",
    "train",
    "weak_loss",
]

logger = logging.getLogger(__name__)


class TrainingDivergedError(RuntimeError):
    """The loss or the gradient became NaN/inf; training stops instead of saving garbage."""


@dataclass(slots=True)
class TrainData:
    """The examples one run trains on."""

    train: list[LabeledExample]
    """Labeled training molecules (also the source of the target scaler)."""
    valid: list[LabeledExample]
    """Labeled validation molecules (early stopping)."""
    weak: list[WeakExample]
    """Weak molecules with match plans."""


@dataclass(slots=True)
class TrainResult:
    """What a finished (or early-stopped) run returns; ``model`` holds the best weights."""

    model: ShiftTransformer
    best_metric: float
    """Best validation MAE (ppm, mean over nuclei)."""
    best_step: int
    steps: int
    """Optimizer steps taken in total (including before a resume)."""
    stop_reason: str
    """completed | early_stopping | interrupted."""
    history: list[dict[str, float]] = field(default_factory=list)
    """One entry per evaluation."""
    train_seconds: float = 0.0
    """Wall time in optimizer steps, this session (excluding evaluation)."""
    molecules_per_s: float = 0.0
    """Training throughput of this session, all processes together."""


def build_model_config(config: TrainConfig) -> ModelConfig:
    """The preset named by the run config with its ``model`` overrides applied."""
    if config.preset not in PRESETS:
        raise ValueError(f"unknown model preset {config.preset!r}; choose from {sorted(PRESETS)}")
    return replace(PRESETS[config.preset], **config.model)


def _merge_inputs(labeled: LabeledBatch | None, weak: WeakBatch | None) -> ModelInputs:
    """Stack the labeled and weak molecules into one padded model input."""
    parts = [ModelInputs(*b[: len(ModelInputs._fields)]) for b in (labeled, weak) if b is not None]
    if len(parts) == 1:
        return parts[0]
    n_max = max(b.atomic_numbers.shape[1] for b in parts)

    def padded(b: ModelInputs) -> ModelInputs:
        p = n_max - b.atomic_numbers.shape[1]
        return ModelInputs(
            F.pad(b.atomic_numbers, (0, p)),  # (B, N)
            F.pad(b.coords, (0, 0, 0, p)),  # (B, N, 3)
            b.solvent_class,  # (B,)
            F.pad(b.features, (0, 0, 0, p)),  # (B, N, F)
            F.pad(b.topology, (0, p, 0, p)),  # (B, N, N)
        )

    return ModelInputs(*(torch.cat(t) for t in zip(*map(padded, parts), strict=True)))


def labeled_loss(
    pred: Tensor,
    batch: LabeledBatch,
    model: ShiftTransformer,
    kind: str,
    delta: float,
    weights: Mapping[str, float] | None = None,
) -> Tensor:
    """L_atom: mean over nuclei present in the batch of the per-nucleus masked atom loss, each
    times its weight (``weights``: nucleus -> weight, missing = 1).

    ``pred`` is ``B x N x K`` in normalized units; targets are normalized here.
    """
    weights = weights or {}
    losses = []
    for k, nucleus in enumerate(model.config.nuclei):
        mask = batch.target_mask[..., k]  # (B, N)
        if bool(mask.any()):
            target = model.normalize(batch.targets[..., k], k)  # (B, N)
            weight = weights.get(nucleus, 1.0)
            losses.append(weight * atom_loss(pred[..., k], target, mask, kind, delta))
    return torch.stack(losses).mean() if losses else pred.sum() * 0.0


def weak_loss(
    pred: Tensor,
    batch: WeakBatch,
    model: ShiftTransformer,
    kind: str,
    delta: float,
    weights: Mapping[str, float] | None = None,
) -> Tensor:
    """L_mol: mean sorted matching loss over the (molecule, nucleus) pairs with a shift set,
    each pair times its nucleus' weight (``weights``: nucleus -> weight, missing = 1).

    ``pred`` is ``B x N x K`` in normalized units.
    """
    weights = weights or {}
    total = pred.sum() * 0.0
    pairs = 0
    for k, nucleus in enumerate(model.config.nuclei):
        mask = batch.mask[:, k]  # (B, G)
        present = mask.any(dim=-1)  # (B,)
        if not bool(present.any()):
            continue
        pooled = torch.bmm(batch.pool[:, k], pred[..., k : k + 1]).squeeze(-1)  # (B, G)
        target = model.normalize(batch.targets[:, k], k)  # (B, G)
        per_molecule = sorted_matching_loss(pooled, target, mask, kind, delta)  # (B,)
        total = total + weights.get(nucleus, 1.0) * per_molecule[present].sum()
        pairs += int(present.sum())
    return total / max(pairs, 1)


def nll_loss(
    pred: Tensor,
    log_std: Tensor,
    labeled: LabeledBatch | None,
    weak: WeakBatch | None,
    model: ShiftTransformer,
) -> Tensor:
    """Gaussian NLL of the uncertainty head on detached residuals, mean of the present terms.

    Labeled atoms use their own residual; weak molecules the residual of the sorted matching
    (pooled prediction vs the peak it is paired with, pooled log-std). ``pred`` and ``log_std``
    are ``(B1 + B2) x N x K``, labeled molecules first, in normalized units.
    """
    n_labeled = labeled.atomic_numbers.shape[0] if labeled is not None else 0
    terms = []
    if labeled is not None and bool(labeled.target_mask.any()):
        n_atoms = labeled.atomic_numbers.shape[1]
        targets = torch.stack(
            [model.normalize(labeled.targets[..., k], k) for k in range(pred.shape[-1])], dim=-1
        )  # (B1, N, K)
        residual = pred[:n_labeled, :n_atoms] - targets
        terms.append(gaussian_nll(residual, log_std[:n_labeled, :n_atoms], labeled.target_mask))
    if weak is not None and bool(weak.mask.any()):
        n_atoms = weak.atomic_numbers.shape[1]
        pooled = torch.einsum("bkgn,bnk->bkg", weak.pool, pred[n_labeled:, :n_atoms])
        pooled_log_std = torch.einsum("bkgn,bnk->bkg", weak.pool, log_std[n_labeled:, :n_atoms])
        targets = torch.stack(
            [model.normalize(weak.targets[:, k], k) for k in range(pred.shape[-1])], dim=1
        )  # (B2, K, G)
        residual = sorted_matching_residuals(pooled, targets, weak.mask)  # (B2, K, G)
        terms.append(gaussian_nll(residual, pooled_log_std, weak.mask))
    return torch.stack(terms).mean() if terms else log_std.sum() * 0.0


def _losses(
    pred: Tensor,
    labeled: LabeledBatch | None,
    weak: WeakBatch | None,
    model: ShiftTransformer,
    config: TrainConfig,
) -> tuple[Tensor, Tensor]:
    """``(L_atom, L_mol)`` of one merged forward pass; a term without its batch is 0.

    ``pred`` is ``(B1 + B2) x N x K``: the labeled molecules first, then the weak ones.
    """
    zero = pred.sum() * 0.0  # keeps every term attached to the graph (DDP needs all grads)
    n_labeled = labeled.atomic_numbers.shape[0] if labeled is not None else 0
    l_atom = l_mol = zero
    if labeled is not None:
        n_atoms = labeled.atomic_numbers.shape[1]
        l_atom = labeled_loss(
            pred[:n_labeled, :n_atoms],
            labeled,
            model,
            config.loss,
            config.huber_delta,
            config.nucleus_weights,
        )
    if weak is not None:
        n_atoms = weak.atomic_numbers.shape[1]
        l_mol = weak_loss(
            pred[n_labeled:, :n_atoms],
            weak,
            model,
            config.loss,
            config.huber_delta,
            config.weak_nucleus_weights,
        )
    return l_atom, l_mol


def _loader(
    examples: Sequence[Any],
    collate: Callable[[Sequence[Any]], Any],
    batch_size: int,
    seed: int,
    start: int,
    end: int,
    config: TrainConfig,
    pin: bool,
) -> Iterator[Any]:
    rank, world = rank_world()
    sizes = np.array([len(e.atomic_numbers) for e in examples])
    sampler = StreamSampler(
        len(examples),
        batch_size,
        seed,
        start,
        end,
        rank,
        world,
        sizes=sizes,
        window=config.bucket_window,
        order_seed=config.seed,  # shared by both streams: labeled and weak sizes match per step
    )
    return iter(
        DataLoader(
            examples,  # type: ignore[arg-type]  # a list is a map-style dataset
            batch_sampler=sampler,
            collate_fn=collate,
            num_workers=config.num_workers,
            pin_memory=pin,
            # a private generator keeps DataLoader seeding off the global (dropout) RNG stream
            generator=torch.Generator().manual_seed(seed),
        )
    )


def _to(batch: Any, device: torch.device) -> Any:
    return None if batch is None else type(batch)(*(t.to(device, non_blocking=True) for t in batch))


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass(slots=True)
class _Progress:
    """Early-stopping state and curves; saved in ``last.pt``."""

    step: int = 0
    best_metric: float = math.inf
    best_step: int = -1
    bad_evals: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    running: list[float] = field(default_factory=lambda: [0.0] * 4)
    """Sums since the last evaluation: L_atom, L_mol, molecules, seconds (this process)."""


@dataclass(slots=True)
class _Session:
    """What one training session works on: the model and its optimizer, the step plan, and
    the progress it continues from (saved in every checkpoint)."""

    model: ShiftTransformer
    train_model: nn.Module
    """``model`` as it is trained: wrapped in DDP and/or ``torch.compile`` when asked for."""
    optimizer: torch.optim.Optimizer
    ema: WeightAverage | None
    device: torch.device
    rank: int
    world: int
    total_steps: int
    warmup_steps: int
    eval_every: int
    steps_per_epoch: int
    progress: _Progress
    description: dict[str, Any]
    """Self-description saved in every checkpoint (configs, scaler, the caller's)."""
    last_path: Path
    best_path: Path

    def checkpoint_state(self, with_optimizer: bool) -> dict[str, Any]:
        """The weights and self-description; with the optimizer, RNG and progress: resumable."""
        progress = self.progress
        state = {
            **self.description,
            "model": self.model.state_dict(),
            "step": progress.step,
            "best_metric": progress.best_metric,
            "best_step": progress.best_step,
        }
        if with_optimizer:
            state |= {
                "optimizer": self.optimizer.state_dict(),
                "progress": asdict(progress),
                "rng": _rng_state(),
                "world_size": self.world,
                "total_steps": self.total_steps,
            }
            if self.ema is not None:
                state["ema"] = self.ema.state_dict()
        return state


class _StepStats(NamedTuple):
    """One optimizer step, for the progress bar and the session's throughput."""

    lr: float
    loss: float
    molecules: int
    """Molecules of this process's batches."""
    seconds: float
    signum: float
    """The stop signal any process had received by the step's check (0: none)."""


def _set_up(
    config: TrainConfig,
    data: TrainData,
    out_dir: str | Path,
    resume: bool,
    description: dict[str, Any] | None,
) -> _Session:
    """Build the model (fine-tuned from ``init_from``, or resumed from ``last.pt``), its
    optimizer and the step plan."""
    rank, world = rank_world()
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    device = resolve_device(config.device, local_rank)
    ckpt_dir = Path(out_dir) / "checkpoints"
    if rank == 0:
        ckpt_dir.mkdir(parents=True, exist_ok=True)

    if config.uses_labeled and not data.train:
        raise ValueError(f"mode {config.mode!r} needs labeled training molecules; none were built")
    if config.uses_weak and not data.weak:
        raise ValueError(f"mode {config.mode!r} needs weak molecules; none were built")
    if not data.valid:
        raise ValueError("no validation molecules: early stopping and model selection need them")

    model_config = build_model_config(config)
    torch.manual_seed(config.seed)
    model = ShiftTransformer(model_config)
    mean, std = target_scaler(data.train, len(model_config.nuclei))
    model.set_target_scaler(torch.as_tensor(mean), torch.as_tensor(std))
    if config.init_from is not None and not resume:
        # fine-tuning: the weights (and their target scaler) of a trained run of this
        # architecture; nuclei it lacks get fresh heads and the scaler of this run's data
        start_state = load_checkpoint(config.init_from)
        fresh = transfer_weights(model, start_state)
        mean, std = model.shift_mean.numpy(), model.shift_std.numpy()
        logger.info(
            "initialized from %s (step %s)%s",
            config.init_from,
            start_state.get("step"),
            f"; new heads: {', '.join(fresh)}" if fresh else "",
        )
    model.to(device)
    optimizer = model.configure_optimizer(config.lr, config.weight_decay)
    ema = WeightAverage(model, config.ema_decay) if config.ema_decay else None

    steps_per_epoch = math.ceil(max(len(data.train), 1) / (config.batch_labeled * world))
    total_steps = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        total_steps = min(total_steps, config.max_steps)

    progress = _Progress()
    last_path = ckpt_dir / "last.pt"
    if resume:
        state = load_checkpoint(last_path)
        check_architecture(state["model_config"], model_config)
        if state["world_size"] != world:
            logger.warning(
                "resuming a %d-process run with %d processes: batches differ from an "
                "uninterrupted run",
                state["world_size"],
                world,
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if ema is not None:
            ema.load_state_dict(state["ema"])
        progress = _Progress(**state["progress"])
        _set_rng_state(state["rng"])
        logger.info("resumed from %s at step %d of %d", last_path, progress.step, total_steps)

    train_model: nn.Module = model
    if world > 1:
        train_model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if config.compile:
        train_model = torch.compile(train_model)

    return _Session(
        model=model,
        train_model=train_model,
        optimizer=optimizer,
        ema=ema,
        device=device,
        rank=rank,
        world=world,
        total_steps=total_steps,
        warmup_steps=int(config.warmup_frac * total_steps),
        eval_every=config.eval_every or steps_per_epoch,
        steps_per_epoch=steps_per_epoch,
        progress=progress,
        description={
            "model_config": asdict(model_config),
            "train_config": config.to_dict(),
            "scaler": {"mean": mean.tolist(), "std": std.tolist()},
            **(description or {}),
        },
        last_path=last_path,
        best_path=ckpt_dir / "best.pt",
    )


def _train_step(
    s: _Session,
    config: TrainConfig,
    labeled_iter: Iterator[LabeledBatch] | None,
    weak_iter: Iterator[WeakBatch] | None,
    stop: StopRequest,
) -> _StepStats:
    """One optimizer step on the next labeled and weak batches; adds to the running sums."""
    progress, model, device = s.progress, s.model, s.device
    tick = time.perf_counter()
    labeled = _to(next(labeled_iter), device) if labeled_iter is not None else None
    weak = _to(next(weak_iter), device) if weak_iter is not None else None
    lr = learning_rate(progress.step, s.total_steps, config.lr, s.warmup_steps, config.min_lr_ratio)
    for group in s.optimizer.param_groups:
        group["lr"] = lr

    with autocast(device, config.precision):
        out = s.train_model(*_merge_inputs(labeled, weak), with_log_std=model.has_scale_head)
    pred, log_std = out if model.has_scale_head else (out, None)  # (B1 + B2, N, K) each
    l_atom, l_mol = _losses(pred.float(), labeled, weak, model, config)
    lambda_mol = weak_weight(
        progress.step, s.total_steps, config.lambda_mol, config.lambda_warmup_frac
    )
    loss = {
        "supervised": l_atom,
        "semi": l_atom + lambda_mol * l_mol,
        "weak_only": l_mol,
    }[config.mode]
    if log_std is not None:  # trains the head only: its gradient never reaches the mean
        loss = loss + nll_loss(pred.float(), log_std.float(), labeled, weak, model)
    # one collective per step carries both checks, so every process takes the same
    # decision: a non-finite loss anywhere, and the stop signal any process received
    checks = torch.stack(
        [
            (~torch.isfinite(loss.detach())).float(),
            torch.tensor(float(stop.signum), device=device),
        ]
    )
    nonfinite, signum = all_reduce(checks, dist.ReduceOp.MAX).tolist()
    if nonfinite:
        raise TrainingDivergedError(
            f"non-finite loss at step {progress.step} (L_atom={l_atom.item():.4g}, "
            f"L_mol={l_mol.item():.4g}, lr={lr:.3g}); check the data and lower train.lr"
        )
    s.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    # the head is clipped apart, so its gradient cannot shrink the mean's update
    grad_norm = nn.utils.clip_grad_norm_(model.mean_parameters(), config.clip_grad)
    if model.has_scale_head:
        grad_norm = grad_norm + nn.utils.clip_grad_norm_(
            model.scale_heads.parameters(), config.clip_grad
        )
    if not bool(torch.isfinite(grad_norm)):
        raise TrainingDivergedError(
            f"non-finite gradient norm at step {progress.step} (loss={loss.item():.4g}, "
            f"lr={lr:.3g}); check the data and lower train.lr"
        )
    s.optimizer.step()
    if s.ema is not None:
        s.ema.update(model)
    progress.step += 1

    seconds = time.perf_counter() - tick
    molecules = sum(b.atomic_numbers.shape[0] for b in (labeled, weak) if b is not None)
    for i, value in enumerate((l_atom.item(), l_mol.item(), molecules, seconds)):
        progress.running[i] += value
    return _StepStats(lr, loss.item(), molecules, seconds, signum)


def _evaluation_step(
    s: _Session,
    config: TrainConfig,
    valid: Sequence[LabeledExample],
    lr: float,
    on_eval: Callable[[dict[str, float]], None] | None,
) -> bool:
    """Validate, keep the best weights (``best.pt``) and checkpoint ``last.pt``; True when
    the run has run out of patience (early stopping)."""
    progress = s.progress
    # validation and best.pt see the averaged weights; last.pt holds both
    with s.ema.applied(s.model) if s.ema is not None else nullcontext():
        entry = _evaluate_and_record(
            s.model, valid, config, s.device, progress, lr, s.steps_per_epoch, s.world
        )
        improved = entry["valid_mae"] < progress.best_metric
        if improved:
            progress.best_metric, progress.best_step, progress.bad_evals = (
                entry["valid_mae"],
                progress.step,
                0,
            )
        else:
            progress.bad_evals += 1
        if s.rank == 0 and improved:
            save_checkpoint(s.checkpoint_state(with_optimizer=False), s.best_path)
    if s.rank == 0:
        save_checkpoint(s.checkpoint_state(with_optimizer=True), s.last_path)
        if on_eval is not None:
            on_eval(entry)
        logger.info(
            "step %d/%d valid MAE %s",
            progress.step,
            s.total_steps,
            {k: round(v, 3) for k, v in entry.items() if k.startswith("valid_mae")},
        )
    return config.patience is not None and progress.bad_evals >= config.patience


def train(
    config: TrainConfig,
    data: TrainData,
    out_dir: str | Path,
    resume: bool = False,
    on_eval: Callable[[dict[str, float]], None] | None = None,
    halt_after: int | None = None,
    description: dict[str, Any] | None = None,
) -> TrainResult:
    """Train one run; write ``checkpoints/last.pt`` and ``checkpoints/best.pt`` under ``out_dir``.

    Parameters
    ----------
    config
        The run configuration.
    data
        Examples (built by :mod:`litshift.data.datasets`).
    out_dir
        Run directory; only process 0 writes to it.
    resume
        Continue from ``checkpoints/last.pt`` (refuses another architecture).
    on_eval
        Called on process 0 with each history entry (MLflow logging).
    halt_after
        Stop, as if killed, after this many steps of this session, without a final checkpoint
        (tests of ``resume``); the result then has ``stop_reason="interrupted"``.
    description
        Extra self-description saved in every checkpoint (data counts, run name).

    Raises
    ------
    TrainingPreempted
        SIGTERM or SIGUSR1 arrived (:mod:`litshift.train.preemption`): every process stopped
        after the same step and ``last.pt`` holds it; no final outputs are due.
    """
    s = _set_up(config, data, out_dir, resume, description)
    progress, rank, device = s.progress, s.rank, s.device
    start = progress.step
    loader = partial(
        _loader, start=start, end=s.total_steps, config=config, pin=device.type == "cuda"
    )
    labeled_iter = weak_iter = None
    if config.uses_labeled:
        labeled_iter = loader(data.train, collate_labeled, config.batch_labeled, config.seed)
    if config.uses_weak:
        weak_iter = loader(data.weak, collate_weak, config.batch_weak, config.seed + 1)

    session_molecules, session_seconds = 0, 0.0
    stop_reason = "completed"
    if config.patience is not None and progress.bad_evals >= config.patience:
        stop_reason = "early_stopping"  # resumed after it stopped early, before its outputs
    with stop_signals() as stop:
        bar = tqdm(
            total=s.total_steps,
            initial=start,
            disable=rank != 0,
            unit="step",
            desc=config.mode,
            mininterval=0.5 if sys.stderr.isatty() else 30,
        )
        s.model.train()
        while progress.step < s.total_steps and stop_reason == "completed":
            step = _train_step(s, config, labeled_iter, weak_iter, stop)
            session_molecules += step.molecules
            session_seconds += step.seconds
            bar.update(1)
            bar.set_postfix(
                loss=f"{step.loss:.3f}",
                mol_s=f"{s.world * step.molecules / step.seconds:.0f}",
                refresh=False,
            )
            if progress.step % s.eval_every == 0 or progress.step == s.total_steps:
                if _evaluation_step(s, config, data.valid, step.lr, on_eval):
                    stop_reason = "early_stopping"
                    break
            elif progress.step % config.checkpoint_every == 0 and rank == 0:
                save_checkpoint(s.checkpoint_state(with_optimizer=True), s.last_path)
            if step.signum:
                break
            if halt_after is not None and progress.step - start >= halt_after:
                stop_reason = "interrupted"
                break
        bar.close()
        # agreed once more: the signal may have come after the last step's check (during its
        # evaluation), and a run that got one writes no outputs
        signum = all_reduce(
            torch.tensor([float(stop.signum)], device=device), dist.ReduceOp.MAX
        ).item()
        if signum and rank == 0:
            save_checkpoint(s.checkpoint_state(with_optimizer=True), s.last_path)
        if dist.is_available() and dist.is_initialized():
            # best.pt (and a stopped run's last.pt) is complete before any process reads it or
            # exits (torchrun would then terminate process 0)
            dist.barrier()
    if signum:
        raise TrainingPreempted(int(signum), progress.step)

    if stop_reason != "interrupted":
        best = load_checkpoint(s.best_path)
        s.model.load_state_dict(best["model"])
    total_molecules = all_reduce(torch.tensor([float(session_molecules)], device=device)).item()
    return TrainResult(
        model=s.model,
        best_metric=progress.best_metric,
        best_step=progress.best_step,
        steps=progress.step,
        stop_reason=stop_reason,
        history=progress.history,
        train_seconds=session_seconds,
        molecules_per_s=total_molecules / session_seconds if session_seconds else 0.0,
    )


def _evaluate_and_record(
    model: ShiftTransformer,
    valid: Sequence[LabeledExample],
    config: TrainConfig,
    device: torch.device,
    progress: _Progress,
    lr: float,
    steps_per_epoch: int,
    world: int,
) -> dict[str, float]:
    """Score the validation set and append one history entry (identical on every process)."""
    metrics = atom_mae(model, valid, config.eval_batch, device, config.precision)
    totals = all_reduce(torch.tensor(progress.running, dtype=torch.float64, device=device)).cpu()
    l_atom, l_mol, molecules, seconds = totals.tolist()
    n_steps = max(progress.step - (progress.history[-1]["step"] if progress.history else 0), 1)
    entry = {
        "step": float(progress.step),
        "epoch": progress.step / steps_per_epoch,
        "lr": lr,
        "loss_atom": l_atom / (n_steps * world),
        "loss_mol": l_mol / (n_steps * world),
        # seconds are summed over processes that ran in parallel
        "molecules_per_s": molecules / (seconds / world) if seconds else 0.0,
        **{f"valid_{k}": v for k, v in metrics.items()},
    }
    progress.history.append(entry)
    progress.running = [0.0] * 4
    return entry
