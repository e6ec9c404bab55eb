"""What the report page shows, as typed records: the aggregations behind every section.

Each function here turns the collected outputs (:class:`~litshift.report.collect.ReportData`,
with the run :class:`~litshift.report.roles.Roles` and the MLflow
:class:`~litshift.report.collect.Tracking`) into a dataclass of numbers and names; the page
(:mod:`litshift.report.page`) only formats them. Keeping the two apart is what lets the tests
check a verdict or a table row without parsing HTML, and lets the page change its markup
without touching a number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.evaluate.metrics import bin_labels
from litshift.evaluate.scoring import ASSIGNED_TEST, LITERATURE_TEST, WEAK_TEST, uncertainty_table
from litshift.inference.shipped import RELEASE_NAME, ensemble_name
from litshift.inference.uncertainty import LEVELS, UncertaintyBin, error_vs_uncertainty
from litshift.report.collect import (
    CURVE_METRICS,
    CURVE_SCHEMA,
    ReportData,
    Tracking,
    train_stage,
)
from litshift.report.gallery import worst_records
from litshift.report.roles import Roles
from litshift.train.ablations import ablation_steps

__all__ = [
    "CSP5",
    "HOSE",
    "NUCLEUS_TABLES",
    "PUBLISHED",
    "PUBLISHED_HETERO",
    "SPLIT_LEVELS",
    "WEAK_DATA_GAIN",
    "AblationCost",
    "AblationRun",
    "Ablations",
    "Accuracy",
    "BarPanel",
    "Curves",
    "DataCounts",
    "Gallery",
    "GalleryMolecule",
    "Headline",
    "HeadlineRow",
    "HeteroCheck",
    "HeteroHeadline",
    "HeteroRow",
    "LambdaSweep",
    "Mae",
    "MetricsIndex",
    "ParityPanel",
    "RunCurves",
    "RunRow",
    "SolventComparison",
    "Spread",
    "Uncertainty",
    "UncertaintyRow",
    "Verification",
    "WeakDataGain",
    "WeakDataVerdict",
    "ablation_budgets",
    "ablation_cost",
    "all_ablation_runs",
    "breakdown_panels",
    "budgets",
    "data_counts",
    "environment_panels",
    "gallery",
    "headline",
    "headline_models",
    "pair_ensemble",
    "hetero_headline",
    "hose_baseline_rows",
    "lambda_sweep",
    "learning_curves",
    "nucleus_counts",
    "parity_panels",
    "present",
    "run_ids",
    "run_rows",
    "similarity_panels",
    "solvent_comparison",
    "top_groups",
    "uncertainty",
    "verification",
    "weak_data_verdict",
]

#: the evaluation's baseline predictors, by the names the evaluate stage gives them
HOSE = "HOSE"
CSP5 = "CSP5"
#: the paper's published test MAE (ppm), shown for reference only; keys are the paper's labels
PUBLISHED: dict[str, dict[str, float]] = {
    "1H": {"HOSE": 0.310, "supervised": 0.197, "semi": 0.172},
    "13C": {"HOSE": 2.580, "supervised": 1.152, "semi": 0.929},
}
#: the paper's published 19F test MAE (ppm), from ~1k spectra, shown for reference only
PUBLISHED_HETERO: dict[str, float] = {"19F": 2.28}
#: (split, level, label) of the scores the page breaks down
SPLIT_LEVELS = (
    (ASSIGNED_TEST, "atom", "assigned test, atom level"),
    (ASSIGNED_TEST, "molecule", "assigned test, molecule level"),
    (LITERATURE_TEST, "molecule", "literature test, molecule level"),
)
#: smallest relative gain of semi over supervised (both test splits, every nucleus) that the
#: report calls "the literature data pays": larger than the two-seed spread of the default runs
WEAK_DATA_GAIN = 0.05


def pair_ensemble(roles: Roles) -> str:
    """The evaluation name of the headline pair averaged, a deep ensemble of the two runs
    (``litshift.inference.shipped.model_name`` of ``supervised,semi``)."""
    return ensemble_name((roles.supervised, roles.semi))


def headline_models(roles: Roles) -> tuple[str, ...]:
    """Columns of the headline table: HOSE, the headline pair, the pair averaged, the shipped
    model, CSP5."""
    return HOSE, roles.supervised, roles.semi, pair_ensemble(roles), RELEASE_NAME, CSP5


@dataclass(frozen=True, slots=True)
class Mae:
    """A test MAE (ppm) with its 95 % bootstrap interval and count (atoms or matched peaks)."""

    mae: float
    lo: float
    hi: float
    n: int

    @classmethod
    def of(cls, row: Mapping[str, Any] | None) -> Mae | None:
        """From a row with ``mae``, ``mae_ci_lo``, ``mae_ci_hi``, ``n`` (None stays None)."""
        if row is None:
            return None
        return cls(row["mae"], row["mae_ci_lo"], row["mae_ci_hi"], row["n"])


class MetricsIndex:
    """The ``eval_metrics`` rows by key, with the models and nuclei in the page's order."""

    def __init__(self, metrics: pl.DataFrame, order: Sequence[str]) -> None:
        self.frame = metrics
        self.rows = {
            (r["model"], r["split"], r["level"], r["nucleus"], r["breakdown"], r["group"]): r
            for r in metrics.iter_rows(named=True)
        }
        present = set(metrics["model"])
        self.models = [m for m in order if m in present] + sorted(present - set(order))
        self.nuclei = [n for n in ("1H", "13C") if n in set(metrics["nucleus"])] + sorted(
            set(metrics["nucleus"]) - {"1H", "13C"}
        )

    def get(self, model: str, split: str, level: str, nucleus: str) -> dict | None:
        """The overall row (breakdown ``all``), or None when the model was not scored there."""
        return self.rows.get((model, split, level, nucleus, "all", "all"))

    def mae(self, model: str, split: str, level: str, nucleus: str) -> Mae | None:
        return Mae.of(self.get(model, split, level, nucleus))

    def breakdown(
        self, models: Sequence[str], split: str, level: str, nucleus: str, breakdown: str
    ) -> pl.DataFrame:
        return self.frame.filter(
            pl.col("model").is_in(list(models)),
            pl.col("split") == split,
            pl.col("level") == level,
            pl.col("nucleus") == nucleus,
            pl.col("breakdown") == breakdown,
        )


