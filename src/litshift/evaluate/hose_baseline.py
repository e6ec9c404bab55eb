"""Stage ``hose_baseline``: the HOSE lookup per heteronucleus, scored on held-out shift sets.

31P and 19F have (almost) no atom-assigned spectra, so their held-out data are molecule-level
sets: those of the molecules that ``litshift split --heteronuclei`` put into the test split
(split ``weak_test``), and the literature test lists (split ``literature_test``). Per nucleus,
:class:`~litshift.chem.hose.HoseModel` is fitted on the training labels of that nucleus:
the assigned training spectra plus the weak training sets whose peaks map onto atoms
unambiguously (:mod:`litshift.data.atom_labels`). Every held-out set is then scored as the
evaluate stage scores the literature test set: :func:`litshift.chem.matching.plan_match`
(training policy) groups the atoms, the group-pooled predictions are sorted against the
observed shifts and each molecule weighs 1 (:func:`litshift.evaluate.scoring.metrics_table`).

Trained runs with a head for these nuclei (``--models``, config.hetero.yaml's ``hetero``) are
scored on the same sets the same way, beside HOSE: their predictions for every held-out molecule
(``--conformers``) go through the same matching and bootstrap. Without ``--models`` HOSE needs no
conformers, so the baseline runs before (and without) any training. It writes
``predictions.parquet`` (schema ``eval_predictions``; ``std`` is NaN: nothing is calibrated
here), ``metrics.parquet`` (schema ``eval_metrics``) and ``summary.json`` (every count).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl
from rdkit import Chem

from litshift.chem.hose import HoseModel
from litshift.chem.matching import POLICIES, MatchSkip, plan_match
from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.cli.tracking import stage_run
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
from litshift.evaluate.scoring import LITERATURE_TEST, WEAK_TEST, metrics_table, pair_rows
from litshift.evaluate.testsets import hose_training_examples
from litshift.inference.predictors import ModelPredictor, load_model_predictor
from litshift.inference.runtime import resolve_device
from litshift.usage import JSON, PARQUET, UsageError, check_paths

__all__ = [
    "AtomPredictor",
    "fit_hose",
    "hose_atoms",
    "model_atoms",
    "score_sets",
    "similarity_to_training",
    "configure_parser",
    "run",
]

logger = logging.getLogger(__name__)

STAGE = "hose_baseline"

Example = tuple[str, str, list[tuple[int, float]]]

#: ``(set, explicit-H molecule, atoms to predict)`` -> per-atom ppm (NaN elsewhere), or why the
#: set cannot be predicted
AtomPredictor = Callable[[dict, Chem.Mol, Sequence[int]], np.ndarray | str]


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


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument("--splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--weak", required=True, help="weak_train.parquet")
    parser.add_argument("--unassigned", required=True, help="curated unassigned.parquet")
    parser.add_argument("--literature", default=None, help="curated literature.parquet")
    parser.add_argument(
        "--literature-test-sources",
        default="",
        help="comma-separated literature sources held out as the literature test set",
    )
    parser.add_argument("--literature-test", required=True, help="literature_test.parquet")
    parser.add_argument("--nuclei", required=True, help="comma-separated nuclei, e.g. 31P,19F")
    parser.add_argument("--split", default="test", help="held-out split scored (default: test)")
    parser.add_argument(
        "--match-policy",
        choices=POLICIES,
        default="litshift",
        help="count-mismatch policy of the sorted matching (the training one)",
    )
    parser.add_argument("--hose-max-radius", type=int, default=4, help="largest HOSE sphere")
    parser.add_argument(
        "--hose-min-count", type=int, default=1, help="fewest training atoms a code needs"
    )
    parser.add_argument("--fingerprint-radius", type=int, default=2, help="Morgan radius")
    parser.add_argument("--fingerprint-bits", type=int, default=2048, help="Morgan bits")
    parser.add_argument("--similarity-bins", default="0.5,0.7", help="max-Tanimoto bin edges")
    parser.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--budget", default="manual", help="config label shown with the numbers")
    parser.add_argument(
        "--models",
        nargs="*",
        default=[],
        help="model.pt of trained runs with heads for --nuclei, scored beside HOSE",
    )
    parser.add_argument("--conformers", default=None, help="conformer shards (with --models)")
    parser.add_argument("--device", default="cpu", help="device of the models")
    parser.add_argument("--batch-size", type=int, default=64, help="molecules per model batch")
    parser.add_argument("--out-predictions", required=True, help="predictions.parquet to write")
    parser.add_argument("--out-metrics", required=True, help="metrics.parquet to write")
    parser.add_argument("--out-summary", required=True, help="summary.json to write")


def run(args: argparse.Namespace) -> int:
    if args.models and args.conformers is None:
        raise UsageError("--models needs --conformers")
    check_paths(
        inputs={
            "--assigned": args.assigned,
            "--splits": args.splits,
            "--weak": args.weak,
            "--unassigned": args.unassigned,
            "--literature": args.literature,
            "--literature-test": args.literature_test,
            "--models": args.models,
        },
        input_dirs={"--conformers": args.conformers},
        outputs={
            "--out-predictions": (args.out_predictions, PARQUET),
            "--out-metrics": (args.out_metrics, PARQUET),
            "--out-summary": (args.out_summary, JSON),
        },
    )
    nuclei = [n for n in args.nuclei.split(",") if n]
    edges = [float(e) for e in args.similarity_bins.split(",")]
    params = {k: v for k, v in vars(args).items() if k not in {"verbose", "models"}}
    params["models"] = [Path(p).parent.name for p in args.models]
    with stage_run(STAGE, params) as tracker:
        assigned = read_table(args.assigned, "assigned")
        splits = read_table(args.splits, "splits")
        train = pl.from_arrow(read_table(args.weak, "weak")).filter(pl.col("nucleus").is_in(nuclei))
        hose, examples, counts = fit_hose(
            hose_training_examples(assigned, splits, nuclei),
            train.to_dicts(),
            nuclei,
            args.hose_max_radius,
            args.hose_min_count,
        )
        weak, _ = weak_sources(
            read_table(args.unassigned, "unassigned"),
            read_table(args.literature, "literature") if args.literature else None,
            {s for s in args.literature_test_sources.split(",") if s},
        )
        held_out = pl.from_arrow(splits).filter(pl.col("split") == args.split)
        sets = {
            WEAK_TEST: weak.filter(
                pl.col("nucleus").is_in(nuclei),
                pl.col("connectivity_key").is_in(held_out["connectivity_key"].implode()),
            ).to_dicts(),
            LITERATURE_TEST: pl.from_arrow(read_table(args.literature_test, "weak"))
            .filter(pl.col("nucleus").is_in(nuclei))
            .to_dicts(),
        }
        queries = [(s["nucleus"], s["smiles"]) for rows in sets.values() for s in rows]
        similarity = similarity_to_training(
            examples, queries, args.fingerprint_radius, args.fingerprint_bits
        )
        all_sets = [s for rows in sets.values() for s in rows]
        predictors = {"HOSE": hose_atoms(hose)}
        if args.models:
            conformers = load_conformers(
                args.conformers, {molecule_key(s["smiles"]) for s in all_sets}
            )
            for path in args.models:
                model = load_model_predictor([Path(path)], resolve_device(args.device))
                model = dataclasses.replace(model, nuclei=tuple(nuclei), batch_size=args.batch_size)
                predictors[model.name] = model_atoms(model, all_sets, conformers)
        rows: list[dict] = []
        for name, predict in predictors.items():
            for split, split_sets in sets.items():
                split_rows, split_counts = score_sets(
                    name, predict, split_sets, split, args.match_policy, similarity
                )
                rows += split_rows
                counts.update(split_counts)
        predictions = write_table(
            rows_to_table(rows, "eval_predictions"), args.out_predictions, "eval_predictions"
        )
        metrics = metrics_table(
            pl.from_arrow(predictions), edges, args.n_bootstrap, args.seed, args.budget
        )
        write_table(metrics.to_arrow(), args.out_metrics, "eval_metrics")
        summary = {"nuclei": nuclei, "split": args.split, "counts": dict(sorted(counts.items()))}
        with atomic_path(args.out_summary) as tmp:
            tmp.write_text(json.dumps(summary, indent=2) + "\n")
        headline = metrics.filter(pl.col("breakdown") == "all")
        tracker.log_metrics(
            {
                f"{r['model']}.{r['split']}.mae.{r['nucleus']}": r["mae"]
                for r in headline.iter_rows(named=True)
            }
        )
        tracker.log_dict(summary, "summary.json")
    logger.info("%s: %d predictions, %s", STAGE, predictions.num_rows, dict(counts))
    return 0
