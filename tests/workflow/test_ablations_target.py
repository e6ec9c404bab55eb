"""`make ablations` vs `make report`: which training jobs each plans (dry runs of the repository's
config.yaml), and the schema of the ablations: section."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from tests.conftest import DATA, REPO
from tests.workflow.tiny_pipeline import TARGET, snakemake

SCHEMA = str(REPO / "workflow" / "schemas" / "config.schema.yaml")
SUMMARY = "results/ablations/summary.parquet"


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder laid out like the repository's (config.yaml, the shared data at ../shared/data)."""
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    return work


def _jobs(work: Path, target: str) -> list[str]:
    run = snakemake(work, "-n", "-p", "--cores", "2", target)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout.split("\nrule ")


def _trained(jobs: list[str]) -> set[str]:
    return {re.search(r"--out (\S+)", job).group(1) for job in jobs if job.startswith("train:")}


def test_the_report_trains_only_the_headline_runs(work) -> None:
    assert _trained(_jobs(work, TARGET)) == {"results/models/supervised", "results/models/semi"}
    assert not (work / "results").exists()


def test_the_ablations_train_every_run_per_seed_into_their_own_folder(work) -> None:
    config = yaml.safe_load((work / "config.yaml").read_text())["ablations"]
    jobs = _jobs(work, SUMMARY)
    expected = {
        f"results/ablations/models/{run}_seed{seed}"
        for run in config["runs"]
        for seed in config["seeds"]
    }
    assert _trained(jobs) == expected and len(expected) == 18
    job = next(j for j in jobs if "--out results/ablations/models/no_solvent_seed1 " in j)
    assert "log: results/logs/ablations/train/no_solvent_seed1.log" in job
    assert "benchmark: results/benchmarks/ablations/train/no_solvent_seed1.tsv" in job
    assert '"solvent_mode": "none"' in job and '"seed": 1' in job
    assert f'"max_steps": {config["max_steps"]}' in job  # ablations.max_steps (semi's budget)
    assert "litshift launch --nodes 1" in job and "--run-name ablations/no_solvent_seed1" in job


def test_the_report_reads_the_summary_only_once_it_exists(work) -> None:
    report = next(j for j in _jobs(work, TARGET) if j.startswith("report:"))
    assert SUMMARY not in report and "summarize_ablations" not in report
    (work / SUMMARY).parent.mkdir(parents=True)
    (work / SUMMARY).touch()
    jobs = _jobs(work, TARGET)
    report = next(j for j in jobs if j.startswith("report:"))
    assert SUMMARY in report.split("\n", 2)[1]  # the input line


def _config(**ablations) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["ablations"] |= ablations
    return config


def test_the_schema_accepts_the_shipped_section_and_fills_defaults() -> None:
    validate(_config(), SCHEMA)
    config = _config()
    del config["ablations"]
    validate(config, SCHEMA)
    assert config["ablations"] == {"max_steps": None, "seeds": [0, 1], "runs": {}}


@pytest.mark.parametrize(
    "ablations",
    [
        {"seeds": []},
        {"seeds": [0, 0]},
        {"max_steps": 0},
        {"runs": {"bad/name": {}}},
        {"runs": {"lambda_0": 0.0}},
        {"steps": 100},
    ],
)
def test_the_schema_rejects(ablations) -> None:
    with pytest.raises(WorkflowError):
        validate(_config(**ablations), SCHEMA)
