"""A real one-node SLURM cluster on localhost (munged, slurmctld, slurmd) for the profile test.

Debian's ``slurm-wlm`` and ``munge`` provide the daemons (``make system-deps`` installs them).
Everything lives in one temporary folder (config, munge key and socket, state, spool, logs)
except ``/etc/slurm/slurm.conf``, a symlink to the generated file for the cluster's lifetime:
the executor plugin's job step clears every ``SLURM_*`` variable (``SLURM_CONF`` included)
before its inner ``srun``, which then finds a configuration only at the default path.

There is no slurmdbd, so ``sacct`` has no accounting database: jobs are reported by
``squeue`` (finished jobs stay listed for ``MinJobAge`` seconds) and by ``sacct --completion``,
which reads the job-completion log (``JobCompType=jobcomp/filetxt``).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SYSTEM_CONF", "Cluster", "one_node_cluster", "slurm_conf", "unavailable_reason"]

#: where job steps look for the configuration (the SLURM_CONF of the submitting shell is gone)
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
#: daemons and client commands the test needs
BINARIES = (
    "munged",
    "mungekey",
    "slurmctld",
    "slurmd",
    "sbatch",
    "srun",
    "squeue",
    "sinfo",
    "sacct",
)
#: daemons live in /usr/sbin, which a non-login PATH may lack
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
#: seconds a finished job stays visible to squeue (the plugin polls squeue within this time)
MIN_JOB_AGE = 300
#: seconds to wait for the node to come up idle
START_TIMEOUT = 60


@dataclass(frozen=True)
class Cluster:
    """A running one-node cluster; ``env`` points SLURM client commands at it."""

    #: generated slurm.conf
    conf: Path

    @property
    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}

    def command(self, *args: str) -> str:
        """Stdout of a SLURM client command run against this cluster."""
        return subprocess.run(
            [_which(args[0]), *args[1:]],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    def queue(self, job_name: str) -> list[dict[str, str]]:
        """Jobs named ``job_name`` as ``squeue`` lists them, finished ones included."""
        out = self.command(
            "squeue", "--states=all", "--noheader", "--name", job_name, "--format=%i|%T|%P|%k"
        )
        fields = ("job_id", "state", "partition", "comment")
        return [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines()]

    def completed(self) -> list[dict[str, str]]:
        """Every finished job as ``sacct`` reads it from the job-completion log."""
        out = self.command(
            "sacct",
            "--completion",
            "--parsable2",
            "--noheader",
            "--format=JobID,JobName,State,Partition",
        )
        fields = ("job_id", "name", "state", "partition")
        return [dict(zip(fields, line.split("|"), strict=True)) for line in out.splitlines()]


def unavailable_reason() -> str | None:
    """Why the daemons cannot start on this machine, or None when they can."""
    if os.geteuid() != 0:
        return "the one-node SLURM cluster needs root (slurmd and munged run as root)"
    missing = [name for name in BINARIES if _which(name) is None]
    if missing:
        return (
            f"{', '.join(missing)} not installed: run `make system-deps` "
            "(Debian packages slurm-wlm and munge)"
        )
    if SYSTEM_CONF.exists():  # a dangling link is the leftover of an interrupted run
        return f"{SYSTEM_CONF} belongs to a SLURM installation of this machine; not replacing it"
    return None


def slurm_conf(
    root: Path, host: str, ports: tuple[int, int], memory_mb: int, partitions: tuple[str, ...]
) -> str:
    """slurm.conf of a cluster whose controller and single node are ``host`` on 127.0.0.1.

    Parameters
    ----------
    root
        Folder holding the munge socket, state, spool and log files.
    host
        Short host name; slurmd registers under it.
    ports
        (slurmctld, slurmd) TCP ports.
    memory_mb
        RealMemory of the node, what ``--mem`` requests are scheduled against.
    partitions
        Partition names, all on the one node; the first is the default.
    """
    lines = [
        "ClusterName=litshift-test",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={ports[0]}",
        f"SlurmdPort={ports[1]}",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={root}/munge/munge.socket",
        "SlurmUser=root",
        "SlurmdUser=root",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/slurmctld.pid",
        f"SlurmdPidFile={root}/slurmd.pid",
        f"SlurmctldLogFile={root}/log/slurmctld.log",
        f"SlurmdLogFile={root}/log/slurmd.log",
        # No cgroups in a container: track processes through /proc, bind nothing.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "MpiDefault=none",
        "SchedulerType=sched/backfill",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core_Memory",
        # Trust the node line below rather than what slurmd detects on a larger machine.
        "SlurmdParameters=config_overrides",
        "ReturnToService=2",
        f"MinJobAge={MIN_JOB_AGE}",
        "JobAcctGatherType=jobacct_gather/linux",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/filetxt",
        f"JobCompLoc={root}/log/jobcomp.txt",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory={memory_mb} State=UNKNOWN",
    ]
    lines += [
        f"PartitionName={name} Nodes={host} Default={'YES' if i == 0 else 'NO'} "
        "MaxTime=INFINITE State=UP"
        for i, name in enumerate(partitions)
    ]
    return "\n".join(lines) + "\n"


@contextmanager
def one_node_cluster(root: Path, partitions: tuple[str, ...]) -> Iterator[Cluster]:
    """Start munged, slurmctld and slurmd under ``root``; stop them and unlink the conf after."""
    for sub in ("munge", "state", "spool", "log"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    host = socket.gethostname().split(".")[0]
    conf = root / "slurm.conf"
    conf.write_text(slurm_conf(root, host, (_free_port(), _free_port()), _memory_mb(), partitions))
    key = root / "munge" / "munge.key"
    subprocess.run([_which("mungekey"), "--create", f"--keyfile={key}"], check=True)
    key.chmod(0o600)
    env = {**os.environ, "SLURM_CONF": str(conf)}
    with ExitStack() as stack:
        SYSTEM_CONF.unlink(missing_ok=True)  # dangling leftover (unavailable_reason checked)
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        SYSTEM_CONF.symlink_to(conf)
        stack.callback(SYSTEM_CONF.unlink, missing_ok=True)
        munge = root / "munge"
        # --force: the socket folder lies under pytest's private (0700) tmp folder.
        stack.enter_context(
            _daemon(
                root / "log" / "munged.out",
                "munged",
                "--foreground",
                "--force",
                f"--key-file={key}",
                f"--socket={munge}/munge.socket",
                f"--pid-file={munge}/munged.pid",
                f"--seed-file={munge}/munged.seed",
                f"--log-file={root}/log/munged.log",
                env=env,
            )
        )
        _wait(lambda: (munge / "munge.socket").exists(), "munged socket", root)
        stack.enter_context(
            _daemon(root / "log" / "slurmctld.out", "slurmctld", "-D", "-f", str(conf), env=env)
        )
        stack.enter_context(
            _daemon(
                root / "log" / "slurmd.out", "slurmd", "-D", "-f", str(conf), "-N", host, env=env
            )
        )
        cluster = Cluster(conf=conf)
        _wait(lambda: _node_idle(cluster), "node idle in sinfo", root)
        yield cluster


@contextmanager
def _daemon(log: Path, name: str, *args: str, env: dict[str, str]) -> Iterator[None]:
    """A foreground daemon as our own child process, terminated by its pid on exit."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [_which(name), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _node_idle(cluster: Cluster) -> bool:
    try:
        states = cluster.command("sinfo", "--noheader", "--Node", "--format=%T").split()
    except subprocess.CalledProcessError:  # slurmctld not listening yet
        return False
    return set(states) == {"idle"}


def _wait(ready: Callable[[], bool], what: str, root: Path) -> None:
    """Poll ``ready()`` until true; on time-out fail with the daemons' logs (not a skip)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if time.monotonic() > deadline:
            logs = "\n".join(
                f"--- {path.name}\n{path.read_text()[-2000:]}"
                for path in sorted((root / "log").iterdir())
            )
            raise RuntimeError(f"SLURM test cluster: no {what} after {START_TIMEOUT}s\n{logs}")
        time.sleep(0.5)


def _which(name: str) -> str | None:
    return shutil.which(name, path=SEARCH_PATH)


def _free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _memory_mb() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
