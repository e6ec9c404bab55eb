"""config.hetero.yaml: 31P and 19F through curation, split, catalog and report, the HOSE
baseline per heteronucleus and a training run with 31P/19F heads; the default config plans
none of it, and its jobs keep their commands."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import yaml
from snakemake.utils import update_config, validate

from litshift.train.config import run_config
from tests.conftest import DATA, REPO
from tests.workflow.tiny_pipeline import snakemake

HETERO = REPO / "config.hetero.yaml"
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def _config(*overrides: Path) -> dict:
    """config.yaml with the overrides deep-merged over it, as ``--configfile`` does."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for path in overrides:
        update_config(config, yaml.safe_load(path.read_text()))
    validate(config, str(SCHEMA))
    return config


def test_the_hetero_config_adds_31p_and_19f_and_one_training_run() -> None:
    default, hetero = _config(), _config(HETERO)
    assert default["curation"]["nuclei"] == ["1H", "13C"]
    assert default["split"]["heteronuclei"] == []
    assert default["curation"]["unassigned_uncapped_nuclei"] == []
    assert hetero["curation"]["nuclei"] == ["1H", "13C", "31P", "19F"]
    assert set(hetero["curation"]["shift_window"]) == {"1H", "13C", "31P", "19F"}
    assert hetero["split"]["heteronuclei"] == hetero["curation"]["unassigned_uncapped_nuclei"]
    assert set(hetero["split"]["heteronuclei"]) <= set(hetero["literature"]["nuclei"])
    assert hetero["evaluate"] == default["evaluate"]
    runs = hetero["train"].pop("runs")
    assert hetero["train"] == {k: v for k, v in default["train"].items() if k != "runs"}
    assert {k: runs[k] for k in default["train"]["runs"]} == default["train"]["runs"]
    hetero_run = run_config(hetero["train"] | {"runs": runs}, "hetero")
    assert hetero_run["model"]["nuclei"] == ["1H", "13C", "31P", "19F"]
    assert hetero_run["atom_label_nuclei"] == hetero["split"]["heteronuclei"]
    assert set(hetero_run["weak_filters"]["windows"]) == {"1H", "13C", "31P", "19F"}
    assert "atom_label_nuclei" not in run_config(default["train"], "semi")


def _plan(tmp_path: Path, *args: str) -> tuple[dict[str, str], str]:
    work = tmp_path / "work"
    work.mkdir(parents=True)
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    run = snakemake(work, "-n", "-p", "--cores", "2", *args)
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, re.MULTILINE)), run.stdout


def test_snakemake_plans_the_baseline_and_run_only_with_the_hetero_config(tmp_path: Path) -> None:
    default, default_stdout = _plan(tmp_path / "default")
    hetero, stdout = _plan(tmp_path / "hetero", "--configfile", str(HETERO))
    assert "hose_baseline" not in default
    assert hetero.pop("hose_baseline") == "1"
    assert int(hetero.pop("train")) == int(default.pop("train")) + 1
    assert int(hetero.pop("total")) == int(default.pop("total")) + 2
    assert hetero == default  # the same stages otherwise
    assert _settings(stdout, "curate_unassigned")["unassigned_uncapped_nuclei"] == ["31P", "19F"]
    assert _settings(stdout, "split")["heteronuclei"] == ["31P", "19F"]
    assert _settings(stdout, "hose_baseline")["heteronuclei"] == ["31P", "19F"]
    assert "--unassigned" not in _job(default_stdout, "collect_molecules")
    assert "--heteronuclei 31P,19F --unassigned" in _job(stdout, "collect_molecules")
    assert "--unassigned" not in _job(default_stdout, "train")
    assert "--unassigned results/curated/unassigned.parquet" in _job(stdout, "train")
    assert "results/eval/hose_baseline/summary.json" in _job(stdout, "catalog")
    assert "--models results/models/hetero/model.pt" in _job(stdout, "hose_baseline")


def _job(stdout: str, rule: str) -> str:
    """The first planned job of ``rule`` in a ``snakemake -n -p`` listing."""
    return next(job for job in stdout.split("\nrule ") if job.startswith(f"{rule}:"))


def _settings(stdout: str, rule: str) -> dict:
    """The ``--config-json`` of the first planned job of ``rule``."""
    return json.loads(re.search(r"--config-json '(\{.*?\})'", _job(stdout, rule)).group(1))
