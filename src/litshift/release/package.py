"""Finished training runs -> the release package: ``members/<run>/`` (each run's ``model.pt``
and ``calibration.json``), ``card.json`` (the runs' metrics and configs, the shipped figures) and
``MODEL_CARD.md`` (:mod:`litshift.release.card`).

The library of ``litshift release``. One run ships as it scored itself; several ship as a deep
ensemble, whose figures come from ``litshift evaluate`` scoring them as one predictor
(``results/release/``, the ``evaluate_release`` rule).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from litshift.data.io import atomic_path
from litshift.evaluate.scoring import ASSIGNED_TEST
from litshift.inference.predictors import CALIBRATION_FILE
from litshift.inference.shipped import MEMBERS_DIR, RELEASE_NAME, ensemble_name
from litshift.model.checkpoint import load_checkpoint
from litshift.provenance import git_commit
from litshift.release.card import Member, model_card

__all__ = ["RUN_FILES", "evaluated_figures", "missing_run_files", "package_release"]

#: the files of a finished run that the package is made from
RUN_FILES = ("model.pt", "metrics.json", "config.json", CALIBRATION_FILE)
#: the files of an evaluation the card of an ensemble reads
EVAL_FILES = ("metrics.parquet", "uncertainty.parquet")


def missing_run_files(run_dir: Path) -> list[str]:
    """The :data:`RUN_FILES` ``run_dir`` lacks (none: a finished run)."""
    return [name for name in RUN_FILES if not (run_dir / name).exists()]


def _atom_rows(path: Path) -> pl.DataFrame:
    """The atom-level rows of an evaluation's ``metrics.parquet`` on the assigned test split."""
    return pl.read_parquet(path).filter(
        (pl.col("split") == ASSIGNED_TEST) & (pl.col("level") == "atom")
    )


def _baselines(path: Path | None, exclude: set[str]) -> dict[str, dict[str, float]]:
    """Atom-level test MAE of the other predictors of an evaluate run (same split)."""
    if not path or not path.exists():
        return {}
    rows = _atom_rows(path).filter(
        (pl.col("breakdown") == "all") & ~pl.col("model").is_in([RELEASE_NAME, *exclude])
    )
    out: dict[str, dict[str, float]] = {}
    for row in rows.iter_rows(named=True):
        out.setdefault(row["model"], {})[f"mae.{row['nucleus']}"] = row["mae"]
    return out


def evaluated_figures(evaluation: Path, name: str) -> dict[str, float]:
    """The card's test figures of predictor ``name`` from an evaluate output folder.

    Raises
    ------
    ValueError
        The evaluation did not score ``name`` on the assigned test split.
    """
    rows = _atom_rows(evaluation / "metrics.parquet").filter(pl.col("model") == name)
    figures: dict[str, float] = {}
    for row in rows.iter_rows(named=True):
        nucleus = row["nucleus"]
        if row["breakdown"] == "all":
            figures |= {
                f"mae.{nucleus}": row["mae"],
                f"n.{nucleus}": row["n"],
                f"mae_lo.{nucleus}": row["mae_ci_lo"],
                f"mae_hi.{nucleus}": row["mae_ci_hi"],
            }
        elif row["breakdown"] == "solvent_class":
            figures |= {f"mae.{nucleus}.{row['group']}": row["mae"]}
            figures |= {f"n.{nucleus}.{row['group']}": row["n"]}
    if not figures:
        raise ValueError(f"{evaluation} did not score {name!r} on the assigned test split")
    coverage = pl.read_parquet(evaluation / "uncertainty.parquet").filter(
        (pl.col("model") == name) & (pl.col("split") == ASSIGNED_TEST)
    )
    for row in coverage.iter_rows(named=True):
        for level in (50, 80, 95):
            figures[f"cov{level}.{row['nucleus']}"] = row[f"coverage_{level}"]
    return figures


