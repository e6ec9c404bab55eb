"""Predictions -> the ``eval_predictions`` rows -> the ``eval_metrics`` table.

Rows of the assigned test split are atoms (observed = the assigned shift). Rows of the
literature test split (and of the held-out weak sets of the HOSE heteronucleus baseline, split
``weak_test``, :mod:`litshift.evaluate.heteronuclei`) are the pairs of the sorted matching:
the i-th smallest pooled prediction of an atom group against the i-th smallest observed peak,
``atom_index`` naming the group's first atom and ``n_atoms`` its size.

Metrics, per model, split, nucleus and group:

- level ``atom`` (assigned test): MAE/RMSE over atoms;
- level ``molecule`` (every split): the sorted-matching error. On the assigned test split the
  atoms are known, so each molecule's labeled atoms are paired with its own predictions after
  sorting both; on the other splits the pairs are the rows. Each molecule weighs 1
  (the mean of its pairs), as in ``L_mol``.

Breakdowns: ``all``, ``solvent_class``, ``solvent`` (fine), ``environment`` (atom level only:
sorting mixes environments) and ``similarity`` (bins of the max Tanimoto similarity to the
training set). Intervals: cluster bootstrap over molecules (:func:`error_summary`; all rows of
a molecule, in every solvent, are resampled together).

Uncertainty (:func:`uncertainty_table`): per model and nucleus of the assigned test atoms,
coverage of the calibrated 50/80/95 % intervals, Gaussian NLL and Spearman(|error|, std).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from litshift.data.io import rows_to_table
from litshift.evaluate.metrics import (
    FINGERPRINT_BITS,
    FINGERPRINT_RADIUS,
    N_BOOTSTRAP,
    SIMILARITY_BINS,
    error_summary,
    pooled_sorted_pairs,
    similarity_bins,
)
from litshift.evaluate.testsets import AssignedItem, LiteratureItem, TestSets
from litshift.inference.uncertainty import (
    LEVELS,
    ShiftDistribution,
    coverage,
    gaussian_nll,
    spearman,
)

__all__ = [
    "Scores",
    "ASSIGNED_TEST",
    "BREAKDOWNS",
    "LITERATURE_TEST",
    "MANUAL_BUDGET",
    "WEAK_TEST",
    "MoleculeContext",
    "ScoringOptions",
    "metrics_table",
    "pair_rows",
    "prediction_rows",
    "uncertainty_table",
]

ASSIGNED_TEST = "assigned_test"
LITERATURE_TEST = "literature_test"
WEAK_TEST = "weak_test"
#: budget label of numbers computed outside a pipeline run (which passes its config's ``budget``)
MANUAL_BUDGET = "manual"

#: breakdown -> column of the scored rows holding the group (None: one group "all")
_GROUP_COLUMNS: dict[str, str | None] = {
    "all": None,
    "solvent_class": "solvent_class",
    "solvent": "solvent",
    "environment": "environment",
    "similarity": "similarity",
}
#: breakdowns per level
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "atom": ("all", "solvent_class", "solvent", "environment", "similarity"),
    "molecule": ("all", "solvent_class", "solvent", "similarity"),
}


@dataclass(slots=True)
class Scores:
    """What a scoring stage (``evaluate``, ``hose-baseline``) wrote, for the caller to log."""

    summary: dict[str, Any]
    """The content of its ``summary.json``."""
    metrics: pl.DataFrame
    """The ``eval_metrics`` rows."""
    n_predictions: int


@dataclass(frozen=True, slots=True)
class ScoringOptions:
    """How predictions are scored: the molecule-level matching, the bootstrap intervals and the
    similarity breakdown.

    The defaults are the command line's and the pipeline config's
    (tests/workflow/test_config_options.py holds the config schema to their flags).
    """

    match_policy: str = "litshift"
    """Count-mismatch policy of the molecule-level score (the training one)."""
    n_bootstrap: int = N_BOOTSTRAP
    seed: int = 0
    """Seed of the bootstrap."""
    fingerprint_radius: int = FINGERPRINT_RADIUS
    fingerprint_bits: int = FINGERPRINT_BITS
    similarity_bins: tuple[float, ...] = SIMILARITY_BINS
    """Max-Tanimoto bin edges of the ``similarity`` breakdown."""
    budget: str = MANUAL_BUDGET
    """Label stored with the metrics."""


@dataclass(slots=True)
class MoleculeContext:
    """Per-molecule annotations shared by every model's rows."""

    environments: Mapping[str, Sequence[str]]
    """SMILES -> :func:`atom_environment` of each atom."""
    similarity: Mapping[str, float]
    """SMILES -> max Tanimoto similarity to the training molecules."""