def present(models: Iterable[str], m: MetricsIndex) -> list[str]:
    """``models`` that were evaluated, in the given order."""
    return [model for model in models if model in m.models]


def budgets(data: ReportData) -> list[str]:
    """Every budget label behind the shown numbers (training runs and evaluation rows)."""
    return sorted(
        {str(r.metrics.get("budget")) for r in data.runs.values()}
        | set(data.metrics["budget"].unique())
    )


# --- headline ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HeadlineRow:
    """One nucleus of a headline table."""

    nucleus: str
    cells: tuple[Mae | str, ...]
    """Per headline model: its score, or why there is none."""
    published: tuple[float | None, ...]
    """The paper's HOSE, supervised and semi figures (None: not published for this set)."""


@dataclass(frozen=True, slots=True)
class WeakDataGain:
    split: str
    nucleus: str
    gain: float
    """Relative MAE reduction of the semi run over the supervised run (positive: semi better)."""


@dataclass(frozen=True, slots=True)
class WeakDataVerdict:
    """Whether the weak data paid in this run: semi vs supervised on both test splits."""

    supervised: str
    semi: str
    gains: tuple[WeakDataGain, ...]

    @property
    def pays(self) -> bool:
        """Semi at least :data:`WEAK_DATA_GAIN` better everywhere."""
        return all(g.gain >= WEAK_DATA_GAIN for g in self.gains)


@dataclass(frozen=True, slots=True)
class Headline:
    """The headline tables: assigned test (atom level) and literature test (molecule level)."""

    models: tuple[str, ...]
    assigned: tuple[HeadlineRow, ...]
    literature: tuple[HeadlineRow, ...]
    budget: str
    match_policy: str
    verdict: WeakDataVerdict | None
    csp5_note: str


def weak_data_verdict(m: MetricsIndex, roles: Roles) -> WeakDataVerdict | None:
    """Semi vs supervised per test split and nucleus; None when either was not scored."""
    gains = []
    for split, level in ((ASSIGNED_TEST, "atom"), (LITERATURE_TEST, "molecule")):
        for nucleus in m.nuclei:
            semi, supervised = (
                m.get(r, split, level, nucleus) for r in (roles.semi, roles.supervised)
            )
            if semi is not None and supervised is not None and supervised["mae"] > 0:
                gains.append(WeakDataGain(split, nucleus, 1.0 - semi["mae"] / supervised["mae"]))
    if not gains:
        return None
    return WeakDataVerdict(roles.supervised, roles.semi, tuple(gains))


def headline(data: ReportData, m: MetricsIndex, roles: Roles) -> Headline:
    csp5 = data.eval_summary.get("csp5", {})
    status = csp5.get("status", "not evaluated")
    missing = {
        CSP5: "no predictions" if status == "evaluated" else status,
        RELEASE_NAME: "not shipped (make release)",
        pair_ensemble(roles): "not evaluated",
    }
    models = headline_models(roles)

    def rows(split: str, level: str, published: bool) -> tuple[HeadlineRow, ...]:
        return tuple(
            HeadlineRow(
                nucleus,
                tuple(
                    m.mae(model, split, level, nucleus) or missing.get(model, "not trained")
                    for model in models
                ),
                tuple(
                    PUBLISHED.get(nucleus, {}).get(label) if published else None
                    for label in ("HOSE", "supervised", "semi")
                ),
            )
            for nucleus in m.nuclei
        )

    return Headline(
        models=models,
        assigned=rows(ASSIGNED_TEST, "atom", True),
        literature=rows(LITERATURE_TEST, "molecule", False),
        budget=data.config.get("budget", "unknown"),
        match_policy=data.eval_summary.get("match_policy", "?"),
        verdict=weak_data_verdict(m, roles),
        csp5_note=csp5.get("note", "CSP5 status unknown."),
    )


