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


#: 31P/19F shift sets (ppm, one entry per atom as NMRShiftDB2 lists them) by split: small
#: heteronuclear molecules for runs with 31P/19F heads. The last training set has two CF3
#: groups of equal size, so it stays molecule-level (``L_mol``).
HETERO_SETS: dict[str, list[tuple[str, str, list[float]]]] = {
    "train": [
        ("O=P(c1ccccc1)(c1ccccc1)c1ccccc1", "31P", [29.1]),
        ("COP(=O)(OC)OC", "31P", [2.1]),
        ("c1ccc(P(c2ccccc2)c2ccccc2)cc1", "31P", [-5.4]),
        ("CCOP(=O)(OCC)OCC", "31P", [-1.0]),
        ("CP(C)C", "31P", [-62.0]),
        ("Fc1ccccc1", "19F", [-113.1]),
        ("FC(F)(F)c1ccccc1", "19F", [-63.7] * 3),
        ("Fc1ccc(F)cc1", "19F", [-120.0] * 2),
        ("OC(=O)C(F)(F)F", "19F", [-76.5] * 3),
        ("Cc1ccc(C(F)(F)F)cc1C(F)(F)F", "19F", [-63.0] * 3 + [-60.0] * 3),
    ],
    "valid": [("CCP(=O)(CC)CC", "31P", [48.0]), ("Cc1ccc(F)cc1", "19F", [-118.0])],
    "test": [("CCCCP(=O)(CCCC)CCCC", "31P", [43.0]), ("Fc1ccc(Cl)cc1", "19F", [-115.0])],
}


@dataclass(frozen=True)
class HeteroInputs(TrainingInputs):
    unassigned: Path

    def cli_args(self) -> list[str]:
        return [*super().cli_args(), "--unassigned", str(self.unassigned)]


def write_hetero_inputs(directory: Path) -> HeteroInputs:
    """:func:`write_training_inputs` plus :data:`HETERO_SETS` as ``split --heteronuclei``
    leaves them: training sets in the weak table, every set in ``unassigned.parquet``, their
    molecules in the splits, and their conformers."""
    from rdkit import Chem

    base = write_training_inputs(directory)
    rows = [
        {
            "source": "nmrshiftdb2",
            "record_id": f"hetero-{i}",
            "inchikey": Chem.MolToInchiKey(Chem.MolFromSmiles(smiles)),
            "smiles": smiles,
            "nucleus": nucleus,
            "solvent_raw": "CDCl3",
            "solvent": "CDCl3",
            "solvent_class": "CDCl3",
            "temperature_k": None,
            "field_mhz": None,
            "shifts": shifts,
            "multiplicity": None,
            "split": split,
        }
        for i, (split, (smiles, nucleus, shifts)) in enumerate(
            (split, entry) for split, entries in HETERO_SETS.items() for entry in entries
        )
    ]
    frame = pl.DataFrame(rows)
    unassigned = rows_to_table(
        [{k: v for k, v in r.items() if k != "split"} for r in rows], "unassigned"
    )
    splits = pl.concat(
        [
            pl.read_parquet(base.splits),
            frame.select(connectivity_key=pl.col("inchikey").str.slice(0, 14), split="split"),
        ]
    )
    weak = pl.concat(
        [pl.read_parquet(base.weak), weak_rows(frame.filter(pl.col("split") == "train"))],
        how="vertical_relaxed",
    )
    conformers = rows_to_table(
        [embed(s, EmbedOptions()).to_row() for s in frame["smiles"].unique().sort()], "conformers"
    )
    inputs = HeteroInputs(**vars(base), unassigned=directory / "unassigned.parquet")
    write_table(unassigned, inputs.unassigned, "unassigned")
    write_table(splits.to_arrow(), inputs.splits, "splits")
    write_table(weak.to_arrow(), inputs.weak, "weak")
    write_table(conformers, inputs.conformers / "shard-0001.parquet", "conformers")
    return inputs
