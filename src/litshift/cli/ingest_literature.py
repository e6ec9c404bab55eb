"""``litshift ingest-literature``: literature records -> consistency-checked peak lists.

Checks the input (its format and columns) and the outputs, turns the filter options into a
:class:`litshift.ingest.literature_filters.FilterConfig` (the options override the defaults
nucleus by nucleus), logs the stage to MLflow and lets
:func:`litshift.ingest.ingest_literature.ingest` do the work; the input formats and the output
are described there.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
from pathlib import Path

from litshift.chem.nuclei import SHIFT_REFERENCES
from litshift.cli.args import ConfigOption, comma_list, names, negated, per_nucleus, window
from litshift.cli.tracking import stage_run
from litshift.ingest import literature_filters as filters
from litshift.ingest.ingest_literature import (
    FORMATS,
    PMCID_COLUMN,
    STAGE,
    IngestOptions,
    LiteratureInput,
    check_columns,
    detect_format,
    ingest,
)
from litshift.ingest.literature import NUCLEI
from litshift.usage import UsageError, check_input, check_output, is_parquet

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

#: config section ``literature`` -> flags (``--config-json``); a source's own settings (role,
#: columns, format) are flags of their own
CONFIG_OPTIONS: dict[str, ConfigOption] = {
    "nuclei": ("nuclei", comma_list),
    "chunk_size": "chunk_size",
    "filters.integration_tolerance": "integration_tolerance",
    "filters.carbon_excess_tolerance": "carbon_excess_tolerance",
    "filters.carbon_deficit_tolerance": "carbon_deficit_tolerance",
    "filters.shift_window": ("window", per_nucleus),
    "filters.residual_tolerance": ("residual_tolerance", per_nucleus),
    "filters.reject_residual": ("keep_residual", negated),
    "filters.duplicate_tolerance": ("duplicate_tolerance", per_nucleus),
    "filters.reference_standard": ("reference_standard", per_nucleus),
}


def _tolerance(text: str) -> tuple[str, float]:
    """``13C=0.1`` -> ``("13C", 0.1)``."""
    nucleus, _, value = text.partition("=")
    try:
        return nucleus.strip(), float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NUCLEUS=PPM, got {text!r}") from None


def _standard(text: str) -> tuple[str, str | None]:
    """``19F=CFCl3`` -> ``("19F", "CFCl3")``; ``19F=none`` switches the check off."""
    nucleus, _, name = (part.strip() for part in text.partition("="))
    if name.lower() == "none":
        return nucleus, None
    known = [r.name for r in SHIFT_REFERENCES if nucleus in r.nuclei]
    if name not in known:
        raise argparse.ArgumentTypeError(
            f"expected NUCLEUS=REFERENCE with a reference of {nucleus!r} among {known} "
            f"(or none), got {text!r}"
        )
    return nucleus, name


def configure_parser(parser: argparse.ArgumentParser) -> None:
    defaults = filters.FilterConfig()
    parser.add_argument(
        "input",
        help="literature records: annotated CSV, text or Parquet of peak lists (see --format)",
    )
    parser.add_argument("output", help="literature table (Parquet) to write")
    parser.add_argument("--text-column", default="Paragraph", help="CSV column with the text")
    parser.add_argument(
        "--smiles-column", default="SMILES", help="CSV column with the structure ('' for none)"
    )
    parser.add_argument(
        "--id-column",
        default=None,
        help=f"CSV column naming the document (default {PMCID_COLUMN!r} when present; '' for none)",
    )
    parser.add_argument(
        "--format",
        choices=("auto", *FORMATS),
        default="auto",
        help="input format (default auto: from the file name). "
        "csv (.csv, .csv.gz): the annotated NMRExtractor/NMRBank layout, one record per row, "
        "the paragraph in --text-column, the structure in --smiles-column. "
        "text (.txt, .txt.gz): one experimental-section paragraph per line, optionally "
        "followed by a TAB and the compound's SMILES, e.g. '1H NMR (400 MHz, CDCl3) "
        "δ 7.26 (m, 5H), 2.35 (s, 3H); 13C NMR (101 MHz, CDCl3) δ 137.9, 129.1, 21.5<TAB>"
        "Cc1ccccc1'; lines without a SMILES give records without a structure. "
        "parquet (.parquet, .pq): extracted peak lists with columns smiles, nucleus, solvent, "
        "shifts (list of ppm) and optionally n_h and reference",
    )
    parser.add_argument(
        "--source", default=None, help="source name for record ids (default: the input file stem)"
    )
    parser.add_argument(
        "--role",
        choices=("train", "test"),
        default="train",
        help="whether ok rows may become training labels",
    )
    parser.add_argument("--rejected", default=None, help="rejected table (Parquet) to write")
    parser.add_argument(
        "--nuclei",
        default=",".join(NUCLEI),
        help="comma-separated nuclei to write (default: all parsed)",
    )
    parser.add_argument("--workers", type=int, default=1, help="parser processes")
    parser.add_argument("--chunk-size", type=int, default=5000, help="records per chunk")
    parser.add_argument(
        "--integration-tolerance",
        type=int,
        default=defaults.integration_tolerance,
        help="H atoms of slack on the 1H total integration",
    )
    parser.add_argument(
        "--carbon-excess-tolerance",
        type=int,
        default=defaults.carbon_excess_tolerance,
        help="13C peaks allowed beyond the carbon count",
    )
    parser.add_argument(
        "--carbon-deficit-tolerance",
        type=int,
        default=defaults.carbon_deficit_tolerance,
        help="13C peaks allowed missing below the distinct-carbon count",
    )
    parser.add_argument(
        "--window",
        type=window,
        action="append",
        default=list(defaults.windows.items()),
        metavar="NUC=LO,HI",
        help="plausible shift window (repeatable; overrides the defaults "
        f"{dict(filters.DEFAULT_LITERATURE_WINDOWS)})",
    )
    parser.add_argument(
        "--residual-tolerance",
        type=_tolerance,
        action="append",
        default=list(defaults.residual_tolerance.items()),
        metavar="NUC=PPM",
        help="distance to a solvent residual line (repeatable)",
    )
    parser.add_argument(
        "--keep-residual",
        action="store_true",
        help="flag lists containing a solvent residual line instead of rejecting",
    )
    parser.add_argument(
        "--duplicate-tolerance",
        type=_tolerance,
        action="append",
        default=list(defaults.duplicate_tolerance.items()),
        metavar="NUC=PPM",
        help="per-peak difference of duplicate lists",
    )
    parser.add_argument(
        "--reference-standard",
        type=_standard,
        action="append",
        default=list(defaults.reference_standards.items()),
        metavar="NUC=NAME",
        help="scale a nucleus' lists must be on; lists whose conditions name another reference "
        "compound are rejected (repeatable; NUC=none: no check; defaults "
        f"{dict(filters.DEFAULT_REFERENCE_STANDARDS)})",
    )


def _source_name(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".csv", ".txt", ".parquet", ".pq"):
        name = name.removesuffix(suffix)
    return name


def _check_arguments(args: argparse.Namespace) -> str:
    """The input format, once input, outputs, format and columns are known to be usable."""
    check_input(args.input)
    check_output(args.output, (".parquet",), [args.input])
    if args.rejected:
        check_output(args.rejected, (".parquet",), [args.input, args.output], "--rejected")
    try:
        fmt = detect_format(args.input) if args.format == "auto" else args.format
    except ValueError as err:
        raise UsageError(str(err)) from None
    parquet = is_parquet(args.input)
    if fmt == "parquet" and not parquet:
        raise UsageError(
            f"--format parquet, but {args.input} is not a Parquet file; pass --format csv or text"
        )
    if fmt != "parquet" and parquet:
        raise UsageError(f"{args.input} is a Parquet file, not {fmt}; pass --format parquet")
    try:
        check_columns(args.input, fmt, args.text_column, args.smiles_column or None, args.id_column)
    except (ValueError, OSError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise UsageError(str(err).splitlines()[0]) from None
    return fmt


def run(args: argparse.Namespace) -> int:
    fmt = _check_arguments(args)
    # nucleus by nucleus over the defaults: a config mapping that names some nuclei keeps the
    # others' defaults
    defaults = filters.FilterConfig()
    config = filters.FilterConfig(
        integration_tolerance=args.integration_tolerance,
        carbon_excess_tolerance=args.carbon_excess_tolerance,
        carbon_deficit_tolerance=args.carbon_deficit_tolerance,
        windows={**defaults.windows, **dict(args.window)},
        residual_tolerance={**defaults.residual_tolerance, **dict(args.residual_tolerance)},
        reject_residual=not args.keep_residual,
        duplicate_tolerance={**defaults.duplicate_tolerance, **dict(args.duplicate_tolerance)},
        reference_standards={
            nucleus: name
            for nucleus, name in {
                **defaults.reference_standards,
                **dict(args.reference_standard),
            }.items()
            if name is not None
        },
    )
    options = IngestOptions(
        source=args.source or _source_name(args.input),
        role=args.role,
        nuclei=frozenset(names(args.nuclei)),
        config=config,
    )
    literature = LiteratureInput(
        args.input,
        fmt,
        args.text_column,
        args.smiles_column or None,
        args.id_column,
        args.chunk_size,
    )
    params = {
        "input": args.input,
        "format": fmt,
        "source": options.source,
        "role": args.role,
        "nuclei": sorted(options.nuclei),
        "workers": args.workers,
        "chunk_size": args.chunk_size,
        "filters": dataclasses.asdict(config),
    }
    with stage_run(STAGE, params, run_name=f"{STAGE}:{options.source}") as tracker:
        summary = ingest(literature, args.output, args.rejected, options, args.workers)
        tracker.log_metrics(summary)
        tracker.log_dict(summary, "summary.json")
    logger.info("%s %s: %s", STAGE, options.source, summary)
    return 0
