"""The predictors ``litshift evaluate`` and the verify benchmark score, set up one way.

Both compare the trained runs, the HOSE baseline and (when installed and not switched off) the
CSP5 peer on held-out molecules, each with a calibrated uncertainty; doing the set-up in one
place is what makes their numbers comparable. :func:`prepare_predictors` reads the assigned
spectra, the split and the literature test set, loads the conformers of the molecules the
stage needs, fits HOSE on the assigned training split and calibrates the std.

Calibration: trained runs bring their own (``calibration.json`` next to ``model.pt``, fitted by
``litshift train`` on the validation split); HOSE, CSP5 and a run without the file are fitted
here on (a seeded subsample of) the assigned validation split, with the same code.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import torch

from litshift.chem.hose import DEFAULT_MAX_RADIUS, DEFAULT_MIN_COUNT, HoseModel
from litshift.chem.molecules import molecule_key
from litshift.data.conformer_shards import load_conformers
from litshift.data.datasets import Conformers
from litshift.data.io import read_table
from litshift.evaluate.testsets import (
    AssignedItem,
    calibration_items,
    hose_training_examples,
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

__all__ = [
    "HeldOutInputs",
    "PredictorOptions",
    "PredictorSetup",
    "calibrate",
    "csp5_status",
    "prepare_predictors",
]

#: the largest molecule scored when no trained model sets a limit
MAX_ATOMS_WITHOUT_MODEL = 512


@dataclass(frozen=True, slots=True)
class HeldOutInputs:
    """The files a stage that compares predictors reads."""

    assigned: Path
    """Curated ``assigned.parquet``."""
    splits: Path
    """``assigned_splits.parquet``."""
    literature_test: Path
    """``literature_test.parquet`` (schema ``weak``)."""
    conformers: Path
    """Directory of conformer shards."""
    models: tuple[tuple[str, tuple[Path, ...]], ...] = ()
    """One predictor each: its name and its checkpoints (``results/models/<run>/model.pt``;
    several are a deep ensemble)."""


@dataclass(frozen=True, slots=True)
class PredictorOptions:
    """How the predictors are built and calibrated.

    The defaults are the command line's and the pipeline config's
    (tests/workflow/test_config_options.py holds the config schema to their flags).
    """

    nuclei: tuple[str, ...] = ("1H", "13C")
    """Predicted (and scored) nuclei: the column order of every prediction."""
    hose_max_radius: int = DEFAULT_MAX_RADIUS
    hose_min_count: int = DEFAULT_MIN_COUNT
    calibration_molecules: int = 300
    """Validation molecules (seeded subsample; 0 = all) the std is calibrated on."""
    csp5: bool = True
    """Score CSP5 when it is installed."""
    batch_size: int = 64
    """Molecules per prediction batch."""
    device: str = "cpu"
    """Device of the trained models and CSP5 (``cpu | cuda | auto``)."""
    threads: int | None = None
    """CPU threads of torch (None: torch's choice)."""


@dataclass(slots=True)
class PredictorSetup:
    """The calibrated predictors and the inputs they were set up on."""

    assigned: pa.Table
    splits: pa.Table
    literature: pa.Table
    """The literature test set (schema ``weak``)."""
    conformers: Conformers
    """Of the test, validation and extra molecules of :func:`prepare_predictors`."""
    max_atoms: int
    """Largest molecule every predictor accepts."""
    predictors: list[Predictor]
    """HOSE, the trained runs in the order given, then CSP5 when scored."""
    csp5: dict[str, str | None]
    """:func:`csp5_status`."""
    calibration: dict[str, Any]
    """Each predictor's calibration factors (:func:`calibrate`)."""
    counts: Counter[str]
    """The validation items kept and skipped (``assigned_valid.*``) and
    ``calibration.molecules``."""


def csp5_status(enabled: bool) -> dict[str, str | None]:
    """CSP5's version (None: not scored), status and the sentence the report shows."""
    version = csp5_version()
    if not enabled:
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


def prepare_predictors(
    inputs: HeldOutInputs,
    options: PredictorOptions,
    seed: int,
    extra_smiles: Iterable[str] = (),
) -> PredictorSetup:
    """Load the runs, fit HOSE on the assigned training split, add CSP5 and calibrate them all.

    Parameters
    ----------
    inputs, options
        What to read, and how the predictors are built.
    seed
        Seed of the calibration subsample (``options.calibration_molecules``).
    extra_smiles
        Molecules whose conformers the caller needs besides the test, validation and
        literature test molecules (the verify benchmark's decoys).
    """
    if options.threads:
        torch.set_num_threads(options.threads)
    nuclei = options.nuclei
    device = resolve_device(options.device)
    models = [
        dataclasses.replace(
            load_model_predictor(list(paths), device, name),
            nuclei=nuclei,
            batch_size=options.batch_size,
        )
        for name, paths in inputs.models
    ]
    max_atoms = min((m.max_atoms for m in models), default=MAX_ATOMS_WITHOUT_MODEL)
    assigned = read_table(inputs.assigned, "assigned")
    splits = read_table(inputs.splits, "splits")
    literature = read_table(inputs.literature_test, "weak")
    needed = set(split_rows(assigned, splits, "test")["smiles"].to_pylist())
    needed |= set(split_rows(assigned, splits, "valid")["smiles"].to_pylist())
    needed |= set(literature["smiles"].to_pylist())
    needed |= set(extra_smiles)
    conformers = load_conformers(inputs.conformers, {molecule_key(s) for s in needed})

    counts: Counter[str] = Counter()
    valid = calibration_items(
        assigned,
        splits,
        conformers,
        nuclei,
        max_atoms,
        counts,
        options.calibration_molecules,
        seed,
    )
    hose = HoseModel(options.hose_max_radius, options.hose_min_count).fit(
        hose_training_examples(assigned, splits, nuclei)
    )
    predictors: list[Predictor] = [HosePredictor(hose, nuclei), *models]
    csp5 = csp5_status(options.csp5)
    if csp5["version"]:
        predictors.append(Csp5Predictor(nuclei, str(device), options.batch_size))
    calibration = calibrate(predictors, valid, nuclei)
    counts["calibration.molecules"] = len({i.structure.key for i in valid})
    return PredictorSetup(
        assigned, splits, literature, conformers, max_atoms, predictors, csp5, calibration, counts
    )
