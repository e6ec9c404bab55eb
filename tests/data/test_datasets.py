"""Datasets: label averaging, weak match plans and filters, conformer lookup, padding, sampling."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from rdkit import Chem

from litshift.chem.molecules import molecule_key
from litshift.data.conformer_shards import load_conformers
from litshift.data.datasets import (
    StreamSampler,
    bucketed_indices,
    build_labeled,
    build_weak,
    collate_labeled,
    collate_weak,
    stream_indices,
    target_scaler,
    weak_filter_reason,
)
from litshift.data.io import read_table, rows_to_table
from litshift.data.weak_filters import WeakFilters
from tests.training_data import conformers_of, write_training_inputs

NUCLEI = ("1H", "13C")
NO_FILTERS = WeakFilters(max_atoms=None, elements=None, max_stereocentres=None, windows=None)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    return write_training_inputs(tmp_path_factory.mktemp("datasets"))


@pytest.fixture(scope="module")
def geometries(inputs):
    return load_conformers(inputs.conformers)


def _assigned(rows: list[dict]) -> pa.Table:
    defaults = {
        "nmrshiftdb2_id": 1,
        "spectrum_index": 0,
        "mol_block": "",
        "solvent_raw": None,
        "temperature_k": None,
        "field_mhz": None,
    }
    return rows_to_table([defaults | r for r in rows], "assigned")


def _weak(rows: list[dict]) -> pa.Table:
    defaults = {
        "source": "test",
        "record_id": "r",
        "inchikey": "X",
        "solvent": "CDCl3",
        "solvent_class": "CDCl3",
        "n_h": None,
    }
    return rows_to_table([defaults | r for r in rows], "weak")


def test_real_inputs_build_examples_and_count_every_skip(inputs, geometries) -> None:
    assigned = read_table(inputs.assigned, "assigned")
    labeled, counts = build_labeled(
        assigned, read_table(inputs.splits, "splits"), geometries, NUCLEI, 512
    )
    assert {len(v) > 0 for v in labeled.values()} == {True}
    assert counts["labeled.spectra"] == assigned.num_rows
    # the fixture has a molecule without conformer: skipped with a reason
    assert counts["labeled.skipped.no ok conformer"] == 1
    for example in labeled["train"]:
        n = len(example.atomic_numbers)
        assert example.coords.shape == (n, 3) and example.targets.shape == (n, 2)
        for k, atomic_number in enumerate((1, 6)):
            assert np.all(example.atomic_numbers[example.mask[:, k]] == atomic_number)

    weak, weak_counts = build_weak(
        read_table(inputs.weak, "weak"), geometries, NUCLEI, 512, "litshift", WeakFilters()
    )
    assert weak and weak_counts["weak.examples"] == len(weak)
    assert any(k.startswith("weak.branch.13C.") for k in weak_counts)
    assert any(k.startswith("weak.skipped.filter: ") for k in weak_counts)
    for example in weak:
        for plan in example.plans:
            if plan is not None:
                assert len(plan.groups) == len(plan.targets)


def test_spectra_of_one_molecule_and_solvent_class_are_averaged_per_atom() -> None:
    smiles = "CC(=O)O"  # 13C atoms 0, 1
    table = _assigned(
        [
            {
                "inchikey": "QTBSBXVTEAMEQO-UHFFFAOYSA-N",
                "smiles": smiles,
                "nucleus": "13C",
                "solvent": "CDCl3",
                "solvent_class": "CDCl3",
                "labels": [{"atom_index": 0, "shift": 20.0}, {"atom_index": 1, "shift": 177.0}],
            },
            {
                "inchikey": "QTBSBXVTEAMEQO-UHFFFAOYSA-N",
                "smiles": smiles,
                "nucleus": "13C",
                "solvent": "CDCl3",
                "solvent_class": "CDCl3",
                "spectrum_index": 1,
                "labels": [{"atom_index": 0, "shift": 22.0}],
            },
            {
                "inchikey": "QTBSBXVTEAMEQO-UHFFFAOYSA-N",
                "smiles": smiles,
                "nucleus": "13C",
                "solvent": "DMSO-d6",
                "solvent_class": "DMSO-d6",
                "labels": [{"atom_index": 0, "shift": 21.0}],
            },
        ]
    )
    splits = rows_to_table([{"connectivity_key": "QTBSBXVTEAMEQO", "split": "train"}], "splits")
    labeled, counts = build_labeled(
        table, splits, {molecule_key(smiles): conformers_of(smiles)}, NUCLEI, 512
    )
    by_solvent = {e.solvent_class: e for e in labeled["train"]}
    assert len(by_solvent) == 2 and counts["labeled.examples.train"] == 2
    cdcl3 = by_solvent[0]
    assert cdcl3.targets[0, 1] == pytest.approx(21.0) and cdcl3.targets[1, 1] == 177.0
    assert cdcl3.mask[:, 1].sum() == 2 and not cdcl3.mask[:, 0].any()


def test_molecules_without_split_or_conformer_are_counted() -> None:
    table = _assigned(
        [
            {
                "inchikey": "LFQSCWFLJHTTHZ-UHFFFAOYSA-N",
                "smiles": "CCO",
                "nucleus": "13C",
                "solvent": "CDCl3",
                "solvent_class": "CDCl3",
                "labels": [{"atom_index": 0, "shift": 18.0}],
            },
            {
                "inchikey": "OKKJLVBELUTLKV-UHFFFAOYSA-N",
                "smiles": "CO",
                "nucleus": "13C",
                "solvent": "CDCl3",
                "solvent_class": "CDCl3",
                "labels": [{"atom_index": 0, "shift": 50.0}],
            },
        ]
    )
    splits = rows_to_table([{"connectivity_key": "LFQSCWFLJHTTHZ", "split": "valid"}], "splits")
    labeled, counts = build_labeled(table, splits, {}, NUCLEI, 512)
    assert counts["labeled.skipped.not in splits"] == 1
    assert counts["labeled.skipped.no ok conformer"] == 1
    assert not any(labeled.values())


def test_weak_sets_of_both_nuclei_share_one_example_and_plans_pool_groups() -> None:
    smiles = "c1ccccc1C"  # toluene: 5 carbon symmetry classes
    table = _weak(
        [
            {"smiles": smiles, "nucleus": "13C", "shifts": [21.4, 125.3, 128.2, 129.0, 137.8]},
            {"smiles": smiles, "nucleus": "1H", "shifts": [2.34] * 3 + [7.2] * 5},
            {"smiles": smiles, "nucleus": "13C", "shifts": [21.0, 125.0, 128.0, 129.0, 138.0]},
        ]
    )
    examples, counts = build_weak(
        table, {molecule_key(smiles): conformers_of(smiles)}, NUCLEI, 512, "litshift", NO_FILTERS
    )
    assert len(examples) == 2  # the second 13C set pairs with no 1H set
    assert counts["weak.branch.13C.symmetry_classes"] == 2
    assert counts["weak.branch.1H.exact"] == 1
    assert examples[0].plans[0] is not None and examples[1].plans[0] is None

    batch = collate_weak(examples)
    B, K, G, N = batch.pool.shape
    assert (B, K, N) == (2, 2, 15) and G == 8
    row_sums = batch.pool.sum(-1)  # (B, K, G)
    assert torch.allclose(row_sums[batch.mask], torch.ones(int(batch.mask.sum())))
    assert torch.all(row_sums[~batch.mask] == 0)
    # pooled predictions are group means
    pred = torch.arange(N, dtype=torch.float32).expand(B, N)
    pooled = torch.bmm(batch.pool[:, 1], pred[..., None]).squeeze(-1)  # (B, G)
    plan = examples[0].plans[1]
    expected = [float(np.mean(g)) for g in plan.groups]
    assert pooled[0, : len(expected)].tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("smiles", "filters", "reason"),
    [
        ("CCCCCCCCCCCCCCCCCCCCCCCC", WeakFilters(max_atoms=70), "too many atoms"),
        ("CC[Si](C)(C)C", WeakFilters(), "element outside the allowed set"),
        ("CC(O)C(N)C(F)CC", WeakFilters(), "too many stereocentres"),
        ("CC(O)CC", WeakFilters(), None),
    ],
)
def test_paper_weak_filters(smiles, filters, reason) -> None:
    assert weak_filter_reason(Chem.AddHs(Chem.MolFromSmiles(smiles)), filters) == reason


def test_weak_shift_window_and_bad_smiles_are_counted() -> None:
    table = _weak(
        [
            {"smiles": "CCO", "nucleus": "13C", "shifts": [18.0, 300.0]},
            {"smiles": "C1CC", "nucleus": "13C", "shifts": [18.0]},
            {"smiles": "CCO", "nucleus": "19F", "shifts": [-60.0]},
        ]
    )
    examples, counts = build_weak(table, {}, NUCLEI, 512, "litshift", WeakFilters())
    assert not examples
    assert counts["weak.skipped.filter: shift outside window"] == 1
    assert counts["weak.skipped.invalid SMILES"] == 1
    assert counts["weak.skipped.nucleus 19F"] == 1


def test_collate_labeled_pads_and_scaler_uses_labeled_shifts(inputs, geometries) -> None:
    labeled, _ = build_labeled(
        read_table(inputs.assigned, "assigned"),
        read_table(inputs.splits, "splits"),
        geometries,
        NUCLEI,
        512,
    )
    examples = labeled["train"][:5]
    batch = collate_labeled(examples)
    n_max = max(len(e.atomic_numbers) for e in examples)
    assert batch.atomic_numbers.shape == (5, n_max) and batch.targets.shape == (5, n_max, 2)
    assert int((batch.atomic_numbers > 0).sum()) == sum(len(e.atomic_numbers) for e in examples)
    assert int(batch.target_mask.sum()) == sum(int(e.mask.sum()) for e in examples)
    mean, std = target_scaler(labeled["train"], 2)
    carbons = np.concatenate([e.targets[e.mask[:, 1], 1] for e in labeled["train"]])
    assert mean[1] == pytest.approx(carbons.mean()) and std[1] == pytest.approx(carbons.std())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 40), batch=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_stream_visits_every_item_once_per_pass(n, batch, seed) -> None:
    n_batches = (3 * n) // batch + 1
    stream = np.concatenate([stream_indices(n, batch, seed, b) for b in range(n_batches)])
    for p in range(len(stream) // n):
        assert sorted(stream[p * n : (p + 1) * n]) == list(range(n))
    assert np.array_equal(stream_indices(n, batch, seed, 2), stream_indices(n, batch, seed, 2))


def test_ranks_read_interleaved_batches_of_one_stream() -> None:
    single = list(StreamSampler(10, 3, 0, start_step=0, end_step=4, rank=0, world_size=1))
    rank0 = list(StreamSampler(10, 3, 0, start_step=0, end_step=2, rank=0, world_size=2))
    rank1 = list(StreamSampler(10, 3, 0, start_step=0, end_step=2, rank=1, world_size=2))
    assert single == [rank0[0], rank1[0], rank0[1], rank1[1]]
    resumed = list(StreamSampler(10, 3, 0, start_step=2, end_step=4))
    assert resumed == single[2:]


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 60),
    batch=st.integers(1, 8),
    window=st.integers(1, 6),
    seed=st.integers(0, 2**16),
)
def test_bucketed_stream_keeps_every_item_once_per_window(n, batch, window, seed) -> None:
    sizes = np.random.default_rng(seed).integers(5, 80, n)
    for w in range(3):
        served = [
            bucketed_indices(sizes, batch, seed, w * window + j, window, order_seed=1)
            for j in range(window)
        ]
        # the window's batches are exactly the plain stream's items, regrouped
        plain = stream_indices(n, batch * window, seed, w)
        assert sorted(np.concatenate(served)) == sorted(plain)


def test_bucketed_batches_hold_similar_sizes_and_align_across_streams() -> None:
    rng = np.random.default_rng(0)
    labeled, weak = rng.integers(5, 80, 500), rng.integers(5, 80, 800)
    window, spread_random, spread_bucketed, gaps = 16, [], [], []
    for b in range(64):
        random_batch = labeled[stream_indices(500, 16, 3, b)]
        sizes_of = labeled[bucketed_indices(labeled, 16, 3, b, window, order_seed=9)]
        other = weak[bucketed_indices(weak, 16, 4, b, window, order_seed=9)]
        spread_random.append(random_batch.max() - random_batch.min())
        spread_bucketed.append(sizes_of.max() - sizes_of.min())
        gaps.append(abs(int(sizes_of.max()) - int(other.max())))
    assert np.mean(spread_bucketed) < np.mean(spread_random) / 4
    assert np.mean(gaps) < 12  # same size rank per step: the merged pass pads little


def test_sampler_buckets_only_with_sizes() -> None:
    sizes = np.arange(40)
    plain = list(StreamSampler(40, 4, 0, start_step=0, end_step=5))
    unsized = list(StreamSampler(40, 4, 0, start_step=0, end_step=5, window=8))
    bucketed = list(StreamSampler(40, 4, 0, start_step=0, end_step=5, sizes=sizes, window=8))
    assert plain == unsized
    assert bucketed != plain
    assert all(max(b) - min(b) < 10 for b in bucketed)  # window of 32 items, sorted by size
