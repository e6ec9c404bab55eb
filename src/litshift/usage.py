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
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "JSON",
    "PARQUET",
    "PathArg",
    "UsageError",
    "check_device",
    "check_directory",
    "check_input",
    "check_input_directory",
    "check_output",
    "check_paths",
]

#: first bytes of a Parquet file
PARQUET_MAGIC = b"PAR1"

#: output suffixes of the commands that write a table / a summary
PARQUET = (".parquet",)
JSON = (".json",)

#: one path argument: a path, the paths of an ``nargs="+"`` option, or None when not given
PathArg = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None


class UsageError(Exception):
    """The command was called wrongly: exit status 2, one line, no traceback."""


def check_input(
    path: str | os.PathLike[str], what: str = "input", hint: str = "check the path"
) -> Path:
    """An existing, readable, non-empty file; a ``.gz`` must start a valid gzip stream.
    ``hint`` says how to fix a missing file (e.g. which command builds it)."""
    file = Path(path)
    if not file.exists():
        raise UsageError(f"{what} file not found: {file} ({hint})")
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


def _is_input(path: Path, inputs: Sequence[str | os.PathLike[str] | None]) -> bool:
    """Whether ``path`` already exists as one of ``inputs`` (under any name or link)."""
    return path.exists() and any(
        source is not None and Path(source).exists() and os.path.samefile(source, path)
        for source in inputs
    )


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
    if _is_input(file, inputs):
        raise UsageError(f"{what} {file} is the input file; choose another output path")
    if not _writable_directory(file.parent):
        raise UsageError(
            f"{what} directory {file.parent} is not writable; choose another output path"
        )
    return file


def check_input_directory(path: str | os.PathLike[str], what: str = "input") -> Path:
    """An existing directory whose entries can be listed and read (conformer shards, a run)."""
    directory = Path(path)
    if not directory.exists():
        raise UsageError(f"{what} directory not found: {directory} (check the path)")
    if not directory.is_dir():
        raise UsageError(f"{what} {directory} is a file, not a directory")
    if not os.access(directory, os.R_OK | os.X_OK):
        raise UsageError(f"{what} directory {directory} is not readable (check its permissions)")
    return directory


def check_directory(
    path: str | os.PathLike[str],
    what: str = "output directory",
    inputs: Sequence[str | os.PathLike[str] | None] = (),
) -> Path:
    """A directory that exists and is writable, or can be created, and is none of the input
    directories ``inputs`` (the command would write into what it reads)."""
    directory = Path(path)
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{what} {directory} is a file, not a directory")
    if _is_input(directory, inputs):
        raise UsageError(f"{what} {directory} is an input directory; choose another output path")
    if not _writable_directory(directory):
        raise UsageError(f"{what} {directory} is not writable; choose another path")
    return directory


def _paths(value: PathArg) -> list[Path]:
    """The paths of one argument, whatever its ``nargs``."""
    if value is None:
        return []
    if isinstance(value, str | os.PathLike):
        return [Path(value)]
    return [Path(v) for v in value]


def check_paths(
    *,
    inputs: Mapping[str, PathArg] | None = None,
    input_dirs: Mapping[str, PathArg] | None = None,
    outputs: Mapping[str, tuple[PathArg, Sequence[str]]] | None = None,
    output_dirs: Mapping[str, PathArg] | None = None,
) -> None:
    """Every path check of one command in one call, so a command states its files once.

    Keys are what the messages call the argument (``"--assigned"``, ``"input"``). Input files
    and directories must exist and be readable; output files (with their allowed suffixes)
    and output directories must be writable, none of the inputs, and no two outputs the same
    path (the second write would silently replace the first).
    """
    files = [(what, p) for what, value in (inputs or {}).items() for p in _paths(value)]
    dirs = [(what, p) for what, value in (input_dirs or {}).items() for p in _paths(value)]
    for what, path in files:
        check_input(path, what)
    for what, path in dirs:
        check_input_directory(path, what)
    sources = [path for _, path in files + dirs]
    claimed: dict[Path, str] = {}
    for what, (value, suffixes) in (outputs or {}).items():
        for path in _paths(value):
            check_output(path, suffixes, sources, what)
            _claim(claimed, path, what)
    for what, value in (output_dirs or {}).items():
        for path in _paths(value):
            check_directory(path, what, sources)
            _claim(claimed, path, what)


def _claim(claimed: dict[Path, str], path: Path, what: str) -> None:
    """Record that ``what`` writes ``path``; a path two arguments write is a usage error."""
    first = claimed.setdefault(path.resolve(), what)
    if first != what:
        raise UsageError(f"{what} {path} is also {first}; give each output its own path")


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
