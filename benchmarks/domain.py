"""How honest are the intervals outside the applicability domain, and how much to widen them?

Trains one tiny model (Gaussian uncertainty head, supervised, ``--steps``) on the pipeline's
assigned split (``results/``) with every molecule holding one of ``--hold-out`` elements
removed from training and validation, builds the domain from what is left
(:func:`litshift.inference.domain.build_domain`), calibrates on the validation split as
``litshift train`` does, then scores test molecules and the held-out molecules, each judged by
:func:`litshift.inference.domain.domain_reasons`:

- coverage of the calibrated 95 % interval on in-domain and out-of-domain atoms;
- the factor on the std that would give out-of-domain atoms 95 % coverage
  (``quantile(|r| / std, 0.95) / 1.96``), what
  :data:`litshift.inference.domain.OUT_OF_DOMAIN_STD_FACTOR` is chosen from.

Example::

    nice -n 5 .venv/bin/python benchmarks/domain.py --steps 1500 --hold-out Cl,S

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

from litshift.chem.molecules import mol_from_smiles  # noqa: E402
from litshift.data.datasets import LabeledExample  # noqa: E402
from litshift.inference.domain import build_domain, domain_reasons  # noqa: E402
from litshift.inference.predictors import ModelPredictor, calibrate_model  # noqa: E402
from litshift.inference.uncertainty import coverage, z_value  # noqa: E402
from litshift.train.config import TrainConfig  # noqa: E402
from litshift.train.examples import load_data  # noqa: E402
from litshift.train.trainer import train  # noqa: E402


def _has_element(example: LabeledExample, elements: set[str]) -> bool:
    return any(a.GetSymbol() in elements for a in mol_from_smiles(example.smiles).GetAtoms())


def _rows(
    predictor: ModelPredictor, examples: Sequence[LabeledExample], outside: Sequence[bool]
) -> list[str]:
    """One table line per (nucleus, in/out of domain)."""
    distributions = predictor.predict_distribution(examples, [])
    lines = []
    for k, nucleus in enumerate(predictor.nuclei):
        for flag, label in ((False, "in"), (True, "out")):
            chosen = [i for i, o in enumerate(outside) if o == flag]
            r = [
                distributions[i].mean[examples[i].mask[:, k], k]
                - examples[i].targets[examples[i].mask[:, k], k]
                for i in chosen
            ]
            s = [distributions[i].std[examples[i].mask[:, k], k] for i in chosen]
            if not r or not np.concatenate(r).size:
                continue
            residuals, stds = np.concatenate(r), np.concatenate(s)
            needed = float(np.quantile(np.abs(residuals) / stds, 0.95) / z_value(0.95))
            covered = {f: coverage(residuals, f * stds, 0.95) for f in (1, 2, 3)}
            lines.append(
                f"{nucleus:>4} {label:>3} {len(chosen):>6} {residuals.size:>6} "
                f"{np.mean(np.abs(residuals)):>7.2f} {covered[1]:>6.3f} {covered[2]:>6.3f} "
                f"{covered[3]:>6.3f} {needed:>7.2f}"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results", help="pipeline results directory")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--hold-out", default="Cl,S", help="elements removed from training")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="benchmarks/results/domain.txt")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    held = set(args.hold_out.split(","))
    results = Path(args.results)
    config = TrainConfig.from_dict(
        {
            "preset": "tiny",
            "model": {"uncertainty": "gaussian"},
            "mode": "supervised",
            "epochs": 1000,
            "max_steps": args.steps,
            "eval_every": 250,
            "checkpoint_every": 10**6,
            "patience": None,
            "device": "cpu",
        }
    )
    started = time.perf_counter()
    data, test, _ = load_data(
        results / "curated/assigned.parquet",
        results / "splits/assigned_splits.parquet",
        results / "splits/weak_train.parquet",
        results / "conformers",
        config,
    )
    held_out = [e for e in [*data.train, *data.valid, *test] if _has_element(e, held)]
    data.train = [e for e in data.train if not _has_element(e, held)]
    data.valid = [e for e in data.valid if not _has_element(e, held)]
    test = [e for e in test if not _has_element(e, held)]
    domain = build_domain(e.smiles for e in data.train)
    with tempfile.TemporaryDirectory() as tmp:
        model = train(config, data, tmp).model
    calibration = calibrate_model(model, data.valid, torch.device("cpu"))
    predictor = ModelPredictor(
        "model", (model,), model.config.nuclei, torch.device("cpu"), 64, (calibration,)
    )
    examples = [*test, *held_out]
    outside = [bool(domain_reasons(domain, mol_from_smiles(e.smiles))) for e in examples]
    header = (
        f"# {time.strftime('%Y-%m-%d')} {platform.node()} steps={args.steps} "
        f"hold_out={sorted(held)} train={len(data.train)} test={len(test)} "
        f"held_out={len(held_out)} out_of_domain={sum(outside)} "
        f"({time.perf_counter() - started:.0f} s)\n"
        "nucl dom  mols  atoms     MAE  cov95 cov95x2 cov95x3 factor95"
    )
    text = "\n".join([header, *_rows(predictor, examples, outside)]) + "\n"
    print(text)
    with open(args.out, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
