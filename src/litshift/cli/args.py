"""Options that several commands share, the argparse types behind them, and ``--config-json``.

The parsing itself lives in the layers below (:func:`litshift.chem.nuclei.parse_window`) and
raises ``ValueError``; here it becomes argparse's one-line usage error, and the option's flag,
default and help text are written once for every command that takes it.

``--config-json``: a command module that declares ``CONFIG_OPTIONS`` (config key of its section
-> argparse dest, optionally with a converter of the config value) takes its settings as one
JSON object, the way the Snakemake rules pass a config section. The values become the flags'
defaults (:func:`apply_config_json`), so a flag given on the command line still wins and a
setting has one default, the schema's, in the pipeline; the flag's own type and choices check
each value.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from litshift.chem.nuclei import DEFAULT_WINDOWS, parse_window
from litshift.usage import UsageError

__all__ = [
    "CURATION_OPTIONS",
    "ConfigOption",
    "add_config_json_option",
    "add_curation_arguments",
    "add_window_argument",
    "apply_config_json",
    "comma_list",
    "config_defaults",
    "flag_actions",
    "names",
    "negated",
    "per_nucleus",
    "window",
]

#: a config key's flag: its argparse dest, or the dest and a converter of the config value into
#: what the flag takes (the text of a comma-list flag, the texts of a repeatable one, a switch)
ConfigOption = str | tuple[str, Callable[[Any], Any]]

CONFIG_JSON_HELP = (
    "settings from a config section (what the Snakemake rules pass); flags given on the "
    "command line override them"
)


def window(text: str) -> tuple[str, tuple[float, float]]:
    """argparse type of ``--window NUC=LO,HI``: :func:`parse_window`, its error as usage error."""
    try:
        return parse_window(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_window_argument(parser: argparse.ArgumentParser) -> None:
    """``--window 1H=-1,15 --window 13C=-50,250`` (defaults: the paper's windows); the windows
    a stage applies are ``dict(args.window)``: a window given overrides its nucleus' default."""
    parser.add_argument(
        "--window",
        type=window,
        action="append",
        default=list(DEFAULT_WINDOWS.items()),
        metavar="NUC=LO,HI",
        help="plausible shift window per nucleus (repeatable; overrides the defaults "
        "1H=-1,15 13C=-50,250 nucleus by nucleus)",
    )


def add_curation_arguments(parser: argparse.ArgumentParser, table: str) -> None:
    """``--out``, ``--rejected``, ``--nuclei`` and ``--window`` of a curation stage
    (config section ``curation``: :data:`CURATION_OPTIONS`)."""
    parser.add_argument("--out", required=True, help=f"{table}.parquet to write")
    parser.add_argument("--rejected", required=True, help="rejected rows (Parquet) to write")
    parser.add_argument("--nuclei", default="1H,13C", help="comma-separated nuclei to keep")
    add_window_argument(parser)


def names(text: str) -> list[str]:
    """The names of a comma-list flag (``--nuclei 31P,19F``), in order, without blanks around
    them or empty items: ``""`` names none."""
    return [name for name in (item.strip() for item in text.split(",")) if name]


def comma_list(values: Sequence[Any]) -> str:
    """A config list as the text of a comma-list flag: ``[0.8, 0.1, 0.1]`` -> ``0.8,0.1,0.1``."""
    return ",".join(map(str, values))


def per_nucleus(mapping: Mapping[str, Any]) -> list[str]:
    """A config mapping nucleus -> value as the texts of a repeatable ``NUC=VALUE`` flag
    (a window ``[lo, hi]`` -> ``NUC=lo,hi``)."""
    return [
        f"{nucleus}={comma_list(value) if isinstance(value, list) else value}"
        for nucleus, value in mapping.items()
    ]


def negated(value: bool) -> bool:
    """A config switch as its opposite flag (``csp5: false`` -> ``--skip-csp5``)."""
    return not value


#: the ``curation`` settings of both curation commands (:func:`add_curation_arguments`)
CURATION_OPTIONS: dict[str, ConfigOption] = {
    "nuclei": ("nuclei", comma_list),
    "shift_window": ("window", per_nucleus),
}


def add_config_json_option(parser: argparse.ArgumentParser) -> None:
    """``--config-json JSON`` of a command that declares ``CONFIG_OPTIONS``."""
    parser.add_argument("--config-json", metavar="JSON", default=None, help=CONFIG_JSON_HELP)


def flag_actions(
    parser: argparse.ArgumentParser,
) -> dict[str, tuple[argparse.ArgumentParser, argparse.Action]]:
    """Every option of ``parser`` and of its subcommands (``conformers shard``) by dest, with
    the parser that owns it: a default set on the command's parser would not reach a
    subcommand's option."""
    found: dict[str, tuple[argparse.ArgumentParser, argparse.Action]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= flag_actions(sub)
        elif action.option_strings:
            found[action.dest] = (parser, action)
    return found


def _settings(tree: Mapping[str, Any], keys: set[str], prefix: str = "") -> dict[str, Any]:
    """The values of ``tree`` by dotted key, descending into the objects whose settings
    ``keys`` name one by one (``filters.shift_window``); other objects are values."""
    out: dict[str, Any] = {}
    for name, value in tree.items():
        key = prefix + name
        if isinstance(value, Mapping) and any(k.startswith(f"{key}.") for k in keys):
            out |= _settings(value, keys, f"{key}.")
        else:
            out[key] = value
    return out


def _flag_value(action: argparse.Action, value: Any) -> Any:
    """``value`` as the flag parses it from the command line: each item's text through the
    flag's type, checked against its choices; raises ``ValueError`` with argparse's message."""
    if value is None:
        return None
    flag = "/".join(action.option_strings)
    if action.nargs == 0:  # a switch (store_true)
        if not isinstance(value, bool):
            raise ValueError(f"argument {flag}: expected true or false, got {value!r}")
        return value
    many = action.nargs not in (None, "?") or isinstance(action, argparse._AppendAction)
    if isinstance(value, list) != many:
        raise ValueError(f"argument {flag}: expected {'a list' if many else 'one value'}")
    parsed = []
    for item in value if many else [value]:
        text = str(item)
        try:
            item = action.type(text) if action.type is not None else text
        except argparse.ArgumentTypeError as err:
            raise ValueError(f"argument {flag}: {err}") from None
        except (TypeError, ValueError):
            name = getattr(action.type, "__name__", repr(action.type))
            raise ValueError(f"argument {flag}: invalid {name} value: {text!r}") from None
        if action.choices is not None and item not in action.choices:
            choices = ", ".join(map(repr, action.choices))
            raise ValueError(f"argument {flag}: invalid choice: {item!r} (choose from {choices})")
        parsed.append(item)
    return parsed if many else parsed[0]


def config_defaults(
    parser: argparse.ArgumentParser,
    settings: Mapping[str, Any],
    options: Mapping[str, ConfigOption],
    ignored: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The flag values (by dest) of a config section's ``settings``, as ``options`` map them;
    raises :class:`UsageError` for a setting that is neither mapped nor ``ignored``, or a
    value its flag does not take."""
    values = _settings(settings, set(options))
    unknown = sorted(set(values) - set(options) - ignored)
    if unknown:
        raise UsageError(f"--config-json: unknown settings {', '.join(unknown)}")
    actions = flag_actions(parser)
    defaults = {}
    for key, option in options.items():
        if key not in values:
            continue
        dest, convert = (option, None) if isinstance(option, str) else option
        value = values[key]
        try:
            value = value if convert is None else convert(value)
        except (AttributeError, TypeError, ValueError) as err:
            raise UsageError(f"--config-json {key}: unexpected value {value!r} ({err})") from None
        try:
            defaults[dest] = _flag_value(actions[dest][1], value)
        except ValueError as err:
            raise UsageError(f"--config-json {key}: {err}") from None
    return defaults


def apply_config_json(
    parser: argparse.ArgumentParser,
    argv: Sequence[str],
    options: Mapping[str, ConfigOption],
    ignored: frozenset[str] = frozenset(),
) -> None:
    """Make the settings of ``--config-json`` in ``argv`` the defaults of their flags, before
    ``parser`` parses ``argv``: flags on the command line still override them, and a required
    flag is satisfied by its setting."""
    probe = argparse.ArgumentParser(prog=parser.prog, add_help=False)
    add_config_json_option(probe)
    text = probe.parse_known_args(argv)[0].config_json
    if text is None:
        return
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"--config-json is not valid JSON ({err})") from None
    if not isinstance(settings, dict):
        raise UsageError("--config-json must be a JSON object (setting -> value)")
    actions = flag_actions(parser)
    for dest, value in config_defaults(parser, settings, options, ignored).items():
        owner, action = actions[dest]
        owner.set_defaults(**{dest: value})
        action.required = False
