"""Matplotlib figures of the report, returned as self-contained PNG data URIs.

Every function takes tidy tables and returns a figure; :func:`data_uri` turns it into an
``data:image/png;base64,...`` string the page embeds, so the HTML file needs nothing else.
"""

from __future__ import annotations

import base64
import io
import zlib
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, NullFormatter  # noqa: E402

from litshift.inference.uncertainty import UncertaintyBin  # noqa: E402
from litshift.report.records import CSP5, HOSE  # noqa: E402
from litshift.report.roles import Roles  # noqa: E402

__all__ = [
    "Colors",
    "bar_panels",
    "data_uri",
    "error_histograms",
    "horizontal_counts",
    "lambda_sweep",
    "learning_curves",
    "parity",
    "uncertainty_curves",
]

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.alpha": 0.3,
    }
)

_PALETTE = plt.get_cmap("tab10").colors
_SPARE = plt.get_cmap("tab20b").colors
#: tab10 colors left for the ablation runs drawn as their own series
_ABLATION_COLORS = tuple(_PALETTE[i] for i in (3, 4, 5, 6, 8, 9))

RGB = tuple[float, float, float]


class Colors:
    """One color per model everywhere in the report, by the part it plays (:class:`Roles`):
    the headline runs and the baselines, the collapse and solvent ablations in the colors left
    (in that order); the λ-sweep runs share the semi run's line, and so does the reference,
    the sweep run at the default ``train.lambda_mol``. Any other name gets a color stable by
    name."""

    def __init__(self, roles: Roles) -> None:
        self.fixed: dict[str, RGB] = {
            roles.supervised: _PALETTE[0],
            roles.semi: _PALETTE[1],
            CSP5: _PALETTE[2],
            HOSE: _PALETTE[7],
            roles.reference: _PALETTE[1],
        }
        self.fixed |= dict(zip((*roles.collapse, *roles.solvent), _ABLATION_COLORS, strict=False))
        self.sweep = self.fixed[roles.semi]
        """The λ sweep's line (the semi run's color)."""

    def __call__(self, name: str) -> RGB:
        return self.fixed.get(name, _SPARE[2 + zlib.crc32(name.encode()) % (len(_SPARE) - 2)])


def _log_if_wide(ax: plt.Axes, values: np.ndarray, axis: str) -> None:
    """Log scale with plain tick labels when positive ``values`` span more than 20x."""
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0 or values.max() < 20 * values.min():
        return
    getattr(ax, f"set_{axis}scale")("log")
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    target.set_minor_formatter(NullFormatter())


