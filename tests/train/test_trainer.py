"""Trainer smoke runs on real samples: modes, NaN guard, exact resume, architecture check, DDP."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from litshift.data.weak_filters import WeakFilters
from litshift.inference.prediction import predict_ppm_std
from litshift.model.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_model,
    save_checkpoint,
)
from litshift.model.transformer import ShiftTransformer
from litshift.train.config import TrainConfig
from litshift.train.examples import load_data
from litshift.train.trainer import TrainData, TrainingDivergedError, train
from tests.training_data import TEST_MODEL, config_json, write_training_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_training_inputs(tmp_path_factory.mktemp("trainer"))


def _config(**overrides) -> TrainConfig:
    return TrainConfig.from_dict(json.loads(config_json(**overrides)))


@pytest.fixture(scope="module")
def data(inputs) -> TrainData:
    data, test, counts = load_data(
        inputs.assigned, inputs.splits, inputs.weak, inputs.conformers, _config()
    )
    assert data.train and data.valid and data.weak and test
    return data


@pytest.mark.parametrize("mode", ["supervised", "semi", "weak_only"])
def test_modes_train_and_write_checkpoints(mode, data, tmp_path) -> None:
    result = train(_config(mode=mode), data, tmp_path)
    assert result.steps == 6 and result.stop_reason == "completed"
    assert [h["step"] for h in result.history] == [3.0, 6.0]
    for entry in result.history:
        assert np.isfinite(entry["valid_mae"])
        assert (entry["loss_atom"] > 0) == (mode != "weak_only")
        assert (entry["loss_mol"] > 0) == (mode != "supervised")
    best = load_checkpoint(tmp_path / "checkpoints" / "best.pt")
    assert best["step"] == result.best_step and best["best_metric"] == result.best_metric
    assert best["train_config"]["mode"] == mode and "optimizer" not in best
    model, _ = load_model(tmp_path / "checkpoints" / "best.pt")
    for a, b in zip(model.state_dict().values(), result.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert torch.allclose(model.shift_mean, result.model.shift_mean)


def test_non_finite_loss_stops_with_a_clear_error(data, tmp_path) -> None:
    # a corrupt conformer (NaN coordinates) poisons the predictions, hence the loss
    broken = dataclasses.replace(data.train[0], coords=np.full_like(data.train[0].coords, np.nan))
    poisoned = TrainData(train=[broken] * 4, valid=data.valid, weak=data.weak)
    with pytest.raises(TrainingDivergedError, match="non-finite loss at step 0"):
        train(_config(mode="supervised"), poisoned, tmp_path)


def test_resume_after_a_kill_reproduces_the_uninterrupted_run(data, tmp_path) -> None:
    config = _config(max_steps=8, eval_every=4, checkpoint_every=2, patience=None)
    full = train(config, data, tmp_path / "full")
    # killed after step 5: the last checkpoint on disk is the one of step 4
    halted = train(config, data, tmp_path / "killed", halt_after=5)
    assert halted.stop_reason == "interrupted" and halted.steps == 5
    assert load_checkpoint(tmp_path / "killed" / "checkpoints" / "last.pt")["step"] == 4
    resumed = train(config, data, tmp_path / "killed", resume=True)
    assert resumed.steps == 8 and resumed.best_step == full.best_step
    for a, b in zip(
        full.model.state_dict().values(), resumed.model.state_dict().values(), strict=True
    ):
        assert torch.allclose(a, b, atol=1e-6)
    assert [h["valid_mae"] for h in resumed.history] == pytest.approx(
        [h["valid_mae"] for h in full.history], abs=1e-6
    )
    assert resumed.history[-1]["loss_mol"] == pytest.approx(full.history[-1]["loss_mol"])


def test_resume_refuses_another_architecture(data, tmp_path) -> None:
    train(_config(max_steps=2, eval_every=2), data, tmp_path)
    other = _config(max_steps=2, eval_every=2, model=TEST_MODEL | {"d_model": 32})
    with pytest.raises(CheckpointError, match="d_model: checkpoint 16 vs config 32"):
        train(other, data, tmp_path, resume=True)


def test_uncertainty_head_trains_without_changing_the_mean(data, tmp_path) -> None:
    plain = train(_config(mode="semi"), data, tmp_path / "plain")
    gaussian = _config(mode="semi", model=TEST_MODEL | {"uncertainty": "gaussian"})
    headed = train(gaussian, data, tmp_path / "headed")
    assert [h["valid_mae"] for h in headed.history] == [h["valid_mae"] for h in plain.history]
    trained = headed.model.state_dict()
    for name, value in plain.model.state_dict().items():
        assert torch.equal(value, trained[name]), name
    torch.manual_seed(gaussian.seed)  # the trainer's initialization
    untrained = ShiftTransformer(headed.model.config).state_dict()
    heads = [n for n in trained if n.startswith("scale_heads")]
    # the head learned from the labeled and the sorted-matching residuals
    assert heads and any(not torch.equal(trained[n], untrained[n]) for n in heads)
    predictions = predict_ppm_std(headed.model, data.valid, 8, torch.device("cpu"))
    for example, (_, std) in zip(data.valid, predictions, strict=True):
        assert np.all(std[example.mask] > 0) and np.all(np.isfinite(std))


def test_checkpoints_from_before_the_uncertainty_field_still_load(data, tmp_path) -> None:
    train(_config(max_steps=2, eval_every=2), data, tmp_path)
    for name in ("best.pt", "last.pt"):
        state = load_checkpoint(tmp_path / "checkpoints" / name)
        del state["model_config"]["uncertainty"]  # as written by older litshift versions
        save_checkpoint(state, tmp_path / "checkpoints" / name)
    model, _ = load_model(tmp_path / "checkpoints" / "best.pt")
    assert model.config.uncertainty == "none" and not model.has_scale_head
    resumed = train(_config(max_steps=4, eval_every=2), data, tmp_path, resume=True)
    assert resumed.steps == 4


def test_init_from_starts_at_the_given_weights(data, tmp_path) -> None:
    first = train(_config(mode="supervised", max_steps=4, eval_every=2), data, tmp_path / "a")
    start = tmp_path / "a" / "checkpoints" / "best.pt"
    # a zero learning rate keeps the initial weights: they must be the checkpoint's
    tuned = train(
        _config(mode="semi", lr=0.0, max_steps=2, eval_every=2, init_from=str(start)),
        data,
        tmp_path / "b",
    )
    for name, value in first.model.state_dict().items():
        assert torch.equal(value, tuned.model.state_dict()[name]), name
    assert tuned.best_metric == pytest.approx(first.best_metric, rel=1e-6)
    other = _config(model=TEST_MODEL | {"d_model": 32}, init_from=str(start))
    with pytest.raises(CheckpointError, match="d_model: checkpoint 16 vs config 32"):
        train(other, data, tmp_path / "c")


def test_lambda_warmup_keeps_the_weak_term_out_at_first(data, tmp_path) -> None:
    # a one-step run inside the ramp's first step trains as if lambda_mol were 0
    def one_step(name: str, **overrides) -> dict[str, torch.Tensor]:
        config = _config(mode="semi", max_steps=1, eval_every=1, **overrides)
        result = train(config, data, tmp_path / name)
        assert result.history[0]["loss_mol"] > 0  # computed and logged either way
        return result.model.state_dict()

    ramped = one_step("ramped", lambda_warmup_frac=1.0)
    unweighted = one_step("zero", lambda_mol=0.0)
    weighted = one_step("full")
    assert all(torch.equal(ramped[n], unweighted[n]) for n in ramped)
    assert not all(torch.equal(ramped[n], weighted[n]) for n in ramped)


def test_nucleus_weights_scale_each_nucleus_term(data, tmp_path) -> None:
    def one_step(name: str, **overrides):
        # no weight decay: a head without gradient keeps its initial weights exactly
        config = _config(
            mode="supervised", max_steps=1, eval_every=1, weight_decay=0.0, **overrides
        )
        return train(config, data, tmp_path / name)

    plain, muted = one_step("plain"), one_step("muted", nucleus_weights={"13C": 0.0})
    doubled = one_step("doubled", nucleus_weights={"13C": 2.0, "1H": 5.0})
    # the sample's training molecules carry 13C labels only
    assert not any(example.mask[:, 0].any() for example in data.train)
    assert doubled.history[0]["loss_atom"] == pytest.approx(2 * plain.history[0]["loss_atom"])
    assert muted.history[0]["loss_atom"] == 0
    torch.manual_seed(0)  # the trainer's initialization (seed 0)
    initial = ShiftTransformer(muted.model.config).heads[1].state_dict()
    assert muted.model.config.nuclei == ("1H", "13C")
    assert all(torch.equal(v, muted.model.heads[1].state_dict()[n]) for n, v in initial.items())
    assert not all(torch.equal(v, plain.model.heads[1].state_dict()[n]) for n, v in initial.items())
    with pytest.raises(ValueError, match="train.nucleus_weights must be >= 0"):
        TrainConfig(nucleus_weights={"13C": -1.0})


def test_weak_nucleus_weights_scale_each_nucleus_pairs(data, tmp_path) -> None:
    def loss_mol(name: str, **overrides) -> float:
        # one batch of every weak set: the sample's sets carry both nuclei
        config = _config(
            mode="weak_only", max_steps=1, eval_every=1, batch_weak=len(data.weak), **overrides
        )
        return train(config, data, tmp_path / name).history[0]["loss_mol"]

    assert all(any(example.plans[k] is not None for example in data.weak) for k in (0, 1))
    plain = loss_mol("plain")
    doubled = {"1H": 2.0, "13C": 2.0}
    assert loss_mol("doubled", weak_nucleus_weights=doubled) == pytest.approx(2 * plain)
    assert 0 < loss_mol("no_1h", weak_nucleus_weights={"1H": 0.0}) < plain
    assert loss_mol("none", weak_nucleus_weights={"1H": 0.0, "13C": 0.0}) == 0
    # L_atom's weights leave L_mol alone
    assert loss_mol("atom_weights", nucleus_weights=doubled) == pytest.approx(plain)
    with pytest.raises(ValueError, match="train.weak_nucleus_weights must be >= 0"):
        TrainConfig(weak_nucleus_weights={"1H": -1.0})


def test_early_stopping_after_patience(data, tmp_path) -> None:
    # a zero learning rate never improves on the first evaluation
    config = _config(lr=0.0, max_steps=12, eval_every=2, patience=2)
    result = train(config, data, tmp_path)
    assert result.stop_reason == "early_stopping"
    assert result.steps == 6 and result.best_step == 2


def test_config_rejects_unknown_keys_and_modes() -> None:
    with pytest.raises(ValueError, match="unknown keys in train: \\['lambda'\\]"):
        TrainConfig.from_dict({"lambda": 3})
    with pytest.raises(ValueError, match="train.mode"):
        TrainConfig(mode="unsupervised")
    filters = TrainConfig.from_dict({"weak_filters": {"elements": ["C", "H"]}}).weak_filters
    assert filters == WeakFilters(elements=("C", "H"))
