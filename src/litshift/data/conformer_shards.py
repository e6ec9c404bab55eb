"""Conformer shards: embedding one shard of the molecules (cached), the manifest, the reader.

A shard job (``litshift conformers shard``, :mod:`litshift.cli.conformers`) embeds the
molecules of one shard of ``molecules.parquet`` (``key``, ``smiles``; ``key`` is
:func:`~litshift.chem.molecules.molecule_key` of the canonical SMILES, a content hash, not the
InChIKey: standard InChI merges mobile-H tautomers, which are different explicit-H graphs here)
into ``shard-XXXX.parquet`` (schema ``conformers``); the gather writes the ``done.json``
manifest downstream rules depend on; :func:`load_conformers` reads the shards back for
training, evaluation and verification.

Sharding: molecule ``key`` belongs to shard ``int(key, 16) % n_shards``, so a shard's content
depends only on its molecules. Shards run as separate Snakemake jobs; inside a job the
molecules are spread over ``workers`` processes (:mod:`litshift.chem.conformer_pool`).

Reuse across runs: Snakemake deletes a job's output before rerunning it, so results are kept
in a store outside the outputs, ``<cache>/<options digest>/shards-<N>/<i>/chunk-*.parquet``
(append-only chunks of ``conformers`` rows, written every ``chunk_size`` new molecules, so a
killed job loses at most one chunk). The digest covers every option that can change a result
and the RDKit version; a shard reads the chunks of every partition whose keys can overlap its
own (all of them agree on ``key mod gcd``), so even a changed ``n_shards`` reuses the store.
A grown input therefore only embeds the new keys (:class:`ConformerCache` says how limits
such as ``timeout_s`` are handled).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from litshift.chem.conformer_pool import embed_parallel
from litshift.chem.conformers import CACHEABLE_STATUSES, TIMEOUT, EmbedOptions
from litshift.chem.molecules import molecule_key
from litshift.data.io import atomic_path, read_table, rows_to_table, write_table

__all__ = [
    "ConformerCache",
    "gather",
    "load_conformers",
    "overlapping_shards",
    "run_shard",
    "shard_molecules",
    "shard_of",
]

logger = logging.getLogger(__name__)

#: failure examples kept in a shard's MLflow summary
N_EXAMPLES = 20


def shard_of(key: str, n_shards: int) -> int:
    """Shard of a molecule: its hex key modulo ``n_shards`` (stable across runs and machines)."""
    try:
        return int(key, 16) % n_shards
    except ValueError:
        raise ValueError(f"molecule key {key!r} is not a hex molecule_key") from None


def overlapping_shards(shard: int, n_shards: int, other: int) -> range:
    """Shards of an ``other``-way split that share keys with ``shard`` of ``n_shards``.

    ``k % n_shards == shard`` and ``k % other == j`` have a common solution ``k`` exactly when
    ``shard`` and ``j`` agree modulo ``gcd(n_shards, other)`` (Chinese remainder theorem).
    """
    step = math.gcd(n_shards, other)
    return range(shard % step, other, step)


class ConformerCache:
    """Append-only store of ``conformers`` rows for one set of options, outside rule outputs.

    ``<root>/<digest>/shards-<N>/<i>/chunk-*.parquet`` holds the results that only the
    options decide; timeouts go to ``<root>/<digest>/timeout-<s>/...`` and are reused while
    ``timeout_s`` is at most ``s`` (a molecule that ran out of 30 s runs out of 5 s), so
    only a raised limit retries them. ``too_many_atoms`` (cheap) and ``worker_crashed``
    (rare) are never stored.
    """

    def __init__(self, root: str | os.PathLike[str], options: EmbedOptions) -> None:
        self.options = options
        self.directory = Path(root) / options.digest()

    def _stores(self) -> list[Path]:
        """The main store and the timeout stores whose limit was at least today's."""
        stores = [self.directory]
        for store in sorted(self.directory.glob("timeout-*")):
            if int(store.name.removeprefix("timeout-")) >= self.options.timeout_s:
                stores.append(store)
        return stores

    def _chunks(self, shard: int, n_shards: int) -> list[Path]:
        """Chunks of every stored partition (any shard count) that can hold keys of ours."""
        chunks = []
        for store in self._stores():
            for parent in sorted(store.glob("shards-*")):
                other = int(parent.name.removeprefix("shards-"))
                for j in overlapping_shards(shard, n_shards, other):
                    chunks += sorted((parent / f"{j:04d}").glob("chunk-*.parquet"))
        return chunks

    def lookup(self, keys: Collection[str], shard: int, n_shards: int) -> pa.Table:
        """Stored rows of ``keys`` (one per key) that the current limits still accept."""
        wanted = pa.array(sorted(keys), pa.string())
        tables = [rows_to_table([], "conformers")]
        for chunk in self._chunks(shard, n_shards):
            table = read_table(chunk, "conformers")
            tables.append(table.filter(pc.is_in(table["key"], value_set=wanted)))
        table = pa.concat_tables(tables)
        # A result stored under a larger max_atoms would be "too_many_atoms" now.
        table = table.filter(
            pc.less_equal(pc.list_value_length(table["atomic_numbers"]), self.options.max_atoms)
        )
        _, first = np.unique(table["key"].to_numpy(zero_copy_only=False), return_index=True)
        return table.take(pa.array(first, pa.int64()))

    def add(self, rows: Sequence[Mapping[str, Any]], shard: int, n_shards: int) -> None:
        """Store the storable ``rows`` as new chunks (written atomically)."""
        timeout_store = self.directory / f"timeout-{self.options.timeout_s}"
        groups: dict[Path, list[Mapping[str, Any]]] = {}
        for row in rows:
            if row["status"] in CACHEABLE_STATUSES:
                groups.setdefault(self.directory, []).append(row)
            elif row["status"] == TIMEOUT:
                groups.setdefault(timeout_store, []).append(row)
        manifest = self.directory / "options.json"
        if groups and not manifest.exists():
            with atomic_path(manifest) as tmp:
                tmp.write_text(json.dumps(self.options.identity(), indent=2) + "\n")
        for store, group in groups.items():
            chunk = f"shards-{n_shards}/{shard:04d}/chunk-{uuid.uuid4().hex}.parquet"
            write_table(group, store / chunk, "conformers")


