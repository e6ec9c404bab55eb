"""What produced a result: the code's git commit, the configuration's hash, litshift's version.

A low layer with no litshift imports, so MLflow tags (:mod:`litshift.cli.tracking`), the report and
the release model card all name a run's origin the same way.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["config_hash", "git_commit", "git_state", "litshift_version"]

#: the package's source folder: its git checkout is the code that runs
PACKAGE_DIR = Path(__file__).resolve().parent


def config_hash(config: Mapping[str, Any]) -> str:
    """Short content hash of the configuration (key order does not matter)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def git_state(directory: str | Path = PACKAGE_DIR) -> tuple[str, bool] | None:
    """``(commit, dirty)`` of the checkout holding ``directory``; ``None`` outside git.

    Dirty means tracked files differ from the commit (untracked files do not count), i.e. the
    commit alone does not reproduce the code.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=directory, capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit, bool(changes)


def git_commit(directory: str | Path = PACKAGE_DIR) -> str:
    """``<commit>`` (``+ uncommitted changes`` when dirty) or ``unknown`` outside git."""
    state = git_state(directory)
    if state is None:
        return "unknown"
    commit, dirty = state
    return f"{commit} + uncommitted changes" if dirty else commit


def litshift_version() -> str:
    """The installed distribution's version (``unknown`` when run from an uninstalled tree)."""
    try:
        return importlib.metadata.version("litshift")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
