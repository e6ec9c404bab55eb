"""Atom-level labels hidden in molecule-level shift sets.

An unassigned shift set only constrains the atoms of its element as a whole (the sorted
matching of ``L_mol``), unless its peaks can be told apart by the topological symmetry classes
of those atoms (:func:`litshift.chem.symmetry.element_classes`). Then the set is an
assignment in disguise and every atom gets its own label:

- ``single_class``: all atoms of the element are equivalent (the one P of most
  organophosphorus compounds, the F atoms of a lone CF3 group) and the set has one distinct
  shift, however often it is listed;
- ``class_sizes``: as many distinct shifts as classes, no two classes of the same size, and
  each shift listed as often as the size of one class (NMRShiftDB2 lists one entry per atom;
  literature lists give the number of nuclei, ``3F``), so that counting alone pairs them:
  CHF2-O-CF3 lists -86.1 twice and -58.0 three times.

Everything else stays molecule-level, with the reason: one class but different shifts
(diastereotopic F of a CF2 group, an impurity), equal class sizes (two different CF3 groups),
or counts that fit no class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from rdkit import Chem

from litshift.chem.molecules import MoleculeError, mol_from_smiles
from litshift.chem.nuclei import element_of
from litshift.chem.symmetry import element_classes

__all__ = [
    "AMBIGUOUS_REASONS",
    "BRANCHES",
    "Ambiguous",
    "AtomLabels",
    "atom_level_examples",
    "read_atom_labels",
    "unambiguous_labels",
]

BRANCHES: tuple[str, ...] = ("single_class", "class_sizes")
AMBIGUOUS_REASONS: tuple[str, ...] = (
    "no_peaks",
    "no_atoms_of_element",
    "shifts_differ_within_class",
    "peaks_differ_from_classes",
    "equal_class_sizes",
    "counts_differ_from_class_sizes",
    "invalid_smiles",
)

#: decimals below which two listed shifts are the same peak (NMRShiftDB2 repeats the value)
_DECIMALS = 6


class AtomLabels(NamedTuple):
    """The set read as atom-level labels."""

    branch: str
    """Which rule made it unambiguous (one of :data:`BRANCHES`)."""
    labels: list[tuple[int, float]]
    """``(atom_index, shift)`` for every atom of the element, litshift order, sorted."""


class Ambiguous(NamedTuple):
    """Why the set stays molecule-level (one of :data:`AMBIGUOUS_REASONS`)."""

    reason: str


def unambiguous_labels(
    mol_h: Chem.Mol,
    nucleus: str,
    shifts: Sequence[float],
    counts: Sequence[int | None] | None = None,
) -> AtomLabels | Ambiguous:
    """Atom-level labels of a molecule-level set, when its peaks map onto atoms unambiguously.

    Parameters
    ----------
    mol_h
        Molecule with explicit hydrogens in litshift atom order.
    nucleus
        ``"31P"``, ``"19F"``, ... (the element is taken from the name).
    shifts
        The set as listed (ppm); a value listed several times is one peak of that many nuclei.
    counts
        Nuclei per listed shift where reported (literature ``3F``), ``None`` entries or
        ``None``: the entry stands for one nucleus.
    """
    if not shifts:
        return Ambiguous("no_peaks")
    atomic_number = Chem.GetPeriodicTable().GetAtomicNumber(element_of(nucleus))
    classes = element_classes(mol_h, atomic_number)
    if not classes:
        return Ambiguous("no_atoms_of_element")
    weights = counts if counts is not None else [None] * len(shifts)
    peaks: Counter[float] = Counter()
    for shift, count in zip(shifts, weights, strict=True):
        peaks[round(float(shift), _DECIMALS)] += 1 if count is None else count
    if len(classes) == 1:
        if len(peaks) > 1:
            return Ambiguous("shifts_differ_within_class")
        shift = next(iter(peaks))
        return AtomLabels("single_class", [(atom, shift) for atom in sorted(classes[0])])
    if len(peaks) != len(classes):
        return Ambiguous("peaks_differ_from_classes")
    by_size = {len(atoms): atoms for atoms in classes}
    if len(by_size) < len(classes):
        return Ambiguous("equal_class_sizes")
    if sorted(peaks.values()) != sorted(by_size):
        return Ambiguous("counts_differ_from_class_sizes")
    labels = [(atom, shift) for shift, size in peaks.items() for atom in by_size[size]]
    return AtomLabels("class_sizes", sorted(labels))


def read_atom_labels(
    rows: Sequence[dict], nuclei: Sequence[str]
) -> Iterator[tuple[int, AtomLabels | Ambiguous]]:
    """``(row index, labels or why not)`` for every row of ``nuclei`` among weak-table rows.

    ``rows`` are dicts with the ``smiles``, ``nucleus``, ``shifts`` and ``n_h`` columns of a
    ``weak`` table; each SMILES is parsed once.
    """
    mols: dict[str, Chem.Mol | None] = {}
    for i, row in enumerate(rows):
        smiles = row["smiles"]
        if row["nucleus"] not in nuclei:
            continue
        if smiles not in mols:
            try:
                mols[smiles] = Chem.AddHs(mol_from_smiles(smiles))
            except MoleculeError:
                mols[smiles] = None
        mol_h = mols[smiles]
        if mol_h is None:
            yield i, Ambiguous("invalid_smiles")
            continue
        yield i, unambiguous_labels(mol_h, row["nucleus"], row["shifts"], row.get("n_h"))


def atom_level_examples(
    rows: Sequence[dict], nuclei: Sequence[str]
) -> tuple[list[tuple[str, str, list[tuple[int, float]]]], Counter[str]]:
    """The unambiguous sets among weak rows, as ``(smiles, nucleus, labels)`` examples.

    ``rows`` as in :func:`read_atom_labels`; rows of other nuclei are ignored. Counts are
    ``<nucleus>.<branch or reason>`` per row and ``<nucleus>.molecules_unambiguous`` (distinct
    SMILES with at least one unambiguous set). The examples are the input of
    :meth:`litshift.chem.hose.HoseModel.fit`.
    """
    counts: Counter[str] = Counter()
    examples: list[tuple[str, str, list[tuple[int, float]]]] = []
    molecules: set[tuple[str, str]] = set()
    for i, result in read_atom_labels(rows, nuclei):
        nucleus, smiles = rows[i]["nucleus"], rows[i]["smiles"]
        if isinstance(result, Ambiguous):
            counts[f"{nucleus}.{result.reason}"] += 1
            continue
        counts[f"{nucleus}.{result.branch}"] += 1
        molecules.add((nucleus, smiles))
        examples.append((smiles, nucleus, result.labels))
    counts.update(f"{nucleus}.molecules_unambiguous" for nucleus, _ in molecules)
    return examples, counts
