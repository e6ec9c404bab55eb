"""``litshift predict``: 1H/13C shifts for user SMILES with a trained model.

Atom indices in the output refer to ``Chem.AddHs(Chem.MolFromSmiles(smiles))`` of the SMILES
*as the user gave it*. Internally the model works in litshift's canonical order (see
:mod:`litshift.chem.molecules`), so every atom is mapped back: heavy atoms through the
canonicalization map, hydrogens through their heavy atom (the i-th H of a heavy atom in the
user's order gets the i-th H of the same heavy atom in litshift's order; hydrogens on one atom
are topologically equivalent, so nothing depends on which is which).

The 3D conformer is embedded on the fly with the conformer stage's settings.

Each shift comes with its calibrated predictive standard deviation (``shift_std_ppm``: the
model's uncertainty head scaled by the run's ``calibration.json``, see
:mod:`litshift.evaluate.uncertainty`) and the central 95 % interval. Several ``--model``
checkpoints form a deep ensemble: mean of the members, std of their moment-matched mixture.

Every row carries the applicability-domain verdict of its molecule (:mod:`litshift.evaluate.domain`,
the training domain stored in the checkpoint): outside it, the std is multiplied by
:data:`~litshift.evaluate.domain.OUT_OF_DOMAIN_STD_FACTOR` so the interval stays honest, or,
with ``--strict``, the molecule becomes a failure row. A molecule that yields no prediction
for any reason is a failure row with the reason; nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.csv as pacsv
from rdkit import Chem
from tqdm import tqdm

from litshift.chem.conformers import ConformerError, Geometry, embed_geometry
from litshift.chem.drawing import draw_svg, heavy_atom_notes
from litshift.chem.molecules import (
    MoleculeError,
    canonical_order,
    hydrogens_by_heavy_atom,
    mol_from_smiles,
    molecule_key,
)
from litshift.chem.nuclei import element_of
from litshift.chem.solvents import SOLVENT_CLASSES, SOLVENTS, UNRECOGNIZED, classify
from litshift.data.datasets import Structure
from litshift.data.io import atomic_path, reject_row, rows_to_table, write_table
from litshift.evaluate.domain import OUT_OF_DOMAIN_STD_FACTOR
from litshift.evaluate.predictors import ModelPredictor, load_model_predictor
from litshift.evaluate.uncertainty import interval
from litshift.release import PIPELINE_MODEL, default_model
from litshift.train.trainer import resolve_device
from litshift.usage import UsageError, check_device, check_directory, check_input, check_output

__all__ = [
    "PreparedMolecule",
    "model_paths",
    "configure_parser",
    "prepare",
    "predict_molecules",
    "run",
    "to_svg",
]

logger = logging.getLogger(__name__)

STAGE = "predict"
#: file types predict reads and writes
TABLE_SUFFIXES = (".csv", ".parquet")
#: domain_reason of rows whose checkpoint stores no training domain
DOMAIN_UNKNOWN = "domain unknown"


def model_paths(given: Sequence[str] | None) -> list[Path]:
    """The ``--model`` paths, or the default model (:func:`litshift.release.default_model`),
    saying on stderr which one is used; exits with one line when there is none."""
    if given:
        return [Path(p) for p in given]
    try:
        path, line = default_model()
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    print(line, file=sys.stderr)
    return [path]


@dataclass(slots=True)
class PreparedMolecule:
    """A user molecule ready for the model, with the way back to the user's atom order."""

    input_row: int
    smiles: str
    """As given."""
    solvent: str
    """Canonical solvent name (:func:`litshift.chem.solvents.classify`)."""
    solvent_class: str
    """The model's solvent class (:data:`litshift.chem.solvents.SOLVENT_CLASSES`)."""
    mol_h: Chem.Mol
    """``Chem.AddHs(Chem.MolFromSmiles(smiles))`` in the user's order."""
    litshift_index: list[int]
    """``litshift_index[i]``: litshift-order index of atom ``i`` of ``mol_h``."""
    structure: Structure


def _user_to_litshift(mol: Chem.Mol) -> tuple[str, Chem.Mol, list[int]]:
    """Canonical SMILES, user ``AddHs`` molecule and the user -> litshift atom map."""
    smiles, litshift_h, heavy_map = canonical_order(mol)
    user_h = Chem.AddHs(mol)
    mapping = [-1] * user_h.GetNumAtoms()
    for atom in range(mol.GetNumAtoms()):
        if heavy_map[atom] >= 0:
            mapping[atom] = heavy_map[atom]
    litshift_hydrogens = hydrogens_by_heavy_atom(litshift_h)
    for parent, hydrogens in hydrogens_by_heavy_atom(user_h).items():
        if mapping[parent] < 0:
            continue
        counterparts = litshift_hydrogens.get(mapping[parent], [])
        if len(counterparts) != len(hydrogens):
            raise MoleculeError("hydrogen count changed by canonicalization")
        for user_index, litshift_index in zip(hydrogens, counterparts, strict=True):
            mapping[user_index] = litshift_index
    if sorted(mapping) != list(range(litshift_h.GetNumAtoms())):
        raise MoleculeError("atoms could not be mapped onto the canonical order")
    return smiles, user_h, mapping


