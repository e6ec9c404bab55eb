"""2D drawings of molecules annotated with per-atom shifts (``litshift predict``, ``verify``).

Hydrogens are not drawn: a heavy atom's note carries its own shift (13C on a carbon) and the
shifts of the hydrogens it carries (1H), so a drawing reads like an assigned spectrum.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D

from litshift.chem.molecules import hydrogens_by_heavy_atom
from litshift.chem.nuclei import element_of

__all__ = ["draw_svg", "heavy_atom_notes"]


def heavy_atom_notes(mol_h: Chem.Mol, values: np.ndarray, nuclei: Sequence[str]) -> dict[int, str]:
    """Heavy atom index -> ``"128.4 | 7.26"`` (its own shift, then its hydrogens' shifts).

    Parameters
    ----------
    mol_h
        Molecule with explicit hydrogens.
    values
        Shape ``N x K`` (ppm, columns = ``nuclei``); NaN entries are left out.
    """
    hydrogens = hydrogens_by_heavy_atom(mol_h)
    notes = {}
    for atom in mol_h.GetAtoms():
        if atom.GetAtomicNum() == 1:
            continue
        parts = []
        for k, nucleus in enumerate(nuclei):
            if element_of(nucleus) == "H":
                shifts = [values[h, k] for h in hydrogens.get(atom.GetIdx(), [])]
                shifts = [v for v in shifts if np.isfinite(v)]
                if shifts:
                    parts.append("/".join(f"{v:.2f}" for v in sorted(set(np.round(shifts, 2)))))
            elif element_of(nucleus) == atom.GetSymbol() and np.isfinite(values[atom.GetIdx(), k]):
                parts.append(f"{values[atom.GetIdx(), k]:.1f}")
        if parts:
            notes[atom.GetIdx()] = " | ".join(parts)
    return notes


def draw_svg(
    mol_h: Chem.Mol,
    notes: Mapping[int, str],
    legend: str,
    highlight: Mapping[int, tuple[float, float, float]] | None = None,
    size: tuple[int, int] = (500, 400),
) -> str:
    """SVG of ``mol_h`` without hydrogens; ``notes`` and ``highlight`` (RGB in 0-1) are keyed
    by heavy atom index (indices survive the removal of hydrogens)."""
    mol = Chem.RemoveHs(mol_h, sanitize=False)  # heavy atoms keep their indices
    for index, note in notes.items():
        mol.GetAtomWithIdx(index).SetProp("atomNote", note)
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    drawer.drawOptions().annotationFontScale = 0.6
    colors = dict(highlight or {})
    drawer.DrawMolecule(
        mol,
        legend=legend,
        highlightAtoms=list(colors),
        highlightAtomColors=colors or None,
        highlightBonds=[],  # atoms only: two bad neighbours do not make a bad bond
    )
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
