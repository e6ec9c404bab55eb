"""Fine-tuning into more nuclei: a checkpoint's trunk and heads go into the new model."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from litshift.model.checkpoint import CheckpointError, transfer_weights
from litshift.model.transformer import ShiftTransformer
from tests.model.small_models import small_config


def _trained(nuclei: tuple[str, ...], seed: int) -> tuple[ShiftTransformer, dict]:
    torch.manual_seed(seed)
    model = ShiftTransformer(small_config(nuclei=nuclei, uncertainty="gaussian"))
    model.set_target_scaler(torch.arange(len(nuclei)) + 10.0, torch.arange(len(nuclei)) + 2.0)
    state = {"model_config": asdict(model.config), "model": model.state_dict()}
    return model, state


def test_trunk_and_known_heads_are_copied_new_heads_stay_fresh() -> None:
    saved, state = _trained(("1H", "13C"), seed=0)
    torch.manual_seed(1)
    # another order, and a nucleus the checkpoint never saw
    model = ShiftTransformer(small_config(nuclei=("13C", "31P", "1H"), uncertainty="gaussian"))
    model.set_target_scaler(torch.tensor([0.0, 50.0, 0.0]), torch.tensor([1.0, 40.0, 1.0]))
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    assert transfer_weights(model, state) == ["31P"]
    now, old = model.state_dict(), saved.state_dict()
    for key, value in old.items():
        if key.split(".")[0] not in ("heads", "scale_heads", "shift_mean", "shift_std"):
            assert torch.equal(now[key], value), key  # the whole trunk
    for head in ("heads", "scale_heads"):
        for src, dst in ((0, 2), (1, 0)):  # 1H -> position 2, 13C -> position 0
            for name, value in getattr(saved, head)[src].state_dict().items():
                assert torch.equal(getattr(model, head)[dst].state_dict()[name], value)
        for name, value in getattr(model, head)[1].state_dict().items():  # 31P: untouched
            assert torch.equal(value, fresh[f"{head}.1.{name}"])
    assert model.shift_mean.tolist() == [11.0, 50.0, 10.0]
    assert model.shift_std.tolist() == [3.0, 40.0, 2.0]


def test_same_nuclei_is_a_plain_load() -> None:
    saved, state = _trained(("1H", "13C"), seed=0)
    model = ShiftTransformer(small_config(nuclei=("1H", "13C"), uncertainty="gaussian"))
    assert transfer_weights(model, state) == []
    for key, value in saved.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_other_architectures_and_lost_nuclei_are_refused() -> None:
    _, state = _trained(("1H", "13C"), seed=0)
    wider = ShiftTransformer(small_config(nuclei=("1H", "13C", "19F"), d_model=64))
    with pytest.raises(CheckpointError, match="d_model"):
        transfer_weights(wider, state)
    fewer = ShiftTransformer(small_config(nuclei=("13C",), uncertainty="gaussian"))
    with pytest.raises(CheckpointError, match=r"predicts \['1H'\], which the model lacks"):
        transfer_weights(fewer, state)
