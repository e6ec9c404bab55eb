from collections import Counter

import polars as pl
import pytest
from rdkit import Chem

from litshift.chem.nuclei import DEFAULT_WINDOWS
from litshift.cli import main
from litshift.ingest.curate_assigned import curate_records
from litshift.ingest.nmrshiftdb2 import iter_sd_records


def _records(text: str):
    return iter_sd_records(iter(text.splitlines(keepends=True)))


def _curate(text: str):
    return curate_records(_records(text), {"1H", "13C"}, DEFAULT_WINDOWS)


def _record(molblock: str, tags: dict[str, str]) -> str:
    body = "".join(f">  <{k}>\n{v}\n\n" for k, v in tags.items())
    return molblock.rstrip("\n") + "\n" + body + "$$$$\n"


ETHANOL = Chem.MolToMolBlock(Chem.MolFromSmiles("CCO"))  # atoms: C0 C1 O2


def test_labels_line_up_with_elements_and_hydrogens(sdf_text: str) -> None:
    result = _curate(sdf_text)
    assert len(result.rows) > 150
    # the sample holds one real bad record: its 13C tag uses a 1-based index past the last atom
    assert [(r["record_id"], r["reason"]) for r in result.rejected] == [
        ("5509", "atom index out of range")
    ]
    for row in result.rows:
        mol_h = Chem.AddHs(Chem.MolFromSmiles(row["smiles"]))
        element = "H" if row["nucleus"] == "1H" else "C"
        indices = [label["atom_index"] for label in row["labels"]]
        assert len(set(indices)) == len(indices)
        assert {mol_h.GetAtomWithIdx(i).GetSymbol() for i in indices} == {element}


def test_1h_shift_goes_to_every_hydrogen_and_diastereotopic_pairs_are_averaged() -> None:
    text = _record(
        ETHANOL,
        {
            "nmrshiftdb2 ID": "1",
            "Solvent": "0:Chloroform-D1 (CDCl3) 1:Dimethylsulphoxide-D6 (DMSO-D6, C2D6SO))",
            "Spectrum 1H 0": "1.2;0.0t;0|1.2;0.0t;0|1.2;0.0t;0|3.6;0.0;1|3.8;0.0;1|2.5;0.0s;2|",
            "Spectrum 13C 1": "18.0;0.0Q;0|58.0;0.0T;1|",
        },
    )
    result = _curate(text)
    rows = {row["nucleus"]: row for row in result.rows}
    mol_h = Chem.AddHs(Chem.MolFromSmiles(rows["1H"]["smiles"]))
    by_parent: dict[str, list[float]] = {}
    for label in rows["1H"]["labels"]:
        parent = mol_h.GetAtomWithIdx(label["atom_index"]).GetNeighbors()[0]
        by_parent.setdefault(f"{parent.GetSymbol()}H{parent.GetTotalNumHs(True)}", []).append(
            label["shift"]
        )
    assert sorted(by_parent["CH3"]) == [1.2, 1.2, 1.2]  # CH3: three protons
    assert by_parent["CH2"] == [pytest.approx(3.7)] * 2  # CH2 with 3.6 and 3.8: mean on both
    assert by_parent["OH1"] == [2.5]
    assert result.counts["h_atoms_averaged.1H"] == 1
    # the solvent is taken per spectrum index
    assert rows["1H"]["solvent_class"] == "CDCl3" and rows["13C"]["solvent_class"] == "DMSO-d6"


def _pentavalent() -> str:
    mol = Chem.MolFromSmiles("C(C)(C)(C)(C)C", sanitize=False)
    mol.UpdatePropertyCache(strict=False)
    return Chem.MolToMolBlock(mol, kekulize=False)


BAD_RECORDS = {
    "corrupt molblock": ("garbage\n\n\n 99 99  0  0\nM  END\n", {"Spectrum 13C 0": "1.0;0.0;0|"}),
    "RDKit sanitization failure": (_pentavalent(), {"Spectrum 13C 0": "30.0;0.0S;0|"}),
    "unparseable spectrum tag": (ETHANOL, {"Spectrum 13C 0": "18.0;0.0Q|"}),
    "atom index out of range": (ETHANOL, {"Spectrum 13C 0": "18.0;0.0Q;7|"}),
    "shift outside plausible window": (ETHANOL, {"Spectrum 1H 0": "21.0;0.0;0|"}),
    "1H shift assigned to an atom without hydrogens": (
        Chem.MolToMolBlock(Chem.MolFromSmiles("CC(=O)C")),
        {"Spectrum 1H 0": "2.1;0.0;2|"},
    ),
    "shift assigned to an atom of another element": (ETHANOL, {"Spectrum 13C 0": "60.0;0.0;2|"}),
}


def test_each_bad_record_is_rejected_with_its_reason_and_good_ones_survive(sdf_text: str) -> None:
    good = sdf_text.split("$$$$\n")[:5]
    bad = [
        _record(molblock, {"nmrshiftdb2 ID": str(900 + i), **tags})
        for i, (molblock, tags) in enumerate(BAD_RECORDS.values())
    ]
    text = "$$$$\n".join(good[:3]) + "$$$$\n" + "".join(bad) + "$$$$\n".join(good[3:]) + "$$$$\n"
    result = _curate(text)
    reasons = Counter(row["reason"] for row in result.rejected)
    assert reasons == Counter(list(BAD_RECORDS))
    assert {row["record_id"] for row in result.rejected} == {str(900 + i) for i in range(len(bad))}
    assert {row["nmrshiftdb2_id"] for row in result.rows} == {
        int(r.tags["nmrshiftdb2 ID"]) for r in _records("$$$$\n".join(good) + "$$$$\n")
    }, "every good record must still come through"


def test_cli_writes_valid_tables(tmp_path, sdf_text: str) -> None:
    sdf = tmp_path / "sample.sdf"
    sdf.write_text(sdf_text)
    out, rejected = tmp_path / "assigned.parquet", tmp_path / "rejected.parquet"
    assert (
        main(
            [
                "curate-assigned",
                str(sdf),
                "--out",
                str(out),
                "--rejected",
                str(rejected),
                "--window",
                "1H=-1,15",
                "--window",
                "13C=-50,250",
            ]
        )
        == 0
    )
    table = pl.read_parquet(out)
    assert set(table["nucleus"]) == {"1H", "13C"}
    assert table["solvent_class"].is_in(["CDCl3", "DMSO-d6", "other"]).all()
    assert pl.read_parquet(rejected)["record_id"].to_list() == ["5509"]


def test_missing_input_is_a_clear_error(tmp_path, capsys) -> None:
    code = main(
        [
            "curate-assigned",
            str(tmp_path / "nope.sdf"),
            "--out",
            str(tmp_path / "a.parquet"),
            "--rejected",
            str(tmp_path / "r.parquet"),
        ]
    )
    assert code != 0
    assert "input file not found" in capsys.readouterr().err
    assert not (tmp_path / "a.parquet").exists()


def test_bad_window_is_a_usage_error(tmp_path, capsys) -> None:
    argv = ["curate-assigned", str(tmp_path / "in.sdf"), "--out", str(tmp_path / "a.parquet")]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--rejected", str(tmp_path / "r.parquet"), "--window", "1H=15,-1"])
    assert exit_.value.code == 2
    assert "argument --window: empty window '1H=15,-1'" in capsys.readouterr().err