@dataclass(frozen=True, slots=True)
class HeteroRow:
    """One heteronucleus: HOSE and every run with a head for it."""

    nucleus: str
    hose: Mae | None
    runs: tuple[tuple[Mae | None, float | None], ...]
    """Per run: its score and its relative gain over HOSE (None where either is missing)."""
    published: float | None


@dataclass(frozen=True, slots=True)
class HeteroCheck:
    """A heteronucleus run's 1H/13C assigned test MAE beside the supervised run's."""

    run: str
    nucleus: str
    mae: float
    reference_mae: float


@dataclass(frozen=True, slots=True)
class HeteroHeadline:
    """31P/19F (config.hetero.yaml) on the held-out molecule-level sets."""

    runs: tuple[str, ...]
    rows: tuple[HeteroRow, ...]
    reference: str
    """The run the checks compare with (the supervised headline run)."""
    checks: tuple[HeteroCheck, ...]


def hetero_headline(
    tables: Mapping[str, pl.LazyFrame], m: MetricsIndex, reference: str
) -> HeteroHeadline | None:
    """From the ``hose_baseline_metrics`` view (None when the heteronuclei were not scored);
    ``reference`` is the run whose 1H/13C the heteronucleus runs are checked against."""
    if "hose_baseline_metrics" not in tables:
        return None
    frame = (
        tables["hose_baseline_metrics"]
        .filter(pl.col("split") == WEAK_TEST, pl.col("breakdown") == "all")
        .collect()
    )
    by_key = {(r["model"], r["nucleus"]): r for r in frame.iter_rows(named=True)}
    runs = tuple(sorted(set(frame["model"]) - {HOSE}))
    rows = []
    for nucleus in sorted(set(frame["nucleus"]), reverse=True):
        hose = Mae.of(by_key.get((HOSE, nucleus)))
        scores = []
        for run in runs:
            found = Mae.of(by_key.get((run, nucleus)))
            gain = (
                1 - found.mae / hose.mae
                if found is not None and hose is not None and hose.mae > 0
                else None
            )
            scores.append((found, gain))
        rows.append(HeteroRow(nucleus, hose, tuple(scores), PUBLISHED_HETERO.get(nucleus)))
    checks = tuple(
        HeteroCheck(run, nucleus, found["mae"], other["mae"])
        for run in runs
        for nucleus in ("1H", "13C")
        if (found := m.get(run, ASSIGNED_TEST, "atom", nucleus)) is not None
        and (other := m.get(reference, ASSIGNED_TEST, "atom", nucleus)) is not None
    )
    return HeteroHeadline(runs, tuple(rows), reference, checks)


# --- accuracy breakdowns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ParityPanel:
    """Predicted vs observed of every headline model on one nucleus (assigned test)."""

    nucleus: str
    frames: dict[str, pl.DataFrame]
    """Model -> its atoms (``observed``, ``predicted``, ...); models without atoms left out."""

    @property
    def errors(self) -> dict[str, np.ndarray]:
        """Model -> predicted - observed."""
        return {k: (v["predicted"] - v["observed"]).to_numpy() for k, v in self.frames.items()}


def parity_panels(predictions: pl.DataFrame, models: Sequence[str]) -> list[ParityPanel]:
    """One panel per nucleus, 1H and 13C."""
    assigned = predictions.filter(pl.col("split") == ASSIGNED_TEST)
    panels = []
    for nucleus in ("1H", "13C"):
        frames = {
            model: assigned.filter(pl.col("model") == model, pl.col("nucleus") == nucleus)
            for model in models
        }
        panels.append(ParityPanel(nucleus, {k: v for k, v in frames.items() if v.height}))
    return panels


class BarPanel(NamedTuple):
    """One panel of grouped bars (:func:`litshift.report.figures.bar_panels`)."""

    title: str
    table: pl.DataFrame
    """``group``, ``model``, ``mae``, ``mae_ci_lo``, ``mae_ci_hi``, ``n``."""
    groups: list[str]
    """The groups drawn, in order."""


def top_groups(table: pl.DataFrame, limit: int) -> list[str]:
    """The ``limit`` largest groups (by their largest count over models)."""
    sizes = (
        table.group_by("group")
        .agg(pl.col("n").max())
        .sort(["n", "group"], descending=[True, False])
    )
    return sizes["group"].head(limit).to_list()


def breakdown_panels(
    m: MetricsIndex,
    models: Sequence[str],
    breakdown: str,
    groups_of: Callable[[pl.DataFrame], list[str]],
    split_levels: Sequence[tuple[str, str, str]] = (SPLIT_LEVELS[0], SPLIT_LEVELS[2]),
) -> list[BarPanel]:
    """One bar panel per (split level, nucleus) with rows of ``breakdown``."""
    panels = []
    for split, level, label in split_levels:
        for nucleus in m.nuclei:
            table = m.breakdown(models, split, level, nucleus, breakdown)
            if table.height:
                panels.append(BarPanel(f"{nucleus} · {label}", table, groups_of(table)))
    return panels


