"""Decoys: same formula, never the true structure, deterministic."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem

from litshift.chem.molecules import MoleculeError
from litshift.verify.decoys import (
    choose_decoys,
    formula_index,
    molecular_formula,
    positional_isomers,
)

#: real test-set-like molecules (paracetamol, a bromoacetophenone, a pyridine, an ester, an acid)
MOLECULES = (
    "CC(=O)Nc1ccc(O)cc1",
    "O=C(CBr)c1cc(C(F)(F)F)cc(C(F)(F)F)c1",
    "Cc1ccncc1Cl",
    "CCOC(=O)c1ccccc1N",
    "C[C@H](N)C(=O)O",
    "CCCO",
)


def _formula(smiles: str) -> str:
    return molecular_formula(Chem.MolFromSmiles(smiles))


def test_cresol_isomers() -> None:
    assert positional_isomers("Cc1ccc(O)cc1") == sorted(
        Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in ("Cc1cccc(O)c1", "Cc1ccccc1O")
    )
    assert positional_isomers("Cc1ccccc1") == []  # every position of toluene is the same
    assert positional_isomers("CCCO") == ["CC(C)O"]
    with pytest.raises(MoleculeError):
        positional_isomers("not a molecule")


@settings(max_examples=len(MOLECULES), deadline=None)
@given(st.sampled_from(MOLECULES))
def test_isomers_keep_the_formula_and_differ(smiles: str) -> None:
    isomers = positional_isomers(smiles)
    canonical = Chem.MolToSmiles(Chem.MolFromSmiles(smiles))
    for isomer in isomers:
        assert _formula(isomer) == _formula(smiles)
        assert isomer != canonical
        assert Chem.MolToSmiles(Chem.MolFromSmiles(isomer)) == isomer
    assert isomers == positional_isomers(smiles)  # deterministic


def test_choose_decoys_mixes_kinds_skips_stereoisomers_and_is_deterministic() -> None:
    pool = formula_index(
        [
            "CC(=O)Nc1ccc(O)cc1",  # the true structure itself
            "COc1ccc(N)cc1C=O",  # C8H9NO2 formula-mates
            "NC(=O)Cc1ccc(O)cc1",
            "CC(=O)Oc1ccc(N)cc1",
            "COC(=O)c1ccc(N)cc1",
            "CCc1ccccc1",  # another formula
            "not a smiles",
            None,
        ]
    )
    assert pool["C8H9NO2"] == sorted(
        Chem.MolToSmiles(Chem.MolFromSmiles(s))
        for s in (
            "CC(=O)Nc1ccc(O)cc1",
            "COc1ccc(N)cc1C=O",
            "NC(=O)Cc1ccc(O)cc1",
            "CC(=O)Oc1ccc(N)cc1",
            "COC(=O)c1ccc(N)cc1",
        )
    )
    decoys = choose_decoys("CC(=O)Nc1ccc(O)cc1", pool, n_decoys=5, n_positional=1, seed=3)
    assert decoys == choose_decoys("CC(=O)Nc1ccc(O)cc1", pool, 5, 1, seed=3)
    kinds = [kind for _, kind in decoys]
    assert kinds[0] == "positional" and kinds.count("formula") == 4 and len(decoys) == 5
    smiles = [s for s, _ in decoys]
    assert "CC(=O)Nc1ccc(O)cc1" not in smiles
    assert len(set(smiles)) == len(smiles)
    assert all(_formula(s) == "C8H9NO2" for s in smiles)
    # a stereoisomer of the true structure is not a decoy
    stereo = formula_index(["C[C@H](N)C(=O)O", "C[C@@H](N)C(=O)O", "NCCC(=O)O"])
    chosen = [s for s, _ in choose_decoys("C[C@H](N)C(=O)O", stereo, 9, 0)]
    assert "C[C@@H](N)C(=O)O" not in chosen and "NCCC(=O)O" in chosen
