"""Training throughput of a ShiftTransformer preset on synthetic or real 3D molecules (any device).

One step = forward, per-atom L1 loss, backward, gradient clipping and an AdamW update, i.e. what
the trainer does per batch.

Synthetic molecules (default) are shaped like real ones: the atom count is drawn uniformly from
``--min-atoms..--max-atoms`` (padding to the batch maximum, as the trainer does), elements
follow an organic composition (about half H) and coordinates are a random walk with 1.0-1.6
Angstrom steps. Their cost depends on sizes only, not on chemistry, and they carry element
tokens only (no graph inputs), so they time the published model.

Real molecules (``--molecules DIR``, the conformer shards of ``results/conformers``) are what
the trainer sees: :class:`litshift.data.datasets.Structure` objects (lowest-energy conformer,
graph features, bond-count topology and symmetry computed from the SMILES as in training),
batched by :class:`litshift.data.datasets.StreamSampler` (random batches from
``stream_indices`` for ``--bucket-window 1``, size-bucketed ones from ``bucketed_indices``
above) and padded by ``collate_inputs``. Why both: the real size distribution (many small
molecules, a long tail) decides how much of a random batch is padding, and attention costs N²,
so only real sizes show what bucketing saves. ``--model-overrides`` switches on the
chemistry-aware inputs (``atom_features``, ``topology_bias``), so "before" (published inputs,
random batches) and "after" (chemistry-aware inputs, bucketed batches) are timed alike. The
result line reports ``padded_atoms`` (mean N of a batch) beside ``real_atoms`` (mean atoms per
molecule), so the padding saving is visible next to the speed.

Examples::

    python benchmarks/model_throughput.py --preset tiny --device cpu --threads 2 \
        --min-atoms 30 --max-atoms 30 --batch-size 20 --steps 40
    python benchmarks/model_throughput.py --preset paper --device cuda --dtype bf16 --steps 300

    # before: published inputs, random batches of real molecules
    python benchmarks/model_throughput.py --molecules results/conformers --threads 1 \
        --batch-size 32 --steps 200 --bucket-window 1
    # after: size-bucketed batches, chemistry-aware inputs
    python benchmarks/model_throughput.py --molecules results/conformers --threads 1 \
        --batch-size 32 --steps 200 --bucket-window 16 \
        --model-overrides '{"atom_features": true, "topology_bias": true}'

Each run appends one ``key=value`` line to ``--out`` (and prints it).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from litshift.model.transformer import ELEMENT_TOKENS, PRESETS, ShiftTransformer  # noqa: E402

if TYPE_CHECKING:
    from litshift.data.datasets import ModelInputs, Structure

ELEMENTS = torch.tensor([1, 6, 7, 8, 9, 16, 17])  # H C N O F S Cl
ELEMENT_WEIGHTS = torch.tensor([0.48, 0.36, 0.06, 0.06, 0.02, 0.01, 0.01])

#: one training batch as the model reads it: (atomic_numbers, coords, solvent_class, features,
#: topology); the graph inputs are None for synthetic molecules
Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None, torch.Tensor | None]


def synthetic_batch(
    batch_size: int, min_atoms: int, max_atoms: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Zero-padded ``(atomic_numbers (B, N), coords (B, N, 3), solvent_class (B,))``."""
    sizes = torch.randint(min_atoms, max_atoms + 1, (batch_size,), generator=generator)
    n = int(sizes.max())
    picks = torch.multinomial(
        ELEMENT_WEIGHTS, batch_size * n, replacement=True, generator=generator
    )
    z = ELEMENTS[picks].view(batch_size, n)  # (B, N)
    z[torch.arange(n)[None, :] >= sizes[:, None]] = 0
    steps = torch.nn.functional.normalize(
        torch.randn(batch_size, n, 3, generator=generator), dim=-1
    )
    lengths = 1.0 + 0.6 * torch.rand(batch_size, n, 1, generator=generator)
    coords = torch.cumsum(steps * lengths, dim=1)  # (B, N, 3)
    solvent = torch.randint(0, 3, (batch_size,), generator=generator)
    return z, coords, solvent


