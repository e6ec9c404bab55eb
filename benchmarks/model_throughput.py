"""Training throughput of a ShiftTransformer preset on synthetic 3D molecules (any device).

One step = forward, per-atom L1 loss, backward, gradient clipping and an AdamW update, i.e. what
the trainer does per batch. Molecules are synthetic but shaped like real ones: the atom count is
drawn uniformly from ``--min-atoms..--max-atoms`` (padding to the batch maximum, as the trainer
does), elements follow an organic composition (about half H) and coordinates are a random walk
with 1.0-1.6 Angstrom steps. The cost depends on sizes only, not on chemistry.

Examples::

    python benchmarks/model_throughput.py --preset tiny --device cpu --threads 2 \
        --min-atoms 30 --max-atoms 30 --batch-size 20 --steps 40
    python benchmarks/model_throughput.py --preset paper --device cuda --dtype bf16 --steps 300

Each run appends one ``key=value`` line to ``--out`` (and prints it).
"""

from __future__ import annotations

import argparse
import platform
import resource
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from litshift.model.transformer import ShiftTransformer  # noqa: E402

ELEMENTS = torch.tensor([1, 6, 7, 8, 9, 16, 17])  # H C N O F S Cl
ELEMENT_WEIGHTS = torch.tensor([0.48, 0.36, 0.06, 0.06, 0.02, 0.01, 0.01])


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


def measure(args: argparse.Namespace) -> dict[str, object]:
    """Time ``args.steps`` training steps after ``args.warmup`` untimed ones."""
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    model = ShiftTransformer.from_preset(args.preset).to(device).train()
    optimizer = model.configure_optimizer(lr=1e-4, weight_decay=0.01)
    step_model = torch.compile(model) if args.compile else model
    autocast = (
        torch.autocast(device.type, dtype=torch.bfloat16) if args.dtype == "bf16" else nullcontext()
    )
    generator = torch.Generator().manual_seed(args.seed)
    batches = [
        synthetic_batch(args.batch_size, args.min_atoms, args.max_atoms, generator)
        for _ in range(min(args.steps + args.warmup, 32))
    ]
    batches = [tuple(t.to(device) for t in b) for b in batches]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    def step(i: int) -> None:
        z, coords, solvent = batches[i % len(batches)]
        with autocast:
            pred = step_model(z, coords, solvent)  # (B, N, K)
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
        step(i)
    sync()
    times = []
    for i in range(args.steps):
        start = time.perf_counter()
        step(args.warmup + i)
        sync()
        times.append(time.perf_counter() - start)

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        name = platform.processor() or platform.machine()
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # process max RSS
    total = sum(times)
    return {
        "preset": args.preset,
        "device": f"{device.type}:{name}",
        "threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "compile": args.compile,
        "batch": args.batch_size,
        "atoms": f"{args.min_atoms}-{args.max_atoms}",
        "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
        "steps": args.steps,
        "samples_per_s": round(args.batch_size * args.steps / total, 1),
        # The median step resists other processes on a shared machine; the mean above does not.
        "samples_per_s_median_step": round(args.batch_size / statistics.median(times), 1),
        "step_ms_median": round(1000 * statistics.median(times), 2),
        "peak_mem_mib": round(peak_mib, 1),
        "torch": torch.__version__,
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--compile", action="store_true", help="wrap the model in torch.compile")
    parser.add_argument("--batch-size", type=int, default=20)
    parser.add_argument("--min-atoms", type=int, default=20)
    parser.add_argument("--max-atoms", type=int, default=70)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (torch default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="append the result line here")
    args = parser.parse_args(argv)
    if not 1 <= args.min_atoms <= args.max_atoms:
        parser.error("need 1 <= --min-atoms <= --max-atoms")
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
