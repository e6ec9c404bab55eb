"""The decoy benchmark (``litshift verify-benchmark``, :mod:`litshift.cli.verify_benchmark`): can
``litshift verify`` pick the true structure out of a line-up of decoys?

Cases are test molecules with their measured peaks: the assigned test split (one case per
molecule and solvent; one peak per topological symmetry class, the mean of its labelled atoms,
as a spectrum lists them) and the held-out literature records (one case per record and solvent,
peaks as reported, integrations included). Each case gets decoys of the same molecular formula
(:mod:`litshift.verify.decoys`: positional isomers and formula-mates from the data); cases
with fewer than ``min_decoys`` usable decoys are skipped and counted. Every predictor (HOSE,
the trained runs, CSP5 when installed; set up and calibrated as ``litshift evaluate`` does it,
:func:`litshift.evaluate.predictor_setup.prepare_predictors`) predicts all candidates with its
calibrated uncertainty and :func:`litshift.verify.scoring.score_candidates` ranks them, per
nucleus and with both nuclei together (cases that measured both).

Outputs: ``verify_benchmark`` rows (one per model, case, nucleus set and candidate) and a
summary JSON with the top-k accuracy table (:func:`accuracy_table`) and every skip count.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from rdkit import Chem

from litshift.chem.conformers import ConformerError, Geometry, embed_geometry
from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key
from litshift.chem.nuclei import element_of
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.chem.symmetry import element_classes
from litshift.data.datasets import Structure
from litshift.data.io import atomic_path, rows_to_table, write_table
from litshift.evaluate.predictor_setup import HeldOutInputs, PredictorOptions, prepare_predictors
from litshift.evaluate.scoring import ASSIGNED_TEST, LITERATURE_TEST, MANUAL_BUDGET
from litshift.evaluate.testsets import AssignedItem, assigned_items
from litshift.verify.decoys import choose_decoys, formula_index
from litshift.verify.likelihood import ErrorModel
from litshift.verify.peaks import PeakList
from litshift.verify.scoring import COMBINED, ranks, score_candidates

__all__ = [
    "STAGE",
    "TOP_K",
    "Benchmark",
    "BenchmarkOptions",
    "Case",
    "Lineup",
    "accuracy_table",
    "assigned_cases",
    "benchmark",
    "benchmark_rows",
    "build_lineups",
    "literature_cases",
    "sample_cases",
]

logger = logging.getLogger(__name__)

STAGE = "verify_benchmark"
#: ranks reported as top-k accuracy
TOP_K = (1, 3)


@dataclass(frozen=True, slots=True)
class BenchmarkOptions:
    """Settings of :func:`benchmark`.

    The defaults are the command line's and the pipeline config's
    (tests/workflow/test_config_options.py holds the config schema to their flags).
    """

    predictors: PredictorOptions = field(default_factory=PredictorOptions)
    error_model: ErrorModel = field(default_factory=ErrorModel)
    match_policy: str = "litshift"
    """Count-mismatch policy pairing peaks with atom groups (the training one)."""
    max_cases: int | None = None
    """Usable cases per test split (seeded pick; None: all)."""
    n_decoys: int = 9
    """Most decoys per case."""
    min_decoys: int = 5
    """Cases keeping fewer usable decoys are skipped (and counted)."""
    n_positional: int = 4
    """Positional isomers taken first among the decoys of a case."""
    seed: int = 0
    """Seed of the case pick, the decoy order and the calibration subsample."""
    budget: str = MANUAL_BUDGET
    """Label stored with the numbers."""


@dataclass(slots=True)
class Benchmark:
    """What :func:`benchmark` wrote, for the caller to log."""

    summary: dict[str, Any]
    """The content of the summary JSON."""
    accuracy: pl.DataFrame
    """:func:`accuracy_table` of the rows."""


@dataclass(slots=True)
class Case:
    """A measured spectrum whose true structure is known."""

    case_id: str
    split: str
    smiles: str
    """True structure (canonical SMILES)."""
    solvent: str
    """Canonical fine solvent."""
    solvent_class: str
    peaks: dict[str, PeakList]


def assigned_cases(items: Sequence[AssignedItem], nuclei: Sequence[str]) -> list[Case]:
    """One case per assigned test item: per nucleus, one peak per symmetry class with a label
    (the mean of its labelled atoms); classes without a label give no peak."""
    cases = []
    for item in items:
        example = item.example
        mol_h = Chem.AddHs(Chem.MolFromSmiles(example.smiles))
        peaks = {}
        for k, nucleus in enumerate(nuclei):
            z = Chem.GetPeriodicTable().GetAtomicNumber(element_of(nucleus))
            shifts = [
                float(np.mean(example.targets[[a for a in group if example.mask[a, k]], k]))
                for group in element_classes(mol_h, z)
                if any(example.mask[a, k] for a in group)
            ]
            if shifts:
                peaks[nucleus] = PeakList(nucleus, tuple(shifts), (None,) * len(shifts))
        if peaks:
            cases.append(
                Case(
                    f"{example.key}/{item.solvent}",
                    ASSIGNED_TEST,
                    example.smiles,
                    item.solvent,
                    item.solvent_class,
                    peaks,
                )
            )
    return cases


def literature_cases(table: pa.Table, nuclei: Sequence[str]) -> list[Case]:
    """One case per held-out literature record and solvent (schema ``weak`` rows); a nucleus
    listed twice keeps its first list."""
    grouped: dict[tuple[str, str], Case] = {}
    for row in table.to_pylist():
        if row["nucleus"] not in nuclei or not row["shifts"]:
            continue
        unit = (row["record_id"], row["solvent"])
        case = grouped.setdefault(
            unit,
            Case(
                f"{unit[0]}/{unit[1]}",
                LITERATURE_TEST,
                row["smiles"],
                row["solvent"],
                row["solvent_class"],
                {},
            ),
        )
        n_h = row["n_h"] or [None] * len(row["shifts"])
        case.peaks.setdefault(
            row["nucleus"], PeakList(row["nucleus"], tuple(row["shifts"]), tuple(n_h))
        )
    return list(grouped.values())


def sample_cases(cases: Sequence[Case], seed: int) -> list[Case]:
    """``cases`` in a seeded order that does not depend on the input order."""
    return sorted(cases, key=lambda c: hashlib.sha256(f"{seed}:{c.case_id}".encode()).hexdigest())


def _structure(
    smiles: str,
    solvent_class: str,
    conformers: Mapping[str, tuple[np.ndarray, np.ndarray]],
    embed: Callable[[str], Geometry],
    max_atoms: int,
) -> Structure:
    """The candidate as the models see it: the pipeline's conformer when it has one, else
    embedded now; raises MoleculeError/ConformerError."""
    key = molecule_key(smiles)
    mol_h = Chem.AddHs(mol_from_smiles(smiles))
    if mol_h.GetNumAtoms() > max_atoms:
        raise MoleculeError(f"too many atoms: {mol_h.GetNumAtoms()} > {max_atoms}")
    if key in conformers:
        atomic_numbers, coords = conformers[key]
        coords = coords[0]
    else:
        geometry = embed(smiles)
        atomic_numbers, coords = geometry.atomic_numbers, geometry.coords
    return Structure(
        key=key,
        smiles=smiles,
        atomic_numbers=np.asarray(atomic_numbers, dtype=np.int64),
        coords=np.asarray(coords, dtype=np.float32).reshape(-1, 3),
        solvent_class=SOLVENT_CLASSES.index(solvent_class),
    )


@dataclass(slots=True)
class Lineup:
    """A case with its usable candidates; candidate 0 is the true structure."""

    case: Case
    candidates: list[str]
    kinds: list[str]
    structures: list[Structure]


def build_lineups(
    cases: Sequence[Case],
    formulas: Mapping[str, Sequence[str]],
    conformers: Mapping[str, tuple[np.ndarray, np.ndarray]],
    embed: Callable[[str], Geometry],
    max_atoms: int,
    n_decoys: int,
    n_positional: int,
    min_decoys: int,
    seed: int,
    counts: Counter[str],
    max_cases: int | None = None,
) -> list[Lineup]:
    """Decoys and structures per case, in order, until ``max_cases`` usable cases per split
    (None: all); skips (with a counted reason) cases whose true structure cannot be used or
    that keep fewer than ``min_decoys`` decoys."""
    lineups: list[Lineup] = []
    for case in cases:
        if max_cases is not None and counts[f"cases.{case.split}"] >= max_cases:
            continue
        try:
            decoys = choose_decoys(case.smiles, formulas, n_decoys, n_positional, seed)
        except MoleculeError:
            counts[f"skipped.{case.split}.invalid_smiles"] += 1
            continue
        candidates, kinds, structures = [], [], []
        for smiles, kind in [(case.smiles, "true"), *decoys]:
            try:
                structure = _structure(smiles, case.solvent_class, conformers, embed, max_atoms)
            except (MoleculeError, ConformerError) as err:
                counts[f"candidate_failed.{kind}.{str(err).partition(':')[0]}"] += 1
                if kind == "true":
                    break
                continue
            candidates.append(smiles)
            kinds.append(kind)
            structures.append(structure)
        if not kinds or kinds[0] != "true":
            counts[f"skipped.{case.split}.true_structure_failed"] += 1
        elif len(candidates) - 1 < min_decoys:
            counts[f"skipped.{case.split}.fewer_than_{min_decoys}_decoys"] += 1
        else:
            counts[f"cases.{case.split}"] += 1
            counts.update(f"decoys.{k}" for k in kinds[1:])
            lineups.append(Lineup(case, candidates, kinds, structures))
    return lineups


def benchmark_rows(
    model_name: str,
    lineups: Sequence[Lineup],
    distributions: Sequence[Any],
    nuclei: Sequence[str],
    error_model: ErrorModel,
    policy: str,
) -> list[dict[str, Any]]:
    """Rows of schema ``verify_benchmark`` for one predictor; ``distributions`` (mean/std
    ``N x K``) follow the lineups' candidates in order."""
    rows: list[dict[str, Any]] = []
    position = 0
    for lineup in lineups:
        n = len(lineup.candidates)
        chunk = distributions[position : position + n]
        position += n
        mol_hs = [Chem.AddHs(Chem.MolFromSmiles(s)) for s in lineup.candidates]
        peaks = {k: v for k, v in lineup.case.peaks.items() if k in nuclei}
        scores = score_candidates(
            mol_hs,
            [d.mean for d in chunk],
            [d.std for d in chunk],
            nuclei,
            peaks,
            error_model,
            policy,
        )
        keys = [(n_, n_) for n_ in peaks]
        if len(peaks) > 1:
            keys.append((COMBINED, "+".join(sorted(peaks, key=list(nuclei).index))))
        for key, label in keys:
            probabilities = [s.probability[key] for s in scores]
            for score, smiles, kind, rank in zip(
                scores, lineup.candidates, lineup.kinds, ranks(probabilities), strict=True
            ):
                assignment = score.assignments.get(key)
                rows.append(
                    {
                        "model": model_name,
                        "split": lineup.case.split,
                        "case_id": lineup.case.case_id,
                        "true_smiles": lineup.case.smiles,
                        "solvent": lineup.case.solvent,
                        "nuclei": label,
                        "candidate": smiles,
                        "kind": kind,
                        "n_candidates": n,
                        "log_likelihood": _or_none(score.log_likelihood[key]),
                        "probability": _or_none(score.probability[key]),
                        "rank": rank,
                        "branch": assignment.branch if assignment else None,
                    }
                )
    return rows


