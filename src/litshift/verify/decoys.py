"""Decoy structures for the verification benchmark: wrong answers a chemist could propose.

Two kinds, both with the true structure's molecular formula:

- ``formula``: other molecules of the same formula found in the project's data (the curated
  tables and the molecules table), i.e. real constitutional isomers;
- ``positional``: the true structure with one substituent moved to another position of the
  same scaffold (:func:`positional_isomers`) — the hardest and most common confusion.

A decoy never shares the true structure's InChIKey connectivity block (a stereoisomer is not
a different answer for a 1D spectrum). Everything is deterministic: iteration follows RDKit
canonical atom order and the selection is a seeded shuffle keyed by the true structure.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from rdkit import Chem, RDLogger
from rdkit.Chem.rdMolDescriptors import CalcMolFormula

from litshift.chem.molecules import MoleculeError, canonical_smiles, connectivity_key, inchikey

__all__ = [
    "DECOY_KINDS",
    "choose_decoys",
    "formula_index",
    "molecular_formula",
    "positional_isomers",
]

DECOY_KINDS: tuple[str, ...] = ("formula", "positional")


def molecular_formula(mol: Chem.Mol) -> str:
    """Hill formula including charge (``C7H8``)."""
    return CalcMolFormula(mol)


def _parse(smiles: str) -> Chem.Mol | None:
    mol = Chem.MolFromSmiles(smiles)
    return mol if mol is not None and mol.GetNumAtoms() else None


def formula_index(smiles: Iterable[str | None]) -> dict[str, list[str]]:
    """Formula -> sorted distinct canonical SMILES; unparseable or missing SMILES are skipped
    (the curated tables hold only valid ones)."""
    index: dict[str, set[str]] = defaultdict(set)
    RDLogger.DisableLog("rdApp.*")
    try:
        for text in set(smiles):
            mol = _parse(text) if text else None
            if mol is not None:
                index[molecular_formula(mol)].add(canonical_smiles(mol))
    finally:
        RDLogger.EnableLog("rdApp.*")
    return {formula: sorted(members) for formula, members in index.items()}


def _side(mol: Chem.Mol, start: int, blocked: int) -> set[int]:
    """Atoms reachable from ``start`` without passing through ``blocked``."""
    seen, stack = {start}, [start]
    while stack:
        for neighbor in mol.GetAtomWithIdx(stack.pop()).GetNeighbors():
            index = neighbor.GetIdx()
            if index != blocked and index not in seen:
                seen.add(index)
                stack.append(index)
    return seen


def _moved(mol: Chem.Mol, anchor: int, root: int, target: int) -> str | None:
    """Canonical SMILES after moving the bond anchor-root to target-root (None if invalid)."""
    rw = Chem.RWMol(mol)
    rw.RemoveBond(anchor, root)
    rw.AddBond(target, root, Chem.BondType.SINGLE)
    anchor_atom, target_atom = rw.GetAtomWithIdx(anchor), rw.GetAtomWithIdx(target)
    if anchor_atom.GetNoImplicit() or anchor_atom.GetIsAromatic():
        anchor_atom.SetNumExplicitHs(anchor_atom.GetNumExplicitHs() + 1)
    if target_atom.GetNumExplicitHs():
        target_atom.SetNumExplicitHs(target_atom.GetNumExplicitHs() - 1)
    moved = rw.GetMol()
    Chem.RemoveStereochemistry(moved)
    try:
        Chem.SanitizeMol(moved)
    except (Chem.rdchem.MolSanitizeException, ValueError):
        return None
    text = Chem.MolToSmiles(moved)
    return text if Chem.MolFromSmiles(text) is not None else None


def positional_isomers(smiles: str) -> list[str]:
    """Every structure obtained by moving one substituent of ``smiles`` to another position.

    A substituent is the smaller side of an acyclic single bond whose other end (the anchor)
    lies on a ring; it moves to every other ring carbon carrying a hydrogen. Acyclic molecules
    have no scaffold: there the anchor and targets are any carbon with a hydrogen (2-propanol
    for 1-propanol). Results are canonical SMILES, sorted, without the input itself and with
    its molecular formula (always true by construction; checked).
    """
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise MoleculeError(f"invalid SMILES {smiles!r}")
    formula = molecular_formula(mol)
    original = Chem.MolToSmiles(mol)
    has_rings = mol.GetRingInfo().NumRings() > 0

    def site(atom: Chem.Atom) -> bool:
        return atom.GetAtomicNum() == 6 and (atom.IsInRing() or not has_rings)

    found: set[str] = set()
    RDLogger.DisableLog("rdApp.*")
    try:
        for bond in mol.GetBonds():
            if bond.IsInRing() or bond.GetBondType() != Chem.BondType.SINGLE:
                continue
            for anchor, root in (
                (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()),
                (bond.GetEndAtomIdx(), bond.GetBeginAtomIdx()),
            ):
                if not site(mol.GetAtomWithIdx(anchor)):
                    continue
                substituent = _side(mol, root, anchor)
                if 2 * len(substituent) > mol.GetNumAtoms():
                    continue
                for target in mol.GetAtoms():
                    index = target.GetIdx()
                    if (
                        index == anchor
                        or index in substituent
                        or not site(target)
                        or target.GetTotalNumHs() == 0
                    ):
                        continue
                    moved = _moved(mol, anchor, root, index)
                    if moved and moved != original:
                        found.add(moved)
    finally:
        RDLogger.EnableLog("rdApp.*")
    return sorted(s for s in found if molecular_formula(Chem.MolFromSmiles(s)) == formula)


def _connectivity(smiles: str) -> str | None:
    try:
        return connectivity_key(inchikey(Chem.MolFromSmiles(smiles)))
    except MoleculeError:
        return None


def _shuffled(items: Sequence[str], seed: int, key: str) -> list[str]:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()
    out = sorted(items)
    random.Random(int(digest[:16], 16)).shuffle(out)
    return out


def choose_decoys(
    true_smiles: str,
    formulas: Mapping[str, Sequence[str]],
    n_decoys: int,
    n_positional: int,
    seed: int = 0,
) -> list[tuple[str, str]]:
    """Up to ``n_decoys`` ``(smiles, kind)`` decoys of ``true_smiles``.

    Up to ``n_positional`` positional isomers first, then formula-mates from ``formulas``
    (:func:`formula_index`), then more positional isomers if the data has too few; each pool
    in a seeded shuffle keyed by the true structure.
    """
    mol = Chem.MolFromSmiles(true_smiles)
    if mol is None:
        raise MoleculeError(f"invalid SMILES {true_smiles!r}")
    own = _connectivity(true_smiles)
    chosen: list[tuple[str, str]] = []
    used = {own}

    def take(pool: Iterable[str], kind: str, limit: int) -> None:
        for smiles in pool:
            if len(chosen) >= limit:
                return
            block = _connectivity(smiles)
            if block is None or block in used:
                continue
            used.add(block)
            chosen.append((smiles, kind))

    isomers = _shuffled(positional_isomers(true_smiles), seed, true_smiles)
    mates = _shuffled(formulas.get(molecular_formula(mol), []), seed, true_smiles)
    take(isomers, "positional", min(n_positional, n_decoys))
    take(mates, "formula", n_decoys)
    take(isomers, "positional", n_decoys)
    return chosen
