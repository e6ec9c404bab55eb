"""``litshift verify``: rank candidate structures by how well they explain a measured spectrum.

Peaks come from ``--peaks`` / ``--peaks-file`` (text or JSON) or from a literature paragraph
(``--paragraph`` / ``--paragraph-file``, which also gives the solvent); candidates from
``--smiles`` (repeatable) and ``--candidates``; the model from ``--model`` (several = a deep
ensemble). :func:`litshift.verify.ranking.rank_candidates` scores them; this module prints the
table, writes ``--json`` and ``--svg-dir``. Bad input stops with a message before any work; a
candidate that cannot be used is listed as rejected, with the reason, and the others are still
ranked. A candidate outside the model's training domain is flagged in the table and the JSON,
or rejected with ``--strict``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from litshift.chem.matching import POLICIES
from litshift.chem.solvents import classify
from litshift.cli.predict import model_paths, warn_unknown_solvents
from litshift.cli.predictors import add_error_model_arguments, error_model_from_args
from litshift.data.io import atomic_path
from litshift.inference.domain import OUT_OF_DOMAIN_STD_FACTOR
from litshift.inference.molecules import domain_summary
from litshift.inference.predictors import load_model_predictor
from litshift.inference.runtime import resolve_device
from litshift.inference.shipped import PIPELINE_MODEL, PIPELINE_PARTNER
from litshift.usage import UsageError, check_device, check_directory, check_input, check_output
from litshift.verify.candidates import read_candidates_file
from litshift.verify.peaks import (
    MeasuredSpectrum,
    PeakInputError,
    parse_peaks_text,
    peaks_from_paragraph,
    read_peaks_file,
)
from litshift.verify.ranking import VerificationError, rank_candidates
from litshift.verify.render import candidate_svg, ranking, text_report

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--peaks", help='e.g. "13C: 170.2, 135.8; 1H: 7.26 (m, 5H), 2.35 (s, 3H)"')
    source.add_argument("--peaks-file", help="file with the --peaks text, or JSON {nucleus: [...]}")
    source.add_argument(
        "--paragraph", help="experimental-section text (1H NMR (400 MHz, ...) δ ...)"
    )
    source.add_argument("--paragraph-file", help="file holding such a paragraph")
    parser.add_argument(
        "--solvent", default=None, help="solvent (default: the paragraph's, else unreported)"
    )
    parser.add_argument("--smiles", action="append", default=[], help="candidate (repeatable)")
    parser.add_argument(
        "--candidates", help="candidates: CSV with a smiles (and name) column, or SMILES per line"
    )
    parser.add_argument(
        "--model",
        action="append",
        default=None,
        help="checkpoint or release package folder; repeat for a deep ensemble (default: "
        f"{PIPELINE_MODEL}, averaged with {PIPELINE_PARTNER} when that exists too, in a "
        "pipeline checkout; else the release model shipped with litshift)",
    )
    parser.add_argument("--json", help="write the full result (ranking + assignments) here")
    parser.add_argument("--svg-dir", help="directory for one annotated SVG per candidate")
    add_error_model_arguments(parser)
    parser.add_argument(
        "--match-policy",
        choices=POLICIES,
        default="litshift",
        help="count-mismatch policy pairing peaks with atom groups (docs/matching_policy.md)",
    )
    parser.add_argument("--worst", type=int, default=3, help="atoms highlighted per SVG")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument(
        "--strict",
        action="store_true",
        help="reject candidates outside the model's training domain instead of scoring them "
        f"with a std widened {OUT_OF_DOMAIN_STD_FACTOR:g}x",
    )


def _measured(args: argparse.Namespace) -> MeasuredSpectrum:
    if args.peaks is not None:
        return parse_peaks_text(args.peaks)
    if args.peaks_file is not None:
        return read_peaks_file(args.peaks_file)
    text = args.paragraph
    if text is None:
        text = Path(args.paragraph_file).read_text(encoding="utf-8")
    return peaks_from_paragraph(text)


def _check_arguments(args: argparse.Namespace) -> None:
    """Files and device, before any peak is parsed or model loaded."""
    for option, path in (
        ("--peaks-file", args.peaks_file),
        ("--paragraph-file", args.paragraph_file),
        ("--candidates", args.candidates),
    ):
        if path is not None:
            check_input(path, option)
    inputs = [args.peaks_file, args.paragraph_file, args.candidates]
    if args.json:
        check_output(args.json, (".json",), inputs, "--json")
    if args.svg_dir:
        check_directory(args.svg_dir, "--svg-dir")
    check_device(args.device)


def run(args: argparse.Namespace) -> int:
    _check_arguments(args)
    try:
        measured = _measured(args)
        error_model = error_model_from_args(args)
    except (PeakInputError, OSError, ValueError) as err:
        raise UsageError(str(err)) from None
    solvent_text = args.solvent or measured.solvent_text
    solvent, solvent_class = classify(solvent_text)
    warn_unknown_solvents("verify", [solvent_text], "the first line of the output")
    items = [(smiles, smiles) for smiles in args.smiles]
    if args.candidates:
        try:
            items += read_candidates_file(args.candidates)
        except OSError as err:
            raise UsageError(str(err)) from None
    if not items:
        raise UsageError("no candidates (give --smiles and/or --candidates)")

    paths = model_paths(args.model)
    try:
        predictor = load_model_predictor(paths, resolve_device(args.device))
    except (OSError, ValueError) as err:
        raise SystemExit(f"litshift verify: cannot load the model: {err}") from None
    try:
        result = rank_candidates(
            predictor, measured, solvent, items, error_model, args.match_policy, args.strict
        )
    except VerificationError as err:
        raise SystemExit(f"litshift verify: {err}") from None
    print(f"solvent {solvent} (model class {solvent_class})")
    print(text_report(result.candidates, result.scores, list(result.peaks), result.rejected))
    for candidate, verdict in zip(result.candidates, result.verdicts, strict=True):
        if verdict:
            print(
                f"outside the model's domain: {candidate.name} ({'; '.join(verdict)}); "
                f"std widened {OUT_OF_DOMAIN_STD_FACTOR:g}x"
            )
    summary = domain_summary(result.verdicts)
    if summary:
        print(f"litshift verify: {summary}", file=sys.stderr)
    if args.json:
        settings = {
            "solvent": solvent,
            "solvent_class": solvent_class,
            "models": [str(p) for p in paths],
            "error_model": {
                "likelihood": error_model.likelihood,
                "dof": error_model.dof,
                "missing_probability": error_model.missing_probability,
            },
            "match_policy": args.match_policy,
        }
        with atomic_path(args.json) as tmp:
            tmp.write_text(json.dumps(result.to_json(settings), indent=2) + "\n")
    if args.svg_dir:
        directory = Path(args.svg_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for rank, score in enumerate(ranking(result.scores), start=1):
            svg = candidate_svg(result.candidates[score.index], score, predictor.nuclei, args.worst)
            (directory / f"{rank:02d}_{score.index:03d}.svg").write_text(svg)
    if result.rejected:
        print(f"{len(result.rejected)} candidate(s) rejected", file=sys.stderr)
    return 0
