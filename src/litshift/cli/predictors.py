"""Options of the commands that score predictors: ``evaluate``, ``hose-baseline``,
``verify-benchmark`` and ``verify``.

Each shared option is declared once here, its default taken from the library's options
(:class:`~litshift.evaluate.predictor_setup.PredictorOptions`,
:class:`~litshift.evaluate.scoring.ScoringOptions`,
:class:`~litshift.verify.likelihood.ErrorModel`), and turned back into those options by the
functions below, so the commands cannot drift apart in a flag, its help or its default. The
``*_CONFIG`` mappings name the config settings of these flags (sections ``evaluate`` and
``verify``, ``train.match_policy``) for the commands' ``CONFIG_OPTIONS``; ``--budget`` is not
one: by hand its default labels the numbers ``manual``, the rules pass the config's label.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litshift.chem.matching import POLICIES
from litshift.cli.args import ConfigOption, comma_list, negated
from litshift.evaluate.predictor_setup import HeldOutInputs, PredictorOptions
from litshift.evaluate.scoring import ScoringOptions
from litshift.inference.shipped import model_group, model_name
from litshift.usage import UsageError
from litshift.verify.likelihood import LIKELIHOODS, ErrorModel

__all__ = [
    "DEVICE_CONFIG",
    "ERROR_MODEL_CONFIG",
    "HOSE_CONFIG",
    "PREDICTOR_CONFIG",
    "SCORING_CONFIG",
    "add_budget_argument",
    "add_device_arguments",
    "add_error_model_arguments",
    "add_hose_arguments",
    "add_predictor_arguments",
    "add_scoring_arguments",
    "error_model_from_args",
    "held_out_inputs",
    "predictor_options",
    "scoring_options",
]

_PREDICTORS = PredictorOptions()
_SCORING = ScoringOptions()
_ERROR_MODEL = ErrorModel()

#: config settings -> dests of :func:`add_hose_arguments`
HOSE_CONFIG: dict[str, ConfigOption] = {
    "hose_max_radius": "hose_max_radius",
    "hose_min_count": "hose_min_count",
}
#: ... of :func:`add_device_arguments`
DEVICE_CONFIG: dict[str, ConfigOption] = {"batch_size": "batch_size", "device": "device"}
#: ... of :func:`add_predictor_arguments` (``--threads`` is the rule's threads)
PREDICTOR_CONFIG: dict[str, ConfigOption] = {
    "nuclei": ("nuclei", comma_list),
    "match_policy": "match_policy",
    **HOSE_CONFIG,
    "calibration_molecules": "calibration_molecules",
    "csp5": ("skip_csp5", negated),
    **DEVICE_CONFIG,
}
#: ... of :func:`add_scoring_arguments`
SCORING_CONFIG: dict[str, ConfigOption] = {
    "n_bootstrap": "n_bootstrap",
    "seed": "seed",
    "fingerprint_radius": "fingerprint_radius",
    "fingerprint_bits": "fingerprint_bits",
    "similarity_bins": ("similarity_bins", comma_list),
}
#: ... of :func:`add_error_model_arguments`
ERROR_MODEL_CONFIG: dict[str, ConfigOption] = {
    "likelihood": "likelihood",
    "dof": "dof",
    "missing_probability": "missing_probability",
}


def add_hose_arguments(parser: argparse.ArgumentParser) -> None:
    """``--hose-max-radius`` and ``--hose-min-count``."""
    parser.add_argument(
        "--hose-max-radius",
        type=int,
        default=_PREDICTORS.hose_max_radius,
        help=f"largest HOSE sphere radius (default: {_PREDICTORS.hose_max_radius})",
    )
    parser.add_argument(
        "--hose-min-count",
        type=int,
        default=_PREDICTORS.hose_min_count,
        help="training atoms a HOSE code needs, else the next smaller sphere is used "
        f"(default: {_PREDICTORS.hose_min_count})",
    )


def add_device_arguments(parser: argparse.ArgumentParser) -> None:
    """``--batch-size`` and ``--device`` of the trained models (and CSP5)."""
    parser.add_argument(
        "--batch-size",
        type=int,
        default=_PREDICTORS.batch_size,
        help=f"molecules per forward pass (default: {_PREDICTORS.batch_size})",
    )
    parser.add_argument("--device", default=_PREDICTORS.device, help="cpu | cuda | auto")


def add_budget_argument(parser: argparse.ArgumentParser) -> None:
    """``--budget``: the label the numbers are stored with."""
    parser.add_argument(
        "--budget", default=_SCORING.budget, help="budget label stored with the metrics"
    )


def add_predictor_arguments(parser: argparse.ArgumentParser) -> None:
    """The held-out inputs and predictor settings of ``evaluate`` and ``verify-benchmark``
    (:func:`held_out_inputs`, :func:`predictor_options`), their ``--match-policy`` and
    ``--budget``."""
    parser.add_argument("--assigned", required=True, help="curated assigned.parquet")
    parser.add_argument("--splits", required=True, help="assigned_splits.parquet")
    parser.add_argument("--literature-test", required=True, help="literature_test.parquet")
    parser.add_argument("--conformers", required=True, help="directory of conformer shards")
    parser.add_argument(
        "--models",
        nargs="*",
        default=[],
        help="one predictor each: a checkpoint results/models/<run>/model.pt, several joined by "
        "',' (a deep ensemble, named run+run_1+...), or a release package folder",
    )
    parser.add_argument(
        "--nuclei",
        default=",".join(_PREDICTORS.nuclei),
        help="comma-separated evaluated nuclei",
    )
    parser.add_argument(
        "--match-policy",
        choices=POLICIES,
        default=_SCORING.match_policy,
        help="count-mismatch policy of the molecule-level score (the training one)",
    )
    add_hose_arguments(parser)
    parser.add_argument(
        "--calibration-molecules",
        type=int,
        default=_PREDICTORS.calibration_molecules,
        help="validation molecules (seeded subsample) the std of HOSE/CSP5 is calibrated on "
        "(0 = all)",
    )
    parser.add_argument(
        "--skip-csp5", action="store_true", help="do not evaluate CSP5 even when installed"
    )
    add_device_arguments(parser)
    parser.add_argument("--threads", type=int, default=_PREDICTORS.threads, help="CPU threads")
    add_budget_argument(parser)


def run_params(args: argparse.Namespace, omit: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The MLflow params of a scoring command: every option but ``--verbose`` and ``omit``, with
    ``--models`` as the names of their run folders (paths differ between machines)."""
    params = {k: v for k, v in vars(args).items() if k not in {"verbose", "models", *omit}}
    params["models"] = [model_name(spec) for spec in args.models]
    return params


