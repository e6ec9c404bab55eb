"""Where and how a model runs: the device, bf16 autocast, and DDP rank / reductions.

Shared by training (its loop and validation) and every prediction path, so ``auto`` means the
same device and ``bf16`` the same autocast everywhere.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ["all_reduce", "autocast", "rank_world", "resolve_device"]


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``auto`` -> this process' GPU when CUDA is present, else the CPU."""
    if name == "auto":
        return torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def rank_world() -> tuple[int, int]:
    """``(rank, world size)`` of this process: ``(0, 1)`` outside DDP."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_reduce(tensor: Tensor, op: dist.ReduceOp.RedOpType = dist.ReduceOp.SUM) -> Tensor:
    """Sum (or ``op``) ``tensor`` over the DDP processes in place; a no-op outside DDP."""
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(tensor, op=op)
    return tensor


def autocast(device: torch.device, precision: str) -> AbstractContextManager[Any]:
    """bf16 autocast when asked for (``auto``: on CUDA only), else a no-op context."""
    use_bf16 = precision == "bf16" or (precision == "auto" and device.type == "cuda")
    if not use_bf16:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
