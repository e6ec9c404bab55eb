"""How likely an observed peak is under a predicted shift distribution (the DP4 error model).

DP4 (Smith & Goodman, 2010) scores a candidate by the probability of its assigned errors under
a Student-t error model. litshift predicts a calibrated standard deviation per atom, so the
scale of each error is that atom's ``std`` rather than one constant per nucleus. Two further
terms let every candidate explain the *same* peaks, so that likelihoods stay comparable when a
peak list does not fit a structure's atom count (see :mod:`litshift.verify.assignment`):

- an *unexplained* peak (an impurity, a rotamer, a structure with too few environments) has the
  density of a peak uniform over the nucleus' plausible window;
- a *missing* group (a quaternary carbon not observed, a structure with too many environments)
  costs ``log(missing_probability)``; exchangeable protons (OH, NH, SH) go missing for free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from litshift.chem.nuclei import DEFAULT_WINDOWS
from litshift.ingest.literature_filters import DEFAULT_LITERATURE_WINDOWS

__all__ = ["LIKELIHOODS", "ErrorModel"]

LIKELIHOODS: tuple[str, ...] = ("gaussian", "student_t")


@dataclass(frozen=True, slots=True)
class ErrorModel:
    """Log-density of assignment errors, and the costs of unexplained peaks / missing groups."""

    likelihood: str = "student_t"
    """``gaussian`` (the calibrated predictive distribution as is) or ``student_t`` (DP4's
    heavier tails: one misassigned peak does not veto a structure)."""
    dof: float = 5.0
    """Degrees of freedom of the Student-t."""
    missing_probability: float = 0.1
    """Probability that a non-exchangeable atom group shows no peak."""
    windows: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: {**DEFAULT_LITERATURE_WINDOWS, **DEFAULT_WINDOWS}
    )
    """Plausible window (ppm) per nucleus, the support of an unexplained peak."""

    def __post_init__(self) -> None:
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {self.likelihood!r}; choose from {LIKELIHOODS}")
        if self.dof <= 0:
            raise ValueError(f"dof must be > 0, got {self.dof}")
        if not 0 < self.missing_probability < 1:
            raise ValueError(
                f"missing_probability must be in (0, 1), got {self.missing_probability}"
            )

    def log_density(self, errors: np.ndarray, std: np.ndarray) -> np.ndarray:
        """Log-density (1/ppm) of ``errors`` (observed - predicted, ppm) at scale ``std`` (ppm).

        Both arrays have one shape; ``std`` must be finite and > 0.
        """
        std = np.asarray(std, dtype=np.float64)
        z = np.asarray(errors, dtype=np.float64) / std
        if self.likelihood == "gaussian":
            return -0.5 * z**2 - np.log(std) - 0.5 * math.log(2 * math.pi)
        return stats.t.logpdf(z, self.dof) - np.log(std)

    def unexplained_log_density(self, nucleus: str) -> float:
        """Log-density of a peak no atom explains: uniform over the nucleus' window."""
        lo, hi = self.windows.get(nucleus, (-50.0, 250.0))
        return -math.log(hi - lo)

    @property
    def missing_log_probability(self) -> float:
        return math.log(self.missing_probability)