def shard_molecules(molecules: pa.Table, shard: int, n_shards: int) -> dict[str, str]:
    """``key -> smiles`` of the molecules in ``shard``; refuses inconsistent keys up front."""
    mine: dict[str, str] = {}
    for key, smiles in zip(
        molecules["key"].to_pylist(), molecules["smiles"].to_pylist(), strict=True
    ):
        if shard_of(key, n_shards) == shard and mine.setdefault(key, smiles) != smiles:
            raise ValueError(f"molecule key {key} appears with two SMILES")
    wrong = [key for key, smiles in mine.items() if molecule_key(smiles) != key]
    if wrong:
        raise ValueError(
            f"{len(wrong)} molecules have a key that is not molecule_key(smiles), "
            f"e.g. {wrong[0]} for {mine[wrong[0]]!r}"
        )
    return mine


def run_shard(
    molecules: pa.Table,
    shard: int,
    n_shards: int,
    out: str | os.PathLike[str],
    cache: ConformerCache,
    workers: int = 1,
    chunk_size: int = 1000,
) -> dict[str, Any]:
    """Write the conformer shard ``out``, embedding only what ``cache`` lacks.

    Returns the summary that goes to MLflow (counts, failure reasons, timings).
    """
    start = time.perf_counter()
    mine = shard_molecules(molecules, shard, n_shards)
    cached = cache.lookup(mine, shard, n_shards)
    done = set(cached["key"].to_pylist())
    # Longest SMILES first: the slow molecules start early instead of finishing alone.
    todo = sorted(
        ((k, s) for k, s in mine.items() if k not in done), key=lambda m: (-len(m[1]), m[0])
    )
    logger.info(
        "shard %d/%d: %d molecules, %d from the cache, %d to embed with %d workers",
        shard,
        n_shards,
        len(mine),
        len(done),
        len(todo),
        workers,
    )
    rows: list[dict[str, Any]] = []
    unsaved: list[dict[str, Any]] = []
    seconds: list[float] = []
    examples: list[dict[str, str | None]] = []
    embed_start = time.perf_counter()
    results = embed_parallel(todo, cache.options, workers)
    for result in tqdm(results, total=len(todo), desc=f"shard {shard}", unit="mol", mininterval=10):
        row = result.to_row()
        rows.append(row)
        seconds.append(result.seconds)
        unsaved.append(row)
        if not result.ok and len(examples) < N_EXAMPLES:
            examples.append({k: row[k] for k in ("key", "smiles", "status", "error")})
        if len(unsaved) >= chunk_size:
            cache.add(unsaved, shard, n_shards)
            unsaved = []
    cache.add(unsaved, shard, n_shards)
    embed_seconds = time.perf_counter() - embed_start
    table = pa.concat_tables([cached, rows_to_table(rows, "conformers")])
    table = write_table(table.sort_by("key"), out, "conformers")
    statuses = Counter(table["status"].to_pylist())
    times = np.array(seconds) if seconds else np.zeros(1)
    return {
        "molecules": table.num_rows,
        "cached": len(done),
        "embedded": len(todo),
        "ok": statuses.pop("ok", 0),
        "failed": sum(statuses.values()),
        "failures": dict(statuses),
        "failure_examples": examples,
        "seconds": time.perf_counter() - start,
        "embed_seconds": embed_seconds,
        "embedded_per_second": len(todo) / embed_seconds if todo else 0.0,
        # Mean number of workers holding a molecule: below `workers` means idle workers
        # (start-up, the last molecules); equal but slow means the cores were shared.
        "workers_busy": float(sum(seconds)) / embed_seconds if todo else 0.0,
        "molecule_seconds_p50": float(np.percentile(times, 50)),
        "molecule_seconds_p95": float(np.percentile(times, 95)),
        "molecule_seconds_max": float(times.max()),
    }


