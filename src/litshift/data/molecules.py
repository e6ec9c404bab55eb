"""The ``collect_molecules`` stage: every distinct structure the run needs 3D coordinates for.

Assigned, weak-training and literature-test molecules, and for heteronuclei
(``--heteronuclei``) the held-out molecules of those nuclei
(:func:`litshift.data.splits.held_out_sets`, which no weak table holds), are pooled and
deduplicated by :func:`litshift.chem.molecules.molecule_key` of their canonical SMILES, which is
also the key of the conformer store, so a molecule shared by several sources is embedded once.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence

import polars as pl

from litshift.chem.molecules import molecule_key
from litshift.data.io import read_table, write_table
from litshift.data.splits import held_out_sets

__all__ = ["collect", "collect_molecules"]


def collect(smiles_columns: list[pl.Series]) -> pl.DataFrame:
    """Distinct canonical SMILES with their keys, sorted by key (stable shard contents)."""
    smiles = pl.concat(smiles_columns).unique()
    keys = [molecule_key(s) for s in smiles]
    return pl.DataFrame({"key": keys, "smiles": smiles}).sort("key")


def collect_molecules(
    assigned: str | os.PathLike[str],
    weak: Sequence[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    heteronuclei: Collection[str] = (),
    unassigned: str | os.PathLike[str] | None = None,
    splits: str | os.PathLike[str] | None = None,
) -> dict[str, int]:
    """Write the distinct molecules of the ``assigned`` and ``weak`` tables (and, for
    ``heteronuclei``, the held-out sets of ``unassigned`` that ``splits`` names) to ``out``.

    Returns the number of molecules and the rows read per input (``input_rows.<i>``, in the
    order assigned, weak..., held-out sets).
    """
    columns = [pl.from_arrow(read_table(assigned, "assigned"))["smiles"]]
    columns += [pl.from_arrow(read_table(path, "weak"))["smiles"] for path in weak]
    if heteronuclei:
        if unassigned is None or splits is None:
            raise ValueError("heteronuclei need the unassigned table and the splits")
        held_out = held_out_sets(
            read_table(unassigned, "unassigned"), read_table(splits, "splits"), heteronuclei
        )
        columns.append(held_out["smiles"])
    molecules = collect(columns)
    write_table(molecules.to_arrow(), out, "molecules")
    return {
        "molecules": molecules.height,
        **{f"input_rows.{i}": len(c) for i, c in enumerate(columns)},
    }
