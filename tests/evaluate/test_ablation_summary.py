"""The ablation summary on hand-written run folders: mean and spread over seeds, missing seeds."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

from litshift.cli import main
from litshift.data.io import read_table
from litshift.evaluate.ablations import read_seed_run, summarize

#: validation 13C MAE per (run, seed)
MAE = {("lambda_1", 0): 6.0, ("lambda_1", 1): 8.0, ("weak_only", 0): 20.0, ("weak_only", 1): 24.0}


def _run_folder(root: Path, run: str, seed: int, mae_13c: float) -> Path:
    """What `litshift train` leaves in results/ablations/models/<run>_seed<seed>/."""
    folder = root / f"{run}_seed{seed}"
    folder.mkdir(parents=True)
    mode = "weak_only" if run == "weak_only" else "semi"
    config = {"mode": mode, "lambda_mol": 1.0, "model": {}, "match_policy": "litshift"}
    (folder / "config.json").write_text(json.dumps(config | {"seed": seed, "max_steps": 100}))
    valid = {
        "mae.13C": mae_13c,
        "n.13C": 40,
        "mae.13C.CDCl3": mae_13c + 1,
        "n.13C.CDCl3": 30,
        "mae.1H": math.nan if seed else 0.5,  # seed 1 has no 1H atoms
        "n.1H": 0 if seed else 12,
        "mae": mae_13c,
    }
    metrics = {"valid": valid, "steps": 100 - seed, "wall_seconds": 60.0 + seed, "budget": "t"}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder


@pytest.fixture
def folders(tmp_path: Path) -> list[Path]:
    return [_run_folder(tmp_path, run, seed, mae) for (run, seed), mae in MAE.items()]


def test_mean_and_spread_over_seeds(folders) -> None:
    rows = summarize([read_seed_run(f) for f in folders], seeds=[0, 1])
    by_key = {(r["run"], r["nucleus"], r["solvent_class"]): r for r in rows}
    semi = by_key[("lambda_1", "13C", "all")]
    assert (semi["mae_mean"], semi["mae_min"], semi["mae_max"]) == (7.0, 6.0, 8.0)
    assert semi["mae_std"] == pytest.approx(math.sqrt(2)) and semi["n_seeds"] == 2
    assert (semi["steps_mean"], semi["wall_seconds_total"], semi["n_atoms"]) == (99.5, 121.0, 40)
    assert by_key[("weak_only", "13C", "CDCl3")]["mae_mean"] == 23.0
    # a nucleus one seed could not score counts one seed, with no std
    proton = by_key[("lambda_1", "1H", "all")]
    assert (proton["n_seeds"], proton["seeds"], proton["mae_std"]) == (1, [0], None)


def test_a_missing_seed_is_an_error_that_names_it(folders) -> None:
    runs = [read_seed_run(f) for f in folders if f.name != "weak_only_seed1"]
    with pytest.raises(ValueError, match=r"\{'weak_only': \[1\]\}"):
        summarize(runs, seeds=[0, 1])
    assert {r["n_seeds"] for r in summarize(runs) if r["run"] == "weak_only"} == {1}


def test_folder_name_and_config_seed_must_agree(folders) -> None:
    folders[0].rename(folders[0].with_name("lambda_1_seed7"))
    with pytest.raises(ValueError, match="folder says seed 7"):
        read_seed_run(folders[0].with_name("lambda_1_seed7"))


def test_cli_writes_the_declared_schema(folders, tmp_path: Path) -> None:
    out = tmp_path / "summary.parquet"
    overrides = {"lambda_1": {"lambda_mol": 1.0}, "weak_only": {"mode": "weak_only"}}
    argv = ["summarize-ablations", *map(str, folders), "--seeds", "0,1", "--out", str(out)]
    assert main([*argv, "--overrides-json", json.dumps(overrides)]) == 0
    table = pl.from_arrow(read_table(out, "ablation_summary"))
    assert table.height == 6  # 2 runs x (13C, 13C CDCl3, 1H)
    assert set(table["overrides"]) == {'{"lambda_mol": 1.0}', '{"mode": "weak_only"}'}
