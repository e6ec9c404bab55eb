"""Exponential moving average of the weights, used for evaluation and export.

Why: at the learning rates a short CPU budget needs, the weights of the last steps jitter
around the minimum; their running average is a better model than any one of them and costs one
``lerp`` per step. Training itself always steps the raw weights; validation, ``best.pt`` and
``model.pt`` hold the averaged ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import Tensor, nn

__all__ = ["WeightAverage"]


class WeightAverage:
    """EMA of every floating-point parameter and buffer of ``model``.

    The decay is warmed up as ``min(decay, (1 + t) / (10 + t))`` after ``t`` updates, so the
    average is not anchored to the random initialization in runs of a few hundred steps.
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay = decay
        self.updates = 0
        self.shadow = {k: v.detach().clone() for k, v in self._tracked(model).items()}

    @staticmethod
    def _tracked(model: nn.Module) -> dict[str, Tensor]:
        return {k: v for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards the current weights (call after each optimizer step)."""
        self.updates += 1
        weight = 1.0 - min(self.decay, (1 + self.updates) / (10 + self.updates))
        current = self._tracked(model)
        keys = list(self.shadow)
        torch._foreach_lerp_([self.shadow[k] for k in keys], [current[k] for k in keys], weight)

    @contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Inside the block ``model`` holds the averaged weights; the raw ones come back after."""
        raw = {k: v.detach().clone() for k, v in self._tracked(model).items()}
        model.load_state_dict(self.shadow, strict=False)
        try:
            yield
        finally:
            model.load_state_dict(raw, strict=False)

    def state_dict(self) -> dict[str, object]:
        return {"decay": self.decay, "updates": self.updates, "shadow": self.shadow}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.decay = float(state["decay"])  # type: ignore[arg-type]
        self.updates = int(state["updates"])  # type: ignore[call-overload]
        shadow = state["shadow"]
        assert isinstance(shadow, dict)
        for key, value in shadow.items():
            self.shadow[key].copy_(value)
