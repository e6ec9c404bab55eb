"""``litshift conformers``: embed one shard of ``molecules.parquet`` (cached) | gather the manifest.

``shard`` is one Snakemake job per shard and one MLflow run (``conformers:shard-XXXX``);
``gather`` writes the ``done.json`` that downstream rules depend on. The sharding, the store
that survives reruns and the reader are :mod:`litshift.data.conformer_shards`.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import asdict, fields

from litshift.chem.conformers import FORCE_FIELDS, EmbedOptions
from litshift.cli.args import ConfigOption
from litshift.cli.tracking import stage_run
from litshift.data.conformer_shards import ConformerCache, gather, run_shard
from litshift.data.io import read_table
from litshift.usage import JSON, PARQUET, check_paths

__all__ = ["CONFIG_OPTIONS", "configure_parser", "run"]

logger = logging.getLogger(__name__)

STAGE = "conformers"
#: summary entries the shard job prints when it ends
LOGGED = ("molecules", "cached", "embedded", "ok", "failures", "seconds", "workers_busy")
#: config section ``conformers`` -> flags of ``shard`` (``--config-json``): the store, the
#: sharding and every embedding option
CONFIG_OPTIONS: dict[str, ConfigOption] = {
    "n_shards": "n_shards",
    "cache": "cache",
    "chunk_size": "chunk_size",
    **{option.name: option.name for option in fields(EmbedOptions)},
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    shard = actions.add_parser("shard", help="embed one shard of molecules.parquet (cached)")
    shard.add_argument("molecules", help="molecules.parquet (key, smiles)")
    shard.add_argument("--shard", type=int, required=True, help="shard index (0-based)")
    shard.add_argument("--n-shards", type=int, required=True, help="number of shards")
    shard.add_argument("--out", required=True, help="shard Parquet file to write")
    shard.add_argument("--cache", required=True, help="conformer store directory")
    shard.add_argument("--workers", type=int, default=1, help="embedding processes")
    shard.add_argument(
        "--chunk-size", type=int, default=1000, help="new molecules per stored cache chunk"
    )
    # one flag per embedding option, so a new option reaches the command line by itself
    defaults = EmbedOptions()
    for option in fields(EmbedOptions):
        default = getattr(defaults, option.name)
        flag = f"--{option.name.replace('_', '-')}"
        help_text = f"{option.metadata['help']} (default {default})"
        if isinstance(default, tuple):
            shard.add_argument(
                flag, nargs="+", default=list(default), choices=FORCE_FIELDS, help=help_text
            )
        else:
            shard.add_argument(flag, type=type(default), default=default, help=help_text)
    done = actions.add_parser("gather", help="write the manifest of all shards (done.json)")
    done.add_argument("shards", nargs="+", help="every shard file of the run")
    done.add_argument("--out", required=True, help="manifest JSON to write")


def run(args: argparse.Namespace) -> int:
    if args.action == "gather":
        check_paths(inputs={"shard": args.shards}, outputs={"--out": (args.out, JSON)})
        manifest = gather(args.shards, args.out)
        logger.info(
            "conformers: %d molecules, statuses %s", manifest["molecules"], manifest["statuses"]
        )
        return 0
    if not 0 <= args.shard < args.n_shards:
        raise SystemExit(f"--shard {args.shard} is not in [0, {args.n_shards})")
    check_paths(
        inputs={"input": args.molecules},
        outputs={"--out": (args.out, PARQUET)},
        output_dirs={"--cache": args.cache},
    )
    options = EmbedOptions.from_mapping(vars(args))
    params = {
        "shard": args.shard,
        "n_shards": args.n_shards,
        "workers": args.workers,
        "digest": options.digest(),
        **asdict(options),
    }
    with stage_run(STAGE, params, run_name=f"{STAGE}:shard-{args.shard:04d}") as tracker:
        summary = run_shard(
            read_table(args.molecules, "molecules"),
            args.shard,
            args.n_shards,
            args.out,
            ConformerCache(args.cache, options),
            args.workers,
            args.chunk_size,
        )
        numbers = {k: v for k, v in summary.items() if isinstance(v, int | float)}
        tracker.log_metrics(numbers | {f"failed.{k}": v for k, v in summary["failures"].items()})
        tracker.log_dict(summary, "summary.json")
    logger.info("shard %d: %s", args.shard, {k: summary[k] for k in LOGGED})
    return 0