def similarity_panels(
    m: MetricsIndex, models: Sequence[str], bins: Sequence[float]
) -> list[BarPanel]:
    """MAE per similarity bin (the bins in order, those present)."""
    labels = bin_labels(bins)
    return breakdown_panels(
        m, models, "similarity", lambda table: [g for g in labels if g in set(table["group"])]
    )


def environment_panels(m: MetricsIndex, models: Sequence[str]) -> list[BarPanel]:
    """MAE per atom environment on the assigned test atoms, the 10 largest groups."""
    return breakdown_panels(
        m, models, "environment", lambda table: top_groups(table, 10), SPLIT_LEVELS[:1]
    )


# --- ablations --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Spread:
    """Validation MAE over seeds: mean, sample std (None for one seed), lowest and highest."""

    mean: float
    std: float | None
    lo: float
    hi: float
    n_seeds: int


@dataclass(frozen=True, slots=True)
class Ablations:
    """The ablation summary split into the comparisons the page draws, by :class:`Roles`;
    runs keep the summary's order, roles naming runs that did not train are left out."""

    rows: pl.DataFrame
    """``ablations/summary.parquet`` (schema ``ablation_summary``)."""
    runs: list[str]
    sweep: list[str]
    reference: str | None
    solvent: list[str]
    collapse: list[str]
    nuclei: list[str]

    @classmethod
    def of(cls, summary: pl.DataFrame, roles: Roles) -> Ablations:
        runs = list(dict.fromkeys(summary["run"]))
        return cls(
            rows=summary,
            runs=runs,
            sweep=[r for r in runs if r in roles.lambda_sweep],
            reference=roles.reference if roles.reference in runs else None,
            solvent=[r for r in runs if r in roles.solvent],
            collapse=[r for r in runs if r in roles.collapse],
            nuclei=[n for n in ("1H", "13C") if n in set(summary["nucleus"])],
        )

    @property
    def overall(self) -> pl.DataFrame:
        """The rows over every solvent class."""
        return self.rows.filter(pl.col("solvent_class") == "all")

    def row(self, run: str, nucleus: str) -> dict | None:
        rows = self.overall.filter(pl.col("run") == run, pl.col("nucleus") == nucleus)
        return rows.row(0, named=True) if rows.height else None

    def spread(self, run: str, nucleus: str) -> Spread | None:
        row = self.row(run, nucleus)
        if row is None:
            return None
        return Spread(
            row["mae_mean"], row["mae_std"], row["mae_min"], row["mae_max"], row["n_seeds"]
        )


@dataclass(frozen=True, slots=True)
class AblationCost:
    """What `make ablations` would cost, from the semi run's wall time."""

    runs: int
    seeds: int
    semi: str
    """The headline run the time is scaled from."""
    hours: float | None = None
    """Core-hours at the default budget (None: no trained semi run to scale from)."""
    steps: int | None = None
    """Steps of every ablation run (None: epoch-bounded)."""
    semi_minutes: float | None = None
    cores: int = 1


def ablation_cost(data: ReportData, roles: Roles) -> AblationCost:
    """Runs × seeds of ``ablations:``, and their core-hours scaled from the semi run's wall
    time to the ablation step budget."""
    ablations = data.config.get("ablations") or {}
    runs, seeds = len(ablations.get("runs") or {}), len(ablations.get("seeds") or [])
    semi = data.runs.get(roles.semi)
    if semi is None or "wall_seconds" not in semi.metrics or "train" not in data.config:
        return AblationCost(runs, seeds, roles.semi)
    resources = data.config["train"].get("resources") or {}
    cores = resources.get("threads", 1) * resources.get("nodes", 1)
    steps, semi_steps = (
        ablation_steps(data.config["train"], ablations),
        semi.config.get("max_steps"),
    )
    scale = steps / semi_steps if steps and semi_steps else 1.0
    hours = runs * seeds * semi.metrics["wall_seconds"] * cores * scale / 3600
    return AblationCost(
        runs, seeds, roles.semi, hours, steps, semi.metrics["wall_seconds"] / 60, cores
    )


def ablation_budgets(data: ReportData, abl: Ablations) -> tuple[list[str], list[str]] | None:
    """``(ablation max_steps, headline max_steps)`` when they differ (the dashed references
    then compare unequal budgets), else None."""
    ablation = sorted({str(s) for s in abl.rows["max_steps"].to_list()})
    headline_steps = sorted({str(r.config.get("max_steps")) for r in data.runs.values()})
    if not headline_steps or ablation == headline_steps:
        return None
    return ablation, headline_steps


@dataclass(frozen=True, slots=True)
class SolventComparison:
    """Per-solvent-class validation MAE of the [CLS] reference and the solvent ablations."""

    runs: list[str]
    """The reference first (when trained), then the solvent runs."""
    panels: list[BarPanel]
    solvent_modes: dict[str, str]
    """Run -> its ``model.solvent_mode``."""


