"""Heteronucleus heads (31P, 19F): weak sets filtered to the model's nuclei before
``max_weak``, unambiguous sets trained as atom labels (scaler, validation, test), the heads
scored beside HOSE on the held-out sets, and ``litshift predict``/``verify`` with and without
those heads."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from litshift.chem.molecules import molecule_key
from litshift.cli import main
from litshift.data.datasets import build_atom_labeled, target_scaler
from litshift.data.io import rows_to_table, write_table
from litshift.data.weak_filters import WeakFilters
from litshift.evaluate.scoring import ASSIGNED_TEST
from litshift.report.page import hetero_table
from litshift.report.records import MetricsIndex, hetero_headline
from litshift.train import examples as train_examples
from litshift.train.config import TrainConfig
from litshift.train.examples import load_data
from tests.training_data import (
    HETERO_SETS,
    TEST_MODEL,
    config_json,
    conformers_of,
    write_hetero_inputs,
)

NUCLEI = ["1H", "13C", "31P", "19F"]
HETERO = {"model": {**TEST_MODEL, "nuclei": NUCLEI}, "atom_label_nuclei": ["31P", "19F"]}
#: the two 19F groups of this one have three atoms each: molecule-level, so it stays weak
AMBIGUOUS = HETERO_SETS["train"][-1][0]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_hetero_inputs(tmp_path_factory.mktemp("hetero"))


def _tables(inputs) -> tuple:
    return inputs.assigned, inputs.splits, inputs.weak, inputs.conformers


def _config(**overrides) -> TrainConfig:
    return TrainConfig.from_dict(
        json.loads(config_json(**overrides)) | {"weak_filters": {"max_stereocentres": None}}
    )


def _rows(split: str) -> list[dict]:
    return [
        {"smiles": s, "nucleus": n, "shifts": shifts, "n_h": None, "solvent_class": "CDCl3"}
        for s, n, shifts in HETERO_SETS[split]
    ]


def test_max_weak_counts_only_the_sets_of_the_models_nuclei(inputs, monkeypatch) -> None:
    requested: set[str] = set()
    real = train_examples.load_conformers

    def spy(directory, keys):
        requested.update(keys)
        return real(directory, keys)

    monkeypatch.setattr(train_examples, "load_conformers", spy)
    weak = pq.read_table(inputs.weak)
    own = sum(n in {"1H", "13C"} for n in weak.column("nucleus").to_pylist())
    assert own < weak.num_rows  # the 31P/19F sets are there, and would eat into the cap
    _, _, counts = load_data(*_tables(inputs), _config(max_weak=own))
    assert counts["weak.records"] == weak.num_rows and counts["weak.records_used"] == own
    hetero_keys = {molecule_key(s) for sets in HETERO_SETS.values() for s, _, _ in sets}
    assert not requested & hetero_keys  # a 1H/13C model reads none of their conformers


def test_unambiguous_sets_become_atom_labels_and_the_rest_stays_weak() -> None:
    rows = _rows("train")
    conformers = {molecule_key(r["smiles"]): conformers_of(r["smiles"]) for r in rows}
    examples, used, counts = build_atom_labeled(
        rows, "train", conformers, NUCLEI, ["31P", "19F"], 512
    )
    assert len(examples) == len(rows) - 1 and used == set(range(len(rows) - 1))
    assert counts["atom_labels.train.19F.equal_class_sizes"] == 1
    assert counts["atom_labels.train.examples.train"] == len(rows) - 1
    cf3 = next(e for e in examples if e.smiles == "FC(F)(F)c1ccccc1")
    k = NUCLEI.index("19F")
    assert cf3.mask[:, k].sum() == 3 and np.allclose(cf3.targets[cf3.mask[:, k], k], -63.7)
    assert not cf3.mask[:, [0, 1, 2]].any()
    # the weak filters drop molecules (not their use: the set is still kept out of L_mol)
    only_cnohs = WeakFilters(elements=("C", "H", "O", "N", "S"))
    filtered, used_filtered, counts = build_atom_labeled(
        rows, "train", conformers, NUCLEI, ["31P", "19F"], 512, only_cnohs
    )
    assert filtered == [] and used_filtered == used
    assert counts["atom_labels.train.skipped.filter: element outside the allowed set"] == 9


def test_atom_labels_train_validate_and_test_the_heteronucleus_heads(inputs) -> None:
    config = _config(**HETERO, mode="semi")
    data, test, counts = load_data(*_tables(inputs), config, inputs.unassigned)
    k = {n: NUCLEI.index(n) for n in NUCLEI}
    for split, examples in (("train", data.train), ("valid", data.valid), ("test", test)):
        labeled = {e.smiles for e in examples if e.mask[:, [k["31P"], k["19F"]]].any()}
        assert labeled == {s for s, _, _ in HETERO_SETS[split]} - {AMBIGUOUS}, split
    weak_hetero = {
        e.smiles for e in data.weak if e.plans[k["31P"]] is not None or e.plans[k["19F"]]
    }
    assert weak_hetero == {AMBIGUOUS}  # only the set no atom label could be read from
    mean, std = target_scaler(data.train, len(NUCLEI))
    p_shifts = [s[0] for _, n, s in HETERO_SETS["train"] if n == "31P"]
    assert mean[k["31P"]] == pytest.approx(np.mean(p_shifts), abs=1e-4)
    assert std[k["31P"]] == pytest.approx(np.std(p_shifts), abs=1e-3)
    assert counts["atom_labels.test.examples.test"] == 2


def test_atom_labels_need_model_heads_and_the_held_out_sets(inputs) -> None:
    paths = _tables(inputs)
    with pytest.raises(ValueError, match="not all model nuclei"):
        load_data(*paths, _config(atom_label_nuclei=["31P"]), inputs.unassigned)
    with pytest.raises(ValueError, match="--unassigned"):
        load_data(*paths, _config(**HETERO))


@pytest.fixture(scope="module")
def models(inputs, tmp_path_factory):
    """A model with 31P/19F heads and one without, trained here."""
    directory = tmp_path_factory.mktemp("hetero_models")
    out = {}
    for name, overrides in (("hetero", HETERO), ("plain", {})):
        cfg = config_json(max_steps=3, eval_every=3, mode="supervised", **overrides)
        argv = ["train", *inputs.cli_args(), "--out", str(directory / name), "--config-json", cfg]
        assert main(argv) == 0
        out[name] = directory / name
    return out


def test_the_hetero_run_reports_31p_and_19f_test_mae(models) -> None:
    metrics = json.loads((models["hetero"] / "metrics.json").read_text())
    for split in ("valid", "test"):
        assert metrics[split]["n.31P"] == 1 and metrics[split]["n.19F"] == 1
        assert np.isfinite(metrics[split]["mae.31P"]) and np.isfinite(metrics[split]["mae.19F"])


def test_predict_and_verify_31p_19f_with_the_heads(models, tmp_path, capsys) -> None:
    model = str(models["hetero"] / "model.pt")
    smiles = "O=P(c1ccccc1)(c1ccccc1)c1ccc(F)cc1"
    assert main(["predict", "--model", model, "--nuclei", "31P,19F", "--smiles", smiles]) == 0
    rows = [line.split() for line in capsys.readouterr().out.strip().splitlines()[2:]]
    assert sorted((r[1], r[2]) for r in rows) == [("F", "19F"), ("P", "31P")]
    assert all(np.isfinite(float(r[3])) for r in rows)
    result = tmp_path / "v.json"
    argv = ["verify", "--peaks", "31P: 29.0; 19F: -110.0", "--solvent", "CDCl3"]
    argv += ["--model", str(models["hetero"] / "model.pt"), "--json", str(result)]
    argv += ["--smiles", "O=P(c1ccccc1)(c1ccccc1)c1ccc(F)cc1", "--smiles", "Fc1ccccc1P(=O)(C)C"]
    assert main(argv) == 0
    ranked = json.loads(result.read_text())["candidates"]
    assert len(ranked) == 2 and all(set(c["branch"]) == {"31P", "19F"} for c in ranked)


def test_a_model_without_the_head_fails_in_one_line(models, capsys) -> None:
    model = str(models["plain"] / "model.pt")
    code = main(["predict", "--model", model, "--nuclei", "31P", "--smiles", "CP(C)C"])
    assert code != 0
    assert "the model has no 31P head (it predicts 1H, 13C)" in capsys.readouterr().err
    argv = ["verify", "--peaks", "31P: -62.0; 1H: 1.0 (d, 9H)", "--model", model]
    with pytest.raises(SystemExit, match="model has no 31P head") as stop:
        main([*argv, "--smiles", "CP(C)C"])
    assert "\n" not in str(stop.value.code)


def test_hose_baseline_scores_the_trained_heads_on_the_same_sets(inputs, models, tmp_path) -> None:
    literature_test = tmp_path / "literature_test.parquet"
    write_table(rows_to_table([], "weak"), literature_test, "weak")
    out = {name: tmp_path / f"{name}.parquet" for name in ("predictions", "metrics")}
    argv = ["hose-baseline", "--assigned", str(inputs.assigned), "--splits", str(inputs.splits)]
    argv += ["--weak", str(inputs.weak), "--unassigned", str(inputs.unassigned)]
    argv += ["--literature-test", str(literature_test), "--nuclei", "31P,19F"]
    argv += ["--models", *(str(models[n] / "model.pt") for n in ("hetero", "plain"))]
    argv += ["--conformers", str(inputs.conformers), "--n-bootstrap", "20"]
    argv += ["--out-predictions", str(out["predictions"]), "--out-metrics", str(out["metrics"])]
    assert main([*argv, "--out-summary", str(tmp_path / "summary.json")]) == 0
    predictions = pl.read_parquet(out["predictions"])
    scored = {
        model: sorted(frame["smiles"].unique()) for (model,), frame in predictions.group_by("model")
    }
    held_out = sorted(s for s, _, _ in HETERO_SETS["test"])
    assert scored == {"HOSE": held_out, "hetero": held_out}  # the same sets, the same pairs
    pairs = predictions.group_by("model").agg(pl.col("observed").sort())
    assert pairs["observed"][0].to_list() == pairs["observed"][1].to_list()
    metrics = pl.read_parquet(out["metrics"]).filter(pl.col("breakdown") == "all")
    assert sorted(zip(metrics["model"], metrics["nucleus"], strict=True)) == [
        ("HOSE", "19F"),
        ("HOSE", "31P"),
        ("hetero", "19F"),
        ("hetero", "31P"),
    ]
    counts = json.loads((tmp_path / "summary.json").read_text())["counts"]
    assert counts["plain.weak_test.skipped.31P.no_head"] == 1
    assert counts["hetero.weak_test.scored.19F"] == 1
    record = hetero_headline(
        {"hose_baseline_metrics": pl.scan_parquet(out["metrics"])},
        MetricsIndex(
            pl.DataFrame(
                [
                    {"model": model, "split": ASSIGNED_TEST, "level": "atom", "nucleus": nucleus}
                    | {"breakdown": "all", "group": "all", "mae": mae}
                    for model, mae in (("hetero", 2.0), ("supervised", 1.5))
                    for nucleus in ("1H", "13C")
                ]
            ),
            ["supervised", "hetero"],
        ),
        "supervised",
    )
    assert record is not None
    headline = hetero_table(record)
    assert 'id="headline-heteronuclei"' in headline and "vs HOSE" in headline
    assert ">2.28<" in headline  # the paper's 19F figure, for reference
    assert "hetero 13C 2.000 (supervised 1.500)" in headline
