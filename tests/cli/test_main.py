"""The command line a user meets: version, one option spelling, help for every option."""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
from pathlib import Path

import pytest

from litshift.cli import COMMANDS, command_module, main


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"litshift {command}")
    importlib.import_module(command_module(command)).configure_parser(parser)
    return parser


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every argument of ``parser`` and of its subcommands (``conformers shard``)."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _actions(sub)
        elif not isinstance(action, argparse._HelpAction):
            found.append(action)
    return found


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"litshift {importlib.metadata.version('litshift')}\n"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_has_help(command) -> None:
    missing = [
        action.option_strings or action.dest
        for action in _actions(_parser(command))
        if action.help is None
    ]
    assert missing == []


def test_one_spelling_for_the_nuclei_option() -> None:
    visible = {
        option
        for command in COMMANDS
        for action in _actions(_parser(command))
        if action.help != argparse.SUPPRESS
        for option in action.option_strings
    }
    assert "--nuclei" in visible and "--nucleus" not in visible
    predict = _parser("predict")
    assert predict.parse_args(["--nuclei", "13C"]).nucleus == "13C"
    assert predict.parse_args(["--nucleus", "13C"]).nucleus == "13C"  # the former spelling


def test_one_module_per_command() -> None:
    """Every command has its module in litshift.cli and every module there is a command, except
    the shared pieces (entry point, flag helpers, MLflow)."""
    folder = Path(importlib.import_module("litshift.cli").__file__).parent
    shared = {"__init__", "__main__", "args", "predictors", "tracking"}
    modules = {path.stem for path in folder.glob("*.py")} - shared
    assert modules == {command_module(c).rsplit(".", 1)[1] for c in COMMANDS}
