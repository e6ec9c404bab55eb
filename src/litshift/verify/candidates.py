"""Candidate structures for ``litshift verify``: read, parsed, embedded, or rejected with a reason.

A candidate keeps the user's atom order (for the output) and litshift's (for the model and the
matching); the map between them is :func:`litshift.inference.molecules.prepare`'s.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rdkit import Chem

from litshift.chem.conformers import ConformerError, Geometry
from litshift.chem.molecules import MoleculeError
from litshift.inference.molecules import PreparedMolecule, failure_message, prepare

__all__ = ["Candidate", "prepare_candidates", "read_candidates_file"]

_SMILES_COLUMNS = ("smiles", "SMILES", "Smiles")
_NAME_COLUMNS = ("name", "id", "Name", "ID")


@dataclass(slots=True)
class Candidate:
    """One structure to score."""

    name: str
    molecule: PreparedMolecule
    """The user's molecule (atom order as given), its map to litshift order and 3D structure."""
    mol_h: Chem.Mol
    """Litshift order: ``Chem.AddHs(Chem.MolFromSmiles(canonical))``."""

    @property
    def smiles(self) -> str:
        return self.molecule.structure.smiles

    def user_atoms(self, atoms: Sequence[int]) -> list[int]:
        """Litshift-order atom indices -> the user's atom indices (sorted)."""
        user_of = {lit: user for user, lit in enumerate(self.molecule.litshift_index)}
        return sorted(user_of[a] for a in atoms)


def read_candidates_file(path: str | Path) -> list[tuple[str, str]]:
    """``(name, smiles)`` pairs from a CSV with a ``smiles`` column (``name``/``id`` optional)
    or from plain lines ``SMILES [name]``; names default to ``<file>:<line>``."""
    text = Path(path).read_text(encoding="utf-8")
    first = text.splitlines()[0] if text.strip() else ""
    header = [c.strip() for c in first.split(",")]
    smiles_column = next((c for c in _SMILES_COLUMNS if c in header), None)
    if smiles_column is not None:
        name_column = next((c for c in _NAME_COLUMNS if c in header), None)
        pairs = []
        for i, row in enumerate(csv.DictReader(io.StringIO(text))):
            name = (row.get(name_column) or "").strip() if name_column else ""
            pairs.append(
                (name or f"{Path(path).name}:{i + 2}", (row.get(smiles_column) or "").strip())
            )
        return pairs
    pairs = []
    for i, line in enumerate(text.splitlines()):
        fields = line.split(maxsplit=1)
        if fields and not fields[0].startswith("#"):
            name = fields[1].strip() if len(fields) > 1 else f"{Path(path).name}:{i + 1}"
            pairs.append((name, fields[0]))
    return pairs


def prepare_candidates(
    items: Sequence[tuple[str, str]],
    solvent: str,
    embed: Callable[[str], Geometry],
    max_atoms: int,
) -> tuple[list[Candidate], list[dict[str, str]]]:
    """Parse and embed every ``(name, smiles)``.

    Returns
    -------
    candidates, rejected
        The usable candidates in input order, and ``{"name", "smiles", "reason"}`` for the
        others (invalid SMILES, embedding failure, too many atoms, a duplicate structure).
    """
    candidates: list[Candidate] = []
    rejected: list[dict[str, str]] = []
    seen: dict[str, str] = {}
    for row, (name, smiles) in enumerate(items):
        try:
            molecule = prepare(row, smiles, solvent, embed, max_atoms)
        except (MoleculeError, ConformerError) as err:
            rejected.append({"name": name, "smiles": smiles, "reason": failure_message(err)})
            continue
        canonical = molecule.structure.smiles
        if canonical in seen:
            reason = f"same structure as candidate {seen[canonical]!r}"
            rejected.append({"name": name, "smiles": smiles, "reason": reason})
            continue
        seen[canonical] = name
        mol_h = Chem.AddHs(Chem.MolFromSmiles(canonical))
        candidates.append(Candidate(name, molecule, mol_h))
    return candidates, rejected
