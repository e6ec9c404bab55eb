"""``litshift train --resume auto``: a killed job's rerun continues where it stopped and ends
with the weights of an uninterrupted run; anything but the same unfinished run starts afresh."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from litshift.cli import main
from litshift.model.checkpoint import load_checkpoint, save_checkpoint
from litshift.train import trainer
from litshift.train.config import TrainConfig
from litshift.train.examples import load_data
from litshift.train.resume import (
    FINISHED,
    clear_checkpoints,
    data_fingerprint,
    mark_finished,
    resume_decision,
)
from litshift.train.trainer import TrainData
from tests.training_data import config_json, write_training_inputs

#: 6 steps, evaluations at 3 and 6, resumable checkpoints at 2, 3, 4 and 6
CONFIG = config_json(max_steps=6, eval_every=3, checkpoint_every=2, patience=None)
KILL_AT = 4


class Killed(Exception):
    """Stands for SIGKILL: the process ends right after a checkpoint reached the disk."""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_training_inputs(tmp_path_factory.mktemp("resume"))


def _train(inputs, out: Path, config: str = CONFIG) -> int:
    # --debug: the simulated kill (an exception) propagates instead of becoming an error line
    return main(
        ["train", "--debug", *inputs.cli_args(), "--out", str(out), "--config-json", config]
    )


def _weights(path: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(path)["model"]


def test_a_killed_run_resumes_at_its_last_checkpoint_and_ends_like_an_uninterrupted_one(
    inputs, tmp_path, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="litshift.train.run")
    assert _train(inputs, tmp_path / "full") == 0

    save = trainer.save_checkpoint

    def save_then_die(state, path) -> None:
        save(state, path)
        if Path(path).name == "last.pt" and state["step"] == KILL_AT:
            raise Killed

    killed = tmp_path / "killed"
    monkeypatch.setattr(trainer, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        _train(inputs, killed)
    monkeypatch.undo()
    assert not (killed / "metrics.json").exists()
    assert not (killed / "checkpoints" / FINISHED).exists()

    caplog.clear()
    assert _train(inputs, killed) == 0  # the retry: the very same command
    assert (
        f"resuming: {killed / 'checkpoints' / 'last.pt'} is this run's, interrupted at step 4"
        in (caplog.text)
    )
    full, resumed = (
        json.loads((d / "metrics.json").read_text()) for d in (tmp_path / "full", killed)
    )
    assert resumed["steps"] == full["steps"] == 6 and resumed["best_step"] == full["best_step"]
    assert resumed["valid"]["mae"] == pytest.approx(full["valid"]["mae"], abs=1e-6)
    for name in ("model.pt", "checkpoints/last.pt"):
        a, b = _weights(tmp_path / "full" / name), _weights(killed / name)
        assert a.keys() == b.keys()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    history = [json.loads((d / "history.json").read_text()) for d in (tmp_path / "full", killed)]
    assert [h["valid_mae"] for h in history[1]] == pytest.approx(
        [h["valid_mae"] for h in history[0]], abs=1e-6
    )

    # the finished run's rerun (e.g. forced after a code change) trains afresh
    caplog.clear()
    assert _train(inputs, killed) == 0
    assert "training from scratch" in caplog.text and "belongs to a finished run" in caplog.text


def test_a_killed_run_rerun_with_other_params_starts_afresh(
    inputs, tmp_path, monkeypatch, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="litshift.train.run")
    save = trainer.save_checkpoint

    def save_then_die(state, path) -> None:
        save(state, path)
        if Path(path).name == "last.pt" and state["step"] == 2:
            raise Killed

    monkeypatch.setattr(trainer, "save_checkpoint", save_then_die)
    with pytest.raises(Killed):
        _train(inputs, tmp_path)
    monkeypatch.undo()
    changed = config_json(max_steps=6, eval_every=3, checkpoint_every=2, patience=None, lr=1e-3)
    assert _train(inputs, tmp_path, changed) == 0
    assert "another run config (lr: 0.0004 -> 0.001)" in caplog.text
    history = json.loads((tmp_path / "history.json").read_text())
    assert [h["step"] for h in history] == [3.0, 6.0]
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["train_config"]["lr"] == 1e-3


@pytest.fixture(scope="module")
def data(inputs) -> TrainData:
    data, _, _ = load_data(
        inputs.assigned,
        inputs.splits,
        inputs.weak,
        inputs.conformers,
        TrainConfig.from_dict(json.loads(CONFIG)),
    )
    return data


def test_a_run_killed_after_stopping_early_stops_again_on_resume(data, tmp_path) -> None:
    # a zero learning rate never improves on the first evaluation: stops at step 6
    config = TrainConfig.from_dict(
        json.loads(config_json(lr=0.0, max_steps=12, eval_every=2, patience=2))
    )
    assert trainer.train(config, data, tmp_path).steps == 6
    resumed = trainer.train(config, data, tmp_path, resume=True)
    assert (resumed.steps, resumed.stop_reason, resumed.best_step) == (6, "early_stopping", 2)


def test_the_data_fingerprint_sees_one_moved_atom(data) -> None:
    assert data_fingerprint(data) == data_fingerprint(data)
    first = data.weak[0]
    moved = dataclasses.replace(first, coords=first.coords + np.float32(0.01))
    assert data_fingerprint(dataclasses.replace(data, weak=[moved, *data.weak[1:]])) != (
        data_fingerprint(data)
    )


def test_decisions_name_their_reason(tmp_path) -> None:
    config = TrainConfig.from_dict(json.loads(CONFIG))
    ckpt = tmp_path / "checkpoints"
    assert resume_decision(ckpt, "auto", config, "abc") == (False, f"no checkpoint {ckpt}/last.pt")
    assert resume_decision(ckpt, "never", config, "abc")[0] is False
    assert resume_decision(ckpt, "always", config, "abc")[0] is True
    with pytest.raises(ValueError, match="--resume must be one of"):
        resume_decision(ckpt, "yes", config, "abc")

    ckpt.mkdir()
    (ckpt / "last.pt").write_bytes(b"not a checkpoint")
    assert "is unreadable" in resume_decision(ckpt, "auto", config, "abc")[1]

    save_checkpoint(
        {"train_config": config.to_dict(), "data_fingerprint": "abc", "step": 7}, ckpt / "last.pt"
    )
    assert resume_decision(ckpt, "auto", config, "abc") == (
        True,
        f"{ckpt}/last.pt is this run's, interrupted at step 7",
    )
    assert resume_decision(ckpt, "auto", config, "xyz") == (
        False,
        f"{ckpt}/last.pt was trained on other data (the inputs changed)",
    )
    other = dataclasses.replace(config, batch_weak=8, preset="paper")
    assert (
        "another run config (batch_weak: 4 -> 8, preset: 'tiny' -> 'paper')"
        in (resume_decision(ckpt, "auto", other, "abc")[1])
    )

    mark_finished(ckpt, 7)
    assert "belongs to a finished run" in resume_decision(ckpt, "auto", config, "abc")[1]
    clear_checkpoints(ckpt)
    assert list(ckpt.iterdir()) == []
