"""Which runs play which part on the report page (``report.roles`` of the config).

The page compares runs by what they are for, not by what they are called: the headline pair
(trained without and with the weak literature data) carries the verdict on the weak data, the
gallery and the ablation cost; the ablation runs split into the λ sweep, its reference at
``train.lambda_mol``, the solvent-input comparison and the weak-only collapse. Renaming a run
in ``config.yaml`` then means renaming it here too, and nothing in the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Roles"]


@dataclass(frozen=True, slots=True)
class Roles:
    """Run names by role. The defaults are those of ``config.yaml`` and of
    ``workflow/schemas/config.schema.yaml`` (a test keeps the three equal); they apply where a
    config (one written by hand) has no ``report.roles``."""

    supervised: str = "supervised"
    """Headline run trained on the atom-assigned spectra only (a ``train.runs`` name)."""
    semi: str = "semi"
    """Headline run that adds the weak literature data (a ``train.runs`` name)."""
    lambda_sweep: tuple[str, ...] = ("lambda_0", "lambda_1", "lambda_4", "lambda_16", "lambda_32")
    """Ablation runs turning only ``lambda_mol``: the λ sweep."""
    reference: str = "lambda_1"
    """Ablation run at ``train.lambda_mol``: the [CLS] reference of the solvent comparison,
    shown beside the collapse."""
    solvent: tuple[str, ...] = ("global_bias", "no_solvent")
    """Ablation runs turning only ``model.solvent_mode``, compared with ``reference``."""
    collapse: tuple[str, ...] = ("weak_only",)
    """Ablation runs without atom labels (mode ``weak_only``)."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Roles:
        """The ``report.roles`` of a resolved pipeline config, the defaults where absent.

        Raises
        ------
        ValueError
            An unknown role, or a value of the wrong type (a name, or a list of names).
        """
        given = (config.get("report") or {}).get("roles") or {}
        kinds = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(given) - set(kinds))
        if unknown:
            raise ValueError(f"unknown report.roles {unknown}; known: {sorted(kinds)}")
        values: dict[str, Any] = {}
        for name, value in given.items():
            if kinds[name] == "str":
                if not isinstance(value, str):
                    raise ValueError(f"report.roles.{name} must be a run name, got {value!r}")
                values[name] = value
            else:
                if not isinstance(value, list | tuple) or not all(
                    isinstance(v, str) for v in value
                ):
                    raise ValueError(
                        f"report.roles.{name} must be a list of run names, got {value!r}"
                    )
                values[name] = tuple(value)
        return cls(**values)
