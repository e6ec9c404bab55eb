"""config.full.yaml: it validates on top of config.yaml, and Snakemake plans the full-scale DAG
with it (placeholders stand for the full-size inputs, which are not shipped)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from snakemake.utils import update_config, validate

from tests.conftest import DATA, REPO
from tests.workflow.tiny_pipeline import snakemake

FULL = REPO / "config.full.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _merged() -> dict:
    """config.yaml with config.full.yaml deep-merged over it, as ``--configfile`` does."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    update_config(config, yaml.safe_load(FULL.read_text()))
    return config


def test_the_full_config_validates_and_sets_the_published_training() -> None:
    config = _merged()
    validate(config, str(SCHEMA))
    train = config["train"]
    assert (train["preset"], train["batch_labeled"], train["batch_weak"]) == ("paper", 4, 16)
    assert train["lambda_mol"] == 16.0 and train["max_steps"] is None
    assert all(run.get("max_steps", None) is None for run in train["runs"].values())
    assert config["curation"]["unassigned_max_records"] is None
    assert train["resources"]["nodes"] > 1 and train["resources"]["gpus"] > 1


def _workdir(tmp_path: Path) -> Path:
    """A working folder laid out like the repository's: the shared data at ../shared/data and
    (empty) placeholders of the full-size inputs at ../data, where config.full.yaml looks."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    sources = _merged()["literature"]["sources"]
    placeholders = [_merged()["inputs"]["nmrshiftdb2_sdf"]] + [
        sources[name]["path"] for name in ("nmrbank", "literature_peaks")
    ]
    for path in placeholders:
        (work / path).parent.mkdir(parents=True, exist_ok=True)
        (work / path).touch()
    return work


def test_snakemake_plans_the_full_dag_with_multi_node_training(tmp_path) -> None:
    work = _workdir(tmp_path)
    run = snakemake(work, "-n", "-p", "--cores", "64", "--configfile", str(FULL))
    assert run.returncode == 0, run.stderr[-3000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, re.MULTILINE))
    assert counts["conformers_shard"] == "256" and counts["ingest_literature"] == "4"
    assert counts["train"] == str(len(_merged()["train"]["runs"]))

    jobs = run.stdout.split("\nrule ")
    train = next(job for job in jobs if job.startswith("train:") and "run=semi\n" in job)
    # the run directory itself is no output: Snakemake never deletes checkpoints/ on a retry
    outputs = re.search(r"output: (.*)\n", train).group(1).split(", ")
    assert "results/models/semi/model.pt" in outputs
    assert not any("checkpoints" in path or path == "results/models/semi" for path in outputs)
    assert re.search(r"resources: .*nodes=2, gres=gpu:4", train)
    assert "litshift launch --nodes 2 --procs-per-node 4 --cpus-per-node 32 -- train" in train
    assert "--threads 8 --resume auto" in train
    config = json.loads(re.search(r"--config-json '(\{.*?\})'", train).group(1))
    assert (config["preset"], config["batch_labeled"], config["max_steps"]) == ("paper", 4, None)
