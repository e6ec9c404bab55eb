import json

import polars as pl
import pytest

from litshift.cli import main
from litshift.data.catalog import build_catalog
from litshift.data.sql import query


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results" / "curated").mkdir(parents=True)
    pl.DataFrame(
        {"nucleus": ["1H", "13C", "13C"], "solvent_class": ["CDCl3", "other", "other"]}
    ).write_parquet("results/curated/assigned.parquet")
    pl.DataFrame({"stage": ["a", "b"], "reason": ["x", "y"], "excerpt": [None, "z"]}).write_parquet(
        "results/curated/rejected.parquet"
    )
    return tmp_path


def test_catalog_has_views_for_existing_outputs_only(results) -> None:
    counts = build_catalog("results/catalog.duckdb", "results")
    assert counts == {"assigned": 3, "rejected": 2}
    text = query(
        "SELECT reason, excerpt FROM rejected ORDER BY reason", "results/catalog.duckdb", "json"
    )
    assert json.loads(text) == [{"reason": "x", "excerpt": None}, {"reason": "y", "excerpt": "z"}]


def test_sql_cli_formats(results, capsys) -> None:
    build_catalog("results/catalog.duckdb", "results")
    sql = "SELECT nucleus, count(*) AS n FROM assigned GROUP BY 1 ORDER BY 1"
    assert main(["sql", sql, "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["nucleus,n", "13C,2", "1H,1"]
    assert main(["sql", sql]) == 0
    assert "13C" in capsys.readouterr().out
    assert main(["sql", "SELECT * FROM no_such_view"]) == 1
    assert "no_such_view" in capsys.readouterr().err


def test_sql_without_catalog_says_how_to_build_it(tmp_path, capsys) -> None:
    assert main(["sql", "SELECT 1", "--db", str(tmp_path / "none.duckdb")]) == 2
    assert "catalog file not found" in capsys.readouterr().err