def _or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def accuracy_table(rows: pl.DataFrame, ks: Sequence[int] = TOP_K) -> pl.DataFrame:
    """Top-k accuracy of the true structure per model, split (and ``all`` splits) and nucleus
    set: columns ``model, split, nuclei, n_cases, mean_candidates, top<k>...``. A case whose
    true structure a model could not score counts as a miss."""
    true = rows.filter(pl.col("kind") == "true").with_columns(pl.col("rank").fill_null(10**6))
    pooled = true.with_columns(pl.lit("all").alias("split"))
    frame = pl.concat([true, pooled])
    return (
        frame.group_by("model", "split", "nuclei")
        .agg(
            pl.len().alias("n_cases"),
            pl.col("n_candidates").mean().alias("mean_candidates"),
            *((pl.col("rank") <= k).mean().alias(f"top{k}") for k in ks),
        )
        .sort("model", "split", "nuclei")
    )


def _pool_smiles(paths: Sequence[Path]) -> list[str]:
    """Every SMILES of the given tables (a ``smiles`` column each; nulls skipped)."""
    smiles: list[str] = []
    for path in paths:
        column = pl.read_parquet(path, columns=["smiles"])["smiles"]
        smiles += column.drop_nulls().to_list()
    return smiles


def benchmark(
    inputs: HeldOutInputs,
    pool: Sequence[Path],
    out: Path,
    out_summary: Path,
    options: BenchmarkOptions,
) -> Benchmark:
    """Rank every usable case's true structure among its decoys with every predictor.

    ``pool`` are tables with a ``smiles`` column whose molecules serve as formula-mate decoys;
    writes the ``verify_benchmark`` rows to ``out`` and the summary (accuracy table, settings,
    every count) to ``out_summary``.
    """
    started = time.perf_counter()
    nuclei = options.predictors.nuclei
    formulas = formula_index(_pool_smiles(pool))
    # cases need the test molecules' conformers (prepare_predictors loads those), decoys theirs
    mates = {s for members in formulas.values() if len(members) > 1 for s in members}
    setup = prepare_predictors(inputs, options.predictors, options.seed, mates)
    counts: Counter[str] = Counter({"pool.formulas": len(formulas)})
    counts.update(setup.counts)
    test_items = assigned_items(
        setup.assigned, setup.splits, setup.conformers, nuclei, setup.max_atoms, counts
    )
    cases = assigned_cases(test_items, nuclei) + literature_cases(setup.literature, nuclei)
    lineups = build_lineups(
        sample_cases(cases, options.seed),
        formulas,
        setup.conformers,
        embed_geometry,
        setup.max_atoms,
        options.n_decoys,
        options.n_positional,
        options.min_decoys,
        options.seed,
        counts,
        options.max_cases,
    )
    logger.info("%d cases with decoys (%s)", len(lineups), dict(counts))

    structures = [s for lineup in lineups for s in lineup.structures]
    solvents = [lineup.case.solvent for lineup in lineups for _ in lineup.structures]
    rows: list[dict[str, Any]] = []
    if not lineups:
        logger.warning("no case kept %d decoys: nothing to rank", options.min_decoys)
    for predictor in setup.predictors if lineups else ():
        tic = time.perf_counter()
        distributions = predictor.predict_distribution(structures, solvents)
        rows += benchmark_rows(
            predictor.name,
            lineups,
            distributions,
            nuclei,
            options.error_model,
            options.match_policy,
        )
        logger.info("%s: %.1f s", predictor.name, time.perf_counter() - tic)
    table = write_table(rows_to_table(rows, STAGE), out, STAGE)
    accuracy = accuracy_table(pl.from_arrow(table))
    summary = {
        "budget": options.budget,
        "models": [p.name for p in setup.predictors],
        "csp5": setup.csp5["version"] or setup.csp5["status"],
        "nuclei": list(nuclei),
        "error_model": dataclasses.asdict(options.error_model) | {"windows": None},
        "match_policy": options.match_policy,
        "settings": {
            "max_cases": options.max_cases,
            "n_decoys": options.n_decoys,
            "min_decoys": options.min_decoys,
            "n_positional": options.n_positional,
            "seed": options.seed,
        },
        "calibration": setup.calibration,
        "accuracy": accuracy.to_dicts(),
        "counts": dict(sorted(counts.items())),
        "wall_seconds": time.perf_counter() - started,
    }
    with atomic_path(out_summary) as tmp:
        tmp.write_text(json.dumps(summary, indent=2) + "\n")
    logger.info("%s: %d rows, %d cases", STAGE, table.num_rows, len(lineups))
    return Benchmark(summary, accuracy)
