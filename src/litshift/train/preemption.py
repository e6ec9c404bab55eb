"""Stop training cleanly on the signals SLURM sends before it kills a job.

SLURM sends SIGTERM to a preempted job (SIGKILL follows after the partition's GraceTime) and,
when the job asked for it with ``sbatch --signal=USR1@120``, SIGUSR1 two minutes before its
time limit. While :func:`stop_signals` is active, either signal only records itself; the
training loop finishes the step it is in, saves ``checkpoints/last.pt`` and raises
:class:`TrainingPreempted`, and ``litshift train`` exits with 128 + the signal number, so that
Snakemake retries (or SLURM requeues) the job and ``--resume auto`` continues from that step
instead of from the last periodic checkpoint.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType

__all__ = ["STOP_SIGNALS", "StopRequest", "TrainingPreempted", "stop_signals"]

logger = logging.getLogger(__name__)

#: preemption / end of the job (SIGTERM) and SLURM's early warning (sbatch --signal=USR1@T)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1)


class TrainingPreempted(RuntimeError):
    """A stop signal ended training after ``step``; ``checkpoints/last.pt`` holds that step."""

    def __init__(self, signum: int, step: int) -> None:
        self.signum = signum
        self.step = step
        super().__init__(
            f"stopped by {signal.Signals(signum).name} after step {step}: checkpoints/last.pt "
            "holds it; rerun the same command (--resume auto) to continue"
        )


@dataclass(slots=True)
class StopRequest:
    """The first stop signal received (a signal handler: it only records, never acts)."""

    signum: int = 0
    """Signal number, 0 while none arrived."""

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signum = self.signum or signum


@contextmanager
def stop_signals(signals: Sequence[signal.Signals] = STOP_SIGNALS) -> Iterator[StopRequest]:
    """Record ``signals`` in the yielded request instead of dying of them; restore the previous
    handlers on exit. Outside the main thread (where Python cannot install handlers) the
    request never fires and the signals keep their effect."""
    names = "/".join(s.name for s in signals)
    request = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        logger.warning("training outside the main thread: %s will not save a checkpoint", names)
        yield request
        return
    previous = {s: signal.signal(s, request) for s in signals}
    logger.info("on %s: finish the step, save checkpoints/last.pt and exit", names)
    try:
        yield request
    finally:
        for s, handler in previous.items():
            # None: a handler installed outside Python, which Python cannot reinstate
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
