"""The worst-predicted test molecules, drawn by RDKit with observed/predicted shifts on atoms."""

from __future__ import annotations

import re
from collections import defaultdict

import numpy as np
import polars as pl
from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D

from litshift.chem.molecules import mol_from_smiles
from litshift.chem.nuclei import element_of

__all__ = ["molecule_svg", "worst_records"]

#: highlight of the atoms with the largest errors (RGB)
_WORST = (1.0, 0.55, 0.55)


def worst_records(
    predictions: pl.DataFrame, model: str, split: str, nucleus: str, n: int, min_atoms: int = 3
) -> pl.DataFrame:
    """The ``n`` records of ``model`` with the highest MAE on ``nucleus``.

    Returns one row per record: ``record_id``, ``smiles``, ``solvent``, ``mae``, ``n_atoms``;
    records with fewer than ``min_atoms`` scored atoms are left out (one bad atom is not a
    bad molecule).
    """
    return (
        predictions.filter(
            pl.col("model") == model, pl.col("split") == split, pl.col("nucleus") == nucleus
        )
        .group_by("record_id", "smiles", "solvent")
        .agg(
            mae=(pl.col("predicted") - pl.col("observed")).abs().mean(),
            n_atoms=pl.len(),
        )
        .filter(pl.col("n_atoms") >= min_atoms)
        .sort(["mae", "record_id"], descending=[True, False])
        .head(n)
    )


def molecule_svg(
    smiles: str, atoms: pl.DataFrame, nucleus: str, legend: str, size: tuple[int, int] = (360, 300)
) -> str:
    """Inline SVG of ``smiles`` with ``observed/predicted`` noted on each scored atom.

    ``atoms`` holds ``atom_index`` (litshift order), ``observed`` and ``predicted`` of one
    record and nucleus. Proton shifts are noted on their heavy atom (averaged over its H); the
    three atoms with the largest errors are highlighted.
    """
    mol_h = Chem.AddHs(mol_from_smiles(smiles))
    mol = Chem.RemoveHs(mol_h, sanitize=False)  # hydrogens come last: heavy indices unchanged
    values: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for row in atoms.iter_rows(named=True):
        atom = mol_h.GetAtomWithIdx(row["atom_index"])
        heavy = atom.GetNeighbors()[0].GetIdx() if atom.GetAtomicNum() == 1 else atom.GetIdx()
        values[heavy].append((row["observed"], row["predicted"]))
    digits = 2 if element_of(nucleus) == "H" else 1
    errors = {}
    for heavy, pairs in values.items():
        observed, predicted = np.mean(pairs, axis=0)
        mol.GetAtomWithIdx(heavy).SetProp(
            "atomNote", f"{observed:.{digits}f}/{predicted:.{digits}f}"
        )
        errors[heavy] = abs(predicted - observed)
    worst = sorted(errors, key=errors.get, reverse=True)[:3]
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    options = drawer.drawOptions()
    options.fixedBondLength = 32  # small molecules are not blown up, large ones shrink to fit
    options.maxFontSize = 16
    options.annotationFontScale = 0.7
    options.legendFontSize = 14
    options.clearBackground = False
    drawer.DrawMolecule(
        mol,
        legend=legend,
        highlightAtoms=worst,
        highlightAtomColors=dict.fromkeys(worst, _WORST),
        highlightBonds=[],
    )
    drawer.FinishDrawing()
    # inline in HTML: no XML declaration
    return re.sub(r"^<\?xml[^>]*\?>\s*", "", drawer.GetDrawingText())
