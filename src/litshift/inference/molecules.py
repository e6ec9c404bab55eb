"""Shifts for user structures: SMILES in the user's atom order -> prediction rows.

The library behind ``litshift predict`` and ``litshift verify``.

Atom indices in the output refer to ``Chem.AddHs(Chem.MolFromSmiles(smiles))`` of the SMILES
*as the user gave it*. Internally the model works in litshift's canonical order (see
:mod:`litshift.chem.molecules`), so every atom is mapped back: heavy atoms through the
canonicalization map, hydrogens through their heavy atom (the i-th H of a heavy atom in the
user's order gets the i-th H of the same heavy atom in litshift's order; hydrogens on one atom
are topologically equivalent, so nothing depends on which is which).

The 3D conformer is embedded on the fly with the conformer stage's settings.

Each shift comes with its calibrated predictive standard deviation (``shift_std_ppm``: the
model's uncertainty head scaled by the run's ``calibration.json``, see
:mod:`litshift.inference.uncertainty`) and the central 95 % interval. Several ``--model``
checkpoints form a deep ensemble: mean of the members, std of their moment-matched mixture.

Every row carries the applicability-domain verdict of its molecule
(:mod:`litshift.inference.domain`, the training domain stored in the checkpoint): outside it,
the std is multiplied by :data:`~litshift.inference.domain.OUT_OF_DOMAIN_STD_FACTOR` so the
interval stays honest, or, with ``--strict``, the molecule becomes a failure row. A molecule
that yields no prediction for any reason is a failure row with the reason; nothing is dropped
silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from litshift.chem.conformers import ConformerError, Geometry
from litshift.chem.drawing import draw_svg, heavy_atom_notes
from litshift.chem.molecules import (
    MoleculeError,
    canonical_order,
    hydrogens_by_heavy_atom,
    mol_from_smiles,
    molecule_key,
)
from litshift.chem.nuclei import element_of
from litshift.chem.solvents import SOLVENT_CLASSES, classify
from litshift.data.datasets import Structure
from litshift.inference.domain import OUT_OF_DOMAIN_STD_FACTOR
from litshift.inference.predictors import ModelPredictor
from litshift.inference.uncertainty import interval

__all__ = [
    "DOMAIN_UNKNOWN",
    "PreparedMolecule",
    "check_nuclei",
    "domain_summary",
    "domain_verdict",
    "failure_message",
    "has_nucleus_atom",
    "missing_heads",
    "predict_molecules",
    "prepare",
    "to_svg",
]

#: domain_reason of rows whose checkpoint stores no training domain
DOMAIN_UNKNOWN = "domain unknown"


@dataclass(slots=True)
class PreparedMolecule:
    """A user molecule ready for the model, with the way back to the user's atom order."""

    input_row: int
    smiles: str
    """As given."""
    solvent: str
    """Canonical solvent name (:func:`litshift.chem.solvents.classify`)."""
    solvent_class: str
    """The model's solvent class (:data:`litshift.chem.solvents.SOLVENT_CLASSES`)."""
    mol_h: Chem.Mol
    """``Chem.AddHs(Chem.MolFromSmiles(smiles))`` in the user's order."""
    litshift_index: list[int]
    """``litshift_index[i]``: litshift-order index of atom ``i`` of ``mol_h``."""
    structure: Structure


def _user_to_litshift(mol: Chem.Mol) -> tuple[str, Chem.Mol, list[int]]:
    """Canonical SMILES, user ``AddHs`` molecule and the user -> litshift atom map."""
    smiles, litshift_h, heavy_map = canonical_order(mol)
    user_h = Chem.AddHs(mol)
    mapping = [-1] * user_h.GetNumAtoms()
    for atom in range(mol.GetNumAtoms()):
        if heavy_map[atom] >= 0:
            mapping[atom] = heavy_map[atom]
    litshift_hydrogens = hydrogens_by_heavy_atom(litshift_h)
    for parent, hydrogens in hydrogens_by_heavy_atom(user_h).items():
        if mapping[parent] < 0:
            continue
        counterparts = litshift_hydrogens.get(mapping[parent], [])
        if len(counterparts) != len(hydrogens):
            raise MoleculeError("hydrogen count changed by canonicalization")
        for user_index, litshift_index in zip(hydrogens, counterparts, strict=True):
            mapping[user_index] = litshift_index
    if sorted(mapping) != list(range(litshift_h.GetNumAtoms())):
        raise MoleculeError("atoms could not be mapped onto the canonical order")
    return smiles, user_h, mapping


def prepare(
    input_row: int,
    smiles: str | None,
    solvent_text: str | None,
    embed: Callable[[str], Geometry],
    max_atoms: int,
) -> PreparedMolecule:
    """Parse, map and embed one input molecule; raises ``MoleculeError``/``ConformerError``."""
    mol = mol_from_smiles(smiles)
    canonical, user_h, mapping = _user_to_litshift(mol)
    if user_h.GetNumAtoms() > max_atoms:
        raise MoleculeError(f"too many atoms: {user_h.GetNumAtoms()} > max_atoms={max_atoms}")
    solvent, solvent_class = classify(solvent_text)
    geometry = embed(canonical)
    structure = Structure(
        key=molecule_key(canonical),
        smiles=canonical,
        atomic_numbers=np.asarray(geometry.atomic_numbers, dtype=np.int64),
        coords=np.asarray(geometry.coords, dtype=np.float32).reshape(-1, 3),
        solvent_class=SOLVENT_CLASSES.index(solvent_class),
    )
    return PreparedMolecule(
        input_row, str(smiles), solvent, solvent_class, user_h, mapping, structure
    )


