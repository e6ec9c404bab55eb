"""Conformer embedding: atom order, determinism and failure recording on small molecules."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdkit import Chem

from litshift.chem.conformers import (
    FRAGMENT_GAP,
    ConformerError,
    EmbedOptions,
    embed,
    embed_geometry,
    molecule_seed,
)
from litshift.chem.molecules import canonical_order, mol_from_smiles, molecule_key

FAST = EmbedOptions(n_confs=2, keep=2, max_attempts=1)

# Stereocentres, E/Z, formal charges, explicit isotopes and salts (multi-fragment SMILES),
# written in a non-canonical order on purpose.
INPUTS = [
    "OC(=O)[C@@H](N)C",
    "[Na+].[O-]C(=O)/C=C/C",
    "O[C@H](c1ccccc1)C([2H])([2H])[2H]",
    "OC(=O)[13CH3]",
    "[Cl-].OCC[N+](C)(C)C",
    "Cl.N[C@@H](Cc1ccccc1)C(=O)O",
    "[K+].[K+].[O-]S(=O)(=O)[O-]",
]


def _cip(mol: Chem.Mol) -> dict[int, str]:
    """CIP labels of atoms and double bonds, keyed by atom / bond index."""
    labels = {a.GetIdx(): a.GetProp("_CIPCode") for a in mol.GetAtoms() if a.HasProp("_CIPCode")}
    for bond in mol.GetBonds():
        if bond.GetStereo() != Chem.BondStereo.STEREONONE:
            labels[1000 + bond.GetIdx()] = str(bond.GetStereo())
    return labels


def _distance(xyz: np.ndarray, i: int, j: int) -> float:
    return float(np.linalg.norm(xyz[i] - xyz[j]))


@pytest.mark.parametrize("text", INPUTS)
def test_coordinates_follow_litshift_atom_order(text: str) -> None:
    """Labels indexed through canonical_order land on atoms of the same element, bonded
    atoms sit at bond length, and the 3D structure has the stereo of the SMILES."""
    mol = mol_from_smiles(text)
    smiles, mol_h, heavy_map = canonical_order(mol)
    result = embed(smiles, FAST)
    assert result.ok, result.error
    # The HCl of a hydrochloride has no MMFF94 type: that fragment needs UFF.
    assert result.method == ("ETKDG+UFF" if text.startswith("Cl.") else "ETKDG+MMFF")
    assert result.atomic_numbers.tolist() == [a.GetAtomicNum() for a in mol_h.GetAtoms()]
    assert result.coords.shape == (2, mol_h.GetNumAtoms(), 3)
    assert result.coords.dtype == np.float32
    assert np.all(np.diff(result.energy) >= 0)  # lowest energy first
    for xyz in result.coords:
        for bond in mol.GetBonds():  # the input's own bonds, mapped through heavy_map
            i, j = heavy_map[bond.GetBeginAtomIdx()], heavy_map[bond.GetEndAtomIdx()]
            assert 0.9 < _distance(xyz, i, j) < 2.0
        for atom in mol.GetAtoms():
            assert mol_h.GetAtomWithIdx(heavy_map[atom.GetIdx()]).GetAtomicNum() == (
                atom.GetAtomicNum()
            )
        for bond in mol_h.GetBonds():
            assert 0.9 < _distance(xyz, bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()) < 2.0
        placed = Chem.Mol(mol_h)
        conformer = Chem.Conformer(placed.GetNumAtoms())
        for index, point in enumerate(xyz.astype(float)):
            conformer.SetAtomPosition(index, point.tolist())
        placed.AddConformer(conformer, assignId=True)
        Chem.AssignStereochemistryFrom3D(placed)
        reference = Chem.Mol(mol_h)
        Chem.AssignStereochemistry(reference, cleanIt=True, force=True)
        assert _cip(placed) == _cip(reference)


def test_isotopes_keep_their_element() -> None:
    result = embed("[2H]C([2H])([2H])O", FAST)
    assert result.atomic_numbers.tolist() == [1, 6, 1, 1, 8, 1]


def test_salt_fragments_are_embedded_apart() -> None:
    smiles = Chem.CanonSmiles("[Na+].[O-]C(=O)c1ccccc1")
    result = embed(smiles, FAST)
    assert result.ok
    fragments = Chem.GetMolFrags(Chem.AddHs(Chem.MolFromSmiles(smiles)))
    assert len(fragments) == 2
    for xyz in result.coords:
        a, b = (xyz[list(atoms)] for atoms in fragments)
        gaps = np.linalg.norm(a[:, None] - b[None], axis=-1)
        assert gaps.min() >= FRAGMENT_GAP - 1e-3


def test_same_seed_same_coordinates_other_seed_other_coordinates() -> None:
    smiles = Chem.CanonSmiles("CCCCC(CC)COC(=O)c1ccccc1")
    first, again = embed(smiles, FAST), embed(smiles, FAST)
    assert first.seed == again.seed
    np.testing.assert_array_equal(first.coords, again.coords)
    np.testing.assert_array_equal(first.energy, again.energy)
    other = embed(smiles, EmbedOptions(n_confs=2, keep=2, max_attempts=1, seed=99))
    assert not np.array_equal(first.coords, other.coords)


def test_limits_do_not_change_successful_coordinates() -> None:
    smiles = Chem.CanonSmiles("CC(C)Cc1ccc(C(C)C(=O)O)cc1")
    tight = embed(smiles, EmbedOptions(timeout_s=2, max_atoms=40))
    loose = embed(smiles, EmbedOptions(timeout_s=60, max_atoms=500))
    np.testing.assert_array_equal(tight.coords, loose.coords)
    assert tight.ok
    assert EmbedOptions(timeout_s=2, max_atoms=40).digest() == EmbedOptions().digest()
    assert EmbedOptions(n_confs=3).digest() != EmbedOptions().digest()


@pytest.mark.parametrize(
    ("smiles", "options", "status"),
    [
        ("C1CC", FAST, "invalid_smiles"),
        ("*CC(=O)O", FAST, "unsupported_element"),
        ("C[U](C)C", FAST, "no_force_field"),
        ("CCCCCCCCCC", EmbedOptions(max_atoms=20), "too_many_atoms"),
        # Norbornane with both bridgeheads drawn the same way cannot exist in 3D. RDKit gives up
        # after its own iterations; a time limit far beyond them keeps a loaded machine from
        # turning the verdict into "timeout".
        ("C1C[C@H]2CC[C@H]1C2", replace(FAST, timeout_s=600), "embed_failed"),
    ],
)
def test_failures_are_recorded_without_coordinates(
    smiles: str, options: EmbedOptions, status: str
) -> None:
    result = embed(smiles, options)
    assert result.status == status
    assert result.error
    assert result.method == "failed"
    assert result.coords.shape[0] == 0 and result.energy.size == 0
    row = result.to_row()
    assert row["coords"] == [] and row["status"] == status


def _amylose(n_units: int) -> str:
    """A linear chain of glucose units (213 atoms for 10): ETKDG needs minutes for it."""
    chain = "{}"
    for unit in range(n_units):
        ring = f"%{unit + 10}"
        chain = chain.format(f"[C@@H]{ring}O[C@H](CO)[C@@H](O{{}})[C@H](O)[C@H]{ring}O")
    return Chem.CanonSmiles("O" + chain.format(""))


def test_timeout_is_a_recorded_failure() -> None:
    options = EmbedOptions(timeout_s=1, max_attempts=2, max_atoms=300)
    result = embed(_amylose(10), options)
    assert result.status == "timeout"
    assert result.method == "failed" and result.coords.shape[0] == 0
    assert result.seconds < 10


def test_embed_geometry_raises_with_the_reason() -> None:
    geometry = embed_geometry("CCO")
    assert geometry.coords.shape == (9, 3)
    assert geometry.atomic_numbers.tolist() == [6, 6, 8, 1, 1, 1, 1, 1, 1]
    with pytest.raises(ConformerError, match="unsupported_element"):
        embed_geometry("*C")


def test_invalid_options_are_refused() -> None:
    with pytest.raises(ValueError, match="keep"):
        EmbedOptions(n_confs=1, keep=2)
    with pytest.raises(ValueError, match="force_fields"):
        EmbedOptions(force_fields=("GAFF",))
    options = EmbedOptions.from_mapping({"n_confs": 3, "force_fields": ["UFF"], "n_shards": 4})
    assert options.n_confs == 3 and options.force_fields == ("UFF",)


@given(seed=st.integers(0, 2**40), key=st.binary(min_size=10, max_size=10).map(bytes.hex))
def test_molecule_seed_is_a_valid_rdkit_seed(seed: int, key: str) -> None:
    value = molecule_seed(seed, key)
    assert 0 <= value < 2**31
    assert value == molecule_seed(seed, key)


def test_default_key_is_the_molecule_key() -> None:
    smiles = Chem.CanonSmiles("OCC")
    assert embed(smiles, FAST).key == molecule_key(smiles)
