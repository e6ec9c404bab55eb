"""Every mistake of issue 14 ends in one line saying what is wrong, the right exit status
(2: usage, 1: anything else) and no output file; ``--debug`` shows the traceback.

No model is needed: the commands check their inputs and outputs before loading one.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import polars as pl
import pytest
import torch

from litshift.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Exit status and the stderr lines of one command."""
    status = main(argv)
    return status, capsys.readouterr().err.strip()


def _no_output(directory: Path, *names: str) -> None:
    """Neither the outputs nor a temporary file of theirs were left behind."""
    left = [p.name for p in directory.iterdir() if p.name.startswith(".") or p.name in names]
    assert left == [], left


@pytest.fixture
def molecules(tmp_path: Path) -> Path:
    path = tmp_path / "molecules.csv"
    pl.DataFrame({"smiles": ["CCO"]}).write_csv(path)
    return path


def _predict(*args: str) -> list[str]:
    return ["predict", *args, "--model", "unused.pt"]


def test_predict_missing_input(tmp_path, capsys) -> None:
    status, err = _run(_predict(str(tmp_path / "nope.csv"), str(tmp_path / "out.csv")), capsys)
    assert status == 2
    assert (
        err
        == f"litshift predict: error: input file not found: {tmp_path}/nope.csv (check the path)"
    )
    _no_output(tmp_path, "out.csv", "out.failures.csv")


def test_predict_empty_input(tmp_path, capsys) -> None:
    (tmp_path / "empty.csv").write_text("")
    status, err = _run(_predict(str(tmp_path / "empty.csv"), str(tmp_path / "out.csv")), capsys)
    assert (status, err) == (
        2,
        f"litshift predict: error: input file {tmp_path}/empty.csv is empty",
    )
    _no_output(tmp_path, "out.csv", "out.failures.csv")


def test_predict_corrupt_gzip(tmp_path, capsys) -> None:
    (tmp_path / "m.csv.gz").write_bytes(b"smiles\nCCO\n")  # not gzip-compressed
    status, err = _run(_predict(str(tmp_path / "m.csv.gz"), str(tmp_path / "out.csv")), capsys)
    assert status == 2
    assert err.startswith(
        f"litshift predict: error: input file {tmp_path}/m.csv.gz is not a valid gzip"
    )
    _no_output(tmp_path, "out.csv", "out.failures.csv")


def test_predict_output_is_the_input(molecules, capsys) -> None:
    before = molecules.read_text()
    status, err = _run(_predict(str(molecules), str(molecules)), capsys)
    assert status == 2
    assert err == (
        f"litshift predict: error: output {molecules} is the input file; choose another output path"
    )
    assert molecules.read_text() == before


def test_predict_unsupported_output_type(molecules, capsys) -> None:
    status, err = _run(_predict(str(molecules), str(molecules.parent / "out.json")), capsys)
    assert status == 2
    assert err == (
        f"litshift predict: error: output {molecules.parent}/out.json: unsupported file type; "
        "use a name ending in .csv or .parquet"
    )
    _no_output(molecules.parent, "out.json", "out.failures.json")


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Path:
    """A directory nobody may create files in (as root, chmod does not stop us: use /sys)."""
    if os.geteuid() != 0:
        directory = tmp_path / "locked"
        directory.mkdir(mode=0o555)
        return directory
    try:
        (Path("/sys") / "litshift-probe").touch()
    except OSError:
        return Path("/sys")
    pytest.skip("no read-only directory available to root here")


def test_predict_read_only_output_directory(molecules, read_only_dir, capsys) -> None:
    output = read_only_dir / "out" / "predictions.csv"
    status, err = _run(_predict(str(molecules), str(output)), capsys)
    assert status == 2
    assert err == (
        f"litshift predict: error: output directory {output.parent} is not writable; "
        "choose another output path"
    )


def test_predict_cuda_without_cuda(capsys) -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    status, err = _run(_predict("--smiles", "CCO", "--device", "cuda"), capsys)
    assert status == 2
    assert err == (
        "litshift predict: error: --device cuda: no CUDA device is available here; use --device cpu"
    )