def prepare(
    input_row: int,
    smiles: str | None,
    solvent_text: str | None,
    embed: Callable[[str], Geometry],
    max_atoms: int,
) -> PreparedMolecule:
    """Parse, map and embed one input molecule; raises ``MoleculeError``/``ConformerError``."""
    mol = mol_from_smiles(smiles)
    canonical, user_h, mapping = _user_to_litshift(mol)
    if user_h.GetNumAtoms() > max_atoms:
        raise MoleculeError(f"too many atoms: {user_h.GetNumAtoms()} > max_atoms={max_atoms}")
    solvent, solvent_class = classify(solvent_text)
    geometry = embed(canonical)
    structure = Structure(
        key=molecule_key(canonical),
        smiles=canonical,
        atomic_numbers=np.asarray(geometry.atomic_numbers, dtype=np.int64),
        coords=np.asarray(geometry.coords, dtype=np.float32).reshape(-1, 3),
        solvent_class=SOLVENT_CLASSES.index(solvent_class),
    )
    return PreparedMolecule(
        input_row, str(smiles), solvent, solvent_class, user_h, mapping, structure
    )


def _check_nuclei(predictor: ModelPredictor, nuclei: Sequence[str]) -> None:
    unknown = [n for n in nuclei if n not in predictor.nuclei]
    if unknown:
        raise ValueError(f"the model predicts {predictor.nuclei}, not {unknown}")


def has_nucleus_atom(molecule: PreparedMolecule, nuclei: Sequence[str]) -> bool:
    """Whether the molecule has an atom of one of ``nuclei`` (``[Fe]`` has none)."""
    elements = {element_of(n) for n in nuclei}
    return any(a.GetSymbol() in elements for a in molecule.mol_h.GetAtoms())


def domain_verdict(reasons: list[str] | None) -> tuple[bool | None, str]:
    """``(in_domain, domain_reason)`` of a row from the predictor's reasons (None: unknown)."""
    if reasons is None:
        return None, DOMAIN_UNKNOWN
    return not reasons, "; ".join(reasons)


def predict_molecules(
    predictor: ModelPredictor, prepared: Sequence[PreparedMolecule], nuclei: Sequence[str]
) -> tuple[list[dict], list[np.ndarray]]:
    """Prediction rows (schema ``predictions``) and, per molecule, shifts in the user's order.

    Rows of a molecule outside the model's training domain have their std multiplied by
    :data:`OUT_OF_DOMAIN_STD_FACTOR` (the interval widens with it).

    Returns
    -------
    rows, shifts
        ``shifts[m]`` has shape ``N x K`` (ppm, the predictor's nuclei, NaN where the element
        does not match the nucleus).
    """
    _check_nuclei(predictor, nuclei)
    distributions = predictor.predict_distribution(
        [p.structure for p in prepared], [p.solvent for p in prepared]
    )
    rows: list[dict] = []
    shifts: list[np.ndarray] = []
    for molecule, distribution in zip(prepared, distributions, strict=True):
        in_domain, reason = domain_verdict(predictor.outside_domain(molecule.mol_h))
        widen = OUT_OF_DOMAIN_STD_FACTOR if in_domain is False else 1.0
        # (N, K) each, in the user's atom order
        user_ppm = distribution.mean[molecule.litshift_index]
        user_std = distribution.std[molecule.litshift_index] * widen
        lo, hi = interval(user_ppm, user_std, 0.95)
        elements = [a.GetSymbol() for a in molecule.mol_h.GetAtoms()]
        for k, nucleus in enumerate(predictor.nuclei):
            if nucleus not in nuclei:
                continue
            rows.extend(
                {
                    "input_row": molecule.input_row,
                    "smiles": molecule.smiles,
                    "solvent": molecule.solvent,
                    "solvent_class": molecule.solvent_class,
                    "nucleus": nucleus,
                    "atom_index": i,
                    "element": elements[i],
                    "shift_ppm": float(user_ppm[i, k]),
                    "shift_std_ppm": float(user_std[i, k]),
                    "shift_lo95_ppm": float(lo[i, k]),
                    "shift_hi95_ppm": float(hi[i, k]),
                    "in_domain": in_domain,
                    "domain_reason": reason,
                }
                for i in np.flatnonzero([e == element_of(nucleus) for e in elements])
            )
        shifts.append(user_ppm)
    return rows, shifts


