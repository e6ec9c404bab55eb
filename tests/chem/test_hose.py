import numpy as np
import pytest
from rdkit import Chem

from litshift.chem.hose import HoseModel, hose_codes
from litshift.data.atom_labels import atom_level_examples
from litshift.ingest.curate_unassigned import curate_json_records


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


def test_heteronuclei_on_real_31p_and_19f_sets(jsonl_lines: list[str]) -> None:
    """Fitted per nucleus on the unambiguous 31P/19F sets of the shared sample (every other
    molecule held out), HOSE recalls its training atoms and beats the nucleus mean on 31P."""
    windows = {"31P": (-300.0, 300.0), "19F": (-300.0, 100.0)}
    rows = curate_json_records(jsonl_lines, {"31P", "19F"}, windows).rows
    examples, counts = atom_level_examples([{**r, "n_h": None} for r in rows], ["31P", "19F"])
    assert counts["31P.single_class"] > 100 and counts["19F.single_class"] > 0
    train, held_out = examples[::2], examples[1::2]
    model = HoseModel(max_radius=4).fit(train)
    assert set(model.element_means) == {"31P", "19F"}
    for smiles, nucleus, labels in train:  # seen: looked up with the full sphere
        mol_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
        assert all(model.predict_atom(mol_h, nucleus, a)[1] == 4 for a, _ in labels)
    errors, baseline = [], []
    for smiles, nucleus, labels in held_out:
        if nucleus != "31P":
            continue
        predicted = model.predict(smiles, nucleus, [a for a, _ in labels])
        errors += [abs(p - s) for p, (_, s) in zip(predicted, labels, strict=True)]
        baseline += [abs(model.element_means["31P"] - s) for _, s in labels]
    assert len(errors) > 50 and np.mean(errors) < 0.9 * np.mean(baseline)
