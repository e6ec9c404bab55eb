"""The held-out data every predictor is scored on, built with the training code's own rules.

- **Assigned test**: the split's test molecules. One item per (molecule, *fine* solvent) whose
  per-atom label is the mean over that solvent's spectra. The trainer averages per solvent
  class; the finer unit is identical for CDCl3 and DMSO-d6 and lets the report break errors
  down by solvent. Items are built by :func:`litshift.data.datasets.build_labeled` on one
  solvent at a time, so label checks and conformer handling are exactly the trainer's.
- **Literature test**: literature records held out by the split (their connectivity key is in
  no training set), one item per record and nucleus, matched to atom groups by
  :func:`litshift.chem.matching.plan_match` with the training count-mismatch policy (through
  :func:`litshift.data.datasets.build_weak`, without the weak-training filters: a test set is
  scored on whatever can be matched).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from litshift.chem.matching import MatchPlan
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.data.datasets import Conformers, LabeledExample, Structure, build_labeled, build_weak
from litshift.data.weak_filters import WeakFilters

__all__ = [
    "AssignedItem",
    "LiteratureItem",
    "TestSets",
    "assigned_items",
    "calibration_items",
    "hose_training_examples",
    "load_test_sets",
    "split_rows",
]

#: a test set is scored on everything that can be matched
NO_FILTERS = WeakFilters(max_atoms=None, elements=None, max_stereocentres=None, windows=None)


@dataclass(slots=True)
class AssignedItem:
    """One assigned test molecule in one solvent."""

    example: LabeledExample
    """Structure, per-atom labels (``N x K``, the evaluated nuclei) and mask."""
    solvent: str
    """Canonical fine solvent."""

    @property
    def structure(self) -> Structure:
        return self.example

    @property
    def solvent_class(self) -> str:
        return SOLVENT_CLASSES[self.example.solvent_class]


@dataclass(slots=True)
class LiteratureItem:
    """One held-out literature peak list, already matched to atom groups."""

    structure: Structure
    record_id: str
    """``<literature record id>/<solvent>`` (``#k`` appended for a k-th list of the same)."""
    solvent: str
    nucleus: str
    plan: MatchPlan

    @property
    def solvent_class(self) -> str:
        return SOLVENT_CLASSES[self.structure.solvent_class]


@dataclass(slots=True)
class TestSets:
    nuclei: tuple[str, ...]
    """Evaluated nuclei: the column order of labels and predictions."""
    assigned: list[AssignedItem]
    literature: list[LiteratureItem]


def split_rows(assigned: pa.Table, splits: pa.Table, split: str) -> pa.Table:
    """Rows of ``assigned`` whose connectivity key belongs to ``split``."""
    keys = splits.filter(pc.equal(splits["split"], split))["connectivity_key"]
    connectivity = pc.utf8_slice_codeunits(assigned["inchikey"], 0, 14)
    return assigned.filter(pc.is_in(connectivity, value_set=keys))


def assigned_items(
    assigned: pa.Table,
    splits: pa.Table,
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
    counts: Counter[str],
    split: str = "test",
) -> list[AssignedItem]:
    """One item per (molecule of ``split``, fine solvent); counts go to ``assigned_<split>.*``
    (the validation items are what the uncertainty is calibrated on)."""
    rows_of_split = split_rows(assigned, splits, split)
    items = []
    for solvent in sorted(set(rows_of_split["solvent"].to_pylist())):
        rows = rows_of_split.filter(pc.equal(rows_of_split["solvent"], solvent))
        examples, built = build_labeled(rows, splits, conformers, nuclei, max_atoms)
        counts.update(
            {f"assigned_{split}.{k.removeprefix('labeled.')}": v for k, v in built.items()}
        )
        items += [AssignedItem(example, solvent) for example in examples[split]]
    return items


def calibration_items(
    assigned: pa.Table,
    splits: pa.Table,
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
    counts: Counter[str],
    limit: int,
    seed: int,
) -> list[AssignedItem]:
    """Validation items the predictive std is calibrated on: all, or a seeded sample of
    ``limit`` (0 = all) kept in split order, so evaluate and the verify benchmark agree."""
    valid = assigned_items(assigned, splits, conformers, nuclei, max_atoms, counts, "valid")
    if 0 < limit < len(valid):
        picks = np.random.default_rng(seed).permutation(len(valid))
        valid = [valid[i] for i in sorted(picks[:limit])]
    return valid


def _literature_items(
    literature: pa.Table,
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
    policy: str,
    counts: Counter[str],
) -> list[LiteratureItem]:
    items = []
    seen: Counter[tuple[str, str]] = Counter()
    for row in range(literature.num_rows):
        record = literature.slice(row, 1)
        examples, built = build_weak(record, conformers, nuclei, max_atoms, policy, NO_FILTERS)
        counts.update(
            {
                f"literature_test.{k.removeprefix('weak.')}": v
                for k, v in built.items()
                if k != "weak.examples"
            }
        )
        for example in examples:
            for nucleus, plan in zip(nuclei, example.plans, strict=True):
                if plan is None:
                    continue
                structure = Structure(
                    key=example.key,
                    smiles=example.smiles,
                    atomic_numbers=example.atomic_numbers,
                    coords=example.coords,
                    solvent_class=example.solvent_class,
                )
                # a record can list one compound in two solvents (or twice): one unit each
                unit = f"{record['record_id'][0].as_py()}/{record['solvent'][0].as_py()}"
                seen[(unit, nucleus)] += 1
                if seen[(unit, nucleus)] > 1:
                    unit += f"#{seen[(unit, nucleus)]}"
                items.append(
                    LiteratureItem(
                        structure=structure,
                        record_id=unit,
                        solvent=record["solvent"][0].as_py(),
                        nucleus=nucleus,
                        plan=plan,
                    )
                )
    counts["literature_test.items"] = len(items)
    return items


def load_test_sets(
    assigned: pa.Table,
    splits: pa.Table,
    literature: pa.Table,
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
    policy: str,
) -> tuple[TestSets, Counter[str]]:
    """Build both test sets.

    Parameters
    ----------
    assigned, splits, literature
        Tables of schema ``assigned``, ``splits`` and ``weak`` (the literature test set).
    conformers
        :data:`litshift.data.datasets.Conformers` of the test molecules.
    nuclei
        Evaluated nuclei.
    max_atoms
        Largest molecule every evaluated model accepts.
    policy
        Count-mismatch policy of the molecule-level score (the training one).

    Returns
    -------
    tests, counts
        The test sets and every keep/skip count (``assigned_test.*``, ``literature_test.*``).
    """
    counts: Counter[str] = Counter()
    tests = TestSets(
        nuclei=tuple(nuclei),
        assigned=assigned_items(assigned, splits, conformers, nuclei, max_atoms, counts),
        literature=_literature_items(literature, conformers, nuclei, max_atoms, policy, counts),
    )
    return tests, counts


def hose_training_examples(
    assigned: pa.Table, splits: pa.Table, nuclei: Sequence[str]
) -> list[tuple[str, str, list[tuple[int, float]]]]:
    """``(smiles, nucleus, [(atom, shift), ...])`` of every training-split spectrum, the input
    of :meth:`litshift.chem.hose.HoseModel.fit`."""
    train = split_rows(assigned, splits, "train").select(["smiles", "nucleus", "labels"])
    return [
        (row["smiles"], row["nucleus"], [(x["atom_index"], x["shift"]) for x in row["labels"]])
        for row in train.to_pylist()
        if row["nucleus"] in nuclei
    ]
