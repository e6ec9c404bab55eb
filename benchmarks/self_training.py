"""Self-training: a teacher's sorted matching turns weak shift sets into atom labels; do they pay?

For every weak molecule of a ``make report`` results folder, the teacher (one checkpoint or
several, averaged) predicts its atoms; each nucleus' groups (the :class:`MatchPlan` of the
weak set, as L_mol pools them) are paired with the observed peaks by sorting, and the observed
shift becomes the label of every atom of its group. A set is kept only when every group's
prediction is within ``--k`` predictive standard deviations (the teacher's head, uncalibrated;
for an ensemble the moment-matched mixture) of the peak it is paired with: an ordering mistake
between far-apart peaks shows as a large residual, one between near-equal peaks costs little.

The student starts from ``--init`` (or from scratch) and trains in supervised mode on the
assigned training molecules plus those pseudo-labelled ones; ``--no-pseudo`` trains the same
schedule on the assigned molecules alone (the control: the extra steps without the labels).
Validation and test are the pipeline's assigned splits, scored like the trainer. Example::

    python benchmarks/self_training.py --results results \\
        --teacher results/models/supervised/model.pt --init results/models/supervised/model.pt \\
        --set '{"max_steps": 8000, "lr": 0.001, "patience": null}' --out /tmp/st/pseudo

Prints and appends one JSON line to ``--log``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from litshift.data.datasets import LabeledExample, WeakExample  # noqa: E402
from litshift.evaluate.metrics import sorted_pairs  # noqa: E402
from litshift.inference.prediction import atom_mae, predict_ppm_std  # noqa: E402
from litshift.model.checkpoint import load_model  # noqa: E402
from litshift.model.transformer import ShiftTransformer  # noqa: E402
from litshift.train.config import TrainConfig  # noqa: E402
from litshift.train.examples import load_data  # noqa: E402
from litshift.train.trainer import TrainData, train  # noqa: E402


def pseudo_labels(
    teachers: Sequence[ShiftTransformer], weak: Sequence[WeakExample], k: float
) -> tuple[list[LabeledExample], Counter[str]]:
    """Atom-labelled copies of the weak molecules whose sorted matching the teachers trust."""
    cpu = torch.device("cpu")
    outputs = [predict_ppm_std(model, weak, 64, cpu) for model in teachers]
    nuclei = teachers[0].config.nuclei
    counts: Counter[str] = Counter()
    examples = []
    for i, example in enumerate(weak):
        mean = np.mean([out[i][0] for out in outputs], axis=0)  # (N, K)
        var = np.mean([out[i][1] ** 2 + (out[i][0] - mean) ** 2 for out in outputs], axis=0)
        targets = np.zeros(mean.shape, np.float32)
        mask = np.zeros(mean.shape, bool)
        for n, plan in enumerate(example.plans):
            if plan is None:
                continue
            pooled = np.array([mean[group, n].mean() for group in plan.groups])
            std = np.array([np.sqrt(var[group, n]).mean() for group in plan.groups])
            order, predicted, observed = sorted_pairs(pooled, plan.targets)
            counts[f"{nuclei[n]}.sets"] += 1
            if np.all(np.abs(predicted - observed) <= k * std[order]):
                counts[f"{nuclei[n]}.kept"] += 1
                for g, shift in zip(order, observed, strict=True):
                    targets[plan.groups[g], n], mask[plan.groups[g], n] = shift, True
        if mask.any():
            examples.append(
                LabeledExample(
                    key=example.key,
                    smiles=example.smiles,
                    atomic_numbers=example.atomic_numbers,
                    coords=example.coords,
                    solvent_class=example.solvent_class,
                    targets=targets,
                    mask=mask,
                )
            )
    return examples, counts


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--teacher", required=True, help="checkpoint(s), comma-separated")
    parser.add_argument("--init", default=None, help="student's starting weights")
    parser.add_argument("--run", default="supervised", help="run whose config.json to start from")
    parser.add_argument("--set", default="{}", help="JSON overrides of that config")
    parser.add_argument("--k", type=float, default=3.0)
    parser.add_argument("--no-pseudo", action="store_true")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log", type=Path, default=Path("benchmarks/results/self_training.jsonl"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = args.results
    config = json.loads((results / "models" / args.run / "config.json").read_text())
    config |= json.loads(args.set) | {"init_from": args.init}
    data, test, _ = load_data(
        results / "curated/assigned.parquet",
        results / "splits/assigned_splits.parquet",
        results / "splits/weak_train.parquet",
        results / "conformers",
        TrainConfig.from_dict(config | {"mode": "semi"}),  # semi: the weak molecules are read
    )
    extra: list[LabeledExample] = []
    counts: Counter[str] = Counter()
    if not args.no_pseudo:
        teachers = [load_model(path)[0].eval() for path in args.teacher.split(",")]
        extra, counts = pseudo_labels(teachers, data.weak, args.k)
    tick = time.perf_counter()
    student = TrainConfig.from_dict(config | {"mode": "supervised"})
    result = train(
        student, TrainData(train=[*data.train, *extra], valid=data.valid, weak=[]), args.out
    )
    cpu = torch.device("cpu")
    valid, scored = (
        atom_mae(result.model, data.valid, 64, cpu),
        atom_mae(result.model, test, 64, cpu),
    )
    line = {
        "out": str(args.out),
        "teacher": None if args.no_pseudo else args.teacher,
        "init": args.init,
        "set": json.loads(args.set),
        "k": args.k,
        "labeled": len(data.train),
        "pseudo_molecules": len(extra),
        "pseudo_sets": dict(counts),
        "best_step": result.best_step,
        "train_s": round(time.perf_counter() - tick, 1),
        **{f"valid_{n}": round(valid[f"mae.{n}"], 4) for n in ("13C", "1H")},
        **{f"test_{n}": round(scored[f"mae.{n}"], 4) for n in ("13C", "1H")},
    }
    print(json.dumps(line))
    with args.log.open("a") as handle:
        handle.write(json.dumps(line) + "\n")


if __name__ == "__main__":
    main()
