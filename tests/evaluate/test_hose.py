import pytest
from rdkit import Chem

from litshift.evaluate.hose import HoseModel, hose_codes


def test_codes_do_not_depend_on_atom_order() -> None:
    mol = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")
    shuffled = Chem.RenumberAtoms(mol, list(range(mol.GetNumAtoms()))[::-1])
    n = mol.GetNumAtoms()
    for i in range(n):
        assert hose_codes(mol, i, 4) == hose_codes(shuffled, n - 1 - i, 4)


def test_longer_codes_refine_shorter_ones() -> None:
    mol = Chem.MolFromSmiles("CCOC(=O)c1ccccc1")
    codes = hose_codes(mol, 0, 4)
    assert len(set(codes)) == 4
    a, b = hose_codes(mol, 0, 2), hose_codes(Chem.MolFromSmiles("CCCC"), 0, 2)
    assert a[0] == b[0] and a[1] != b[1]


def test_lookup_falls_back_sphere_by_sphere_then_to_the_element_mean() -> None:
    train = [("CCO", "13C", [(0, 18.0), (1, 58.0)]), ("CCCO", "13C", [(0, 10.0), (2, 64.0)])]
    model = HoseModel(max_radius=3).fit(train)
    mol_h = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    assert model.predict_atom(mol_h, "13C", 0) == (18.0, 3)  # seen: exact recall
    shift, radius = model.predict_atom(Chem.AddHs(Chem.MolFromSmiles("CCCCO")), "13C", 0)
    assert (shift, radius) == (10.0, 2)  # CH3-CH2-CH2- seen in propanol, not further
    shift, radius = model.predict_atom(Chem.AddHs(Chem.MolFromSmiles("C#N")), "13C", 0)
    assert radius == 0 and shift == pytest.approx(37.5)


def test_protons_use_their_heavy_atom_environment() -> None:
    mol_h = Chem.AddHs(Chem.MolFromSmiles("CO"))
    hydrogens = [a.GetIdx() for a in mol_h.GetAtoms() if a.GetAtomicNum() == 1]
    model = HoseModel(max_radius=2).fit([("CO", "1H", [(h, 3.3) for h in hydrogens[:3]])])
    assert model.predict("CO", "1H", hydrogens[:3]) == pytest.approx([3.3, 3.3, 3.3])
    with pytest.raises(KeyError, match="not fitted on 13C"):
        model.predict("CO", "13C", [0])
