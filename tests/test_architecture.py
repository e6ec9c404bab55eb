"""The package's layers hold: each imports only those below it, argparse and MLflow only in the CLI.

The contracts live in pyproject.toml (``[tool.importlinter]``) and docs/architecture.md explains
them; ``make lint`` runs the same check. A violation fails here with import-linter's report, which
names the importing line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.fail("lint-imports is not installed: `make setup` installs the dev extras")
    run = subprocess.run(
        [lint_imports, "--config", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout
