"""Checks a command runs on its inputs and outputs before doing any work.

A user who mistyped a path, pointed the output at the input or asked for CUDA on a laptop
should learn it in one line at once, not from a traceback after an hour of predictions. Every
check raises :class:`UsageError` with what is wrong and how to fix it; ``litshift``'s entry
point (:mod:`litshift.cli`) prints it as ``litshift <command>: error: <message>`` and exits 2.
Nothing here imports torch at module level, so ``litshift sql`` stays fast.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "UsageError",
    "check_device",
    "check_directory",
    "check_input",
    "check_output",
]

#: first bytes of a Parquet file
PARQUET_MAGIC = b"PAR1"


class UsageError(Exception):
    """The command was called wrongly: exit status 2, one line, no traceback."""


def check_input(path: str | os.PathLike[str], what: str = "input") -> Path:
    """An existing, readable, non-empty file; a ``.gz`` must start a valid gzip stream."""
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{what} file not found: {file} (check the path)")
    if not file.is_file():
        raise UsageError(f"{what} {file} is a directory, not a file")
    if not os.access(file, os.R_OK):
        raise UsageError(f"{what} file {file} is not readable (check its permissions)")
    if file.stat().st_size == 0:
        raise UsageError(f"{what} file {file} is empty")
    if file.suffix == ".gz":
        try:
            with gzip.open(file, "rb") as handle:
                handle.read(1)
        except (OSError, EOFError, zlib.error) as err:
            raise UsageError(f"{what} file {file} is not a valid gzip file ({err})") from None
    return file


def is_parquet(path: str | os.PathLike[str]) -> bool:
    """Whether the file starts like a Parquet file (its content, whatever its name)."""
    with open(path, "rb") as handle:
        return handle.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC


def _writable_directory(directory: Path) -> bool:
    """Whether a file can be created in ``directory`` or, when it does not exist yet, in its
    nearest existing ancestor (where it would be created). A real probe file, because
    permission bits say nothing about root, ACLs or read-only mounts."""
    existing = directory
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return False
    try:
        with tempfile.TemporaryFile(dir=existing):
            return True
    except OSError:
        return False


def check_output(
    path: str | os.PathLike[str],
    suffixes: Sequence[str],
    inputs: Sequence[str | os.PathLike[str] | None] = (),
    what: str = "output",
) -> Path:
    """An output file with a supported suffix, in a writable directory, that is none of
    ``inputs`` (writing it would destroy what is being read)."""
    file = Path(path)
    if not file.name.endswith(tuple(suffixes)):
        raise UsageError(
            f"{what} {file}: unsupported file type; use a name ending in {' or '.join(suffixes)}"
        )
    if file.is_dir():
        raise UsageError(f"{what} {file} is a directory; give a file name")
    for source in inputs:
        if source is not None and Path(source).exists() and file.exists():
            if os.path.samefile(source, file):
                raise UsageError(f"{what} {file} is the input file; choose another output path")
    if not _writable_directory(file.parent):
        raise UsageError(
            f"{what} directory {file.parent} is not writable; choose another output path"
        )
    return file


def check_directory(path: str | os.PathLike[str], what: str = "output directory") -> Path:
    """A directory that exists and is writable, or can be created."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{what} {directory} is a file, not a directory")
    if not _writable_directory(directory):
        raise UsageError(f"{what} {directory} is not writable; choose another path")
    return directory


def check_device(name: str) -> str:
    """``auto``, ``cpu``, or a CUDA device that exists here."""
    if name in ("auto", "cpu"):
        return name
    if not name.startswith("cuda"):
        raise UsageError(f"--device {name}: unknown device; use auto, cpu or cuda[:N]")
    import torch

    if not torch.cuda.is_available():
        raise UsageError(f"--device {name}: no CUDA device is available here; use --device cpu")
    index = int(name.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise UsageError(f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) here")
    return name
