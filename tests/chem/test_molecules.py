import pytest
from rdkit import Chem

from litshift.chem import molecules
from litshift.chem.molecules import (
    MoleculeError,
    canonical_order,
    connectivity_key,
    hydrogens_by_heavy_atom,
    inchikey,
    mol_from_molblock,
    mol_from_smiles,
    molecule_key,
)


def _pentavalent_carbon() -> str:
    mol = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)
    mol.UpdatePropertyCache(strict=False)
    return Chem.MolToMolBlock(mol, kekulize=False)


PENTAVALENT_CARBON = _pentavalent_carbon()

CASES = [
    "OCC(=O)[C@H](N)c1ccccc1",  # stereocentre
    "C[N+](C)(C)CC(=O)[O-]",  # charges
    "[2H]C([2H])([2H])c1ccc([13CH3])cc1",  # explicit isotopes
    "CC(=O)[O-].[Na+]",  # salt
    "C/C=C/C(=O)O",  # double-bond stereo
]


@pytest.mark.parametrize("smiles", CASES)
@pytest.mark.parametrize("explicit_h_input", [False, True])
def test_canonical_order_maps_every_heavy_atom_onto_its_twin(
    smiles: str, explicit_h_input: bool
) -> None:
    mol = Chem.MolFromSmiles(smiles)
    if explicit_h_input:  # a molblock that lists hydrogens, shuffled
        order = list(range(Chem.AddHs(mol).GetNumAtoms()))[::-1]
        mol = Chem.RenumberAtoms(Chem.AddHs(mol), order)
        mol = mol_from_molblock(Chem.MolToMolBlock(mol))
    canonical, mol_h, heavy_map = canonical_order(mol)
    assert Chem.MolToSmiles(mol_h) == Chem.MolToSmiles(Chem.AddHs(Chem.MolFromSmiles(canonical)))
    for atom in mol.GetAtoms():
        target = heavy_map[atom.GetIdx()]
        if target < 0:
            assert atom.GetAtomicNum() == 1 and atom.GetIsotope() == 0
            continue
        twin = mol_h.GetAtomWithIdx(target)
        assert twin.GetSymbol() == atom.GetSymbol()
        assert twin.GetFormalCharge() == atom.GetFormalCharge()
        assert twin.GetIsotope() == atom.GetIsotope()
        assert twin.GetTotalNumHs(includeNeighbors=True) == atom.GetTotalNumHs(
            includeNeighbors=True
        )


def test_documented_index_order_heavy_atoms_then_hydrogens_by_parent() -> None:
    _, mol_h, _ = canonical_order(Chem.MolFromSmiles("OCC"))
    heavy = [a.GetIdx() for a in mol_h.GetAtoms() if a.GetAtomicNum() > 1]
    assert heavy == list(range(len(heavy)))
    parents = [a.GetNeighbors()[0].GetIdx() for a in mol_h.GetAtoms() if a.GetAtomicNum() == 1]
    assert parents == sorted(parents)
    groups = hydrogens_by_heavy_atom(mol_h)
    assert sum(len(h) for h in groups.values()) == mol_h.GetNumAtoms() - len(heavy)


def test_bad_structures_raise_with_reason() -> None:
    with pytest.raises(MoleculeError, match="missing SMILES"):
        mol_from_smiles("N/A")
    with pytest.raises(MoleculeError, match="invalid SMILES"):
        mol_from_smiles("C1CC(")
    with pytest.raises(MoleculeError, match="corrupt molblock"):
        mol_from_molblock("not a molblock\n")
    with pytest.raises(MoleculeError, match="sanitization"):
        mol_from_molblock(PENTAVALENT_CARBON)


@pytest.mark.parametrize(
    ("smiles", "detail"),
    [
        ("C1CC", "unclosed ring"),
        ("CC(", "syntax error at position 3"),
        ("C(C)(C)(C)(C)C", "Explicit valence for atom # 0 C, 5, is greater than permitted"),
        ("c1cccc1", "Can't kekulize mol. Unkekulized atoms: 0 1 2 3 4"),
    ],
)
def test_invalid_smiles_says_what_rdkit_found(smiles: str, detail: str) -> None:
    # the reason stays one category (rejects are counted per reason); the detail says why
    with pytest.raises(MoleculeError) as caught:
        mol_from_smiles(smiles)
    assert str(caught.value) == "invalid SMILES"
    assert caught.value.detail == detail
    assert caught.value.message == f"invalid SMILES: {detail}"


def test_keys() -> None:
    mol = mol_from_smiles("C[C@H](N)C(=O)O")
    key = inchikey(mol)
    assert len(key) == 27 and connectivity_key(key) == key[:14]
    assert connectivity_key(inchikey(mol_from_smiles("C[C@@H](N)C(=O)O"))) == connectivity_key(key)
    assert molecule_key("CCO") == molecule_key("CCO") != molecule_key("OCC")


def test_an_rdkit_without_log_capture_still_gives_the_reason(monkeypatch) -> None:
    monkeypatch.delattr(molecules.rdBase, "CaptureErrorLog", raising=False)
    with pytest.raises(MoleculeError) as caught:
        mol_from_smiles("C1CC")
    assert caught.value.message == "invalid SMILES" and caught.value.detail is None
