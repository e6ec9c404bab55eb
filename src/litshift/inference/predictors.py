"""Everything that predicts shifts for evaluation, behind one interface.

A predictor maps structures (litshift atom order, with the conformer the trained models see)
to one ``N x K`` array per structure: ppm for each atom and evaluated nucleus, NaN where it
makes no prediction (atoms of another element, a nucleus it does not know, a molecule a peer
failed on). Every predictor sees the same geometry, so differences come from the method.

- :class:`ModelPredictor`: a trained litshift checkpoint, or a deep ensemble of them.
- :class:`HosePredictor`: the HOSE-code lookup baseline (:mod:`litshift.chem.hose`).
- :class:`Csp5Predictor`: the CSP5 package (PyPI ``csp5``, extra ``peer``), an external peer
  used only when installed (:func:`csp5_version`).

Uncertainty (:mod:`litshift.inference.uncertainty`): ``predict_distribution`` returns a Gaussian
per atom. Its raw std is the model's uncertainty head (1 for a model without one), 1 for CSP5,
and 1 per matched sphere radius for HOSE; :func:`fit_calibration_on` scales it per nucleus (and
per radius for HOSE) on the assigned validation split. A trained run stores its factors in
``calibration.json`` next to ``model.pt`` (:data:`CALIBRATION_FILE`, written by ``litshift
train``); an ensemble applies each member's own factors, then moment-matches the mixture (mean
of the member variances plus the variance of the means), so its spread adds to their error.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
import torch
from rdkit import Chem

from litshift.chem.hose import HoseModel
from litshift.chem.molecules import mol_from_smiles
from litshift.chem.nuclei import element_of
from litshift.data.datasets import LabeledExample, Structure
from litshift.inference.domain import Domain, domain_reasons
from litshift.inference.prediction import predict_ppm, predict_ppm_std
from litshift.inference.uncertainty import (
    ALL,
    Calibration,
    ShiftDistribution,
    combine_members,
    coverage,
    fit_calibration,
)
from litshift.model.checkpoint import load_model
from litshift.model.transformer import ShiftTransformer

__all__ = [
    "CALIBRATION_FILE",
    "CSP5_NUCLEI",
    "Csp5Predictor",
    "HosePredictor",
    "ModelPredictor",
    "Predictor",
    "RawDistribution",
    "calibrate_model",
    "coverage_metrics",
    "csp5_version",
    "fit_calibration_on",
    "load_model_predictor",
]

logger = logging.getLogger(__name__)

#: nuclei the bundled CSP5 models predict (19F is not evaluated here)
CSP5_NUCLEI = ("1H", "13C")
#: per-run calibration factors, next to the run's model.pt
CALIBRATION_FILE = "calibration.json"


class RawDistribution(NamedTuple):
    """A predictor's uncalibrated Gaussian for one structure (all ``N x K``)."""

    mean: np.ndarray
    std: np.ndarray
    """Raw std (ppm, or 1 where the method has no uncertainty of its own)."""
    group: np.ndarray | None
    """Calibration group per atom (HOSE: the matched radius as a string); None = nucleus-wide."""


class Predictor(Protocol):
    """Anything that scores test structures."""

    name: str

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        """One ``N x K`` float array (ppm, NaN = no prediction) per structure.

        ``solvents`` are the canonical fine solvent names (the trained models use the
        structure's solvent class instead).
        """
        ...

    def predict_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[ShiftDistribution]:
        """Calibrated Gaussian per atom (NaN where ``predict`` gives NaN)."""
        ...


def _calibrated(
    raw: Sequence[RawDistribution], nuclei: Sequence[str], calibration: Calibration | None
) -> list[ShiftDistribution]:
    """Apply the factors of ``calibration`` (None: raw std) per nucleus and group."""
    out = []
    for item in raw:
        std = np.full_like(item.std, np.nan)
        for k, nucleus in enumerate(nuclei):
            finite = np.isfinite(item.mean[:, k])
            values = item.std[finite, k]
            if calibration is not None:
                groups = item.group[finite, k] if item.group is not None else None
                values = calibration.apply(nucleus, values, groups)
            std[finite, k] = values
        out.append(ShiftDistribution(item.mean, std))
    return out


def fit_calibration_on(
    raw: Sequence[RawDistribution], examples: Sequence[LabeledExample], nuclei: Sequence[str]
) -> Calibration:
    """Fit the factors on labeled (validation) examples whose ``N x K`` labels follow
    ``nuclei``; atoms a predictor leaves NaN are not used."""
    residuals, stds, groups = [], [], []
    for k in range(len(nuclei)):
        r, s, g = [], [], []
        for item, example in zip(raw, examples, strict=True):
            use = example.mask[:, k] & np.isfinite(item.mean[:, k])
            r.append(item.mean[use, k] - example.targets[use, k])
            s.append(item.std[use, k])
            g.append(item.group[use, k] if item.group is not None else np.full(use.sum(), ALL))
        residuals.append(np.concatenate(r) if r else np.empty(0))
        stds.append(np.concatenate(s) if s else np.empty(0))
        groups.append(np.concatenate(g) if g else np.empty(0))
    return fit_calibration(nuclei, residuals, stds, groups)


