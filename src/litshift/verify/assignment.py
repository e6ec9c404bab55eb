"""Which atoms explain which observed peak: the matching of the training loss, with a fallback.

For each candidate and nucleus the peak list is first paired with atom groups by
:func:`litshift.chem.matching.plan_match` — the training count-mismatch policy
(``docs/matching_policy.md``: one peak per atom, per symmetry class, per CH2/CH3, integrations
expanded, exchangeable protons missing) — and the pooled predictions of the groups are paired
with the peaks by sorting, exactly as ``L_mol`` pairs them.

Where the policy skips the list (peaks missing below the number of environments, extra peaks),
training leaves the molecule out; verification cannot, since every candidate needs a score.
The fallback matches peaks to topological symmetry classes by the optimal *partial* assignment
(:func:`scipy.optimize.linear_sum_assignment` on negative log-likelihoods): each peak goes to
one class or stays unexplained, each class gets one peak or goes missing, with the costs of
:class:`litshift.verify.likelihood.ErrorModel`; with integrations on every peak the same runs
per proton, so one multiplet may cover several classes. Its branch is ``partial:<skip reason>``.

Atom indices are in litshift order (``Chem.AddHs(Chem.MolFromSmiles(canonical_smiles))``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from scipy.optimize import linear_sum_assignment

from litshift.chem.matching import MatchPlan, plan_match
from litshift.chem.nuclei import element_of
from litshift.chem.symmetry import element_classes, exchangeable_hydrogens
from litshift.verify.likelihood import ErrorModel
from litshift.verify.peaks import PeakList

__all__ = ["Assignment", "PeakMatch", "assign"]

#: cost of a forbidden cell of the augmented assignment matrix
_FORBIDDEN = 1e12


@dataclass(frozen=True, slots=True)
class PeakMatch:
    """One row of an assignment: a peak and the atom group that explains it (or neither)."""

    peak_index: int | None
    """Index into the peak list; ``None`` for a group no peak explains (missing)."""
    observed: float | None
    atoms: tuple[int, ...]
    """Litshift-order atoms whose pooled prediction is paired; ``()``: unexplained peak."""
    predicted: float | None
    """Mean of the group's predicted means (ppm)."""
    std: float | None
    """Root mean square of the group's predicted standard deviations (ppm)."""
    log_likelihood: float
    """This row's term of the candidate's log-likelihood."""

    @property
    def error(self) -> float | None:
        """Observed - predicted (ppm), where both exist."""
        if self.observed is None or self.predicted is None:
            return None
        return self.observed - self.predicted

    @property
    def z(self) -> float | None:
        """Error in units of the predicted standard deviation."""
        error = self.error
        return None if error is None or self.std is None else error / self.std


@dataclass(frozen=True, slots=True)
class Assignment:
    """A candidate's explanation of one nucleus' peak list."""

    nucleus: str
    branch: str
    """The plan_match branch, or ``partial:<skip reason>`` for the fallback."""
    matches: tuple[PeakMatch, ...]
    log_likelihood: float

    @property
    def mae(self) -> float:
        """Mean absolute error of the matched pairs (ppm; NaN when none)."""
        errors = [abs(m.error) for m in self.matches if m.error is not None]
        return float(np.mean(errors)) if errors else float("nan")


def _pooled(groups: Sequence[Sequence[int]], mean: np.ndarray, std: np.ndarray):
    """Per group: mean prediction and RMS standard deviation, shape ``G`` each."""
    mu = np.array([np.mean(mean[list(g)]) for g in groups], dtype=np.float64)
    sigma = np.array([np.sqrt(np.mean(std[list(g)] ** 2)) for g in groups], dtype=np.float64)
    return mu, sigma


def _sorted_assignment(
    plan: MatchPlan, peaks: PeakList, mean: np.ndarray, std: np.ndarray, model: ErrorModel
) -> Assignment:
    """The training pairing: pooled predictions and peaks both sorted, paired in order."""
    if plan.branch.startswith("nh_expanded"):  # each peak repeated n_h times, as plan_match did
        peak_of = [i for i, n in enumerate(peaks.n_h) for _ in range(int(n or 0))]
    else:
        peak_of = list(range(len(peaks.shifts)))
    mu, sigma = _pooled(plan.groups, mean, std)
    targets = np.asarray(plan.targets, dtype=np.float64)
    by_prediction = np.argsort(mu, kind="stable")
    by_peak = np.argsort(targets, kind="stable")
    terms = model.log_density(targets[by_peak] - mu[by_prediction], sigma[by_prediction])
    matches = tuple(
        PeakMatch(
            peak_of[t],
            float(targets[t]),
            tuple(plan.groups[g]),
            float(mu[g]),
            float(sigma[g]),
            float(term),
        )
        for g, t, term in zip(by_prediction, by_peak, terms, strict=True)
    )
    return Assignment(peaks.nucleus, plan.branch, matches, float(np.sum(terms)))


