"""Nuclei: element names, shift windows and the shift-reference check."""

from __future__ import annotations

import pytest
import yaml

from litshift.chem.nuclei import (
    SHIFT_REFERENCES,
    STANDARD_REFERENCES,
    element_of,
    named_references,
    parse_window,
    reference_mismatch,
    window_violation,
)
from tests.conftest import REPO


def test_element_of_heteronuclei() -> None:
    assert [element_of(n) for n in ("31P", "19F", "29Si", "11B")] == ["P", "F", "Si", "B"]
    with pytest.raises(ValueError, match="not a nucleus"):
        element_of("P31")


def test_windows_are_per_nucleus() -> None:
    windows = {"31P": (-300.0, 300.0), "19F": (-300.0, 100.0)}
    assert window_violation([25.1, -5.0], "31P", windows) is None
    assert window_violation([354.3], "19F", windows) == (
        "shift outside plausible window: 19F 354.3 not in [-300, 100]"
    )
    assert window_violation([1e4], "11B", windows) is None  # no window: not checked


def test_parse_window() -> None:
    assert parse_window("31P=-300,300") == ("31P", (-300.0, 300.0))
    for text, message in [
        ("13C=-50", "expected NUCLEUS=LO,HI, got '13C=-50'"),
        ("13C", "expected NUCLEUS=LO,HI"),
        ("1H=15,-1", "empty window '1H=15,-1'"),
        ("H1=-1,15", "not a nucleus name: 'H1'"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_window(text)


def test_every_standard_is_in_the_catalogue() -> None:
    names = {(r.name, n) for r in SHIFT_REFERENCES for n in r.nuclei}
    assert all((name, nucleus) in names for nucleus, name in STANDARD_REFERENCES.items())
    assert all(r.standard_shift == 0.0 for r in SHIFT_REFERENCES if r.name in ("CFCl3", "H3PO4"))


@pytest.mark.parametrize(
    ("texts", "nucleus", "other"),
    [
        # the standard, named or implied
        (("CDCl3", "CFCl3"), "19F", None),
        (("CDCl3", None), "19F", None),
        (("CDCl3", "external 85% H3PO4"), "31P", None),
        # another compound set to 0 ppm
        (("CDCl3, C6F6", None), "19F", "C6F6"),
        (("CDCl3", "external TFA"), "19F", "TFA"),
        (("acetone-d6", "relative to trifluoroacetic acid"), "19F", "TFA"),
        (("CDCl3", "PhCF3 as internal standard"), "19F", "PhCF3"),
        (("CDCl3", "relative to trimethyl phosphate"), "31P", "OP(OMe)3"),
        # a secondary reference quoted on the standard scale, or named with the standard
        (("CDCl3", "referenced to C6F6 at -164.9 ppm"), "19F", None),
        (("CDCl3", "CFCl3, C6F6 as secondary standard"), "19F", None),
        # a compound of another nucleus, a deuterated solvent, a longer name
        (("CDCl3", "85% H3PO4"), "19F", None),
        (("CDCl3 + TFA-d", None), "19F", None),
        (("CDCl3", "1,4-difluorobenzene"), "19F", None),
    ],
)
def test_reference_mismatch(texts, nucleus: str, other: str | None) -> None:
    standard = STANDARD_REFERENCES[nucleus]
    expected = f"{nucleus} referenced to {other}, not {standard}" if other else None
    assert reference_mismatch(texts, nucleus, standard) == expected


def test_named_references_are_per_nucleus() -> None:
    assert [r.name for r in named_references("C6F6 and TMS", "19F")] == ["C6F6"]
    assert [r.name for r in named_references("C6F6 and TMS", "13C")] == ["TMS"]
    assert named_references("hexafluorobenzene", "19F")[0].name == "C6F6"


def test_the_config_schema_offers_every_catalogued_reference() -> None:
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    filters = schema["properties"]["literature"]["properties"]["filters"]["properties"]
    offered = filters["reference_standard"]["additionalProperties"]["enum"]
    assert offered == [r.name for r in SHIFT_REFERENCES] + ["none"]
