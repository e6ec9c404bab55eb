"""DP4-style probabilities: which candidate structure explains the measured spectrum.

Each candidate's log-likelihood for a nucleus is the sum of its assignment terms
(:func:`litshift.verify.assignment.assign`); with equal priors, Bayes' rule makes the
probability of candidate ``i`` ``exp(l_i) / sum_j exp(l_j)`` over the candidates scored on that
nucleus. The combined probability (``"all"``) sums the log-likelihoods of every nucleus
measured — the nuclei are treated as independent evidence, as DP4 does — over the candidates
scored on all of them. A candidate that cannot be scored (no prediction for some atom) keeps
NaN and is left out of the normalisation, never given a probability by default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from rdkit import Chem
from scipy.special import logsumexp

from litshift.verify.assignment import Assignment, assign
from litshift.verify.likelihood import ErrorModel
from litshift.verify.peaks import PeakList

__all__ = ["COMBINED", "CandidateScore", "dp4_probabilities", "ranks", "score_candidates"]

#: key of the probability over every measured nucleus together
COMBINED = "all"


def dp4_probabilities(log_likelihoods: Sequence[float]) -> np.ndarray:
    """Shape ``C``: posterior probabilities under equal priors; NaN inputs stay NaN.

    The finite entries sum to 1 (computed in log space, so very unlikely candidates underflow
    to 0 rather than overflowing the others).
    """
    values = np.asarray(log_likelihoods, dtype=np.float64)
    out = np.full(values.shape, np.nan)
    finite = np.isfinite(values)
    if finite.any():
        out[finite] = np.exp(values[finite] - logsumexp(values[finite]))
    return out


def ranks(probabilities: Sequence[float]) -> list[int | None]:
    """Pessimistic 1-based rank of each candidate (a tie counts against it: two candidates
    sharing the best probability both rank 2); None where unscored (NaN)."""
    values = np.asarray(probabilities, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return [int(np.sum(finite >= v)) if np.isfinite(v) else None for v in values]


@dataclass(slots=True)
class CandidateScore:
    """One candidate's explanation of the measured peaks."""

    index: int
    """Position in the candidate list."""
    assignments: dict[str, Assignment] = field(default_factory=dict)
    """Nucleus -> assignment (scored nuclei only)."""
    unscored: dict[str, str] = field(default_factory=dict)
    """Nucleus -> why the candidate has no score for it."""
    log_likelihood: dict[str, float] = field(default_factory=dict)
    """Nucleus (and :data:`COMBINED`) -> log-likelihood; NaN when unscored."""
    probability: dict[str, float] = field(default_factory=dict)
    """Nucleus (and :data:`COMBINED`) -> DP4 probability; NaN when unscored."""


def score_candidates(
    mol_hs: Sequence[Chem.Mol],
    means: Sequence[np.ndarray],
    stds: Sequence[np.ndarray],
    nuclei: Sequence[str],
    peaks: Mapping[str, PeakList],
    model: ErrorModel,
    policy: str = "litshift",
) -> list[CandidateScore]:
    """Assign, score and normalise every candidate against ``peaks``.

    Parameters
    ----------
    mol_hs
        Candidates with explicit hydrogens, litshift atom order.
    means, stds
        Per candidate, shape ``N x K``: predicted mean and calibrated standard deviation (ppm),
        columns in the order of ``nuclei``.
    nuclei
        Column order of ``means``/``stds``; every nucleus of ``peaks`` must be among them.
    peaks
        Nucleus -> observed peak list.
    model, policy
        Error model and count-mismatch policy of :func:`assign`.

    Returns
    -------
    list[CandidateScore]
        In the order of ``mol_hs``.
    """
    unknown = sorted(set(peaks) - set(nuclei))
    if unknown:
        raise ValueError(f"no predictions for {unknown}; predicted nuclei: {list(nuclei)}")
    scores = [CandidateScore(i) for i in range(len(mol_hs))]
    for score, mol_h, mean, std in zip(scores, mol_hs, means, stds, strict=True):
        for nucleus, peak_list in peaks.items():
            k = list(nuclei).index(nucleus)
            try:
                assignment = assign(mol_h, peak_list, mean[:, k], std[:, k], model, policy)
            except ValueError as err:
                score.unscored[nucleus] = str(err)
                score.log_likelihood[nucleus] = float("nan")
                continue
            score.assignments[nucleus] = assignment
            score.log_likelihood[nucleus] = assignment.log_likelihood
        score.log_likelihood[COMBINED] = float(sum(score.log_likelihood[n] for n in peaks))
    for key in [*peaks, COMBINED]:
        probabilities = dp4_probabilities([s.log_likelihood[key] for s in scores])
        for score, p in zip(scores, probabilities, strict=True):
            score.probability[key] = float(p)
    return scores
