import pyarrow as pa
import pytest

from litshift.data.io import SchemaError, atomic_path, read_table, reject_row, write_table


def test_write_validates_and_reorders(tmp_path) -> None:
    rows = [{"key": "k1", "smiles": "CCO"}]
    table = write_table(rows, tmp_path / "m.parquet", "molecules")
    assert table.schema.names == ["key", "smiles"]
    assert read_table(tmp_path / "m.parquet", "molecules").to_pylist() == rows


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pa.table({"key": ["a"]}), "missing columns"),
        (pa.table({"key": ["a"], "smiles": ["C"], "extra": [1]}), "unexpected columns"),
        (pa.table({"key": [None], "smiles": ["C"]}), "nulls"),
        (pa.table({"key": ["a"], "smiles": [[1.0]]}), "expected string"),
    ],
)
def test_schema_violations_are_named(tmp_path, table: pa.Table, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        write_table(table, tmp_path / "m.parquet", "molecules")
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_leaves_nothing_when_the_writer_dies(tmp_path) -> None:
    target = tmp_path / "out.parquet"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_missing_input_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="molecules table not found"):
        read_table(tmp_path / "nope.parquet", "molecules")


def test_reject_row_keeps_reason_stable() -> None:
    row = reject_row("src", "1", "stage", "shift outside plausible window: 1H 21", "raw")
    assert row["reason"] == "shift outside plausible window"
    assert row["excerpt"] == "1H 21 | raw"


def test_concat_gathers_tables_of_one_schema(tmp_path) -> None:
    from litshift.cli import main

    rows = [reject_row("s", str(i), "stage", "reason: d", "x") for i in range(3)]
    write_table(rows[:2], tmp_path / "a.parquet", "rejected")
    write_table(rows[2:], tmp_path / "b.parquet", "rejected")
    out = tmp_path / "all.parquet"
    assert (
        main(
            [
                "concat",
                "--schema",
                "rejected",
                "--out",
                str(out),
                str(tmp_path / "a.parquet"),
                str(tmp_path / "b.parquet"),
            ]
        )
        == 0
    )
    assert read_table(out, "rejected").to_pylist() == rows
    assert main(["concat", "--schema", "rejected", "--out", str(out)]) == 0
    assert read_table(out, "rejected").num_rows == 0


def test_outputs_get_ordinary_permissions(tmp_path) -> None:
    import os

    write_table([{"key": "k", "smiles": "C"}], tmp_path / "m.parquet", "molecules")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "m.parquet").stat().st_mode & 0o777 == 0o666 & ~umask
