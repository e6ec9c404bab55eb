"""Ablation runs: the ``ablations:`` config section resolved into one training config per seed.

Ablations are compared with each other and with the headline runs, so each one is the common
``train:`` settings plus its own overrides (merged exactly like a headline run by
:func:`~litshift.train.config.run_config`), trained once per seed of ``ablations.seeds`` at
one step budget: ``ablations.max_steps``, or the headline runs' when that is null. A run's
folder and Snakemake wildcard is ``<run>_seed<seed>``. Imports no torch (the Snakefile uses it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from litshift.train.config import run_config, run_names

__all__ = ["ablation_config", "ablation_name", "ablation_names", "ablation_steps", "parse_name"]

_NAME = re.compile(r"^(?P<run>.+)_seed(?P<seed>\d+)$")


def ablation_name(run: str, seed: int) -> str:
    """The folder name of ``run`` trained with ``seed``."""
    return f"{run}_seed{seed}"


def parse_name(name: str) -> tuple[str, int]:
    """``lambda_4_seed1`` -> ``("lambda_4", 1)``."""
    match = _NAME.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an ablation run folder name (<run>_seed<seed>)")
    return match["run"], int(match["seed"])


def ablation_names(ablations: Mapping[str, Any]) -> list[str]:
    """Every (run, seed) of a validated ``ablations:`` section, as folder names."""
    return [
        ablation_name(run, seed) for run in ablations["runs"] or {} for seed in ablations["seeds"]
    ]


def ablation_steps(train: Mapping[str, Any], ablations: Mapping[str, Any]) -> int | None:
    """The step budget of every ablation run: ``ablations.max_steps`` when set, else the
    headline runs' (the largest ``max_steps`` of ``train.runs``; None, i.e. the epochs decide,
    when one of them is uncapped or there is none)."""
    if ablations.get("max_steps") is not None:
        return int(ablations["max_steps"])
    steps = [run_config(train, run).get("max_steps") for run in run_names(train)]
    if not steps or None in steps:
        return None
    return max(steps)


def ablation_config(
    train: Mapping[str, Any], ablations: Mapping[str, Any], name: str
) -> dict[str, Any]:
    """The validated run config of ablation folder ``name`` (``<run>_seed<seed>``).

    ``train:`` at the ablation budget, deep-merged with the run's overrides; the seed is set
    last so that every run of one seed shares initialisation and batch order.
    """
    run, seed = parse_name(name)
    if seed not in ablations["seeds"]:
        raise KeyError(f"ablation {name!r}: seed {seed} not in ablations.seeds")
    section = {
        **train,
        "max_steps": ablation_steps(train, ablations),
        "runs": ablations["runs"] or {},
    }
    config = run_config(section, run)
    config["seed"] = seed
    return config
