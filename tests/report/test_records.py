"""The report's records: the numbers and names behind each section, without HTML."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from litshift.report import records
from litshift.report.collect import CURVE_SCHEMA, ReportData, RunInfo, TrackedRun, Tracking
from litshift.report.page import verdict_sentence
from litshift.report.records import Ablations, MetricsIndex
from litshift.report.roles import Roles


def _metrics(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """``eval_metrics`` rows (overall breakdown), the interval and count filled in."""
    return pl.DataFrame(
        [
            {"breakdown": "all", "group": "all", "budget": "b"}
            | {"mae_ci_lo": r["mae"] - 0.1, "mae_ci_hi": r["mae"] + 0.1, "n": 10}
            | r
            for r in rows
        ]
    )


def _data(metrics: pl.DataFrame, runs: dict[str, RunInfo] | None = None, **fields) -> ReportData:
    return ReportData(
        config={"budget": "b"} | fields.pop("config", {}),
        metrics=metrics,
        predictions=pl.DataFrame(),
        eval_summary=fields.pop("eval_summary", {}),
        runs=runs or {},
        tables={},
        benchmarks=pl.DataFrame(),
        **fields,
    )


def _run(name: str, **metrics: Any) -> RunInfo:
    history = pl.DataFrame(
        [{"metric": "loss_atom", "step": s, "value": 1.0 / s} for s in (1, 2)], schema=CURVE_SCHEMA
    )
    return RunInfo(name, {"max_steps": 100}, metrics, history)


def test_roles_are_read_from_the_config_and_checked() -> None:
    roles = Roles.from_config({"report": {"roles": {"semi": "mixed", "collapse": ["a", "b"]}}})
    assert (roles.semi, roles.collapse, roles.supervised) == ("mixed", ("a", "b"), "supervised")
    with pytest.raises(ValueError, match=r"unknown report.roles \['semi_run'\]"):
        Roles.from_config({"report": {"roles": {"semi_run": "semi"}}})
    with pytest.raises(ValueError, match="report.roles.solvent must be a list of run names"):
        Roles.from_config({"report": {"roles": {"solvent": "global_bias"}}})
    with pytest.raises(ValueError, match="report.roles.semi must be a run name"):
        Roles.from_config({"report": {"roles": {"semi": ["semi"]}}})


def _verdict_metrics(semi_13c: float, semi: str = "semi") -> MetricsIndex:
    rows = [
        {"model": model, "split": split, "level": level, "nucleus": nucleus, "mae": mae}
        for split, level in (("assigned_test", "atom"), ("literature_test", "molecule"))
        for model, nucleus, mae in (
            ("supervised", "13C", 2.0), (semi, "13C", semi_13c),
            ("supervised", "1H", 0.20), (semi, "1H", 0.18),
        )
    ]  # fmt: skip
    return MetricsIndex(_metrics(rows), ["supervised", semi])


def test_the_headline_says_whether_the_weak_data_paid() -> None:
    paid = records.weak_data_verdict(_verdict_metrics(1.8), Roles())
    assert paid is not None and paid.pays
    assert [(g.split, g.nucleus, round(g.gain, 6)) for g in paid.gains] == [
        ("assigned_test", "1H", 0.1),
        ("assigned_test", "13C", 0.1),
        ("literature_test", "1H", 0.1),
        ("literature_test", "13C", 0.1),
    ]
    sentence = verdict_sentence(paid)
    assert sentence.startswith("The literature data pays in this run")
    assert "13C assigned test +10.0%" in sentence and "1H literature test +10.0%" in sentence
    not_paid = records.weak_data_verdict(_verdict_metrics(2.1), Roles())
    assert not_paid is not None and not not_paid.pays
    sentence = verdict_sentence(not_paid)
    assert sentence.startswith("The literature data does not pay") and "-5.0%" in sentence
    assert records.weak_data_verdict(MetricsIndex(_metrics([{"model": "x", "split": "s",
        "level": "atom", "nucleus": "1H", "mae": 1.0}]), []), Roles()) is None  # fmt: skip


def test_the_headline_pair_is_the_configured_one() -> None:
    roles = Roles(semi="semi_mixed")
    m = _verdict_metrics(1.8, semi="semi_mixed")
    verdict = records.weak_data_verdict(m, roles)
    assert verdict is not None and verdict.semi == "semi_mixed" and verdict.pays
    assert "MAE reduction of semi_mixed relative to supervised" in verdict_sentence(verdict)
    assert records.weak_data_verdict(m, Roles()) is None  # no run called semi

    data = _data(m.frame, eval_summary={"csp5": {"status": "not installed"}})
    headline = records.headline(data, m, roles)
    assert headline.models == (
        "HOSE", "supervised", "semi_mixed", "supervised+semi_mixed", "release", "CSP5"
    )  # fmt: skip
    (h_row, c_row) = headline.assigned
    assert h_row.nucleus == "1H" and c_row.nucleus == "13C"
    hose, supervised, semi, pair, release, csp5 = c_row.cells
    assert (hose, pair, release, csp5) == (
        "not trained", "not evaluated", "not shipped (make release)", "not installed"
    )  # fmt: skip
    assert supervised == records.Mae(2.0, 1.9, 2.1, 10) and semi.mae == 1.8
    assert c_row.published == (2.58, 1.152, 0.929)
    assert headline.literature[0].published == (None, None, None)


def _summary(runs: dict[str, dict[str, Any]]) -> pl.DataFrame:
    """An ``ablation_summary`` with one overall 1H row per run: name -> column overrides."""
    return pl.DataFrame(
        [
            {
                "run": run,
                "nucleus": "1H",
                "solvent_class": "all",
                "mode": "semi",
                "lambda_mol": 1.0,
                "solvent_mode": "cls",
                "match_policy": "litshift",
                "overrides": json.dumps({}),
                "n_seeds": 2,
                "n_atoms": 50,
                "mae_mean": 0.3,
                "mae_std": 0.01,
                "mae_min": 0.29,
                "mae_max": 0.31,
                "max_steps": 100,
                "steps_mean": 100.0,
                "wall_seconds_mean": 60.0,
                "budget": "b",
            }
            | columns
            for run, columns in runs.items()
        ]
    )


def test_ablation_runs_play_the_parts_the_roles_give_them() -> None:
    summary = _summary(
        {
            "cls_bias": {"solvent_mode": "global_bias"},
            "lam_0": {"lambda_mol": 0.0, "mae_mean": 0.35},
            "lam_1": {"mae_mean": 0.3},
            "no_labels": {"mode": "weak_only", "mae_mean": 0.9},
            "policy": {"match_policy": "paper"},
        }
    )
    roles = Roles(
        lambda_sweep=("lam_1", "lam_0", "lam_64"),
        reference="lam_1",
        solvent=("cls_bias",),
        collapse=("no_labels",),
    )
    abl = Ablations.of(summary, roles)
    # the summary's order; a role naming a run that did not train is left out
    assert abl.sweep == ["lam_0", "lam_1"] and abl.reference == "lam_1"
    assert (abl.solvent, abl.collapse, abl.nuclei) == (["cls_bias"], ["no_labels"], ["1H"])
    assert Ablations.of(summary, Roles()).sweep == []  # default names: none of these runs

    comparison = records.solvent_comparison(abl)
    assert comparison.runs == ["lam_1", "cls_bias"]
    assert comparison.solvent_modes == {"lam_1": "cls", "cls_bias": "global_bias"}

    data = _data(
        pl.DataFrame(),
        runs={
            "supervised": _run("supervised", valid={"mae.1H": 0.4}),
            "semi": _run("semi", valid={"mae.1H": 0.32}),
            "other": _run("other", valid={"mae.1H": 0.5}),
        },
    )
    sweep = records.lambda_sweep(data, abl, roles)
    assert sweep.drawable and sweep.runs == ["lam_0", "lam_1"]
    assert sweep.points.select("lambda", "mae").rows() == [(0.0, 0.35), (1.0, 0.3)]
    assert sweep.references.select("model", "mae").rows() == [
        ("supervised", 0.4),
        ("semi", 0.32),
        ("no_labels", 0.9),
    ]
    single = Ablations.of(summary, Roles(lambda_sweep=("lam_1",)))
    assert not records.lambda_sweep(data, single, roles).drawable

    spread = abl.spread("no_labels", "1H")
    assert spread == records.Spread(0.9, 0.01, 0.29, 0.31, 2)
    assert abl.spread("no_labels", "13C") is None
    (first, *_) = records.all_ablation_runs(abl)
    assert (first.run, first.steps, first.wall_minutes) == ("cls_bias", 100.0, 1.0)


def test_ablation_cost_scales_the_semi_run() -> None:
    config = {
        "train": {"resources": {"threads": 2, "nodes": 1}, "runs": {"mixed": {}}},
        "ablations": {"runs": {"a": {}, "b": {}}, "seeds": [0, 1, 2], "max_steps": 50},
    }
    data = _data(pl.DataFrame(), runs={"mixed": _run("mixed", wall_seconds=600.0)}, config=config)
    cost = records.ablation_cost(data, Roles(semi="mixed"))
    # 2 runs x 3 seeds x 600 s x 2 cores x 50/100 steps
    assert cost == records.AblationCost(2, 3, "mixed", 1.0, 50, 10.0, 2)
    assert records.ablation_cost(data, Roles()) == records.AblationCost(2, 3, "semi")


def test_curves_and_run_ids_come_from_the_matched_mlflow_runs() -> None:
    logged = pl.DataFrame([{"metric": "loss_atom", "step": 5, "value": 0.1}], schema=CURVE_SCHEMA)
    data = _data(pl.DataFrame(), runs={"a": _run("a"), "b": _run("b")})
    tracking = Tracking(
        "store",
        {
            "train:a": TrackedRun("id-a", {"test_mae": 1.0}, logged),
            "split": TrackedRun("id-split", {"weak_rows_kept": 3.0}, logged.clear()),
        },
        page_run_id="id-page",
    )
    curves = records.learning_curves(data, tracking)
    assert [(r.run, r.source, r.run_id) for r in curves.runs] == [
        ("a", "MLflow", "id-a"),
        ("b", "history.json", None),
    ]
    assert curves.metrics == ["loss_atom"] and curves.table.height == 1 + 2
    assert records.run_ids(tracking) == {
        "train:a": "id-a",
        "split": "id-split",
        "report (this page)": "id-page",
    }
    assert records.data_counts(data, tracking).leakage == [("weak_rows_kept", 3)]
