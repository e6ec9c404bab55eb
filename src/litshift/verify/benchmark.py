"""Stage ``verify_benchmark``: can ``verify`` pick the true structure out of a line-up of decoys?

Cases are test molecules with their measured peaks: the assigned test split (one case per
molecule and solvent; one peak per topological symmetry class, the mean of its labelled atoms,
as a spectrum lists them) and the held-out literature records (one case per record and solvent,
peaks as reported, integrations included). Each case gets decoys of the same molecular formula
(:mod:`litshift.verify.decoys`: positional isomers and formula-mates from the data); cases
with fewer than ``min_decoys`` usable decoys are skipped and counted. Every predictor (the
trained runs, HOSE, CSP5 when installed) predicts all candidates with its calibrated
uncertainty and :func:`litshift.verify.scoring.score_candidates` ranks them, per nucleus and
with both nuclei together (cases that measured both).

Outputs: ``verify_benchmark`` rows (one per model, case, nucleus set and candidate) and a
summary JSON with the top-k accuracy table (:func:`accuracy_table`) and every skip count.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from rdkit import Chem

from litshift.chem.conformers import ConformerError, Geometry
from litshift.chem.matching import POLICIES
from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key
from litshift.chem.nuclei import element_of
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.chem.symmetry import element_classes
from litshift.data.datasets import Structure
from litshift.evaluate.testsets import AssignedItem
from litshift.usage import JSON, PARQUET, check_device, check_paths
from litshift.verify.decoys import choose_decoys
from litshift.verify.likelihood import ErrorModel, add_error_model_arguments, error_model_from_args
from litshift.verify.peaks import PeakList
from litshift.verify.scoring import COMBINED, score_candidates

__all__ = [
    "TOP_K",
    "Case",
    "accuracy_table",
    "assigned_cases",
    "benchmark_rows",
    "configure_parser",
    "literature_cases",
    "run",
    "sample_cases",
]

logger = logging.getLogger(__name__)

STAGE = "verify_benchmark"
#: ranks reported as top-k accuracy
TOP_K = (1, 3)
ASSIGNED_TEST = "assigned_test"
LITERATURE_TEST = "literature_test"


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


def _ranks(probabilities: Sequence[float]) -> list[int | None]:
    """Pessimistic 1-based rank of each candidate (ties count against it), None if NaN."""
    values = np.asarray(probabilities, dtype=np.float64)
    finite = values[np.isfinite(values)]
    return [int(np.sum(finite >= v)) if np.isfinite(v) else None for v in values]


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
                scores, lineup.candidates, lineup.kinds, _ranks(probabilities), strict=True
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


def _pool_smiles(paths: Sequence[str]) -> list[str]:
    """Every SMILES of the given tables (a ``smiles`` column each; nulls skipped)."""
    smiles: list[str] = []
    for path in paths:
        column = pl.read_parquet(path, columns=["smiles"])["smiles"]
        smiles += column.drop_nulls().to_list()
    return smiles


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument("--splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--literature-test", required=True, help="literature_test.parquet")
    parser.add_argument("--conformers", required=True, help="directory of conformer shards")
    parser.add_argument(
        "--pool",
        nargs="+",
        required=True,
        help="tables with a smiles column whose molecules are formula-mate decoys "
        "(molecules.parquet, curated tables)",
    )
    parser.add_argument("--models", nargs="*", default=[], help="results/models/<run>/model.pt")
    parser.add_argument("--out", required=True, help="verify_benchmark.parquet")
    parser.add_argument("--out-summary", required=True, help="summary JSON (accuracy table)")
    parser.add_argument("--nuclei", default="1H,13C", help="comma-separated nuclei")
    parser.add_argument(
        "--match-policy", choices=POLICIES, default="litshift", help="count-mismatch policy"
    )
    parser.add_argument(
        "--max-cases",
        type=int,
        default=None,
        help="usable cases per test split (seeded pick; default all)",
    )
    parser.add_argument("--n-decoys", type=int, default=9, help="most decoys per case")
    parser.add_argument("--min-decoys", type=int, default=5, help="fewer: the case is skipped")
    parser.add_argument(
        "--n-positional", type=int, default=4, help="positional isomers taken first per case"
    )
    add_error_model_arguments(parser)
    parser.add_argument("--seed", type=int, default=0, help="case pick and decoy order")
    parser.add_argument(
        "--calibration-molecules",
        type=int,
        default=300,
        help="validation molecules the std of HOSE/CSP5 (and uncalibrated runs) is fitted on",
    )
    parser.add_argument(
        "--hose-max-radius", type=int, default=4, help="largest HOSE sphere looked up"
    )
    parser.add_argument(
        "--hose-min-count", type=int, default=1, help="fewest training atoms a HOSE code needs"
    )
    parser.add_argument("--skip-csp5", action="store_true", help="never run CSP5")
    parser.add_argument("--batch-size", type=int, default=64, help="molecules per prediction batch")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | auto")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads")
    parser.add_argument("--budget", default="manual", help="budget label of the numbers")


def run(args: argparse.Namespace) -> int:
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--literature-test": args.literature_test,
            "--pool": args.pool,
            "--models": args.models,
        },
        input_dirs={"--conformers": args.conformers},
        outputs={"--out": (args.out, PARQUET), "--out-summary": (args.out_summary, JSON)},
    )
    check_device(args.device)

    import torch

    from litshift.chem.conformers import embed_geometry
    from litshift.chem.hose import HoseModel
    from litshift.cli.tracking import stage_run
    from litshift.data.conformer_shards import load_conformers
    from litshift.data.io import atomic_path, read_table, rows_to_table, write_table
    from litshift.evaluate.evaluate_stage import calibrate
    from litshift.evaluate.testsets import (
        assigned_items,
        calibration_items,
        hose_training_examples,
        split_rows,
    )
    from litshift.inference.predictors import (
        Csp5Predictor,
        HosePredictor,
        Predictor,
        csp5_version,
        load_model_predictor,
    )
    from litshift.inference.runtime import resolve_device
    from litshift.verify.decoys import formula_index

    started = time.perf_counter()
    if args.threads:
        torch.set_num_threads(args.threads)
    nuclei = tuple(args.nuclei.split(","))
    error_model = error_model_from_args(args)
    params = {k: v for k, v in vars(args).items() if k not in {"verbose", "models", "pool"}}
    params["models"] = [Path(p).parent.name for p in args.models]
    with stage_run(STAGE, params) as tracker:
        counts: Counter[str] = Counter()
        device = resolve_device(args.device)
        models = [
            dataclasses.replace(
                load_model_predictor([Path(p)], device), nuclei=nuclei, batch_size=args.batch_size
            )
            for p in args.models
        ]
        max_atoms = min((m.max_atoms for m in models), default=512)
        assigned = read_table(args.assigned, "assigned")
        splits = read_table(args.splits, "splits")
        literature = read_table(args.literature_test, "weak")
        formulas = formula_index(_pool_smiles(args.pool))
        counts["pool.formulas"] = len(formulas)

        # cases need the test molecules' conformers; calibration the validation ones
        needed = set(split_rows(assigned, splits, "test")["smiles"].to_pylist())
        needed |= set(split_rows(assigned, splits, "valid")["smiles"].to_pylist())
        needed |= set(literature["smiles"].to_pylist())
        needed |= {s for members in formulas.values() if len(members) > 1 for s in members}
        conformers = load_conformers(args.conformers, {molecule_key(s) for s in needed})
        test_items = assigned_items(assigned, splits, conformers, nuclei, max_atoms, counts)
        cases = assigned_cases(test_items, nuclei) + literature_cases(literature, nuclei)
        lineups = build_lineups(
            sample_cases(cases, args.seed),
            formulas,
            conformers,
            embed_geometry,
            max_atoms,
            args.n_decoys,
            args.n_positional,
            args.min_decoys,
            args.seed,
            counts,
            args.max_cases,
        )
        logger.info("%d cases with decoys (%s)", len(lineups), dict(counts))

        hose = HoseModel(args.hose_max_radius, args.hose_min_count).fit(
            hose_training_examples(assigned, splits, nuclei)
        )
        predictors: list[Predictor] = [*models, HosePredictor(hose, nuclei)]
        csp5 = None if args.skip_csp5 else csp5_version()
        if csp5 is not None:
            predictors.append(Csp5Predictor(nuclei, str(device), args.batch_size))
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
        calibration = calibrate(predictors, valid, nuclei)

        structures = [s for lineup in lineups for s in lineup.structures]
        solvents = [lineup.case.solvent for lineup in lineups for _ in lineup.structures]
        rows: list[dict[str, Any]] = []
        if not lineups:
            logger.warning("no case kept %d decoys: nothing to rank", args.min_decoys)
        for predictor in predictors if lineups else ():
            tic = time.perf_counter()
            distributions = predictor.predict_distribution(structures, solvents)
            rows += benchmark_rows(
                predictor.name, lineups, distributions, nuclei, error_model, args.match_policy
            )
            logger.info("%s: %.1f s", predictor.name, time.perf_counter() - tic)
        table = write_table(rows_to_table(rows, STAGE), args.out, STAGE)
        accuracy = accuracy_table(pl.from_arrow(table))
        summary = {
            "budget": args.budget,
            "models": [p.name for p in predictors],
            "csp5": csp5 or ("switched off" if args.skip_csp5 else "not installed"),
            "nuclei": list(nuclei),
            "error_model": dataclasses.asdict(error_model) | {"windows": None},
            "match_policy": args.match_policy,
            "settings": {
                "max_cases": args.max_cases,
                "n_decoys": args.n_decoys,
                "min_decoys": args.min_decoys,
                "n_positional": args.n_positional,
                "seed": args.seed,
            },
            "calibration": calibration,
            "accuracy": accuracy.to_dicts(),
            "counts": dict(sorted(counts.items())),
            "wall_seconds": time.perf_counter() - started,
        }
        with atomic_path(args.out_summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
        tracker.log_metrics(
            {
                # MLflow names allow no "+": 1H+13C -> 1H_13C
                f"{r['split']}.{r['model']}.{r['nuclei'].replace('+', '_')}.top{k}": r[f"top{k}"]
                for r in accuracy.to_dicts()
                for k in TOP_K
            }
            | {"wall_seconds": summary["wall_seconds"]}
        )
        tracker.log_dict(summary, "summary.json")
    logger.info("verify_benchmark: %d rows, %d cases", table.num_rows, len(lineups))
    return 0
