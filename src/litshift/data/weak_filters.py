"""The paper's filters on weak (unassigned) training molecules, as one typed record.

Datasets apply them when weak examples are built and the training config carries them, so the
record lives here, below both. No torch: the Snakefile reads the training config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from litshift.chem.nuclei import DEFAULT_WINDOWS

__all__ = ["WeakFilters", "check_keys"]


def check_keys(cls: type, data: Mapping[str, Any], where: str) -> None:
    """Unknown keys of a config section are a typo: say which, and what is known."""
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"unknown keys in {where}: {unknown}; known: {sorted(known)}")


@dataclass(slots=True)
class WeakFilters:
    """The paper's filters on weak (unassigned) training molecules; ``None`` switches one off."""

    max_atoms: int | None = 70
    """Most atoms per molecule, hydrogens included."""
    elements: tuple[str, ...] | None = ("C", "H", "O", "N", "S", "P", "F", "Cl")
    """Allowed elements."""
    max_stereocentres: int | None = 1
    """Most (assigned or unassigned) tetrahedral stereocentres."""
    windows: dict[str, tuple[float, float]] | None = field(
        default_factory=lambda: dict(DEFAULT_WINDOWS)
    )
    """Plausible shift window (ppm) per nucleus; a shift set with any shift outside is dropped."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WeakFilters:
        check_keys(cls, data, "train.weak_filters")
        values = dict(data)
        if values.get("elements") is not None:
            values["elements"] = tuple(values["elements"])
        if values.get("windows") is not None:
            values["windows"] = {
                k: (float(lo), float(hi)) for k, (lo, hi) in values["windows"].items()
            }
        return cls(**values)
