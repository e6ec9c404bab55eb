"""Warmup + cosine learning-rate schedule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from litshift.train.schedule import learning_rate


@given(total=st.integers(1, 500), warmup_frac=st.floats(0, 0.5), ratio=st.floats(0, 1))
def test_warmup_then_monotone_decay_to_the_floor(total, warmup_frac, ratio) -> None:
    base = 4e-4
    warmup = int(warmup_frac * total)
    lrs = [learning_rate(s, total, base, warmup, ratio) for s in range(total)]
    assert all(0 <= lr <= base * (1 + 1e-12) for lr in lrs)
    assert lrs[:warmup] == sorted(lrs[:warmup])
    if warmup:
        assert lrs[warmup - 1] == pytest.approx(base)
    decay = lrs[warmup:]
    assert all(a >= b - 1e-15 for a, b in zip(decay, decay[1:], strict=False))
    if decay:
        assert decay[0] == pytest.approx(base)
    assert learning_rate(total, total, base, warmup, ratio) == pytest.approx(ratio * base)


@given(total=st.integers(1, 500), frac=st.floats(0, 1), lam=st.floats(0, 32))
def test_weak_weight_ramps_from_zero_to_lambda(total, frac, lam) -> None:
    from litshift.train.schedule import weak_weight

    weights = [weak_weight(s, total, lam, frac) for s in range(total + 1)]
    assert all(0 <= w <= lam for w in weights)
    assert weights == sorted(weights)
    assert weights[-1] == lam
    # a ramp starts at 0, however short; without one the first step has the full weight
    assert weights[0] == (0.0 if frac * total > 0 else lam)
