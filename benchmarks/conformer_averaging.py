"""Does averaging a model's predictions over several conformers lower its test error?

Every trained model sees one conformer per molecule (the lowest-energy of ``conformers.n_confs``).
Here the assigned test molecules of a ``make report`` results folder are embedded again, and the
predictor (the shipped release ensemble unless ``--models`` is given) scores each variant alone
and the mean over all of them, atom level, like ``litshift evaluate``'s assigned split (one item
per molecule and fine solvent, symmetrized predictions):

- ``--seeds 101,102``: one more conformer per seed (``conformers.seed`` changed; a molecule that
  fails keeps the pipeline's conformer), i.e. other random low-energy geometries;
- ``--n-confs 10``: the ``n_confs`` lowest-energy conformers of one ``n_confs`` embedding, as
  ``config.full.yaml`` embeds them (variant 1 is what a full-scale run would train on).

Example::

    .venv/bin/python benchmarks/conformer_averaging.py --results results --seeds 101,102,103,104
    .venv/bin/python benchmarks/conformer_averaging.py --results results --n-confs 10

Prints one JSON object (MAE per nucleus of each variant, of the mean over all variants, and of
the mean over the new ones); minutes on one core.
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
import pyarrow.parquet as pq
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from litshift.chem.conformers import EmbedOptions, embed  # noqa: E402
from litshift.data.conformer_shards import load_conformers  # noqa: E402
from litshift.data.datasets import Conformers  # noqa: E402
from litshift.evaluate.testsets import AssignedItem, assigned_items  # noqa: E402
from litshift.inference.predictors import load_model_predictor  # noqa: E402
from litshift.inference.shipped import release_members  # noqa: E402

NUCLEI = ("1H", "13C")


def variants(
    base: Conformers, smiles: dict[str, str], seeds: Sequence[int], n_confs: int | None
) -> list[Conformers]:
    """The pipeline's conformers, then one conformer table per new variant."""
    out = [base]
    if n_confs is None:
        for seed in seeds:
            table = dict(base)
            for key, smi in smiles.items():
                result = embed(smi, EmbedOptions(seed=seed), key)
                if result.ok:
                    table[key] = (result.atomic_numbers, result.coords)
            out.append(table)
        return out
    ranked = {}
    for key, smi in smiles.items():
        result = embed(smi, EmbedOptions(n_confs=n_confs, keep=n_confs), key)
        if result.ok:
            ranked[key] = result.coords
    for j in range(n_confs):
        table = dict(base)
        table.update({k: (base[k][0], c[j : j + 1]) for k, c in ranked.items() if len(c) > j})
        out.append(table)
    return out


def mae(items: Sequence[AssignedItem], predictions: Sequence[Sequence[np.ndarray]]) -> dict:
    """Atom-level MAE per nucleus of the mean over ``predictions`` (one list per variant)."""
    result = {}
    for k, nucleus in enumerate(NUCLEI):
        errors = []
        for i, item in enumerate(items):
            mask = item.example.mask[:, k]
            mean = np.mean([p[i][:, k] for p in predictions], axis=0)
            errors.append(np.abs(mean[mask] - item.example.targets[mask, k]))
        result[nucleus] = round(float(np.mean(np.concatenate(errors))), 4)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--models", nargs="*", type=Path, help="checkpoints (default: release)")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--seeds", help="comma-separated conformer seeds, one variant each")
    group.add_argument("--n-confs", type=int, help="variants = the n lowest-energy conformers")
    args = parser.parse_args()
    torch.set_num_threads(1)

    predictor = load_model_predictor(args.models or release_members(), torch.device("cpu"))
    assigned = pq.read_table(args.results / "curated/assigned.parquet")
    splits = pq.read_table(args.results / "splits/assigned_splits.parquet")
    base = load_conformers(args.results / "conformers")

    def items_of(conformers: Conformers) -> list[AssignedItem]:
        return assigned_items(assigned, splits, conformers, NUCLEI, predictor.max_atoms, Counter())

    items = items_of(base)
    smiles = {item.example.key: item.example.smiles for item in items}
    start = time.perf_counter()
    seeds = [int(s) for s in args.seeds.split(",")] if args.seeds else []
    tables = variants(base, smiles, seeds, args.n_confs)
    embed_s = time.perf_counter() - start
    predictions = []
    for table in tables:
        variant = items_of(table)
        if [v.example.key for v in variant] != [i.example.key for i in items]:
            raise RuntimeError("a variant changed the test items")
        predictions.append(
            predictor.predict([v.example for v in variant], [v.solvent for v in variant])
        )
    report = {
        "predictor": predictor.name,
        "test_items": len(items),
        "molecules": len(smiles),
        "variants": "seeds " + args.seeds if args.seeds else f"n_confs {args.n_confs}",
        "embed_seconds": round(embed_s, 1),
        "pipeline_conformer": mae(items, predictions[:1]),
        "each_variant": [mae(items, [p]) for p in predictions[1:]],
        "mean_all": mae(items, predictions),
        "mean_new": mae(items, predictions[1:]),
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