def solvent_comparison(abl: Ablations) -> SolventComparison:
    runs = [r for r in (abl.reference, *abl.solvent) if r is not None]
    table = abl.rows.filter(pl.col("run").is_in(runs), pl.col("solvent_class") != "all").select(
        group="solvent_class",
        model="run",
        nucleus="nucleus",
        mae="mae_mean",
        mae_ci_lo="mae_min",
        mae_ci_hi="mae_max",
        n="n_atoms",
    )
    panels = [
        BarPanel(
            f"{nucleus} · assigned validation, atom level",
            table.filter(pl.col("nucleus") == nucleus),
            top_groups(table.filter(pl.col("nucleus") == nucleus), 7),
        )
        for nucleus in abl.nuclei
        if table.filter(pl.col("nucleus") == nucleus).height
    ]
    modes = {r: abl.rows.filter(pl.col("run") == r)["solvent_mode"][0] for r in runs}
    return SolventComparison(runs, panels, modes)


#: panel of the λ sweep figure
SWEEP_PANEL = "assigned validation, atom level"


@dataclass(frozen=True, slots=True)
class LambdaSweep:
    """Validation MAE against λ, with the headline runs and the collapse runs as references."""

    runs: list[str]
    points: pl.DataFrame
    """``panel``, ``nucleus``, ``lambda``, ``mae``, ``mae_ci_lo``, ``mae_ci_hi``."""
    references: pl.DataFrame
    """``panel``, ``nucleus``, ``model``, ``mae`` (dashed lines)."""

    @property
    def drawable(self) -> bool:
        """At least two values of λ."""
        return self.points["lambda"].n_unique() >= 2


def lambda_sweep(data: ReportData, abl: Ablations, roles: Roles) -> LambdaSweep:
    points = [
        {
            "panel": SWEEP_PANEL,
            "nucleus": nucleus,
            "lambda": row["lambda_mol"],
            "mae": row["mae_mean"],
            "mae_ci_lo": row["mae_min"],
            "mae_ci_hi": row["mae_max"],
        }
        for nucleus in abl.nuclei
        for run in abl.sweep
        if (row := abl.row(run, nucleus)) is not None
    ]
    headline_runs = headline_models(roles)
    references = [
        {"panel": SWEEP_PANEL, "nucleus": nucleus, "model": name, "mae": mae}
        for nucleus in abl.nuclei
        for name, run in data.runs.items()
        if name in headline_runs
        and math.isfinite(mae := run.metrics.get("valid", {}).get(f"mae.{nucleus}", math.nan))
    ] + [
        {"panel": SWEEP_PANEL, "nucleus": nucleus, "model": run, "mae": row["mae_mean"]}
        for nucleus in abl.nuclei
        for run in abl.collapse
        if (row := abl.row(run, nucleus)) is not None
    ]
    point_schema = {"panel": pl.String, "nucleus": pl.String, "lambda": pl.Float64}
    point_schema |= {"mae": pl.Float64, "mae_ci_lo": pl.Float64, "mae_ci_hi": pl.Float64}
    reference_schema = {"panel": pl.String, "nucleus": pl.String, "model": pl.String}
    return LambdaSweep(
        abl.sweep,
        pl.DataFrame(points, schema=point_schema),
        pl.DataFrame(references, schema=reference_schema | {"mae": pl.Float64}),
    )


@dataclass(frozen=True, slots=True)
class AblationRun:
    """One row of the table of every ablation run."""

    run: str
    overrides: str
    """Its declared overrides of ``train:`` (JSON)."""
    spreads: tuple[Spread | None, ...]
    """Per nucleus of :attr:`Ablations.nuclei`."""
    steps: float
    wall_minutes: float


def all_ablation_runs(abl: Ablations) -> list[AblationRun]:
    runs = []
    for run in abl.runs:
        rows = abl.overall.filter(pl.col("run") == run)
        if rows.height:
            runs.append(
                AblationRun(
                    run,
                    rows["overrides"][0],
                    tuple(abl.spread(run, n) for n in abl.nuclei),
                    rows["steps_mean"][0],
                    round(rows["wall_seconds_mean"][0] / 60, 1),
                )
            )
    return runs


# --- learning curves, runs --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RunCurves:
    """One training run's curves and where they came from."""

    run: str
    curves: pl.DataFrame
    """:data:`~litshift.report.collect.CURVE_SCHEMA`."""
    source: str
    """``MLflow`` (the matching run's logged history) or ``history.json``."""
    run_id: str | None
    budget: Any


