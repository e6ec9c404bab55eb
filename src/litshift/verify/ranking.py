"""Rank candidate structures by how well they explain a measured spectrum: the work of
``litshift verify`` (:mod:`litshift.cli.verify`).

Each candidate is embedded, predicted with a calibrated uncertainty by the model (a deep
ensemble when several checkpoints are loaded), matched to the peaks with the training
count-mismatch policy and scored DP4-style (:mod:`litshift.verify.scoring`). A candidate that
cannot be used is listed as rejected, with the reason, and the others are still ranked. A
candidate outside the model's training domain (:mod:`litshift.inference.domain`) is scored with
its std widened like ``litshift predict``'s, or rejected when ``strict``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from litshift.chem.conformers import embed_geometry
from litshift.inference.domain import OUT_OF_DOMAIN_STD_FACTOR
from litshift.inference.molecules import domain_verdict, missing_heads
from litshift.inference.predictors import ModelPredictor
from litshift.verify.candidates import Candidate, prepare_candidates
from litshift.verify.likelihood import ErrorModel
from litshift.verify.peaks import MeasuredSpectrum, PeakList, drop_residual_lines
from litshift.verify.render import report_json
from litshift.verify.scoring import CandidateScore, score_candidates

__all__ = ["Verification", "VerificationError", "rank_candidates"]

logger = logging.getLogger(__name__)


class VerificationError(Exception):
    """The spectrum cannot be ranked with this model: a measured nucleus without a head, no
    peak left to score or no usable candidate."""


@dataclass(slots=True)
class Verification:
    """The scored candidates and what was left out."""

    peaks: dict[str, PeakList]
    """The measured peaks scored (solvent residual lines dropped)."""
    residual_lines: dict[str, list[float]]
    """Nucleus -> measured lines dropped as the solvent's residual signal."""
    candidates: list[Candidate]
    verdicts: list[list[str] | None]
    """Per candidate: why it is outside the model's training domain ([]: inside; None:
    unknown)."""
    rejected: list[dict[str, str]]
    """``name``, ``smiles`` and ``reason`` of each candidate that was not scored."""
    scores: list[CandidateScore]
    """In the order of :attr:`candidates`."""

    def to_json(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The whole result as a JSON-ready document: ``settings`` (with the residual lines
        dropped), the peaks, the ranked candidates with their domain verdicts, the
        rejections."""
        document = report_json(
            self.candidates,
            self.scores,
            self.peaks,
            self.rejected,
            settings | {"residual_lines_dropped": self.residual_lines},
        )
        by_smiles = {
            c.smiles: domain_verdict(v) for c, v in zip(self.candidates, self.verdicts, strict=True)
        }
        for entry in document["candidates"]:
            entry["in_domain"], entry["domain_reason"] = by_smiles[entry["canonical_smiles"]]
        return document


def rank_candidates(
    predictor: ModelPredictor,
    measured: MeasuredSpectrum,
    solvent: str,
    items: Sequence[tuple[str, str]],
    error_model: ErrorModel,
    policy: str,
    strict: bool,
) -> Verification:
    """Score the candidates ``items`` (``(name, smiles)``) against ``measured`` in ``solvent``.

    Raises :class:`VerificationError` when a measured nucleus has no head in the model (scoring
    the others alone would rank candidates on part of the evidence), when no peak of a
    predicted nucleus is left, or when no candidate can be used.
    """
    missing = missing_heads(predictor, measured.peaks)
    if missing:
        raise VerificationError(
            f"{missing}; give a model trained with those nuclei (config.hetero.yaml) or leave "
            "their peaks out"
        )
    peaks, residual_lines = {}, {}
    for nucleus, peak_list in measured.peaks.items():
        kept, residual = drop_residual_lines(peak_list, solvent)
        if residual:
            logger.warning("%s: %s dropped as %s residual lines", nucleus, residual, solvent)
            residual_lines[nucleus] = residual
        if kept.shifts:
            peaks[nucleus] = kept
    if not peaks:
        raise VerificationError(f"no peaks of a nucleus the model predicts {predictor.nuclei}")
    candidates, rejected = prepare_candidates(items, solvent, embed_geometry, predictor.max_atoms)
    verdicts = [predictor.outside_domain(c.mol_h) for c in candidates]
    if strict:
        for candidate, verdict in zip(candidates, verdicts, strict=True):
            if verdict:
                reason = f"outside the model's domain: {'; '.join(verdict)}"
                rejected.append(
                    {"name": candidate.name, "smiles": candidate.molecule.smiles, "reason": reason}
                )
        inside = [i for i, v in enumerate(verdicts) if not v]
        candidates, verdicts = [candidates[i] for i in inside], [verdicts[i] for i in inside]
    for entry in rejected:
        logger.warning("candidate %s rejected: %s", entry["name"], entry["reason"])
    if not candidates:
        raise VerificationError("no usable candidate (see the rejections above)")
    distributions = predictor.predict_distribution(
        [c.molecule.structure for c in candidates], [solvent] * len(candidates)
    )
    # outside the domain the intervals widen as in litshift predict, so the likelihood of a
    # poorly known candidate is not overconfident
    widen = [OUT_OF_DOMAIN_STD_FACTOR if v else 1.0 for v in verdicts]
    scores = score_candidates(
        [c.mol_h for c in candidates],
        [d.mean for d in distributions],
        [d.std * w for d, w in zip(distributions, widen, strict=True)],
        predictor.nuclei,
        peaks,
        error_model,
        policy,
    )
    return Verification(peaks, residual_lines, candidates, verdicts, rejected, scores)
