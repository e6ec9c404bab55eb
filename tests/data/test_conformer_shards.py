"""The sharded conformer stage: reuse across runs, atomic shards, crash isolation, manifest."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rdkit import Chem

from litshift.chem.conformer_pool import embed_parallel
from litshift.chem.conformers import ConformerResult, EmbedOptions, embed, failed
from litshift.chem.molecules import molecule_key
from litshift.cli import main
from litshift.data import conformer_shards
from litshift.data.conformer_shards import (
    ConformerCache,
    load_conformers,
    overlapping_shards,
    run_shard,
    shard_of,
)
from litshift.data.io import read_table, rows_to_table, write_table

OPTIONS = EmbedOptions(max_attempts=1)
BROKEN = ["*CC(=O)O", "C1C[C@H]2CC[C@H]1C2"]  # dummy atom; impossible stereo


@pytest.fixture(scope="module")
def real_smiles(jsonl_lines: list[str]) -> list[str]:
    """Small NMRShiftDB2 molecules (fast to embed), canonical."""
    smiles: list[str] = []
    for line in jsonl_lines:
        mol = Chem.MolFromSmiles(json.loads(line)["SMILES"])
        if mol is not None and mol.GetNumAtoms() <= 14:
            smiles.append(Chem.MolToSmiles(mol))
    return sorted(set(smiles))[:8]


def molecules_table(smiles: list[str]) -> pa.Table:
    return rows_to_table([{"key": molecule_key(s), "smiles": s} for s in smiles], "molecules")


def test_second_run_embeds_only_new_keys(tmp_path: Path, real_smiles: list[str]) -> None:
    cache = ConformerCache(tmp_path / "cache", OPTIONS)
    out = tmp_path / "shard-0000.parquet"
    first = run_shard(molecules_table(real_smiles[:6]), 0, 1, out, cache)
    assert (first["embedded"], first["cached"], first["molecules"]) == (6, 0, 6)
    before = read_table(out, "conformers")

    out.unlink()  # Snakemake removes the output before rerunning the job
    second = run_shard(molecules_table(real_smiles[:7]), 0, 1, out, cache)
    assert (second["embedded"], second["cached"], second["molecules"]) == (1, 6, 7)
    after = read_table(out, "conformers")
    old = after.filter(pa.compute.is_in(after["key"], value_set=before["key"]))
    assert old.equals(before)


def test_changed_shard_count_reuses_the_store(tmp_path: Path, real_smiles: list[str]) -> None:
    molecules = molecules_table(real_smiles)
    cache = ConformerCache(tmp_path / "cache", OPTIONS)
    for shard in range(2):
        run_shard(molecules, shard, 2, tmp_path / f"two-{shard}.parquet", cache)
    summaries = [
        run_shard(molecules, shard, 3, tmp_path / f"three-{shard}.parquet", cache)
        for shard in range(3)
    ]
    assert sum(s["embedded"] for s in summaries) == 0
    assert sum(s["molecules"] for s in summaries) == len(real_smiles)
    other = ConformerCache(tmp_path / "cache", EmbedOptions(max_attempts=1, n_confs=2))
    assert other.directory != cache.directory  # other options never see these coordinates


@given(key=st.integers(0, 2**80), n=st.integers(1, 64), other=st.integers(1, 64))
def test_overlapping_shards_contain_every_key(key: int, n: int, other: int) -> None:
    hex_key = f"{key:020x}"
    assert shard_of(hex_key, other) in overlapping_shards(shard_of(hex_key, n), n, other)


def test_shard_does_not_depend_on_workers(tmp_path: Path, real_smiles: list[str]) -> None:
    molecules = molecules_table(real_smiles[:5] + BROKEN)
    tables = []
    for workers in (1, 2):
        cache = ConformerCache(tmp_path / f"cache-{workers}", OPTIONS)
        out = tmp_path / f"shard-{workers}.parquet"
        run_shard(molecules, 0, 1, out, cache, workers=workers)
        tables.append(read_table(out, "conformers"))
    assert tables[0].equals(tables[1])


def test_failures_are_rows_and_limit_failures_are_retried(tmp_path: Path) -> None:
    smiles = ["CCO", *BROKEN, "CCCCCCCCCCCC"]
    options = EmbedOptions(max_attempts=1, max_atoms=30)
    cache = ConformerCache(tmp_path / "cache", options)
    out = tmp_path / "shard-0000.parquet"
    summary = run_shard(molecules_table(smiles), 0, 1, out, cache)
    assert summary["failures"] == {
        "unsupported_element": 1,
        "embed_failed": 1,
        "too_many_atoms": 1,
    }
    rows = {r["smiles"]: r for r in read_table(out, "conformers").to_pylist()}
    for text in [*BROKEN, "CCCCCCCCCCCC"]:
        assert rows[text]["method"] == "failed" and rows[text]["coords"] == []
        assert rows[text]["error"]
    again = run_shard(molecules_table(smiles), 0, 1, out, cache)
    assert again["embedded"] == 1  # only the limit failure; the others are settled


def test_timeouts_are_reused_until_the_limit_is_raised(tmp_path: Path) -> None:
    key = molecule_key("CCO")
    z = np.array([6, 6, 8, 1, 1, 1, 1, 1, 1], np.int8)
    row = failed(key, "CCO", 1, "timeout", "embedding exceeded 5 s", z).to_row()
    ConformerCache(tmp_path, EmbedOptions(timeout_s=5)).add([row], 0, 1)
    for limit, stored in ((3, 1), (5, 1), (6, 0)):
        cache = ConformerCache(tmp_path, EmbedOptions(timeout_s=limit))
        assert cache.lookup({key}, 0, 1).num_rows == stored


class Interrupted(Exception):
    pass


def test_a_killed_shard_leaves_no_file_and_resumes(
    tmp_path: Path, real_smiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    molecules = molecules_table(real_smiles[:6])
    cache = ConformerCache(tmp_path / "cache", OPTIONS)
    out = tmp_path / "shard-0000.parquet"

    def dies_after_three(todo, options, workers) -> Iterator[ConformerResult]:
        for index, (key, smiles) in enumerate(todo):
            if index == 3:
                raise Interrupted
            yield embed(smiles, options, key)

    monkeypatch.setattr(conformer_shards, "embed_parallel", dies_after_three)
    with pytest.raises(Interrupted):
        run_shard(molecules, 0, 1, out, cache, chunk_size=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache"]  # no shard, no temp file
    monkeypatch.undo()
    resumed = run_shard(molecules, 0, 1, out, cache)
    assert (resumed["cached"], resumed["embedded"]) == (2, 4)  # the one complete chunk


def test_a_crash_while_writing_leaves_no_shard(
    tmp_path: Path, real_smiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def half_written(table: pa.Table, where: Path, **kwargs: object) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise Interrupted

    cache = ConformerCache(tmp_path / "cache", OPTIONS)
    run_shard(molecules_table(real_smiles[:2]), 0, 1, tmp_path / "warm.parquet", cache)
    monkeypatch.setattr(pq, "write_table", half_written)
    with pytest.raises(Interrupted):
        run_shard(molecules_table(real_smiles[:2]), 0, 1, tmp_path / "shard.parquet", cache)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "warm.parquet"]


def test_inconsistent_keys_are_refused_before_any_work(tmp_path: Path) -> None:
    table = rows_to_table([{"key": molecule_key("CCO"), "smiles": "OCC"}], "molecules")
    cache = ConformerCache(tmp_path / "cache", OPTIONS)
    with pytest.raises(ValueError, match="not molecule_key"):
        run_shard(table, 0, 1, tmp_path / "shard.parquet", cache)
    assert not (tmp_path / "cache").exists()


def flaky_embed(smiles: str, options: EmbedOptions, key: str) -> ConformerResult:
    """A worker function that crashes or hangs on marker inputs (runs in a spawned worker)."""
    if smiles == "CRASH":
        os.kill(os.getpid(), signal.SIGKILL)
    if smiles == "HANG":
        time.sleep(60)
    return embed(smiles, options, key)


def test_crashing_and_hanging_molecules_cost_one_result_each() -> None:
    molecules = [("a", "CRASH"), ("b", "HANG"), *((molecule_key(s), s) for s in ["CCO", "CCN"])]
    # The limit runs from submission, so it covers the spawned worker's imports too: 2 s
    # timed out the crash and the quick molecules as well on a loaded machine.
    parallel = embed_parallel(molecules, OPTIONS, 2, flaky_embed, limit_s=10.0)
    results = {r.smiles: r for r in parallel}
    assert results["CRASH"].status == "worker_crashed"
    assert "exit code -9" in results["CRASH"].error
    assert results["HANG"].status == "timeout"
    assert results["CCO"].ok and results["CCN"].ok


def test_cli_shards_gather_and_load(tmp_path: Path, real_smiles: list[str]) -> None:
    molecules = tmp_path / "molecules.parquet"
    write_table(molecules_table(real_smiles[:4] + BROKEN[:1]), molecules, "molecules")
    shards = [tmp_path / "conformers" / f"shard-{i:04d}.parquet" for i in range(2)]
    stale = tmp_path / "conformers" / "shard-0007.parquet"
    for index, shard in enumerate(shards):
        args = ["conformers", "shard", str(molecules), "--shard", str(index), "--n-shards", "2"]
        args += ["--out", str(shard), "--cache", str(tmp_path / "cache"), "--n-confs", "2"]
        args += ["--keep", "2", "--max-attempts", "1"]
        assert main(args) == 0
    stale.write_bytes(b"left over from a run with 8 shards")
    done = tmp_path / "conformers" / "done.json"
    assert main(["conformers", "gather", *map(str, shards), "--out", str(done)]) == 0

    manifest = json.loads(done.read_text())
    assert manifest["molecules"] == 5 and manifest["ok"] == 4
    assert manifest["statuses"] == {"ok": 4, "unsupported_element": 1}
    assert not stale.exists()
    loaded = load_conformers(tmp_path / "conformers")
    assert sorted(loaded) == sorted(molecule_key(s) for s in real_smiles[:4])
    for key, (z, xyz) in loaded.items():
        smiles = real_smiles[[molecule_key(s) for s in real_smiles].index(key)]
        mol_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
        assert z.dtype == np.int8 and z.tolist() == [a.GetAtomicNum() for a in mol_h.GetAtoms()]
        assert xyz.dtype == np.float32 and xyz.shape == (2, mol_h.GetNumAtoms(), 3)
    first = molecule_key(real_smiles[0])
    assert list(load_conformers(shards, keys=[first])) == [first]
