"""Which per-atom uncertainty: a Gaussian head, a deep ensemble, both, or a constant?

Trains ``--members`` tiny models with the Gaussian uncertainty head (independent seeds, ``--steps``
each) and ``--members`` more at ``--steps / --members`` each (an ensemble at the budget of one
model), on a seeded subset of the pipeline's assigned split (``results/``, from ``make report``),
supervised mode (L_atom), then compares on the test subset, every variant calibrated on the
validation subset by the same per-nucleus factor (:mod:`litshift.inference.uncertainty`):

- ``constant``: member 0's mean, std 1 (after calibration: the validation RMSE);
- ``head``: member 0's mean and head std (the head does not change the mean's training);
- ``ensemble``: mean and spread of the members' means (``members x steps``);
- ``ensemble_equal``: the same at equal budget (``members x steps / members``);
- ``head+ensemble``: the moment-matched mixture of the members' head Gaussians.

Columns: MAE of the mean, mean Gaussian NLL (nats), coverage of the 50/80/95 % intervals and
Spearman(|error|, std) on test atoms. Example::

    nice -n 5 .venv/bin/python benchmarks/uncertainty.py --steps 240 --members 3

The table is appended to ``--out``.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from litshift.data.datasets import LabeledExample  # noqa: E402
from litshift.inference.prediction import predict_ppm_std
from litshift.inference.uncertainty import (  # noqa: E402
    LEVELS,
    ShiftDistribution,
    combine_members,
    coverage,
    fit_calibration,
    gaussian_nll,
    spearman,
)
from litshift.train.config import TrainConfig  # noqa: E402
from litshift.train.examples import load_data  # noqa: E402
from litshift.train.trainer import train  # noqa: E402

Predictions = list[ShiftDistribution]


def _subset(
    examples: Sequence[LabeledExample], n: int, max_atoms: int, seed: int
) -> list[LabeledExample]:
    small = [e for e in examples if len(e.atomic_numbers) <= max_atoms]
    picks = np.random.default_rng(seed).permutation(len(small))[:n]
    return [small[i] for i in sorted(picks)]


def _flat(
    examples: Sequence[LabeledExample], predictions: Predictions, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Residuals and std of nucleus ``k`` over the labeled atoms."""
    residuals, stds = [], []
    for example, (mean, std) in zip(examples, predictions, strict=True):
        mask = example.mask[:, k]
        residuals.append(mean[mask, k] - example.targets[mask, k])
        stds.append(std[mask, k])
    return np.concatenate(residuals), np.concatenate(stds)


def _members(
    config: TrainConfig, steps: int, n: int, data, splits, root: Path
) -> list[dict[str, Predictions]]:
    out = []
    for seed in range(n):
        run = TrainConfig.from_dict(
            config.to_dict() | {"seed": seed, "max_steps": steps, "eval_every": steps}
        )
        result = train(run, data, root / f"{steps}-{seed}")
        out.append(
            {
                name: [
                    ShiftDistribution(m, s)
                    for m, s in predict_ppm_std(result.model, items, 64, torch.device("cpu"))
                ]
                for name, items in splits.items()
            }
        )
    return out


def _ensemble(members: list[dict[str, Predictions]], split: str, use_heads: bool) -> Predictions:
    out = []
    for per_member in zip(*(m[split] for m in members), strict=True):
        means = [d.mean for d in per_member]
        if use_heads:
            out.append(combine_members(means, [d.std for d in per_member]))
        else:
            spread = np.std(np.stack(means), axis=0)
            out.append(ShiftDistribution(np.mean(means, axis=0), np.maximum(spread, 1e-6)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="pipeline results directory")
    parser.add_argument("--steps", type=int, default=240)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=1500)
    parser.add_argument("--n-valid", type=int, default=300)
    parser.add_argument("--n-test", type=int, default=400)
    parser.add_argument("--max-atoms", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/uncertainty.txt")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    results = Path(args.results)
    config = TrainConfig.from_dict(
        {
            "mode": "supervised",
            "model": {"uncertainty": "gaussian"},
            "lr": 3e-3,
            "batch_labeled": 16,
            "patience": None,
            "device": "cpu",
        }
    )
    data, test, _ = load_data(
        results / "curated/assigned.parquet",
        results / "splits/assigned_splits.parquet",
        results / "splits/weak_train.parquet",
        results / "conformers",
        config,
    )
    data.train = _subset(data.train, args.n_train, args.max_atoms, 0)
    data.valid = _subset(data.valid, args.n_valid, args.max_atoms, 1)
    test = _subset(test, args.n_test, args.max_atoms, 2)
    splits = {"valid": data.valid, "test": test}
    with tempfile.TemporaryDirectory() as tmp:
        full = _members(config, args.steps, args.members, data, splits, Path(tmp))
        equal = _members(config, args.steps // args.members, args.members, data, splits, Path(tmp))
    variants = {
        "constant": {
            s: [ShiftDistribution(d.mean, np.ones_like(d.std)) for d in full[0][s]] for s in splits
        },
        "head": full[0],
        "ensemble": {s: _ensemble(full, s, use_heads=False) for s in splits},
        "ensemble_equal": {s: _ensemble(equal, s, use_heads=False) for s in splits},
        "head+ensemble": {s: _ensemble(full, s, use_heads=True) for s in splits},
    }
    cost = {
        "constant": args.steps,
        "head": args.steps,
        "ensemble": args.steps * args.members,
        "ensemble_equal": args.steps,
        "head+ensemble": args.steps * args.members,
    }
    nuclei = ("1H", "13C")
    header = (
        f"{'variant':<15} {'nucleus':>7} {'steps':>6} {'MAE':>7} {'NLL':>7} "
        + " ".join(f"{'cov' + str(int(100 * lv)):>6}" for lv in LEVELS)
        + f" {'spearman':>8} {'scale':>7}"
    )
    lines = [header]
    for name, predictions in variants.items():
        valid = [_flat(data.valid, predictions["valid"], k) for k in range(len(nuclei))]
        calibration = fit_calibration(nuclei, [r for r, _ in valid], [s for _, s in valid])
        for k, nucleus in enumerate(nuclei):
            residuals, raw = _flat(test, predictions["test"], k)
            std = calibration.apply(nucleus, raw)
            lines.append(
                f"{name:<15} {nucleus:>7} {cost[name]:>6} {np.mean(np.abs(residuals)):>7.3f} "
                f"{gaussian_nll(residuals, std):>7.3f} "
                + " ".join(f"{coverage(residuals, std, lv):>6.3f}" for lv in LEVELS)
                + f" {spearman(residuals, raw):>8.3f} {calibration.factor(nucleus):>7.3f}"
            )
    n_atoms = {n: int(sum(e.mask[:, k].sum() for e in test)) for k, n in enumerate(nuclei)}
    report = "\n".join(
        [
            f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} tiny preset, supervised, "
            f"B1=16, lr 3e-3, {args.members} members x {args.steps} steps "
            f"(ensemble_equal: x {args.steps // args.members}), {args.threads} thread(s), "
            f"{platform.machine()}, torch {torch.__version__}",
            f"# subsets (<= {args.max_atoms} atoms): {len(data.train)} train, "
            f"{len(data.valid)} valid (calibration), {len(test)} test molecules; "
            f"test atoms {n_atoms}; wall {time.perf_counter() - started:.0f} s",
            "# calibrated per nucleus on valid; scale = fitted factor on the raw std",
            *lines,
        ]
    )
    print(report)
    with open(args.out, "a") as handle:
        handle.write(report + "\n\n")


if __name__ == "__main__":
    main()
