"""Evaluation metrics as pure functions: errors with bootstrap intervals, the sorted-matching
(molecule-level) error, atom-environment categories and distance to the training set.

Intervals come from a *cluster* bootstrap over molecules: the atoms of one molecule share its
conformer, solvent and chemistry, so resampling atoms independently would pretend to far more
independent evidence than a test set of a few hundred molecules holds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from litshift.chem.matching import MatchPlan

__all__ = [
    "FINGERPRINT_BITS",
    "FINGERPRINT_RADIUS",
    "N_BOOTSTRAP",
    "SIMILARITY_BINS",
    "ErrorSummary",
    "atom_environment",
    "bin_labels",
    "error_summary",
    "fingerprints",
    "max_similarity",
    "pooled_sorted_pairs",
    "similarity_bins",
    "sorted_pairs",
]

#: bootstrap replicates per interval
N_BOOTSTRAP = 1000
#: Morgan fingerprint of the test-to-training similarity: radius 2 (ECFP4-like), 2048 bits
FINGERPRINT_RADIUS = 2
FINGERPRINT_BITS = 2048
#: max-Tanimoto bin edges of the ID/OOD breakdown (<0.5, 0.5-0.7, >=0.7 as in the paper)
SIMILARITY_BINS: tuple[float, ...] = (0.5, 0.7)


@dataclass(frozen=True, slots=True)
class ErrorSummary:
    """Errors of one group of predictions (ppm)."""

    n: int
    """Items scored (atoms, or matched peaks at molecule level)."""
    n_clusters: int
    """Independent units the bootstrap resamples (molecules)."""
    mae: float
    rmse: float
    mae_ci: tuple[float, float]
    """Percentile bootstrap interval of the MAE."""
    rmse_ci: tuple[float, float]
    """Percentile bootstrap interval of the RMSE."""


def error_summary(
    errors: np.ndarray,
    clusters: np.ndarray,
    weights: np.ndarray | None = None,
    n_boot: int = N_BOOTSTRAP,
    seed: int = 0,
    level: float = 0.95,
) -> ErrorSummary:
    """Weighted MAE and RMSE with a cluster-bootstrap interval.

    Parameters
    ----------
    errors
        Shape ``n``: predicted - observed (ppm).
    clusters
        Shape ``n``: the unit each error belongs to (molecule id); units are resampled with
        replacement, each keeping all of its errors.
    weights
        Shape ``n`` (default all ones). Molecule-level scores give each molecule total weight 1
        (``1 / n_peaks`` per peak), so the MAE is the mean over molecules of the molecule's
        mean sorted-matching error, exactly how ``L_mol`` averages.
    n_boot, seed, level
        Bootstrap replicates, the seed of their generator, interval coverage.
    """
    errors = np.asarray(errors, dtype=np.float64)
    weights = np.ones_like(errors) if weights is None else np.asarray(weights, dtype=np.float64)
    if errors.shape != weights.shape or errors.shape != np.shape(clusters):
        raise ValueError("errors, clusters and weights must have the same length")
    if errors.size == 0:
        raise ValueError("no errors to summarize")
    if not np.all(np.isfinite(errors)):
        raise ValueError("non-finite error")
    _, cluster_index = np.unique(np.asarray(clusters), return_inverse=True)
    n_clusters = int(cluster_index.max()) + 1
    # per-cluster sums: weighted |e|, weighted e^2, weight
    sums = np.stack(
        [
            np.bincount(cluster_index, weights * np.abs(errors), n_clusters),
            np.bincount(cluster_index, weights * errors**2, n_clusters),
            np.bincount(cluster_index, weights, n_clusters),
        ],
        axis=1,
    )  # (C, 3)
    total = sums.sum(axis=0)
    mae, rmse = total[0] / total[2], math.sqrt(total[1] / total[2])

    rng = np.random.default_rng(seed)
    replicates = np.empty((n_boot, 3))
    chunk = max(1, 2_000_000 // n_clusters)  # bounds the (chunk, C) index matrix
    for start in range(0, n_boot, chunk):
        stop = min(start + chunk, n_boot)
        picks = rng.integers(0, n_clusters, size=(stop - start, n_clusters))
        replicates[start:stop] = sums[picks].sum(axis=1)
    boot_mae = replicates[:, 0] / replicates[:, 2]
    boot_rmse = np.sqrt(replicates[:, 1] / replicates[:, 2])
    tail = 100 * (1 - level) / 2
    mae_ci = tuple(float(v) for v in np.percentile(boot_mae, [tail, 100 - tail]))
    rmse_ci = tuple(float(v) for v in np.percentile(boot_rmse, [tail, 100 - tail]))
    return ErrorSummary(int(errors.size), n_clusters, float(mae), rmse, mae_ci, rmse_ci)


def sorted_pairs(
    predicted: np.ndarray, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pair two unassigned shift sets the way ``L_mol`` does: both sorted, compared in order.

    Returns
    -------
    order, predicted_sorted, observed_sorted
        ``order[i]`` is the index into ``predicted`` of the value paired with the i-th smallest
        observed shift; all three have the common length.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    observed = np.asarray(observed, dtype=np.float64)
    if predicted.shape != observed.shape:
        raise ValueError(f"{predicted.size} predictions for {observed.size} observed shifts")
    order = np.argsort(predicted, kind="stable")
    return order, predicted[order], np.sort(observed, kind="stable")


def pooled_sorted_pairs(
    plan: MatchPlan, atom_predictions: np.ndarray
) -> tuple[list[list[int]], np.ndarray, np.ndarray]:
    """Average the predictions of each atom group of ``plan`` and pair them with its peaks.

    Parameters
    ----------
    plan
        From :func:`litshift.chem.matching.plan_match` (the training count-mismatch policy).
    atom_predictions
        Shape ``N``: one nucleus' prediction per atom (ppm).

    Returns
    -------
    groups, predicted, observed
        The groups in the order they are paired, their pooled predictions and the observed
        shifts, both ascending.
    """
    pooled = np.array([np.mean(atom_predictions[g]) for g in plan.groups])
    order, predicted, observed = sorted_pairs(pooled, np.asarray(plan.targets))
    return [plan.groups[i] for i in order], predicted, observed


#: a proton's category where it differs from its carbon's
_PROTON_NAMES = {
    "carbonyl C": "aldehyde CHO",
    "alkene/imine C": "alkene/imine CH",
    "alkyne/nitrile C": "alkyne CH",
}


def _carbon_environment(atom: Chem.Atom) -> str:
    n_h = atom.GetTotalNumHs(includeNeighbors=True)  # explicit H atoms count too
    if any(
        b.GetBondType() == Chem.BondType.DOUBLE and b.GetOtherAtom(atom).GetAtomicNum() == 8
        for b in atom.GetBonds()
    ):
        return "carbonyl C"
    if atom.GetIsAromatic():
        return "aromatic CH" if n_h else "aromatic C"
    hybridization = atom.GetHybridization()
    if hybridization == Chem.HybridizationType.SP2:
        return "alkene/imine C"
    if hybridization == Chem.HybridizationType.SP:
        return "alkyne/nitrile C"
    return {3: "CH3", 2: "CH2", 1: "CH", 0: "quaternary C"}.get(n_h, "CH4")


def atom_environment(mol_h: Chem.Mol, atom_index: int) -> str:
    """Chemist's category of an atom's environment (hydrogens: that of their heavy atom).

    Carbons: ``carbonyl C`` (any C=O), ``aromatic CH``, ``aromatic C`` (substituted),
    ``alkene/imine C``, ``alkyne/nitrile C``, sp3 ``CH3``/``CH2``/``CH``/``quaternary C``.
    Hydrogens on carbon take the carbon's category (``aromatic CH``, ``CH3``, ...), named
    ``aldehyde CHO``, ``alkene/imine CH`` and ``alkyne CH`` on sp2/sp carbons; on N, O or S
    they are ``NH/OH/SH``. Anything else is ``other <element>``.
    """
    atom = mol_h.GetAtomWithIdx(atom_index)
    if atom.GetAtomicNum() == 1:
        neighbors = atom.GetNeighbors()
        if len(neighbors) != 1:
            return "other H"
        parent = neighbors[0]
        if parent.GetAtomicNum() in (7, 8, 16):
            return "NH/OH/SH"
        if parent.GetAtomicNum() != 6:
            return "other H"
        category = _carbon_environment(parent)
        return _PROTON_NAMES.get(category, category)
    if atom.GetAtomicNum() == 6:
        return _carbon_environment(atom)
    return f"other {atom.GetSymbol()}"


def fingerprints(
    mols: Iterable[Chem.Mol], radius: int = FINGERPRINT_RADIUS, n_bits: int = FINGERPRINT_BITS
) -> list:
    """Morgan bit fingerprints (ECFP4-like for radius 2) of molecules without explicit H."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    return [generator.GetFingerprint(m) for m in mols]


def max_similarity(queries: Sequence, references: Sequence) -> np.ndarray:
    """Shape ``len(queries)``: highest Tanimoto similarity of each query to any reference
    (0 when there are no references)."""
    if not references:
        return np.zeros(len(queries))
    return np.array([max(DataStructs.BulkTanimotoSimilarity(q, references)) for q in queries])


def bin_labels(edges: Sequence[float]) -> list[str]:
    """``[0.5, 0.7]`` -> ``["<0.5", "0.5-0.7", ">=0.7"]``."""
    if list(edges) != sorted(edges) or len(set(edges)) != len(edges) or not edges:
        raise ValueError(f"bin edges must be strictly increasing, got {list(edges)}")
    inner = [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    return [f"<{edges[0]:g}", *inner, f">={edges[-1]:g}"]


def similarity_bins(values: Sequence[float] | np.ndarray, edges: Sequence[float]) -> list[str]:
    """The :func:`bin_labels` label of each value (left-closed bins: 0.5 is in ``0.5-0.7``)."""
    labels = bin_labels(edges)
    return [labels[i] for i in np.searchsorted(np.asarray(edges), values, side="right")]
