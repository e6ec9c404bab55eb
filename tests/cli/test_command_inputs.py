"""Issue 14 for every pipeline command: a missing input, an output that would overwrite an input
and an output of the wrong type each end in one line and exit status 2, with nothing written.

The commands check their paths before any work, so placeholder files stand in for real tables
and no model is trained or loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from litshift.cli import main


@dataclass(frozen=True, slots=True)
class Case:
    """One command line with a checked input and output left as placeholders."""

    argv: tuple[str, ...]
    """arguments; ``{d}`` is the test folder, ``{input}`` / ``{output}`` the checked paths"""
    input: str
    """what the messages call the checked input"""
    output: str
    """what the messages call the checked output"""
    suffix: str
    """the output's required suffix; empty for an output directory"""
    input_suffix: str = ".parquet"
    """suffix of the input file; empty for an input directory"""


TABLES = ("--assigned", "{d}/a.parquet", "--splits", "{d}/b.parquet")
MODELS = ("--conformers", "{d}/conformers", "--models", "{d}/model.pt")
CURATE = ("{input}", "--out", "{output}", "--rejected", "{d}/rejected.parquet")

CASES = {
    "curate-assigned": Case(("curate-assigned", *CURATE), "input", "--out", ".parquet", ".sdf"),
    "curate-unassigned": Case(
        ("curate-unassigned", *CURATE), "input", "--out", ".parquet", ".jsonl"
    ),
    "split": Case(
        (
            "split",
            *("--assigned", "{input}", "--unassigned", "{d}/a.parquet"),
            *("--out-splits", "{output}", "--out-weak", "{d}/weak.parquet"),
            *("--out-literature-test", "{d}/literature_test.parquet"),
        ),
        "--assigned",
        "--out-splits",
        ".parquet",
    ),
    "collect-molecules": Case(
        ("collect-molecules", "--assigned", "{d}/a.parquet", "--weak", "{d}/b.parquet", "{input}")
        + ("--out", "{output}"),
        "--weak",
        "--out",
        ".parquet",
    ),
    "conformers-shard": Case(
        ("conformers", "shard", "{input}", "--shard", "0", "--n-shards", "1")
        + ("--out", "{output}", "--cache", "{d}/cache"),
        "input",
        "--out",
        ".parquet",
    ),
    "conformers-gather": Case(
        ("conformers", "gather", "{d}/a.parquet", "{input}", "--out", "{output}"),
        "shard",
        "--out",
        ".json",
    ),
    "concat": Case(
        ("concat", "--schema", "rejected", "{d}/a.parquet", "{input}", "--out", "{output}"),
        "input",
        "--out",
        ".parquet",
    ),
    "train": Case(
        (
            "train",
            *TABLES,
            "--weak",
            "{d}/c.parquet",
            "--conformers",
            "{input}",
            "--out",
            "{output}",
        ),
        "--conformers",
        "--out",
        "",
        "",
    ),
    "evaluate": Case(
        ("evaluate", *TABLES, "--literature-test", "{d}/c.parquet", "--weak", "{input}", *MODELS)
        + ("--out-predictions", "{d}/predictions.parquet", "--out-metrics", "{d}/m.parquet")
        + ("--out-uncertainty", "{d}/uncertainty.parquet", "--out-summary", "{output}"),
        "--weak",
        "--out-summary",
        ".json",
    ),
    "verify-benchmark": Case(
        ("verify-benchmark", *TABLES, "--literature-test", "{d}/c.parquet", *MODELS)
        + ("--pool", "{d}/a.parquet", "{input}", "--out", "{output}")
        + ("--out-summary", "{d}/summary.json"),
        "--pool",
        "--out",
        ".parquet",
    ),
    "summarize-ablations": Case(
        ("summarize-ablations", "{input}", "--out", "{output}"), "run", "--out", ".parquet", ""
    ),
    "release": Case(("release", "--run", "{input}", "--out", "{output}"), "--run", "--out", "", ""),
    "report": Case(
        ("report", "--results", "{d}/results", "--config-json", "{}", "--repo", "{d}")
        + ("--out", "{output}", "{input}"),
        "input",
        "--out",
        ".html",
        ".json",
    ),
    "catalog": Case(
        ("catalog", "--db", "{output}", "--results", "{d}/results", "{input}"),
        "input",
        "--db",
        ".duckdb",
        ".json",
    ),
}

