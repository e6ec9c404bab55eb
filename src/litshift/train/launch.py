"""How ``litshift launch`` runs a litshift command data-parallel, on one node or across SLURM
nodes.

``litshift launch --nodes N --procs-per-node P --cpus-per-node C -- train ARGS...`` replaces
itself with (:func:`launch_plan`)

- ``litshift train ARGS`` when N = P = 1;
- ``torchrun --standalone --nproc_per_node P -m litshift.cli train ARGS`` when N = 1;
- ``srun --nodes N --ntasks-per-node 1 torchrun --nnodes N --nproc_per_node P --rdzv_backend c10d
  --rdzv_endpoint HOST:PORT -m litshift.cli train ARGS`` when N > 1: one torchrun per node of
  the SLURM allocation, meeting at HOST, the allocation's first node (``scontrol show
  hostnames``), on a port derived from the job id so that jobs sharing a node do not collide.

Under Snakemake's SLURM executor the job's command already runs inside a one-task step
(``srun -n1``) on the first node; the nested ``srun`` therefore uses ``--overlap`` (Slurm >=
22.05 shares CPUs, memory and GRES between overlapping steps) and drops the ``SLURM_*``
variables of the outer step, as the executor's jobstep plugin does for its own ``srun``.

torchrun also handles SIGUSR1 (``--signals-to-handle``, :data:`TORCHRUN_SIGNALS`): SLURM's
warning before the time limit (``sbatch --signal=USR1@T``) then reaches the workers, which save
a checkpoint and exit, as on SIGTERM. torchrun gives its workers 30 s to exit after it passes a
signal on (``TORCH_ELASTIC_SHUTDOWN_TIMEOUT`` changes that).

:func:`train_resources` is what the ``train`` rule asks the executor for; this module imports
no torch, so the Snakefile can use it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence

__all__ = [
    "TORCHRUN_SIGNALS",
    "LaunchError",
    "launch_argv",
    "launch_plan",
    "rendezvous_port",
    "srun_env",
    "train_resources",
]

#: SLURM variables a nested srun keeps: the allocation's identity, not the outer step's shape
_KEEP_SLURM = frozenset(
    {
        "SLURM_JOB_ID",
        "SLURM_JOBID",
        "SLURM_CLUSTER_NAME",
        "SLURM_CONF",
        "SLURM_SUBMIT_DIR",
        "SLURM_SUBMIT_HOST",
    }
)
#: torchrun's default signals plus SIGUSR1 (sbatch --signal=USR1@T): torchrun then passes it on
#: to its workers (which save a checkpoint, :mod:`litshift.train.preemption`) instead of dying
#: of it and leaving them to train on, orphaned, until the job's end kills them
TORCHRUN_SIGNALS = "SIGTERM,SIGINT,SIGHUP,SIGQUIT,SIGUSR1"
#: ports 29500-39499: torchrun's default and above, below the usual ephemeral range
_PORT_BASE, _PORT_SPAN = 29500, 10000


class LaunchError(RuntimeError):
    """A layout this environment cannot run (several nodes outside a SLURM allocation)."""


def train_resources(nodes: int, gpus_per_node: int) -> dict[str, int | str]:
    """Snakemake resources of one training job for snakemake-executor-plugin-slurm.

    One node asks for ``gpu`` (sbatch and the job step get ``--gpus``). Several nodes ask for
    ``nodes`` (``--nodes``, one task per node) and ``gres=gpu:G``: GRES count per node, whereas
    ``--gpus`` would count GPUs of the whole job and pin the plugin's one-task step to them.
    Without GPUs the plugin sends ``--ntasks=tasks`` (default 1, too few for several nodes);
    with GPUs it would turn ``tasks`` into ``--ntasks-per-gpu``, so only CPU jobs set it.
    """
    if nodes < 1 or gpus_per_node < 0:
        raise ValueError(f"need nodes >= 1 and gpus >= 0, got {nodes} and {gpus_per_node}")
    if nodes == 1:
        return {"nodes": 1, "gpu": gpus_per_node}
    if gpus_per_node:
        return {"nodes": nodes, "gres": f"gpu:{gpus_per_node}"}
    return {"nodes": nodes, "tasks": nodes}


def rendezvous_port(job_id: str) -> int:
    """A port for the c10d rendezvous that differs between concurrent SLURM jobs."""
    return _PORT_BASE + int(job_id) % _PORT_SPAN


def launch_argv(
    command: Sequence[str],
    nodes: int,
    procs_per_node: int,
    cpus_per_node: int,
    first_host: str | None = None,
    job_id: str | None = None,
) -> list[str]:
    """The command line that runs ``litshift COMMAND`` on ``nodes`` x ``procs_per_node`` processes.

    ``first_host`` and ``job_id`` (the SLURM allocation's first node and id) are needed only for
    several nodes.
    """
    if nodes < 1 or procs_per_node < 1 or cpus_per_node < 1:
        raise ValueError(
            f"need nodes, procs_per_node and cpus_per_node >= 1, "
            f"got {nodes}, {procs_per_node}, {cpus_per_node}"
        )
    if not command:
        raise ValueError("no litshift command to launch")
    module = ["-m", "litshift.cli", *command]
    if nodes == 1 and procs_per_node == 1:
        return [sys.executable, *module]
    torchrun = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={procs_per_node}"]
    workers = [f"--signals-to-handle={TORCHRUN_SIGNALS}", *module]
    if nodes == 1:
        return [*torchrun, "--standalone", *workers]
    if first_host is None or job_id is None:
        raise LaunchError(
            f"{nodes} nodes need a SLURM allocation (SLURM_JOB_ID and SLURM_JOB_NODELIST); "
            "run through the SLURM profile or set train.resources.nodes: 1"
        )
    srun = [
        "srun",
        "--overlap",
        f"--nodes={nodes}",
        f"--ntasks={nodes}",
        "--ntasks-per-node=1",
        f"--cpus-per-task={cpus_per_node}",
        "--kill-on-bad-exit=1",
    ]
    rendezvous = [
        f"--nnodes={nodes}",
        "--rdzv_backend=c10d",
        f"--rdzv_endpoint={first_host}:{rendezvous_port(job_id)}",
        f"--rdzv_id={job_id}",
    ]
    return [*srun, *torchrun, *rendezvous, *workers]


def srun_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the outer step's ``SLURM_*``/``SRUN_*``/``SBATCH_*`` settings."""
    return {
        name: value
        for name, value in env.items()
        if name in _KEEP_SLURM or not name.startswith(("SLURM_", "SRUN_", "SBATCH_"))
    }


def _first_host(env: Mapping[str, str]) -> str | None:
    """First node of the SLURM allocation, or None outside one."""
    nodelist = env.get("SLURM_JOB_NODELIST") or env.get("SLURM_NODELIST")
    if not nodelist:
        return None
    hosts = subprocess.run(
        ["scontrol", "show", "hostnames", nodelist], capture_output=True, text=True, check=True
    ).stdout.split()
    return hosts[0]


def launch_plan(
    command: Sequence[str],
    nodes: int,
    procs_per_node: int,
    cpus_per_node: int,
    env: Mapping[str, str],
) -> tuple[list[str], dict[str, str]]:
    """The command line and the environment that run ``litshift COMMAND`` in this layout, from
    a process whose environment is ``env``.

    Several nodes take the SLURM allocation's first node and id from ``env`` and leave the outer
    step's settings out of the nested ``srun``'s environment (:func:`srun_env`).
    """
    multi_node = nodes > 1
    argv = launch_argv(
        command,
        nodes,
        procs_per_node,
        cpus_per_node,
        first_host=_first_host(env) if multi_node else None,
        job_id=env.get("SLURM_JOB_ID"),
    )
    return argv, srun_env(env) if multi_node else dict(env)
