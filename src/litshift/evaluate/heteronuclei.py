"""The HOSE lookup per heteronucleus, scored on held-out shift sets: the work of
``litshift hose-baseline`` (:mod:`litshift.cli.hose_baseline`, :func:`score_heteronuclei`).

31P and 19F have (almost) no atom-assigned spectra, so their held-out data are molecule-level
sets: those of the molecules that ``litshift split --heteronuclei`` put into the test split
(split ``weak_test``), and the literature test lists (split ``literature_test``). Per nucleus,
:class:`~litshift.chem.hose.HoseModel` is fitted on the training labels of that nucleus:
the assigned training spectra plus the weak training sets whose peaks map onto atoms
unambiguously (:mod:`litshift.data.atom_labels`). Every held-out set is then scored as the
evaluate stage scores the literature test set: :func:`litshift.chem.matching.plan_match`
(training policy) groups the atoms, the group-pooled predictions are sorted against the
observed shifts and each molecule weighs 1 (:func:`litshift.evaluate.scoring.metrics_table`).

Trained runs with a head for these nuclei (config.hetero.yaml's ``hetero``) are scored on the
same sets the same way, beside HOSE: their predictions for every held-out molecule (on the
pipeline's conformers) go through the same matching and bootstrap. Without runs HOSE needs no
conformers, so the baseline runs before (and without) any training. It writes
``predictions.parquet`` (schema ``eval_predictions``; ``std`` is NaN: nothing is calibrated
here), ``metrics.parquet`` (schema ``eval_metrics``) and ``summary.json`` (every count).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from rdkit import Chem

from litshift.chem.hose import HoseModel
from litshift.chem.matching import MatchSkip, plan_match
from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.data.atom_labels import atom_level_examples
from litshift.data.conformer_shards import load_conformers
from litshift.data.datasets import Conformers, Structure
from litshift.data.io import atomic_path, read_table, rows_to_table, write_table
from litshift.data.splits import weak_sources
from litshift.evaluate.metrics import (
    atom_environment,
    fingerprints,
    max_similarity,
    pooled_sorted_pairs,
)
from litshift.evaluate.scoring import (
    LITERATURE_TEST,
    WEAK_TEST,
    Scores,
    ScoringOptions,
    metrics_table,
    pair_rows,
)
from litshift.evaluate.testsets import hose_training_examples
from litshift.inference.predictors import ModelPredictor, load_model_predictor
from litshift.inference.runtime import resolve_device

__all__ = [
    "STAGE",
    "AtomPredictor",
    "HeteronucleiInputs",
    "HeteronucleiOptions",
    "HeteronucleiOutputs",
    "fit_hose",
    "hose_atoms",
    "model_atoms",
    "score_heteronuclei",
    "score_sets",
    "similarity_to_training",
]

logger = logging.getLogger(__name__)

STAGE = "hose_baseline"

Example = tuple[str, str, list[tuple[int, float]]]

#: ``(set, explicit-H molecule, atoms to predict)`` -> per-atom ppm (NaN elsewhere), or why the
#: set cannot be predicted
AtomPredictor = Callable[[dict, Chem.Mol, Sequence[int]], np.ndarray | str]


@dataclass(frozen=True, slots=True)
class HeteronucleiInputs:
    """The files :func:`score_heteronuclei` reads."""

    assigned: Path
    """Curated ``assigned.parquet``."""
    splits: Path
    """``assigned_splits.parquet``."""
    weak: Path
    """``weak_train.parquet``: the weak training sets."""
    unassigned: Path
    """Curated ``unassigned.parquet``."""
    literature: Path | None
    """Curated ``literature.parquet`` (None: no literature sets)."""
    literature_test_sources: frozenset[str]
    """Literature sources held out as the literature test set."""
    literature_test: Path
    """``literature_test.parquet``."""
    models: tuple[Path, ...] = ()
    """``model.pt`` of trained runs with heads for the nuclei, scored beside HOSE."""
    conformers: Path | None = None
    """Conformer shards (needed with ``models``)."""


@dataclass(frozen=True, slots=True)
class HeteronucleiOptions:
    """Settings of :func:`score_heteronuclei` (no defaults here: the command line's are those of
    :class:`~litshift.evaluate.predictor_setup.PredictorOptions` and
    :class:`~litshift.evaluate.scoring.ScoringOptions`)."""

    nuclei: tuple[str, ...]
    split: str
    """The held-out split of the assigned split table whose molecules' sets are scored."""
    hose_max_radius: int
    hose_min_count: int
    scoring: ScoringOptions
    batch_size: int
    """Molecules per batch of the trained models."""
    device: str
    """Device of the trained models."""


@dataclass(frozen=True, slots=True)
class HeteronucleiOutputs:
    """The files :func:`score_heteronuclei` writes."""

    predictions: Path
    metrics: Path
    summary: Path


