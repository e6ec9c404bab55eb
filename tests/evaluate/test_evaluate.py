"""``litshift evaluate`` on the outputs of a tiny real pipeline run."""

from __future__ import annotations

import json
from collections import defaultdict

import numpy as np
import polars as pl
import pytest

from litshift.chem.matching import BRANCHES
from litshift.data.catalog import build_catalog
from litshift.data.io import read_table
from litshift.inference.predictors import csp5_version
from litshift.inference.shipped import release_members
from tests.workflow.tiny_pipeline import RUNS, shared_tiny_pipeline


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    return shared_tiny_pipeline(tmp_path_factory) / "results"


@pytest.fixture(scope="module")
def predictions(results) -> pl.DataFrame:
    return pl.from_arrow(read_table(results / "eval/predictions.parquet", "eval_predictions"))


@pytest.fixture(scope="module")
def metrics(results) -> pl.DataFrame:
    return pl.from_arrow(read_table(results / "eval/metrics.parquet", "eval_metrics"))


def test_every_model_is_scored_on_the_same_test_atoms(results, predictions) -> None:
    summary = json.loads((results / "eval/summary.json").read_text())
    # the DAG scores the model shipped in the package beside its runs
    shipped = ["release"] if release_members() else []
    # and the headline pair averaged, a deep ensemble named after both runs
    expected = ["HOSE", *RUNS, "+".join(RUNS), *shipped] + (["CSP5"] if csp5_version() else [])
    assert summary["models"] == expected
    assert sorted(predictions["model"].unique()) == sorted(expected)
    # literature rows pair groups by predicted rank: only the observed peaks are common
    keys = ["split", "record_id", "nucleus", "observed", "atom"]
    scored = predictions.with_columns(
        atom=pl.when(pl.col("split") == "assigned_test").then(pl.col("atom_index"))
    )
    sets = {
        model: frame.select(keys).sort(keys, nulls_last=True)
        for (model,), frame in scored.group_by("model")
        if model != "CSP5"
    }
    first = next(iter(sets.values()))
    assert all(frame.equals(first) for frame in sets.values())
    assert set(predictions["split"]) == {"assigned_test", "literature_test"}
    if csp5_version() is None:
        assert "not installed" in summary["csp5"]["note"]


def test_assigned_rows_are_the_mean_label_of_each_molecule_and_solvent(results, predictions):
    assigned = pl.from_arrow(read_table(results / "curated/assigned.parquet", "assigned"))
    row = predictions.filter(pl.col("model") == "HOSE", pl.col("split") == "assigned_test").row(
        0, named=True
    )
    spectra = assigned.filter(
        pl.col("smiles") == row["smiles"],
        pl.col("solvent") == row["solvent"],
        pl.col("nucleus") == row["nucleus"],
    )
    shifts = defaultdict(list)
    for labels in spectra["labels"]:
        for label in labels:
            shifts[label["atom_index"]].append(label["shift"])
    assert row["observed"] == pytest.approx(np.mean(shifts[row["atom_index"]]))


def test_literature_rows_are_the_sorted_matching_pairs(predictions) -> None:
    literature = predictions.filter(pl.col("split") == "literature_test")
    assert literature.height > 0
    for (_, _, _), frame in literature.group_by("model", "record_id", "nucleus"):
        assert np.all(np.diff(frame["observed"].to_numpy()) >= 0)
        assert np.all(np.diff(frame["predicted"].to_numpy()) >= 0)
    assert set(literature["match_branch"]) <= set(BRANCHES)


def test_metrics_agree_with_the_predictions_and_the_trainer(results, predictions, metrics):
    by_key = {
        (r["model"], r["split"], r["level"], r["nucleus"], r["breakdown"], r["group"]): r
        for r in metrics.iter_rows(named=True)
    }
    for (model, nucleus), frame in predictions.filter(pl.col("split") == "assigned_test").group_by(
        "model", "nucleus"
    ):
        row = by_key[(model, "assigned_test", "atom", nucleus, "all", "all")]
        assert row["mae"] == pytest.approx((frame["predicted"] - frame["observed"]).abs().mean())
        assert row["mae_ci_lo"] <= row["mae"] <= row["mae_ci_hi"]
        assert row["budget"] == "test-tiny"
    # the trainer scores the same test molecules per solvent class; CDCl3 is one fine solvent
    trained = json.loads((results / "models/semi/metrics.json").read_text())["test"]
    for nucleus in ("1H", "13C"):
        key = ("semi", "assigned_test", "atom", nucleus, "solvent_class", "CDCl3")
        if key in by_key:
            assert by_key[key]["mae"] == pytest.approx(trained[f"mae.{nucleus}.CDCl3"], rel=1e-5)
    breakdowns = metrics.group_by("level").agg(pl.col("breakdown").unique())
    levels = {r["level"]: set(r["breakdown"]) for r in breakdowns.iter_rows(named=True)}
    assert levels["atom"] == {"all", "solvent_class", "solvent", "environment", "similarity"}
    assert "environment" not in levels["molecule"]
    assert set(metrics.filter(pl.col("breakdown") == "similarity")["group"]) <= {
        "<0.5",
        "0.5-0.7",
        ">=0.7",
    }


def test_catalog_has_views_of_both_tables(results, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(results.parent)
    counts = build_catalog(tmp_path / "catalog.duckdb", "results")
    assert counts["eval_predictions"] > 0 and counts["eval_metrics"] > 0


def test_every_prediction_has_a_calibrated_std_and_coverage_rows(results, predictions) -> None:
    assert (predictions["std"] > 0).all()
    summary = json.loads((results / "eval/summary.json").read_text())
    # runs bring their calibration.json; HOSE was fitted here, per matched radius
    assert set(summary["calibration"]) == set(summary["models"])
    assert summary["calibration"]["semi"][0]["scales"]
    assert "all" in summary["calibration"]["HOSE"][0]["scales"]["13C"]
    uncertainty = pl.from_arrow(
        read_table(results / "eval/uncertainty.parquet", "eval_uncertainty")
    )
    assert set(uncertainty["model"]) == set(summary["models"])
    for row in uncertainty.iter_rows(named=True):
        assert 0 <= row["coverage_50"] <= row["coverage_80"] <= row["coverage_95"] <= 1
        assert row["n"] > 0 and np.isfinite(row["nll"])
