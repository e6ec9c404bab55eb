"""Calibration math: the closed-form scale minimises the NLL, intervals cover what they say,
error-vs-uncertainty bins, ensemble moments, calibration files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from litshift.inference.uncertainty import (
    ALL,
    Calibration,
    combine_members,
    coverage,
    error_vs_uncertainty,
    fit_calibration,
    fit_scale,
    gaussian_nll,
    interval,
    spearman,
    z_value,
)

residual_arrays = arrays(
    np.float64, st.integers(2, 40), elements=st.floats(-50, 50, allow_subnormal=False)
)


@settings(max_examples=60, deadline=None)
@given(residual_arrays, st.floats(0.1, 10), st.floats(0.5, 2.0))
def test_fitted_scale_minimises_the_gaussian_nll(residuals, raw, nudge) -> None:
    std = np.full_like(residuals, raw)
    assume(np.sqrt(np.mean(residuals**2)) > 1e-3)  # below, the std floor of 1e-6 ppm binds
    scale = fit_scale(residuals, std)
    best = gaussian_nll(residuals, scale * std)
    assert best <= gaussian_nll(residuals, nudge * scale * std) + 1e-9


@settings(max_examples=40, deadline=None)
@given(residual_arrays, st.floats(0.01, 100))
def test_scale_is_equivariant(residuals, factor) -> None:
    std = 1.0 + np.abs(residuals) / 10
    assume(np.sqrt(np.mean(residuals**2)) > 1e-3)  # below, the std floor of 1e-6 ppm binds
    assert fit_scale(factor * residuals, std) == pytest.approx(factor * fit_scale(residuals, std))


def test_calibrated_gaussian_residuals_cover_their_level() -> None:
    rng = np.random.default_rng(0)
    true_std = rng.uniform(0.5, 5.0, 20000)
    residuals = rng.normal(0.0, true_std)
    raw = true_std / 3  # right ranking, wrong scale (an overconfident head)
    scale = fit_scale(residuals, raw)
    assert scale == pytest.approx(3.0, rel=0.02)
    for level in (0.5, 0.8, 0.95):
        assert coverage(residuals, scale * raw, level) == pytest.approx(level, abs=0.01)
    assert spearman(residuals, raw) > 0.3
    bins = error_vs_uncertainty(residuals, scale * raw, n_bins=5)
    assert [b.n for b in bins] == [4000] * 5
    assert all(b.std_lo <= b.mean_std <= b.std_hi for b in bins)
    rmse = [b.rmse for b in bins]
    assert rmse == sorted(rmse)  # errors grow with the predicted std
    for b in bins:
        assert b.rmse == pytest.approx(b.mean_std, rel=0.15)


def test_interval_and_z_values() -> None:
    assert z_value(0.95) == pytest.approx(1.959964, abs=1e-6)
    assert z_value(0.5) == pytest.approx(0.674490, abs=1e-6)
    lo, hi = interval(np.array([10.0]), np.array([2.0]), 0.95)
    assert lo[0] == pytest.approx(10 - 2 * 1.959964) and hi[0] == pytest.approx(10 + 2 * 1.959964)
    with pytest.raises(ValueError):
        z_value(1.0)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        fit_scale(np.array([1.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="no residuals"):
        fit_scale(np.empty(0), np.empty(0))
    with pytest.raises(ValueError):
        coverage(np.array([1.0, 2.0]), np.array([1.0]), 0.5)
    assert math.isnan(spearman(np.array([1.0, 2.0]), np.array([1.0, 1.0])))
    assert error_vs_uncertainty(np.empty(0), np.empty(0)) == []


@settings(max_examples=40, deadline=None)
@given(
    arrays(np.float64, (3, 4, 2), elements=st.floats(-100, 100)),
    arrays(np.float64, (3, 4, 2), elements=st.floats(0.1, 10)),
)
def test_ensemble_moments(means, stds) -> None:
    combined = combine_members(list(means), list(stds))
    np.testing.assert_allclose(combined.mean, means.mean(axis=0))
    # law of total variance: the mixture is at least as wide as its average member
    assert np.all(combined.std**2 >= (stds**2).mean(axis=0) - 1e-9)
    one = combine_members([means[0]], [stds[0]])
    np.testing.assert_allclose(one.std, stds[0])


def test_group_factors_fall_back_to_the_nucleus(tmp_path) -> None:
    rng = np.random.default_rng(1)
    radius = np.array(["radius 4"] * 200 + ["radius 1"] * 100 + ["radius 0"] * 5)
    residuals = np.concatenate([rng.normal(0, 1, 200), rng.normal(0, 5, 100), rng.normal(0, 20, 5)])
    calibration = fit_calibration(["13C"], [residuals], [np.ones_like(residuals)], [radius])
    assert calibration.factor("13C", "radius 4") == pytest.approx(1.0, rel=0.15)
    assert calibration.factor("13C", "radius 1") == pytest.approx(5.0, rel=0.2)
    # too few atoms at radius 0: the nucleus-wide factor
    assert calibration.factor("13C", "radius 0") == calibration.factor("13C", ALL)
    assert calibration.counts["13C"] == {ALL: 305, "radius 4": 200, "radius 1": 100}
    assert calibration.factor("1H") == 1.0  # never fitted: raw std
    std = calibration.apply("13C", np.array([[1.0, 2.0]]), ["radius 4", "radius 1"])
    assert std.shape == (1, 2) and std[0, 1] == pytest.approx(
        2 * calibration.factor("13C", "radius 1")
    )

    path = tmp_path / "calibration.json"
    calibration.save(path)
    assert Calibration.load(path) == calibration