def test_predict_outside_the_repository_without_a_model(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("litshift.inference.shipped.RELEASE_DIR", tmp_path / "no-release")
    status, err = _run(["predict", "--smiles", "CCO"], capsys)
    assert status == 2
    assert err.startswith("litshift predict: error: no model: neither results/models/semi/model.pt")
    assert err.endswith("pass --model PATH")


def test_unexpected_errors_are_one_line_unless_debug(tmp_path, monkeypatch, capsys) -> None:
    corrupt = tmp_path / "model.pt"
    corrupt.write_bytes(b"not a checkpoint")
    argv = ["predict", "--smiles", "CCO", "--model", str(corrupt)]
    status, err = _run(argv, capsys)
    assert status == 1
    assert err.startswith("litshift predict: error: ") and err.endswith(
        "(--debug for the traceback)"
    )
    assert len(err.splitlines()) == 1
    with pytest.raises(Exception, match="."):
        main(["--debug", *argv])
    monkeypatch.setenv("LITSHIFT_DEBUG", "1")
    with pytest.raises(Exception, match="."):
        main(argv)


def _ingest(source: Path, output: Path, *extra: str) -> list[str]:
    return ["ingest-literature", str(source), str(output), *extra]


@pytest.fixture(autouse=True)
def _no_tracking(monkeypatch) -> None:
    monkeypatch.setenv("LITSHIFT_TRACKING", "0")


def test_ingest_literature_missing_file(tmp_path, capsys) -> None:
    status, err = _run(_ingest(tmp_path / "p.csv", tmp_path / "out.parquet"), capsys)
    assert status == 2
    assert err == (
        "litshift ingest-literature: error: input file not found: "
        f"{tmp_path}/p.csv (check the path)"
    )
    _no_output(tmp_path, "out.parquet")


def test_ingest_literature_wrong_columns(tmp_path, capsys) -> None:
    source = tmp_path / "p.csv"
    source.write_text("text,smiles\n13C NMR (CDCl3) δ 20.1.,CC\n")
    status, err = _run(_ingest(source, tmp_path / "out.parquet"), capsys)
    assert status == 2
    assert err == (
        f"litshift ingest-literature: error: {source}: no column(s) ['Paragraph', 'SMILES']; "
        "its columns are ['text', 'smiles'] (see --text-column, --smiles-column, --id-column)"
    )
    _no_output(tmp_path, "out.parquet")


def test_ingest_literature_wrong_format(tmp_path, capsys) -> None:
    source = tmp_path / "p.csv"
    source.write_text("Paragraph,SMILES\n13C NMR (CDCl3) δ 20.1.,CC\n")
    status, err = _run(_ingest(source, tmp_path / "out.parquet", "--format", "parquet"), capsys)
    assert status == 2
    assert err == (
        f"litshift ingest-literature: error: --format parquet, but {source} is not a Parquet "
        "file; pass --format csv or text"
    )
    _no_output(tmp_path, "out.parquet")


def test_ingest_literature_truncated_gzip(tmp_path, capsys) -> None:
    """A gzip stream cut short is only found while reading: one line, status 1, no output."""
    source = tmp_path / "p.txt.gz"
    lines = "".join(f"13C NMR (CDCl3) δ {i}.1.\tCC\n" for i in range(20000))
    source.write_bytes(gzip.compress(lines.encode())[:-100])
    status, err = _run(_ingest(source, tmp_path / "out.parquet"), capsys)
    assert status == 1
    assert err.startswith("litshift ingest-literature: error: ")
    assert "end-of-stream" in err and err.endswith("(--debug for the traceback)")
    _no_output(tmp_path, "out.parquet")


def test_evaluate_a_folder_that_is_no_release_package(tmp_path, capsys) -> None:
    outputs = [f"--out-{k}" for k in ("predictions", "metrics", "uncertainty")]
    argv = ["evaluate", "--models", str(tmp_path)]
    for option in ("--assigned", "--splits", "--literature-test", "--weak", "--conformers"):
        argv += [option, str(tmp_path / "unused")]
    for option in outputs:
        argv += [option, str(tmp_path / f"{option}.parquet")]
    argv += ["--out-summary", str(tmp_path / "summary.json")]
    status, err = _run(argv, capsys)
    assert status == 2
    assert (
        err
        == f"litshift evaluate: error: {tmp_path} holds no members/*/model.pt (a release package)"
    )
