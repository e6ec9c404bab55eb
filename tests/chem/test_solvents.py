import gzip
import json

import pytest

from litshift.chem.solvents import (
    SOLVENT_CLASSES,
    canonical_solvent,
    classify,
    normalize_text,
    residual_peaks,
    unmatched,
)
from litshift.ingest.nmrshiftdb2 import parse_indexed_tag
from tests.conftest import JSONL

FAMILIES = {
    "CDCl3": [
        "CDCl3",
        "Chloroform-D1 (CDCl3)",
        "CDCL3,TMS",
        "chloroform-d",
        "CDCI3",
        "deuterochloroform",
        "CDCl₃",
        "cdcl3 + TMS",
    ],
    "DMSO-d6": [
        "DMSO-d6",
        "DMSO\u2011d6",
        "DMSO-d₆",
        "d6-DMSO",
        "[D6]DMSO",
        "(CD3)2SO",
        "Dimethylsulphoxide-D6 (DMSO-D6, C2D6SO))",
        "dmso",
        "DMSO‐d6",
        "DMSO–d6",
    ],
    "CD3OD": ["CD3OD", "Methanol-D4 (CD3OD)", "methanol-d4", "MeOD"],
    "acetone-d6": ["acetone-d6", "(CD3)2CO", "CD3COCD3", "Acetone-D6 ((CD3)2CO)", "[D6]acetone"],
    "CD2Cl2": ["CD2Cl2", "dichloromethane-d2"],
    "C6D6": ["C6D6", "Benzene-D6 (C6D6)", "benzene-d6"],
    "CD3CN": ["CD3CN", "acetonitrile-d3", "MeCN"],
    "D2O": ["D2O", "Deuteriumoxide (D2O)", "deuterium oxide"],
    "THF-d8": ["THF-d8", "Tetrahydrofuran-D8 (THF-D8, C4D4O)", "[D8]THF"],
    "toluene-d8": ["toluene-d8", "C7D8"],
    "pyridine-d5": ["pyridine-d5", "Pyridin-D5 (C5D5N)", "C5D5N"],
    "CCl4": ["CCl4", "TETRACHLORO-METHANE (CCl4)"],
    "neat": ["neat"],
}


@pytest.mark.parametrize(
    ("expected", "text"), [(name, text) for name, texts in FAMILIES.items() for text in texts]
)
def test_synonym_families_map_to_one_canonical_name(expected: str, text: str) -> None:
    assert canonical_solvent(text) == expected


@pytest.mark.parametrize("text", ["CDCl3/CD3OD", "DMSO-d6 + CDCl3", "CDCl3:CD3OD (1:1)"])
def test_two_solvents_are_a_mixture_of_class_other(text: str) -> None:
    assert classify(text) == ("mixture", "other")


@pytest.mark.parametrize("text", [None, "", "Unreported", "Unknown", "N/A", "  "])
def test_missing_solvent_is_unreported(text: str | None) -> None:
    assert classify(text) == ("unreported", "other")


def test_classes_collapse_everything_but_cdcl3_and_dmso() -> None:
    assert SOLVENT_CLASSES == ("CDCl3", "DMSO-d6", "other")
    assert classify("CDCl3")[1] == "CDCl3"
    assert classify("[D6]DMSO")[1] == "DMSO-d6"
    assert classify("CD3OD") == ("CD3OD", "other")


def test_unrecognized_strings_are_reported_not_guessed() -> None:
    assert canonical_solvent("sulfolane") == "unrecognized"
    report = unmatched(["foo solvent", "CDCl3", "foo solvent", None, "bar"])
    assert report == {"foo solvent": 2, "bar": 1}


def test_normalization_folds_case_dashes_and_spaces() -> None:
    assert normalize_text("  DMSO\u2011D6\u2009 ") == "dmso-d6"


def test_residual_peaks() -> None:
    assert residual_peaks("CDCl3", "13C") == (77.16,)
    assert residual_peaks("DMSO-d6", "1H") == (2.50,)
    assert residual_peaks("unreported", "1H") == ()


def test_whole_nmrshiftdb2_vocabulary_is_recognized() -> None:
    """Every solvent string of the 57k-record dump maps to a known solvent (or unreported)."""
    texts: set[str] = set()
    with gzip.open(JSONL, "rt") as handle:
        for line in handle:
            texts.update(parse_indexed_tag(json.loads(line).get("Solvent")).values())
    assert len(texts) > 20
    assert unmatched(sorted(texts)) == {}