def load_structures(
    directory: Path, max_molecules: int, min_atoms: int, max_atoms: int, seed: int
) -> tuple[list[Structure], int]:
    """A seeded subsample of the ok molecules of the conformer shards in ``directory``.

    Molecules outside ``min_atoms..max_atoms`` (H included) are left out before sampling, as the
    trainer's ``max_atoms`` does. Building :class:`~litshift.data.datasets.Structure` objects
    recomputes the graph inputs from the SMILES exactly as training does; the ones it refuses
    (atom count disagreeing with the SMILES) are counted, not fatal.

    Returns
    -------
    structures, skipped
    """
    # imported here: only real mode needs the conformer reader and its dependencies
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from litshift.data.conformer_shards import load_conformers
    from litshift.data.datasets import Structure

    paths = sorted(directory.glob("shard-*.parquet"))
    if not paths:
        raise SystemExit(f"no shard-*.parquet in {directory}")
    # keys, SMILES and sizes first (cheap columns), so only the sampled coordinates are decoded
    index = pa.concat_tables(
        pq.read_table(path, columns=["key", "smiles", "atomic_numbers", "status"]) for path in paths
    )
    n_atoms = pc.list_value_length(index["atomic_numbers"])
    keep = pc.and_(
        pc.equal(index["status"], "ok"),
        pc.and_(pc.greater_equal(n_atoms, min_atoms), pc.less_equal(n_atoms, max_atoms)),
    )
    index = index.filter(keep)
    keys, smiles = index["key"].to_pylist(), index["smiles"].to_pylist()
    if not keys:
        raise SystemExit(f"no ok molecule of {min_atoms}-{max_atoms} atoms in {directory}")
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(keys), size=min(max_molecules, len(keys)), replace=False))
    geometry = load_conformers(paths, keys=[keys[i] for i in chosen])
    structures: list[Structure] = []
    skipped = 0
    for i in chosen:
        atomic_numbers, coords = geometry[keys[i]]
        try:
            structures.append(
                Structure(
                    key=keys[i],
                    smiles=smiles[i],
                    atomic_numbers=atomic_numbers.astype(np.int64),
                    coords=np.asarray(coords[0], dtype=np.float32),  # lowest-energy conformer
                    solvent_class=0,
                )
            )
        except ValueError:
            skipped += 1
    if not structures:
        raise SystemExit(f"no usable molecule in {directory} ({skipped} refused)")
    return structures, skipped