def to_svg(molecule: PreparedMolecule, shifts: np.ndarray, nuclei: Sequence[str]) -> str:
    """2D drawing of the user's molecule; each heavy atom notes its 13C shift and its H shifts."""
    notes = heavy_atom_notes(molecule.mol_h, shifts, nuclei)
    return draw_svg(molecule.mol_h, notes, legend=f"{molecule.smiles} ({molecule.solvent})")


def _read_input(path: Path, smiles_column: str) -> pl.DataFrame:
    """The input table; a file polars cannot parse or without the SMILES column is a usage
    error."""
    try:
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    except (pl.exceptions.PolarsError, OSError) as err:
        message = str(err).splitlines()[0]
        raise UsageError(f"cannot read {path} as {path.suffix[1:]}: {message}") from None
    if smiles_column not in frame.columns:
        raise UsageError(
            f"{path}: no column {smiles_column!r} (columns: {frame.columns}); pass --smiles-column"
        )
    return frame


def _write(rows: list[dict], path: Path, schema_name: str) -> None:
    """Rows of schema ``schema_name`` as Parquet or CSV (by suffix), atomically."""
    if path.suffix == ".parquet":
        write_table(rows, path, schema_name)
        return
    with atomic_path(path) as tmp:
        pacsv.write_csv(rows_to_table(rows, schema_name), tmp)


def _failures_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.failures{output.suffix}")


def _unknown_solvents(texts: Sequence[str | None]) -> list[str]:
    """Distinct solvent texts no canonical solvent matches (they are predicted as ``other``)."""
    return sorted({str(t) for t in texts if t is not None and classify(t)[0] == UNRECOGNIZED})


def domain_summary(verdicts: Sequence[list[str] | None]) -> str | None:
    """The console line about the domain (None when every molecule is inside)."""
    if any(v is None for v in verdicts):
        return (
            "domain unknown: the model's checkpoint stores no training domain "
            "(retrain it with this litshift); in_domain is left empty"
        )
    outside = [v for v in verdicts if v]
    if not outside:
        return None
    counts = Counter(r for v in outside for r in v)
    reasons = ", ".join(f"{r} ({n})" for r, n in counts.most_common(5))
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    return (
        f"{len(outside)} of {len(verdicts)} molecules outside the model's domain: {reasons}{more}"
    )


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", help="CSV or Parquet file with a SMILES column")
    parser.add_argument("output", nargs="?", help="CSV or Parquet file to write (one row per atom)")
    parser.add_argument("--smiles", help="predict one molecule and print a table")
    parser.add_argument(
        "--solvent",
        default="CDCl3",
        help="solvent for --smiles, and for input rows without one (default: CDCl3)",
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help=f"checkpoint; repeat for a deep ensemble (default: {PIPELINE_MODEL} when it exists "
        "in the working directory, else the release model shipped with litshift)",
    )
    parser.add_argument(
        "--nuclei",
        dest="nucleus",
        default=None,
        help="comma-separated nuclei, e.g. 1H,13C (default: every nucleus the model predicts)",
    )
    parser.add_argument("--nucleus", dest="nucleus", help=argparse.SUPPRESS)  # former spelling
    parser.add_argument(
        "--smiles-column", default="smiles", help="input column holding SMILES (default: smiles)"
    )
    parser.add_argument(
        "--solvent-column",
        default="solvent",
        help="input column holding each row's solvent; rows without one, or an input without "
        "the column, use --solvent (default: solvent)",
    )
    parser.add_argument("--svg", default=None, help="directory for one annotated SVG per molecule")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="molecules per forward pass (default: 32)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="refuse molecules outside the model's training domain (failure rows) instead of "
        f"predicting them with a std widened {OUT_OF_DOMAIN_STD_FACTOR:g}x",
    )


def _check_arguments(args: argparse.Namespace) -> None:
    """Every usage error, before a model is loaded or a molecule embedded."""
    if (args.smiles is None) == (args.input is None):
        raise UsageError("give either --smiles SMILES or INPUT OUTPUT")
    if args.input is not None:
        if args.output is None:
            raise UsageError("INPUT needs an OUTPUT path (.csv or .parquet)")
        check_input(args.input)
        if not Path(args.input).name.removesuffix(".gz").endswith(TABLE_SUFFIXES):
            raise UsageError(f"input {args.input}: use a .csv or .parquet file")
        output = check_output(args.output, TABLE_SUFFIXES, [args.input])
        check_output(_failures_path(output), TABLE_SUFFIXES, [args.input], "failures file")
    if args.svg:
        check_directory(args.svg, "--svg directory")
    check_device(args.device)
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, got {args.batch_size}")