def fit_hose(
    assigned_examples: Sequence[Example],
    weak_train: Sequence[dict],
    nuclei: Sequence[str],
    max_radius: int,
    min_count: int,
) -> tuple[HoseModel, list[Example], Counter[str]]:
    """HOSE fitted on the assigned examples (of ``nuclei``) plus the unambiguous weak sets.

    Returns the model, every example it was fitted on and the counts
    (``train.assigned.<nucleus>``, ``train.weak.<nucleus>.<branch or reason>``).
    """
    weak_examples, weak_counts = atom_level_examples(weak_train, nuclei)
    examples = [*assigned_examples, *weak_examples]
    counts: Counter[str] = Counter(f"train.assigned.{e[1]}" for e in assigned_examples)
    counts.update({f"train.weak.{k}": v for k, v in weak_counts.items()})
    return HoseModel(max_radius, min_count).fit(examples), examples, counts


def similarity_to_training(
    examples: Sequence[Example], queries: Sequence[tuple[str, str]], radius: int, n_bits: int
) -> dict[tuple[str, str], float]:
    """``(nucleus, smiles)`` -> max Tanimoto similarity to the training molecules of that
    nucleus (Morgan fingerprints of ``radius`` and ``n_bits``; 0 without any)."""
    out: dict[tuple[str, str], float] = {}
    for nucleus in sorted({n for n, _ in queries}):
        references = fingerprints(
            [mol_from_smiles(s) for s in sorted({s for s, n, _ in examples if n == nucleus})],
            radius,
            n_bits,
        )
        smiles = sorted({s for n, s in queries if n == nucleus})
        values = max_similarity(
            fingerprints([mol_from_smiles(s) for s in smiles], radius, n_bits), references
        )
        out.update({(nucleus, s): float(v) for s, v in zip(smiles, values, strict=True)})
    return out


def hose_atoms(hose: HoseModel) -> AtomPredictor:
    """HOSE lookups of the atoms asked for (``no_training_labels`` for a nucleus it lacks)."""

    def predict(item: dict, mol_h: Chem.Mol, atoms: Sequence[int]) -> np.ndarray | str:
        if item["nucleus"] not in hose.element_means:
            return "no_training_labels"
        predicted = np.full(mol_h.GetNumAtoms(), np.nan)
        for atom in atoms:
            predicted[atom] = hose.predict_atom(mol_h, item["nucleus"], atom)[0]
        return predicted

    return predict


def model_atoms(
    predictor: ModelPredictor, sets: Sequence[dict], conformers: Conformers
) -> AtomPredictor:
    """A trained model's predictions for the molecules of ``sets`` (each in its solvent class),
    run once in batches and looked up per set (``no_head``, ``no_conformer`` otherwise)."""
    structures: dict[tuple[str, str], Structure] = {}
    for item in sets:
        group = (item["smiles"], item["solvent_class"])
        key = molecule_key(item["smiles"])
        if group in structures or key not in conformers:
            continue
        atomic_numbers, coords = conformers[key]
        try:
            expected = [
                a.GetAtomicNum() for a in Chem.AddHs(mol_from_smiles(item["smiles"])).GetAtoms()
            ]
        except MoleculeError:
            continue  # score_sets counts it
        if list(atomic_numbers) == expected and len(expected) <= predictor.max_atoms:
            structures[group] = Structure(
                key,
                item["smiles"],
                np.asarray(atomic_numbers, dtype=np.int64),
                np.asarray(coords[0], dtype=np.float32),
                SOLVENT_CLASSES.index(item["solvent_class"]),
            )
    predicted = dict(zip(structures, predictor.predict(list(structures.values()), []), strict=True))

    def predict(item: dict, mol_h: Chem.Mol, atoms: Sequence[int]) -> np.ndarray | str:
        if item["nucleus"] not in predictor.models[0].config.nuclei:
            return "no_head"
        values = predicted.get((item["smiles"], item["solvent_class"]))
        if values is None:
            return "no_conformer"
        return values[:, predictor.nuclei.index(item["nucleus"])]

    return predict