@dataclass(frozen=True, slots=True)
class Curves:
    runs: list[RunCurves]
    metrics: list[str]
    """The :data:`~litshift.report.collect.CURVE_METRICS` any run has."""

    @property
    def table(self) -> pl.DataFrame:
        """Every run's curves, with a ``run`` column."""
        frames = [r.curves.with_columns(run=pl.lit(r.run)) for r in self.runs]
        schema = CURVE_SCHEMA | {"run": pl.String}
        return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def learning_curves(data: ReportData, tracking: Tracking) -> Curves:
    """Curves as MLflow logged them where a run matched, else from ``history.json``."""
    runs = []
    for run in data.runs.values():
        tracked = tracking.runs.get(train_stage(run.name))
        runs.append(
            RunCurves(
                run.name,
                tracked.curves if tracked is not None else run.history,
                "MLflow" if tracked is not None else "history.json",
                tracked.run_id if tracked is not None else None,
                run.metrics.get("budget"),
            )
        )
    present_metrics = {m for r in runs for m in r.curves["metric"]}
    return Curves(runs, [k for k in CURVE_METRICS if k in present_metrics])


@dataclass(frozen=True, slots=True)
class RunRow:
    """One training run's settings and outcome."""

    run: str
    mode: str | None
    lambda_mol: float | None
    """Semi runs only."""
    solvent_input: str
    match_policy: str | None
    steps: int | None
    best_step: int | None
    stop_reason: str | None
    labeled_examples: int | None
    weak_examples: int | None
    train_seconds: float | None
    budget: str | None


def run_rows(data: ReportData) -> list[RunRow]:
    rows = []
    for run in data.runs.values():
        config, metrics = run.config, run.metrics
        counts = metrics.get("counts", {})
        rows.append(
            RunRow(
                run.name,
                config.get("mode"),
                config.get("lambda_mol") if config.get("mode") == "semi" else None,
                (config.get("model") or {}).get("solvent_mode", "cls"),
                config.get("match_policy"),
                metrics.get("steps"),
                metrics.get("best_step"),
                metrics.get("stop_reason"),
                counts.get("labeled.examples.train"),
                counts.get("weak.examples"),
                metrics.get("train_seconds"),
                metrics.get("budget"),
            )
        )
    return rows


def run_ids(tracking: Tracking) -> dict[str, str]:
    """Stage -> id of the MLflow run behind the shown numbers, this page's own included."""
    ids = {stage: run.run_id for stage, run in tracking.runs.items()}
    if tracking.page_run_id is not None:
        ids["report (this page)"] = tracking.page_run_id
    return ids


# --- uncertainty, verification, gallery -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UncertaintyRow:
    model: str
    nucleus: str
    coverages: tuple[float, ...]
    """Fraction of atoms inside the central interval of each of :data:`LEVELS`."""
    nll: float
    spearman: float | None
    mean_std: float
    n: int


@dataclass(frozen=True, slots=True)
class Uncertainty:
    """Calibration of every model's std and the error-vs-std curves of the headline models."""

    rows: list[UncertaintyRow]
    curves: dict[str, dict[str, list[UncertaintyBin]]]
    """Nucleus -> headline model -> bins of its predicted std."""


def uncertainty(
    predictions: pl.DataFrame, m: MetricsIndex, models: Sequence[str]
) -> Uncertainty | None:
    """Coverage per model and nucleus (``models`` first, then the others by name) and the
    curves of ``models`` (the headline models) on the assigned test split; None without
    assigned test predictions."""
    table = uncertainty_table(predictions)
    if not table.height:
        return None
    scored = set(table["model"])
    ordered = present(models, m) + sorted(scored - set(models))
    rows = [
        UncertaintyRow(
            r["model"],
            r["nucleus"],
            tuple(r[f"coverage_{round(100 * level)}"] for level in LEVELS),
            r["nll"],
            r["spearman"],
            r["mean_std"],
            r["n"],
        )
        for model in ordered
        for r in table.filter(pl.col("model") == model).sort("nucleus").iter_rows(named=True)
    ]
    assigned = predictions.filter(pl.col("split") == ASSIGNED_TEST)
    curves: dict[str, dict[str, list[UncertaintyBin]]] = {}
    for nucleus in m.nuclei:
        for model in (model for model in present(models, m) if model in scored):
            frame = assigned.filter(pl.col("model") == model, pl.col("nucleus") == nucleus)
            if frame.height:
                residuals = (frame["predicted"] - frame["observed"]).to_numpy()
                bins = error_vs_uncertainty(residuals, frame["std"].to_numpy())
                curves.setdefault(nucleus, {})[model] = bins
    return Uncertainty(rows, curves)


@dataclass(frozen=True, slots=True)
class Accuracy:
    """How often the true structure ranks first / in the first three among its decoys."""

    top1: float
    top3: float
    n_cases: int
    mean_candidates: float


@dataclass(frozen=True, slots=True)
class Verification:
    """``verify/summary.json`` of the decoy benchmark, as the page's table."""

    nuclei: list[str]
    """Nucleus combinations (``1H``, ``13C``, ``1H+13C``), single ones first."""
    rows: list[tuple[str, str, tuple[Accuracy | None, ...]]]
    """``(split, model, accuracy per nucleus combination)``."""
    counts: dict[str, Any]
    settings: dict[str, Any]
    error_model: dict[str, Any]
    csp5: Any
    budget: Any

    @property
    def skipped(self) -> dict[str, Any]:
        """Reason -> cases skipped for it."""
        return {
            k.removeprefix("skipped."): v
            for k, v in self.counts.items()
            if k.startswith("skipped.")
        }