def _row(item: AssignedItem | LiteratureItem, context: MoleculeContext, nucleus: str) -> dict:
    structure = item.structure
    return {
        "key": structure.key,
        "smiles": structure.smiles,
        "nucleus": nucleus,
        "solvent": item.solvent,
        "solvent_class": item.solvent_class,
        "max_similarity": context.similarity[structure.smiles],
    }


def prediction_rows(
    model: str,
    tests: TestSets,
    assigned: Sequence[ShiftDistribution],
    literature: Sequence[ShiftDistribution],
    context: MoleculeContext,
) -> tuple[list[dict], Counter[str]]:
    """Rows of schema ``eval_predictions`` for one model.

    Parameters
    ----------
    assigned, literature
        The model's ``N x K`` predictive distributions for ``tests.assigned`` and
        ``tests.literature``; a literature group's std is the mean of its atoms' (the group's
        atoms are equivalent or unresolved, as in the uncertainty head's training).

    Returns
    -------
    rows, missing
        The rows, and how many ``assigned_atoms`` and ``literature_lists`` got no prediction
        (NaN) and are therefore not scored for this model.
    """
    rows: list[dict] = []
    missing: Counter[str] = Counter()
    for item, (predicted, std) in zip(tests.assigned, assigned, strict=True):
        example = item.example
        environments = context.environments[example.smiles]
        for k, nucleus in enumerate(tests.nuclei):
            base = _row(item, context, nucleus) | {
                "model": model,
                "split": ASSIGNED_TEST,
                "record_id": f"{example.key}/{item.solvent}",
                "n_atoms": 1,
                "match_branch": None,
            }
            for atom in np.flatnonzero(example.mask[:, k]):
                if np.isnan(predicted[atom, k]):
                    missing["assigned_atoms"] += 1
                    continue
                rows.append(
                    base
                    | {
                        "atom_index": int(atom),
                        "environment": environments[atom],
                        "observed": float(example.targets[atom, k]),
                        "predicted": float(predicted[atom, k]),
                        "std": float(std[atom, k]),
                    }
                )
    for item, (predicted, std) in zip(tests.literature, literature, strict=True):
        values = predicted[:, tests.nuclei.index(item.nucleus)]
        stds = std[:, tests.nuclei.index(item.nucleus)]
        atoms = [a for group in item.plan.groups for a in group]
        if np.isnan(values[atoms]).any():
            missing["literature_lists"] += 1
            continue
        groups, pooled, observed = pooled_sorted_pairs(item.plan, values)
        base = _row(item, context, item.nucleus) | {
            "model": model,
            "split": LITERATURE_TEST,
            "record_id": item.record_id,
            "match_branch": item.plan.branch,
        }
        environments = context.environments[item.structure.smiles]
        rows += pair_rows(base, groups, pooled, observed, environments, stds)
    return rows, missing


def pair_rows(
    base: dict,
    groups: Sequence[Sequence[int]],
    predicted: np.ndarray,
    observed: np.ndarray,
    environments: Sequence[str],
    std: np.ndarray,
) -> list[dict]:
    """One ``eval_predictions`` row per sorted-matching pair (:func:`pooled_sorted_pairs`):
    ``base`` plus the group's first atom, size and environment, the observed shift, the pooled
    prediction and the mean ``std`` (shape ``N``, per atom) of the group."""
    return [
        base
        | {
            "atom_index": group[0],
            "n_atoms": len(group),
            "environment": environments[group[0]],
            "observed": float(o),
            "predicted": float(p),
            "std": float(np.mean(std[list(group)])),
        }
        for group, p, o in zip(groups, predicted, observed, strict=True)
    ]


