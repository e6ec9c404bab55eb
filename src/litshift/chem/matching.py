"""Count-mismatch policy: how an unassigned peak list is paired with a molecule's atoms.

The sorted matching loss needs as many pooled predictions as observed shifts. Real peak lists
rarely have one peak per atom, so :func:`plan_match` decides, per molecule and nucleus, which
atom *groups* (whose predictions are averaged) stand against the peaks, or skips the molecule
with a short, stable reason the trainer counts. The full policy with examples is in
``docs/matching_policy.md``.

Policy ``"litshift"`` (default), first rule that fits wins:

1H with an integration for every peak (``n_h``), peaks repeated ``n_h`` times:
  ``nh_expanded``                      expanded count = number of H; one H per group.
  ``nh_expanded_no_exchangeable``      expanded count = number of H not on N/O/S (OH/NH/SH
                                       peaks are often missing: broad or exchanged away).
Then, for both nuclei, on the peak count as given:
  ``exact``                            one peak per atom.
  ``no_exchangeable``                  (1H) one peak per non-exchangeable H.
  ``symmetry_classes``                 one peak per topological symmetry class; predictions of
                                       a class are averaged (13C: symmetric carbons share a peak;
                                       1H: CH3 and equivalent aromatic H share a peak).
  ``symmetry_classes_no_exchangeable`` (1H) the same, exchangeable classes left out.
  ``heavy_atom_groups``                (1H) one peak per H-bearing heavy atom (NMRShiftDB2's 1H
                                       convention: diastereotopic CH2 protons share the entry).
  ``heavy_atom_groups_no_exchangeable`` (1H) the same on C-H (and other non-N/O/S) atoms only.
Otherwise skip: ``more_peaks_than_atoms``, ``fewer_peaks_than_classes``,
``count_between_classes_and_atoms`` or, when integrations were given but fit no rule,
``integration_count_mismatch``. Inputs that cannot be matched at all skip with ``no_peaks``,
``non_finite_shift``, ``no_atoms_of_element`` or ``n_h_length_mismatch``.

Policy ``"paper"`` (the published recipe, kept for the comparison): 1H peaks are expanded by
``n_h`` when every peak has one, and the (expanded) count must equal the number of H
(``nh_expanded``/``exact``); a 13C list must have one peak per symmetry class, matched to one
representative carbon per class (``symmetry_representative``), or one peak per carbon
(``exact``, which satisfies the paper's count rule literally). Anything else: ``count_mismatch``.

Integrations are ignored for 13C. Symmetry is topological (:mod:`litshift.chem.symmetry`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from rdkit import Chem

from litshift.chem.nuclei import element_of
from litshift.chem.symmetry import exchangeable_hydrogens, symmetry_classes

__all__ = ["POLICIES", "BRANCHES", "SKIP_REASONS", "MatchPlan", "MatchSkip", "plan_match"]

POLICIES: tuple[str, ...] = ("litshift", "paper")
BRANCHES: tuple[str, ...] = (
    "nh_expanded",
    "nh_expanded_no_exchangeable",
    "exact",
    "no_exchangeable",
    "symmetry_classes",
    "symmetry_classes_no_exchangeable",
    "heavy_atom_groups",
    "heavy_atom_groups_no_exchangeable",
    "symmetry_representative",
)
SKIP_REASONS: tuple[str, ...] = (
    "no_peaks",
    "non_finite_shift",
    "no_atoms_of_element",
    "n_h_length_mismatch",
    "integration_count_mismatch",
    "more_peaks_than_atoms",
    "fewer_peaks_than_classes",
    "count_between_classes_and_atoms",
    "count_mismatch",
)


@dataclass(slots=True)
class MatchPlan:
    """Atom groups paired (by sorting) with observed shifts of one molecule and nucleus."""

    branch: str
    """Which rule matched (one of :data:`BRANCHES`)."""
    groups: list[list[int]]
    """Atom indices (litshift order) whose predictions are averaged into one value."""
    targets: list[float]
    """Observed shifts (ppm), ``len(targets) == len(groups)``; order carries no meaning."""


class MatchSkip(NamedTuple):
    """Why a peak list is not used (one of :data:`SKIP_REASONS`)."""

    reason: str


def _group_by(atoms: list[int], key: Sequence[int]) -> list[list[int]]:
    """Partition ``atoms`` by ``key[atom]``, groups ordered by their first atom."""
    groups: dict[int, list[int]] = {}
    for atom in atoms:
        groups.setdefault(int(key[atom]), []).append(atom)
    return list(groups.values())


def _candidates(mol_h: Chem.Mol, atomic_number: int) -> list[tuple[str, list[list[int]]]]:
    """Groupings of the element's atoms in priority order, for peak lists as given."""
    atoms = [a.GetIdx() for a in mol_h.GetAtoms() if a.GetAtomicNum() == atomic_number]
    classes = symmetry_classes(mol_h)
    candidates = [("exact", [[i] for i in atoms])]
    if atomic_number != 1:
        return [*candidates, ("symmetry_classes", _group_by(atoms, classes))]
    exchangeable = exchangeable_hydrogens(mol_h)
    fixed = [i for i in atoms if i not in exchangeable]
    parent = [
        a.GetNeighbors()[0].GetIdx() if a.GetDegree() == 1 else -1 - a.GetIdx()
        for a in mol_h.GetAtoms()
    ]  # bare or bridging H: its own group
    candidates += [
        ("no_exchangeable", [[i] for i in fixed]),
        ("symmetry_classes", _group_by(atoms, classes)),
        ("symmetry_classes_no_exchangeable", _group_by(fixed, classes)),
        ("heavy_atom_groups", _group_by(atoms, parent)),
        ("heavy_atom_groups_no_exchangeable", _group_by(fixed, parent)),
    ]
    # "no exchangeable" variants only differ from the plain ones when exchangeable H exist.
    return [c for c in candidates if exchangeable or "no_exchangeable" not in c[0]]


