"""``litshift release``: package a finished training run as the model shipped with litshift."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from pathlib import Path

import polars as pl

from litshift.data.io import atomic_path
from litshift.evaluate.scoring import ASSIGNED_TEST
from litshift.inference.predictors import CALIBRATION_FILE
from litshift.inference.shipped import RELEASE_DIR, RELEASE_NAME
from litshift.model.checkpoint import load_checkpoint
from litshift.provenance import git_commit
from litshift.release.card import model_card
from litshift.usage import check_paths

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)

DEFAULT_COMMAND = "make release"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run", required=True, help="finished run directory (model.pt, metrics.json, ...)"
    )
    parser.add_argument(
        "--out", default=str(RELEASE_DIR), help=f"package folder to write (default {RELEASE_DIR})"
    )
    parser.add_argument(
        "--command", default=DEFAULT_COMMAND, help="the command that trained the run (on the card)"
    )
    parser.add_argument(
        "--commit",
        default=None,
        help="git commit the run was trained at (default: the one in its metrics.json)",
    )
    parser.add_argument(
        "--eval-metrics",
        default=None,
        help="results/eval/metrics.parquet of the same split: the other predictors' test MAE "
        "(HOSE, pipeline runs) goes on the card beside this model's",
    )


def _baselines(path: str | None) -> dict[str, dict[str, float]]:
    """Atom-level test MAE of the other predictors of an evaluate run (same split)."""
    if not path or not Path(path).exists():
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


def run(args: argparse.Namespace) -> int:
    # --eval-metrics is optional even when given: `make release` names it before it exists
    check_paths(input_dirs={"--run": args.run}, output_dirs={"--out": args.out})
    run_dir, out = Path(args.run), Path(args.out)
    needed = ["model.pt", "metrics.json", "config.json", CALIBRATION_FILE]
    missing = [name for name in needed if not (run_dir / name).exists()]
    if missing:
        raise SystemExit(f"litshift release: {run_dir} is not a finished run (missing {missing})")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = json.loads((run_dir / "config.json").read_text())
    calibration = json.loads((run_dir / CALIBRATION_FILE).read_text())
    card = model_card(
        metrics,
        config,
        calibration,
        args.commit
        or metrics.get("git_commit")
        or f"{git_commit()} (packaged; training commit unknown)",
        args.command,
        _baselines(args.eval_metrics),
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
    logger.info(
        "release model written to %s (test MAE %s)",
        out,
        {
            k: round(v, 3)
            for k, v in metrics["test"].items()
            if k.count(".") == 1 and k.startswith("mae.")
        },
    )
    return 0
