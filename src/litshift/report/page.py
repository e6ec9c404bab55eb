"""The report page: one self-contained HTML file, the view of :mod:`litshift.report.records`.

CSS is inline, plots are PNG data URIs and molecules inline SVG, so the file opens anywhere
without a single network request (the browser test checks exactly that). Sections follow what
a chemist asks first: how good is it (headline, parity, errors), where does it fail (solvent,
environment, distance to training data, worst molecules), what did the literature add (λ
sweep, collapse, learning curves), what went in (data) and how to reproduce it. Every number
comes from a record; this module only words and lays it out.
"""

from __future__ import annotations

import html
import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.evaluate.scoring import LITERATURE_TEST
from litshift.inference.uncertainty import LEVELS
from litshift.provenance import config_hash
from litshift.report import figures, records
from litshift.report.collect import ReportData, Tracking
from litshift.report.gallery import molecule_svg
from litshift.report.records import (
    SPLIT_LEVELS,
    WEAK_DATA_GAIN,
    AblationCost,
    Ablations,
    BarPanel,
    Mae,
    MetricsIndex,
    Spread,
)
from litshift.report.roles import Roles

__all__ = [
    "FIGURES",
    "Html",
    "hetero_table",
    "hose_baseline_table",
    "render",
    "verdict_sentence",
]

#: id -> what it shows; every id is a <figure> of a complete report, `make ablations` included
#: (the browser test's list)
FIGURES: dict[str, str] = {
    "fig-parity-1H": "1H parity",
    "fig-parity-13C": "13C parity",
    "fig-errors-1H": "1H error histogram",
    "fig-errors-13C": "13C error histogram",
    "fig-solvent": "per-solvent MAE with and without [CLS] conditioning",
    "fig-lambda": "λ sweep",
    "fig-curves": "learning curves",
    "fig-similarity": "ID/OOD bins",
    "fig-environment": "atom environments",
    "fig-uncertainty": "error vs predicted uncertainty",
    "fig-data-solvents": "solvent distribution",
}

