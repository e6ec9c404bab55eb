"""The ablation summary: validation MAE of every ablation run, mean and spread over seeds.

Each ablation run is trained once per seed (``results/ablations/models/<run>_seed<seed>/``);
one seed's number says little at a small budget, so the report shows the mean with the seed
spread instead. :func:`read_seed_run` reads one run folder (``config.json``, ``metrics.json``
written by ``litshift train``); :func:`summarize` is pure and returns rows of the
``ablation_summary`` schema (:mod:`litshift.data.schemas`): one per run, nucleus and solvent
class (``all`` = every validation atom of the nucleus). :func:`write_summary` is the whole of
``litshift summarize-ablations``: run folders in, the summary table out.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litshift.data.io import write_table
from litshift.train.ablations import parse_name

__all__ = ["SUMMARY", "SeedRun", "read_seed_run", "summarize", "write_summary"]

#: the summary's path under the results directory
SUMMARY = "ablations/summary.parquet"


@dataclass(slots=True)
class SeedRun:
    """One finished ablation run of one seed."""

    run: str
    """Ablation name (the key of ``ablations.runs``)."""
    seed: int
    config: dict[str, Any]
    """``config.json``: the run's full TrainConfig."""
    metrics: dict[str, Any]
    """``metrics.json``: ``valid`` scores (``mae.<nucleus>[.<solvent class>]``, ``n.<...>``),
    ``steps``, ``wall_seconds``, ``budget``."""


def read_seed_run(directory: str | Path) -> SeedRun:
    """Read a run folder named ``<run>_seed<seed>``; its config must hold that seed."""
    directory = Path(directory)
    run, seed = parse_name(directory.name)
    config = json.loads((directory / "config.json").read_text())
    metrics = json.loads((directory / "metrics.json").read_text())
    if config.get("seed") != seed:
        raise ValueError(f"{directory}: folder says seed {seed}, config.json {config.get('seed')}")
    return SeedRun(run=run, seed=seed, config=config, metrics=metrics)


def _groups(valid: Mapping[str, float]) -> set[tuple[str, str]]:
    """(nucleus, solvent class or ``all``) of every ``mae.*`` validation score."""
    groups = set()
    for key in valid:
        parts = key.split(".")
        if parts[0] == "mae" and len(parts) in (2, 3):
            groups.add((parts[1], parts[2] if len(parts) == 3 else "all"))
    return groups


def summarize(
    runs: Iterable[SeedRun],
    seeds: Sequence[int] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Rows of ``ablation_summary``: per run, nucleus and solvent class, the validation MAE
    over the seeds that scored it (mean, sample std, min, max, how many).

    ``seeds``: every run must have all of them (a missing one is an error naming it, not a
    silently thinner mean). ``overrides``: the declared overrides per run, kept as JSON so the
    report can tell which knob a run turns.
    """
    by_run: dict[str, dict[int, SeedRun]] = {}
    for seed_run in runs:
        if seed_run.seed in by_run.setdefault(seed_run.run, {}):
            raise ValueError(f"ablation {seed_run.run}: seed {seed_run.seed} given twice")
        by_run[seed_run.run][seed_run.seed] = seed_run
    if seeds is not None:
        missing = {
            run: sorted(set(seeds) - set(found))
            for run, found in by_run.items()
            if set(seeds) - set(found)
        }
        if missing:
            raise ValueError(f"ablation runs miss seeds: {missing}")
    rows = []
    for run, found in sorted(by_run.items()):
        members = [found[s] for s in sorted(found)]
        first = members[0].config
        steps = [float(m.metrics["steps"]) for m in members]
        walls = [float(m.metrics["wall_seconds"]) for m in members]
        groups = set().union(*(_groups(m.metrics.get("valid", {})) for m in members))
        for nucleus, solvent in sorted(groups):
            suffix = nucleus if solvent == "all" else f"{nucleus}.{solvent}"
            scored = [
                m
                for m in members
                if math.isfinite(m.metrics["valid"].get(f"mae.{suffix}", math.nan))
            ]
            if not scored:
                continue
            mae = [float(m.metrics["valid"][f"mae.{suffix}"]) for m in scored]
            rows.append(
                {
                    "run": run,
                    "nucleus": nucleus,
                    "solvent_class": solvent,
                    "mode": first["mode"],
                    "lambda_mol": float(first["lambda_mol"]),
                    "solvent_mode": (first.get("model") or {}).get("solvent_mode", "cls"),
                    "match_policy": first["match_policy"],
                    "overrides": json.dumps((overrides or {}).get(run) or {}, sort_keys=True),
                    "seeds": [m.seed for m in scored],
                    "n_seeds": len(scored),
                    "n_atoms": max(int(m.metrics["valid"].get(f"n.{suffix}", 0)) for m in scored),
                    "mae_mean": statistics.fmean(mae),
                    "mae_std": statistics.stdev(mae) if len(mae) > 1 else None,
                    "mae_min": min(mae),
                    "mae_max": max(mae),
                    "max_steps": first.get("max_steps"),
                    "steps_mean": statistics.fmean(steps),
                    "wall_seconds_mean": statistics.fmean(walls),
                    "wall_seconds_total": sum(walls),
                    "budget": str(members[0].metrics.get("budget", "unknown")),
                }
            )
    return rows


def write_summary(
    run_dirs: Iterable[str | Path],
    out: str | Path,
    seeds: Sequence[int] | None = None,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> int:
    """Summarize the run folders (``<run>_seed<seed>``) into the schema-checked
    ``ablation_summary`` table at ``out``; returns its number of rows.

    ``seeds`` and ``overrides`` as for :func:`summarize`.
    """
    rows = summarize((read_seed_run(path) for path in run_dirs), seeds, overrides)
    return write_table(rows, out, "ablation_summary").num_rows
