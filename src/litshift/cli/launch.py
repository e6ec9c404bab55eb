"""``litshift launch``: run a litshift command data-parallel on one node or across SLURM nodes.

The process replaces itself with the launcher: the command itself, torchrun, or ``srun`` of
one torchrun per node (:mod:`litshift.train.launch` builds the command line); the launcher's
exit status is the job's.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys

from litshift.train.launch import launch_plan

__all__ = ["configure_parser", "run"]

logger = logging.getLogger(__name__)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--nodes", type=int, default=1, help="nodes (several: SLURM only)")
    parser.add_argument(
        "--procs-per-node", type=int, default=1, help="processes per node (one per GPU)"
    )
    parser.add_argument(
        "--cpus-per-node", type=int, default=1, help="CPUs of the job on each node (srun -c)"
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, help="-- then the litshift command, e.g. train ..."
    )


def run(args: argparse.Namespace) -> int:
    """Replace this process by the launcher (its exit status is the job's)."""
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    argv, env = launch_plan(
        command, args.nodes, args.procs_per_node, args.cpus_per_node, os.environ
    )
    logger.info("launch: %s", shlex.join(argv))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvpe(argv[0], argv, env)
