"""``litshift collect-molecules``: with ``--heteronuclei`` the held-out molecules of those
nuclei, which no weak table holds, get conformers too."""

from __future__ import annotations

import polars as pl
import pytest

from litshift.cli import main
from litshift.data.io import read_table
from litshift.data.splits import held_out_sets
from tests.training_data import HETERO_SETS, write_hetero_inputs


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_hetero_inputs(tmp_path_factory.mktemp("molecules"))


def test_held_out_sets_are_the_valid_and_test_sets_of_the_nuclei(inputs) -> None:
    sets = held_out_sets(
        read_table(inputs.unassigned, "unassigned"), read_table(inputs.splits, "splits"), ["31P"]
    )
    expected = {(s, split) for split in ("valid", "test") for s, n, _ in HETERO_SETS[split]}
    assert set(zip(sets["smiles"], sets["split"], strict=True)) == {
        (s, split) for s, split in expected if "P" in s
    }


def test_collect_molecules_adds_the_held_out_heteronuclear_molecules(
    inputs, tmp_path, capsys
) -> None:
    argv = ["collect-molecules", "--assigned", str(inputs.assigned), "--weak", str(inputs.weak)]
    plain, hetero = tmp_path / "plain.parquet", tmp_path / "hetero.parquet"
    assert main([*argv, "--out", str(plain)]) == 0
    extra = ["--heteronuclei", "31P,19F", "--unassigned", str(inputs.unassigned)]
    assert main([*argv, *extra, "--splits", str(inputs.splits), "--out", str(hetero)]) == 0
    held_out = {s for split in ("valid", "test") for s, _, _ in HETERO_SETS[split]}
    plain_smiles = set(pl.read_parquet(plain)["smiles"])
    assert not held_out & plain_smiles
    assert set(pl.read_parquet(hetero)["smiles"]) == plain_smiles | held_out
    assert main([*argv, *extra, "--out", str(tmp_path / "x.parquet")]) == 2  # no --splits
    assert "--heteronuclei needs --unassigned and --splits" in capsys.readouterr().err
