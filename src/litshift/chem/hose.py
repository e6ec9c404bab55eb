"""HOSE-code lookup: the classic shift-prediction baseline.

A HOSE code (Bremser, 1978) describes an atom by the atoms found in concentric bond spheres
around it. This implementation encodes each sphere as the sorted multiset of
``<bond><element><aromatic flag><charge>`` tokens reached from the previous sphere, which is
invariant to atom order; 1H shifts are looked up with the code of the heavy atom carrying the
proton (the way NMRShiftDB2 assigns them), prefixed by ``H``.

Prediction uses the largest sphere whose code was seen in training with at least
``min_count`` examples, falling back sphere by sphere and finally to the element mean, exactly
like the lookup tables of NMR prediction programs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdkit import Chem

__all__ = ["DEFAULT_MAX_RADIUS", "DEFAULT_MIN_COUNT", "HoseModel", "hose_codes"]

#: largest sphere looked up, and the fewest training atoms a code needs to be used: the
#: baseline's settings wherever none are given (the evaluate stages and their config defaults)
DEFAULT_MAX_RADIUS = 4
DEFAULT_MIN_COUNT = 1

_BOND = {
    Chem.BondType.SINGLE: "",
    Chem.BondType.DOUBLE: "=",
    Chem.BondType.TRIPLE: "%",
    Chem.BondType.AROMATIC: "*",
}


def _token(bond: Chem.Bond, atom: Chem.Atom) -> str:
    charge = atom.GetFormalCharge()
    return (
        f"{_BOND.get(bond.GetBondType(), '?')}{atom.GetSymbol()}"
        f"{'a' if atom.GetIsAromatic() else ''}{'' if charge == 0 else f'{charge:+d}'}"
    )


def hose_codes(mol: Chem.Mol, atom_index: int, max_radius: int) -> list[str]:
    """Codes of radius 1..``max_radius`` for one heavy atom (hydrogens are ignored).

    ``codes[r - 1]`` describes spheres 1..r, so a longer code always refines a shorter one.
    """
    center = mol.GetAtomWithIdx(atom_index)
    seen = {atom_index}
    frontier = [center]
    prefix = f"{center.GetSymbol()}{'a' if center.GetIsAromatic() else ''}-{center.GetTotalNumHs()}"
    codes: list[str] = []
    spheres: list[str] = []
    for _ in range(max_radius):
        tokens: list[str] = []
        next_frontier: list[Chem.Atom] = []
        for atom in frontier:
            for bond in atom.GetBonds():
                other = bond.GetOtherAtom(atom)
                if other.GetAtomicNum() == 1 or other.GetIdx() in seen:
                    continue
                seen.add(other.GetIdx())
                next_frontier.append(other)
                tokens.append(_token(bond, other))
        spheres.append(",".join(sorted(tokens)))
        codes.append(prefix + "(" + "/".join(spheres) + ")")
        frontier = next_frontier
    return codes


@dataclass(slots=True)
class HoseModel:
    """Mean shift per (nucleus, HOSE code of radius r), fitted on training labels."""

    max_radius: int = DEFAULT_MAX_RADIUS
    min_count: int = DEFAULT_MIN_COUNT
    tables: dict[str, list[dict[str, tuple[float, int]]]] = field(default_factory=dict)
    element_means: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def _center(mol_h: Chem.Mol, atom_index: int) -> tuple[int, str]:
        """The heavy atom whose environment describes ``atom_index`` and a code prefix."""
        atom = mol_h.GetAtomWithIdx(atom_index)
        if atom.GetAtomicNum() == 1:
            return atom.GetNeighbors()[0].GetIdx(), "H:"
        return atom_index, ""

    def _codes(self, mol_h: Chem.Mol, atom_index: int) -> list[str]:
        center, prefix = self._center(mol_h, atom_index)
        return [prefix + code for code in hose_codes(mol_h, center, self.max_radius)]

    def fit(self, examples: Iterable[tuple[str, str, list[tuple[int, float]]]]) -> HoseModel:
        """Fit on ``(smiles, nucleus, [(atom_index, shift), ...])`` in litshift atom order."""
        sums: dict[str, list[dict[str, list[float]]]] = {}
        element_sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        for smiles, nucleus, labels in examples:
            mol_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
            per_radius = sums.setdefault(
                nucleus, [defaultdict(lambda: [0.0, 0]) for _ in range(self.max_radius)]
            )
            for atom_index, shift in labels:
                for radius, code in enumerate(self._codes(mol_h, atom_index)):
                    entry = per_radius[radius][code]
                    entry[0] += shift
                    entry[1] += 1
                element_sums[nucleus][0] += shift
                element_sums[nucleus][1] += 1
        self.tables = {
            nucleus: [
                {code: (total / n, n) for code, (total, n) in table.items()} for table in per_radius
            ]
            for nucleus, per_radius in sums.items()
        }
        self.element_means = {nucleus: total / n for nucleus, (total, n) in element_sums.items()}
        return self

    def predict_atom(self, mol_h: Chem.Mol, nucleus: str, atom_index: int) -> tuple[float, int]:
        """``(shift, radius used)``; radius 0 means the element-mean fallback."""
        if nucleus not in self.element_means:
            raise KeyError(f"HOSE model was not fitted on {nucleus}")
        codes = self._codes(mol_h, atom_index)
        for radius in range(self.max_radius, 0, -1):
            hit = self.tables[nucleus][radius - 1].get(codes[radius - 1])
            if hit is not None and hit[1] >= self.min_count:
                return hit[0], radius
        return self.element_means[nucleus], 0

    def predict(self, smiles: str, nucleus: str, atom_indices: Iterable[int]) -> list[float]:
        """Predicted shifts (ppm) for the given atoms of ``smiles`` (litshift atom order)."""
        mol_h = Chem.AddHs(Chem.MolFromSmiles(smiles))
        return [self.predict_atom(mol_h, nucleus, i)[0] for i in atom_indices]