def _base(path: str | None) -> dict | None:
    """The checkpoint a fine-tuned run started from, when it is still on disk, with the commit
    of its run (from the ``metrics.json`` beside it, when there is one)."""
    if not path or not Path(path).exists():
        return None
    state = load_checkpoint(path)
    metrics = Path(path).parent / "metrics.json"
    if metrics.exists():
        state["git_commit"] = json.loads(metrics.read_text()).get("git_commit")
    return state


def _member(run_dir: Path) -> Member:
    config = json.loads((run_dir / "config.json").read_text())
    return Member(
        run_dir.name,
        json.loads((run_dir / "metrics.json").read_text()),
        config,
        json.loads((run_dir / CALIBRATION_FILE).read_text()),
        _base(config.get("init_from")),
    )


def _write_members(run_dirs: Sequence[Path], out: Path) -> None:
    """Replace the package's members with the runs' checkpoints and calibrations."""
    members = out / MEMBERS_DIR
    staged = out / f".{MEMBERS_DIR}.new"
    shutil.rmtree(staged, ignore_errors=True)
    for run_dir in run_dirs:
        (staged / run_dir.name).mkdir(parents=True)
        for name in ("model.pt", CALIBRATION_FILE):
            shutil.copyfile(run_dir / name, staged / run_dir.name / name)
    shutil.rmtree(members, ignore_errors=True)
    staged.rename(members)
    for legacy in ("model.pt", CALIBRATION_FILE):  # the single-checkpoint layout before members/
        (out / legacy).unlink(missing_ok=True)


def package_release(
    run_dirs: Sequence[Path],
    out: Path,
    command: str,
    commit: str | None = None,
    eval_metrics: Path | None = None,
    evaluation: Path | None = None,
) -> dict[str, float]:
    """Write the release package of the finished runs ``run_dirs`` into ``out``.

    Parameters
    ----------
    run_dirs
        Finished runs (every one of :data:`RUN_FILES`); several are shipped as a deep ensemble.
    out
        The package folder (created).
    command
        The command that trained the runs, for the card.
    commit
        The git commit the runs were trained at; default: the one in the first run's
        ``metrics.json``, else the current one, marked as the packaging commit.
    eval_metrics
        ``metrics.parquet`` of the pipeline's evaluate run on the same split: the other
        predictors' test MAE goes on the card (else the HOSE row of ``evaluation``). Optional
        even when given (it may not exist yet).
    evaluation
        An evaluate output folder (:data:`EVAL_FILES`) that scored the runs as one predictor
        (named ``run+run_1+...``, as evaluate names an ensemble): the card's figures.
        Required for an ensemble; a single run otherwise ships its own scores.

    Returns
    -------
    The shipped model's test MAE per nucleus (``mae.<nucleus>``).

    Raises
    ------
    ValueError
        Several runs without an ``evaluation`` of them.
    """
    members = [_member(run_dir) for run_dir in run_dirs]
    # the name evaluate gives the runs as one predictor
    name = ensemble_name(m.run for m in members)
    if evaluation is not None:
        test = evaluated_figures(evaluation, name)
    elif len(members) == 1:
        test = dict(members[0].metrics["test"])
    else:
        raise ValueError(
            "several --run are a deep ensemble: give --evaluation, the litshift evaluate output "
            "that scored them as one predictor (make release: results/release)"
        )
    card = model_card(
        members,
        test,
        commit
        or members[0].metrics.get("git_commit")
        or f"{git_commit()} (packaged; training commit unknown)",
        command,
        _baselines(eval_metrics, {m.run for m in members})
        or _baselines(evaluation / "metrics.parquet" if evaluation else None, {name}),
        load_checkpoint(run_dirs[0] / "model.pt").get("domain"),
        evaluated=evaluation is not None,
    )
    out.mkdir(parents=True, exist_ok=True)
    _write_members(run_dirs, out)
    with atomic_path(out / "card.json") as tmp:
        record = {
            "members": [{"run": m.run, "metrics": m.metrics, "config": m.config} for m in members],
            "test": test,
        }
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    with atomic_path(out / "MODEL_CARD.md") as tmp:
        tmp.write_text(card)
    return {k: v for k, v in test.items() if k.count(".") == 1 and k.startswith("mae.")}