#: commands whose checked input and output are of one kind (two files or two directories)
CLASHING = [name for name, case in CASES.items() if bool(case.suffix) == bool(case.input_suffix)]


@pytest.fixture(autouse=True)
def _no_tracking(monkeypatch) -> None:
    monkeypatch.setenv("LITSHIFT_TRACKING", "0")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Placeholder inputs: non-empty files and directories, never read by a refused command."""
    for name in ("a.parquet", "b.parquet", "c.parquet", "model.pt"):
        (tmp_path / name).write_bytes(b"PAR1 placeholder")
    for name in ("conformers", "results"):
        (tmp_path / name).mkdir()
    return tmp_path


def _make(path: Path, directory: bool) -> Path:
    if directory:
        path.mkdir()
    else:
        path.write_bytes(b"PAR1 placeholder")
    return path


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def _run(
    case: Case, folder: Path, input: Path, output: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """Exit status and stderr of ``case``; asserts that it wrote nothing into ``folder``."""
    before = _files(folder)
    argv = [
        arg.replace("{d}", str(folder))
        .replace("{input}", str(input))
        .replace("{output}", str(output))
        for arg in case.argv
    ]
    status = main(argv)
    assert _files(folder) == before
    return status, capsys.readouterr().err.strip()


@pytest.mark.parametrize("name", CASES)
def test_missing_input(name, folder, capsys) -> None:
    case = CASES[name]
    missing = folder / f"missing{case.input_suffix}"
    output = folder / f"out{case.suffix}"
    status, err = _run(case, folder, missing, output, capsys)
    kind = "file" if case.input_suffix else "directory"
    assert (status, err) == (
        2,
        f"litshift {case.argv[0]}: error: {case.input} {kind} not found: {missing} "
        "(check the path)",
    )


@pytest.mark.parametrize("name", CLASHING)
def test_output_is_an_input(name, folder, capsys) -> None:
    case = CASES[name]
    source = _make(folder / f"in{case.suffix}", not case.suffix)
    status, err = _run(case, folder, source, source, capsys)
    what = "the input file" if case.suffix else "an input directory"
    assert (status, err) == (
        2,
        f"litshift {case.argv[0]}: error: {case.output} {source} is {what}; "
        "choose another output path",
    )


@pytest.mark.parametrize("name", CASES)
def test_unsupported_output(name, folder, capsys) -> None:
    """A file name of the wrong type; for an output directory, an existing file."""
    case = CASES[name]
    source = _make(folder / f"in{case.input_suffix}", not case.input_suffix)
    output = folder / "out.txt"
    if not case.suffix:
        output.write_text("a file, not a run directory\n")
    status, err = _run(case, folder, source, output, capsys)
    problem = (
        f": unsupported file type; use a name ending in {case.suffix}"
        if case.suffix
        else " is a file, not a directory"
    )
    assert (status, err) == (2, f"litshift {case.argv[0]}: error: {case.output} {output}{problem}")


def test_two_outputs_on_one_path(folder, capsys) -> None:
    case = CASES["split"]
    output = folder / "splits.parquet"
    argv = case.argv[:-1] + (str(output),)  # --out-literature-test on --out-splits' path
    status, err = _run(Case(argv, "", "", ""), folder, folder / "a.parquet", output, capsys)
    assert (status, err) == (
        2,
        f"litshift split: error: --out-literature-test {output} is also --out-splits; "
        "give each output its own path",
    )


def test_sql_without_catalog(folder, capsys) -> None:
    missing = folder / "catalog.duckdb"
    status, err = _run(
        Case(("sql", "SELECT 1", "--db", "{input}"), "", "", ""), folder, missing, missing, capsys
    )
    assert (status, err) == (
        2,
        f"litshift sql: error: catalog file not found: {missing} (build it with `make report` "
        "or `snakemake --cores all results/catalog.duckdb`)",
    )
