"""Predictive uncertainty as pure functions: calibration, intervals, coverage, error curves.

Every predictor returns a Gaussian per atom (:class:`ShiftDistribution`). Its raw standard
deviation comes from the method (a model's uncertainty head, the spread of an ensemble, 1 for
a method without one) and is multiplied by a per-nucleus factor fitted on the assigned
VALIDATION split, optionally per group (HOSE: the sphere radius it matched):

    s^2 = mean((residual / raw_std)^2)

the closed-form minimiser of the Gaussian NLL of the validation residuals over ``s``. A raw
std of 1 makes ``s`` the validation RMSE, i.e. an honest constant uncertainty. Calibrated
intervals are ``mean +- z(level) * std`` with ``z`` the two-sided normal quantile.

Why a multiplicative factor: it keeps the ranking of atoms by uncertainty (which is what the
error-vs-uncertainty curve and the Spearman correlation judge) and fixes the global scale,
which a head trained on training-set residuals underestimates and short ensembles misjudge.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from scipy import stats

from litshift.data.io import atomic_path

__all__ = [
    "ALL",
    "LEVELS",
    "Calibration",
    "ShiftDistribution",
    "UncertaintyBin",
    "combine_members",
    "coverage",
    "error_vs_uncertainty",
    "fit_calibration",
    "fit_scale",
    "gaussian_nll",
    "interval",
    "spearman",
    "z_value",
]

logger = logging.getLogger(__name__)

#: interval levels reported everywhere
LEVELS: tuple[float, ...] = (0.5, 0.8, 0.95)
#: group name of the nucleus-wide factor (always fitted; the fallback of every other group)
ALL = "all"


class ShiftDistribution(NamedTuple):
    """Predictive distribution of one molecule's shifts (litshift atom order)."""

    mean: np.ndarray
    """Shape ``N x K``, ppm; NaN = no prediction (other element, unknown nucleus, failure)."""
    std: np.ndarray
    """Shape ``N x K``, ppm; calibrated 1-sigma of a Gaussian, finite and > 0 wherever
    ``mean`` is finite, NaN elsewhere."""


def z_value(level: float) -> float:
    """Half-width of the central ``level`` interval of a standard normal (0.95 -> 1.96)."""
    if not 0 < level < 1:
        raise ValueError(f"interval level must be in (0, 1), got {level}")
    return float(stats.norm.ppf(0.5 + level / 2))


