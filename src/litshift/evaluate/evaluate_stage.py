"""Stage ``evaluate``: every trained model, the HOSE baseline and (when installed) CSP5, scored
on the same held-out data with the same code.

Reads the curated assigned spectra, the split, the literature test set, the conformers and the
trained checkpoints; fits the HOSE lookup on the assigned training split; writes

- ``predictions.parquet`` (schema ``eval_predictions``): every scored prediction;
- ``metrics.parquet`` (schema ``eval_metrics``): errors with bootstrap intervals per model,
  split, level, nucleus and breakdown group (:mod:`litshift.evaluate.scoring`);
- ``uncertainty.parquet`` (schema ``eval_uncertainty``): coverage of the calibrated
  intervals, NLL and Spearman(|error|, std) per model and nucleus;
- ``summary.json``: test-set counts with every skip reason, the peers' status (CSP5 installed
  or not), every predictor's calibration factors and the settings, for the report.

Calibration: trained runs bring their own (``calibration.json`` next to ``model.pt``, fitted by
``litshift train`` on the validation split); HOSE, CSP5 and a run without the file are fitted
here on (a seeded subsample of) the assigned validation split, with the same code.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import torch
from rdkit import Chem

from litshift.chem.hose import HoseModel
from litshift.chem.matching import POLICIES
from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key
from litshift.cli.tracking import stage_run
from litshift.data.conformer_shards import load_conformers
from litshift.data.io import atomic_path, read_table, rows_to_table, write_table
from litshift.evaluate.metrics import atom_environment, fingerprints, max_similarity
from litshift.evaluate.scoring import (
    MoleculeContext,
    metrics_table,
    prediction_rows,
    uncertainty_table,
)
from litshift.evaluate.testsets import (
    AssignedItem,
    TestSets,
    calibration_items,
    hose_training_examples,
    load_test_sets,
    split_rows,
)
from litshift.inference.predictors import (
    Csp5Predictor,
    HosePredictor,
    ModelPredictor,
    Predictor,
    csp5_version,
    fit_calibration_on,
    load_model_predictor,
)
from litshift.inference.runtime import resolve_device
from litshift.usage import JSON, PARQUET, check_device, check_paths

__all__ = ["calibrate", "configure_parser", "molecule_context", "predict_tests", "run"]

logger = logging.getLogger(__name__)

STAGE = "evaluate"


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


def calibrate(
    predictors: Sequence[Predictor], valid: Sequence[AssignedItem], nuclei: Sequence[str]
) -> dict[str, Any]:
    """Fit the std factors of every predictor that has none on the validation items; return
    each predictor's factors (``to_json``; a model: one per ensemble member) for the summary."""
    structures = [i.structure for i in valid]
    solvents = [i.solvent for i in valid]
    examples = [i.example for i in valid]
    factors: dict[str, Any] = {}
    for predictor in predictors:
        if isinstance(predictor, ModelPredictor):
            if None in predictor.calibrations and len(predictor.models) == 1:
                raw = predictor.raw_distribution(structures, solvents)
                predictor.calibrations = (fit_calibration_on(raw, examples, nuclei),)
            factors[predictor.name] = [c.to_json() if c else None for c in predictor.calibrations]
        else:
            raw = predictor.raw_distribution(structures, solvents)
            predictor.calibration = fit_calibration_on(raw, examples, nuclei)
            factors[predictor.name] = [predictor.calibration.to_json()]
    return factors


def _headline(metrics: pl.DataFrame) -> dict[str, float]:
    """``<split>.<level>.<model>.mae.<nucleus>`` of the ``all`` rows, for MLflow."""
    rows = metrics.filter(pl.col("breakdown") == "all")
    return {
        f"{r['split']}.{r['level']}.{r['model']}.mae.{r['nucleus']}": r["mae"]
        for r in rows.iter_rows(named=True)
    }


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument("--splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--literature-test", required=True, help="literature_test.parquet")
    parser.add_argument(
        "--weak", required=True, help="weak_train.parquet (training molecules for similarity)"
    )
    parser.add_argument("--conformers", required=True, help="directory of conformer shards")
    parser.add_argument(
        "--models", nargs="*", default=[], help="checkpoints results/models/<run>/model.pt"
    )
    parser.add_argument("--out-predictions", required=True, help="predictions.parquet")
    parser.add_argument("--out-metrics", required=True, help="metrics.parquet")
    parser.add_argument("--out-uncertainty", required=True, help="uncertainty.parquet")
    parser.add_argument("--out-summary", required=True, help="summary.json")
    parser.add_argument("--nuclei", default="1H,13C", help="comma-separated evaluated nuclei")
    parser.add_argument(
        "--match-policy",
        choices=POLICIES,
        default="litshift",
        help="count-mismatch policy of the molecule-level score (the training one)",
    )
    parser.add_argument(
        "--hose-max-radius", type=int, default=4, help="largest HOSE sphere radius (default: 4)"
    )
    parser.add_argument(
        "--hose-min-count",
        type=int,
        default=1,
        help="training atoms a HOSE code needs, else the next smaller sphere is used (default: 1)",
    )
    parser.add_argument(
        "--calibration-molecules",
        type=int,
        default=300,
        help="validation molecules (seeded subsample) the std of HOSE/CSP5 is calibrated on "
        "(0 = all)",
    )
    parser.add_argument(
        "--n-bootstrap",
        type=int,
        default=1000,
        help="bootstrap resamples per interval (default: 1000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument(
        "--fingerprint-radius",
        type=int,
        default=2,
        help="Morgan radius of the test-to-training similarity (default: 2)",
    )
    parser.add_argument(
        "--fingerprint-bits", type=int, default=2048, help="Morgan fingerprint bits (default: 2048)"
    )
    parser.add_argument(
        "--similarity-bins", default="0.5,0.7", help="Tanimoto bin edges (comma-separated)"
    )
    parser.add_argument(
        "--skip-csp5", action="store_true", help="do not evaluate CSP5 even when installed"
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="molecules per forward pass (default: 64)"
    )
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--budget", default="manual", help="budget label stored with the metrics")