def _items(args: argparse.Namespace) -> list[tuple[object, str]]:
    """``(smiles, solvent text)`` per input row; empty solvents take ``--solvent``."""
    if args.smiles is not None:
        return [(args.smiles, args.solvent)]
    frame = _read_input(Path(args.input), args.smiles_column)
    solvents = (
        frame[args.solvent_column].to_list()
        if args.solvent_column in frame.columns
        else [args.solvent] * frame.height
    )
    solvents = [args.solvent if s is None or not str(s).strip() else str(s) for s in solvents]
    return list(zip(frame[args.smiles_column].to_list(), solvents, strict=True))


def _print_table(molecule: PreparedMolecule, rows: list[dict]) -> None:
    """The ``--smiles`` table: the solvent class and domain verdict used, then one atom a line."""
    verdict = rows[0]["domain_reason"] if rows else ""
    if rows and rows[0]["in_domain"] is False:
        verdict = (
            f"OUTSIDE the model's domain ({verdict}); std widened {OUT_OF_DOMAIN_STD_FACTOR:g}x"
        )
    print(
        f"solvent {molecule.solvent} (model class {molecule.solvent_class}); "
        + (verdict or "inside the model's domain")
    )
    columns = ("shift_ppm", "shift_std_ppm", "shift_lo95_ppm", "shift_hi95_ppm")
    print(f"{'atom':>5} {'element':>7} {'nucleus':>7} {'shift_ppm':>9} {'std':>6} 95% interval")
    for r in rows:
        shift, std, lo, hi = (r[c] for c in columns)
        print(
            f"{r['atom_index']:>5} {r['element']:>7} {r['nucleus']:>7} {shift:>9.2f} "
            f"{std:>6.2f} {lo:.2f} to {hi:.2f}"
        )


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    items = _items(args)
    for text in _unknown_solvents([solvent for _, solvent in items]):
        known = ", ".join(s.name for s in SOLVENTS[:6])
        print(
            f"litshift predict: warning: solvent {text!r} not recognized; predicted as solvent "
            f"class 'other' (recognized: {known}, ... {len(SOLVENTS)} in all, see "
            "litshift.chem.solvents; the solvent_class column shows the class used)",
            file=sys.stderr,
        )
    try:
        predictor = load_model_predictor(model_paths(args.model), resolve_device(args.device))
        predictor.batch_size = args.batch_size
        nuclei = args.nucleus.split(",") if args.nucleus else list(predictor.nuclei)
        _check_nuclei(predictor, nuclei)
    except ValueError as err:
        raise UsageError(str(err)) from None

    prepared: list[PreparedMolecule] = []
    failures: list[dict] = []
    verdicts: list[list[str] | None] = []
    source = args.input or "--smiles"

    def fail(row: int, reason: str, smiles: object) -> None:
        failures.append(reject_row(source, str(row), STAGE, reason, str(smiles)))

    progress = tqdm(items, desc="embedding", unit=" molecules", disable=len(items) == 1)
    for row, (smiles, solvent) in enumerate(progress):
        try:
            molecule = prepare(row, smiles, solvent, embed_geometry, predictor.max_atoms)
        except (MoleculeError, ConformerError) as err:
            fail(row, str(err), smiles)
            continue
        if not has_nucleus_atom(molecule, nuclei):
            fail(row, f"no atom of a predicted nucleus: {', '.join(nuclei)}", smiles)
            continue
        verdict = predictor.outside_domain(molecule.mol_h)
        verdicts.append(verdict)
        if args.strict and verdict:
            fail(row, f"outside the model's domain: {'; '.join(verdict)}", smiles)
            continue
        prepared.append(molecule)
    rows, shifts = predict_molecules(predictor, prepared, nuclei)
    summary = domain_summary(verdicts)
    if summary:
        print(f"litshift predict: {summary}", file=sys.stderr)

    if args.svg:
        svg_dir = Path(args.svg)
        svg_dir.mkdir(parents=True, exist_ok=True)
        for molecule, values in zip(prepared, shifts, strict=True):
            (svg_dir / f"{molecule.input_row:05d}.svg").write_text(
                to_svg(molecule, values, predictor.nuclei)
            )
    if args.smiles is not None:
        if failures:
            print(f"litshift predict: failed: {failures[0]['reason']}", file=sys.stderr)
            return 1
        _print_table(prepared[0], rows)
        return 0
    output = Path(args.output)
    _write(rows, output, "predictions")
    _write(failures, _failures_path(output), "rejected")
    logger.info(
        "%d molecules predicted, %d failed (%s)",
        len(prepared),
        len(failures),
        _failures_path(output),
    )
    return 0
