"""Decoy benchmark pieces: cases from both test sets, line-ups, rows and top-k accuracy."""

from __future__ import annotations

from collections import Counter

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
from rdkit import Chem

from litshift.chem.conformers import embed_geometry
from litshift.chem.molecules import molecule_key
from litshift.chem.symmetry import element_classes
from litshift.data.datasets import LabeledExample
from litshift.evaluate.scoring import LITERATURE_TEST
from litshift.evaluate.testsets import AssignedItem
from litshift.inference.uncertainty import ShiftDistribution
from litshift.verify.benchmark import (
    accuracy_table,
    assigned_cases,
    benchmark_rows,
    build_lineups,
    literature_cases,
    sample_cases,
)
from litshift.verify.decoys import formula_index
from litshift.verify.likelihood import ErrorModel

NUCLEI = ("1H", "13C")
TRUE = "CC(=O)Nc1ccc(O)cc1"
MATES = ["COc1ccc(N)cc1C=O", "NC(=O)Cc1ccc(O)cc1", "CC(=O)Oc1ccc(N)cc1", "COC(=O)c1ccc(N)cc1"]


def _example(smiles: str) -> LabeledExample:
    mol_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
    n = mol_h.GetNumAtoms()
    targets = np.zeros((n, 2), dtype=np.float32)
    mask = np.zeros((n, 2), dtype=bool)
    for k, z in enumerate((1, 6)):
        for i, group in enumerate(element_classes(mol_h, z)):
            targets[group, k] = 2.0 + i if z == 1 else 20.0 + 10 * i
            mask[group[:1], k] = True  # one labelled atom per class is enough for a peak
    return LabeledExample(
        key=molecule_key(smiles),
        smiles=smiles,
        atomic_numbers=np.array([a.GetAtomicNum() for a in mol_h.GetAtoms()]),
        coords=np.zeros((n, 3), dtype=np.float32),
        solvent_class=0,
        targets=targets,
        mask=mask,
    )


def test_cases_from_both_test_sets() -> None:
    (case,) = assigned_cases([AssignedItem(_example(TRUE), "CDCl3")], NUCLEI)
    mol_h = Chem.AddHs(Chem.MolFromSmiles(TRUE))
    assert len(case.peaks["13C"].shifts) == len(element_classes(mol_h, 6))
    assert case.peaks["1H"].shifts[:2] == (2.0, 3.0)
    literature = pa.Table.from_pylist(
        [
            {
                "record_id": "t:1",
                "smiles": TRUE,
                "nucleus": "1H",
                "solvent": "DMSO-d6",
                "solvent_class": "DMSO-d6",
                "shifts": [9.6, 7.3, 6.7, 2.0],
                "n_h": [1, 2, 2, 3],
            },
            {
                "record_id": "t:1",
                "smiles": TRUE,
                "nucleus": "13C",
                "solvent": "DMSO-d6",
                "solvent_class": "DMSO-d6",
                "shifts": [167.5, 153.0, 131.0, 120.8, 115.0, 23.8],
                "n_h": None,
            },
            {
                "record_id": "t:2",
                "smiles": TRUE,
                "nucleus": "19F",
                "solvent": "CDCl3",
                "solvent_class": "CDCl3",
                "shifts": [-63.0],
                "n_h": None,
            },
        ]
    )
    cases = literature_cases(literature, NUCLEI)
    assert [c.case_id for c in cases] == ["t:1/DMSO-d6"]
    assert cases[0].split == LITERATURE_TEST and set(cases[0].peaks) == {"1H", "13C"}
    assert cases[0].peaks["1H"].n_h == (1, 2, 2, 3)
    shuffled = sample_cases([*cases, case], seed=1)
    assert shuffled == sample_cases([case, *cases], seed=1)


def _fake_distribution(smiles: str, exact: LabeledExample | None) -> ShiftDistribution:
    """Exact predictions for the true structure, class-wise offsets for decoys."""
    mol_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
    mean = np.full((mol_h.GetNumAtoms(), 2), np.nan)
    for k, z in enumerate((1, 6)):
        for i, group in enumerate(element_classes(mol_h, z)):
            if exact is not None:
                mean[group, k] = exact.targets[group[0], k]
            else:
                mean[group, k] = (1.5 + 0.7 * i) if z == 1 else (25.0 + 13 * i)
    return ShiftDistribution(mean, np.where(np.isnan(mean), np.nan, 0.5))


def test_lineups_rows_and_accuracy() -> None:
    example = _example(TRUE)
    cases = assigned_cases([AssignedItem(example, "CDCl3")], NUCLEI)
    counts: Counter[str] = Counter()
    lineups = build_lineups(
        cases,
        formula_index([TRUE, *MATES]),
        {},
        embed_geometry,
        200,
        n_decoys=5,
        n_positional=1,
        min_decoys=3,
        seed=0,
        counts=counts,
    )
    (lineup,) = lineups
    assert lineup.kinds[0] == "true" and len(lineup.candidates) == 6
    assert counts["cases.assigned_test"] == 1
    too_strict = build_lineups(
        cases, {}, {}, embed_geometry, 200, 5, 1, min_decoys=5, seed=0, counts=Counter()
    )
    assert too_strict == []
    distributions = [
        _fake_distribution(s, example if kind == "true" else None)
        for s, kind in zip(lineup.candidates, lineup.kinds, strict=True)
    ]
    rows = benchmark_rows("fake", lineups, distributions, NUCLEI, ErrorModel(), "litshift")
    frame = pl.DataFrame(rows)
    assert set(frame["nuclei"]) == {"1H", "13C", "1H+13C"}
    assert frame.height == 3 * len(lineup.candidates)
    true = frame.filter(pl.col("kind") == "true")
    assert true["rank"].to_list() == [1, 1, 1]
    for _, group in frame.group_by("nuclei"):
        assert group["probability"].sum() == pytest.approx(1.0)
    accuracy = accuracy_table(frame)
    assert set(accuracy["split"]) == {"all", "assigned_test"}
    assert accuracy["top1"].to_list() == [1.0] * accuracy.height
    assert accuracy["n_cases"].to_list() == [1] * accuracy.height
