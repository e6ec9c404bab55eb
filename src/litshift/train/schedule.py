"""Learning-rate schedule: linear warmup, then cosine decay to a floor."""

from __future__ import annotations

import math

__all__ = ["learning_rate"]


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
