"""The examples of one training run: curated tables + conformer shards -> labeled and weak
examples, with every keep/skip count.

:func:`load_data` is shared by ``litshift train`` (:mod:`litshift.train.run`), the tests and
the benchmarks that train outside the pipeline, so that all of them train on the same examples.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from litshift.chem.molecules import molecule_key
from litshift.data.conformer_shards import load_conformers
from litshift.data.datasets import build_atom_labeled, build_labeled, build_weak
from litshift.data.io import read_table
from litshift.data.splits import held_out_sets
from litshift.train.config import TrainConfig
from litshift.train.trainer import TrainData, build_model_config

__all__ = ["load_data"]


def _subsample(table: pa.Table, limit: int | None, seed: int) -> pa.Table:
    """At most ``limit`` rows, drawn without replacement in a seed-determined, order-kept way."""
    if limit is None or table.num_rows <= limit:
        return table
    rows = np.sort(np.random.default_rng(seed).choice(table.num_rows, limit, replace=False))
    return table.take(pa.array(rows))


def load_data(
    assigned_path: str | os.PathLike[str],
    splits_path: str | os.PathLike[str],
    weak_path: str | os.PathLike[str],
    conformer_dir: str | os.PathLike[str],
    config: TrainConfig,
    unassigned_path: str | os.PathLike[str] | None = None,
) -> tuple[TrainData, list[Any], Counter[str]]:
    """Read the tables and conformers and build the examples a run needs.

    Weak sets the run does not read (other nuclei than the model's) are dropped before
    ``max_weak`` subsamples, and conformers are read only for the molecules left. With
    ``config.atom_label_nuclei`` the unambiguous weak sets of those nuclei become labeled
    training examples, and those of the held-out molecules in ``unassigned_path`` labeled
    validation and test examples.

    Returns
    -------
    data, test, counts
        Training data, the labeled test examples, and every keep/skip count.
    """
    model_config = build_model_config(config)
    nuclei = model_config.nuclei
    label_nuclei = config.atom_label_nuclei
    if not set(label_nuclei) <= set(nuclei):
        raise ValueError(
            f"train.atom_label_nuclei {label_nuclei} are not all model nuclei {nuclei}"
        )
    if label_nuclei and unassigned_path is None:
        raise ValueError(
            "train.atom_label_nuclei needs --unassigned (the sets of the held-out molecules)"
        )
    assigned = read_table(assigned_path, "assigned")
    splits = read_table(splits_path, "splits")
    counts: Counter[str] = Counter()
    weak = None
    if config.uses_weak or label_nuclei:
        weak = read_table(weak_path, "weak")
        counts["weak.records"] = weak.num_rows
        # only sets the run reads: the model's nuclei (just the label nuclei when supervised)
        read = nuclei if config.uses_weak else label_nuclei
        weak = weak.filter(pc.is_in(weak["nucleus"], pa.array(read, pa.string())))
        weak = _subsample(weak, config.max_weak, config.seed)
        counts["weak.records_used"] = weak.num_rows
    held_out = {"valid": [], "test": []}
    if label_nuclei:
        sets = held_out_sets(read_table(unassigned_path, "unassigned"), splits, label_nuclei)
        held_out = {s: sets.filter(pl.col("split") == s).to_dicts() for s in held_out}
    smiles = set(assigned.column("smiles").to_pylist())
    if weak is not None:
        smiles |= set(weak.column("smiles").to_pylist())
    smiles |= {r["smiles"] for rows in held_out.values() for r in rows}
    if not any(Path(conformer_dir).glob("shard-*.parquet")):
        raise FileNotFoundError(f"no conformer shards (shard-*.parquet) in {conformer_dir}")
    conformers = load_conformers(conformer_dir, {molecule_key(s) for s in smiles})

    labeled, labeled_counts = build_labeled(
        assigned, splits, conformers, nuclei, model_config.max_atoms
    )
    counts.update(labeled_counts)
    if weak is not None and label_nuclei:
        rows = weak.to_pylist()
        for split, split_rows, filters in (
            ("train", rows, config.weak_filters),
            ("valid", held_out["valid"], None),
            ("test", held_out["test"], None),
        ):
            examples, used, split_counts = build_atom_labeled(
                split_rows, split, conformers, nuclei, label_nuclei, model_config.max_atoms, filters
            )
            labeled[split] += examples
            counts.update(split_counts)
            if split == "train":  # read as labels, so not matched again by L_mol
                weak = weak.filter(pa.array([i not in used for i in range(len(rows))]))
    weak_examples = []
    if weak is not None and config.uses_weak:
        weak_examples, weak_counts = build_weak(
            weak,
            conformers,
            nuclei,
            model_config.max_atoms,
            config.match_policy,
            config.weak_filters,
        )
        counts.update(weak_counts)
    data = TrainData(train=labeled["train"], valid=labeled["valid"], weak=weak_examples)
    return data, labeled["test"], counts
