"""The ``litshift`` command line: one subcommand per pipeline stage or user task.

Each subcommand is one module of this package, named after it (``litshift split`` is
:mod:`litshift.cli.split`), exposing ``configure_parser(parser)`` and ``run(args) -> int``: it
parses the flags, opens the MLflow run and calls one library function. This file only wires
them up and configures logging once. Modules are imported lazily so ``litshift sql`` does not
pay for torch. The commands that log to MLflow get ``--tracking-uri`` here, with the opt-in
default in their help (:mod:`litshift.cli.tracking`), and those whose module declares
``CONFIG_OPTIONS`` (and ``CONFIG_IGNORED``) get ``--config-json``, the settings of a config
section as the Snakemake rules pass them (:func:`litshift.cli.args.apply_config_json`).

Errors reach the user as one line: a :class:`litshift.usage.UsageError` (wrong arguments,
unreadable input, unwritable output) exits 2, any other exception exits 1 with
``litshift <command>: error: <message> (--debug for the traceback)``. ``--debug`` or
``LITSHIFT_DEBUG=1`` lets the traceback through.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from litshift.cli.args import add_config_json_option, apply_config_json
from litshift.cli.tracking import add_tracking_option, given_tracking_uri
from litshift.provenance import litshift_version
from litshift.usage import UsageError

__all__ = ["COMMANDS", "TRACKED_COMMANDS", "command_module", "main"]

#: subcommand -> one-line help; its code is the module :func:`command_module` names
COMMANDS: dict[str, str] = {
    "curate-assigned": "NMRShiftDB2 SD file -> atom-assigned spectra (assigned.parquet)",
    "curate-unassigned": "NMRShiftDB2 JSON lines -> molecule-level shift sets (unassigned.parquet)",
    "ingest-literature": (
        "literature paragraphs -> consistency-checked peak lists (literature.parquet)"
    ),
    "split": "leakage-safe train/valid/test split of assigned molecules and the weak training set",
    "collect-molecules": "distinct structures that need conformers (molecules.parquet)",
    "conformers": (
        "3D conformers: embed one shard of molecules.parquet (cached) | gather the manifest"
    ),
    "concat": "concatenate tables of one schema (gathers)",
    "train": "train one run: assigned + weak spectra -> model.pt",
    "launch": "run a command data-parallel: torchrun on one node, one torchrun per SLURM node",
    "predict": "predict NMR shifts for SMILES with a trained model",
    "verify": "rank candidate structures against a measured peak list (DP4-style probabilities)",
    "verify-benchmark": (
        "rank true test structures against same-formula decoys with every predictor"
    ),
    "evaluate": "score every trained model, HOSE and CSP5 on the held-out test sets",
    "hose-baseline": (
        "HOSE per heteronucleus (31P, 19F) scored on held-out molecule-level shift sets"
    ),
    "summarize-ablations": (
        "ablation runs x seeds -> validation MAE mean and spread (ablations/summary.parquet)"
    ),
    "release": "package a finished run as the shipped release model, with its model card",
    "report": "render results/report.html from the pipeline outputs",
    "catalog": "(re)build the DuckDB catalog of curated tables",
    "sql": "run a SQL query against the DuckDB catalog",
}


def command_module(command: str) -> str:
    """The module of ``litshift <command>``: ``litshift.cli.<command with _ for ->``."""
    return f"{__name__}.{command.replace('-', '_')}"


#: commands that open an MLflow run (through litshift.cli.tracking.stage_run)
TRACKED_COMMANDS = frozenset(
    {
        "curate-assigned",
        "curate-unassigned",
        "ingest-literature",
        "split",
        "collect-molecules",
        "conformers",
        "train",
        "verify-benchmark",
        "evaluate",
        "hose-baseline",
        "summarize-ablations",
        "report",
        "catalog",
    }
)


DEBUG_HELP = "show the Python traceback of an error (also: environment LITSHIFT_DEBUG=1)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litshift", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"litshift {litshift_version()}")
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)  # the command prints its own help
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # Parse the command name first, then let that command's module declare its own options.
    known, _ = parser.parse_known_args(argv)
    module = importlib.import_module(command_module(known.command))
    command_parser = argparse.ArgumentParser(
        prog=f"litshift {known.command}", description=COMMANDS[known.command]
    )
    command_parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    command_parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    module.configure_parser(command_parser)
    tracked = known.command in TRACKED_COMMANDS
    if tracked:
        add_tracking_option(command_parser)
    position = argv.index(known.command)
    command_argv = argv[:position] + argv[position + 1 :]
    config_options = getattr(module, "CONFIG_OPTIONS", None)
    if config_options is not None:
        add_config_json_option(command_parser)
        try:
            ignored = getattr(module, "CONFIG_IGNORED", frozenset())
            apply_config_json(command_parser, command_argv, config_options, ignored)
        except UsageError as err:  # an argument error, like argparse's: no traceback
            print(f"litshift {known.command}: error: {err}", file=sys.stderr)
            return 2
    args = command_parser.parse_args(command_argv)
    if config_options is not None:
        del args.config_json  # its settings are in their flags' dests now
    logging.basicConfig(
        level=logging.DEBUG if args.verbose or known.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    debug = args.debug or known.debug or os.environ.get("LITSHIFT_DEBUG", "") not in ("", "0")
    try:
        with given_tracking_uri(args.tracking_uri if tracked else None):
            return int(module.run(args) or 0)
    except UsageError as err:
        if debug:
            raise
        print(f"litshift {known.command}: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # every other failure: one line unless --debug
        if debug:
            raise
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(
            f"litshift {known.command}: error: {message} (--debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
