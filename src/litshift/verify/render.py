"""What ``litshift verify`` shows: the ranking table, the JSON document and one SVG per candidate.

Atom indices in every output refer to ``Chem.AddHs(Chem.MolFromSmiles(smiles))`` of the SMILES
*as the user gave it* (like ``litshift predict``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from rdkit import Chem

from litshift.chem.drawing import draw_svg, heavy_atom_notes
from litshift.verify.assignment import Assignment
from litshift.verify.candidates import Candidate
from litshift.verify.peaks import PeakList
from litshift.verify.scoring import COMBINED, CandidateScore

__all__ = ["assignment_rows", "candidate_svg", "ranking", "report_json", "text_report"]

#: highlight colours: |z| >= 2 (a poor match), the other worst atoms, atoms no peak explains
_BAD = (0.95, 0.45, 0.45)
_POOR = (1.0, 0.8, 0.45)
_MISSING = (0.8, 0.8, 0.8)


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def ranking(scores: Sequence[CandidateScore]) -> list[CandidateScore]:
    """Candidates by combined probability, best first (unscored last, input order on ties)."""

    def key(score: CandidateScore) -> tuple[bool, float, int]:
        p = _finite(score.probability.get(COMBINED))
        return (p is None, -(p or 0.0), score.index)

    return sorted(scores, key=key)


def assignment_rows(candidate: Candidate, score: CandidateScore) -> list[dict[str, Any]]:
    """One dict per assignment row: nucleus, peak, atoms (user order), prediction, error, z."""
    rows = []
    for nucleus, assignment in score.assignments.items():
        for match in assignment.matches:
            rows.append(
                {
                    "nucleus": nucleus,
                    "peak_index": match.peak_index,
                    "observed": match.observed,
                    "atoms": candidate.user_atoms(match.atoms),
                    "predicted": match.predicted,
                    "std": match.std,
                    "error": match.error,
                    "z": match.z,
                    "log_likelihood": match.log_likelihood,
                }
            )
    return rows


def report_json(
    candidates: Sequence[Candidate],
    scores: Sequence[CandidateScore],
    peaks: Mapping[str, PeakList],
    rejected: Sequence[Mapping[str, str]],
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    """The whole result as a JSON-ready document (NaN written as null)."""
    entries = []
    for rank, score in enumerate(ranking(scores), start=1):
        candidate = candidates[score.index]
        entries.append(
            {
                "rank": rank,
                "name": candidate.name,
                "smiles": candidate.molecule.smiles,
                "canonical_smiles": candidate.smiles,
                "probability": {k: _finite(v) for k, v in score.probability.items()},
                "log_likelihood": {k: _finite(v) for k, v in score.log_likelihood.items()},
                "mae": {n: _finite(a.mae) for n, a in score.assignments.items()},
                "branch": {n: a.branch for n, a in score.assignments.items()},
                "unscored": dict(score.unscored),
                "assignment": assignment_rows(candidate, score),
            }
        )
    return {
        **settings,
        "peaks": {n: {"shifts": list(p.shifts), "n_h": list(p.n_h)} for n, p in peaks.items()},
        "candidates": entries,
        "rejected": [dict(r) for r in rejected],
    }


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def text_report(
    candidates: Sequence[Candidate],
    scores: Sequence[CandidateScore],
    nuclei: Sequence[str],
    rejected: Sequence[Mapping[str, str]],
) -> str:
    """The ranking, then the per-peak assignment of the best candidate."""
    keys = [*nuclei, COMBINED] if len(nuclei) > 1 else list(nuclei)
    header = ["rank", *(f"P({k})" for k in keys), *(f"MAE {n}" for n in nuclei), "name", "smiles"]
    lines = ["  ".join(f"{h:>9}" for h in header[:-2]) + "  name  smiles"]
    ranked = ranking(scores)
    for rank, score in enumerate(ranked, start=1):
        candidate = candidates[score.index]
        cells = [str(rank)] + [_number(score.probability.get(k), 3) for k in keys]
        cells += [
            _number(score.assignments[n].mae if n in score.assignments else None, 2) for n in nuclei
        ]
        lines.append(
            "  ".join(f"{c:>9}" for c in cells) + f"  {candidate.name}  {candidate.molecule.smiles}"
        )
        for nucleus, reason in score.unscored.items():
            lines.append(f"{'':>9}  {nucleus} not scored: {reason}")
    for entry in rejected:
        lines.append(f"rejected  {entry['name']}  {entry['smiles']}: {entry['reason']}")
    if ranked and ranked[0].assignments:
        best = candidates[ranked[0].index]
        lines += ["", f"assignment of {best.name} (atoms: indices in the SMILES as given)"]
        lines.append(
            f"{'nucleus':>7} {'observed':>9} {'predicted':>9} {'std':>6} {'error':>7} {'z':>6}"
            "  atoms"
        )
        for row in assignment_rows(best, ranked[0]):
            atoms = ",".join(map(str, row["atoms"])) or "(unexplained)"
            lines.append(
                f"{row['nucleus']:>7} {_number(row['observed'], 2):>9} "
                f"{_number(row['predicted'], 2):>9} {_number(row['std'], 2):>6} "
                f"{_number(row['error'], 2):>7} {_number(row['z'], 1):>6}  "
                + (atoms if row["observed"] is not None else f"{atoms} (no peak)")
            )
        for nucleus, assignment in ranked[0].assignments.items():
            lines += _count_notes(best.name, nucleus, assignment)
    return "\n".join(lines)


def _count_notes(name: str, nucleus: str, assignment: Assignment) -> list[str]:
    """One plain line each for peaks the structure cannot explain and atom groups left without
    a peak: a single candidate always ranks first, so the table alone would not say so."""
    peaks = [m for m in assignment.matches if m.observed is not None]
    unexplained = sum(1 for m in peaks if not m.atoms)
    missing = sum(1 for m in assignment.matches if m.observed is None)
    notes = []
    if unexplained:
        notes.append(
            f"{nucleus}: {unexplained} of {len(peaks)} peaks unexplained by {name} (impurity, "
            "solvent, rotamer, or a structure with more environments)"
        )
    if missing:
        notes.append(
            f"{nucleus}: {missing} atom group(s) of {name} without a peak (overlapping or "
            "broadened signals, or a structure with fewer environments)"
        )
    return notes


def _carrier(mol_h: Chem.Mol, atom: int) -> int:
    """The heavy atom drawn for ``atom``: itself, or the atom a hydrogen sits on."""
    a = mol_h.GetAtomWithIdx(atom)
    return a.GetNeighbors()[0].GetIdx() if a.GetAtomicNum() == 1 and a.GetDegree() == 1 else atom


def candidate_svg(
    candidate: Candidate, score: CandidateScore, nuclei: Sequence[str], worst: int = 3
) -> str:
    """The candidate with its assigned observed shifts on the atoms; the ``worst`` atom groups
    by |z| highlighted (red when |z| >= 2), atoms whose group got no peak in grey, hydrogens
    through the atom carrying them."""
    mol_h = candidate.molecule.mol_h
    observed = np.full((mol_h.GetNumAtoms(), len(nuclei)), np.nan)
    badness: dict[int, float] = {}
    missing: set[int] = set()
    for nucleus, assignment in score.assignments.items():
        k = list(nuclei).index(nucleus)
        for match in assignment.matches:
            atoms = candidate.user_atoms(match.atoms)
            if match.observed is not None:
                observed[atoms, k] = match.observed
            heavy_atoms = {_carrier(mol_h, atom) for atom in atoms}
            if match.observed is None:
                missing |= heavy_atoms
            if match.z is None:
                continue
            for heavy in heavy_atoms:
                badness[heavy] = max(badness.get(heavy, 0.0), abs(match.z))
    chosen = sorted(badness, key=lambda a: (-badness[a], a))[:worst]
    highlight = {a: _MISSING for a in missing}
    highlight.update({a: _BAD if badness[a] >= 2 else _POOR for a in chosen})
    p = score.probability.get(COMBINED)
    legend = f"{candidate.name}: P = {_number(p, 3)}" + (" (grey: no peak)" if missing else "")
    return draw_svg(mol_h, heavy_atom_notes(mol_h, observed, nuclei), legend, highlight)