def verification(summary: Mapping[str, Any], models: Sequence[str]) -> Verification | None:
    """None when the decoy benchmark did not run; ``models`` (the headline models) first."""
    accuracy = summary.get("accuracy") or []
    if not accuracy:
        return None
    by_key = {(r["split"], r["model"], r["nuclei"]): r for r in accuracy}
    nuclei = sorted({r["nuclei"] for r in accuracy}, key=lambda n: (n.count("+"), n != "1H", n))
    scored = {r["model"] for r in accuracy}
    ordered = [m for m in models if m in scored] + sorted(scored - set(models))
    splits = [s for s in ("all", ASSIGNED_TEST, LITERATURE_TEST) if any(k[0] == s for k in by_key)]

    def cell(row: dict | None) -> Accuracy | None:
        if row is None:
            return None
        return Accuracy(row["top1"], row["top3"], row["n_cases"], row["mean_candidates"])

    rows = [
        (split, model, tuple(cell(by_key.get((split, model, n))) for n in nuclei))
        for split in splits
        for model in ordered
        if any((split, model, n) in by_key for n in nuclei)
    ]
    return Verification(
        nuclei,
        rows,
        counts=summary.get("counts", {}),
        settings=summary.get("settings", {}),
        error_model=summary.get("error_model", {}),
        csp5=summary.get("csp5"),
        budget=summary.get("budget"),
    )


@dataclass(frozen=True, slots=True)
class GalleryMolecule:
    """One worst-predicted test record and its scored atoms."""

    smiles: str
    solvent: str
    mae: float
    n_atoms: int
    atoms: pl.DataFrame
    """``atom_index``, ``observed``, ``predicted`` (rows of ``eval_predictions``)."""


@dataclass(frozen=True, slots=True)
class Gallery:
    model: str | None
    """The model shown: the semi run, else the first trained run, else HOSE (None: none)."""
    count: int
    molecules: dict[str, list[GalleryMolecule]] = field(default_factory=dict)
    """Nucleus -> its worst molecules (nuclei without any left out)."""


def gallery(data: ReportData, m: MetricsIndex, roles: Roles, count: int) -> Gallery:
    """The ``count`` molecules with the highest MAE per nucleus (assigned test)."""
    model = next((r for r in (roles.semi, *data.runs, HOSE) if r in m.models), None)
    if model is None or count <= 0:
        return Gallery(model, count)
    molecules = {}
    for nucleus in m.nuclei:
        worst = worst_records(data.predictions, model, ASSIGNED_TEST, nucleus, count)
        if worst.height == 0:
            continue
        molecules[nucleus] = [
            GalleryMolecule(
                record["smiles"],
                record["solvent"],
                record["mae"],
                record["n_atoms"],
                data.predictions.filter(
                    pl.col("model") == model,
                    pl.col("split") == ASSIGNED_TEST,
                    pl.col("nucleus") == nucleus,
                    pl.col("record_id") == record["record_id"],
                ),
            )
            for record in worst.iter_rows(named=True)
        ]
    return Gallery(model, count, molecules)


# --- data -------------------------------------------------------------------------------------


def _count(frame: pl.LazyFrame, *by: str) -> list[tuple[Any, ...]]:
    return frame.group_by(*by).agg(pl.len()).sort(list(by)).collect().rows()


#: tables counted per nucleus and solvent class in the data section: view -> what a row is
NUCLEUS_TABLES: dict[str, str] = {
    "assigned": "assigned spectra",
    "unassigned": "NMRShiftDB2 molecule-level sets",
    "literature": "literature lists passing the filters",
    "weak_train": "weak training sets",
    "literature_test": "literature test sets",
}


def nucleus_counts(tables: Mapping[str, pl.LazyFrame]) -> list[tuple[Any, ...]]:
    """``(set, nucleus, rows per solvent class..., rows, molecules)`` of every table of
    :data:`NUCLEUS_TABLES` present (literature: ``ok`` rows); molecules are distinct
    connectivity keys (InChIKey first block)."""
    out = []
    for name, label in NUCLEUS_TABLES.items():
        if name not in tables:
            continue
        frame = tables[name]
        if name == "literature":
            frame = frame.filter(pl.col("status") == "ok")
        counts = (
            frame.group_by("nucleus")
            .agg(
                *(
                    (pl.col("solvent_class") == solvent).sum().alias(solvent)
                    for solvent in SOLVENT_CLASSES
                ),
                pl.len().alias("rows"),
                pl.col("inchikey").str.slice(0, 14).n_unique().alias("molecules"),
            )
            .sort("nucleus")
            .collect()
        )
        out += [(label, *row) for row in counts.rows()]
    return out


