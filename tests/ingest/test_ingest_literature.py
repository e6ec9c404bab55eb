"""``litshift ingest-literature`` end to end on a small sample of the shared literature file."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from litshift.cli import main
from litshift.data.io import read_table
from litshift.ingest import literature_filters as F
from litshift.ingest.ingest_literature import detect_format, read_records
from tests.conftest import LIT_TRAIN

# Rows of nmrextractor_train_1000 with a known outcome (see test_literature_filters.py).
ROWS = [25, 0, 126, 27, 28, 143, 150, 162, 636, 2, 3]
PROSE = "Piperazine anhydride (4, 1.9 g, 22 mmol) and piperazine dihydrochloride were dissolved."


@pytest.fixture(scope="module")
def sample_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The chosen rows (all original columns) plus one row of prose, as a gzipped CSV."""
    frame = pl.read_csv(LIT_TRAIN, infer_schema_length=0)
    sample = frame[ROWS]
    prose = sample.head(1).with_columns(Paragraph=pl.lit(PROSE))
    path = tmp_path_factory.mktemp("literature") / "sample.csv"
    pl.concat([sample, prose]).write_csv(path)
    return path


@pytest.fixture(scope="module")
def ingested(sample_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("out")
    table, rejected = out / "sample.parquet", out / "rejected.parquet"
    assert (
        main(
            [
                "ingest-literature",
                str(sample_csv),
                str(table),
                "--rejected",
                str(rejected),
                "--source",
                "sample",
            ]
        )
        == 0
    )
    return table, rejected


def status_of(frame: pl.DataFrame, index: int, nucleus: str | None) -> list[str]:
    rows = frame.filter(pl.col("record_index") == index)
    if nucleus is not None:
        rows = rows.filter(pl.col("nucleus") == nucleus)
    return rows["status"].to_list()


def test_cli_writes_one_row_per_block_with_reasons(ingested: tuple[Path, Path]) -> None:
    frame = pl.from_arrow(read_table(ingested[0], "literature"))
    assert sorted(frame["record_index"].unique()) == list(range(len(ROWS) + 1))
    assert status_of(frame, 0, "1H") == status_of(frame, 0, "13C") == [F.OK]  # row 25
    assert status_of(frame, 1, "1H") == ["missing SMILES"]  # row 0
    assert status_of(frame, 2, "13C") == ["invalid SMILES"]  # row 126
    assert status_of(frame, 3, "1H") == [F.INTEGRATION]  # row 27
    # row 28: compound 1 (the record's, no SMILES given) and compound 2
    assert status_of(frame, 4, "1H") == ["missing SMILES", F.OTHER_COMPOUND]
    assert status_of(frame, 5, "13C") == [F.RESIDUAL]  # row 143
    assert status_of(frame, 6, "1H") == [F.NO_PEAKS]  # row 150: "1H-NMR see Table 3"
    assert status_of(frame, 8, None) == [F.DUPLICATE, F.DUPLICATE]  # row 636 repeats row 162
    assert status_of(frame, len(ROWS), None) == [F.NO_BLOCK]
    ok = frame.filter(pl.col("status") == F.OK)
    assert (
        ok.select("smiles", "inchikey", "solvent", "solvent_class", "nucleus")
        .null_count()
        .sum_horizontal()
        .item()
        == 0
    )
    first = frame.filter((pl.col("record_index") == 0) & (pl.col("nucleus") == "1H")).row(
        0, named=True
    )
    assert first["record_id"] == "sample:0" and first["document_id"].startswith("PMC")
    assert first["shifts"][:2] == [11.04, 9.34] and first["n_h"][:2] == [1, 1]
    assert first["multiplicity"][:2] == ["s", "s"] and first["frequency_mhz"] == 500.0
    assert (first["solvent"], first["solvent_class"], first["role"]) == (
        "DMSO-d6",
        "DMSO-d6",
        "train",
    )


def test_every_reject_is_in_the_rejected_table(ingested: tuple[Path, Path]) -> None:
    frame = pl.read_parquet(ingested[0])
    rejected = pl.from_arrow(read_table(ingested[1], "rejected"))
    assert rejected.height == frame.filter(pl.col("status") != F.OK).height
    assert set(rejected["stage"]) == {"ingest_literature"}
    duplicate = rejected.filter(pl.col("reason") == F.DUPLICATE)
    assert duplicate["excerpt"][0].startswith("same list as sample:7 | 1H-NMR (400 MHz)")


def test_workers_give_the_same_table(
    sample_csv: Path, ingested: tuple[Path, Path], tmp_path: Path
) -> None:
    out = tmp_path / "parallel.parquet"
    assert (
        main(
            [
                "ingest-literature",
                str(sample_csv),
                str(out),
                "--source",
                "sample",
                "--workers",
                "2",
                "--chunk-size",
                "3",
            ]
        )
        == 0
    )
    assert pq.read_table(out).equals(pq.read_table(ingested[0]))


def test_text_input_with_tab_separated_smiles(tmp_path: Path) -> None:
    frame = pl.read_csv(LIT_TRAIN, infer_schema_length=0)[[25, 0]]
    lines = [f"{frame['Paragraph'][0]}\t{frame['SMILES'][0]}", frame["Paragraph"][1]]
    source = tmp_path / "paragraphs.txt"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "text.parquet"
    assert main(["ingest-literature", str(source), str(out)]) == 0
    table = pl.read_parquet(out)
    assert table["source"].unique().to_list() == ["paragraphs"]
    assert status_of(table, 0, None) == [F.OK, F.OK]
    assert status_of(table, 1, None) == ["missing SMILES", "missing SMILES"]
    only_1h = tmp_path / "only_1h.parquet"
    assert main(["ingest-literature", str(source), str(only_1h), "--nuclei", "1H"]) == 0
    assert pl.read_parquet(only_1h)["nucleus"].to_list() == ["1H", "1H"]


def test_a_list_the_parser_gives_up_on_is_a_row_with_its_reason(tmp_path: Path) -> None:
    source = tmp_path / "typo.txt"
    source.write_text("1H NMR (CDCl3) δ 7.3.1 (m, 5H), 4.51 (s, 2H).\tCOCc1ccccc1\n")
    out = tmp_path / "typo.parquet"
    assert main(["ingest-literature", str(source), str(out), "--nuclei", "1H"]) == 0
    row = pl.read_parquet(out).row(0, named=True)
    assert row["status"] == F.NO_PEAKS
    assert row["detail"].startswith("unreadable value")


def test_peak_list_parquet_input(ingested: tuple[Path, Path], tmp_path: Path) -> None:
    ok = pl.read_parquet(ingested[0]).filter(pl.col("status") == F.OK)
    lists = tmp_path / "lists.parquet"
    ok.select(
        "smiles", "nucleus", pl.col("solvent_raw").alias("solvent"), "shifts", "n_h"
    ).write_parquet(lists)
    out = tmp_path / "again.parquet"
    assert main(["ingest-literature", str(lists), str(out)]) == 0
    again = pl.read_parquet(out)
    assert again["status"].to_list() == [F.OK] * ok.height
    assert again["shifts"].to_list() == ok["shifts"].to_list()


def test_readers_stream_chunks(sample_csv: Path) -> None:
    assert detect_format("x/nmrbank.csv.gz") == "csv" and detect_format("a.txt") == "text"
    chunks = list(read_records(str(sample_csv), "csv", chunk_size=5))
    assert [len(c) for c in chunks] == [5, 5, 2]
    assert chunks[1][0].index == 5 and chunks[0][0].smiles.startswith("CC(NC1")
    with pytest.raises(ValueError, match="no column"):
        next(read_records(str(sample_csv), "csv", text_column="Text"))


def test_a_list_on_another_shift_scale_is_a_rejected_row(tmp_path: Path) -> None:
    smiles = "FC(F)(F)c1ccc(F)cc1"
    source = tmp_path / "fluoro.txt"
    source.write_text(
        f"19F NMR (376 MHz, CDCl3, external TFA) δ 13.6 (s, 3F), -30.5 (m, 1F).\t{smiles}\n"
        f"19F NMR (376 MHz, CDCl3, CFCl3) δ -62.9 (s, 3F), -106.8 (m, 1F).\t{smiles}\n",
        encoding="utf-8",
    )
    out, rejected = tmp_path / "fluoro.parquet", tmp_path / "rejected.parquet"
    argv = ["ingest-literature", str(source), str(out), "--rejected", str(rejected)]
    assert main(argv) == 0
    table = pl.read_parquet(out)
    assert table["status"].to_list() == [F.REFERENCE, F.OK]
    assert table["reference"].to_list() == ["external TFA", "CFCl3"]
    assert pl.read_parquet(rejected)["reason"].to_list() == [F.REFERENCE]
    assert main([*argv, "--reference-standard", "19F=none"]) == 0
    assert pl.read_parquet(out)["status"].to_list() == [F.OK, F.OK]
    with pytest.raises(SystemExit) as usage:
        main([*argv, "--reference-standard", "19F=H3PO4"])
    assert usage.value.code == 2


def test_peak_list_parquet_input_with_its_reference(tmp_path: Path) -> None:
    lists = tmp_path / "lists.parquet"
    pl.DataFrame(
        {
            "smiles": ["FC(F)(F)c1ccc(F)cc1"] * 2,
            "nucleus": ["19F"] * 2,
            "solvent": ["CDCl3"] * 2,
            "shifts": [[102.0, 58.1], [-62.9, -106.8]],
            "reference": ["C6F6", None],
        }
    ).write_parquet(lists)
    out = tmp_path / "out.parquet"
    assert main(["ingest-literature", str(lists), str(out)]) == 0
    assert pl.read_parquet(out)["status"].to_list() == [F.REFERENCE, F.OK]
