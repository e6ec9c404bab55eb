"""``litshift launch``: command lines per layout, SLURM resources, and a real 2-process run
in which process 0 alone logs to MLflow and writes the run directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from litshift.model.checkpoint import load_checkpoint
from litshift.train.launch import (
    TORCHRUN_SIGNALS,
    LaunchError,
    launch_argv,
    rendezvous_port,
    srun_env,
    train_resources,
)
from tests.conftest import REPO
from tests.training_data import config_json, write_training_inputs

PYTHON = sys.executable
TRAIN = ["train", "--out", "results/models/semi"]


def test_one_process_runs_the_command_itself() -> None:
    assert launch_argv(TRAIN, 1, 1, 8) == [PYTHON, "-m", "litshift.cli", *TRAIN]


def test_torchrun_passes_slurms_warning_signal_on_to_its_workers() -> None:
    assert TORCHRUN_SIGNALS.split(",") == ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1"]


def test_one_node_runs_a_standalone_torchrun() -> None:
    assert launch_argv(TRAIN, 1, 4, 32) == [
        PYTHON,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=4",
        "--standalone",
        f"--signals-to-handle={TORCHRUN_SIGNALS}",
        "-m",
        "litshift.cli",
        *TRAIN,
    ]


def test_several_nodes_run_one_torchrun_per_node_meeting_on_the_first() -> None:
    argv = launch_argv(TRAIN, 2, 4, 32, first_host="gpu017", job_id="123456")
    srun, rest = argv[: argv.index(PYTHON)], argv[argv.index(PYTHON) :]
    assert srun == [
        "srun",
        "--overlap",
        "--nodes=2",
        "--ntasks=2",
        "--ntasks-per-node=1",
        "--cpus-per-task=32",
        "--kill-on-bad-exit=1",
    ]
    assert rest == [
        PYTHON,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=4",
        "--nnodes=2",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint=gpu017:{rendezvous_port('123456')}",
        "--rdzv_id=123456",
        f"--signals-to-handle={TORCHRUN_SIGNALS}",
        "-m",
        "litshift.cli",
        *TRAIN,
    ]


def test_several_nodes_outside_slurm_fail_clearly() -> None:
    with pytest.raises(LaunchError, match="2 nodes need a SLURM allocation"):
        launch_argv(TRAIN, 2, 1, 1)
    with pytest.raises(ValueError, match="no litshift command"):
        launch_argv([], 1, 1, 1)


def test_rendezvous_ports_differ_between_neighbouring_jobs() -> None:
    ports = {rendezvous_port(str(job)) for job in range(1000, 1100)}
    assert len(ports) == 100 and all(29500 <= p < 39500 for p in ports)


def test_nested_srun_keeps_the_allocation_but_not_the_outer_step() -> None:
    env = {
        "SLURM_JOB_ID": "7",
        "SLURM_CPUS_PER_TASK": "32",
        "SLURM_NTASKS": "1",
        "SRUN_CPUS_PER_TASK": "32",
        "SBATCH_GRES": "gpu:4",
        "MLFLOW_TRACKING_URI": "sqlite:///x.db",
    }
    assert srun_env(env) == {"SLURM_JOB_ID": "7", "MLFLOW_TRACKING_URI": "sqlite:///x.db"}


def test_resources_ask_per_node_gpus_across_nodes() -> None:
    assert train_resources(1, 0) == {"nodes": 1, "gpu": 0}
    assert train_resources(1, 4) == {"nodes": 1, "gpu": 4}
    assert train_resources(2, 4) == {"nodes": 2, "gres": "gpu:4"}
    assert train_resources(3, 0) == {"nodes": 3, "tasks": 3}
    with pytest.raises(ValueError):
        train_resources(0, 1)


class _Resources(dict):
    """Job resources as the SLURM executor plugin reads them (attributes and ``get``)."""

    __getattr__ = dict.__getitem__


def _sbatch_and_step_flags(nodes: int, gpus: int) -> tuple[set[str], set[str]]:
    """The plugin's sbatch flags and the flags of its job step for one training job."""
    from snakemake_executor_plugin_slurm.submit_string import get_submit_command
    from snakemake_executor_plugin_slurm.utils import set_gres_string
    from snakemake_executor_plugin_slurm_jobstep import (
        get_cpu_setting,
        get_gpu_setting,
        get_node_setting,
    )

    resources = _Resources(mem_mb=64000, runtime=60, **train_resources(nodes, gpus))
    job = SimpleNamespace(resources=resources, threads=32)
    names = ("run_uuid", "slurm_logfile", "comment_str", "account", "partition", "workdir")
    sbatch = get_submit_command(job, dict.fromkeys(names, "x")) + set_gres_string(job)
    step = " ".join((get_cpu_setting(job, bool(gpus)), get_gpu_setting(job), get_node_setting(job)))
    placement = ("--nodes", "--ntasks", "--cpus-per", "--gpus", "--gres")
    return {flag for flag in sbatch.split() if flag.startswith(placement)}, set(step.split())


def test_the_slurm_plugin_asks_for_per_node_resources() -> None:
    assert _sbatch_and_step_flags(1, 4) == (
        {"--nodes=1", "--cpus-per-task=32", "--gpus=4"},
        {"--nodes=1", "--cpus-per-task=32", "--gpus=4"},
    )
    # one task of 32 CPUs and 4 GPUs on each node; the plugin's step (srun -n1) stays on the
    # first node, where `litshift launch` starts the srun of the torchruns
    assert _sbatch_and_step_flags(2, 4) == (
        {"--nodes=2", "--cpus-per-task=32", "--gres=gpu:4"},
        {"--nodes=2", "--cpus-per-task=32"},
    )
    assert _sbatch_and_step_flags(2, 0)[0] == {"--nodes=2", "--ntasks=2", "--cpus-per-task=32"}


def test_two_processes_log_one_mlflow_run_and_write_one_run_directory(tmp_path) -> None:
    import mlflow

    inputs = write_training_inputs(tmp_path / "inputs")
    out = tmp_path / "models" / "ddp"
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    env = os.environ | {
        "LITSHIFT_TRACKING": "1",
        "MLFLOW_TRACKING_URI": uri,
        "MLFLOW_EXPERIMENT_NAME": "launch-test",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        PYTHON,
        "-m",
        "litshift.cli",
        "launch",
        "--procs-per-node",
        "2",
        "--",
        "train",
        *inputs.cli_args(),
        "--out",
        str(out),
        "--config-json",
        config_json(max_steps=4, eval_every=2, device="cpu"),
        "--threads",
        "1",
    ]
    done = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["steps"] == 4
    assert np.isfinite(metrics["test"]["mae"])
    assert load_checkpoint(out / "checkpoints" / "last.pt")["world_size"] == 2
    written = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"model.pt", "metrics.json", "history.json", "config.json"} <= written
    assert {"checkpoints/last.pt", "checkpoints/best.pt", "checkpoints/finished.json"} <= written
    assert not any(".tmp" in name for name in written)  # no half-written or per-rank files
    assert [h["step"] for h in json.loads((out / "history.json").read_text())] == [2.0, 4.0]

    client = mlflow.MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("launch-test").experiment_id])
    assert [(r.info.run_name, r.info.status) for r in runs] == [("train:ddp", "FINISHED")]
    (run,) = runs
    assert run.data.params["world_size"] == "2"
    # each evaluation logged once, by process 0
    assert [m.step for m in client.get_metric_history(run.info.run_id, "valid_mae")] == [2, 4]
