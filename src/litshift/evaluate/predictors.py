"""Everything that predicts shifts for evaluation, behind one interface.

A predictor maps structures (litshift atom order, with the conformer the trained models see)
to one ``N x K`` array per structure: ppm for each atom and evaluated nucleus, NaN where it
makes no prediction (atoms of another element, a nucleus it does not know, a molecule a peer
failed on). Every predictor sees the same geometry, so differences come from the method.

- :class:`ModelPredictor`: a trained litshift checkpoint.
- :class:`HosePredictor`: the HOSE-code lookup baseline (:mod:`litshift.evaluate.hose`).
- :class:`Csp5Predictor`: the CSP5 package (PyPI ``csp5``, extra ``peer``), an external peer
  used only when installed (:func:`csp5_version`).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import torch
from rdkit import Chem

from litshift.chem.molecules import mol_from_smiles
from litshift.chem.nuclei import element_of
from litshift.data.datasets import Structure
from litshift.evaluate.hose import HoseModel
from litshift.model.transformer import ShiftTransformer
from litshift.train.trainer import predict_ppm

__all__ = [
    "CSP5_NUCLEI",
    "Csp5Predictor",
    "HosePredictor",
    "ModelPredictor",
    "Predictor",
    "csp5_version",
]

logger = logging.getLogger(__name__)

#: nuclei the bundled CSP5 models predict (19F is not evaluated here)
CSP5_NUCLEI = ("1H", "13C")


class Predictor(Protocol):
    """Anything that scores test structures."""

    name: str

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        """One ``N x K`` float array (ppm, NaN = no prediction) per structure.

        ``solvents`` are the canonical fine solvent names (the trained models use the
        structure's solvent class instead).
        """
        ...


def _atomic_number(nucleus: str) -> int:
    return Chem.GetPeriodicTable().GetAtomicNumber(element_of(nucleus))


def _empty(structure: Structure, n_nuclei: int) -> np.ndarray:
    return np.full((len(structure.atomic_numbers), n_nuclei), np.nan)


@dataclass(slots=True)
class ModelPredictor:
    """A trained :class:`ShiftTransformer` (as ``litshift predict`` would run it)."""

    name: str
    model: ShiftTransformer
    nuclei: tuple[str, ...]
    device: torch.device
    batch_size: int = 64

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        # batches of similar size waste little on padding (attention is N x N)
        order = sorted(range(len(structures)), key=lambda i: len(structures[i].atomic_numbers))
        ranked = predict_ppm(
            self.model, [structures[i] for i in order], self.batch_size, self.device
        )
        raw: list[np.ndarray] = [np.empty(0)] * len(structures)
        for i, ppm in zip(order, ranked, strict=True):
            raw[i] = ppm
        model_nuclei = self.model.config.nuclei
        out = []
        for structure, ppm in zip(structures, raw, strict=True):
            values = _empty(structure, len(self.nuclei))
            for k, nucleus in enumerate(self.nuclei):
                if nucleus in model_nuclei:
                    atoms = structure.atomic_numbers == _atomic_number(nucleus)
                    values[atoms, k] = ppm[atoms, model_nuclei.index(nucleus)]
            out.append(values)
        return out


@dataclass(slots=True)
class HosePredictor:
    """The HOSE-code lookup, fitted on the assigned training split."""

    hose: HoseModel
    nuclei: tuple[str, ...]
    name: str = "HOSE"

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        out = []
        for structure in structures:
            mol_h = Chem.AddHs(mol_from_smiles(structure.smiles))
            values = _empty(structure, len(self.nuclei))
            for k, nucleus in enumerate(self.nuclei):
                if nucleus not in self.hose.element_means:
                    continue
                for atom in np.flatnonzero(structure.atomic_numbers == _atomic_number(nucleus)):
                    values[atom, k] = self.hose.predict_atom(mol_h, nucleus, int(atom))[0]
            out.append(values)
        return out


def csp5_version() -> str | None:
    """The installed CSP5 version, or ``None`` when the package is not importable."""
    if importlib.util.find_spec("csp5") is None:
        return None
    return importlib.metadata.version("csp5")


def _csp5_solvent(canonical: str) -> str:
    """CSP5's key for a litshift canonical solvent; ``unknown`` outside its vocabulary."""
    from csp5.model_registry import SOLVENT_VOCAB

    key = canonical.lower()
    return key if key in SOLVENT_VOCAB else "unknown"


def _with_conformer(structure: Structure) -> Chem.Mol:
    """The litshift-order molecule carrying the structure's coordinates."""
    mol_h = Chem.AddHs(mol_from_smiles(structure.smiles))
    conformer = Chem.Conformer(mol_h.GetNumAtoms())
    for i, xyz in enumerate(np.asarray(structure.coords, dtype=np.float64)):
        conformer.SetAtomPosition(i, xyz.tolist())
    mol_h.AddConformer(conformer, assignId=True)
    return mol_h


@dataclass(slots=True)
class Csp5Predictor:
    """CSP5 on litshift's conformers, one call per (solvent, nucleus).

    CSP5 returns shifts indexed by the atoms of the molecule it is given, so handing it the
    litshift-order molecule keeps every index aligned. Molecules it refuses (its ``failures``:
    no atom of the nucleus, a close contact, an out-of-range prediction) stay NaN and are
    counted in :attr:`failures` (molecules without an atom of the nucleus included).
    """

    nuclei: tuple[str, ...]
    device: str = "cpu"
    batch_size: int = 32
    name: str = "CSP5"
    failures: Counter[str] = field(default_factory=Counter)
    """CSP5's failure reasons (``no_proton``, ``prediction_out_of_range``, ...) -> count."""

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        from csp5 import predict_mols

        out = [_empty(s, len(self.nuclei)) for s in structures]
        by_solvent: dict[str, list[int]] = defaultdict(list)
        for i, solvent in enumerate(solvents):
            by_solvent[_csp5_solvent(solvent)].append(i)
        for solvent, indices in sorted(by_solvent.items()):
            mols = [_with_conformer(structures[i]) for i in indices]
            for k, nucleus in enumerate(self.nuclei):
                if nucleus not in CSP5_NUCLEI:
                    continue
                # CSP5 renumbers molecule_id over the molecules it did not refuse; the extra
                # column carries our own index through
                result = predict_mols(
                    mols,
                    smiles=[structures[i].smiles for i in indices],
                    nucleus=nucleus,
                    solvent=solvent,
                    device=self.device,
                    batch_size=self.batch_size,
                    extra_cols={"litshift_item": indices},
                )
                reasons = (failure.partition("\t")[0] for failure in result.failures)
                self.failures.update(f"{nucleus}.{reason}" for reason in reasons)
                table = result.predictions
                if len(table) == 0:  # every molecule refused: not even the columns exist
                    continue
                for item, atom, shift in zip(
                    table["litshift_item"], table["atom_index"], table["shift_ppm"], strict=True
                ):
                    out[int(item)][int(atom), k] = float(shift)
        return out
