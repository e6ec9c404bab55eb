"""Parallel embedding in worker processes that one bad molecule cannot take down.

A shard job embeds its molecules in ``workers`` spawned processes, each fed one molecule at a
time, so the load balances itself (callers pass the slow molecules first). RDKit can crash a
process (segfault) or, rarely, hang past its own ETKDG timeout; when a worker dies or runs past
the hard limit, the molecule it held is recorded as ``worker_crashed`` / ``timeout`` and a fresh
worker takes over. Without this isolation a single molecule that crashes RDKit would fail its
shard on every rerun.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.connection import Connection, wait

from litshift.chem.conformers import (
    TIMEOUT,
    ConformerResult,
    EmbedOptions,
    embed,
    failed,
    molecule_seed,
)

__all__ = ["CRASHED", "EmbedFunction", "embed_parallel", "hard_limit"]

logger = logging.getLogger(__name__)

#: ``embed``-compatible callable: (smiles, options, key) -> result; must be importable (spawn)
EmbedFunction = Callable[[str, EmbedOptions, str], ConformerResult]
#: consecutive worker deaths without a result after which the stage gives up (a broken
#: environment, not a bad molecule)
MAX_CONSECUTIVE_CRASHES = 8
CRASHED = "worker_crashed"


def hard_limit(options: EmbedOptions) -> float:
    """Seconds after which a worker is killed: the embedding budget, twice, plus a minute for
    the force field (bounded by ``ff_max_iters``) and the worker's start-up."""
    return 2.0 * options.timeout_s + 60.0


def _serve(conn: Connection, embed_fn: EmbedFunction, options: EmbedOptions) -> None:
    """Worker loop: ``(key, smiles)`` in, result out, until ``None`` or the parent is gone."""
    try:
        while (item := conn.recv()) is not None:
            key, smiles = item
            conn.send(embed_fn(smiles, options, key))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass


class _Worker:
    """One worker process and the molecule it is working on."""

    def __init__(
        self, context: mp.context.SpawnContext, embed_fn: EmbedFunction, options: EmbedOptions
    ) -> None:
        self._args = (context, embed_fn, options)
        self.item: tuple[str, str] | None = None
        self._since = 0.0
        self._start()

    def _start(self) -> None:
        context, embed_fn, options = self._args
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, embed_fn, options), daemon=True)
        self.process.start()
        child.close()

    def submit(self, item: tuple[str, str]) -> None:
        self.item, self._since = item, time.monotonic()
        self.conn.send(item)

    def collect(self, ready: set[object], limit: float) -> ConformerResult | None:
        """The result of the current molecule; ``None`` while still working."""
        if self.conn in ready:
            try:
                result = self.conn.recv()
            except (EOFError, OSError):
                return self._replace(CRASHED)
            self.item = None
            return result
        if self.process.sentinel in ready:
            return self._replace(CRASHED)
        if time.monotonic() - self._since > limit:
            self.process.kill()
            return self._replace(TIMEOUT, f"killed after the hard limit of {limit:.0f} s")
        return None

    def _replace(self, status: str, error: str | None = None) -> ConformerResult:
        """Fail the current molecule and restart the process."""
        assert self.item is not None
        key, smiles = self.item
        self.process.join(timeout=5)
        error = error or f"worker process died (exit code {self.process.exitcode})"
        logger.warning("molecule %s (%s): %s", key, smiles, error)
        options = self._args[2]
        result = failed(
            key,
            smiles,
            molecule_seed(options.seed, key),
            status,
            error,
            seconds=time.monotonic() - self._since,
        )
        self.conn.close()
        self.item = None
        self._start()
        return result

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def embed_parallel(
    molecules: Iterable[tuple[str, str]],
    options: EmbedOptions,
    workers: int,
    embed_fn: EmbedFunction = embed,
    limit_s: float | None = None,
) -> Iterator[ConformerResult]:
    """Embed ``(key, smiles)`` pairs in ``workers`` processes; results in completion order.

    ``limit_s`` (default :func:`hard_limit`) is the wall time after which a worker is killed.
    """
    pending = deque(molecules)
    if not pending:
        return
    limit = hard_limit(options) if limit_s is None else limit_s
    context = mp.get_context("spawn")
    pool = [_Worker(context, embed_fn, options) for _ in range(min(workers, len(pending)))]
    crashes = 0
    try:
        while True:
            for worker in pool:
                if worker.item is None and pending:
                    worker.submit(pending.popleft())
            busy = [worker for worker in pool if worker.item is not None]
            if not busy:
                return
            ready = set(wait([w.conn for w in busy] + [w.process.sentinel for w in busy], 1.0))
            for worker in busy:
                result = worker.collect(ready, limit)
                if result is None:
                    continue
                crashes = crashes + 1 if result.status == CRASHED else 0
                if crashes > MAX_CONSECUTIVE_CRASHES:
                    raise RuntimeError(
                        f"{crashes} conformer workers died in a row (last: {result.error}); "
                        "the environment is broken, not a molecule"
                    )
                yield result
    finally:
        for worker in pool:
            worker.stop()
