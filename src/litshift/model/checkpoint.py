"""Self-describing checkpoints: the weights travel with the architecture and the run config.

Two kinds, one format (a dict saved with :func:`torch.save`, loadable with ``weights_only=True``):

- ``last.pt``: everything needed to continue a run exactly (optimizer, step, RNG states,
  early-stopping state, history), rewritten every ``checkpoint_every`` steps;
- ``best.pt`` / ``model.pt``: the weights with the best validation MAE plus the same
  description, without optimizer state (what ``litshift predict`` loads).

Writes are atomic, so a run killed while saving leaves the previous checkpoint intact.
:func:`transfer_weights` starts a run from another run's weights (``train.init_from``), also
when the new run predicts more nuclei (31P/19F heads on a trunk trained on 1H/13C).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import MISSING, asdict, fields
from typing import Any

import torch

from litshift.data.io import atomic_path
from litshift.model.transformer import ModelConfig, ShiftTransformer

__all__ = [
    "FORMAT",
    "CheckpointError",
    "check_architecture",
    "load_checkpoint",
    "load_model",
    "save_checkpoint",
    "transfer_weights",
]

logger = logging.getLogger(__name__)

#: format tag stored in every checkpoint; bump when the layout changes incompatibly
FORMAT = "litshift-checkpoint-1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used here (wrong format or another architecture)."""


def save_checkpoint(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``state`` (plus the format tag) atomically."""
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)


def load_checkpoint(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a checkpoint onto the CPU, refusing files of another format."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a {FORMAT} checkpoint")
    return state


def check_architecture(saved: Mapping[str, Any], current: ModelConfig) -> None:
    """Raise :class:`CheckpointError` naming every field where ``saved`` and ``current`` differ."""
    expected = asdict(current)
    # a field added after the checkpoint was written takes its default (e.g. uncertainty="none")
    defaults = {f.name: f.default for f in fields(ModelConfig) if f.default is not MISSING}
    saved = {**defaults, **saved, "nuclei": tuple(saved.get("nuclei", ()))}
    diff = {
        k: (saved.get(k), expected.get(k))
        for k in sorted(set(saved) | set(expected))
        if saved.get(k) != expected.get(k)
    }
    if diff:
        details = ", ".join(f"{k}: checkpoint {a!r} vs config {b!r}" for k, (a, b) in diff.items())
        raise CheckpointError(
            f"checkpoint architecture differs from the configured model: {details}"
        )


def load_model(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[ShiftTransformer, dict[str, Any]]:
    """Rebuild the model a checkpoint describes, in eval mode, with its weights and scaler."""
    state = load_checkpoint(path)
    model = ShiftTransformer(ModelConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), state


def transfer_weights(model: ShiftTransformer, state: Mapping[str, Any]) -> list[str]:
    """Load a trained checkpoint into ``model``, whose nuclei may be a superset of its own.

    Everything but the nucleus list must match (:func:`check_architecture`). The trunk and the
    heads of the nuclei both know are copied, with their target scaler; a nucleus the checkpoint
    lacks keeps its fresh head and the scaler ``model`` already holds (from the training data).
    Returns the nuclei whose heads start fresh.
    """
    saved_nuclei = tuple(state["model_config"].get("nuclei", ()))
    nuclei = tuple(model.config.nuclei)
    check_architecture({**state["model_config"], "nuclei": nuclei}, model.config)
    missing = [n for n in saved_nuclei if n not in nuclei]
    if missing:
        raise CheckpointError(f"the checkpoint predicts {missing}, which the model lacks")
    where = {k: nuclei.index(n) for k, n in enumerate(saved_nuclei)}
    weights = model.state_dict()
    for key, value in state["model"].items():
        head, _, rest = key.partition(".")
        if head in ("heads", "scale_heads"):
            index, _, tail = rest.partition(".")
            weights[f"{head}.{where[int(index)]}.{tail}"] = value
        elif key in ("shift_mean", "shift_std"):
            for k, j in where.items():
                weights[key][j] = value[k]
        else:
            weights[key] = value
    model.load_state_dict(weights)
    return [n for n in nuclei if n not in saved_nuclei]
