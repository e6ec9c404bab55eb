"""Every trained model, the HOSE baseline and (when installed) CSP5, scored on the same
held-out data with the same code: the work of ``litshift evaluate``
(:mod:`litshift.cli.evaluate`).

:func:`evaluate` sets the predictors up
(:func:`litshift.evaluate.predictor_setup.prepare_predictors`: HOSE fitted on the assigned
training split, every std calibrated), builds the test sets (:mod:`litshift.evaluate.testsets`)
and writes

- ``predictions.parquet`` (schema ``eval_predictions``): every scored prediction;
- ``metrics.parquet`` (schema ``eval_metrics``): errors with bootstrap intervals per model,
  split, level, nucleus and breakdown group (:mod:`litshift.evaluate.scoring`);
- ``uncertainty.parquet`` (schema ``eval_uncertainty``): coverage of the calibrated
  intervals, NLL and Spearman(|error|, std) per model and nucleus;
- ``summary.json``: test-set counts with every skip reason, the peers' status (CSP5 installed
  or not), every predictor's calibration factors and the settings, for the report.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from rdkit import Chem

from litshift.chem.molecules import MoleculeError, mol_from_smiles
from litshift.data.io import atomic_path, read_table, rows_to_table, write_table
from litshift.evaluate.metrics import atom_environment, fingerprints, max_similarity
from litshift.evaluate.predictor_setup import HeldOutInputs, PredictorOptions, prepare_predictors
from litshift.evaluate.scoring import (
    MoleculeContext,
    Scores,
    ScoringOptions,
    metrics_table,
    prediction_rows,
    uncertainty_table,
)
from litshift.evaluate.testsets import TestSets, load_test_sets, split_rows
from litshift.inference.predictors import Csp5Predictor, Predictor

__all__ = [
    "STAGE",
    "EvaluationOptions",
    "EvaluationOutputs",
    "evaluate",
    "molecule_context",
    "predict_tests",
]

logger = logging.getLogger(__name__)

STAGE = "evaluate"


@dataclass(frozen=True, slots=True)
class EvaluationOptions:
    """Settings of :func:`evaluate`."""

    predictors: PredictorOptions = field(default_factory=PredictorOptions)
    scoring: ScoringOptions = field(default_factory=ScoringOptions)
    """Its ``seed`` also draws the calibration subsample."""


@dataclass(frozen=True, slots=True)
class EvaluationOutputs:
    """The files :func:`evaluate` writes."""

    predictions: Path
    metrics: Path
    uncertainty: Path
    summary: Path


def _reference_mols(smiles: Sequence[str], counts: Counter[str]) -> list[Chem.Mol]:
    mols = []
    for s in smiles:
        try:
            mols.append(mol_from_smiles(s))
        except MoleculeError as err:
            counts[f"similarity.reference_skipped.{err}"] += 1
    return mols


def molecule_context(
    tests: TestSets,
    training_smiles: Sequence[str],
    radius: int,
    n_bits: int,
    counts: Counter[str],
) -> MoleculeContext:
    """Atom environments of the test molecules and their max Tanimoto similarity to the
    training molecules (Morgan fingerprints of ``radius`` and ``n_bits``)."""
    # test molecules were parsed by the test-set builders; a training SMILES may not parse
    test_mols = {
        smiles: mol_from_smiles(smiles)
        for smiles in sorted({i.structure.smiles for i in [*tests.assigned, *tests.literature]})
    }
    environments = {}
    for smiles, mol in test_mols.items():
        mol_h = Chem.AddHs(mol)
        environments[smiles] = [atom_environment(mol_h, a) for a in range(mol_h.GetNumAtoms())]
    references = fingerprints(_reference_mols(sorted(set(training_smiles)), counts), radius, n_bits)
    counts["similarity.reference_molecules"] = len(references)
    values = max_similarity(fingerprints(test_mols.values(), radius, n_bits), references)
    return MoleculeContext(environments, dict(zip(test_mols, values.tolist(), strict=True)))


def predict_tests(
    predictors: Sequence[Predictor], tests: TestSets, context: MoleculeContext
) -> tuple[list[dict], Counter[str]]:
    """Rows of schema ``eval_predictions`` of every predictor, and unscored counts per model."""
    rows: list[dict] = []
    counts: Counter[str] = Counter()
    assigned = [i.structure for i in tests.assigned]
    literature = [i.structure for i in tests.literature]
    for predictor in predictors:
        started = time.perf_counter()
        model_rows, missing = prediction_rows(
            predictor.name,
            tests,
            predictor.predict_distribution(assigned, [i.solvent for i in tests.assigned]),
            predictor.predict_distribution(literature, [i.solvent for i in tests.literature]),
            context,
        )
        rows += model_rows
        counts.update({f"unscored.{predictor.name}.{k}": v for k, v in missing.items()})
        logger.info(
            "%s: %d predictions scored, unscored %s (%.1f s)",
            predictor.name,
            len(model_rows),
            dict(missing),
            time.perf_counter() - started,
        )
    return rows, counts


def evaluate(
    inputs: HeldOutInputs, weak: Path, outputs: EvaluationOutputs, options: EvaluationOptions
) -> Scores:
    """Score every predictor on both test sets and write the four outputs.

    ``weak`` is ``weak_train.parquet``: with the assigned training split, the training
    molecules the test-to-training similarity is measured against.
    """
    started = time.perf_counter()
    scoring = options.scoring
    setup = prepare_predictors(inputs, options.predictors, scoring.seed)
    nuclei = options.predictors.nuclei
    tests, counts = load_test_sets(
        setup.assigned,
        setup.splits,
        setup.literature,
        setup.conformers,
        nuclei,
        setup.max_atoms,
        scoring.match_policy,
    )
    counts.update(setup.counts)
    logger.info(
        "%d assigned test items, %d literature test peak lists",
        len(tests.assigned),
        len(tests.literature),
    )
    training_smiles = split_rows(setup.assigned, setup.splits, "train")["smiles"].to_pylist()
    training_smiles += read_table(weak, "weak")["smiles"].to_pylist()
    context = molecule_context(
        tests, training_smiles, scoring.fingerprint_radius, scoring.fingerprint_bits, counts
    )
    rows, unscored = predict_tests(setup.predictors, tests, context)
    counts.update(unscored)
    for predictor in setup.predictors:
        if isinstance(predictor, Csp5Predictor):
            counts.update({f"csp5_failures.{k}": v for k, v in predictor.failures.items()})
    predictions = write_table(
        rows_to_table(rows, "eval_predictions"), outputs.predictions, "eval_predictions"
    )
    metrics = metrics_table(pl.from_arrow(predictions), scoring)
    write_table(metrics.to_arrow(), outputs.metrics, "eval_metrics")
    uncertainty = uncertainty_table(pl.from_arrow(predictions), scoring.budget)
    write_table(uncertainty.to_arrow(), outputs.uncertainty, "eval_uncertainty")
    summary: dict[str, Any] = {
        "budget": scoring.budget,
        "models": [p.name for p in setup.predictors],
        "nuclei": list(nuclei),
        "match_policy": scoring.match_policy,
        "hose": {
            "max_radius": options.predictors.hose_max_radius,
            "min_count": options.predictors.hose_min_count,
        },
        "similarity": {
            "fingerprint": f"Morgan r={scoring.fingerprint_radius}, "
            f"{scoring.fingerprint_bits} bits",
            "bins": list(scoring.similarity_bins),
            "reference": "assigned training split + weak training set",
        },
        "csp5": setup.csp5,
        "calibration": setup.calibration,
        "counts": dict(sorted(counts.items())),
        "wall_seconds": time.perf_counter() - started,
    }
    with atomic_path(outputs.summary) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    return Scores(summary, metrics, predictions.num_rows)
