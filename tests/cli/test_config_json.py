"""``--config-json``: a config section's settings as the defaults of a command's flags.

The command's ``run`` is replaced by one that keeps the parsed arguments, so these tests see
what the command would get without reading or writing any file.
"""

from __future__ import annotations

import argparse
import importlib
import json

import pytest

from litshift.cli import command_module, main
from litshift.cli.args import names


def _parsed(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> argparse.Namespace:
    """The arguments ``litshift <argv>`` hands to its command."""
    seen: list[argparse.Namespace] = []
    module = importlib.import_module(command_module(argv[0]))
    monkeypatch.setattr(module, "run", lambda args: seen.append(args) or 0)
    assert main(argv) == 0
    return seen[0]


SPLIT = ["split", "--assigned", "a", "--unassigned", "u"]
SPLIT += ["--out-splits", "s", "--out-weak", "w", "--out-literature-test", "t"]
#: the inputs and outputs of ``evaluate`` and ``verify-benchmark``
SCORED = ["--assigned", "a", "--splits", "s", "--literature-test", "l", "--conformers", "c"]
EVALUATE = ["evaluate", *SCORED, "--weak", "w", "--out-predictions", "p", "--out-metrics", "m"]
EVALUATE += ["--out-uncertainty", "u", "--out-summary", "j"]


def test_settings_become_the_flags_values_and_flags_override_them(monkeypatch) -> None:
    cfg = json.dumps({"seed": 5, "fractions": [0.7, 0.2, 0.1], "method": "scaffold"})
    args = _parsed(monkeypatch, [*SPLIT, "--config-json", cfg, "--seed", "9"])
    assert (args.seed, args.fractions, args.method) == (9, "0.7,0.2,0.1", "scaffold")
    assert "config_json" not in vars(args)  # its settings are in their own flags
    assert _parsed(monkeypatch, SPLIT).seed == 17  # without it, the flag's default


def test_converters_and_repeatable_flags(monkeypatch) -> None:
    cfg = json.dumps({"nuclei": ["1H", "31P"], "shift_window": {"1H": [-2, 16], "31P": [-9, 9]}})
    argv = ["curate-assigned", "in.sdf", "--out", "o", "--rejected", "r", "--config-json", cfg]
    args = _parsed(monkeypatch, [*argv, "--window", "31P=-300,300"])
    assert args.nuclei == "1H,31P"
    # the window type parsed each setting; the flag overrides its nucleus' window only
    assert dict(args.window) == {"1H": (-2.0, 16.0), "31P": (-300.0, 300.0)}
    cfg = json.dumps({"csp5": False, "similarity_bins": [0.4], "match_policy": "paper"})
    args = _parsed(monkeypatch, [*EVALUATE, "--config-json", cfg])
    assert (args.skip_csp5, args.similarity_bins, args.match_policy) == (True, "0.4", "paper")


def test_a_setting_satisfies_a_required_flag_of_a_subcommand(monkeypatch) -> None:
    cfg = json.dumps({"n_shards": 3, "cache": "store", "force_fields": ["UFF"], "timeout_s": 7})
    argv = ["conformers", "--config-json", cfg, "shard", "m.parquet", "--shard", "1", "--out", "o"]
    args = vars(_parsed(monkeypatch, argv))
    assert {k: args[k] for k in ("n_shards", "cache", "force_fields", "timeout_s")} == {
        "n_shards": 3,
        "cache": "store",
        "force_fields": ["UFF"],
        "timeout_s": 7,
    }


def test_ignored_settings_are_accepted(monkeypatch) -> None:
    cfg = json.dumps({"runs": ["semi"], "max_cases": None, "n_decoys": 3})
    argv = ["verify-benchmark", *SCORED, "--pool", "p", "--out", "o", "--out-summary", "j"]
    args = _parsed(monkeypatch, [*argv, "--config-json", cfg])
    assert (args.max_cases, args.n_decoys) == (None, 3)


@pytest.mark.parametrize(
    ("cfg", "message"),
    [
        ('{"seed": 1, "mem_mb": 2, "typo": 3}', "--config-json: unknown settings mem_mb, typo"),
        ("{seed: 1}", "--config-json is not valid JSON (Expecting property name enclosed in "),
        ("[1]", "--config-json must be a JSON object (setting -> value)"),
        ('{"seed": "x"}', "--config-json seed: argument --seed: invalid int value: 'x'"),
        ('{"seed": 1.5}', "--config-json seed: argument --seed: invalid int value: '1.5'"),
        ('{"method": "random"}', "--config-json method: argument --method: invalid choice: "),
        ('{"fractions": 0.5}', "--config-json fractions: unexpected value 0.5 ('float' object"),
    ],
)
def test_a_bad_config_is_a_one_line_usage_error(cfg, message, capsys) -> None:
    assert main([*SPLIT, "--config-json", cfg]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"litshift split: error: {message}") and err.count("\n") == 1, err


def test_names_of_a_comma_list_flag() -> None:
    assert names("31P,19F") == ["31P", "19F"]
    assert names(" 31P , 19F,") == ["31P", "19F"]  # blanks and a trailing comma name nothing
    assert names("") == []
