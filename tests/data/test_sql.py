"""``litshift sql`` answers the README's queries from anywhere and refuses to act as a shell."""

import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from litshift.cli import main
from litshift.data.catalog import build_catalog

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture
def catalog(tmp_path, monkeypatch) -> Path:
    """A catalog over tiny assigned, weak-train and rejected tables, built from ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    for folder in ("curated", "splits"):
        (tmp_path / "results" / folder).mkdir(parents=True)
    pl.DataFrame(
        {
            "nucleus": ["1H", "13C", "13C"],
            "solvent_class": ["CDCl3", "other", "other"],
            "inchikey": ["A", "A", "B"],
        }
    ).write_parquet("results/curated/assigned.parquet")
    pl.DataFrame({"nucleus": ["13C"], "inchikey": ["C"]}).write_parquet(
        "results/splits/weak_train.parquet"
    )
    pl.DataFrame({"stage": ["a", "b", "b"], "reason": ["x", "y", "y"]}).write_parquet(
        "results/curated/rejected.parquet"
    )
    build_catalog("results/catalog.duckdb", "results")
    return tmp_path / "results" / "catalog.duckdb"


def readme_queries() -> list[list[str]]:
    """The ``litshift sql`` command lines of the README, as argument lists."""
    lines = re.findall(r"^\.venv/bin/litshift (sql .*)$", README.read_text(), re.MULTILINE)
    assert len(lines) == 3
    return [re.findall(r'"[^"]*"|\S+', line) for line in lines]


@pytest.mark.parametrize("argv", readme_queries(), ids=["per-nucleus", "molecules", "rejected"])
def test_readme_queries_run_from_the_repository_root_and_from_elsewhere(
    argv, catalog, tmp_path, monkeypatch, capsys
) -> None:
    argv = [arg.strip('"') for arg in argv]
    assert main(argv) == 0
    here = capsys.readouterr().out
    assert len(here.splitlines()) > 2 and "shape: (0," not in here  # rows, not just a header
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main([*argv, "--db", str(catalog)]) == 0
    assert capsys.readouterr().out == here


def test_every_catalog_view_is_readable_from_another_directory(
    catalog, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path.parent)
    assert main(["sql", "SHOW TABLES", "--format", "csv", "--db", str(catalog)]) == 0
    views = capsys.readouterr().out.split()[1:]
    assert views == ["assigned", "rejected", "weak_train"]
    for view in views:
        assert main(["sql", f"SELECT count(*) AS n FROM {view}", "--db", str(catalog)]) == 0
    assert main(["sql", "SUMMARIZE assigned", "--db", str(catalog)]) == 0


def test_result_files_under_the_catalog_folder_stay_readable(catalog, capsys) -> None:
    sql = "SELECT count(*) AS n FROM read_parquet('results/curated/*.parquet', union_by_name=1)"
    assert main(["sql", sql, "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "6"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("COPY assigned TO 'results/curated/rejected.parquet'", "refused: COPY is not allowed"),
        ("ATTACH 'results/other.duckdb' AS other", "refused: ATTACH is not allowed"),
        ("INSTALL httpfs", "refused: INSTALL is not allowed"),
        ("-- a comment first\nLOAD httpfs", "refused: LOAD is not allowed"),
        ("EXPORT DATABASE 'results/dump'", "refused: EXPORT is not allowed"),
        ("SET enable_external_access = true", "refused: SET is not allowed"),
        ("CREATE TEMP TABLE t AS SELECT 1", "refused: CREATE is not allowed"),
        ("SELECT 1; COPY (SELECT 1) TO 'results/x.csv'", "refused: COPY is not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", 'refused: Cannot access file "/etc/passwd"'),
        ("SELECT * FROM 'https://example.com/x.parquet'", "refused: Cannot access file"),
    ],
    ids=["copy", "attach", "install", "load", "export", "set", "create", "second", "file", "url"],
)
def test_forbidden_operations_get_one_line_and_exit_code_2(sql, message, catalog, capsys) -> None:
    before = {p: p.stat().st_mtime_ns for p in catalog.parent.rglob("*")}
    assert main(["sql", sql]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"litshift sql: {message}")
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err
    assert {p: p.stat().st_mtime_ns for p in catalog.parent.rglob("*")} == before


def test_the_confinement_is_locked(catalog) -> None:
    """Even through DuckDB's own API, the query connection cannot widen its access."""
    from litshift.data.sql import _connect

    con = _connect(catalog)
    try:
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