def failure_message(err: MoleculeError | ConformerError) -> str:
    """The line a user reads for an input :func:`prepare` refused: reason and detail."""
    return err.message if isinstance(err, MoleculeError) else str(err)


def missing_heads(predictor: ModelPredictor, nuclei: Iterable[str]) -> str | None:
    """``"the model has no 31P head (it predicts 1H, 13C)"``, or None when it has them all."""
    missing = [n for n in nuclei if n not in predictor.nuclei]
    if not missing:
        return None
    return f"the model has no {', '.join(missing)} head (it predicts {', '.join(predictor.nuclei)})"


def check_nuclei(predictor: ModelPredictor, nuclei: Sequence[str]) -> None:
    """Refuse ``--nuclei`` values the model has no head for, saying what to do instead."""
    missing = missing_heads(predictor, nuclei)
    if missing:
        raise ValueError(
            f"{missing}; give a model trained with those nuclei (config.hetero.yaml) or leave "
            "them out of --nuclei"
        )


def has_nucleus_atom(molecule: PreparedMolecule, nuclei: Sequence[str]) -> bool:
    """Whether the molecule has an atom of one of ``nuclei`` (``[Fe]`` has none)."""
    elements = {element_of(n) for n in nuclei}
    return any(a.GetSymbol() in elements for a in molecule.mol_h.GetAtoms())


def domain_verdict(reasons: list[str] | None) -> tuple[bool | None, str]:
    """``(in_domain, domain_reason)`` of a row from the predictor's reasons (None: unknown)."""
    if reasons is None:
        return None, DOMAIN_UNKNOWN
    return not reasons, "; ".join(reasons)


def predict_molecules(
    predictor: ModelPredictor, prepared: Sequence[PreparedMolecule], nuclei: Sequence[str]
) -> tuple[list[dict], list[np.ndarray]]:
    """Prediction rows (schema ``predictions``) and, per molecule, shifts in the user's order.

    Rows of a molecule outside the model's training domain have their std multiplied by
    :data:`OUT_OF_DOMAIN_STD_FACTOR` (the interval widens with it).

    Returns
    -------
    rows, shifts
        ``shifts[m]`` has shape ``N x K`` (ppm, the predictor's nuclei, NaN where the element
        does not match the nucleus).
    """
    check_nuclei(predictor, nuclei)
    distributions = predictor.predict_distribution(
        [p.structure for p in prepared], [p.solvent for p in prepared]
    )
    rows: list[dict] = []
    shifts: list[np.ndarray] = []
    for molecule, distribution in zip(prepared, distributions, strict=True):
        in_domain, reason = domain_verdict(predictor.outside_domain(molecule.mol_h))
        widen = OUT_OF_DOMAIN_STD_FACTOR if in_domain is False else 1.0
        # (N, K) each, in the user's atom order
        user_ppm = distribution.mean[molecule.litshift_index]
        user_std = distribution.std[molecule.litshift_index] * widen
        lo, hi = interval(user_ppm, user_std, 0.95)
        elements = [a.GetSymbol() for a in molecule.mol_h.GetAtoms()]
        for k, nucleus in enumerate(predictor.nuclei):
            if nucleus not in nuclei:
                continue
            rows.extend(
                {
                    "input_row": molecule.input_row,
                    "smiles": molecule.smiles,
                    "solvent": molecule.solvent,
                    "solvent_class": molecule.solvent_class,
                    "nucleus": nucleus,
                    "atom_index": i,
                    "element": elements[i],
                    "shift_ppm": float(user_ppm[i, k]),
                    "shift_std_ppm": float(user_std[i, k]),
                    "shift_lo95_ppm": float(lo[i, k]),
                    "shift_hi95_ppm": float(hi[i, k]),
                    "in_domain": in_domain,
                    "domain_reason": reason,
                }
                for i in np.flatnonzero([e == element_of(nucleus) for e in elements])
            )
        shifts.append(user_ppm)
    return rows, shifts


def to_svg(molecule: PreparedMolecule, shifts: np.ndarray, nuclei: Sequence[str]) -> str:
    """2D drawing of the user's molecule; each heavy atom notes its 13C shift and its H shifts."""
    notes = heavy_atom_notes(molecule.mol_h, shifts, nuclei)
    return draw_svg(molecule.mol_h, notes, legend=f"{molecule.smiles} ({molecule.solvent})")


def domain_summary(verdicts: Sequence[list[str] | None]) -> str | None:
    """The console line about the domain (None when every molecule is inside)."""
    if any(v is None for v in verdicts):
        return (
            "domain unknown: the model's checkpoint stores no training domain "
            "(retrain it with this litshift); in_domain is left empty"
        )
    outside = [v for v in verdicts if v]
    if not outside:
        return None
    counts = Counter(r for v in outside for r in v)
    reasons = ", ".join(f"{r} ({n})" for r, n in counts.most_common(5))
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    return (
        f"{len(outside)} of {len(verdicts)} molecules outside the model's domain: {reasons}{more}"
    )
