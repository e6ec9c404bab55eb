"""``results/report.html`` from a tiny real pipeline run, checked in headless Chromium."""

from __future__ import annotations

import json
import re
import struct

import polars as pl
import pytest

from litshift.cli import main
from litshift.report.collect import collect
from litshift.report.page import FIGURES, PUBLISHED, render
from tests.pipeline_results import (
    ABLATIONS,
    TRACKED_RUNS,
    pipeline_config,
    shared_tiny_pipeline,
    tracking_env,
)
from tests.report.browser import CHROMIUM, Browser


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """The shared tiny run (read-only), its config and this module's report of it."""
    root = shared_tiny_pipeline(tmp_path_factory)
    report = tmp_path_factory.mktemp("report") / "report.html"
    config = pipeline_config(root)
    argv = [
        "report",
        "--results",
        str(root / "results"),
        "--config-json",
        json.dumps(config),
        "--out",
        str(report),
    ]
    with tracking_env(root):
        assert main(argv) == 0
    return root, report, config


def test_report_is_self_contained(pipeline) -> None:
    _, report, _ = pipeline
    page = report.read_text()
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|@import|url\(", page, re.I)
    sources = re.findall(r"\bsrc=[\"']([^\"']+)", page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    assert "test-tiny" in page and "not installed" in page
    assert "<section id='verification'>" in page and "top-1 / top-3" in page


def test_report_reads_curves_and_counts_back_from_mlflow(pipeline, monkeypatch) -> None:
    root, _, config = pipeline
    results = root / "results"
    with tracking_env(root):
        data = collect(results, config)
    assert {r.name: r.curve_source for r in data.runs.values()} == {
        name: "MLflow" if name in TRACKED_RUNS else "history.json"
        for name in config["train"]["runs"]
    }
    assert data.leakage is not None and data.leakage["weak_rows_kept"] > 0
    assert {"split", "evaluate", *(f"train:{r}" for r in TRACKED_RUNS)} <= set(data.mlflow_runs)
    assert {"split", "evaluate", "train/semi"} <= set(data.benchmarks["rule"])

    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{results}/mlflow/mlflow.db")
    experiment = client.get_experiment_by_name("tiny-pipeline")
    # another xdist worker may be rendering its own report right now: look at finished runs
    finished = "tags.stage = 'report' and attributes.status = 'FINISHED'"
    runs = client.search_runs([experiment.experiment_id], finished)
    assert runs and all(
        [a.path for a in client.list_artifacts(run.info.run_id)] == ["report.html"] for run in runs
    )

    with tracking_env(root, enabled=False):
        offline = collect(results, config)
    assert {r.curve_source for r in offline.runs.values()} == {"history.json"}
    assert offline.leakage is None and offline.mlflow_runs == {}


def test_ablations_show_mean_and_spread_over_seeds(pipeline) -> None:
    root, report, config = pipeline
    with tracking_env(root, enabled=False):
        data = collect(root / "results", config)
    assert data.ablations is not None
    overall = data.ablations.filter(data.ablations["solvent_class"] == "all")
    assert set(overall["run"]) == set(ABLATIONS["runs"]) and set(overall["n_seeds"]) == {2}
    page = report.read_text()
    assert 'id="fig-lambda"' in page and 'id="fig-solvent"' in page
    assert "Weak-only collapse" in page and "2 seeds</span>" in page
    assert "Ablations not run" not in page and "not at equal budget" not in page


def test_missing_ablations_and_runs_become_notes_not_errors(pipeline) -> None:
    root, _, config = pipeline
    config = config | {"train": config["train"] | {"runs": {"semi": {}}}}
    with tracking_env(root, enabled=False):
        data = collect(root / "results", config)
    data.ablations = None
    data.metrics = data.metrics.filter(data.metrics["model"].is_in(["HOSE", "semi"]))
    page = render(data, worst_molecules=1)
    assert 'id="headline"' in page and "not trained" in page
    assert page.count("Ablations not run — `make ablations` trains them (4 runs × 2 seeds") == 2
    assert "core-hours at the default budget (6 steps; the semi run took" in page
    assert 'id="fig-parity-13C"' in page and 'id="fig-solvent"' not in page
    assert 'id="fig-lambda"' not in page


def test_ablations_at_another_budget_are_flagged(pipeline) -> None:
    root, _, config = pipeline
    with tracking_env(root, enabled=False):
        data = collect(root / "results", config)
    data.ablations = data.ablations.with_columns(max_steps=pl.lit(600, pl.Int64))
    page = render(data, worst_molecules=0)
    assert "The ablations trained max_steps 600, the headline runs 6" in page


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (make system-deps)")
def test_report_in_headless_chromium(pipeline, tmp_path) -> None:
    _, report, _ = pipeline
    with Browser(tmp_path) as browser:
        load = browser.load(report.as_uri())
        assert load.errors == []
        assert [u for u in load.requests if not u.startswith(("file://", "data:"))] == []
        assert (
            browser.evaluate(
                "performance.getEntriesByType('resource')"
                ".filter(e => !e.name.startsWith('data:')).length"
            )
            == 0
        )
        shown = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('figure')].map(f => "
            "[f.id, f.querySelector('img').complete && f.querySelector('img').naturalWidth]))"
        )
        assert set(shown) == set(FIGURES) and all(shown.values())
        headline = browser.evaluate(
            "[...document.querySelectorAll('#headline tr')].map(r => "
            "[...r.cells].map(c => c.innerText))"
        )
        assert headline[0][:6] == ["nucleus", "HOSE", "supervised", "semi", "release", "CSP5"]
        assert [row[0] for row in headline[1:]] == ["1H", "13C"]
        for row in headline[1:]:
            assert row[4] == "not shipped (make release)"  # the test pipeline scores no release
            assert row[5] == "not installed"
            assert row[6:] == [
                f"{PUBLISHED[row[0]][m]:.4g}" for m in ("HOSE", "supervised", "semi")
            ]
            assert all(re.fullmatch(r"\d+\.\d{3}\s+\[.*\] n=\d+", cell) for cell in row[1:4])
        assert browser.evaluate("document.querySelectorAll('.gallery svg').length") >= 2
        screenshot = browser.screenshot(tmp_path / "report.png")
    width, height = struct.unpack(">II", screenshot.read_bytes()[16:24])
    assert (width, height) == (1280, 4000)


def test_the_headline_says_whether_the_weak_data_paid() -> None:
    from litshift.report.page import _Metrics, _weak_data_verdict

    def metrics(semi_13c: float) -> _Metrics:
        rows = [
            {"model": model, "split": split, "level": level, "nucleus": nucleus,
             "breakdown": "all", "group": "all", "mae": mae}
            for split, level in (("assigned_test", "atom"), ("literature_test", "molecule"))
            for model, nucleus, mae in (
                ("supervised", "13C", 2.0), ("semi", "13C", semi_13c),
                ("supervised", "1H", 0.20), ("semi", "1H", 0.18),
            )
        ]  # fmt: skip
        return _Metrics(pl.DataFrame(rows), ["supervised", "semi"])

    (paid,) = _weak_data_verdict(metrics(1.8))
    assert paid.startswith("The literature data pays in this run")
    assert "13C assigned test +10.0%" in paid and "1H literature test +10.0%" in paid
    (not_paid,) = _weak_data_verdict(metrics(2.1))
    assert not_paid.startswith("The literature data does not pay") and "-5.0%" in not_paid
    assert _weak_data_verdict(_Metrics(pl.DataFrame(metrics(2.0).frame[:0]), [])) == []