def _partial_assignment(
    mol_h: Chem.Mol,
    peaks: PeakList,
    mean: np.ndarray,
    std: np.ndarray,
    model: ErrorModel,
    reason: str,
) -> Assignment:
    """Optimal partial matching of peaks to symmetry classes (see the module docstring).

    When every peak carries an integration, the matching runs one level finer: a peak of n H is
    n slots and every hydrogen a unit, so a multiplet can cover several classes (an aromatic
    "7.26-7.15 (m, 5H)" explains the ortho, meta and para protons together). A missing class
    then costs ``log(missing_probability)`` spread over its protons, as at the class level.
    """
    atomic_number = Chem.GetPeriodicTable().GetAtomicNumber(element_of(peaks.nucleus))
    groups = element_classes(mol_h, atomic_number)
    exchangeable = exchangeable_hydrogens(mol_h)
    observed = np.asarray(peaks.shifts, dtype=np.float64)
    missing_class = [
        0.0 if set(g) <= exchangeable else -model.missing_log_probability for g in groups
    ]
    if peaks.n_h and all(n is not None for n in peaks.n_h):
        slot_peak = [i for i, n in enumerate(peaks.n_h) for _ in range(int(n or 0))]
        units = [[atom] for g in groups for atom in g]
        unit_class = [c for c, g in enumerate(groups) for _ in g]
        missing = np.array([missing_class[c] / len(groups[c]) for c in unit_class])
    else:
        slot_peak = list(range(len(observed)))
        units, unit_class = groups, list(range(len(groups)))
        missing = np.array(missing_class)
    n_slots, n_units = len(slot_peak), len(units)
    mu, sigma = _pooled(units, mean, std) if units else (np.empty(0), np.empty(0))
    unexplained = -model.unexplained_log_density(peaks.nucleus)
    # rows: slots, then one "missing" row per unit; columns: units, then one "unexplained"
    # column per slot. Dummy rows meet dummy columns at no cost.
    cost = np.full((n_slots + n_units, n_units + n_slots), _FORBIDDEN)
    if n_units:
        slot_shift = observed[slot_peak]
        cost[:n_slots, :n_units] = -model.log_density(
            slot_shift[:, None] - mu[None, :], np.broadcast_to(sigma, (n_slots, n_units))
        )
        cost[n_slots + np.arange(n_units), np.arange(n_units)] = missing
    cost[np.arange(n_slots), n_units + np.arange(n_slots)] = unexplained
    cost[n_slots:, n_units:] = 0.0
    explained: dict[int, list[int]] = {}  # peak -> units explaining it
    terms: dict[tuple[str, int], float] = {}  # ("peak" | "unexplained" | "missing", i) -> sum
    absent: dict[int, list[int]] = {}  # class -> its units without a peak
    for row, col in zip(*linear_sum_assignment(cost), strict=True):
        if row < n_slots and col < n_units:
            key = ("peak", slot_peak[row])
            explained.setdefault(slot_peak[row], []).append(col)
        elif row < n_slots:
            key = ("unexplained", slot_peak[row])
        elif col < n_units:
            key = ("missing", unit_class[col])
            absent.setdefault(unit_class[col], []).append(col)
        else:
            continue
        terms[key] = terms.get(key, 0.0) - float(cost[row, col])

    def match(peak: int | None, unit_ids: list[int], term: float) -> PeakMatch:
        atoms = sorted(a for u in unit_ids for a in units[u])
        (m,), (sd,) = _pooled([atoms], mean, std)
        return PeakMatch(
            peak, None if peak is None else float(observed[peak]), tuple(atoms), m, sd, term
        )

    matches = [match(i, explained[i], terms["peak", i]) for i in explained]
    matches += [
        PeakMatch(i, float(observed[i]), (), None, None, term)
        for (kind, i), term in terms.items()
        if kind == "unexplained"
    ]
    matches += [match(None, absent[c], terms["missing", c]) for c in absent]
    matches.sort(key=lambda m: (m.observed is None, -(m.observed or 0.0), m.atoms))
    total = float(sum(m.log_likelihood for m in matches))
    return Assignment(peaks.nucleus, f"partial:{reason}", tuple(matches), total)


def assign(
    mol_h: Chem.Mol,
    peaks: PeakList,
    mean: np.ndarray,
    std: np.ndarray,
    model: ErrorModel,
    policy: str = "litshift",
) -> Assignment:
    """Explain ``peaks`` with the atoms of ``mol_h`` and score the explanation.

    Parameters
    ----------
    mol_h
        Candidate with explicit hydrogens, litshift atom order.
    peaks
        Observed peak list of one nucleus.
    mean, std
        Shape ``N``: predicted mean and calibrated standard deviation (ppm) of that nucleus per
        atom; finite (``std > 0``) on every atom of the nucleus' element.
    model
        Error model of the likelihood.
    policy
        Count-mismatch policy of :func:`plan_match` (the training one).

    Raises
    ------
    ValueError
        An atom of the element has no finite prediction.
    """
    atomic_number = Chem.GetPeriodicTable().GetAtomicNumber(element_of(peaks.nucleus))
    atoms = [a.GetIdx() for a in mol_h.GetAtoms() if a.GetAtomicNum() == atomic_number]
    mean = np.asarray(mean, dtype=np.float64)
    std = np.asarray(std, dtype=np.float64)
    unpredicted = [
        i for i in atoms if not (np.isfinite(mean[i]) and np.isfinite(std[i]) and std[i] > 0)
    ]
    if unpredicted:
        raise ValueError(f"no {peaks.nucleus} prediction for atom {unpredicted[0]}")
    plan = plan_match(mol_h, peaks.nucleus, peaks.shifts, peaks.n_h, policy)
    if isinstance(plan, MatchPlan):
        return _sorted_assignment(plan, peaks, mean, std, model)
    return _partial_assignment(mol_h, peaks, mean, std, model, plan.reason)
