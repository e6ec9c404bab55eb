"""Synthetic corpora (benchmarks/scale.py): k copies of real records behave like k corpora.

Behaviour only, no timing: ingesting k copies gives exactly k times the rows and rejects of one
copy, and the conformer sharding of the grown molecule set puts every molecule in one shard
and never moves a molecule when records are added.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from litshift.chem.molecules import MoleculeError, molecule_key
from litshift.cli import main
from litshift.data.conformer_shards import shard_molecules
from litshift.data.io import read_table
from litshift.data.molecules import collect
from litshift.ingest.ingest_literature import PMCID_COLUMN
from litshift.ingest.literature_filters import molecule_info
from litshift.ingest.synthetic import isotope_variant, multiply_records, write_corpus
from tests.conftest import LIT_TEST, LIT_TRAIN

N_BASE = 40  # records per copy: the first rows of each shared file
COPIES = 3
N_SHARDS = 4


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first rows of both shared literature files (different column sets) as one CSV."""
    frames = [
        pl.read_csv(path, infer_schema_length=0).head(N_BASE // 2) for path in (LIT_TRAIN, LIT_TEST)
    ]
    path = tmp_path_factory.mktemp("base") / "base.csv"
    pl.concat(frames, how="diagonal").write_csv(path)
    return path


def _ingest(base: Path, n_records: int, directory: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    corpus = directory / f"corpus-{n_records}.csv.gz"
    assert write_corpus([base], n_records, corpus).repeated_structures == 0
    table, rejected = directory / f"lit-{n_records}.parquet", directory / f"rej-{n_records}.parquet"
    assert (
        main(
            [
                "ingest-literature",
                str(corpus),
                str(table),
                "--rejected",
                str(rejected),
                "--source",
                "synthetic",
            ]
        )
        == 0
    )
    return (
        pl.from_arrow(read_table(table, "literature")),
        pl.from_arrow(read_table(rejected, "rejected")),
    )


@pytest.fixture(scope="module")
def ingested(base: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple]:
    """Literature and rejected tables of 1, COPIES - 1 and COPIES copies of the base records."""
    directory = tmp_path_factory.mktemp("ingested")
    return {k: _ingest(base, k * N_BASE, directory) for k in (1, COPIES - 1, COPIES)}


def test_k_copies_give_k_times_every_status_and_reject(ingested: dict[int, tuple]) -> None:
    one, one_rejected = ingested[1]
    many, many_rejected = ingested[COPIES]
    assert (one["status"] == "ok").sum() > 0 and one_rejected.height > 0
    scaled = {status: COPIES * n for status, n in Counter(one["status"].to_list()).items()}
    assert Counter(many["status"].to_list()) == scaled  # "duplicate" included: no new merges
    assert many_rejected.height == COPIES * one_rejected.height
    assert Counter(many_rejected["reason"].to_list()) == {
        reason: COPIES * n for reason, n in Counter(one_rejected["reason"].to_list()).items()
    }


def test_each_copy_repeats_the_lists_of_new_structures(ingested: dict[int, tuple]) -> None:
    order = ["record_index", "block_index"]
    one = ingested[1][0].sort(order)
    many = ingested[COPIES][0]
    columns = ["record_index", "block_index", "nucleus", "solvent", "shifts", "n_h", "status"]
    for copy in range(COPIES):
        rows = (
            many.filter(pl.col("record_index") // N_BASE == copy)
            .with_columns(pl.col("record_index") % N_BASE)
            .sort(order)
        )
        assert rows.select(columns).equals(one.select(columns))
        suffix = f"#copy-{copy}" if copy else ""
        assert rows["document_id"].to_list() == [
            None if document is None else document + suffix for document in one["document_id"]
        ]
    # every ok structure of a copy is new: COPIES times the distinct molecules of one copy
    assert _distinct_ok_structures(many) == COPIES * _distinct_ok_structures(one)


def _distinct_ok_structures(table: pl.DataFrame) -> int:
    return table.filter(pl.col("status") == "ok")["smiles"].n_unique()


def test_every_molecule_in_one_shard_and_none_moves_when_records_are_added(
    ingested: dict[int, tuple],
) -> None:
    def partition(k: int) -> list[dict[str, str]]:
        smiles = ingested[k][0].filter(pl.col("status") == "ok")["smiles"]
        molecules = collect([smiles]).to_arrow()
        shards = [shard_molecules(molecules, shard, N_SHARDS) for shard in range(N_SHARDS)]
        keys = [key for shard in shards for key in shard]
        assert len(keys) == len(set(keys))  # no molecule in two shards
        assert set(keys) == {molecule_key(s) for s in smiles}  # none left out
        return shards

    smaller, larger = partition(COPIES - 1), partition(COPIES)
    assert sum(map(len, larger)) > sum(map(len, smaller)) > 0
    assert all(
        before.items() <= after.items() for before, after in zip(smaller, larger, strict=True)
    )


def test_corpora_are_prefixes_of_each_other(base: Path) -> None:
    frame = pl.read_csv(base, infer_schema_length=0)
    short, long = multiply_records(frame, 50), multiply_records(frame, 130)
    assert short.frame.height == 50 and long.frame.height == 130
    assert long.frame.head(50).equals(short.frame)
    assert long.frame.head(N_BASE).equals(frame)  # copy 0 is the input itself
    # document ids repeat within a copy (one paper, several compounds), never across copies
    copy_2 = long.frame[PMCID_COLUMN][2 * N_BASE : 3 * N_BASE].to_list()
    assert copy_2 == [f"{document}#copy-2" for document in frame[PMCID_COLUMN]]


def test_structures_with_few_labellings_are_counted_as_repeats() -> None:
    frame = pl.DataFrame({"SMILES": ["CC(Br)Br", "N/A"], PMCID_COLUMN: ["PMC1", "PMC2"]})
    multiplied = multiply_records(frame, 2 * 70)  # 3 heavy-atom classes: 4**3 = 64 labellings
    smiles = multiplied.frame.filter(pl.col(PMCID_COLUMN).str.starts_with("PMC1"))["SMILES"]
    assert smiles.n_unique() == 64
    assert multiplied.repeated_structures == 70 - 64  # "N/A" is no structure, never a repeat
    with pytest.raises(ValueError, match="empty"):
        multiply_records(frame.head(0), 10)


REAL_SMILES = [
    s
    for s in pl.read_csv(LIT_TRAIN, infer_schema_length=0)["SMILES"].head(60).to_list()
    if s and s != "N/A"
]


# copies 1..63: every structure here has at least 4**3 labellings, so all are new structures
@settings(max_examples=60, deadline=None)
@given(st.sampled_from(REAL_SMILES), st.integers(1, 63))
def test_labels_keep_what_the_filters_check(smiles: str, copy: int) -> None:
    try:
        original = molecule_info(smiles)
    except MoleculeError:
        return  # invalid input stays invalid in every copy (checked by the ingestion tests)
    labelled = molecule_info(isotope_variant(smiles, copy))
    assert labelled.atom_counts == original.atom_counts
    assert labelled.exchangeable_h == original.exchangeable_h
    assert labelled.distinct_carbons == original.distinct_carbons
    assert labelled.smiles != original.smiles
    assert isotope_variant(smiles, 0) == smiles
