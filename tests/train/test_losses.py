"""The sorted matching loss is the optimal assignment for convex costs, and only for those."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import find, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from litshift.train.losses import (
    LOSS_KINDS,
    atom_loss,
    gaussian_nll,
    pairwise,
    sorted_matching_loss,
    sorted_matching_residuals,
)

shift = st.floats(min_value=-50.0, max_value=250.0, allow_nan=False, allow_infinity=False)


@st.composite
def paired_sets(draw, max_size: int = 8) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=1, max_value=max_size))
    x = draw(st.lists(shift, min_size=n, max_size=n))
    y = draw(st.lists(shift, min_size=n, max_size=n))
    return np.array(x), np.array(y)


def optimal_cost(x: np.ndarray, y: np.ndarray, f) -> float:
    """Minimum total cost of a perfect matching with cost f(x_i - y_j)."""
    cost = f(x[:, None] - y[None, :])
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum())


def sorted_cost(x: np.ndarray, y: np.ndarray, f) -> float:
    return float(f(np.sort(x) - np.sort(y)).sum())


def total_sorted_loss(x: np.ndarray, y: np.ndarray, kind: str, delta: float) -> float:
    """Per-row mean from the torch loss, times the row size."""
    pred, target = torch.tensor(x)[None], torch.tensor(y)[None]
    mask = torch.ones_like(pred, dtype=torch.bool)
    return sorted_matching_loss(pred, target, mask, kind, delta).item() * len(x)


def numpy_cost(kind: str, delta: float):
    def cost(d: np.ndarray) -> np.ndarray:
        loss = pairwise(kind, delta)(torch.tensor(d), torch.zeros(d.shape, dtype=torch.float64))
        return loss.numpy()

    return cost


@settings(max_examples=150, deadline=None)
@given(sets=paired_sets(), kind=st.sampled_from(LOSS_KINDS), delta=st.floats(0.1, 10.0))
def test_sorted_loss_equals_optimal_assignment_for_convex_costs(sets, kind, delta):
    x, y = sets
    expected = optimal_cost(x, y, numpy_cost(kind, delta))
    assert total_sorted_loss(x, y, kind, delta) == pytest.approx(expected, rel=1e-9, abs=1e-7)


def test_sorting_is_not_optimal_for_a_concave_cost():
    """f(d) = sqrt|d| violates convexity: crossing the pairs is cheaper than sorting them."""
    x, y = np.array([0.0, 1.0]), np.array([1.0, 2.0])
    root = lambda d: np.sqrt(np.abs(d))  # noqa: E731
    assert sorted_cost(x, y, root) == pytest.approx(2.0)  # (0,1) and (1,2)
    assert optimal_cost(x, y, root) == pytest.approx(math.sqrt(2.0))  # (0,2) and (1,1)


def test_hypothesis_finds_counterexamples_for_a_threshold_cost():
    """A 0/1 cost (|d| > 0.5) is not convex; a search turns up instances where sorting loses."""
    step = lambda d: (np.abs(d) > 0.5).astype(float)  # noqa: E731
    x, y = find(
        paired_sets(max_size=4),
        lambda s: sorted_cost(*s, step) > optimal_cost(*s, step) + 0.5,
        settings=settings(max_examples=2000, database=None),
    )
    assert sorted_cost(x, y, step) > optimal_cost(x, y, step)


@st.composite
def padded_batches(draw):
    """Rows with valid entries at random positions and garbage (incl. NaN/inf) elsewhere."""
    rows = draw(st.integers(1, 5))
    width = draw(st.integers(1, 9))
    masks = [draw(st.lists(st.booleans(), min_size=width, max_size=width)) for _ in range(rows)]
    garbage = st.sampled_from([0.0, -1e6, 1e6, float("nan"), float("inf")])
    pred = [[draw(shift if m else garbage) for m in row] for row in masks]
    target = [[draw(shift if m else garbage) for m in row] for row in masks]
    return torch.tensor(pred), torch.tensor(target), torch.tensor(masks)


@settings(max_examples=100, deadline=None)
@given(batch=padded_batches(), kind=st.sampled_from(LOSS_KINDS))
def test_batched_loss_with_padding_equals_per_row_loss(batch, kind):
    pred, target, mask = batch
    losses = sorted_matching_loss(pred, target, mask, kind)
    assert losses.shape == (pred.shape[0],)
    for row in range(pred.shape[0]):
        p, t = pred[row][mask[row]], target[row][mask[row]]
        if len(p) == 0:
            assert losses[row].item() == 0.0
            continue
        ones = torch.ones(1, len(p), dtype=torch.bool)
        alone = sorted_matching_loss(p[None], t[None], ones, kind)
        torch.testing.assert_close(losses[row], alone[0])


def test_gradient_reaches_valid_entries_only():
    pred = torch.tensor([[3.0, float("nan"), 1.0], [0.0, 0.0, 0.0]], requires_grad=True)
    target = torch.tensor([[1.5, 9.0, 2.5], [5.0, 5.0, 5.0]])
    mask = torch.tensor([[True, False, True], [False, False, False]])
    losses = sorted_matching_loss(pred, target, mask)
    torch.testing.assert_close(losses, torch.tensor([0.5, 0.0]))  # (1-1.5, 3-2.5) after sorting
    losses.sum().backward()
    torch.testing.assert_close(pred.grad, torch.tensor([[0.5, 0.0, -0.5], [0.0, 0.0, 0.0]]))


def test_sorting_is_invariant_to_a_shared_affine_normalization():
    """The trainer z-scores pred and target alike; the loss only rescales by the std."""
    generator = torch.Generator().manual_seed(0)
    pred, target = torch.randn(3, 6, generator=generator), torch.randn(3, 6, generator=generator)
    mask = torch.rand(3, 6, generator=generator) > 0.3
    raw = sorted_matching_loss(pred * 50 + 100, target * 50 + 100, mask)
    torch.testing.assert_close(raw, 50 * sorted_matching_loss(pred, target, mask))


def test_atom_loss_is_a_masked_mean_that_ignores_nan_padding():
    pred = torch.tensor([[1.0, 2.0, 7.0]], requires_grad=True)
    target = torch.tensor([[2.0, float("nan"), 4.0]])
    mask = torch.tensor([[True, False, True]])
    loss = atom_loss(pred, target, mask, kind="l2")
    assert loss.item() == pytest.approx((1.0 + 9.0) / 2)
    loss.backward()
    torch.testing.assert_close(pred.grad, torch.tensor([[-1.0, 0.0, 3.0]]))
    huber = atom_loss(pred, target, mask, kind="huber", delta=1.0)
    assert huber.item() == pytest.approx((0.5 + 2.5) / 2)


def test_atom_loss_without_labels_is_zero_and_differentiable():
    pred = torch.ones(2, 3, requires_grad=True)
    loss = atom_loss(pred, torch.full((2, 3), float("nan")), torch.zeros(2, 3, dtype=torch.bool))
    assert loss.item() == 0.0 and loss.requires_grad
    loss.backward()
    assert torch.equal(pred.grad, torch.zeros(2, 3))


def test_unknown_kind_is_rejected():
    with pytest.raises(ValueError, match="unknown loss kind"):
        pairwise("l0")


@settings(max_examples=60, deadline=None)
@given(paired_sets(), st.integers(0, 3))
def test_sorted_residuals_pair_each_prediction_with_its_sorted_peak(sets, n_pad) -> None:
    x, y = sets
    pad = np.full(n_pad, np.nan)
    pred = torch.tensor(np.concatenate([x, pad]))[None]
    target = torch.tensor(np.concatenate([y, pad]))[None]
    mask = torch.arange(len(x) + n_pad)[None] < len(x)
    residual = sorted_matching_residuals(pred.nan_to_num(), target.nan_to_num(), mask)[0].numpy()
    order = np.argsort(x, kind="stable")
    expected = np.zeros(len(x))
    expected[order] = x[order] - np.sort(y)
    np.testing.assert_allclose(residual[: len(x)], expected, atol=1e-9)
    assert not residual[len(x) :].any()
    # the L1 matching loss is the mean absolute matched residual
    l1 = sorted_matching_loss(pred.nan_to_num(), target.nan_to_num(), mask, "l1")
    assert l1.item() == pytest.approx(np.abs(expected).mean(), abs=1e-9)


def test_gaussian_nll_trains_the_scale_only_and_is_minimal_at_the_residual():
    residual = torch.tensor([[2.0, -2.0, float("nan")]], requires_grad=True)
    mask = torch.tensor([[True, True, False]])
    log_std = torch.zeros(1, 3, requires_grad=True)
    loss = gaussian_nll(residual, log_std, mask)
    assert loss.item() == pytest.approx(0.5 * 4.0)  # log 1 + 4 / 2
    loss.backward()
    assert residual.grad is None  # detached: the mean is not trained by the NLL
    assert log_std.grad[0, 2] == 0 and torch.isfinite(log_std.grad).all()
    # d/ds (s + r^2 e^{-2s} / 2) = 0 at s = log|r|
    best = torch.full((1, 3), math.log(2.0), requires_grad=True)
    gaussian_nll(residual, best, mask).backward()
    assert torch.allclose(best.grad, torch.zeros(1, 3), atol=1e-6)
