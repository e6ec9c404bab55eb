import pytest

from litshift.ingest.nmrshiftdb2 import (
    SpectrumTagError,
    iter_sd_records,
    parse_indexed_tag,
    parse_number,
    parse_spectrum,
    spectrum_tags,
)


def test_indexed_tags_keep_values_with_spaces_and_parentheses() -> None:
    value = "0:Chloroform-D1 (CDCl3) 1:Unreported 2:Dimethylsulphoxide-D6 (DMSO-D6, C2D6SO)) "
    assert parse_indexed_tag(value) == {
        0: "Chloroform-D1 (CDCl3)",
        1: "Unreported",
        2: "Dimethylsulphoxide-D6 (DMSO-D6, C2D6SO))",
    }
    assert parse_indexed_tag("1:Unreported 0:Unknown") == {1: "Unreported", 0: "Unknown"}
    assert parse_indexed_tag(None) == {}


def test_parse_spectrum_real_13c_and_1h_tags() -> None:
    peaks = parse_spectrum("8.1;0.0Q;3|9.0;0.0Q;19|104.6;0.0S;10|")
    assert [(p.shift, p.atom_index, p.multiplicity) for p in peaks] == [
        (8.1, 3, "Q"),
        (9.0, 19, "Q"),
        (104.6, 10, "S"),
    ]
    peaks = parse_spectrum("5.01;0.0br s;15|2.1;0.0d;22|0.99;0.0;4|")
    assert [p.multiplicity for p in peaks] == ["br s", "d", None]


@pytest.mark.parametrize("bad", ["abc;0.0;1|", "1.0;0.0|", "1.0;0.0;x|", "", "|"])
def test_parse_spectrum_rejects_malformed_entries(bad: str) -> None:
    with pytest.raises(SpectrumTagError):
        parse_spectrum(bad)


def test_numbers() -> None:
    assert parse_number("298 ") == 298.0
    assert parse_number("Unreported") is None


def test_sd_records_split_with_tags(sdf_text: str) -> None:
    records = list(iter_sd_records(iter(sdf_text.splitlines(keepends=True))))
    assert len(records) == 150
    first = records[0]
    assert first.record_id == first.tags["nmrshiftdb2 ID"].strip()
    assert first.molblock.rstrip().endswith("M  END")
    nuclei = {nucleus for r in records for nucleus, _, _ in spectrum_tags(r.tags)}
    assert {"13C", "1H"} <= nuclei
