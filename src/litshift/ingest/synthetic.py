"""Synthetic literature corpora for scale tests: real records multiplied into distinct ones.

NMRBank-size inputs (10^5-10^6 records) are not shipped, so scale measurements multiply the
NMRExtractor records. A plain copy would not behave like a larger corpus: every copy of a
structure would be merged as a ``duplicate`` and hit the structure caches, and the conformer
stage would see no new molecules. Copy ``j`` therefore keeps the paragraph verbatim (the parser
does the same work on every copy) but labels the structure with isotopes: each topological
symmetry class of heavy atoms gets either no label or one of :data:`ISOTOPE_SHIFTS` (mass
number of the element's most common isotope + shift), chosen by the base-4 digits of ``j``.
Labelling whole classes keeps the symmetry classes, formula and H counts that the consistency
filters use, so every copy gets the same verdicts as the original record, while its canonical
SMILES, InChIKey and molecule key are new. The document id gets a ``#copy-j`` suffix.

A structure with ``c`` heavy-atom classes has ``4**c`` labellings; copy ``j >= 4**c`` reuses
labelling ``j mod 4**c`` (counted by :func:`multiply_records`), so only its ok rows become
duplicates of the earlier copy. Shift values are not perturbed: that would move lists across
the residual-line and window tolerances and break the exact relation ``ok(k copies) =
k x ok(1 copy)`` that the tests check.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import polars as pl
from rdkit import Chem

from litshift.chem.molecules import MoleculeError, mol_from_smiles
from litshift.chem.symmetry import symmetry_classes
from litshift.ingest.ingest_literature import PMCID_COLUMN

__all__ = ["ISOTOPE_SHIFTS", "Multiplied", "isotope_variant", "multiply_records", "write_corpus"]

logger = logging.getLogger(__name__)

#: Mass-number shifts (relative to the most common isotope) a symmetry class can be labelled with.
ISOTOPE_SHIFTS: tuple[int, ...] = (1, 2, -1)


@dataclass(frozen=True, slots=True)
class Multiplied:
    """A multiplied corpus and how many of its structures repeat an earlier copy's."""

    frame: pl.DataFrame
    repeated_structures: int
    """Records of copy ``j >= 1`` whose structure has fewer than ``j + 1`` labellings."""


@lru_cache(maxsize=65536)
def _classes(smiles: str) -> tuple[Chem.Mol, tuple[tuple[int, ...], ...]] | None:
    """Parsed structure and its heavy-atom symmetry classes (ordered by first atom)."""
    try:
        mol = mol_from_smiles(smiles)
    except MoleculeError:
        return None
    classes = symmetry_classes(mol)
    groups: dict[int, list[int]] = {}
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() > 1:  # explicit [2H] atoms of the input are left alone
            groups.setdefault(int(classes[atom.GetIdx()]), []).append(atom.GetIdx())
    return mol, tuple(tuple(g) for g in groups.values())


def _n_labellings(smiles: str | None) -> int:
    """Distinct structures copies of ``smiles`` can have (0: not a structure)."""
    parsed = _classes(smiles) if smiles else None
    return 0 if parsed is None else (len(ISOTOPE_SHIFTS) + 1) ** len(parsed[1])


def isotope_variant(smiles: str | None, copy: int) -> str | None:
    """Structure of copy ``copy`` of ``smiles``: copy 0 and unparsable input are unchanged.

    Copies ``1 .. 4**c - 1`` (``c`` heavy-atom symmetry classes) give distinct canonical SMILES.
    """
    if copy == 0 or not smiles:
        return smiles
    parsed = _classes(smiles)
    if parsed is None:
        return smiles  # "N/A" and invalid SMILES keep their reject reason in every copy
    mol, groups = parsed
    labelled = Chem.Mol(mol)
    table = Chem.GetPeriodicTable()
    digits = copy % (len(ISOTOPE_SHIFTS) + 1) ** len(groups)
    for group in groups:
        digits, digit = divmod(digits, len(ISOTOPE_SHIFTS) + 1)
        if digit == 0:
            continue
        for index in group:
            atom = labelled.GetAtomWithIdx(index)
            mass = table.GetMostCommonIsotope(atom.GetAtomicNum())
            atom.SetIsotope(mass + ISOTOPE_SHIFTS[digit - 1])
    return Chem.MolToSmiles(labelled)


def multiply_records(
    frame: pl.DataFrame,
    n_records: int,
    smiles_column: str = "SMILES",
    id_column: str = PMCID_COLUMN,
) -> Multiplied:
    """The first ``n_records`` rows of copies 0, 1, 2, ... of ``frame`` (all columns kept).

    Copy ``j`` is ``frame`` with :func:`isotope_variant` structures and ``#copy-j`` ids.
    """
    if frame.height == 0:
        raise ValueError("cannot multiply an empty set of records")
    base_smiles = frame[smiles_column].to_list()
    copies, repeated = [], 0
    for copy in range((n_records + frame.height - 1) // frame.height):
        part = frame.head(n_records - copy * frame.height)
        smiles = base_smiles[: part.height]
        if copy:
            repeated += sum(0 < _n_labellings(s) <= copy for s in smiles)
            part = part.with_columns(
                pl.Series(smiles_column, [isotope_variant(s, copy) for s in smiles], pl.String),
                (pl.col(id_column) + f"#copy-{copy}").alias(id_column),
            )
        copies.append(part)
    return Multiplied(pl.concat(copies), repeated)


def write_corpus(
    sources: Sequence[str | os.PathLike[str]], n_records: int, out: str | os.PathLike[str]
) -> Multiplied:
    """Multiply the records of the NMRExtractor/NMRBank CSV ``sources`` into ``out`` (.csv.gz)."""
    frame = pl.concat(
        [pl.read_csv(path, infer_schema_length=0) for path in sources], how="diagonal"
    )
    multiplied = multiply_records(frame, n_records)
    with gzip.open(out, "wb", compresslevel=1) as handle:
        multiplied.frame.write_csv(handle)
    logger.info(
        "%d synthetic records from %d real ones -> %s (%d repeated structures)",
        multiplied.frame.height,
        frame.height,
        out,
        multiplied.repeated_structures,
    )
    return multiplied