def score_sets(
    name: str,
    predict: AtomPredictor,
    sets: Sequence[dict],
    split: str,
    policy: str,
    similarity: Mapping[tuple[str, str], float],
) -> tuple[list[dict], Counter[str]]:
    """Rows of schema ``eval_predictions`` (model ``name``) for molecule-level ``sets``.

    ``sets`` are rows of a ``weak`` table. A set is one scored unit
    (``<record_id>/<solvent>``, ``#k`` appended for a k-th set of the same record, solvent and
    nucleus); sets that cannot be matched or predicted are counted as
    ``<name>.<split>.skipped.<nucleus>.<reason>``, scored ones as
    ``<name>.<split>.scored.<nucleus>``.
    """
    rows: list[dict] = []
    counts: Counter[str] = Counter()
    seen: Counter[tuple[str, str]] = Counter()
    for item in sets:
        nucleus, smiles = item["nucleus"], item["smiles"]
        try:
            mol_h = Chem.AddHs(mol_from_smiles(smiles))
        except MoleculeError as err:
            counts[f"{name}.{split}.skipped.{nucleus}.{err}"] += 1
            continue
        plan = plan_match(mol_h, nucleus, item["shifts"], item["n_h"], policy=policy)
        if isinstance(plan, MatchSkip):
            counts[f"{name}.{split}.skipped.{nucleus}.{plan.reason}"] += 1
            continue
        predicted = predict(item, mol_h, [a for group in plan.groups for a in group])
        if isinstance(predicted, str):
            counts[f"{name}.{split}.skipped.{nucleus}.{predicted}"] += 1
            continue
        groups, pooled, observed = pooled_sorted_pairs(plan, predicted)
        unit = f"{item['record_id']}/{item['solvent']}"
        seen[(unit, nucleus)] += 1
        if seen[(unit, nucleus)] > 1:
            unit += f"#{seen[(unit, nucleus)]}"
        counts[f"{name}.{split}.scored.{nucleus}"] += 1
        base = {
            "model": name,
            "split": split,
            "record_id": unit,
            "key": molecule_key(smiles),
            "smiles": smiles,
            "nucleus": nucleus,
            "solvent": item["solvent"],
            "solvent_class": item["solvent_class"],
            "max_similarity": similarity[(nucleus, smiles)],
            "match_branch": plan.branch,
        }
        environments = [atom_environment(mol_h, a) for a in range(mol_h.GetNumAtoms())]
        rows += pair_rows(
            base, groups, pooled, observed, environments, np.full_like(predicted, np.nan)
        )
    return rows, counts


def score_heteronuclei(
    inputs: HeteronucleiInputs, outputs: HeteronucleiOutputs, options: HeteronucleiOptions
) -> Scores:
    """Fit HOSE per nucleus, score it (and the runs of ``inputs.models``) on the held-out
    weak and literature sets, and write the predictions, the metrics and the summary."""
    nuclei = list(options.nuclei)
    scoring = options.scoring
    assigned = read_table(inputs.assigned, "assigned")
    splits = read_table(inputs.splits, "splits")
    train = pl.from_arrow(read_table(inputs.weak, "weak")).filter(pl.col("nucleus").is_in(nuclei))
    hose, examples, counts = fit_hose(
        hose_training_examples(assigned, splits, nuclei),
        train.to_dicts(),
        nuclei,
        options.hose_max_radius,
        options.hose_min_count,
    )
    weak, _ = weak_sources(
        read_table(inputs.unassigned, "unassigned"),
        read_table(inputs.literature, "literature") if inputs.literature else None,
        set(inputs.literature_test_sources),
    )
    held_out = pl.from_arrow(splits).filter(pl.col("split") == options.split)
    sets = {
        WEAK_TEST: weak.filter(
            pl.col("nucleus").is_in(nuclei),
            pl.col("connectivity_key").is_in(held_out["connectivity_key"].implode()),
        ).to_dicts(),
        LITERATURE_TEST: pl.from_arrow(read_table(inputs.literature_test, "weak"))
        .filter(pl.col("nucleus").is_in(nuclei))
        .to_dicts(),
    }
    queries = [(s["nucleus"], s["smiles"]) for rows in sets.values() for s in rows]
    similarity = similarity_to_training(
        examples, queries, scoring.fingerprint_radius, scoring.fingerprint_bits
    )
    all_sets = [s for rows in sets.values() for s in rows]
    predictors = {"HOSE": hose_atoms(hose)}
    if inputs.models:
        if inputs.conformers is None:
            raise ValueError("trained models need the conformers")
        conformers = load_conformers(
            inputs.conformers, {molecule_key(s["smiles"]) for s in all_sets}
        )
        for path in inputs.models:
            model = load_model_predictor([path], resolve_device(options.device))
            model = dataclasses.replace(model, nuclei=tuple(nuclei), batch_size=options.batch_size)
            predictors[model.name] = model_atoms(model, all_sets, conformers)
    rows: list[dict] = []
    for name, predict in predictors.items():
        for split, split_sets in sets.items():
            split_rows, split_counts = score_sets(
                name, predict, split_sets, split, scoring.match_policy, similarity
            )
            rows += split_rows
            counts.update(split_counts)
    predictions = write_table(
        rows_to_table(rows, "eval_predictions"), outputs.predictions, "eval_predictions"
    )
    metrics = metrics_table(pl.from_arrow(predictions), scoring)
    write_table(metrics.to_arrow(), outputs.metrics, "eval_metrics")
    summary = {"nuclei": nuclei, "split": options.split, "counts": dict(sorted(counts.items()))}
    with atomic_path(outputs.summary) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("%s: %d predictions, %s", STAGE, predictions.num_rows, dict(counts))
    return Scores(summary, metrics, predictions.num_rows)
