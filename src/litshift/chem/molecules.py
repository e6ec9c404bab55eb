"""Molecule identity and the one atom order used everywhere in litshift.

Atom order convention (labels, conformers, predictions): ``Chem.AddHs(Chem.MolFromSmiles(smiles))``
with ``smiles`` the RDKit canonical SMILES. Heavy atoms come first in SMILES order, then the
hydrogens, grouped by the heavy atom that carries them in ascending heavy-atom order. A user
who predicts for their own SMILES can therefore reproduce every index with two RDKit calls.
"""

from __future__ import annotations

import hashlib
import re

from rdkit import Chem, RDLogger, rdBase

__all__ = [
    "MoleculeError",
    "mol_from_smiles",
    "mol_from_molblock",
    "canonical_smiles",
    "inchikey",
    "connectivity_key",
    "canonical_order",
    "hydrogens_by_heavy_atom",
    "molecule_key",
]

RDLogger.DisableLog("rdApp.*")  # failures are reported as MoleculeError reasons instead


class MoleculeError(ValueError):
    """A structure RDKit cannot use. ``str()`` is the reject reason, a stable category (rejects
    and skips are counted per reason); ``detail`` is what exactly is wrong, for the user."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason)
        self.detail = detail

    @property
    def message(self) -> str:
        """``"reason: detail"``, the form :func:`litshift.data.io.reject_row` splits."""
        return f"{self}: {self.detail}" if self.detail else str(self)


def _rdkit_complaint(log: str) -> str | None:
    """RDKit's first error line without timestamp and input echo, plus the position it names
    (``"unclosed ring"``, ``"syntax error at position 3"``, ``"Explicit valence for atom # 0 C,
    5, is greater than permitted"``)."""
    lines = [re.sub(r"^\[[\d:]+\]\s*", "", line).strip() for line in log.splitlines()]
    lines = [line.removeprefix("SMILES Parse Error: ") for line in lines if line]
    if not lines:
        return None
    first = " ".join(re.sub(r" (for input|while parsing): .*$", "", lines[0]).split())
    position = next(
        (m[1] for line in lines if (m := re.search(r"around position (\d+)", line))), None
    )
    return f"{first} at position {position}" if position else first


def mol_from_smiles(smiles: str | None) -> Chem.Mol:
    """Parse and sanitize a SMILES string, raising :class:`MoleculeError` with the reason."""
    if smiles is None or not smiles.strip() or smiles.strip().upper() in {"N/A", "NA", "NONE"}:
        raise MoleculeError("missing SMILES")
    mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        raise MoleculeError("invalid SMILES", _why_invalid(smiles.strip()))
    return mol


def _why_invalid(smiles: str) -> str | None:
    """Parse ``smiles`` again with RDKit's error log captured (``rdBase.CaptureErrorLog``,
    RDKit >= 2026.09; older versions give no detail)."""
    capture_log = getattr(rdBase, "CaptureErrorLog", None)
    if capture_log is None:
        return None
    with capture_log() as capture:
        Chem.MolFromSmiles(smiles)
    return _rdkit_complaint(capture.messages)


def mol_from_molblock(molblock: str) -> Chem.Mol:
    """Parse a V2000/V3000 molblock keeping its atom order (explicit H atoms are kept too)."""
    mol = Chem.MolFromMolBlock(molblock, sanitize=False, removeHs=False)
    if mol is None or mol.GetNumAtoms() == 0:
        raise MoleculeError("corrupt molblock")
    try:
        Chem.SanitizeMol(mol)
    except Exception as err:  # RDKit raises several unrelated exception types here
        raise MoleculeError(f"RDKit sanitization failure: {err}") from None
    Chem.AssignChiralTypesFromBondDirs(mol)
    Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
    return mol


def canonical_smiles(mol: Chem.Mol) -> str:
    """RDKit canonical isomeric SMILES of the heavy-atom graph."""
    return Chem.MolToSmiles(Chem.RemoveHs(mol))


def inchikey(mol: Chem.Mol) -> str:
    """Standard InChIKey; raises :class:`MoleculeError` when InChI generation fails."""
    key = Chem.MolToInchiKey(mol)
    if not key:
        raise MoleculeError("InChIKey generation failed")
    return key


def connectivity_key(key: str) -> str:
    """First InChIKey block: the skeleton without stereo/isotopes, used for leakage-safe splits."""
    return key[:14]


def canonical_order(mol: Chem.Mol) -> tuple[str, Chem.Mol, list[int]]:
    """Re-index ``mol`` into litshift's atom order.

    Returns
    -------
    smiles
        Canonical SMILES.
    mol_h
        ``Chem.AddHs(Chem.MolFromSmiles(smiles))``.
    heavy_map
        ``heavy_map[i]`` is the index in ``mol_h`` of heavy atom ``i`` of the input ``mol``
        (``-1`` for explicit hydrogens of the input, which have no stable counterpart).
    """
    tagged = Chem.Mol(mol)
    for atom in tagged.GetAtoms():
        atom.SetIntProp("_litshift_input_idx", atom.GetIdx())
    heavy = Chem.RemoveHs(tagged, sanitize=False)
    heavy_indices = [a.GetIntProp("_litshift_input_idx") for a in heavy.GetAtoms()]
    smiles = Chem.MolToSmiles(heavy)
    output_order = list(heavy.GetPropsAsDict(True, True)["_smilesAtomOutputOrder"])
    parsed = mol_from_smiles(smiles)
    if parsed.GetNumAtoms() != heavy.GetNumAtoms():
        raise MoleculeError("SMILES round trip changed the atom count")
    mol_h = Chem.AddHs(parsed)
    heavy_map = [-1] * mol.GetNumAtoms()
    for new_index, heavy_index in enumerate(output_order):
        heavy_map[heavy_indices[heavy_index]] = new_index
    return smiles, mol_h, heavy_map


def hydrogens_by_heavy_atom(mol_h: Chem.Mol) -> dict[int, list[int]]:
    """Indices of the hydrogen atoms bonded to each heavy atom of an explicit-H molecule."""
    groups: dict[int, list[int]] = {}
    for atom in mol_h.GetAtoms():
        if atom.GetAtomicNum() == 1 and atom.GetDegree() == 1:
            parent = atom.GetNeighbors()[0].GetIdx()
            groups.setdefault(parent, []).append(atom.GetIdx())
    return groups


def molecule_key(smiles: str) -> str:
    """Content key of the exact structure fed to RDKit (its canonical SMILES).

    Not the InChIKey: standard InChI merges mobile-H tautomers, which have different atoms and
    atom orders here, so one InChIKey can name two different explicit-H graphs.
    """
    return hashlib.blake2b(smiles.encode(), digest_size=10).hexdigest()
