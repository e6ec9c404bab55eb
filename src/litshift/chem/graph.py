"""Chemistry the network is given directly: per-atom categories, bond-count distances, symmetry.

The published Uni-Mol/NMR model sees element types and 3D distances only and has to learn
aromaticity, hybridization or ring strain from 48 M parameters and a GPU-day. On a CPU budget
the small model is handed them: each atom gets a few categorical features (embedded and added to
its element embedding by :class:`litshift.model.transformer.ShiftTransformer` when
``atom_features`` is on), and each atom pair its topological distance (bonds on the shortest
path; an attention bias when ``topology_bias`` is on). All are pure functions of the explicit-H
graph in litshift atom order (:mod:`litshift.chem.molecules`), so they are recomputed from the
SMILES wherever a structure is built and can never disagree with it.

Category 0 of every feature is reserved for padding; values beyond a feature's range fall into
its last category (e.g. degree >= 6), so no molecule is refused for an unusual atom.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from rdkit import Chem

from litshift.chem.molecules import mol_from_smiles
from litshift.chem.symmetry import symmetry_classes

__all__ = [
    "ATOM_FEATURES",
    "FEATURE_SIZES",
    "MAX_TOPOLOGY",
    "MolecularGraph",
    "atom_features",
    "molecular_graph",
    "topological_distances",
]

_HYBRIDIZATIONS = (
    Chem.HybridizationType.S,
    Chem.HybridizationType.SP,
    Chem.HybridizationType.SP2,
    Chem.HybridizationType.SP3,
    Chem.HybridizationType.SP3D,
    Chem.HybridizationType.SP3D2,
)

#: feature name -> number of categories, padding (0) included; the column order of
#: :func:`atom_features`
ATOM_FEATURES: dict[str, int] = {
    "aromatic": 3,  # no / yes
    "hybridization": len(_HYBRIDIZATIONS) + 2,  # the six above / other
    "degree": 8,  # 0 .. 5, >= 6
    "total_h": 6,  # 0 .. 3, >= 4
    "formal_charge": 6,  # <= -2, -1, 0, +1, >= +2
    "ring": 8,  # none, smallest ring 3, 4, 5, 6, 7, >= 8
}
FEATURE_SIZES: tuple[int, ...] = tuple(ATOM_FEATURES.values())

#: bond counts kept apart; longer paths and atoms of another fragment share MAX_TOPOLOGY + 1
MAX_TOPOLOGY = 8


class MolecularGraph(NamedTuple):
    """Graph-derived inputs of one molecule, litshift atom order."""

    features: np.ndarray
    """Shape ``N x F`` uint8, categories of :data:`ATOM_FEATURES` (>= 1)."""
    topology: np.ndarray
    """Shape ``N x N`` uint8, bonds on the shortest path clipped to ``MAX_TOPOLOGY + 1``."""
    symmetry: np.ndarray
    """Shape ``N`` int64, topological symmetry class (:func:`symmetry_classes`)."""


def _smallest_ring(ring_info: Chem.RingInfo, index: int) -> int:
    """Category of the smallest ring through atom ``index`` (0: in no ring)."""
    if not ring_info.NumAtomRings(index):
        return 0
    size = min(len(r) for r in ring_info.AtomRings() if index in r)
    return min(size, 8) - 2  # 3 -> 1 ... >= 8 -> 6


def atom_features(mol_h: Chem.Mol) -> np.ndarray:
    """Per-atom categorical features, shape ``N x F`` (uint8, each shifted by 1 for padding)."""
    ring_info = mol_h.GetRingInfo()
    rows = []
    for atom in mol_h.GetAtoms():
        hybridization = atom.GetHybridization()
        rows.append(
            (
                int(atom.GetIsAromatic()),
                _HYBRIDIZATIONS.index(hybridization)
                if hybridization in _HYBRIDIZATIONS
                else len(_HYBRIDIZATIONS),
                min(atom.GetDegree(), 6),
                min(atom.GetTotalNumHs(includeNeighbors=True), 4),
                min(max(atom.GetFormalCharge(), -2), 2) + 2,
                _smallest_ring(ring_info, atom.GetIdx()),
            )
        )
    return np.asarray(rows, dtype=np.uint8).reshape(-1, len(ATOM_FEATURES)) + 1


def topological_distances(mol_h: Chem.Mol) -> np.ndarray:
    """Bond counts between all atom pairs, clipped to ``MAX_TOPOLOGY + 1`` (also: disconnected)."""
    distances = Chem.GetDistanceMatrix(mol_h)  # 1e8 between fragments
    return np.minimum(distances, MAX_TOPOLOGY + 1).astype(np.uint8)


def molecular_graph(smiles: str) -> MolecularGraph:
    """Features, topology and symmetry of ``smiles`` with explicit hydrogens."""
    mol_h = Chem.AddHs(mol_from_smiles(smiles))
    return MolecularGraph(
        atom_features(mol_h), topological_distances(mol_h), symmetry_classes(mol_h)
    )