def _atomic_number(nucleus: str) -> int:
    return Chem.GetPeriodicTable().GetAtomicNumber(element_of(nucleus))


def _empty(structure: Structure, n_nuclei: int) -> np.ndarray:
    return np.full((len(structure.atomic_numbers), n_nuclei), np.nan)


@dataclass(slots=True)
class ModelPredictor:
    """Trained :class:`ShiftTransformer` s (as ``litshift predict`` runs them): one model, or a
    deep ensemble whose mean is the members' mean."""

    name: str
    models: tuple[ShiftTransformer, ...]
    nuclei: tuple[str, ...]
    device: torch.device
    batch_size: int = 64
    calibrations: tuple[Calibration | None, ...] = ()
    """One per member (empty, or None for a member: its std stays raw)."""
    domains: tuple[Domain | None, ...] = ()
    """Training domain per member (empty, or None for a checkpoint written before litshift
    stored one: the verdict is then unknown)."""

    @property
    def max_atoms(self) -> int:
        return min(m.config.max_atoms for m in self.models)

    @property
    def knows_domain(self) -> bool:
        return bool(self.domains) and all(d is not None for d in self.domains)

    def outside_domain(self, mol: Chem.Mol) -> list[str] | None:
        """Why ``mol`` lies outside the training domain of any member (empty: inside all);
        None when a member's domain is unknown."""
        if not self.knows_domain:
            return None
        reasons: list[str] = []
        for domain in self.domains:
            reasons += [r for r in domain_reasons(domain, mol) if r not in reasons]
        return reasons

    def _member(
        self, model: ShiftTransformer, structures: Sequence[Structure], with_std: bool
    ) -> list[RawDistribution]:
        """One member's mean and raw std on the evaluated nuclei, NaN off the element."""
        # predict_ppm[_std] batch by size themselves and answer in input order
        if with_std and model.has_scale_head:
            predicted = predict_ppm_std(model, structures, self.batch_size, self.device)
        else:
            predicted = [
                (m, np.ones_like(m))
                for m in predict_ppm(model, structures, self.batch_size, self.device)
            ]
        model_nuclei = model.config.nuclei
        out = []
        for structure, (ppm, std) in zip(structures, predicted, strict=True):
            values, stds = _empty(structure, len(self.nuclei)), _empty(structure, len(self.nuclei))
            for k, nucleus in enumerate(self.nuclei):
                if nucleus in model_nuclei:
                    atoms = structure.atomic_numbers == _atomic_number(nucleus)
                    values[atoms, k] = ppm[atoms, model_nuclei.index(nucleus)]
                    stds[atoms, k] = std[atoms, model_nuclei.index(nucleus)]
            out.append(RawDistribution(values, stds, None))
        return out

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        members = [self._member(m, structures, with_std=False) for m in self.models]
        return [np.mean([m[i].mean for m in members], axis=0) for i in range(len(structures))]

    def raw_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[RawDistribution]:
        """Mean and uncalibrated head std of a single model (what its calibration is fitted on)."""
        if len(self.models) != 1:
            raise ValueError("an ensemble is calibrated through its members")
        return self._member(self.models[0], structures, with_std=True)

    def predict_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[ShiftDistribution]:
        calibrations = self.calibrations or (None,) * len(self.models)
        members = [
            _calibrated(self._member(model, structures, with_std=True), self.nuclei, calibration)
            for model, calibration in zip(self.models, calibrations, strict=True)
        ]
        if len(members) == 1:
            return members[0]
        return [
            combine_members([m[i].mean for m in members], [m[i].std for m in members])
            for i in range(len(structures))
        ]


def calibrate_model(
    model: ShiftTransformer,
    examples: Sequence[LabeledExample],
    device: torch.device,
    batch_size: int = 64,
) -> Calibration:
    """Per-nucleus factors of one trained model, fitted on its labeled validation examples
    (labels in the model's nucleus order); what ``litshift train`` saves as
    :data:`CALIBRATION_FILE`."""
    predictor = ModelPredictor("model", (model,), model.config.nuclei, device, batch_size)
    raw = predictor.raw_distribution(examples, [])
    return fit_calibration_on(raw, examples, model.config.nuclei)


