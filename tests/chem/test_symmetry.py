"""Topological symmetry classes and exchangeable protons on small real molecules."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from litshift.chem.symmetry import element_classes, exchangeable_hydrogens, symmetry_classes


def litshift_mol(smiles: str) -> Chem.Mol:
    """The litshift atom order: AddHs of the canonical SMILES."""
    return Chem.AddHs(Chem.MolFromSmiles(Chem.CanonSmiles(smiles)))


def partition(mol: Chem.Mol, atomic_number: int) -> set[frozenset[int]]:
    return {frozenset(group) for group in element_classes(mol, atomic_number)}


def test_toluene_classes():
    mol = litshift_mol("Cc1ccccc1")  # C0 methyl, C1 ipso, C2/C6 ortho, C3/C5 meta, C4 para
    assert partition(mol, 6) == {frozenset(s) for s in ({0}, {1}, {2, 6}, {3, 5}, {4})}
    assert partition(mol, 1) == {frozenset(s) for s in ({7, 8, 9}, {10, 14}, {11, 13}, {12})}


def test_para_xylene_classes():
    mol = litshift_mol("Cc1ccc(C)cc1")
    assert partition(mol, 6) == {frozenset(s) for s in ({0, 5}, {1, 4}, {2, 3, 6, 7})}
    methyl_h, ring_h = frozenset({8, 9, 10, 13, 14, 15}), frozenset({11, 12, 16, 17})
    assert partition(mol, 1) == {methyl_h, ring_h}


def test_ids_are_dense_and_classes_never_mix_elements():
    for smiles in ("CCO", "Cc1ccccc1", "CC(=O)Nc1ccc(O)cc1", "OC(=O)C(F)(F)F"):
        mol = litshift_mol(smiles)
        classes = symmetry_classes(mol)
        assert classes.shape == (mol.GetNumAtoms(),)
        assert set(classes.tolist()) == set(range(classes.max() + 1))
        elements = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
        for c in np.unique(classes):
            assert len(set(elements[classes == c])) == 1


def test_diastereotopic_protons_share_a_topological_class():
    mol = litshift_mol("C[C@H](O)CC")  # CH2 next to a stereocentre
    ch2 = next(
        a
        for a in mol.GetAtoms()
        if a.GetAtomicNum() == 6 and a.GetTotalNumHs(includeNeighbors=True) == 2
    )
    h1, h2 = (n.GetIdx() for n in ch2.GetNeighbors() if n.GetAtomicNum() == 1)
    classes = symmetry_classes(mol)
    assert classes[h1] == classes[h2]


@pytest.mark.parametrize(
    ("smiles", "expected_parents"),
    [("CCO", {8}), ("Cc1ccccc1", set()), ("NCC(=O)O", {7, 8}), ("CSc1ccccc1S", {16})],
)
def test_exchangeable_hydrogens_sit_on_n_o_s(smiles, expected_parents):
    mol = litshift_mol(smiles)
    found = exchangeable_hydrogens(mol)
    assert all(mol.GetAtomWithIdx(i).GetAtomicNum() == 1 for i in found)
    parents = {mol.GetAtomWithIdx(i).GetNeighbors()[0].GetAtomicNum() for i in found}
    assert parents == expected_parents
    n_exchangeable = sum(
        a.GetTotalNumHs(includeNeighbors=True)
        for a in mol.GetAtoms()
        if a.GetAtomicNum() in (7, 8, 16)
    )
    assert len(found) == n_exchangeable
