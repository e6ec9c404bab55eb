"""``litshift predict``: 1H/13C shifts for user SMILES with a trained model.

Reads a table or one ``--smiles``, picks the model (``--model``, else
:func:`litshift.inference.shipped.default_model`), and writes one row per atom (see
:mod:`litshift.inference.molecules` for the atom order, intervals and domain verdicts) plus a
failures table; nothing is dropped silently.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pyarrow.csv as pacsv
from tqdm import tqdm

from litshift.chem.conformers import ConformerError, embed_geometry
from litshift.chem.molecules import (
    MoleculeError,
)
from litshift.chem.solvents import SOLVENTS, UNRECOGNIZED, classify
from litshift.data.io import atomic_path, reject_row, rows_to_table, write_table
from litshift.inference.domain import OUT_OF_DOMAIN_STD_FACTOR
from litshift.inference.molecules import (
    PreparedMolecule,
    check_nuclei,
    domain_summary,
    failure_message,
    has_nucleus_atom,
    predict_molecules,
    prepare,
    to_svg,
)
from litshift.inference.predictors import load_model_predictor
from litshift.inference.runtime import resolve_device
from litshift.inference.shipped import PIPELINE_MODEL, PIPELINE_PARTNER, default_model, model_group
from litshift.usage import UsageError, check_device, check_directory, check_input, check_output

__all__ = ["configure_parser", "model_paths", "run", "warn_unknown_solvents"]

logger = logging.getLogger(__name__)

STAGE = "predict"
#: file types predict reads and writes
TABLE_SUFFIXES = (".csv", ".parquet")


def model_paths(given: Sequence[str] | None) -> list[Path]:
    """The checkpoints of the ``--model`` options (each a checkpoint or a release package
    folder; together one ensemble), or the default model
    (:func:`litshift.inference.shipped.default_model`), saying on stderr which one is used;
    exits with one line when there is none."""
    try:
        if given:
            return [path for spec in given for path in model_group(spec)]
        paths, line = default_model()
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None
    print(line, file=sys.stderr)
    return paths


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


def warn_unknown_solvents(command: str, texts: Sequence[str | None], column: str) -> None:
    """One stderr line per distinct solvent text no canonical solvent matches: it is modelled
    as class ``other``, which a typo should not decide silently. ``column`` names where the
    user sees the class used."""
    known = ", ".join(s.name for s in SOLVENTS[:6])
    for text in sorted({str(t) for t in texts if t is not None and classify(t)[0] == UNRECOGNIZED}):
        print(
            f"litshift {command}: warning: solvent {text!r} not recognized; predicted as solvent "
            f"class 'other' (recognized: {known}, ... {len(SOLVENTS)} in all, see "
            f"litshift.chem.solvents; {column} shows the class used)",
            file=sys.stderr,
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
        help="checkpoint or release package folder; repeat for a deep ensemble (default: "
        f"{PIPELINE_MODEL}, averaged with {PIPELINE_PARTNER} when that exists too, in a "
        "pipeline checkout; else the release model shipped with litshift)",
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
    warn_unknown_solvents("predict", [solvent for _, solvent in items], "the solvent_class column")
    try:
        predictor = load_model_predictor(model_paths(args.model), resolve_device(args.device))
        predictor.batch_size = args.batch_size
        nuclei = args.nucleus.split(",") if args.nucleus else list(predictor.nuclei)
        check_nuclei(predictor, nuclei)
    except ValueError as err:
        raise UsageError(str(err)) from None

    prepared: list[PreparedMolecule] = []
    failures: list[dict] = []
    messages: list[str] = []
    verdicts: list[list[str] | None] = []
    source = args.input or "--smiles"

    def fail(row: int, message: str, smiles: object) -> None:
        """``message`` is ``"reason: detail"``: the table keeps both, --smiles prints it."""
        failures.append(reject_row(source, str(row), STAGE, message, str(smiles)))
        messages.append(message)

    progress = tqdm(items, desc="embedding", unit=" molecules", disable=len(items) == 1)
    for row, (smiles, solvent) in enumerate(progress):
        try:
            molecule = prepare(row, smiles, solvent, embed_geometry, predictor.max_atoms)
        except (MoleculeError, ConformerError) as err:
            fail(row, failure_message(err), smiles)
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
            print(f"litshift predict: failed: {messages[0]}", file=sys.stderr)
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
