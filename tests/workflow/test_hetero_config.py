"""config.hetero.yaml: 31P and 19F through curation, split, catalog and report, plus the HOSE
baseline per heteronucleus; the default config plans none of it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from snakemake.utils import update_config, validate

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


def test_the_hetero_config_adds_31p_and_19f_and_no_training_run() -> None:
    default, hetero = _config(), _config(HETERO)
    assert default["curation"]["nuclei"] == ["1H", "13C"]
    assert default["split"]["heteronuclei"] == []
    assert default["curation"]["unassigned_uncapped_nuclei"] == []
    assert hetero["curation"]["nuclei"] == ["1H", "13C", "31P", "19F"]
    assert set(hetero["curation"]["shift_window"]) == {"1H", "13C", "31P", "19F"}
    assert hetero["split"]["heteronuclei"] == hetero["curation"]["unassigned_uncapped_nuclei"]
    assert set(hetero["split"]["heteronuclei"]) <= set(hetero["literature"]["nuclei"])
    assert hetero["train"] == default["train"] and hetero["evaluate"] == default["evaluate"]


def _plan(tmp_path: Path, *args: str) -> tuple[dict[str, str], str]:
    work = tmp_path / "work"
    work.mkdir(parents=True)
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    run = snakemake(work, "-n", "-p", "--cores", "2", *args)
    assert run.returncode == 0, run.stderr[-3000:]
    return dict(re.findall(r"^(\w+)\s+(\d+)$", run.stdout, re.MULTILINE)), run.stdout


def test_snakemake_plans_the_baseline_only_with_the_hetero_config(tmp_path: Path) -> None:
    default, _ = _plan(tmp_path / "default")
    hetero, stdout = _plan(tmp_path / "hetero", "--configfile", str(HETERO))
    assert "hose_baseline" not in default
    assert hetero.pop("hose_baseline") == "1"
    assert int(hetero.pop("total")) == int(default.pop("total")) + 1
    assert hetero == default  # the same stages otherwise, the same training runs
    assert "--uncapped-nuclei '31P,19F'" in stdout and "--heteronuclei '31P,19F'" in stdout
    catalog = next(job for job in stdout.split("\nrule ") if job.startswith("catalog:"))
    assert "results/eval/hose_baseline/summary.json" in catalog