def _first_fit(
    candidates: list[tuple[str, list[list[int]]]], targets: list[float], rename: dict[str, str]
) -> MatchPlan | None:
    """The first candidate grouping with one group per target, named after ``rename``."""
    for branch, groups in candidates:
        if groups and len(groups) == len(targets):
            return MatchPlan(rename.get(branch, branch), groups, targets)
    return None


def plan_match(
    mol_h: Chem.Mol,
    nucleus: str,
    shifts: Sequence[float],
    n_h: Sequence[int | None] | None,
    policy: str = "litshift",
) -> MatchPlan | MatchSkip:
    """Pair an unassigned peak list with atom groups of ``mol_h`` (see the module docstring).

    Parameters
    ----------
    mol_h
        Molecule with explicit hydrogens in litshift atom order.
    nucleus
        ``"1H"``, ``"13C"``, ... (element taken from the name).
    shifts
        Observed peak positions (ppm), one per reported peak.
    n_h
        Integration (number of H) per peak, ``None`` entries where not reported, or ``None``.
    policy
        ``"litshift"`` or ``"paper"``.

    Returns
    -------
    MatchPlan | MatchSkip
        The plan, or the reason the molecule is skipped for this nucleus.
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown matching policy {policy!r}; choose from {POLICIES}")
    atomic_number = Chem.GetPeriodicTable().GetAtomicNumber(element_of(nucleus))
    peaks = [float(s) for s in shifts]
    if not peaks:
        return MatchSkip("no_peaks")
    if not all(math.isfinite(s) for s in peaks):
        return MatchSkip("non_finite_shift")
    if n_h is not None and len(n_h) != len(peaks):
        return MatchSkip("n_h_length_mismatch")
    candidates = _candidates(mol_h, atomic_number)
    if not candidates[0][1]:
        return MatchSkip("no_atoms_of_element")
    integrated = (
        atomic_number == 1 and n_h is not None and all(n is not None and n >= 1 for n in n_h)
    )
    expanded = (
        [s for s, n in zip(peaks, n_h, strict=True) for _ in range(int(n))] if integrated else []
    )
    by_name = dict(candidates)

    if policy == "paper":
        if atomic_number == 1:
            plan = _first_fit(
                [("exact", by_name["exact"])],
                expanded or peaks,
                {"exact": "nh_expanded"} if integrated else {},
            )
        else:
            representatives = [[g[0]] for g in by_name["symmetry_classes"]]
            plan = _first_fit(
                [("exact", by_name["exact"]), ("symmetry_representative", representatives)],
                peaks,
                {},
            )
        return plan or MatchSkip("count_mismatch")

    if integrated:
        atom_level = [c for c in candidates if c[0] in ("exact", "no_exchangeable")]
        plan = _first_fit(
            atom_level,
            expanded,
            {"exact": "nh_expanded", "no_exchangeable": "nh_expanded_no_exchangeable"},
        )
        if plan is not None:
            return plan
    plan = _first_fit(candidates, peaks, {})
    if plan is not None:
        return plan
    if integrated:
        return MatchSkip("integration_count_mismatch")
    sizes = [len(groups) for _, groups in candidates if groups]
    if len(peaks) > max(sizes):
        return MatchSkip("more_peaks_than_atoms")
    if len(peaks) < min(sizes):
        return MatchSkip("fewer_peaks_than_classes")
    return MatchSkip("count_between_classes_and_atoms")
