"""config.release.yaml: per ensemble member two stages (supervised, then its semi-supervised
fine-tuning) that Snakemake chains through ``init_from``, on all NMRShiftDB2 records, and the
members scored as one predictor."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from snakemake.utils import update_config, validate

from litshift.train.config import TrainConfig, run_config
from tests.conftest import DATA, REPO
from tests.workflow.tiny_pipeline import snakemake

RELEASE = REPO / "config.release.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _merged() -> dict:
    """config.yaml with config.release.yaml deep-merged over it, as ``--configfile`` does."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load(RELEASE.read_text()))
    return config


def test_each_member_fine_tunes_its_own_supervised_stage_on_all_records() -> None:
    config = _merged()
    validate(config, str(SCHEMA))
    members = config["release"]["members"]
    assert members[0] == "release" and len(members) > 1
    first = run_config(config["train"], members[0])
    seeds_by_recipe: dict[str, set[int]] = {}
    for member in members:
        suffix = member.removeprefix("release")
        base = TrainConfig.from_dict(run_config(config["train"], f"release_base{suffix}"))
        final = TrainConfig.from_dict(run_config(config["train"], member))
        assert (base.mode, base.init_from) == ("supervised", None)
        assert (final.mode, final.init_from) == (
            "semi",
            f"results/models/release_base{suffix}/model.pt",
        )
        assert final.model == base.model  # same architecture, or the weights could not load
        assert final.lr < base.lr and final.max_weak is None
        assert base.seed == final.seed
        # members of one recipe differ in their seed; recipes in the loss weights and dropout
        settings = run_config(config["train"], member)
        recipe = {k: v for k, v in settings.items() if k not in ("seed", "init_from")}
        seeds = seeds_by_recipe.setdefault(json.dumps(recipe, sort_keys=True), set())
        assert base.seed not in seeds
        seeds.add(base.seed)
        differ = {k for k, v in settings.items() if first.get(k) != v}
        assert differ <= {"seed", "init_from", "model", "nucleus_weights", "weak_nucleus_weights"}
        assert {k for k, v in settings["model"].items() if first["model"].get(k) != v} <= {
            "dropout"
        }
    assert config["curation"]["unassigned_max_records"] is None


def test_snakemake_trains_each_base_before_its_fine_tuning_then_scores_the_ensemble(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    target = "results/release/metrics.parquet"
    run = snakemake(work, "-n", "-p", "--cores", "2", target, "--configfile", str(RELEASE))
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = {
        re.search(r"wildcards: prefix=, run=(\w+)", job).group(1): job
        for job in run.stdout.split("\nrule ")
        if job.startswith("train:")
    }
    members = _merged()["release"]["members"]
    bases = [m.replace("release", "release_base", 1) for m in members]
    assert sorted(jobs) == sorted(members + bases)
    for member, base in zip(members, bases, strict=True):
        inputs = re.search(r"input: (.*)\n", jobs[member]).group(1).split(", ")
        assert f"results/models/{base}/model.pt" in inputs
        config = json.loads(re.search(r"--config-json '(\{.*?\})'", jobs[member]).group(1))
        assert config["init_from"] == f"results/models/{base}/model.pt"
    (evaluation,) = [j for j in run.stdout.split("\nrule ") if j.startswith("evaluate_release:")]
    ensemble = ",".join(f"results/models/{m}/model.pt" for m in members)
    assert f"--models {ensemble} " in evaluation
    assert "--out-metrics results/release/metrics.parquet" in evaluation
