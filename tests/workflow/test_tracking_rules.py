"""Every rule that logs hands its command the pipeline's tracking URI: litshift commands track
only when given one, so a rule without it would silently log nothing."""

from __future__ import annotations

import re
import shutil

import yaml

from litshift.cli import TRACKED_COMMANDS
from tests.conftest import DATA, REPO
from tests.workflow.tiny_pipeline import snakemake


def test_every_logging_rule_passes_the_configured_tracking_uri(tmp_path, monkeypatch) -> None:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(REPO / "config.yaml", work)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA)
    monkeypatch.delenv("MLFLOW_TRACKING_URI")  # the session's private store; config.yaml decides
    targets = ("results/report.html", "results/ablations/summary.parquet")
    commands = []
    # the heteronuclei override adds the hose_baseline rule to the default DAG
    for extra in ([], ["--configfile", str(REPO / "config.hetero.yaml")]):
        run = snakemake(work, "-n", "-p", "--cores", "2", *targets, *extra)
        assert run.returncode == 0, run.stderr[-3000:]
        commands += re.findall(r"^Shell command: litshift (.*)$", run.stdout, re.MULTILINE)
    # train runs through `litshift launch ... -- train ...`; `conformers gather` logs nothing
    logging = {
        line: "train" if line.startswith("launch ") else line.split()[0]
        for line in commands
        if not line.startswith("conformers gather")
    }
    logging = {line: name for line, name in logging.items() if name in TRACKED_COMMANDS}
    assert set(logging.values()) == TRACKED_COMMANDS
    uri = yaml.safe_load((REPO / "config.yaml").read_text())["tracking"]["uri"]
    assert [line for line in logging if f"--tracking-uri {uri}" not in line] == []
