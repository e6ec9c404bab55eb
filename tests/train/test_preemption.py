"""Graceful preemption: SIGTERM/SIGUSR1 during ``litshift train`` saves ``last.pt`` at the step
it stopped at, writes no outputs, exits non-zero, and the ``--resume auto`` rerun ends with the
weights of an uninterrupted run; under DDP every process stops after the same step."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from litshift.cli import main
from litshift.model.checkpoint import load_checkpoint
from litshift.train import trainer
from litshift.train.config import TrainConfig
from litshift.train.examples import load_data
from litshift.train.preemption import TrainingPreempted, stop_signals
from litshift.train.resume import FINISHED
from tests.conftest import REPO
from tests.training_data import config_json, write_training_inputs

#: enough steps that the signal lands mid-run; no periodic checkpoint before the first evaluation
STEPS = 120
CONFIG = config_json(
    epochs=100, max_steps=STEPS, eval_every=40, checkpoint_every=1000, patience=None
)
#: what the trainer logs once its handlers are in place
READY = "on SIGTERM/SIGUSR1: finish the step"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_training_inputs(tmp_path_factory.mktemp("preemption"))


def test_stop_signals_record_the_first_signal_and_restore_the_handlers() -> None:
    before = signal.getsignal(signal.SIGUSR1)
    with stop_signals() as stop:
        assert stop.signum == 0
        os.kill(os.getpid(), signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.signum == signal.SIGUSR1
    assert signal.getsignal(signal.SIGUSR1) is before
    assert "stopped by SIGUSR1 after step 7" in str(TrainingPreempted(signal.SIGUSR1, 7))


def test_a_signal_during_the_last_evaluation_still_stops_the_run_without_outputs(
    inputs, tmp_path, monkeypatch
) -> None:
    config = TrainConfig.from_dict(json.loads(config_json(max_steps=4, eval_every=2)))
    data, _, _ = load_data(inputs.assigned, inputs.splits, inputs.weak, inputs.conformers, config)
    evaluate = trainer._evaluate_and_record

    def signalled_at_the_end(model, valid, config, device, progress, *args):
        if progress.step == 4:  # after the step's own check: only the final agreement sees it
            os.kill(os.getpid(), signal.SIGUSR1)
        return evaluate(model, valid, config, device, progress, *args)

    monkeypatch.setattr(trainer, "_evaluate_and_record", signalled_at_the_end)
    before = signal.getsignal(signal.SIGUSR1)
    with pytest.raises(TrainingPreempted) as stopped:
        trainer.train(config, data, tmp_path)
    assert (stopped.value.signum, stopped.value.step) == (signal.SIGUSR1, 4)
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == 4
    assert signal.getsignal(signal.SIGUSR1) is before


def _start(argv: list[str]) -> subprocess.Popen[str]:
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "litshift.cli", *argv],
        cwd=REPO,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def _wait_for_training(process: subprocess.Popen[str], n_processes: int) -> list[str]:
    """Stderr lines up to the moment every training process has its handlers installed."""
    assert process.stderr is not None
    lines: list[str] = []
    while sum(READY in line for line in lines) < n_processes:
        line = process.stderr.readline()
        assert line, "".join(lines)[-3000:]  # the run ended before training started
        lines.append(line)
    return lines


def _train_args(inputs, out: Path, config: str = CONFIG) -> list[str]:
    return [
        "train",
        *inputs.cli_args(),
        "--out",
        str(out),
        "--config-json",
        config,
        "--threads",
        "1",
    ]


def _stopped_step(log: str, name: str = "SIGTERM") -> int:
    (step,) = set(re.findall(rf"stopped by {name} after step (\d+)", log))
    return int(step)


def _assert_no_outputs(out: Path) -> None:
    for name in ("model.pt", "metrics.json", "calibration.json", f"checkpoints/{FINISHED}"):
        assert not (out / name).exists(), name


def test_sigterm_saves_the_current_step_and_the_rerun_ends_like_an_uninterrupted_run(
    inputs, tmp_path
) -> None:
    stopped = tmp_path / "stopped"
    process = _start(_train_args(inputs, stopped))
    lines = _wait_for_training(process, 1)
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=300)
    log = "".join(lines) + rest
    assert process.returncode == 128 + signal.SIGTERM, log[-3000:]
    _assert_no_outputs(stopped)
    step = _stopped_step(log)
    state = load_checkpoint(stopped / "checkpoints" / "last.pt")
    # saved at the step it stopped at, not at a periodic checkpoint (none is due before 1000)
    assert state["step"] == step and 1 <= step < STEPS
    assert all(entry["step"] <= step for entry in state["progress"]["history"])

    assert main(_train_args(inputs, stopped)) == 0  # the retry
    full = tmp_path / "full"
    assert main(_train_args(inputs, full)) == 0
    resumed, uninterrupted = (json.loads((d / "metrics.json").read_text()) for d in (stopped, full))
    assert resumed["steps"] == uninterrupted["steps"] == STEPS
    for name in ("model.pt", "checkpoints/last.pt"):
        a, b = (load_checkpoint(d / name)["model"] for d in (full, stopped))
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


def _worker_of_rank(launcher: int, rank: int) -> int:
    """Pid of torchrun's worker process with ``RANK=rank``."""
    children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    for pid in map(int, children):
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environ:
            return pid
    raise AssertionError(f"no worker of rank {rank} among {children}")


@pytest.mark.parametrize(
    ("signum", "to_torchrun"),
    [
        # process 1 alone hears it: process 0 must still stop with it and save the checkpoint
        (signal.SIGTERM, False),
        # SLURM's warning reaches the workers through torchrun (litshift launch's environment)
        (signal.SIGUSR1, True),
    ],
)
def test_a_signal_to_ddp_training_stops_every_process_after_the_same_step(
    inputs, tmp_path, signum: signal.Signals, to_torchrun: bool
) -> None:
    out = tmp_path / "ddp"
    config = config_json(**json.loads(CONFIG), device="cpu")
    process = _start(["launch", "--procs-per-node", "2", "--", *_train_args(inputs, out, config)])
    lines = _wait_for_training(process, 2)
    os.kill(process.pid if to_torchrun else _worker_of_rank(process.pid, 1), signum)
    _, rest = process.communicate(timeout=300)
    log = "".join(lines) + rest
    assert process.returncode != 0, log[-3000:]
    _assert_no_outputs(out)
    stops = re.findall(rf"stopped by {signum.name} after step \d+", log)
    assert len(stops) == 2, log[-3000:]  # one per process
    state = load_checkpoint(out / "checkpoints" / "last.pt")
    assert state["world_size"] == 2 and state["step"] == _stopped_step(log, signum.name)
