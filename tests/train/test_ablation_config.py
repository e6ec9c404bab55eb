"""The ablations: section resolved into run configs: overrides, seeds and the step budget."""

from __future__ import annotations

import pytest

from litshift.train.ablations import ablation_config, ablation_names, ablation_steps, parse_name

TRAIN = {
    "mode": "semi",
    "max_steps": 300,
    "lambda_mol": 16.0,
    "seed": 0,
    "model": {"uncertainty": "gaussian"},
    "resources": {"threads": 1},
    "runs": {"supervised": {"mode": "supervised", "max_steps": 1000}, "semi": {"max_steps": 800}},
}
ABLATIONS = {
    "max_steps": None,
    "seeds": [0, 1],
    "runs": {"lambda_4": {"lambda_mol": 4.0}, "no_solvent": {"model": {"solvent_mode": "none"}}},
}


def test_each_run_trains_once_per_seed() -> None:
    assert ablation_names(ABLATIONS) == [
        "lambda_4_seed0",
        "lambda_4_seed1",
        "no_solvent_seed0",
        "no_solvent_seed1",
    ]
    assert parse_name("lambda_4_seed1") == ("lambda_4", 1)
    with pytest.raises(ValueError, match="not an ablation run folder"):
        parse_name("lambda_4")


def test_overrides_merge_over_train_at_the_headline_budget() -> None:
    config = ablation_config(TRAIN, ABLATIONS, "no_solvent_seed1")
    assert config["model"] == {"uncertainty": "gaussian", "solvent_mode": "none"}
    assert (config["seed"], config["max_steps"], config["mode"]) == (1, 1000, "semi")
    assert "runs" not in config and "resources" not in config
    assert (
        ablation_config(TRAIN, ABLATIONS | {"max_steps": 50}, "lambda_4_seed0")["max_steps"] == 50
    )


def test_the_budget_is_uncapped_when_a_headline_run_is() -> None:
    train = TRAIN | {"runs": {"semi": {"max_steps": None}, "supervised": {}}}
    assert ablation_steps(train, ABLATIONS) is None
    assert ablation_steps(TRAIN | {"runs": {}}, ABLATIONS) is None


def test_unknown_runs_seeds_and_keys_fail_when_planning() -> None:
    with pytest.raises(KeyError, match="seed 2 not in ablations.seeds"):
        ablation_config(TRAIN, ABLATIONS, "lambda_4_seed2")
    with pytest.raises(KeyError, match="unknown training run 'lambda_5'"):
        ablation_config(TRAIN, ABLATIONS, "lambda_5_seed0")
    bad = ABLATIONS | {"runs": {"typo": {"lamda_mol": 1.0}}}
    with pytest.raises(ValueError, match="lamda_mol"):
        ablation_config(TRAIN, bad, "typo_seed0")
