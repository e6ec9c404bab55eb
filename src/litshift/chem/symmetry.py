"""Topological symmetry classes and exchangeable protons, in litshift atom order.

Atoms in one class are interchangeable by a graph automorphism (CH3 hydrogens, the two ortho
carbons of a phenyl ring), so an unassigned spectrum normally shows one peak for the whole class.
Classes are topological (2D graph, stereo tags included): diastereotopic CH2 protons share a
class even though they can show two peaks; the matching policy copes with that by counts.
"""

from __future__ import annotations

import numpy as np
from rdkit import Chem

__all__ = ["EXCHANGEABLE_PARENTS", "symmetry_classes", "element_classes", "exchangeable_hydrogens"]

#: Heavy atoms whose protons exchange with the solvent and are often missing from 1H lists.
EXCHANGEABLE_PARENTS: frozenset[int] = frozenset({7, 8, 16})  # N, O, S


def symmetry_classes(mol: Chem.Mol) -> np.ndarray:
    """Class id per atom, shape ``N``: equal ids <=> topologically equivalent atoms.

    Ids are dense (``0 .. n_classes-1``) and follow RDKit's canonical ranks with ties kept.
    """
    ranks = np.asarray(list(Chem.CanonicalRankAtoms(mol, breakTies=False)), dtype=np.int64)
    return np.unique(ranks, return_inverse=True)[1].astype(np.int64)


def element_classes(mol: Chem.Mol, atomic_number: int) -> list[list[int]]:
    """Atoms of one element grouped by symmetry class, classes ordered by their first atom."""
    classes = symmetry_classes(mol)
    groups: dict[int, list[int]] = {}
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == atomic_number:
            groups.setdefault(int(classes[atom.GetIdx()]), []).append(atom.GetIdx())
    return list(groups.values())


def exchangeable_hydrogens(mol: Chem.Mol) -> set[int]:
    """Indices of explicit hydrogens bonded to N, O or S."""
    return {
        atom.GetIdx()
        for atom in mol.GetAtoms()
        if atom.GetAtomicNum() == 1
        and any(n.GetAtomicNum() in EXCHANGEABLE_PARENTS for n in atom.GetNeighbors())
    }
