"""Model predictions in ppm: batched by size, symmetric over equivalent atoms.

Every path that turns a model's output into shifts (``predict``, ``verify``, evaluation,
literature scoring, validation during training) goes through :func:`predict_ppm` /
:func:`predict_ppm_std`, so all of them average over symmetry classes the same way.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.data.datasets import LabeledExample, Structure, collate_inputs
from litshift.inference.runtime import all_reduce, autocast, rank_world
from litshift.model.transformer import ShiftTransformer

__all__ = ["atom_mae", "predict_ppm", "predict_ppm_std", "symmetrize"]


def symmetrize(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Replace each atom's row of ``values`` (``N x K``) by the mean over its symmetry class.

    Topologically equivalent atoms (a methyl's three H, a phenyl's ortho carbons) have one
    shift; a network reading one 3D conformer sees them in slightly different geometries and
    would otherwise give each its own value.
    """
    counts = np.bincount(classes)[:, None]  # (C, 1)
    sums = np.zeros((len(counts), values.shape[1]), dtype=np.float64)
    np.add.at(sums, classes, values)
    return (sums / counts)[classes].astype(values.dtype)


@torch.no_grad()
def _predict(
    model: ShiftTransformer,
    examples: Sequence[Structure],
    batch_size: int,
    device: torch.device,
    precision: str,
    with_std: bool,
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """``(mean, std or None)`` in ppm, each ``N x K`` and averaged over symmetry classes, per
    example in input order (batched by size: little padding)."""
    was_training = model.training
    model.eval()
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].atomic_numbers))
    out: list[tuple[np.ndarray, np.ndarray | None]] = [None] * len(examples)  # type: ignore[list-item]
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = collate_inputs([examples[i] for i in chunk])
        with autocast(device, precision):
            result = model(*(t.to(device) for t in batch), with_log_std=with_std)
        pred, log_std = result if with_std else (result, None)  # (B, N, K) each
        ppm = model.to_ppm(pred.float()).cpu().numpy()
        std = model.std_to_ppm(log_std.float()).cpu().numpy() if log_std is not None else None
        for b, i in enumerate(chunk):
            n, classes = len(examples[i].atomic_numbers), examples[i].symmetry
            out[i] = (
                symmetrize(ppm[b, :n], classes),
                symmetrize(std[b, :n], classes) if std is not None else None,
            )
    model.train(was_training)
    return out


def predict_ppm(
    model: ShiftTransformer,
    examples: Sequence[Structure],
    batch_size: int,
    device: torch.device,
    precision: str = "fp32",
) -> list[np.ndarray]:
    """Per-atom predictions in ppm, one ``N x K`` array per example, in input order."""
    return [m for m, _ in _predict(model, examples, batch_size, device, precision, False)]


def predict_ppm_std(
    model: ShiftTransformer,
    examples: Sequence[Structure],
    batch_size: int,
    device: torch.device,
    precision: str = "fp32",
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(mean, std)`` in ppm per example (``N x K`` each) from a model with an uncertainty
    head (uncalibrated: the head's own standard deviation)."""
    if not model.has_scale_head:
        raise ValueError("the model has no uncertainty head (uncertainty='none')")
    return list(_predict(model, examples, batch_size, device, precision, True))


def atom_mae(
    model: ShiftTransformer,
    examples: Sequence[LabeledExample],
    batch_size: int,
    device: torch.device,
    precision: str = "fp32",
) -> dict[str, float]:
    """MAE (ppm) per nucleus, per nucleus and solvent class, and the mean over nuclei.

    Under DDP every process scores its share of ``examples`` and the error sums are reduced,
    so every process returns the same numbers (and takes the same early-stopping decision).

    Returns
    -------
    dict
        ``mae`` (mean over nuclei with labels), ``mae.<nucleus>``,
        ``mae.<nucleus>.<solvent class>`` and the matching atom counts ``n.<...>``.
    """
    rank, world = rank_world()
    nuclei = model.config.nuclei
    shard = list(examples[rank::world])
    # sums[k, s] = (absolute error sum, atom count) for nucleus k, solvent class s
    sums = torch.zeros(len(nuclei), len(SOLVENT_CLASSES), 2, dtype=torch.float64)
    predictions = predict_ppm(model, shard, batch_size, device, precision) if shard else []
    for example, pred in zip(shard, predictions, strict=True):
        for k in range(len(nuclei)):
            mask = example.mask[:, k]
            errors = np.abs(pred[mask, k] - example.targets[mask, k])
            sums[k, example.solvent_class, 0] += float(errors.sum())
            sums[k, example.solvent_class, 1] += int(mask.sum())
    sums = all_reduce(sums.to(device)).cpu()
    metrics: dict[str, float] = {}
    per_nucleus = []
    for k, nucleus in enumerate(nuclei):
        error, count = sums[k].sum(dim=0).tolist()
        metrics[f"n.{nucleus}"] = count
        if count:
            metrics[f"mae.{nucleus}"] = error / count
            per_nucleus.append(error / count)
        for s, solvent in enumerate(SOLVENT_CLASSES):
            error, count = sums[k, s].tolist()
            metrics[f"n.{nucleus}.{solvent}"] = count
            if count:
                metrics[f"mae.{nucleus}.{solvent}"] = error / count
    metrics["mae"] = float(np.mean(per_nucleus)) if per_nucleus else math.nan
    return metrics