def model_files(specs: Sequence[str]) -> list[str]:
    """Every checkpoint the ``--models`` specs name (for the path checks); a release package
    folder without members is a usage error."""
    try:
        return [str(path) for spec in specs for path in model_group(spec)]
    except FileNotFoundError as err:
        raise UsageError(str(err)) from None


def held_out_inputs(args: argparse.Namespace) -> HeldOutInputs:
    """The files of :func:`add_predictor_arguments`."""
    return HeldOutInputs(
        assigned=Path(args.assigned),
        splits=Path(args.splits),
        literature_test=Path(args.literature_test),
        conformers=Path(args.conformers),
        models=tuple((model_name(spec), tuple(model_group(spec))) for spec in args.models),
    )


def predictor_options(args: argparse.Namespace) -> PredictorOptions:
    """The settings of :func:`add_predictor_arguments`."""
    return PredictorOptions(
        nuclei=tuple(args.nuclei.split(",")),
        hose_max_radius=args.hose_max_radius,
        hose_min_count=args.hose_min_count,
        calibration_molecules=args.calibration_molecules,
        csp5=not args.skip_csp5,
        batch_size=args.batch_size,
        device=args.device,
        threads=args.threads,
    )


def add_scoring_arguments(parser: argparse.ArgumentParser) -> None:
    """The bootstrap and similarity options of :class:`ScoringOptions` (``evaluate``,
    ``hose-baseline``; each adds its own ``--match-policy`` and ``--budget``)."""
    parser.add_argument(
        "--n-bootstrap",
        type=int,
        default=_SCORING.n_bootstrap,
        help=f"bootstrap resamples per interval (default: {_SCORING.n_bootstrap})",
    )
    parser.add_argument("--seed", type=int, default=_SCORING.seed, help="bootstrap seed")
    parser.add_argument(
        "--fingerprint-radius",
        type=int,
        default=_SCORING.fingerprint_radius,
        help="Morgan radius of the test-to-training similarity "
        f"(default: {_SCORING.fingerprint_radius})",
    )
    parser.add_argument(
        "--fingerprint-bits",
        type=int,
        default=_SCORING.fingerprint_bits,
        help=f"Morgan fingerprint bits (default: {_SCORING.fingerprint_bits})",
    )
    parser.add_argument(
        "--similarity-bins",
        default=",".join(f"{edge:g}" for edge in _SCORING.similarity_bins),
        help="Tanimoto bin edges (comma-separated)",
    )


def scoring_options(args: argparse.Namespace) -> ScoringOptions:
    """:class:`ScoringOptions` of :func:`add_scoring_arguments`, ``--match-policy`` and
    ``--budget``."""
    return ScoringOptions(
        match_policy=args.match_policy,
        n_bootstrap=args.n_bootstrap,
        seed=args.seed,
        fingerprint_radius=args.fingerprint_radius,
        fingerprint_bits=args.fingerprint_bits,
        similarity_bins=tuple(float(e) for e in args.similarity_bins.split(",")),
        budget=args.budget,
    )


def add_error_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--likelihood``, ``--dof`` and ``--missing-probability`` (:func:`error_model_from_args`)."""
    parser.add_argument(
        "--likelihood", choices=LIKELIHOODS, default=_ERROR_MODEL.likelihood, help="DP4 error model"
    )
    parser.add_argument(
        "--dof", type=float, default=_ERROR_MODEL.dof, help="Student-t degrees of freedom"
    )
    parser.add_argument(
        "--missing-probability",
        type=float,
        default=_ERROR_MODEL.missing_probability,
        help="probability that an atom group shows no peak (count-mismatch fallback)",
    )


def error_model_from_args(args: argparse.Namespace) -> ErrorModel:
    """The :class:`ErrorModel` of :func:`add_error_model_arguments`' options; raises
    ``ValueError`` for values it does not accept."""
    return ErrorModel(args.likelihood, args.dof, args.missing_probability)