def data_uri(figure: Figure) -> str:
    """PNG of ``figure`` as a data URI (the figure is closed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", dpi=100)
    plt.close(figure)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def parity(points: Mapping[str, pl.DataFrame], nucleus: str, colors: Colors) -> Figure:
    """Predicted vs observed, one panel per model (``observed``, ``predicted`` columns)."""
    n = len(points)
    figure, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.2), squeeze=False, sharey=True)
    values = np.concatenate(
        [f["observed"].to_numpy() for f in points.values()]
        + [f["predicted"].to_numpy() for f in points.values()]
    )
    lo, hi = float(values.min()), float(values.max())
    pad = 0.03 * (hi - lo or 1.0)
    for ax, (model, frame) in zip(axes[0], points.items(), strict=True):
        observed, predicted = frame["observed"].to_numpy(), frame["predicted"].to_numpy()
        ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.3", lw=0.8, ls="--")
        ax.scatter(observed, predicted, s=4, alpha=0.4, color=colors(model), lw=0)
        mae = float(np.mean(np.abs(predicted - observed)))
        ax.set_title(f"{model}: MAE {mae:.3g} ppm (n={len(observed)})", fontsize=9)
        ax.set_xlim(lo - pad, hi + pad)
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_aspect("equal")
        ax.set_xlabel(f"observed {nucleus} shift (ppm)")
    axes[0][0].set_ylabel(f"predicted {nucleus} shift (ppm)")
    return figure


def error_histograms(errors: Mapping[str, np.ndarray], nucleus: str, colors: Colors) -> Figure:
    """Overlaid histograms of predicted - observed per model, clipped to the 99th percentile."""
    figure, ax = plt.subplots(figsize=(7, 3))
    pooled = np.abs(np.concatenate(list(errors.values())))
    limit = float(np.percentile(pooled, 99)) or 1.0
    edges = np.linspace(-limit, limit, 61)
    for model, values in errors.items():
        ax.hist(
            np.clip(values, -limit, limit),
            bins=edges,
            histtype="step",
            lw=1.5,
            density=True,
            color=colors(model),
            label=f"{model} (median |e| {np.median(np.abs(values)):.3g})",
        )
    ax.set_xlabel(f"{nucleus} error, predicted - observed (ppm; tails clipped at ±{limit:.3g})")
    ax.set_ylabel("density")
    ax.legend(fontsize=8, frameon=False)
    return figure


def _bars(
    ax: plt.Axes,
    table: pl.DataFrame,
    groups: Sequence[str],
    models: Sequence[str],
    colors: Colors,
) -> None:
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(groups))
    for i, model in enumerate(models):
        rows = {r["group"]: r for r in table.filter(pl.col("model") == model).iter_rows(named=True)}
        mae, lo, hi = (
            np.array([rows[g][c] if g in rows else np.nan for g in groups])
            for c in ("mae", "mae_ci_lo", "mae_ci_hi")
        )
        ax.bar(
            x + (i - (len(models) - 1) / 2) * width,
            mae,
            width,
            yerr=[mae - lo, hi - mae],
            color=colors(model),
            label=model,
            capsize=2,
            error_kw={"lw": 0.8},
        )
    counts: dict[str, int] = {}
    for row in table.iter_rows(named=True):
        counts[row["group"]] = max(counts.get(row["group"], 0), row["n"])
    ax.set_xticks(x, [f"{g}\n(n={counts.get(g, 0)})" for g in groups], fontsize=7)


def bar_panels(
    panels: Sequence[tuple[str, pl.DataFrame, Sequence[str]]],
    models: Sequence[str],
    colors: Colors,
    ncols: int = 2,
    ylabel: str = "MAE (ppm)",
) -> Figure:
    """Grouped bars with 95 % interval whiskers and each group's count, one panel per
    ``(title, table, groups)``; ``table`` has ``group``, ``model``, ``mae``, ``mae_ci_lo``,
    ``mae_ci_hi`` and ``n``."""
    ncols = min(ncols, len(panels))
    nrows = (len(panels) + ncols - 1) // ncols
    widest = max(len(groups) for _, _, groups in panels)
    width = max(4.5, 0.25 * widest * max(len(models), 2) + 1.5)
    figure, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, 3.2 * nrows), squeeze=False)
    for ax, (title, table, groups) in zip(axes.flat, panels, strict=False):
        _bars(ax, table, groups, models, colors)
        ax.set_title(title, fontsize=9)
        ax.set_ylabel(ylabel)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, frameon=False, ncols=min(len(models), 4))
    figure.tight_layout()
    return figure


def lambda_sweep(points: pl.DataFrame, references: pl.DataFrame, colors: Colors) -> Figure:
    """MAE against lambda_mol, one panel per (split, level) and a line per nucleus.

    ``points``: ``panel``, ``nucleus``, ``lambda``, ``mae``, ``mae_ci_lo``, ``mae_ci_hi``.
    ``references``: ``panel``, ``nucleus``, ``model``, ``mae`` (horizontal lines).
    """
    panels = points["panel"].unique(maintain_order=True).to_list()
    nuclei = points["nucleus"].unique(maintain_order=True).to_list()
    figure, axes = plt.subplots(
        len(nuclei), len(panels), figsize=(4.2 * len(panels), 2.8 * len(nuclei)), squeeze=False
    )
    for row, nucleus in enumerate(nuclei):
        for col, panel in enumerate(panels):
            ax = axes[row][col]
            frame = points.filter(pl.col("panel") == panel, pl.col("nucleus") == nucleus)
            frame = frame.sort("lambda")
            lam, mae = frame["lambda"].to_numpy(), frame["mae"].to_numpy()
            ax.errorbar(
                lam,
                mae,
                yerr=[mae - frame["mae_ci_lo"].to_numpy(), frame["mae_ci_hi"].to_numpy() - mae],
                marker="o",
                color=colors.sweep,
                capsize=2,
                label="semi (λ sweep)",
            )
            refs = references.filter(pl.col("panel") == panel, pl.col("nucleus") == nucleus)
            for ref in refs.iter_rows(named=True):
                ax.axhline(
                    ref["mae"], color=colors(ref["model"]), ls="--", lw=1, label=ref["model"]
                )
            ax.set_xscale("symlog", linthresh=1.0)
            ax.set_xticks(lam, [f"{v:g}" for v in lam])
            ax.set_xlim(min(lam) - 0.3, max(lam) * 1.5 + 0.3)
            ax.set_xlabel("λ (weight of L_mol)")
            ax.set_ylabel(f"{nucleus} MAE (ppm)")
            ax.set_title(panel, fontsize=9)
            ax.legend(fontsize=7, frameon=False)
    figure.tight_layout()
    return figure


def learning_curves(
    curves: pl.DataFrame, metrics: Sequence[str], runs: Sequence[str], colors: Colors
) -> Figure:
    """One panel per metric, a line per run (``run``, ``metric``, ``step``, ``value``)."""
    cols = min(len(metrics), 2)
    rows = (len(metrics) + cols - 1) // cols
    figure, axes = plt.subplots(rows, cols, figsize=(6 * cols, 3 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for run in runs:
            frame = curves.filter(pl.col("run") == run, pl.col("metric") == metric).sort("step")
            if frame.height:
                ax.plot(frame["step"], frame["value"], marker=".", color=colors(run), label=run)
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel("optimizer step")
        if metric.startswith("valid_mae"):
            ax.set_ylabel("ppm")
        _log_if_wide(ax, curves.filter(pl.col("metric") == metric)["value"].to_numpy(), "y")
    for ax in list(axes.flat)[len(metrics) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, frameon=False, ncols=2)
    figure.tight_layout()
    return figure


def horizontal_counts(counts: Mapping[str, Sequence[tuple[str, int]]], xlabel: str) -> Figure:
    """Side-by-side horizontal bar charts, one per named list of ``(label, count)``."""
    n = len(counts)
    height = max(len(v) for v in counts.values()) * 0.22 + 0.8
    figure, axes = plt.subplots(1, n, figsize=(5 * n, height), squeeze=False)
    for i, (ax, (title, items)) in enumerate(zip(axes[0], counts.items(), strict=True)):
        labels = [label for label, _ in items][::-1]
        values = [value for _, value in items][::-1]
        ax.barh(labels, values, color=_PALETTE[i % len(_PALETTE)])
        _log_if_wide(ax, np.asarray(values, dtype=float), "x")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", labelsize=8)
    figure.tight_layout()
    return figure


def uncertainty_curves(
    curves: Mapping[str, Mapping[str, Sequence[UncertaintyBin]]], colors: Colors
) -> Figure:
    """Observed RMSE vs mean predicted std per std-quantile bin; one panel per nucleus
    (``curves[nucleus][model]``), the diagonal is perfect calibration."""
    n = len(curves)
    figure, axes = plt.subplots(1, n, figsize=(4.6 * n, 3.8), squeeze=False)
    for ax, (nucleus, per_model) in zip(axes[0], curves.items(), strict=True):
        values = []
        for model, bins in per_model.items():
            x = np.array([b.mean_std for b in bins])
            y = np.array([b.rmse for b in bins])
            values += [x, y]
            ax.plot(x, y, marker="o", ms=3, lw=1.3, color=colors(model), label=model)
        pooled = np.concatenate(values)
        lo, hi = float(pooled.min()), float(pooled.max())
        ax.plot([lo, hi], [lo, hi], color="0.3", lw=0.8, ls="--")
        _log_if_wide(ax, pooled, "x")
        _log_if_wide(ax, pooled, "y")
        ax.set_title(nucleus, fontsize=9)
        ax.set_xlabel(f"predicted {nucleus} std, bin mean (ppm)")
        ax.set_ylabel("observed RMSE (ppm)")
        ax.legend(fontsize=7, frameon=False)
    return figure
