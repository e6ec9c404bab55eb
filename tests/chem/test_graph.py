"""Graph inputs: categories that mean what they say, clipped bond counts, padding kept free."""

from __future__ import annotations

import numpy as np
from rdkit import Chem

from litshift.chem.graph import (
    ATOM_FEATURES,
    MAX_TOPOLOGY,
    atom_features,
    molecular_graph,
    topological_distances,
)

COLUMN = {name: i for i, name in enumerate(ATOM_FEATURES)}


def _mol(smiles: str) -> Chem.Mol:
    return Chem.AddHs(Chem.MolFromSmiles(smiles))


def test_features_of_toluene_name_the_chemistry() -> None:
    mol = _mol("Cc1ccccc1")  # C0 methyl, C1 ipso, C2-C6 ring, then H
    features = atom_features(mol) - 1  # undo the padding shift
    assert features.shape == (mol.GetNumAtoms(), len(ATOM_FEATURES))
    methyl, ipso, ortho = features[0], features[1], features[2]
    assert methyl[COLUMN["aromatic"]] == 0 and ipso[COLUMN["aromatic"]] == 1
    assert methyl[COLUMN["total_h"]] == 3 and ipso[COLUMN["total_h"]] == 0
    assert ortho[COLUMN["total_h"]] == 1
    assert methyl[COLUMN["degree"]] == 4 and ipso[COLUMN["degree"]] == 3
    assert methyl[COLUMN["ring"]] == 0 and ipso[COLUMN["ring"]] == 6 - 2  # six-membered ring
    assert methyl[COLUMN["hybridization"]] != ipso[COLUMN["hybridization"]]


def test_every_category_is_within_its_range_and_never_padding() -> None:
    for smiles in (
        "C[N+](C)(C)C",
        "[O-]C(=O)C1CC1",
        "C1CCCCCCCCC1",
        "[Fe+2]",
        "O=[N+]([O-])c1ccccc1",
    ):
        features = atom_features(_mol(smiles))
        assert (features >= 1).all()
        assert (features < np.array(list(ATOM_FEATURES.values()))).all()


def test_charges_are_told_apart() -> None:
    charge = COLUMN["formal_charge"]
    ammonium = atom_features(_mol("C[NH3+]"))[1, charge]
    amine = atom_features(_mol("CN"))[1, charge]
    oxide = atom_features(_mol("C[O-]"))[1, charge]
    assert len({ammonium, amine, oxide}) == 3


def test_topological_distances_count_bonds_and_clip() -> None:
    mol = Chem.MolFromSmiles("C" * 12)  # a chain: distance = index difference
    hops = topological_distances(mol)
    assert hops[0, 1] == 1 and hops[0, 5] == 5
    assert hops[0, 11] == MAX_TOPOLOGY + 1  # 11 bonds, clipped
    assert (hops == hops.T).all() and (np.diag(hops) == 0).all()
    salt = topological_distances(Chem.MolFromSmiles("[Na+].[Cl-]"))
    assert salt[0, 1] == MAX_TOPOLOGY + 1  # other fragment


def test_molecular_graph_symmetry_follows_the_smiles() -> None:
    graph = molecular_graph("CC(C)(C)C")  # neopentane
    mol = _mol("CC(C)(C)C")
    methyls = [0, 2, 3, 4]
    assert len(set(graph.symmetry[methyls])) == 1
    hydrogens = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 1]
    assert len(set(graph.symmetry[hydrogens])) == 1
    assert graph.topology.shape == (mol.GetNumAtoms(), mol.GetNumAtoms())