def interval(mean: np.ndarray, std: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Central ``level`` interval ``(lo, hi)`` of Gaussians (any shape)."""
    half = z_value(level) * np.asarray(std)
    return np.asarray(mean) - half, np.asarray(mean) + half


def _checked(residuals: np.ndarray, std: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(residuals, dtype=np.float64)
    s = np.asarray(std, dtype=np.float64)
    if r.shape != s.shape:
        raise ValueError(f"{r.shape} residuals for {s.shape} standard deviations")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(s)) and np.all(s > 0)):
        raise ValueError("residuals and standard deviations must be finite, std > 0")
    return r, s


def fit_scale(residuals: np.ndarray, std: np.ndarray) -> float:
    """Factor ``s`` minimising the Gaussian NLL of ``residuals`` under std ``s * std``.

    Parameters
    ----------
    residuals, std
        Shape ``n``: predicted - observed and the raw standard deviation (ppm).
    """
    r, s = _checked(residuals, std)
    if r.size == 0:
        raise ValueError("no residuals to fit a scale on")
    return max(math.sqrt(float(np.mean((r / s) ** 2))), 1e-6)  # a perfect fit keeps std > 0


def gaussian_nll(residuals: np.ndarray, std: np.ndarray) -> float:
    """Mean negative log-likelihood (nats, with the constant) of the residuals."""
    r, s = _checked(residuals, std)
    return float(np.mean(np.log(s) + 0.5 * (r / s) ** 2 + 0.5 * math.log(2 * math.pi)))


def coverage(residuals: np.ndarray, std: np.ndarray, level: float) -> float:
    """Fraction of residuals inside the central ``level`` interval."""
    r, s = _checked(residuals, std)
    return float(np.mean(np.abs(r) <= z_value(level) * s))


def spearman(residuals: np.ndarray, std: np.ndarray) -> float:
    """Spearman rank correlation of ``|residual|`` with the predicted std (NaN if constant)."""
    r, s = _checked(residuals, std)
    if np.ptp(s) == 0 or np.ptp(r) == 0:
        return math.nan
    return float(stats.spearmanr(np.abs(r), s).statistic)


@dataclass(frozen=True, slots=True)
class UncertaintyBin:
    """Atoms whose predicted std falls in one quantile bin."""

    std_lo: float
    std_hi: float
    mean_std: float
    """Mean predicted std (the x of the curve)."""
    rmse: float
    """Observed RMSE: equals ``mean_std`` (roughly, RMS of std) when calibrated."""
    mae: float
    n: int


def error_vs_uncertainty(
    residuals: np.ndarray, std: np.ndarray, n_bins: int = 10
) -> list[UncertaintyBin]:
    """Bin atoms by quantiles of the predicted std; observed RMSE/MAE per bin.

    Ties (a constant std) collapse into fewer bins; a bin holds at least one atom.
    """
    r, s = _checked(residuals, std)
    if r.size == 0:
        return []
    order = np.argsort(s, kind="stable")
    bins = []
    for chunk in np.array_split(order, min(n_bins, r.size)):
        rc, sc = r[chunk], s[chunk]
        bins.append(
            UncertaintyBin(
                std_lo=float(sc.min()),
                std_hi=float(sc.max()),
                mean_std=float(sc.mean()),
                rmse=float(np.sqrt(np.mean(rc**2))),
                mae=float(np.mean(np.abs(rc))),
                n=int(rc.size),
            )
        )
    return bins


def combine_members(means: Sequence[np.ndarray], stds: Sequence[np.ndarray]) -> ShiftDistribution:
    """Moment-matched Gaussian of an equal-weight mixture (a deep ensemble).

    Parameters
    ----------
    means, stds
        One ``N x K`` array per member (ppm).

    Returns
    -------
    ShiftDistribution
        Mean of the means; variance = mean member variance + variance of the means.
    """
    m = np.stack(means)  # (M, N, K)
    s = np.stack(stds)  # (M, N, K)
    if m.shape != s.shape:
        raise ValueError("every member needs a mean and a std of the same shape")
    mean = m.mean(axis=0)
    variance = (s**2).mean(axis=0) + m.var(axis=0)
    return ShiftDistribution(mean, np.sqrt(variance))


@dataclass(slots=True)
class Calibration:
    """Per-(nucleus, group) factors on a predictor's raw std, fitted on the validation split."""

    scales: dict[str, dict[str, float]] = field(default_factory=dict)
    """nucleus -> group -> factor; group :data:`ALL` always present for a fitted nucleus."""
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    """nucleus -> group -> validation atoms behind the factor."""

    def factor(self, nucleus: str, group: str = ALL) -> float:
        """The group's factor, else the nucleus-wide one; 1 for an unfitted nucleus."""
        per_group = self.scales.get(nucleus)
        if per_group is None:
            return 1.0
        return per_group.get(group, per_group[ALL])

    def apply(
        self, nucleus: str, raw_std: np.ndarray, groups: Iterable[str] | None = None
    ) -> np.ndarray:
        """Calibrated std (same shape as ``raw_std``); ``groups`` aligns with its flat order."""
        raw = np.asarray(raw_std, dtype=np.float64)
        if groups is None:
            return raw * self.factor(nucleus)
        factors = np.array([self.factor(nucleus, g) for g in groups], dtype=np.float64)
        return raw * factors.reshape(raw.shape)

    def to_json(self) -> dict:
        return {"method": "gaussian-nll-scale", "scales": self.scales, "counts": self.counts}

    @classmethod
    def from_json(cls, data: Mapping) -> Calibration:
        return cls(
            {n: dict(g) for n, g in data["scales"].items()},
            {n: dict(g) for n, g in data.get("counts", {}).items()},
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Calibration:
        with open(path) as handle:
            return cls.from_json(json.load(handle))


def fit_calibration(
    nuclei: Sequence[str],
    residuals: Sequence[np.ndarray],
    std: Sequence[np.ndarray],
    groups: Sequence[np.ndarray] | None = None,
    min_count: int = 30,
) -> Calibration:
    """Fit per-nucleus (and per-group) factors.

    Parameters
    ----------
    nuclei
        One name per entry of the other arguments.
    residuals, std
        Per nucleus, shape ``n``: validation residuals and raw std (ppm).
    groups
        Per nucleus, shape ``n`` of group labels (e.g. HOSE radius); a group with fewer than
        ``min_count`` atoms falls back to the nucleus-wide factor.
    """
    calibration = Calibration()
    for k, nucleus in enumerate(nuclei):
        r, s = np.asarray(residuals[k], dtype=np.float64), np.asarray(std[k], dtype=np.float64)
        if r.size == 0:
            logger.warning("no validation residuals for %s: its std stays uncalibrated", nucleus)
            continue
        scales = {ALL: fit_scale(r, s)}
        counts = {ALL: int(r.size)}
        if groups is not None:
            labels = np.asarray(groups[k]).astype(str)
            for group in sorted(set(labels.tolist())):
                chosen = labels == group
                if chosen.sum() >= min_count:
                    scales[group] = fit_scale(r[chosen], s[chosen])
                    counts[group] = int(chosen.sum())
        calibration.scales[nucleus] = scales
        calibration.counts[nucleus] = counts
    return calibration
