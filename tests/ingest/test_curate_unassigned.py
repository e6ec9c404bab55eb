import json
from collections import Counter

import polars as pl

from litshift.chem.nuclei import DEFAULT_WINDOWS
from litshift.cli import main
from litshift.ingest.curate_unassigned import curate_json_records


def test_real_records_become_shift_sets(jsonl_lines: list[str]) -> None:
    result = curate_json_records(jsonl_lines, {"1H", "13C"}, DEFAULT_WINDOWS)
    assert result.counts["records_read"] == len(jsonl_lines)
    assert len(result.rows) > 300
    for row in result.rows:
        assert row["shifts"] and row["nucleus"] in {"1H", "13C"}
        assert (row["multiplicity"] is not None) == (row["nucleus"] == "1H")
        assert len(row["inchikey"]) == 27


def test_bad_lines_are_rejected_with_reasons(jsonl_lines: list[str]) -> None:
    good = json.loads(jsonl_lines[1])
    bad = [
        "{not json",
        json.dumps({**good, "nmrshiftdb2 ID": 1, "SMILES": "C1CC("}),
        json.dumps({**good, "nmrshiftdb2 ID": 2, "SMILES": None}),
        json.dumps({"nmrshiftdb2 ID": 3, "SMILES": "CCO", "Spectrum 13C 0": "18;0.0;x|"}),
        json.dumps({"nmrshiftdb2 ID": 4, "SMILES": "CCO", "Spectrum 13C 0": "400.0;0.0;0|"}),
    ]
    result = curate_json_records(
        [jsonl_lines[0], *bad, jsonl_lines[1]], {"1H", "13C"}, DEFAULT_WINDOWS
    )
    assert Counter(r["reason"] for r in result.rejected) == Counter(
        [
            "unparseable JSON",
            "invalid SMILES",
            "missing SMILES",
            "unparseable spectrum tag",
            "shift outside plausible window",
        ]
    )
    assert result.counts["records_kept"] == 2


def test_cli_subsample(tmp_path, jsonl_lines: list[str]) -> None:
    src = tmp_path / "records.jsonl"
    src.write_text("".join(jsonl_lines))
    out = tmp_path / "unassigned.parquet"
    assert (
        main(
            [
                "curate-unassigned",
                str(src),
                "--out",
                str(out),
                "--rejected",
                str(tmp_path / "rej.parquet"),
                "--max-records",
                "50",
                "--nuclei",
                "13C",
            ]
        )
        == 0
    )
    table = pl.read_parquet(out)
    assert set(table["nucleus"]) == {"13C"}
    assert table["record_id"].str.split(":").list.first().n_unique() <= 50


def test_uncapped_nuclei_are_read_past_the_record_cap(jsonl_lines: list[str]) -> None:
    nuclei, windows = {"1H", "13C", "31P"}, {**DEFAULT_WINDOWS, "31P": (-300.0, 300.0)}
    everything = curate_json_records(jsonl_lines, nuclei, windows)
    capped = curate_json_records(jsonl_lines, nuclei, windows, max_records=100)
    assert capped.rows == curate_json_records(jsonl_lines[:100], nuclei, windows).rows
    mixed = curate_json_records(
        jsonl_lines, nuclei, windows, max_records=100, uncapped=frozenset({"31P"})
    )
    late_31p = [r for r in everything.rows[len(capped.rows) :] if r["nucleus"] == "31P"]
    assert late_31p, "the sample has 31P spectra past its first 100 records"
    assert mixed.rows == capped.rows + late_31p
    assert mixed.counts["records_read"] == 100
    assert mixed.counts["records_read_past_cap"] == len(jsonl_lines) - 100


def test_cli_refuses_uncapped_nuclei_it_does_not_keep(tmp_path, jsonl_lines: list[str]) -> None:
    src = tmp_path / "records.jsonl"
    src.write_text("".join(jsonl_lines[:5]))
    argv = ["curate-unassigned", str(src), "--out", str(tmp_path / "u.parquet")]
    argv += ["--rejected", str(tmp_path / "r.parquet"), "--uncapped-nuclei", "31P"]
    assert main(argv) == 2
