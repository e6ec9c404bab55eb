import polars as pl
import pytest

from litshift.chem.nuclei import DEFAULT_WINDOWS
from litshift.cli import main
from litshift.data.io import write_table
from litshift.data.splits import assign_splits, extend_splits, group_ids
from litshift.ingest.curate_assigned import curate_records
from litshift.ingest.curate_unassigned import curate_json_records
from litshift.ingest.nmrshiftdb2 import iter_sd_records


def _molecules(n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "connectivity_key": [f"K{i:05d}" for i in range(n)],
            "smiles": ["C" * (1 + i % 7) + "c1ccccc1" * (i % 3) for i in range(n)],
        }
    )


def _scaffold_molecules(n: int, n_scaffolds: int) -> pl.DataFrame:
    """Diphenylalkanes: the linker length (``i % n_scaffolds``) sets the Bemis-Murcko scaffold,
    the alkyl tail on the first ring does not, so there are ``n_scaffolds`` equal groups."""
    return pl.DataFrame(
        {
            "connectivity_key": [f"K{i:05d}" for i in range(n)],
            "smiles": [
                "C" * (1 + i // n_scaffolds % 5)
                + "c1ccc(cc1)"
                + "C" * (1 + i % n_scaffolds)
                + "c1ccccc1"
                for i in range(n)
            ],
        }
    )


def _group_splits(molecules: pl.DataFrame, splits: pl.DataFrame, method: str) -> dict[str, str]:
    """group -> split; fails if a group straddles splits."""
    pairs = (
        molecules.with_columns(group=group_ids(molecules, method))
        .join(splits, on="connectivity_key")
        .select("group", "split")
        .unique()
    )
    assert pairs["group"].is_unique().all(), "a group straddles splits"
    return dict(pairs.iter_rows())


@pytest.mark.parametrize("method", ["connectivity", "scaffold"])
def test_split_is_deterministic_and_close_to_fractions(method: str) -> None:
    # 1,000 singleton groups, or 50 scaffold groups of 20 molecules (2 % each)
    molecules = _molecules(1000) if method == "connectivity" else _scaffold_molecules(1000, 50)
    first = assign_splits(molecules, [0.8, 0.1, 0.1], seed=3, method=method)
    again = assign_splits(molecules.reverse(), [0.8, 0.1, 0.1], seed=3, method=method)
    assert first.equals(again)
    shares = first["split"].value_counts(normalize=True).sort("split")
    assert dict(shares.iter_rows()) == pytest.approx(
        {"test": 0.1, "train": 0.8, "valid": 0.1}, abs=0.01 if method == "connectivity" else 0.02
    )
    # another seed visits the groups in another order: whole groups change split
    other_seed = assign_splits(molecules, [0.8, 0.1, 0.1], seed=4, method=method)
    groups, other_groups = (
        _group_splits(molecules, splits, method) for splits in (first, other_seed)
    )
    assert len(groups) == (1000 if method == "connectivity" else 50)
    moved = {group for group, split in groups.items() if other_groups[group] != split}
    assert moved and {"valid", "test"} & {groups[group] for group in moved}


def test_scaffold_groups_never_straddle_splits() -> None:
    molecules = _molecules(300)
    splits = assign_splits(molecules, [0.8, 0.1, 0.1], seed=1, method="scaffold")
    joined = molecules.join(splits, on="connectivity_key").with_columns(
        scaffold=pl.col("smiles").str.contains("c1ccccc1")
    )
    ring_splits = joined.filter(pl.col("scaffold"))
    # every "...c1ccccc1" molecule has the benzene scaffold: one group, one split
    assert ring_splits["split"].n_unique() == 1


def test_stereoisomers_share_a_split() -> None:
    molecules = pl.DataFrame(
        {
            "connectivity_key": ["SAME", "SAME", "OTHER"],
            "smiles": ["C[C@H](N)O", "C[C@@H](N)O", "CC"],
        }
    )
    splits = assign_splits(molecules, [0.5, 0.25, 0.25], seed=0, method="connectivity")
    assert splits.height == 2


def test_no_valid_or_test_molecule_reaches_weak_training(tmp_path, sdf_text, jsonl_lines) -> None:
    assigned = curate_records(
        iter_sd_records(iter(sdf_text.splitlines(keepends=True))), {"1H", "13C"}, DEFAULT_WINDOWS
    )
    # weak data: the real JSON sample plus the assigned molecules themselves as shift sets,
    # so that valid/test molecules are guaranteed to appear in the weak input
    weak = curate_json_records(jsonl_lines, {"1H", "13C"}, DEFAULT_WINDOWS).rows
    weak += [
        {
            **{
                k: row[k]
                for k in (
                    "inchikey",
                    "smiles",
                    "nucleus",
                    "solvent_raw",
                    "solvent",
                    "solvent_class",
                    "temperature_k",
                    "field_mhz",
                )
            },
            "source": "copy",
            "record_id": str(i),
            "multiplicity": None,
            "shifts": [label["shift"] for label in row["labels"]],
        }
        for i, row in enumerate(assigned.rows)
    ]
    write_table(assigned.rows, tmp_path / "assigned.parquet", "assigned")
    write_table(weak, tmp_path / "unassigned.parquet", "unassigned")
    out = {name: tmp_path / f"{name}.parquet" for name in ("splits", "weak", "lit")}
    assert (
        main(
            [
                "split",
                "--assigned",
                str(tmp_path / "assigned.parquet"),
                "--unassigned",
                str(tmp_path / "unassigned.parquet"),
                "--out-splits",
                str(out["splits"]),
                "--out-weak",
                str(out["weak"]),
                "--out-literature-test",
                str(out["lit"]),
                "--seed",
                "5",
            ]
        )
        == 0
    )
    splits = pl.read_parquet(out["splits"])
    held_out = set(splits.filter(pl.col("split") != "train")["connectivity_key"])
    assert held_out
    weak_keys = {k[:14] for k in pl.read_parquet(out["weak"])["inchikey"]}
    assert not weak_keys & held_out
    train_keys = set(splits.filter(pl.col("split") == "train")["connectivity_key"])
    assert train_keys & weak_keys, "training molecules stay in the weak set"


def test_extend_splits_keeps_the_split_and_scaffold_groups() -> None:
    assigned = _molecules(300)
    splits = assign_splits(assigned, [0.8, 0.1, 0.1], seed=1, method="scaffold")
    benzene_split = splits.join(assigned, on="connectivity_key").filter(
        pl.col("smiles").str.contains("c1ccccc1")
    )["split"][0]
    candidates = pl.DataFrame(
        {
            "connectivity_key": ["K00001", "NEWRING", "NEWPHOS", "NEWPHOS"],
            "smiles": ["C", "OCc1ccccc1", "CCP(=O)(CC)CC", "CCP(=O)(CC)CC"],
        }
    )
    extra = extend_splits(splits, assigned, candidates, [0.8, 0.1, 0.1], 1, "scaffold")
    assert extra["connectivity_key"].to_list() == ["NEWPHOS", "NEWRING"]  # K00001: split already
    assert extra.filter(pl.col("connectivity_key") == "NEWRING")["split"][0] == benzene_split
    by_key = extend_splits(splits, assigned, candidates, [0.8, 0.1, 0.1], 1, "connectivity")
    assert by_key["connectivity_key"].to_list() == ["NEWPHOS", "NEWRING"]


def _run_split(tmp_path, assigned: list[dict], weak: list[dict], *extra: str) -> dict:
    write_table(assigned, tmp_path / "assigned.parquet", "assigned")
    write_table(weak, tmp_path / "unassigned.parquet", "unassigned")
    out = {name: tmp_path / f"{name}{len(extra)}.parquet" for name in ("splits", "weak", "lit")}
    argv = ["split", "--assigned", str(tmp_path / "assigned.parquet")]
    argv += ["--unassigned", str(tmp_path / "unassigned.parquet"), "--seed", "5"]
    argv += ["--out-splits", str(out["splits"]), "--out-weak", str(out["weak"])]
    assert main([*argv, "--out-literature-test", str(out["lit"]), *extra]) == 0
    return {name: pl.read_parquet(path) for name, path in out.items()}


def test_heteronuclear_molecules_get_held_out_without_moving_the_others(
    tmp_path, sdf_text, jsonl_lines
) -> None:
    windows = {**DEFAULT_WINDOWS, "31P": (-300.0, 300.0)}
    assigned = curate_records(
        iter_sd_records(iter(sdf_text.splitlines(keepends=True))), {"1H", "13C"}, windows
    ).rows
    weak = curate_json_records(jsonl_lines, {"1H", "13C", "31P"}, windows).rows
    plain = _run_split(tmp_path, assigned, weak)
    hetero = _run_split(tmp_path, assigned, weak, "--heteronuclei", "31P")
    splits = hetero["splits"]
    # the assigned molecules keep their split; the 31P molecules are split on top of it
    assert (
        splits.join(plain["splits"], on="connectivity_key")
        .filter(pl.col("split") != pl.col("split_right"))
        .is_empty()
    )
    phosphorus = {r["inchikey"][:14] for r in weak if r["nucleus"] == "31P"}
    assert phosphorus <= set(splits["connectivity_key"])
    held_out = set(splits.filter(pl.col("split") != "train")["connectivity_key"])
    assert phosphorus & held_out, "some 31P molecules are held out"
    kept = {k[:14] for k in hetero["weak"]["inchikey"]}
    assert not kept & held_out
    assert phosphorus - held_out <= kept
    assert plain["weak"].height > hetero["weak"].height
