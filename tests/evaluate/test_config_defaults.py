"""The config schema's defaults of the sections ``evaluate`` and ``verify`` are the code's.

A config that leaves a setting out gets the schema's default, a command line run without the
flag gets the code's (:class:`PredictorOptions`, :class:`ScoringOptions`,
:class:`BenchmarkOptions`, :class:`ErrorModel`); this keeps the two from drifting apart.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from litshift.evaluate.comparison import EvaluationOptions
from litshift.verify.benchmark import BenchmarkOptions
from tests.conftest import REPO

#: settings of the pipeline only: job resources and which trained runs a stage scores
WORKFLOW_ONLY = {"threads", "mem_mb", "runtime", "runs"}


def _schema_defaults(section: str) -> dict[str, Any]:
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    properties = schema["properties"][section]["properties"]
    return {k: v["default"] for k, v in properties.items() if k not in WORKFLOW_ONLY}


def _code_defaults(options: Any) -> dict[str, Any]:
    """The fields of ``options`` and of the options it holds, by name, as the config writes
    them (lists, ``csp5`` rather than a skip flag)."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if dataclasses.is_dataclass(value):
            out |= _code_defaults(value)
        else:
            out[field.name] = list(value) if isinstance(value, tuple) else value
    return out


@pytest.mark.parametrize(
    ("section", "options"), [("evaluate", EvaluationOptions()), ("verify", BenchmarkOptions())]
)
def test_schema_defaults_are_the_code_defaults(section: str, options: Any) -> None:
    schema = _schema_defaults(section)
    code = _code_defaults(options)
    assert set(schema) <= set(code), f"config.{section} settings the code does not have"
    assert schema == {k: code[k] for k in schema}
