"""Mixed-supervision losses: per-atom loss on assigned spectra, sorted matching on unassigned ones.

Why sorting is enough: for a cost ``f(x - y)`` with ``f`` convex, the minimum-cost perfect
matching between two equally sized sets of reals pairs them in sorted order (the cost matrix
of sorted sequences is a Monge array). L1, L2 and Huber are convex, so the sorted loss *is* the
optimal-assignment loss of an unassigned peak list, at O(n log n) and fully batched. The
condition matters: for a concave-ish ``f`` such as ``sqrt(|d|)`` sorting is not optimal
(``tests/train/test_losses.py`` shows a counterexample).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    "LOSS_KINDS",
    "pairwise",
    "atom_loss",
    "gaussian_nll",
    "sorted_matching_loss",
    "sorted_matching_residuals",
]

LOSS_KINDS: tuple[str, ...] = ("l1", "l2", "huber")


def pairwise(kind: str, delta: float = 1.0) -> Callable[[Tensor, Tensor], Tensor]:
    """Elementwise loss ``f(|x - y|)`` between two same-shaped tensors (no reduction).

    Parameters
    ----------
    kind
        ``"l1"``, ``"l2"`` (squared error) or ``"huber"`` (quadratic below ``delta``, linear above).
    delta
        Huber threshold in the units of the inputs.
    """
    if kind == "l1":
        return lambda x, y: (x - y).abs()
    if kind == "l2":
        return lambda x, y: (x - y).square()
    if kind == "huber":
        return lambda x, y: F.huber_loss(x, y, reduction="none", delta=delta)
    raise ValueError(f"unknown loss kind {kind!r}; choose from {LOSS_KINDS}")


def atom_loss(
    pred: Tensor, target: Tensor, mask: Tensor, kind: str = "l1", delta: float = 1.0
) -> Tensor:
    """Mean loss over assigned atoms.

    Parameters
    ----------
    pred, target
        Shape ``B x N``; ``target`` may hold NaN where ``mask`` is False.
    mask
        Bool ``B x N``, True where the atom has a label.

    Returns
    -------
    Tensor
        Scalar; 0 (still attached to ``pred``'s graph) when nothing is labeled.
    """
    pred_safe = torch.where(mask, pred, torch.zeros_like(pred))  # (B, N); keeps NaN out of grads
    target_safe = torch.where(mask, target, torch.zeros_like(target))  # (B, N)
    losses = pairwise(kind, delta)(pred_safe, target_safe)  # (B, N); 0 where masked out
    return losses.sum() / mask.sum().clamp_min(1)


def sorted_matching_loss(
    pred: Tensor, target: Tensor, mask: Tensor, kind: str = "l1", delta: float = 1.0
) -> Tensor:
    """Per-molecule loss between unassigned predicted and observed shift sets.

    Valid entries may sit anywhere in a row; both rows are sorted with padding pushed to the end
    and compared elementwise.

    Parameters
    ----------
    pred
        Pooled predictions, shape ``B x G``.
    target
        Observed shifts, shape ``B x G`` (same units as ``pred``).
    mask
        Bool ``B x G``; True marks a valid entry of *both* ``pred`` and ``target``.

    Returns
    -------
    Tensor
        Shape ``B``: mean elementwise loss of each row; 0 for rows with no valid entry.
    """
    inf = torch.tensor(float("inf"), dtype=pred.dtype, device=pred.device)
    pred_sorted = torch.where(mask, pred, inf).sort(dim=-1).values  # (B, G); padding last
    target_sorted = torch.where(mask, target.to(pred.dtype), inf).sort(dim=-1).values  # (B, G)
    count = mask.sum(dim=-1)  # (B,)
    valid = torch.arange(mask.shape[-1], device=mask.device) < count[:, None]  # (B, G)
    zero = torch.zeros((), dtype=pred.dtype, device=pred.device)
    losses = pairwise(kind, delta)(
        torch.where(valid, pred_sorted, zero), torch.where(valid, target_sorted, zero)
    )  # (B, G); 0 on padding
    return losses.sum(dim=-1) / count.clamp_min(1)


def sorted_matching_residuals(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Residual of every prediction against the observed shift the sorted matching pairs it with.

    Parameters
    ----------
    pred, target, mask
        As in :func:`sorted_matching_loss`, shape ``B x G``.

    Returns
    -------
    Tensor
        Shape ``B x G``: ``pred - matched target`` at each valid entry of ``pred`` (in ``pred``'s
        own order, so it lines up with per-entry uncertainties), 0 elsewhere.
    """
    inf = torch.tensor(float("inf"), dtype=pred.dtype, device=pred.device)
    pred_sorted, order = torch.where(mask, pred, inf).sort(dim=-1)  # (B, G); padding last
    target_sorted = torch.where(mask, target.to(pred.dtype), inf).sort(dim=-1).values  # (B, G)
    valid = torch.arange(mask.shape[-1], device=mask.device) < mask.sum(dim=-1, keepdim=True)
    diff = torch.where(valid, pred_sorted - target_sorted, torch.zeros_like(pred_sorted))
    return torch.zeros_like(pred).scatter(-1, order, diff)  # (B, G)


def gaussian_nll(residual: Tensor, log_std: Tensor, mask: Tensor) -> Tensor:
    """Mean Gaussian negative log-likelihood (without the constant) over the masked entries.

    The residual is detached: this loss trains the uncertainty only, never the mean (the mean
    keeps its own L1/L2/Huber loss, so adding the head leaves its training unchanged).

    Parameters
    ----------
    residual
        Prediction minus target, any shape; may hold NaN where ``mask`` is False.
    log_std
        Predicted log standard deviation, same shape and units as ``residual``.
    mask
        Bool, same shape; True where the residual counts.

    Returns
    -------
    Tensor
        Scalar ``mean(log_std + residual^2 / (2 std^2))``; 0 (attached) when nothing is masked.
    """
    r = torch.where(mask, residual.detach(), torch.zeros_like(residual))
    s = torch.where(mask, log_std, torch.zeros_like(log_std))
    nll = s + 0.5 * r.square() * torch.exp(-2.0 * s)  # 0 + 0 on masked-out entries
    return nll.sum() / mask.sum().clamp_min(1)
