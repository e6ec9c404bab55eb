"""``litshift hose-baseline`` on a real sample split with ``--heteronuclei 31P,19F``."""

from __future__ import annotations

import json

import polars as pl
import pytest

from litshift.chem.nuclei import DEFAULT_WINDOWS
from litshift.cli import main
from litshift.data.io import write_table
from litshift.ingest.curate_assigned import curate_records
from litshift.ingest.curate_unassigned import curate_json_records
from litshift.ingest.nmrshiftdb2 import iter_sd_records
from litshift.report.page import hose_baseline_table
from litshift.report.records import hose_baseline_rows, nucleus_counts

WINDOWS = {**DEFAULT_WINDOWS, "31P": (-300.0, 300.0), "19F": (-300.0, 100.0)}
NUCLEI = {"1H", "13C", "31P", "19F"}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory, sdf_text, jsonl_lines):
    """The split and the baseline's outputs (paths by name)."""
    root = tmp_path_factory.mktemp("hose_baseline")
    paths = {
        name: root / f"{name}.parquet"
        for name in ("assigned", "unassigned", "splits", "weak", "lit", "predictions", "metrics")
    }
    records = iter_sd_records(iter(sdf_text.splitlines(keepends=True)))
    write_table(curate_records(records, NUCLEI, WINDOWS).rows, paths["assigned"], "assigned")
    unassigned = curate_json_records(jsonl_lines, NUCLEI, WINDOWS).rows
    write_table(unassigned, paths["unassigned"], "unassigned")
    common = ["--assigned", str(paths["assigned"]), "--unassigned", str(paths["unassigned"])]
    split = ["split", *common, "--heteronuclei", "31P,19F", "--seed", "3"]
    split += ["--out-splits", str(paths["splits"]), "--out-weak", str(paths["weak"])]
    assert main([*split, "--out-literature-test", str(paths["lit"])]) == 0
    argv = ["hose-baseline", *common, "--splits", str(paths["splits"])]
    argv += ["--weak", str(paths["weak"]), "--literature-test", str(paths["lit"])]
    argv += ["--nuclei", "31P,19F", "--n-bootstrap", "50"]
    argv += ["--out-predictions", str(paths["predictions"]), "--out-metrics"]
    argv += [str(paths["metrics"]), "--out-summary", str(root / "summary.json")]
    assert main(argv) == 0
    paths["summary"] = root / "summary.json"
    return paths


def test_held_out_31p_sets_are_scored_by_sorted_matching(baseline) -> None:
    predictions = pl.read_parquet(baseline["predictions"])
    assert set(predictions["split"]) == {"weak_test"} and set(predictions["model"]) == {"HOSE"}
    phosphorus = predictions.filter(pl.col("nucleus") == "31P")
    assert phosphorus.height > 5 and set(phosphorus["environment"]) == {"other P"}
    # one P per molecule: one pair per set, the atom's own prediction
    assert (phosphorus["n_atoms"] == 1).all() and phosphorus["record_id"].is_unique().all()
    splits = pl.read_parquet(baseline["splits"])
    test_keys = set(splits.filter(pl.col("split") == "test")["connectivity_key"])
    unassigned = pl.read_parquet(baseline["unassigned"])
    keys = dict(zip(unassigned["smiles"], unassigned["inchikey"].str.slice(0, 14), strict=True))
    assert {keys[s] for s in phosphorus["smiles"]} <= test_keys
    weak_keys = set(pl.read_parquet(baseline["weak"])["inchikey"].str.slice(0, 14))
    assert not weak_keys & test_keys


def test_metrics_and_counts(baseline) -> None:
    metrics = pl.read_parquet(baseline["metrics"])
    overall = metrics.filter(pl.col("breakdown") == "all", pl.col("nucleus") == "31P")
    assert overall["level"].to_list() == ["molecule"]
    assert 0 < overall["mae"][0] < 100 and overall["mae_ci_lo"][0] <= overall["mae"][0]
    counts = json.loads(baseline["summary"].read_text())["counts"]
    assert counts["train.weak.31P.single_class"] > 50
    assert counts["HOSE.weak_test.scored.31P"] == overall["n_molecules"][0]
    page = hose_baseline_table(hose_baseline_rows(pl.scan_parquet(baseline["metrics"])))
    assert "31P" in page and "weak_test" in page


def test_the_data_section_counts_per_nucleus_and_solvent_class(baseline) -> None:
    tables = {
        "assigned": pl.scan_parquet(baseline["assigned"]),
        "unassigned": pl.scan_parquet(baseline["unassigned"]),
        "weak_train": pl.scan_parquet(baseline["weak"]),
    }
    rows = nucleus_counts(tables)
    assert {(r[0], r[1]) for r in rows} >= {
        ("NMRShiftDB2 molecule-level sets", "31P"),
        ("weak training sets", "31P"),
        ("assigned spectra", "13C"),
    }
    for _, _, cdcl3, dmso, other, total, molecules in rows:
        assert cdcl3 + dmso + other == total and 0 < molecules <= total
    unassigned = pl.read_parquet(baseline["unassigned"])
    (p_row,) = (r for r in rows if r[:2] == ("NMRShiftDB2 molecule-level sets", "31P"))
    assert p_row[5] == (unassigned["nucleus"] == "31P").sum()
