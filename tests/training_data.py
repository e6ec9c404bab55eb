"""Small real training inputs for dataset, trainer and predict tests.

The tables come from the first records of the shared NMRShiftDB2 files through the real
curation, split and conformer code and are written in their declared schemas, so every test
reads exactly what the pipeline would write. They are built once per test process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa

from litshift.chem.conformers import EmbedOptions, embed, failed
from litshift.chem.molecules import molecule_key
from litshift.chem.nuclei import DEFAULT_WINDOWS
from litshift.data.io import rows_to_table, validate, write_table
from litshift.data.splits import assign_splits, weak_rows
from litshift.ingest.curate_assigned import curate_records
from litshift.ingest.curate_unassigned import curate_json_records
from litshift.ingest.nmrshiftdb2 import iter_sd_records
from tests.conftest import head_jsonl, head_sdf

NUCLEI = {"1H", "13C"}

#: a fast CPU model for tests (the shipped presets are sized for real runs)
TEST_MODEL = {
    "n_layers": 1,
    "n_heads": 2,
    "d_model": 16,
    "d_ffn": 32,
    "n_kernels": 8,
    "dropout": 0.1,
    "attn_dropout": 0.0,
}


@dataclass(frozen=True)
class TrainingInputs:
    assigned: Path
    splits: Path
    weak: Path
    conformers: Path

    def cli_args(self) -> list[str]:
        return [
            "--assigned",
            str(self.assigned),
            "--splits",
            str(self.splits),
            "--weak",
            str(self.weak),
            "--conformers",
            str(self.conformers),
        ]


def conformers_of(smiles: str) -> tuple[np.ndarray, np.ndarray]:
    """``(atomic numbers, coords C x N x 3)`` as :func:`load_conformers` returns them."""
    result = embed(smiles, EmbedOptions())
    assert result.ok, result.error
    return result.atomic_numbers, result.coords


@lru_cache(maxsize=2)
def _tables(n_sdf: int, n_jsonl: int) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table]:
    """Assigned, splits, weak and conformer tables (built once per test process)."""
    records = iter_sd_records(iter(head_sdf(n_sdf).splitlines(keepends=True)))
    assigned = pl.DataFrame(curate_records(records, NUCLEI, dict(DEFAULT_WINDOWS)).rows)
    molecules = assigned.select("smiles", connectivity_key=pl.col("inchikey").str.slice(0, 14))
    splits = assign_splits(molecules, (0.6, 0.2, 0.2), seed=3, method="connectivity")
    weak = weak_rows(
        pl.DataFrame(curate_json_records(head_jsonl(n_jsonl), NUCLEI, dict(DEFAULT_WINDOWS)).rows)
    )
    smiles = sorted(set(assigned["smiles"]) | set(weak["smiles"]))
    options = EmbedOptions()
    # the first assigned molecule stands for an embedding failure (trainers must skip it)
    unembedded = assigned["smiles"][0]
    rows = [
        failed(molecule_key(s), s, 0, "embed_failed", "test stand-in").to_row()
        if s == unembedded
        else embed(s, options).to_row()
        for s in smiles
    ]
    return (
        validate(assigned.to_arrow(), "assigned"),
        validate(splits.to_arrow(), "splits"),
        validate(weak.to_arrow(), "weak"),
        rows_to_table(rows, "conformers"),
    )


def write_training_inputs(directory: Path, n_sdf: int = 60, n_jsonl: int = 80) -> TrainingInputs:
    """Curate ``n_sdf`` assigned and ``n_jsonl`` unassigned records, split, embed, write."""
    assigned, splits, weak, conformers = _tables(n_sdf, n_jsonl)
    inputs = TrainingInputs(
        directory / "assigned.parquet",
        directory / "splits.parquet",
        directory / "weak.parquet",
        directory / "conformers",
    )
    write_table(assigned, inputs.assigned, "assigned")
    write_table(splits, inputs.splits, "splits")
    write_table(weak, inputs.weak, "weak")
    write_table(conformers, inputs.conformers / "shard-0000.parquet", "conformers")
    return inputs


def config_json(**overrides: object) -> str:
    """A run config for tests: the tiny test model and a few steps."""
    config = {
        "model": TEST_MODEL,
        "epochs": 1,
        "max_steps": 6,
        "eval_every": 3,
        "checkpoint_every": 2,
        "batch_labeled": 4,
        "batch_weak": 4,
        "eval_batch": 16,
        "weak_filters": {"max_stereocentres": None},
    } | overrides
    return json.dumps(config)
