"""A setting has one default, the schema's: the flags a config setting feeds default to it.

The rules pass config sections as ``--config-json`` (:mod:`litshift.cli.args`), so in the
pipeline a setting left out of config.yaml gets the schema's default; a command run by hand
without the flag gets the flag's. For every command that declares ``CONFIG_OPTIONS``, each
mapped setting must be in the schema and its default, converted as ``--config-json`` converts
it, must be the flag's. The run roles of the report, read from the config in code, are held to
the schema the same way.
"""

from __future__ import annotations

import argparse
import importlib
from functools import reduce
from typing import Any

import pytest
import yaml

from litshift.cli import COMMANDS, command_module
from litshift.cli.args import config_defaults, flag_actions
from litshift.report.roles import Roles
from tests.conftest import REPO

SCHEMA = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())

#: where each command's settings live in the schema, as its rule composes its --config-json
#: (workflow/rules/*.smk, config_json): config sections, or single settings of other sections
SOURCES: dict[str, tuple[str, ...]] = {
    "curate-assigned": ("curation",),
    "curate-unassigned": ("curation",),
    "ingest-literature": ("literature",),
    "split": ("split",),
    "conformers": ("conformers",),
    "evaluate": ("evaluate", "train.match_policy"),
    "hose-baseline": ("evaluate", "split.heteronuclei", "train.match_policy"),
    "verify-benchmark": ("verify", "evaluate", "train.match_policy"),
    "summarize-ablations": ("ablations",),
}


def _node(path: str, root: dict[str, Any] = SCHEMA) -> dict[str, Any] | None:
    """The schema of the dotted ``path`` under ``root``, None when there is none."""
    node: dict[str, Any] | None = root
    for part in path.split("."):
        node = (node or {}).get("properties", {}).get(part)
    return node


def _schema_default(command: str, key: str) -> Any:
    """The default of setting ``key`` of ``command``: the first of its sources that has it."""
    for source in SOURCES[command]:
        node = _node(source)
        if node is not None and "properties" in node:  # a section: the key is one of its own
            found = _node(key, node)
        else:  # one setting of another section, passed under its own name
            found = node if key == source.rsplit(".", 1)[-1] else None
        if found is not None:
            return found["default"]
    raise AssertionError(f"{command}: config setting {key!r} is in none of {SOURCES[command]}")


def _nested(key: str, value: Any) -> dict[str, Any]:
    """``filters.shift_window`` -> ``{"filters": {"shift_window": value}}``, as in a config."""
    return reduce(lambda inner, part: {part: inner}, reversed(key.split(".")), value)


CONFIGURED = [
    c for c in COMMANDS if hasattr(importlib.import_module(command_module(c)), "CONFIG_OPTIONS")
]


def test_every_configured_command_has_its_sources() -> None:
    assert set(CONFIGURED) == set(SOURCES)


@pytest.mark.parametrize("command", CONFIGURED)
def test_flag_defaults_are_the_schema_defaults(command: str) -> None:
    module = importlib.import_module(command_module(command))
    parser = argparse.ArgumentParser(prog=f"litshift {command}")
    module.configure_parser(parser)
    actions = flag_actions(parser)
    differ = {}
    for key, option in module.CONFIG_OPTIONS.items():
        dest = option if isinstance(option, str) else option[0]
        setting = _nested(key, _schema_default(command, key))
        schema = config_defaults(parser, setting, {key: option})[dest]
        action = actions[dest][1]
        # a required flag has no default of its own
        if not action.required and schema != action.default:
            differ[key] = (schema, action.default)
    assert differ == {}, "config setting: (schema default, flag default)"


def test_role_defaults_are_the_schema_and_config_defaults() -> None:
    properties = _node("report.roles")["properties"]
    config = yaml.safe_load((REPO / "config.yaml").read_text())["report"]["roles"]
    code = {name: getattr(Roles(), name) for name in properties}
    code = {k: list(v) if isinstance(v, tuple) else v for k, v in code.items()}
    assert code == {k: v["default"] for k, v in properties.items()} == config
    assert Roles.from_config({}) == Roles() == Roles.from_config({"report": {"roles": config}})
