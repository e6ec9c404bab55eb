"""The applicability domain: built from training SMILES, JSON round trip, and the reasons a
molecule gets for lying outside it (the cases of issue 14)."""

from __future__ import annotations

import json

import pytest

from litshift.chem.molecules import mol_from_smiles
from litshift.inference.domain import Domain, build_domain, domain_reasons, is_metal

TRAINING = ["CCO", "CCCCO", "c1ccccc1C", "CC(=O)Nc1ccc(O)cc1", "ClCCCl", "CC(C)(C)C"]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return build_domain(TRAINING)


def _reasons(domain: Domain, smiles: str) -> list[str]:
    return domain_reasons(domain, mol_from_smiles(smiles))


def test_domain_summarizes_the_training_molecules(domain) -> None:
    assert domain.molecules == len(TRAINING)
    assert domain.elements == ("C", "Cl", "H", "N", "O")
    assert domain.charges == () and domain.isotopes == () and not domain.radicals
    assert domain.heavy_atoms == (3, 11)
    assert Domain.from_dict(json.loads(json.dumps(domain.to_dict()))) == domain


def test_training_molecules_and_their_kin_are_inside(domain) -> None:
    # "CC": smaller than every training molecule, made of known environments
    for smiles in [*TRAINING, "OCC", "CCCO", "Cc1ccccc1", "CC"]:
        assert _reasons(domain, smiles) == [], smiles


@pytest.mark.parametrize(
    ("smiles", "expected"),
    [
        ("CCCI", ["unseen element I"]),
        ("CC[Si](C)(C)C", ["unseen element Si"]),
        ("[cH-]1cccc1.[cH-]1cccc1.[Fe+2]", ["unseen metal Fe", "unseen charge C-1, Fe+2"]),
        ("C[n+]1ccccc1", ["unseen charge N+1"]),
        ("CC[CH2]", ["radical (training had none)"]),
        ("[13CH3]CO", ["unseen isotope 13C"]),
        ("CC=CCO", ["unseen atom type C(sp2, degree 3, 1 H)", "unseen environment C-0(=C,C)"]),
        ("C1CCCCC1", ["unseen atom type C(sp3, degree 4, 2 H, 6-ring)"]),
        ("CCCCCCCCCCCCCC", ["size 14 heavy atoms (training at most 11)"]),
    ],
)
def test_reasons_name_what_training_lacked(domain, smiles, expected) -> None:
    assert _reasons(domain, smiles) == expected


def test_unseen_environment_of_known_atom_types(domain) -> None:
    """Every atom type of CH2Cl2 occurs in training, but not a carbon bearing two Cl."""
    assert _reasons(domain, "ClCCl") == ["unseen environment C-0(Cl,Cl)"]


def test_metals() -> None:
    assert is_metal(26) and is_metal(3) and is_metal(50)
    assert not any(is_metal(z) for z in (1, 6, 14, 32, 33, 34, 52, 53))
    with pytest.raises(ValueError, match="no training molecules"):
        build_domain([])