def coverage_metrics(
    model: ShiftTransformer,
    calibration: Calibration,
    examples: Sequence[LabeledExample],
    device: torch.device,
    batch_size: int = 64,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
) -> dict[str, float]:
    """``cov<level>.<nucleus>``: the fraction of labeled atoms inside the calibrated central
    intervals (what a model card reports next to the MAE)."""
    predictor = ModelPredictor(
        "model", (model,), model.config.nuclei, device, batch_size, (calibration,)
    )
    distributions = predictor.predict_distribution(examples, [])
    metrics: dict[str, float] = {}
    for k, nucleus in enumerate(model.config.nuclei):
        use = [
            e.mask[:, k] & np.isfinite(d.mean[:, k])
            for e, d in zip(examples, distributions, strict=True)
        ]
        if not any(u.any() for u in use):
            continue
        residuals = np.concatenate(
            [
                d.mean[u, k] - e.targets[u, k]
                for e, d, u in zip(examples, distributions, use, strict=True)
            ]
        )
        stds = np.concatenate([d.std[u, k] for d, u in zip(distributions, use, strict=True)])
        for level in levels:
            metrics[f"cov{round(100 * level)}.{nucleus}"] = coverage(residuals, stds, level)
    return metrics


def load_model_predictor(
    model_paths: Sequence[Path], device: torch.device, name: str | None = None
) -> ModelPredictor:
    """One checkpoint = one model, several = a deep ensemble (all must predict the same nuclei).

    Each member's ``calibration.json`` next to its checkpoint is applied when present; a
    member without one stays uncalibrated (a warning says so). The training domain stored in
    each checkpoint is kept; a checkpoint without one (older runs) leaves the verdict unknown,
    with a warning. ``name`` defaults to the run
    directory of the first checkpoint (``results/models/<run>/model.pt`` -> ``<run>``).
    """
    if not model_paths:
        raise ValueError("no model checkpoint given")
    models, calibrations, domains = [], [], []
    for path in map(Path, model_paths):
        model, state = load_model(path, device)
        models.append(model)
        if isinstance(state.get("domain"), dict):
            domains.append(Domain.from_dict(state["domain"]))
        else:
            logger.warning("%s stores no training domain: in_domain is unknown", path)
            domains.append(None)
        calibration_path = path.parent / CALIBRATION_FILE
        if calibration_path.exists():
            calibrations.append(Calibration.load(calibration_path))
        else:
            logger.warning("%s not found: the std of %s is uncalibrated", calibration_path, path)
            calibrations.append(None)
    nuclei = {m.config.nuclei for m in models}
    if len(nuclei) != 1:
        raise ValueError(f"ensemble members predict different nuclei: {sorted(nuclei)}")
    return ModelPredictor(
        name or Path(model_paths[0]).parent.name,
        tuple(models),
        models[0].config.nuclei,
        device,
        calibrations=tuple(calibrations),
        domains=tuple(domains),
    )


@dataclass(slots=True)
class HosePredictor:
    """The HOSE-code lookup, fitted on the assigned training split."""

    hose: HoseModel
    nuclei: tuple[str, ...]
    name: str = "HOSE"
    calibration: Calibration | None = None
    """Residual scale per nucleus and matched radius (:func:`fit_calibration_on`)."""

    def raw_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[RawDistribution]:
        """Shifts with raw std 1 and the matched sphere radius as calibration group."""
        out = []
        for structure in structures:
            mol_h = Chem.AddHs(mol_from_smiles(structure.smiles))
            values = _empty(structure, len(self.nuclei))
            radius = np.full(values.shape, ALL, dtype=object)
            for k, nucleus in enumerate(self.nuclei):
                if nucleus not in self.hose.element_means:
                    continue
                for atom in np.flatnonzero(structure.atomic_numbers == _atomic_number(nucleus)):
                    values[atom, k], r = self.hose.predict_atom(mol_h, nucleus, int(atom))
                    radius[atom, k] = f"radius {r}"
            out.append(RawDistribution(values, np.where(np.isnan(values), np.nan, 1.0), radius))
        return out

    def predict(self, structures: Sequence[Structure], solvents: Sequence[str]) -> list[np.ndarray]:
        return [item.mean for item in self.raw_distribution(structures, solvents)]

    def predict_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[ShiftDistribution]:
        return _calibrated(
            self.raw_distribution(structures, solvents), self.nuclei, self.calibration
        )


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
    calibration: Calibration | None = None
    """Per-nucleus constant std: CSP5 returns none (:func:`fit_calibration_on`)."""

    def raw_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[RawDistribution]:
        """Shifts with raw std 1 (one nucleus-wide factor after calibration)."""
        return [
            RawDistribution(values, np.where(np.isnan(values), np.nan, 1.0), None)
            for values in self.predict(structures, solvents)
        ]

    def predict_distribution(
        self, structures: Sequence[Structure], solvents: Sequence[str]
    ) -> list[ShiftDistribution]:
        return _calibrated(
            self.raw_distribution(structures, solvents), self.nuclei, self.calibration
        )

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