def hose_baseline_rows(metrics: pl.LazyFrame) -> list[tuple[Any, ...]]:
    """``(nucleus, split, solvent class, model, molecules, matched peaks, mae, lo, hi)`` of
    ``hose_baseline_metrics``, overall and per solvent class, HOSE before the trained runs."""
    return (
        metrics.filter(pl.col("breakdown").is_in(["all", "solvent_class"]))
        .sort(["nucleus", "split", "breakdown", "group", pl.col("model") != HOSE, "model"])
        .select(
            "nucleus",
            "split",
            "group",
            "model",
            "n_molecules",
            "n",
            "mae",
            "mae_ci_lo",
            "mae_ci_hi",
        )
        .collect()
        .rows()
    )


#: split-stage metrics the leakage table lists, in order
LEAKAGE_KEYS = (
    "weak_rows_read",
    "weak_rows_removed_leakage",
    "weak_molecules_removed_leakage",
    "literature_test_rows_removed_seen_in_train",
    "weak_rows_kept",
)


@dataclass(frozen=True, slots=True)
class DataCounts:
    """The data section: what went in, what was rejected, how it was split."""

    sources: list[tuple[str, str, str, int, int]]
    """``(source, use, unit kept, kept, rejected rows)``."""
    nuclei: list[tuple[Any, ...]]
    """:func:`nucleus_counts`."""
    hose_baseline: list[tuple[Any, ...]] | None
    """:func:`hose_baseline_rows` (None: the heteronuclei were not scored)."""
    rejected: pl.DataFrame | None
    """``stage``, ``source``, ``reason``, ``len``, largest first (None: no rejected table)."""
    solvents: dict[str, list[tuple[str, int]]]
    """``"<table> (<rows>)"`` -> its 12 most frequent solvents and their rows."""
    splits: list[tuple[str, str, Any]]
    """``(set, unit, count)``."""
    skipped: list[tuple[str, Any]]
    """Test records the evaluation could not score, by reason."""
    leakage: list[tuple[str, int]] | None
    """The split stage's leakage-guard counts (None: no MLflow run of it matched)."""


def data_counts(data: ReportData, tracking: Tracking) -> DataCounts:
    tables = data.tables
    rejected = dict(_count(tables["rejected"], "source")) if "rejected" in tables else {}
    sources = []
    if "assigned" in tables:
        sources.append(
            (
                "nmrshiftdb2_sdf",
                "assigned (train/valid/test)",
                "atom-assigned spectra",
                tables["assigned"].select(pl.len()).collect().item(),
            )
        )
    if "unassigned" in tables:
        for source, n in _count(tables["unassigned"], "source"):
            sources.append((source, "weak training", "molecule-level shift sets", n))
    if "literature" in tables:
        kept = tables["literature"].filter(pl.col("status") == "ok")
        for source, role, n in _count(kept, "source", "role"):
            sources.append((source, f"literature ({role})", "peak lists passing the filters", n))

    reasons = None
    if "rejected" in tables:
        reasons = (
            tables["rejected"]
            .group_by("stage", "source", "reason")
            .agg(pl.len())
            .sort(["len", "stage", "source", "reason"], descending=[True, False, False, False])
            .collect()
        )

    solvents = {}
    for name, label in (
        ("assigned", "assigned spectra"),
        ("weak_train", "weak training sets"),
        ("literature_test", "literature test sets"),
    ):
        if name in tables:
            counts = (
                tables[name]
                .group_by("solvent")
                .agg(pl.len())
                .sort(["len", "solvent"], descending=[True, False])
                .collect()
            )
            solvents[f"{label} ({counts['len'].sum()})"] = counts.head(12).rows()

    splits = []
    if "splits" in tables:
        for split, n in _count(tables["splits"], "split"):
            splits.append((f"assigned {split}", "molecules (connectivity keys)", n))
    for name, label in (("weak_train", "weak training"), ("literature_test", "literature test")):
        if name in tables:
            for nucleus, n in _count(tables[name], "nucleus"):
                splits.append((f"{label} {nucleus}", "shift sets", n))
    counts = data.eval_summary.get("counts", {})
    splits.append(
        (
            "evaluated assigned test",
            "(molecule, solvent) items",
            counts.get("assigned_test.examples.test"),
        )
    )
    splits.append(
        ("evaluated literature test", "matched peak lists", counts.get("literature_test.items"))
    )

    split_run = tracking.runs.get("split")
    return DataCounts(
        sources=[(*row, rejected.get(row[0], 0)) for row in sources],
        nuclei=nucleus_counts(tables),
        hose_baseline=(
            hose_baseline_rows(tables["hose_baseline_metrics"])
            if "hose_baseline_metrics" in tables
            else None
        ),
        rejected=reasons,
        solvents=solvents,
        splits=splits,
        skipped=sorted((k, v) for k, v in counts.items() if ".skipped." in k or "match_skip" in k),
        leakage=(
            [(k, int(split_run.metrics[k])) for k in LEAKAGE_KEYS if k in split_run.metrics]
            if split_run is not None
            else None
        ),
    )