def _scored(predictions: pl.DataFrame, edges: Sequence[float]) -> pl.DataFrame:
    """Rows with ``level``, ``error``, ``weight`` and ``similarity`` bin, molecule level added.

    A molecule unit is (model, record, nucleus); molecule-level rows of the assigned split pair
    the unit's sorted predictions with its sorted labels.
    """
    unit = ["model", "split", "record_id", "nucleus"]
    bins = similarity_bins(predictions["max_similarity"].to_numpy(), edges)
    frame = predictions.with_columns(
        similarity=pl.Series(bins, dtype=pl.String),
        error=pl.col("predicted") - pl.col("observed"),
    )
    assigned = frame.filter(pl.col("split") == ASSIGNED_TEST)
    atom = assigned.with_columns(level=pl.lit("atom"), weight=pl.lit(1.0))
    molecule = pl.concat(
        [
            assigned.with_columns(
                error=pl.col("predicted").sort().over(unit) - pl.col("observed").sort().over(unit)
            ),
            frame.filter(pl.col("split") != ASSIGNED_TEST),
        ]
    ).with_columns(level=pl.lit("molecule"), weight=1.0 / pl.len().over(unit))
    return pl.concat([atom, molecule])


def metrics_table(predictions: pl.DataFrame, options: ScoringOptions) -> pl.DataFrame:
    """Rows of schema ``eval_metrics`` from rows of schema ``eval_predictions`` (similarity
    bins, bootstrap and budget label of ``options``)."""
    scored = _scored(predictions, options.similarity_bins)
    out: list[dict] = []
    keys = ["model", "split", "level", "nucleus"]
    for breakdown, column in _GROUP_COLUMNS.items():
        grouped = scored.with_columns(group=pl.lit("all") if column is None else pl.col(column))
        for (model, split, level, nucleus, group), frame in grouped.group_by(
            [*keys, "group"], maintain_order=True
        ):
            if breakdown not in BREAKDOWNS[level] or group is None:
                continue
            summary = error_summary(
                frame["error"].to_numpy(),
                frame["key"].to_numpy(),
                frame["weight"].to_numpy(),
                n_boot=options.n_bootstrap,
                seed=options.seed,
            )
            out.append(
                {
                    "model": model,
                    "split": split,
                    "level": level,
                    "nucleus": nucleus,
                    "breakdown": breakdown,
                    "group": group,
                    "n": summary.n,
                    "n_molecules": summary.n_clusters,
                    "mae": summary.mae,
                    "rmse": summary.rmse,
                    "mae_ci_lo": summary.mae_ci[0],
                    "mae_ci_hi": summary.mae_ci[1],
                    "rmse_ci_lo": summary.rmse_ci[0],
                    "rmse_ci_hi": summary.rmse_ci[1],
                    "budget": options.budget,
                }
            )
    table = pl.from_arrow(rows_to_table(out, "eval_metrics"))
    return table.sort(["model", "split", "level", "nucleus", "breakdown", "group"])


def uncertainty_table(predictions: pl.DataFrame, budget: str = MANUAL_BUDGET) -> pl.DataFrame:
    """Rows of schema ``eval_uncertainty`` from rows of schema ``eval_predictions``.

    Atom level of the assigned test split only: a literature row pairs a peak with whichever
    pooled prediction sorting gives it, which already hides part of the error.
    """
    atoms = predictions.filter(pl.col("split") == ASSIGNED_TEST)
    out = []
    for (model, nucleus), frame in atoms.group_by(["model", "nucleus"], maintain_order=True):
        residuals = (frame["predicted"] - frame["observed"]).to_numpy()
        std = frame["std"].to_numpy()
        rank = spearman(residuals, std)
        out.append(
            {
                "model": model,
                "split": ASSIGNED_TEST,
                "nucleus": nucleus,
                "n": frame.height,
                **{
                    f"coverage_{round(100 * level)}": coverage(residuals, std, level)
                    for level in LEVELS
                },
                "nll": gaussian_nll(residuals, std),
                "spearman": None if np.isnan(rank) else rank,
                "mean_std": float(np.mean(std)),
                "budget": budget,
            }
        )
    table = pl.from_arrow(rows_to_table(out, "eval_uncertainty"))
    return table.sort(["model", "nucleus"])