def gather(shards: Sequence[str | os.PathLike[str]], out: str | os.PathLike[str]) -> dict:
    """Write the manifest of ``shards`` (paths and status counts) to ``out``.

    Shard files in the same directories that are not listed are left over from a run with
    another ``n_shards``; they are deleted so that ``shard-*.parquet`` globs see each
    molecule once.
    """
    paths = [Path(p) for p in shards]
    listed = {p.resolve() for p in paths}
    for directory in sorted({p.parent for p in paths}):
        for stale in sorted(directory.glob("shard-*.parquet")):
            if stale.resolve() not in listed:
                logger.warning("removing %s: not a shard of this run", stale)
                stale.unlink()
    entries = []
    totals: Counter[str] = Counter()
    for path in paths:
        statuses = Counter(pq.read_table(path, columns=["status"])["status"].to_pylist())
        totals.update(statuses)
        entries.append({"path": str(path), "molecules": statuses.total(), "statuses": statuses})
    manifest = {
        "n_shards": len(paths),
        "molecules": totals.total(),
        "ok": totals["ok"],
        "statuses": dict(totals),
        "shards": entries,
    }
    with atomic_path(out) as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def load_conformers(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    keys: Collection[str] | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Successful conformers of the shards in ``source`` (a directory, a file or a list).

    Returns
    -------
    dict
        ``key -> (atomic_numbers, coords)``: int8 of shape ``N`` and float32 of shape
        ``C x N x 3`` (Angstrom, lowest energy first), in litshift atom order. Only
        ``keys`` when given; failed molecules are absent.
    """
    if isinstance(source, str | os.PathLike) and Path(source).is_dir():
        paths = sorted(Path(source).glob("shard-*.parquet"))
    elif isinstance(source, str | os.PathLike):
        paths = [Path(source)]
    else:
        paths = [Path(p) for p in source]
    wanted = None if keys is None else pa.array(sorted(set(keys)), pa.string())
    conformers: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for path in paths:
        table = read_table(path, "conformers")
        mask = pc.equal(table["status"], "ok")
        if wanted is not None:
            mask = pc.and_(mask, pc.is_in(table["key"], value_set=wanted))
        conformers.update(_decode(table.filter(mask).combine_chunks()))
    return conformers


def _decode(table: pa.Table) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Slice the flat Arrow buffers of ``atomic_numbers`` and ``coords`` per molecule."""
    if table.num_rows == 0:
        return {}
    z = table["atomic_numbers"].chunk(0)
    z_offsets, z_values = z.offsets.to_numpy(), z.values.to_numpy()
    coords = table["coords"].chunk(0)
    conformer_offsets = coords.offsets.to_numpy()
    float_offsets = coords.values.offsets.to_numpy()
    floats = coords.values.values.to_numpy()
    decoded = {}
    for row, key in enumerate(table["key"].to_pylist()):
        n_atoms = z_offsets[row + 1] - z_offsets[row]
        first, last = conformer_offsets[row], conformer_offsets[row + 1]
        xyz = floats[float_offsets[first] : float_offsets[last]].reshape(last - first, n_atoms, 3)
        decoded[key] = (z_values[z_offsets[row] : z_offsets[row + 1]].copy(), xyz.copy())
    return decoded
