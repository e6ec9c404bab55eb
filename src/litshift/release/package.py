"""A finished training run -> the release package: ``model.pt``, ``calibration.json``,
``card.json`` (the run's metrics and config) and ``MODEL_CARD.md`` (:mod:`litshift.release.card`).

The library of ``litshift release``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

from litshift.data.io import atomic_path
from litshift.evaluate.scoring import ASSIGNED_TEST
from litshift.inference.predictors import CALIBRATION_FILE
from litshift.inference.shipped import RELEASE_NAME
from litshift.model.checkpoint import load_checkpoint
from litshift.provenance import git_commit
from litshift.release.card import model_card

__all__ = ["RUN_FILES", "missing_run_files", "package_release"]

#: the files of a finished run that the package is made from
RUN_FILES = ("model.pt", "metrics.json", "config.json", CALIBRATION_FILE)


def missing_run_files(run_dir: Path) -> list[str]:
    """The :data:`RUN_FILES` ``run_dir`` lacks (none: a finished run)."""
    return [name for name in RUN_FILES if not (run_dir / name).exists()]


def _baselines(path: Path | None) -> dict[str, dict[str, float]]:
    """Atom-level test MAE of the other predictors of an evaluate run (same split)."""
    if not path or not path.exists():
        return {}
    rows = pl.read_parquet(path).filter(
        (pl.col("split") == ASSIGNED_TEST)
        & (pl.col("level") == "atom")
        & (pl.col("breakdown") == "all")
        & (pl.col("model") != RELEASE_NAME)
    )
    out: dict[str, dict[str, float]] = {}
    for row in rows.iter_rows(named=True):
        out.setdefault(row["model"], {})[f"mae.{row['nucleus']}"] = row["mae"]
    return out


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


def package_release(
    run_dir: Path,
    out: Path,
    command: str,
    commit: str | None = None,
    eval_metrics: Path | None = None,
) -> dict[str, float]:
    """Write the release package of the finished run ``run_dir`` into ``out``.

    Parameters
    ----------
    run_dir
        A finished run (every one of :data:`RUN_FILES`).
    out
        The package folder (created).
    command
        The command that trained the run, for the card.
    commit
        The git commit the run was trained at; default: the one in its ``metrics.json``, else
        the current one, marked as the packaging commit.
    eval_metrics
        ``metrics.parquet`` of an evaluate run on the same split: the other predictors' test MAE
        goes on the card. Optional even when given (it may not exist yet).

    Returns
    -------
    The run's test MAE per nucleus (``mae.<nucleus>``).
    """
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    calibration = json.loads((run_dir / CALIBRATION_FILE).read_text())
    card = model_card(
        metrics,
        config,
        calibration,
        commit
        or metrics.get("git_commit")
        or f"{git_commit()} (packaged; training commit unknown)",
        command,
        _baselines(eval_metrics),
        load_checkpoint(run_dir / "model.pt").get("domain"),
        _base(config.get("init_from")),
    )
    out.mkdir(parents=True, exist_ok=True)
    for name in ("model.pt", CALIBRATION_FILE):
        with atomic_path(out / name) as tmp:
            shutil.copyfile(run_dir / name, tmp)
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(
            json.dumps({"metrics": metrics, "config": config}, indent=2, sort_keys=True) + "\n"
        )
    with atomic_path(out / "MODEL_CARD.md") as tmp:
        tmp.write_text(card)
    return {k: v for k, v in metrics["test"].items() if k.count(".") == 1 and k.startswith("mae.")}
