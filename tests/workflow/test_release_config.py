"""config.release.yaml: two stages (supervised, then its semi-supervised fine-tuning) that
Snakemake chains through ``init_from``, on all NMRShiftDB2 records."""

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


def test_the_release_config_fine_tunes_its_supervised_stage_on_all_records() -> None:
    config = _merged()
    validate(config, str(SCHEMA))
    base = TrainConfig.from_dict(run_config(config["train"], "release_base"))
    final = TrainConfig.from_dict(run_config(config["train"], "release"))
    assert (base.mode, base.init_from) == ("supervised", None)
    assert (final.mode, final.init_from) == ("semi", "results/models/release_base/model.pt")
    assert final.model == base.model  # same architecture, or the weights could not load
    assert final.lr < base.lr
    assert config["curation"]["unassigned_max_records"] is None and final.max_weak is None


def test_snakemake_trains_the_base_before_the_fine_tuning(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    target = "results/models/release/model.pt"
    run = snakemake(work, "-n", "-p", "--cores", "2", target, "--configfile", str(RELEASE))
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = {
        re.search(r"wildcards: prefix=, run=(\w+)", job).group(1): job
        for job in run.stdout.split("\nrule ")
        if job.startswith("train:")
    }
    assert sorted(jobs) == ["release", "release_base"]
    inputs = re.search(r"input: (.*)\n", jobs["release"]).group(1).split(", ")
    assert "results/models/release_base/model.pt" in inputs
    config = json.loads(re.search(r"--config-json '(\{.*?\})'", jobs["release"]).group(1))
    assert config["init_from"] == "results/models/release_base/model.pt"
