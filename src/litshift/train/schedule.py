"""Schedules of one run: the learning rate (warmup, cosine decay) and the weight of L_mol."""

from __future__ import annotations

import math

__all__ = ["learning_rate", "weak_weight"]


def learning_rate(
    step: int, total_steps: int, base_lr: float, warmup_steps: int, min_lr_ratio: float
) -> float:
    """Learning rate for optimizer step ``step`` (0-based) of ``total_steps``.

    Warmup ramps linearly from ``base_lr / warmup_steps`` to ``base_lr`` over ``warmup_steps``
    steps; the remaining steps follow half a cosine from ``base_lr`` to ``min_lr_ratio * base_lr``.
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    progress = min((step - warmup_steps) / decay_steps, 1.0)
    floor = min_lr_ratio * base_lr
    return floor + 0.5 * (base_lr - floor) * (1.0 + math.cos(math.pi * progress))


def weak_weight(step: int, total_steps: int, lambda_mol: float, warmup_frac: float) -> float:
    """Weight of L_mol at optimizer step ``step`` (0-based): a linear ramp from 0 over the first
    ``warmup_frac`` of the steps, then ``lambda_mol``.

    Why a ramp: the sorted matching pairs each peak with the atom whose prediction ranks alike;
    before L_atom has shaped the model those ranks are noise, and so is the weak gradient.
    """
    ramp_steps = warmup_frac * total_steps
    if ramp_steps <= 0 or step >= ramp_steps:
        return lambda_mol
    return lambda_mol * step / ramp_steps
