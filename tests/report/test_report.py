"""``results/report.html`` from a tiny real pipeline run, checked in headless Chromium."""

from __future__ import annotations

import json
import re
import struct

import polars as pl
import pytest

from litshift.cli import main
from litshift.cli.report import TRACKING_OFF, read_tracking
from litshift.inference.shipped import release_members
from litshift.report import records
from litshift.report.collect import Tracking, collect, run_queries
from litshift.report.page import FIGURES, render
from litshift.report.records import PUBLISHED
from litshift.report.roles import Roles
from tests.report.browser import CHROMIUM, Browser
from tests.workflow.tiny_pipeline import (
    ABLATIONS,
    TRACKED_RUNS,
    pipeline_config,
    shared_tiny_pipeline,
    tracking_env,
)


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


def test_report_reads_curves_and_counts_back_from_mlflow(pipeline) -> None:
    root, _, config = pipeline
    results = root / "results"
    data = collect(results, config)
    with tracking_env(root):
        tracking = read_tracking(run_queries(data))
    curves = records.learning_curves(data, tracking)
    assert {r.run: r.source for r in curves.runs} == {
        name: "MLflow" if name in TRACKED_RUNS else "history.json"
        for name in config["train"]["runs"]
    }
    leakage = dict(records.data_counts(data, tracking).leakage or [])
    assert leakage["weak_rows_kept"] > 0
    assert {"split", "evaluate", *(f"train:{r}" for r in TRACKED_RUNS)} <= set(tracking.runs)
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
        offline = read_tracking(run_queries(data))
    assert offline == Tracking(TRACKING_OFF)
    assert {r.source for r in records.learning_curves(data, offline).runs} == {"history.json"}
    assert records.data_counts(data, offline).leakage is None
    assert records.run_ids(offline) == {}


def test_ablations_show_mean_and_spread_over_seeds(pipeline) -> None:
    root, report, config = pipeline
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
    data = collect(root / "results", config)
    data.ablations = None
    data.metrics = data.metrics.filter(data.metrics["model"].is_in(["HOSE", "semi"]))
    page = render(data, Roles(), Tracking("off"), worst_molecules=1)
    assert 'id="headline"' in page and "not trained" in page
    assert page.count("Ablations not run — `make ablations` trains them (4 runs × 2 seeds") == 2
    assert "core-hours at the default budget (4 steps; the semi run took" in page
    assert 'id="fig-parity-13C"' in page and 'id="fig-solvent"' not in page
    assert 'id="fig-lambda"' not in page


def test_ablations_at_another_budget_are_flagged(pipeline) -> None:
    root, _, config = pipeline
    data = collect(root / "results", config)
    data.ablations = data.ablations.with_columns(max_steps=pl.lit(600, pl.Int64))
    page = render(data, Roles(), Tracking("off"), worst_molecules=0)
    assert "The ablations trained max_steps 600, the headline runs 4" in page


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
        assert headline[0][:7] == [
            "nucleus", "HOSE", "supervised", "semi", "supervised+semi", "release", "CSP5"
        ]  # fmt: skip
        assert [row[0] for row in headline[1:]] == ["1H", "13C"]
        # the pipeline scores the model shipped in the package when there is one
        scored = 6 if release_members() else 5
        for row in headline[1:]:
            assert scored == 6 or row[5] == "not shipped (make release)"
            assert row[6] == "not installed"
            assert row[7:] == [
                f"{PUBLISHED[row[0]][m]:.4g}" for m in ("HOSE", "supervised", "semi")
            ]
            assert all(re.fullmatch(r"\d+\.\d{3}\s+\[.*\] n=\d+", cell) for cell in row[1:scored])
        assert browser.evaluate("document.querySelectorAll('.gallery svg').length") >= 2
        screenshot = browser.screenshot(tmp_path / "report.png")
    width, height = struct.unpack(">II", screenshot.read_bytes()[16:24])
    assert (width, height) == (1280, 4000)


def test_the_comparisons_follow_the_configured_roles(pipeline) -> None:
    """Ablation runs play the parts report.roles gives them, whatever their overrides."""
    root, _, config = pipeline
    data = collect(root / "results", config)
    roles = Roles(lambda_sweep=("lambda_1",), solvent=(), collapse=("global_bias",))
    page = render(data, roles, Tracking("off"), worst_molecules=0)
    assert 'id="fig-lambda"' not in page and "needs two ablation runs" in page
    assert 'id="fig-solvent"' not in page and "Needs the [CLS] reference" in page
    collapse = page[page.index("Weak-only collapse") : page.index("All ablation runs")]
    assert "<td>global_bias</td>" in collapse and "<td>weak_only</td>" not in collapse
