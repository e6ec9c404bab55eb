"""The README's command examples run exactly as written."""

from __future__ import annotations

import re
import subprocess

from litshift.cli import main
from tests.conftest import REPO
from tests.training_data import config_json, write_training_inputs


def _bash_block(containing: str) -> str:
    """The README's ```bash block holding ``containing``."""
    blocks = re.findall(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.DOTALL)
    (block,) = [b for b in blocks if containing in b]
    return block


def test_the_verify_example_runs_as_written_where_a_pipeline_ran(tmp_path) -> None:
    """No file the example names is missing: it creates its own candidates file."""
    inputs = write_training_inputs(tmp_path / "inputs")
    out = tmp_path / "results" / "models" / "semi"
    argv = ["train", *inputs.cli_args(), "--out", str(out)]
    assert main([*argv, "--config-json", config_json(max_steps=3, eval_every=3)]) == 0
    (tmp_path / ".venv").symlink_to(REPO / ".venv")
    done = subprocess.run(
        ["bash", "-e", "-c", _bash_block("litshift verify")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "p-xylene" in done.stdout and "o-xylene" in done.stdout
    assert (tmp_path / "result.json").exists()
    assert len(list((tmp_path / "verify_svg").glob("*.svg"))) == 4
