"""benchmarks/model_throughput.py: real molecules batched as in training, both batching modes.

Behaviour only, no timing: a few steps on a tiny conformer shard written in the pipeline's
schema check that the result line names its data, batching and model inputs, that failed
conformers are left out, and that size-bucketed batches of the same molecules pad less than
random ones (on one full bucketing window both modes draw exactly the same molecules).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdkit import Chem

from benchmarks.model_throughput import main
from litshift.chem.conformers import EmbedOptions, embed, failed
from litshift.chem.molecules import molecule_key
from litshift.data.io import rows_to_table, write_table
from tests.training_data import TEST_MODEL

#: 1 to 50 atoms (H included), so random batches of them are mostly padding
MIXED = [
    "C",
    "O",
    "CC",
    "CO",
    "CCO",
    "CC(C)=O",
    "c1ccccc1",
    "CCCCCC",
    "CCCCCCCCCC",
    "c1ccc2ccccc2c1",
    "CCCCCCCCCCCCCCCC",
    "OC(=O)CCCCCCCCCCCCCCC",
    "CC(C)(C)c1ccc(O)cc1",
]
COMMON_KEYS = {
    "data",
    "preset",
    "overrides",
    "bucket_window",
    "batch",
    "steps",
    "samples_per_s",
    "samples_per_s_median_step",
    "step_ms_median",
    "padded_atoms",
    "real_atoms",
    "pad_fraction",
}
CHEMISTRY = {"atom_features": True, "topology_bias": True}


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A conformer shard of :data:`MIXED` plus one failed molecule, as the pipeline writes it."""
    options = EmbedOptions(max_attempts=1)
    rows = [embed(Chem.CanonSmiles(s), options).to_row() for s in MIXED]
    broken = Chem.CanonSmiles("CCN")
    rows.append(failed(molecule_key(broken), broken, 0, "embed_failed", "test stand-in").to_row())
    directory = tmp_path_factory.mktemp("conformers")
    write_table(rows_to_table(rows, "conformers"), directory / "shard-0000.parquet", "conformers")
    return directory


def run(out: Path, *args: str, model: dict[str, object] | None = None) -> dict[str, str]:
    """``main`` on the CPU with the small test model; the result line as a dict."""
    overrides = json.dumps({**TEST_MODEL, **(model or {})})
    argv = ["--device", "cpu", "--warmup", "0", "--model-overrides", overrides, "--out", str(out)]
    assert main([*argv, *args]) == 0
    line = out.read_text().splitlines()[-1]
    return dict(item.split("=", 1) for item in line.split())


def test_bucketed_batches_pad_less_than_random(tmp_path: Path, shards: Path) -> None:
    out = tmp_path / "throughput.txt"
    common = ["--molecules", str(shards), "--batch-size", "3", "--steps", "3"]
    before = run(out, *common, "--bucket-window", "1")
    after = run(out, *common, "--bucket-window", "3", model=CHEMISTRY)

    assert len(out.read_text().splitlines()) == 2  # one appended line per run
    for result in (before, after):
        assert COMMON_KEYS | {"molecules", "skipped", "collate_ms_mean"} <= result.keys()
        assert result["data"] == "real"
        assert result["molecules"] == str(len(MIXED))  # the failed conformer is left out
        assert result["skipped"] == "0"
    assert (before["bucket_window"], after["bucket_window"]) == ("1", "3")
    assert json.loads(before["overrides"]) == TEST_MODEL
    assert json.loads(after["overrides"]) == {**TEST_MODEL, **CHEMISTRY}
    # one full window: the same 9 molecules, only grouped differently
    assert before["real_atoms"] == after["real_atoms"]
    assert float(after["padded_atoms"]) < float(before["padded_atoms"])
    assert float(after["pad_fraction"]) < float(before["pad_fraction"])


def test_size_filter_and_subsample(tmp_path: Path, shards: Path) -> None:
    result = run(
        tmp_path / "out.txt",
        *["--molecules", str(shards), "--max-atoms", "20", "--max-molecules", "4"],
        *["--batch-size", "2", "--steps", "2"],
    )
    assert result["molecules"] == "4"
    assert result["atoms"] == "1-20"
    assert float(result["padded_atoms"]) <= 20


def test_synthetic_mode_unchanged(tmp_path: Path) -> None:
    result = run(
        tmp_path / "out.txt",
        *["--batch-size", "2", "--steps", "2", "--min-atoms", "5", "--max-atoms", "9"],
    )
    assert COMMON_KEYS <= result.keys()
    assert (result["data"], result["bucket_window"], result["atoms"]) == ("synthetic", "1", "5-9")
    assert "molecules" not in result
    assert 5 <= float(result["real_atoms"]) <= float(result["padded_atoms"]) <= 9


@pytest.mark.parametrize(
    "argv",
    [
        ["--bucket-window", "4"],  # synthetic batches have no size order
        ["--model-overrides", json.dumps(CHEMISTRY)],  # graph inputs need SMILES
        ["--model-overrides", '{"no_such_field": 1}'],
        ["--model-overrides", "[1, 2]"],
    ],
)
def test_rejected_arguments(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as err:
        main(["--device", "cpu", *argv])
    assert err.value.code == 2