def _csp5_status(skip: bool) -> dict[str, str | None]:
    """Version (None: not evaluated), status and the sentence the report shows."""
    version = csp5_version()
    if skip:
        return {
            "version": None,
            "status": "switched off",
            "note": "CSP5 was switched off (evaluate.csp5: false).",
        }
    if version is None:
        return {
            "version": None,
            "status": "not installed",
            "note": "CSP5 is not installed (pip install 'litshift[peer]' to include it); "
            "it was skipped.",
        }
    return {
        "version": version,
        "status": "evaluated",
        "note": f"CSP5 {version} evaluated on litshift's conformers.",
    }


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--literature-test": args.literature_test,
            "--weak": args.weak,
            "--models": args.models,
        },
        input_dirs={"--conformers": args.conformers},
        outputs={
            "--out-predictions": (args.out_predictions, PARQUET),
            "--out-metrics": (args.out_metrics, PARQUET),
            "--out-uncertainty": (args.out_uncertainty, PARQUET),
            "--out-summary": (args.out_summary, JSON),
        },
    )
    check_device(args.device)
    started = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    nuclei = tuple(args.nuclei.split(","))
    edges = [float(e) for e in args.similarity_bins.split(",")]
    params = {k: v for k, v in vars(args).items() if k not in {"verbose", "models"}}
    params["models"] = [Path(p).parent.name for p in args.models]
    with stage_run(STAGE, params) as tracker:
        device = resolve_device(args.device)
        models = [
            dataclasses.replace(
                load_model_predictor([Path(path)], device),
                nuclei=nuclei,
                batch_size=args.batch_size,
            )
            for path in args.models
        ]
        max_atoms = min((m.max_atoms for m in models), default=512)
        assigned = read_table(args.assigned, "assigned")
        splits = read_table(args.splits, "splits")
        literature = read_table(args.literature_test, "weak")
        smiles = set(split_rows(assigned, splits, "test")["smiles"].to_pylist())
        smiles |= set(split_rows(assigned, splits, "valid")["smiles"].to_pylist())
        smiles |= set(literature["smiles"].to_pylist())
        conformers = load_conformers(args.conformers, {molecule_key(s) for s in smiles})
        tests, counts = load_test_sets(
            assigned, splits, literature, conformers, nuclei, max_atoms, args.match_policy
        )
        valid = calibration_items(
            assigned,
            splits,
            conformers,
            nuclei,
            max_atoms,
            counts,
            args.calibration_molecules,
            args.seed,
        )
        logger.info(
            "%d assigned test items, %d literature test peak lists",
            len(tests.assigned),
            len(tests.literature),
        )
        hose = HoseModel(args.hose_max_radius, args.hose_min_count).fit(
            hose_training_examples(assigned, splits, nuclei)
        )
        training_smiles = split_rows(assigned, splits, "train")["smiles"].to_pylist()
        training_smiles += read_table(args.weak, "weak")["smiles"].to_pylist()
        context = molecule_context(
            tests, training_smiles, args.fingerprint_radius, args.fingerprint_bits, counts
        )

        predictors: list[Predictor] = [HosePredictor(hose, nuclei), *models]
        peer = _csp5_status(args.skip_csp5)
        csp5 = Csp5Predictor(nuclei, str(device), args.batch_size) if peer["version"] else None
        if csp5 is not None:
            predictors.append(csp5)
        calibration = calibrate(predictors, valid, nuclei)
        counts["calibration.molecules"] = len({i.structure.key for i in valid})
        rows, unscored = predict_tests(predictors, tests, context)
        counts.update(unscored)
        if csp5 is not None:
            counts.update({f"csp5_failures.{k}": v for k, v in csp5.failures.items()})
        predictions = write_table(
            rows_to_table(rows, "eval_predictions"), args.out_predictions, "eval_predictions"
        )
        metrics = metrics_table(
            pl.from_arrow(predictions), edges, args.n_bootstrap, args.seed, args.budget
        )
        write_table(metrics.to_arrow(), args.out_metrics, "eval_metrics")
        uncertainty = uncertainty_table(pl.from_arrow(predictions), args.budget)
        write_table(uncertainty.to_arrow(), args.out_uncertainty, "eval_uncertainty")
        summary: dict[str, Any] = {
            "budget": args.budget,
            "models": [p.name for p in predictors],
            "nuclei": list(nuclei),
            "match_policy": args.match_policy,
            "hose": {"max_radius": args.hose_max_radius, "min_count": args.hose_min_count},
            "similarity": {
                "fingerprint": f"Morgan r={args.fingerprint_radius}, {args.fingerprint_bits} bits",
                "bins": edges,
                "reference": "assigned training split + weak training set",
            },
            "csp5": peer,
            "calibration": calibration,
            "counts": dict(sorted(counts.items())),
            "wall_seconds": time.perf_counter() - started,
        }
        with atomic_path(args.out_summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
        tracker.log_metrics(_headline(metrics) | {"wall_seconds": summary["wall_seconds"]})
        tracker.log_dict(summary, "summary.json")
    logger.info("evaluate: %d predictions, %d metric rows", predictions.num_rows, metrics.height)
    return 0
