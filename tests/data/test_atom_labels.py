"""Atom-level labels of molecule-level sets, on real NMRShiftDB2 19F/31P records."""

from __future__ import annotations

import json

import pytest
from rdkit import Chem

from litshift.data.atom_labels import Ambiguous, AtomLabels, atom_level_examples, unambiguous_labels
from litshift.ingest.nmrshiftdb2 import parse_spectrum, spectrum_tags
from tests.conftest import head_jsonl


@pytest.fixture(scope="module")
def records() -> dict[int, tuple[str, dict[str, list[float]]]]:
    """nmrshiftdb2 ID -> (SMILES, nucleus -> shifts as listed) of the first records."""
    out = {}
    for line in head_jsonl(3300):
        record = json.loads(line)
        spectra = {n: [p.shift for p in parse_spectrum(v)] for n, _, v in spectrum_tags(record)}
        out[record.get("nmrshiftdb2 ID")] = (record["SMILES"], spectra)
    return out


def labels_of(records, record_id: int, nucleus: str = "19F") -> AtomLabels | Ambiguous:
    smiles, spectra = records[record_id]
    return unambiguous_labels(Chem.AddHs(Chem.MolFromSmiles(smiles)), nucleus, spectra[nucleus])


def test_one_class_takes_the_one_shift(records) -> None:
    # 4-(trifluoromethyl)resorcinol: the three F atoms of the CF3 group, listed once each
    assert labels_of(records, 60016177) == AtomLabels(
        "single_class", [(6, -60.99), (7, -60.99), (8, -60.99)]
    )


def test_class_sizes_tell_the_peaks_apart(records) -> None:
    # CHF2-O-CF3: -86.08 listed twice, -58.04 three times
    assert labels_of(records, 60008606) == AtomLabels(
        "class_sizes", [(0, -86.08), (2, -86.08), (5, -58.04), (6, -58.04), (7, -58.04)]
    )
    # CH3O-CHF-CF3: one F and a CF3
    result = labels_of(records, 60007543)
    assert result.branch == "class_sizes" and result.labels[0] == (3, -145.0)


def test_what_stays_molecule_level(records) -> None:
    # CF3-CH2-CF2-CF3: two different CF3 groups of the same size
    assert labels_of(records, 60010009) == Ambiguous("equal_class_sizes")
    # a perfluorinated sultone: AB-coupled CF2 fluorines listed with two shifts each
    assert labels_of(records, 60007695) == Ambiguous("peaks_differ_from_classes")
    cf2 = Chem.AddHs(Chem.MolFromSmiles("CC(O)C(C)(F)F"))  # diastereotopic F, one class
    assert unambiguous_labels(cf2, "19F", [-110.2, -115.8]) == Ambiguous(
        "shifts_differ_within_class"
    )
    assert unambiguous_labels(cf2, "31P", [20.0]) == Ambiguous("no_atoms_of_element")
    assert unambiguous_labels(cf2, "19F", []) == Ambiguous("no_peaks")


def test_literature_counts_stand_for_the_atoms() -> None:
    mol_h = Chem.AddHs(Chem.MolFromSmiles("FC(F)(F)c1ccc(F)cc1"))
    counted = unambiguous_labels(mol_h, "19F", [-62.9, -106.8], [3, 1])
    assert counted.branch == "class_sizes"
    assert sorted({s for _, s in counted.labels}) == [-106.8, -62.9]
    assert unambiguous_labels(mol_h, "19F", [-62.9, -106.8]) == Ambiguous(
        "counts_differ_from_class_sizes"
    )


def test_every_31p_set_of_the_sample_is_one_phosphorus(records) -> None:
    rows = [
        {"smiles": smiles, "nucleus": n, "shifts": shifts, "n_h": None}
        for smiles, spectra in records.values()
        for n, shifts in spectra.items()
        if n in ("31P", "19F")
    ]
    examples, counts = atom_level_examples(rows, ["31P"])
    n_31p = sum(r["nucleus"] == "31P" for r in rows)
    assert n_31p > 500 and counts["31P.single_class"] == len(examples) == n_31p
    assert all(len(labels) == 1 for _, _, labels in examples)
    assert counts["31P.molecules_unambiguous"] == len({s for s, _, _ in examples})
    _, fluorine = atom_level_examples(rows, ["19F"])
    assert fluorine["19F.single_class"] and fluorine["19F.class_sizes"]
    assert fluorine["19F.equal_class_sizes"]
