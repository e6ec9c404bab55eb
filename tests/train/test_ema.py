"""Weight averaging: the average follows the weights and is swapped in only inside the block."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from litshift.train.ema import WeightAverage


def test_average_follows_the_weights_and_is_restored() -> None:
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    ema = WeightAverage(model, decay=0.5)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    for _ in range(50):
        ema.update(model)
    raw = model.weight.detach().clone()
    with ema.applied(model):
        averaged = model.weight.detach().clone()
    torch.testing.assert_close(model.weight.detach(), raw)  # raw weights back after the block
    assert torch.allclose(averaged, raw, atol=1e-6)  # converged onto the constant weights
    assert not torch.allclose(averaged, start)


def test_warmup_gives_early_weights_most_of_the_average() -> None:
    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    ema = WeightAverage(model, decay=0.999)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema.update(model)  # weight 1 - 2/11: the initial value does not dominate a short run
    assert ema.shadow["weight"].item() == pytest.approx(1 - 2 / 11)


def test_state_round_trip() -> None:
    model = nn.Linear(2, 2)
    ema = WeightAverage(model, decay=0.9)
    with torch.no_grad():
        model.weight.mul_(3.0)
    ema.update(model)
    other = WeightAverage(nn.Linear(2, 2), decay=0.5)
    other.load_state_dict(ema.state_dict())
    assert other.updates == 1 and other.decay == 0.9
    torch.testing.assert_close(other.shadow["weight"], ema.shadow["weight"])


def test_decay_outside_the_unit_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="decay"):
        WeightAverage(nn.Linear(1, 1), decay=1.0)
