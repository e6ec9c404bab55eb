"""Training configuration: one typed record per run, built from the ``train:`` config section.

``config.yaml`` holds the common settings under ``train:`` and a mapping ``runs:`` of run name ->
overrides; :func:`run_config` merges the two for one run (the Snakemake rule passes the result
to ``litshift train --config-json``). This module imports no torch, so the Snakefile can use it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from litshift.data.weak_filters import WeakFilters, check_keys

__all__ = ["MODES", "TrainConfig", "run_config", "run_names"]

#: supervised: L_atom only; semi: L_atom + lambda * L_mol; weak_only: L_mol only (collapse ablation)
MODES = ("supervised", "semi", "weak_only")

#: keys of the ``train:`` section that describe the workflow, not one run
_WORKFLOW_KEYS = ("runs", "resources")


@dataclass(slots=True)
class TrainConfig:
    """Everything that defines one training run (logged as MLflow params, saved in checkpoints)."""

    mode: str = "semi"
    """supervised | semi | weak_only (see :data:`MODES`)."""
    preset: str = "tiny"
    """Model size: a key of ``litshift.model.transformer.PRESETS``."""
    model: dict[str, Any] = field(default_factory=dict)
    """Overrides of ``ModelConfig`` fields on top of the preset (e.g. ``solvent_mode``)."""
    epochs: int = 10
    """Passes over the labeled training molecules (weak batches are drawn alongside)."""
    max_steps: int | None = None
    """Hard cap on optimizer steps; the schedule is sized to min(epochs, max_steps)."""
    lr: float = 4e-4
    """Peak learning rate."""
    min_lr_ratio: float = 0.01
    """Final learning rate of the cosine decay, as a fraction of ``lr``."""
    weight_decay: float = 0.01
    """AdamW weight decay (applied to the decay group of ``configure_optimizer``)."""
    warmup_frac: float = 0.03
    """Fraction of the steps with linear warmup."""
    clip_grad: float = 1.0
    """Gradient-norm clip."""
    batch_labeled: int = 4
    """B1: labeled molecules per step and process."""
    batch_weak: int = 16
    """B2: weak molecules per step and process (ignored in supervised mode)."""
    lambda_mol: float = 16.0
    """Weight of L_mol in semi mode."""
    lambda_warmup_frac: float = 0.0
    """Fraction of the steps over which the L_mol weight ramps linearly from 0 to
    ``lambda_mol``: the weak term enters once L_atom has shaped the model."""
    init_from: str | None = None
    """Checkpoint whose weights start the run (fine-tuning a converged model; same architecture)."""
    loss: str = "l1"
    """Elementwise loss for both terms: l1 | l2 | huber."""
    huber_delta: float = 1.0
    """Huber threshold in normalized units."""
    patience: int | None = 5
    """Evaluations without improvement of the validation MAE before stopping (None = never)."""
    eval_every: int | None = None
    """Steps between validation evaluations (None = once per epoch)."""
    checkpoint_every: int = 500
    """Steps between resumable checkpoints (also written at every evaluation)."""
    seed: int = 0
    """Seed of initialization, batch order and dropout."""
    device: str = "auto"
    """auto (CUDA when present) | cpu | cuda | cuda:N."""
    precision: str = "auto"
    """auto (bf16 autocast on CUDA, fp32 on CPU) | fp32 | bf16."""
    compile: bool = False
    """Wrap the model in torch.compile."""
    num_workers: int = 0
    """DataLoader worker processes per training process."""
    eval_batch: int = 64
    """Molecules per evaluation batch."""
    bucket_window: int = 4
    """Batches sorted together by molecule size (1 = random batches; see
    :func:`litshift.data.datasets.bucketed_indices`)."""
    ema_decay: float | None = None
    """Decay of the weight average used for validation and export (None = raw weights)."""
    nucleus_weights: dict[str, float] = field(default_factory=dict)
    """Weight of each nucleus' term in L_atom (missing = 1): every nucleus' mean loss counts
    alike by default, so an atom of the rarer nucleus weighs more."""
    weak_nucleus_weights: dict[str, float] = field(default_factory=dict)
    """Weight of each nucleus' (molecule, nucleus) pairs in L_mol (missing = 1)."""
    match_policy: str = "litshift"
    """Count-mismatch policy of L_mol (litshift.chem.matching): litshift | paper."""
    max_weak: int | None = None
    """Use at most this many weak shift sets of the model's nuclei (deterministic subsample;
    None = all)."""
    atom_label_nuclei: tuple[str, ...] = ()
    """Model nuclei whose unambiguous weak sets train as atom-level labels (``L_atom``, target
    scaler, validation and test) instead of ``L_mol`` (:func:`litshift.data.datasets.
    build_atom_labeled`); the held-out ones need ``litshift train --unassigned``."""
    weak_filters: WeakFilters = field(default_factory=WeakFilters)
    """Filters on weak molecules."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"train.mode must be one of {MODES}, got {self.mode!r}")
        if self.batch_labeled < 1 or self.batch_weak < 1:
            raise ValueError("train.batch_labeled and train.batch_weak must be >= 1")
        if self.bucket_window < 1:
            raise ValueError(f"train.bucket_window must be >= 1, got {self.bucket_window}")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"train.ema_decay must be in (0, 1) or null, got {self.ema_decay}")
        for name in ("nucleus_weights", "weak_nucleus_weights"):
            if any(w < 0 for w in getattr(self, name).values()):
                raise ValueError(f"train.{name} must be >= 0, got {getattr(self, name)}")
        if not 0 <= self.warmup_frac < 1:
            raise ValueError(f"train.warmup_frac must be in [0, 1), got {self.warmup_frac}")
        if not 0 <= self.lambda_warmup_frac <= 1:
            raise ValueError(
                f"train.lambda_warmup_frac must be in [0, 1], got {self.lambda_warmup_frac}"
            )

    @property
    def uses_labeled(self) -> bool:
        return self.mode != "weak_only"

    @property
    def uses_weak(self) -> bool:
        return self.mode != "supervised"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Build from a (merged) run config; unknown keys are an error, not silently ignored."""
        values = {k: v for k, v in data.items() if k not in _WORKFLOW_KEYS}
        check_keys(cls, values, "train")
        if "weak_filters" in values:
            values["weak_filters"] = WeakFilters.from_dict(values["weak_filters"])
        if "atom_label_nuclei" in values:
            values["atom_label_nuclei"] = tuple(values["atom_label_nuclei"])
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def run_names(section: Mapping[str, Any]) -> list[str]:
    """The run names declared under ``train.runs``."""
    return list(section.get("runs") or {})


def run_config(section: Mapping[str, Any], run: str) -> dict[str, Any]:
    """Common ``train:`` settings deep-merged with the overrides of run ``run``.

    The result is validated (:meth:`TrainConfig.from_dict`) so that a typo in config.yaml fails
    when the workflow is planned, not after the first runs have trained.
    """
    runs = section.get("runs") or {}
    if run not in runs:
        raise KeyError(f"unknown training run {run!r}; configured: {sorted(runs)}")
    common = {k: v for k, v in section.items() if k not in _WORKFLOW_KEYS}
    merged = _merge(common, runs[run] or {})
    TrainConfig.from_dict(merged)
    return merged