_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  margin: 0 auto; max-width: 1240px; padding: 0 24px 48px; color: #1d2330; line-height: 1.45; }
header { border-bottom: 3px solid #2b6cb0; margin-bottom: 12px; }
h1 { font-size: 26px; margin: 24px 0 4px; }
h2 { font-size: 20px; margin-top: 36px; border-bottom: 1px solid #d5dbe5; padding-bottom: 4px; }
h3 { font-size: 16px; margin-top: 22px; }
.meta { color: #55607a; font-size: 13px; margin: 4px 0 12px; }
.meta code, td code { background: #eef2f7; padding: 0 4px; border-radius: 3px; }
table { border-collapse: collapse; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid #d5dbe5; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eef2f7; } td.num { text-align: right; }
caption { caption-side: bottom; text-align: left; color: #55607a; font-size: 12px; padding: 4px 0; }
.ci { color: #55607a; font-size: 11px; white-space: nowrap; }
.published { background: #fdf6e3; font-style: italic; }
table.headline { font-size: 15px; }
table.headline td { min-width: 96px; }
figure { margin: 12px 0 20px; }
figure img { max-width: 100%; height: auto; border: 1px solid #e3e7ee; }
figcaption { color: #55607a; font-size: 12.5px; max-width: 1000px; }
.note { background: #f4f7fb; border-left: 4px solid #2b6cb0; padding: 6px 12px; font-size: 13px; }
.warn { background: #fff5f5; border-left: 4px solid #c53030; padding: 6px 12px; font-size: 13px; }
.gallery { display: flex; flex-wrap: wrap; gap: 12px; }
.gallery .molecule { border: 1px solid #e3e7ee; padding: 6px; width: 360px; }
.gallery .molecule p { font-size: 11.5px; color: #55607a; word-break: break-all; margin: 4px 0; }
nav a { margin-right: 12px; font-size: 13px; color: #2b6cb0; text-decoration: none; }
"""


class Html(str):
    """Markup inserted into the page as is (everything else is escaped)."""


class Number(Html):
    """Markup showing a number (right-aligned in tables)."""


def _cell(value: Any) -> str:
    if isinstance(value, Html):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.4g}"
    return html.escape(str(value))


def _table(
    header: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    caption: str | None = None,
    attrs: str = "",
) -> Html:
    head = "".join(f"<th>{_cell(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td class='num'>{_cell(c)}</td>"
            if isinstance(c, int | float | Number) and not isinstance(c, bool)
            else f"<td>{_cell(c)}</td>"
            for c in r
        )
        + "</tr>"
        for r in rows
    )
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return Html(f"<table {attrs}>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")


def _figure(figure_id: str, uri: str, caption: str) -> Html:
    return Html(
        f'<figure id="{figure_id}"><img src="{uri}" alt="{html.escape(FIGURES[figure_id])}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _note(text: str, kind: str = "note") -> Html:
    return Html(f'<p class="{kind}">{html.escape(text)}</p>')


def _mae_cell(score: Mae | None, digits: int = 3) -> Number | None:
    if score is None:
        return None
    return Number(
        f"{score.mae:.{digits}f}<br><span class='ci'>[{score.lo:.{digits}f}, "
        f"{score.hi:.{digits}f}] n={score.n}</span>"
    )


def _published(value: float | None) -> Number:
    return Number(f"<span class='published'>{_cell(value)}</span>")


def _headline_cells(row: records.HeadlineRow, published: bool) -> list[Any]:
    cells = [c if isinstance(c, str) else _mae_cell(c) for c in row.cells]
    return [row.nucleus, *cells, *(map(_published, row.published) if published else ())]


def verdict_sentence(verdict: records.WeakDataVerdict) -> str:
    """One plain sentence on whether the weak data paid in this run."""
    semi, supervised = verdict.semi, verdict.supervised
    listed = "; ".join(
        f"{g.nucleus} {'literature' if g.split == LITERATURE_TEST else 'assigned'} test "
        f"{g.gain:+.1%}"
        for g in verdict.gains
    )
    if verdict.pays:
        said = "The literature data pays in this run"
    else:
        said = (
            f"The literature data does not pay in this run ({semi} is not {WEAK_DATA_GAIN:.0%} "
            f"better than {supervised} everywhere)"
        )
    return (
        f"{said}: MAE reduction of {semi} relative to {supervised}, {listed} (positive = "
        f"{semi} better). Both runs get the same compute (a semi step costs about two "
        "supervised steps); docs/training.md has the λ sweep, the weak-set sizes and the "
        "fine-tuning comparison behind the default."
    )


def _headline_section(headline: records.Headline, hetero: records.HeteroHeadline | None) -> Html:
    header = [
        "nucleus",
        *headline.models,
        *(
            Html(f"<span class='published'>published: {k}</span>")
            for k in ("HOSE", "supervised", "semi")
        ),
    ]
    assigned = _table(
        header,
        [_headline_cells(row, True) for row in headline.assigned],
        caption=(
            f"Test MAE (ppm) on the assigned test split, atom level, with the 95 % cluster-"
            f"bootstrap interval over molecules and the number of atoms. Produced by this run "
            f"under budget '{headline.budget}'; '{headline.models[3]}' averages the two "
            "headline runs (a deep ensemble of two, what `litshift predict` uses in this "
            "checkout); 'release' is the model shipped with litshift "
            f"(trained longer by `make release` on the same training split, see its "
            "MODEL_CARD.md). Published columns (shaded, italic) are the paper's "
            "reported figures, for reference only: they were not produced by this pipeline "
            "and come from the paper's own data and training budget, not this one."
        ),
        attrs='id="headline" class="headline"',
    )
    literature = _table(
        header[: 1 + len(headline.models)],
        [_headline_cells(row, False) for row in headline.literature],
        caption=(
            "Held-out literature molecules (connectivity key in no training set): molecule-"
            "level sorted-matching MAE (ppm), the L_mol metric with the training count-mismatch "
            f"policy ({headline.match_policy}); n = matched peaks."
        ),
        attrs='id="headline-literature"',
    )
    notes = [_note(verdict_sentence(headline.verdict))] if headline.verdict is not None else []
    notes.append(_note(headline.csp5_note))
    notes.append(
        _note(
            "CSP5 was trained on public NMR data that may overlap NMRShiftDB2, so its test "
            "figures here may be optimistic (its training set can contain our test molecules)."
        )
    )
    return Html(
        "<section id='summary'><h2>Headline: test MAE per nucleus</h2>"
        + assigned
        + literature
        + (hetero_table(hetero) if hetero is not None else "")
        + "".join(notes)
        + "</section>"
    )


def hetero_table(hetero: records.HeteroHeadline) -> str:
    """31P/19F rows (config.hetero.yaml): HOSE and the runs with those heads on the held-out
    molecule-level sets, and those runs' 1H/13C on the assigned test split beside the
    supervised run."""
    body = []
    for row in hetero.rows:
        cells: list[Any] = [row.nucleus, _mae_cell(row.hose, 2) or "not scored"]
        for found, gain in row.runs:
            vs_hose = f"<br><span class='ci'>{gain:+.0%} vs HOSE</span>" if gain is not None else ""
            cells.append(Number(str(_mae_cell(found, 2)) + vs_hose) if found else "not trained")
        cells.append(_published(row.published))
        body.append(cells)
    table = _table(
        ["nucleus", "HOSE", *hetero.runs, Html("<span class='published'>published</span>")],
        body,
        caption=(
            "Heteronuclei (config.hetero.yaml): molecule-level sorted-matching MAE (ppm) on the "
            "NMRShiftDB2 sets of the held-out 31P/19F molecules (split weak_test), HOSE fitted "
            "per nucleus on the same training molecules; 95 % cluster-bootstrap interval, n = "
            "matched peaks. Published: the paper's 19F test MAE from ~1k spectra, for "
            "reference only."
        ),
        attrs='id="headline-heteronuclei"',
    )
    checks = [
        f"{c.run} {c.nucleus} {c.mae:.3f} ({hetero.reference} {c.reference_mae:.3f})"
        for c in hetero.checks
    ]
    note = (
        _note(f"Assigned test MAE of the heteronucleus runs: {'; '.join(checks)}.")
        if checks
        else ""
    )
    return table + note


def _parity_section(panels: Sequence[records.ParityPanel], colors: figures.Colors) -> Html:
    parts = ["<section id='accuracy'><h2>Parity and error distributions (assigned test)</h2>"]
    for panel in panels:
        nucleus = panel.nucleus
        if not panel.frames:
            parts.append(_note(f"No {nucleus} atoms in the assigned test split."))
            continue
        parts.append(
            _figure(
                f"fig-parity-{nucleus}",
                figures.data_uri(figures.parity(panel.frames, nucleus, colors)),
                f"Predicted vs observed {nucleus} shifts of every labeled atom of the assigned "
                "test split; dashed: perfect prediction.",
            )
        )
        parts.append(
            _figure(
                f"fig-errors-{nucleus}",
                figures.data_uri(figures.error_histograms(panel.errors, nucleus, colors)),
                f"Distribution of {nucleus} errors (predicted - observed).",
            )
        )
    return Html("".join(parts) + "</section>")


def _bars_section(
    section: str,
    title: str,
    figure_id: str,
    panels: Sequence[BarPanel],
    models: Sequence[str],
    colors: figures.Colors,
    caption: str,
    ncols: int = 2,
) -> Html:
    """A section holding one :func:`figures.bar_panels` figure, or a note when it is empty."""
    head = f"<section id='{section}'><h2>{html.escape(title)}</h2>"
    if not panels:
        return Html(head + _note(f"No data for: {FIGURES[figure_id]}.") + "</section>")
    uri = figures.data_uri(figures.bar_panels(panels, models, colors, ncols=ncols))
    return Html(head + _figure(figure_id, uri, caption) + "</section>")


def _spread_cell(spread: Spread | None) -> Number | None:
    """Validation MAE: mean ± sample std over seeds, then [min, max] and the seed count."""
    if spread is None:
        return None
    std = "—" if spread.std is None else f"{spread.std:.3f}"
    return Number(
        f"{spread.mean:.3f} ± {std}<br><span class='ci'>[{spread.lo:.3f}, "
        f"{spread.hi:.3f}] {spread.n_seeds} seed{'s' if spread.n_seeds != 1 else ''}</span>"
    )


def _not_run(cost: AblationCost) -> Html:
    """``9 runs × 2 seeds, about 1.7 core-hours at the default budget`` in a note."""
    text = f"{cost.runs} runs × {cost.seeds} seeds"
    if cost.hours is None:
        text += f", time per run unknown without a trained {cost.semi} run"
    else:
        text += (
            f", about {cost.hours:.1f} core-hours at the default budget "
            f"({cost.steps or 'epoch-bounded'} steps; the {cost.semi} run took "
            f"{cost.semi_minutes:.0f} min on {cost.cores} core{'s' if cost.cores != 1 else ''})"
        )
    return _note(f"Ablations not run — `make ablations` trains them ({text}).")


def _budget_note(budgets: tuple[list[str], list[str]] | None) -> str:
    """A warning when the ablations trained another step budget than the headline runs."""
    if budgets is None:
        return ""
    ablation, headline = budgets
    return _note(
        f"The ablations trained max_steps {', '.join(ablation)}, the headline runs "
        f"{', '.join(headline)}: references from the headline runs are not at equal budget.",
        "warn",
    )


def _solvent_section(abl: Ablations | None, cost: AblationCost, colors: figures.Colors) -> Html:
    head = "<section id='solvent'><h2>Solvent conditioning (ablations)</h2>"
    if abl is None:
        return Html(head + _not_run(cost) + "</section>")
    comparison = records.solvent_comparison(abl)
    runs = comparison.runs
    if len(runs) < 2:
        return Html(
            head
            + _note(
                "Needs the [CLS] reference (the λ-sweep run at train.lambda_mol) and an "
                "ablation run turning only model.solvent_mode."
            )
            + "</section>"
        )
    return _bars_section(
        "solvent",
        "Solvent conditioning (ablations)",
        "fig-solvent",
        comparison.panels,
        runs,
        colors,
        "Validation MAE per solvent class, mean over seeds (whiskers: lowest and highest seed), "
        f"for the solvent class fed to the [CLS] token ({runs[0]}), "
        + ", ".join(f"{r} (solvent_mode {comparison.solvent_modes[r]})" for r in runs[1:])
        + ". Runs differ only in the solvent input.",
    )


def _lambda_section(
    data: ReportData,
    abl: Ablations | None,
    roles: Roles,
    cost: AblationCost,
    colors: figures.Colors,
) -> Html:
    parts = ["<section id='mixing'><h2>Ablations: λ sweep, weak-only collapse, all runs</h2>"]
    if abl is None:
        return Html(parts[0] + _not_run(cost) + "</section>")
    sweep = records.lambda_sweep(data, abl, roles)
    if sweep.drawable:
        parts.append(
            _figure(
                "fig-lambda",
                figures.data_uri(figures.lambda_sweep(sweep.points, sweep.references, colors)),
                f"Validation MAE against λ, the weight of the sorted-matching loss L_mol (runs "
                f"{', '.join(sweep.runs)}): mean over seeds, bars from the lowest to the highest "
                "seed; λ=0 keeps the weak batches but not their gradient. Dashed lines: the "
                "headline runs (one seed) and the weak-only ablation (mean over seeds).",
            )
        )
        parts.append(_budget_note(records.ablation_budgets(data, abl)))
    else:
        parts.append(_note("The λ sweep needs two ablation runs turning only lambda_mol."))

    if abl.collapse:
        runs = [*abl.collapse, *([abl.reference] if abl.reference else [])]
        parts.append("<h3>Weak-only collapse</h3>")
        parts.append(
            _table(
                ["run", *(f"{n} valid MAE (ppm)" for n in abl.nuclei)],
                [[run, *(_spread_cell(abl.spread(run, n)) for n in abl.nuclei)] for run in runs],
                caption="Without any atom-assigned label (weak_only), L_mol only asks each "
                "molecule's sorted predictions to match its sorted peaks: the model can learn "
                "the distribution of shifts without learning which atom carries which. Where "
                "that happens (collapse), its atom-level validation error stays far above the "
                "semi run's at the same budget and seeds.",
            )
        )
    else:
        parts.append(_note("No weak_only ablation run in the summary."))

    parts.append("<h3>All ablation runs</h3>")
    parts.append(
        _table(
            [
                "run",
                "overrides",
                *(f"{n} valid MAE (ppm)" for n in abl.nuclei),
                "steps",
                "wall min",
            ],
            [
                [
                    run.run,
                    Html(f"<code>{html.escape(run.overrides)}</code>"),
                    *map(_spread_cell, run.spreads),
                    run.steps,
                    run.wall_minutes,
                ]
                for run in records.all_ablation_runs(abl)
            ],
            caption="results/ablations/summary.parquet: validation MAE mean ± std over seeds "
            "[lowest, highest seed]; each run is train: plus its overrides (config.yaml "
            f"ablations), budget {', '.join(sorted(set(abl.rows['budget'])))}.",
        )
    )
    return Html("".join(parts) + "</section>")


def _curves_section(curves: records.Curves, colors: figures.Colors) -> Html:
    head = "<section id='curves'><h2>Learning curves</h2>"
    if not curves.metrics:
        return Html(head + _note("No training history found.") + "</section>")
    sources = _table(
        ["run", "curves from", "MLflow run id", "evaluations", "budget"],
        [
            [
                r.run,
                r.source,
                Html(f"<code>{r.run_id}</code>") if r.run_id else None,
                r.curves.filter(pl.col("metric") == curves.metrics[0]).height,
                r.budget,
            ]
            for r in curves.runs
        ],
        caption="Curves are read back from MLflow when the run's logged test MAE matches its "
        "metrics.json; otherwise (tracking off) from the run's history.json.",
    )
    runs = [r.run for r in curves.runs]
    return Html(
        head
        + _figure(
            "fig-curves",
            figures.data_uri(figures.learning_curves(curves.table, curves.metrics, runs, colors)),
            "Validation MAE per nucleus and the two loss terms (normalized units) at every "
            "evaluation of every run.",
        )
        + sources
        + "</section>"
    )


def _similarity_section(
    data: ReportData, m: MetricsIndex, models: Sequence[str], colors: figures.Colors
) -> Html:
    similarity = data.eval_summary.get("similarity", {})
    return _bars_section(
        "ood",
        "Distance to the training set (ID/OOD)",
        "fig-similarity",
        records.similarity_panels(m, models, similarity.get("bins", [0.5, 0.7])),
        models,
        colors,
        f"MAE by the test molecule's highest Tanimoto similarity to any training molecule "
        f"({similarity.get('fingerprint', 'Morgan')}; training molecules: "
        f"{similarity.get('reference', 'training set')}). Low similarity = out of distribution.",
    )


def _environment_section(m: MetricsIndex, models: Sequence[str], colors: figures.Colors) -> Html:
    return _bars_section(
        "environments",
        "Atom environments",
        "fig-environment",
        records.environment_panels(m, models),
        models,
        colors,
        "MAE per atom environment (protons: the environment of their carbon, or NH/OH/SH), "
        "largest groups first.",
        ncols=1,
    )


def _all_models_section(m: MetricsIndex) -> Html:
    header = ["model"] + [f"{n} · {label}" for _, _, label in SPLIT_LEVELS for n in m.nuclei]
    rows = [
        [model] + [_mae_cell(m.mae(model, s, lv, n)) for s, lv, _ in SPLIT_LEVELS for n in m.nuclei]
        for model in m.models
    ]
    return Html(
        "<section id='models'><h2>All models</h2>"
        + _table(header, rows, caption="MAE (ppm) [95 % interval] n, every evaluated model.")
        + "</section>"
    )


def _verification_section(verification: records.Verification | None) -> Html:
    """Top-1/top-3 accuracy of ``litshift verify`` against same-formula decoys."""
    head = "<section id='verification'><h2>Structure verification: true structure vs decoys</h2>"
    if verification is None:
        return Html(
            head + _note("The decoy benchmark (verify_benchmark) did not run.") + "</section>"
        )

    def cell(accuracy: records.Accuracy | None) -> Number | None:
        if accuracy is None:
            return None
        return Number(
            f"{accuracy.top1:.2f} / {accuracy.top3:.2f}<br><span class='ci'>"
            f"n={accuracy.n_cases}, {accuracy.mean_candidates:.1f} candidates</span>"
        )

    counts, settings = verification.counts, verification.settings
    skipped = ", ".join(f"{k} {v}" for k, v in verification.skipped.items())
    note = (
        f"Each case is a test spectrum (assigned test: one peak per symmetry class; literature "
        f"test: peaks as reported) with up to {settings.get('n_decoys')} decoys of its molecular "
        f"formula: positional isomers ({counts.get('decoys.positional', 0)}) and other molecules "
        f"of the data ({counts.get('decoys.formula', 0)}); cases with fewer than "
        f"{settings.get('min_decoys')} usable decoys are skipped ({skipped or 'none'}). "
        f"Candidates are matched to the peaks with the training count-mismatch policy and scored "
        f"DP4-style ({verification.error_model.get('likelihood')} on the calibrated std, equal "
        f"priors). CSP5: {verification.csp5}. Budget {verification.budget}, at most "
        f"{settings.get('max_cases')} cases per split."
    )
    return Html(
        head
        + _table(
            ["split", "model", *(f"{n}: top-1 / top-3" for n in verification.nuclei)],
            [[split, model, *map(cell, cells)] for split, model, cells in verification.rows],
            caption=(
                "Fraction of cases whose true structure ranks first / in the first three;"
                " a random ranking of k candidates scores 1/k / 3/k."
            ),
        )
        + _note(note)
        + "</section>"
    )


def _uncertainty_section(
    uncertainty: records.Uncertainty | None, models: Sequence[str], colors: figures.Colors
) -> Html:
    """Coverage of the calibrated intervals and the error-vs-uncertainty curve (assigned test)."""
    head = "<section id='uncertainty'><h2>Uncertainty (assigned test, atom level)</h2>"
    if uncertainty is None:
        return Html(head + _note(f"No data for: {FIGURES['fig-uncertainty']}.") + "</section>")
    rows = [
        [r.model, r.nucleus, *r.coverages, r.nll, r.spearman, r.mean_std, r.n]
        for r in uncertainty.rows
    ]
    return Html(
        head
        + _table(
            ["model", "nucleus", *(f"coverage {round(100 * lv)} %" for lv in LEVELS)]
            + ["NLL (nats)", "Spearman |error| vs std", "mean std (ppm)", "atoms"],
            rows,
            caption="Fraction of test atoms inside the central 50/80/95 % Gaussian interval "
            "(ideal: 0.50/0.80/0.95) and the mean negative log-likelihood (lower is better).",
        )
        + (
            _figure(
                "fig-uncertainty",
                figures.data_uri(figures.uncertainty_curves(uncertainty.curves, colors)),
                "Test atoms binned by deciles of their predicted std: observed RMSE against the "
                "bin's mean std (dashed: calibrated). A rising curve means the std ranks atoms by "
                "their error; a constant std (CSP5, a run without the head) stays at one x, "
                "HOSE's steps are its sphere radii.",
            )
            if uncertainty.curves
            else _note(f"No headline model ({', '.join(models)}) to draw the curve of.")
        )
        + _note(
            "Trained runs predict a per-atom std with a Gaussian head trained on detached "
            "residuals (the mean trains as without it); HOSE's std depends on the sphere "
            "radius it matched, CSP5's is one per nucleus. Every std is scaled per nucleus (HOSE: "
            "per radius) to minimise the Gaussian NLL of the assigned validation split "
            "(runs: calibration.json next to model.pt, what litshift predict applies)."
        )
        + "</section>"
    )


def _runs_section(runs: Sequence[records.RunRow]) -> Html:
    return Html(
        "<section id='runs'><h2>Training runs</h2>"
        + _table(
            [
                "run",
                "mode",
                "λ",
                "solvent input",
                "match policy",
                "steps",
                "best step",
                "stopped",
                "labeled train examples",
                "weak examples",
                "train s",
                "budget",
            ],
            [
                [
                    r.run,
                    r.mode,
                    r.lambda_mol,
                    r.solvent_input,
                    r.match_policy,
                    r.steps,
                    r.best_step,
                    r.stop_reason,
                    r.labeled_examples,
                    r.weak_examples,
                    r.train_seconds,
                    r.budget,
                ]
                for r in runs
            ],
        )
        + "</section>"
    )


def _gallery_section(gallery: records.Gallery) -> Html:
    head = "<section id='gallery'><h2>Worst-predicted test molecules</h2>"
    if gallery.model is None or gallery.count <= 0:
        return Html(head + _note("No model to show.") + "</section>")
    parts = [
        head,
        _note(
            f"Model {gallery.model}, assigned test split: the {gallery.count} molecules with the "
            "highest MAE per nucleus. Each atom shows observed/predicted (ppm; protons on their "
            "heavy atom); the three worst atoms are highlighted."
        ),
    ]
    for nucleus, molecules in gallery.molecules.items():
        parts.append(f"<h3>{html.escape(nucleus)}</h3><div class='gallery' id='gallery-{nucleus}'>")
        for molecule in molecules:
            svg = molecule_svg(
                molecule.smiles, molecule.atoms, nucleus, f"{nucleus} MAE {molecule.mae:.2f} ppm"
            )
            parts.append(
                f"<div class='molecule'>{svg}<p>{html.escape(molecule.smiles)} · "
                f"{html.escape(molecule.solvent)} · {molecule.n_atoms} atoms</p></div>"
            )
        parts.append("</div>")
    return Html("".join(parts) + "</section>")


def hose_baseline_table(rows: Iterable[Sequence[Any]]) -> Html:
    """:func:`litshift.report.records.hose_baseline_rows` as a table."""
    return _table(
        [
            "nucleus",
            "split",
            "solvent class",
            "model",
            "molecules",
            "matched peaks",
            "MAE",
            "95 % CI",
        ],
        [(*r[:6], f"{r[6]:.2f}", f"{r[7]:.2f}-{r[8]:.2f}") for r in rows],
        caption="HOSE per heteronucleus (results/eval/hose_baseline/), fitted on the assigned "
        "and unambiguous weak training sets of the nucleus, and the trained runs with a head for "
        "it (config.hetero.yaml: hetero), scored by sorted matching on the same held-out "
        "molecule-level sets (weak_test: NMRShiftDB2 sets of the test molecules; "
        "literature_test), each molecule weighing 1.",
    )


def _data_section(counts: records.DataCounts, tracking: Tracking) -> Html:
    parts = ["<section id='data'><h2>Data</h2>"]
    parts.append("<h3>Records per source</h3>")
    parts.append(
        _table(
            ["source", "use", "unit kept", "kept", "rejected rows"],
            counts.sources,
            caption="Sources: NMRShiftDB2 (nmrshiftdb.nmr.uni-koeln.de, CC BY-SA; NMR8K subset "
            "of CASCADE) and NMRBank / NMRExtractor literature paragraphs (MIT). Kept counts are "
            "rows of the curated tables; rejected rows are in results/curated/rejected.parquet "
            "(view 'rejected').",
        )
    )
    parts.append("<h3>Spectra per nucleus and solvent class</h3>")
    parts.append(
        _table(
            ["set", "nucleus", *SOLVENT_CLASSES, "rows", "molecules"],
            counts.nuclei,
            caption="Rows of each table per nucleus and solvent class (the model's solvent "
            "input); molecules are distinct connectivity keys. config.hetero.yaml adds 31P and "
            "19F to the curated tables.",
        )
    )
    if counts.hose_baseline is not None:
        parts.append("<h3>Heteronuclei: HOSE baseline and trained heads</h3>")
        parts.append(hose_baseline_table(counts.hose_baseline))
    if counts.rejected is not None:
        reasons = counts.rejected
        parts.append("<h3>Rejected, by reason</h3>")
        parts.append(
            _table(
                ["stage", "source", "reason", "rows"],
                reasons.head(30).rows(),
                caption=f"{reasons['len'].sum()} rejected rows in total"
                + (" (top 30 reasons shown)." if reasons.height > 30 else "."),
            )
        )
    if counts.solvents:
        parts.append(
            _figure(
                "fig-data-solvents",
                figures.data_uri(figures.horizontal_counts(counts.solvents, "rows")),
                "Solvent distribution (12 most frequent canonical solvents per table).",
            )
        )

    parts.append("<h3>Split sizes</h3>")
    parts.append(_table(["set", "unit", "count"], counts.splits))
    if counts.skipped:
        parts.append(
            _table(
                ["not evaluated", "count"],
                counts.skipped,
                caption="Test records the evaluation could not score, by reason.",
            )
        )

    parts.append("<h3>Leakage guard</h3>")
    if counts.leakage is None:
        parts.append(
            _note(
                "Leakage-guard counts come from the split stage's MLflow run; none "
                f"matching these outputs was found (tracking: {tracking.status})."
            )
        )
    else:
        parts.append(
            _table(
                ["split stage count", "value"],
                counts.leakage,
                caption="Weak shift sets whose connectivity key is in the assigned valid/test "
                "splits or the literature test set are removed before training; literature test "
                "records whose molecule is in the assigned training split leave the test set.",
            )
        )
    return Html("".join(parts) + "</section>")


def _reproducibility_section(data: ReportData, tracking: Tracking) -> Html:
    parts = ["<section id='reproducibility'><h2>Reproducibility</h2>"]
    parts.append(
        _table(
            ["item", "value"],
            [
                ("git commit", Html(f"<code>{html.escape(data.git)}</code>")),
                (
                    "config hash (sha256 of the resolved config)",
                    Html(f"<code>{config_hash(data.config)}</code>"),
                ),
                ("budget", data.config.get("budget")),
                ("MLflow tracking", tracking.status),
                *((f"package {k}", v) for k, v in data.versions.items()),
            ],
            attrs="class='kv'",
        )
    )
    run_ids = records.run_ids(tracking)
    if run_ids:
        parts.append("<h3>MLflow runs behind these numbers</h3>")
        parts.append(
            _table(
                ["stage", "run id"],
                [(k, Html(f"<code>{v}</code>")) for k, v in sorted(run_ids.items())],
            )
        )
    if data.benchmarks.height:
        bench = data.benchmarks.sort("rule")
        total = float(bench["seconds"].sum())
        parts.append("<h3>Wall time per stage (Snakemake benchmark files)</h3>")
        parts.append(
            _table(
                ["rule (benchmarks/…)", "seconds", "h:m:s", "max RSS (MB)"],
                [
                    (
                        r["rule"],
                        round(r["seconds"], 1),
                        time.strftime("%H:%M:%S", time.gmtime(r["seconds"])),
                        r["max_rss_mb"],
                    )
                    for r in bench.iter_rows(named=True)
                ],
                caption=f"Sum over jobs {total / 60:.1f} min (jobs may run in parallel).",
            )
        )
    else:
        parts.append(_note("No benchmark files found under results/benchmarks."))
    return Html("".join(parts) + "</section>")


def _method_section(summary: dict[str, Any]) -> Html:
    hose = summary.get("hose", {})
    return Html(
        "<section id='method'><h2>How the numbers were computed</h2><ul>"
        "<li>Assigned test: the split's test molecules (grouped by InChIKey connectivity, so "
        "no stereoisomer of a test molecule is trained on); one item per molecule and solvent, "
        "each atom's label the mean of that solvent's spectra.</li>"
        "<li>Literature test: literature records whose connectivity key is in no training set, "
        "matched to atom groups with the training count-mismatch policy "
        f"(<code>{html.escape(str(summary.get('match_policy')))}</code>); the molecule-level "
        "score pairs sorted pooled predictions with sorted peaks, each molecule weighing 1.</li>"
        "<li>Intervals: percentile bootstrap over molecules (all atoms of a molecule resampled "
        "together).</li>"
        f"<li>HOSE: sphere codes up to radius {hose.get('max_radius')} fitted on the assigned "
        "training split, falling back to smaller spheres, then the element mean.</li>"
        "<li>All models see the same conformer (the pipeline's lowest-energy ETKDG/MMFF "
        "geometry).</li></ul></section>"
    )


#: (section id, label) of the navigation bar
_NAV = (
    ("summary", "Headline"),
    ("accuracy", "Parity"),
    ("solvent", "Solvent"),
    ("mixing", "Ablations"),
    ("curves", "Curves"),
    ("ood", "ID/OOD"),
    ("environments", "Environments"),
    ("uncertainty", "Uncertainty"),
    ("verification", "Verification"),
    ("gallery", "Worst molecules"),
    ("data", "Data"),
    ("reproducibility", "Reproducibility"),
)


def render(data: ReportData, roles: Roles, tracking: Tracking, worst_molecules: int = 6) -> str:
    """The complete report as one HTML string.

    ``roles`` names the runs the comparisons are drawn between; ``tracking`` is what the MLflow
    store said about these outputs (curves, leakage counts, run ids).
    """
    m = MetricsIndex(data.metrics, data.eval_summary.get("models", []))
    headline_models = records.headline_models(roles)
    models = records.present(headline_models, m)
    abl = Ablations.of(data.ablations, roles) if data.ablations is not None else None
    cost = records.ablation_cost(data, roles)
    colors = figures.Colors(roles)
    budget = html.escape(str(data.config.get("budget", "unknown")))
    warning = ""
    budgets = records.budgets(data)
    if budgets != [data.config.get("budget")]:
        warning = _note(f"Numbers come from several budgets: {', '.join(budgets)}.", "warn")
    sections = [
        _headline_section(
            records.headline(data, m, roles),
            records.hetero_headline(data.tables, m, roles.supervised),
        ),
        _parity_section(records.parity_panels(data.predictions, models), colors),
        _solvent_section(abl, cost, colors),
        _lambda_section(data, abl, roles, cost, colors),
        _curves_section(records.learning_curves(data, tracking), colors),
        _similarity_section(data, m, models, colors),
        _environment_section(m, models, colors),
        _all_models_section(m),
        _uncertainty_section(
            records.uncertainty(data.predictions, m, headline_models), headline_models, colors
        ),
        _verification_section(records.verification(data.verify_summary, headline_models)),
        _runs_section(records.run_rows(data)),
        _gallery_section(records.gallery(data, m, roles, worst_molecules)),
        _data_section(records.data_counts(data, tracking), tracking),
        _reproducibility_section(data, tracking),
        _method_section(data.eval_summary),
    ]
    nav = "".join(f"<a href='#{key}'>{label}</a>" for key, label in _NAV)
    generated = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>litshift report ({budget})</title><style>{_CSS}</style></head><body>"
        "<header><h1>litshift: NMR shift prediction from assigned and literature spectra</h1>"
        f"<p class='meta'>Budget <code>{budget}</code> · generated {generated} · commit "
        f"<code>{html.escape(data.git[:12])}</code> · config "
        f"<code>{config_hash(data.config)}</code></p><nav>{nav}</nav></header>"
        + warning
        + "".join(sections)
        + "</body></html>"
    )