def real_batches(
    structures: Sequence[Structure], batch_size: int, n_batches: int, window: int, seed: int
) -> Callable[[int], ModelInputs]:
    """Batch ``i`` of the trainer's stream over ``structures``, collated as in training.

    :class:`~litshift.data.datasets.StreamSampler` is the trainer's batch sampler: it draws from
    ``stream_indices`` for ``window == 1`` and from ``bucketed_indices`` (the stream seed doubling
    as ``order_seed``, as ``train.seed`` does) above.
    """
    from litshift.data.datasets import StreamSampler, collate_inputs

    sizes = np.array([len(s.atomic_numbers) for s in structures])
    sampler = StreamSampler(
        len(structures), batch_size, seed, 0, n_batches, sizes=sizes, window=window, order_seed=seed
    )
    indices = list(sampler)
    return lambda i: collate_inputs([structures[j] for j in indices[i]])


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Time ``args.steps`` training steps after ``args.warmup`` untimed ones."""
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    config = replace(PRESETS[args.preset], **args.model_overrides)
    model = ShiftTransformer(config).to(device).train()
    optimizer = model.configure_optimizer(lr=1e-4, weight_decay=0.01)
    step_model = torch.compile(model) if args.compile else model
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if args.dtype == "bf16" else nullcontext()
    )
    n_batches = args.steps + args.warmup
    extra: dict[str, object] = {}
    if args.molecules is None:
        generator = torch.Generator().manual_seed(args.seed)
        synthetic = [
            (
                *synthetic_batch(args.batch_size, args.min_atoms, args.max_atoms, generator),
                None,
                None,
            )
            for _ in range(min(n_batches, 32))
        ]
        cached: list[Batch] = [
            tuple(t if t is None else t.to(device) for t in b) for b in synthetic
        ]

        def get_batch(i: int) -> Batch:
            return cached[i % len(cached)]

    else:
        # Every step gets its own batch of the stream (cycling a few would undo the bucketing:
        # a window of W batches is one unit). Collating happens per step, outside the timed
        # region, and is reported apart: this measures the model, the trainer's DataLoader may
        # overlap collation with it through workers.
        start = time.perf_counter()
        structures, skipped = load_structures(
            args.molecules, args.max_molecules, args.min_atoms, args.max_atoms, args.seed
        )
        collate = real_batches(
            structures, args.batch_size, n_batches, args.bucket_window, args.seed
        )
        extra = {
            "molecules": len(structures),
            "skipped": skipped,
            "load_s": round(time.perf_counter() - start, 1),
        }
        collate_times: list[float] = []

        def get_batch(i: int) -> Batch:
            start = time.perf_counter()
            inputs = collate(i)
            collate_times.append(time.perf_counter() - start)
            return tuple(t.to(device) for t in inputs)  # type: ignore[return-value]

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    padded_atoms: list[int] = []  # N of each timed batch
    real_atoms: list[int] = []  # atoms of each molecule of the timed batches

    def step(batch: Batch) -> None:
        z, coords, solvent, features, topology = batch
        with autocast:
            pred = step_model(z, coords, solvent, features, topology)  # (B, N, K)
        mask = (z > 0)[..., None].expand_as(pred)  # (B, N, K)
        loss = (pred.float() - 0.5)[mask].abs().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for i in range(args.warmup):
        step(get_batch(i))
    sync()
    times = []
    for i in range(args.steps):
        batch = get_batch(args.warmup + i)
        padded_atoms.append(batch[0].shape[1])
        real_atoms.extend((batch[0] > 0).sum(dim=1).tolist())
        sync()
        start = time.perf_counter()
        step(batch)
        sync()
        times.append(time.perf_counter() - start)

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        name = platform.processor() or platform.machine()
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process max RSS
    total = sum(times)
    mean_padded = statistics.fmean(padded_atoms)
    mean_real = statistics.fmean(real_atoms)
    result: dict[str, object] = {
        "data": "synthetic" if args.molecules is None else "real",
        "preset": args.preset,
        # compact JSON without spaces keeps the line splittable on spaces
        "overrides": json.dumps(args.model_overrides, separators=(",", ":"), sort_keys=True),
        "device": f"{device.type}:{name}",
        "threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "compile": args.compile,
        "batch": args.batch_size,
        "bucket_window": args.bucket_window,
        "atoms": f"{args.min_atoms}-{args.max_atoms}",
        **extra,
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
        "steps": args.steps,
        "samples_per_s": round(args.batch_size * args.steps / total, 1),
        # The median step resists other processes on a shared machine; the mean above does not.
        "samples_per_s_median_step": round(args.batch_size / statistics.median(times), 1),
        "step_ms_median": round(1000 * statistics.median(times), 2),
        # padding: N of a batch vs atoms of a molecule; attention pays N² for every molecule
        "padded_atoms": round(mean_padded, 1),
        "real_atoms": round(mean_real, 1),
        "pad_fraction": round(1 - mean_real / mean_padded, 3),
    }
    if args.molecules is not None:
        result["collate_ms_mean"] = round(1000 * statistics.fmean(collate_times), 2)
    result["peak_mem_mib"] = round(peak_mib, 1)
    result["torch"] = torch.__version__
    return result


def _overrides(text: str) -> dict[str, Any]:
    """``--model-overrides``: a JSON object of :class:`ModelConfig` fields."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--compile", action="store_true", help="wrap the model in torch.compile")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument(
        "--min-atoms",
        type=int,
        default=None,
        help="synthetic: smallest molecule (default 20); real: smaller ones are left out "
        "(default 1)",
    )
    parser.add_argument(
        "--max-atoms",
        type=int,
        default=70,
        help="synthetic: largest molecule; real: larger ones are left out (the trainer's "
        "max_atoms)",
    )
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="append the result line here")
    parser.add_argument(
        "--molecules",
        type=Path,
        default=None,
        help="directory of conformer shards (shard-*.parquet, e.g. results/conformers): time "
        "real molecules batched as in training instead of synthetic ones",
    )
    parser.add_argument(
        "--max-molecules",
        type=int,
        default=5000,
        help="real: seeded subsample of this many molecules (graph inputs cost ~ms each)",
    )
    parser.add_argument(
        "--bucket-window",
        type=int,
        default=1,
        help="real: batches sorted together by size (train.bucket_window; 1 = random batches)",
    )
    parser.add_argument(
        "--model-overrides",
        type=_overrides,
        default={},
        help="JSON object of ModelConfig fields replacing the preset's, e.g. "
        '\'{"atom_features": true, "topology_bias": true}\'',
    )
    args = parser.parse_args(argv)
    if args.min_atoms is None:
        args.min_atoms = 20 if args.molecules is None else 1
    if not 1 <= args.min_atoms <= args.max_atoms:
        parser.error("need 1 <= --min-atoms <= --max-atoms")
    if args.batch_size < 1 or args.steps < 1 or args.warmup < 0 or args.max_molecules < 1:
        parser.error("need --batch-size, --steps, --max-molecules >= 1 and --warmup >= 0")
    if args.bucket_window < 1:
        parser.error("need --bucket-window >= 1")
    if args.molecules is None and args.bucket_window > 1:
        parser.error("--bucket-window needs --molecules (synthetic batches have no size order)")
    if args.molecules is None:
        # synthetic molecules have no SMILES to derive graph inputs from: element tokens only
        args.model_overrides = ELEMENT_TOKENS | args.model_overrides
    try:
        config = replace(PRESETS[args.preset], **args.model_overrides)
    except (TypeError, ValueError) as err:
        parser.error(f"--model-overrides: {err}")
    if args.molecules is None and (config.atom_features or config.topology_bias):
        parser.error(
            "atom_features / topology_bias need --molecules (graph inputs come from SMILES)"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    line = " ".join(f"{k}={v}" for k, v in measure(args).items())
    print(line)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a") as handle:
            handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
