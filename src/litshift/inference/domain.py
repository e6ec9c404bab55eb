"""Applicability domain: is a molecule made of chemistry the model saw in training?

A trained model extrapolates silently: methyl iodide, ferrocene or a radical get a confident
shift because nothing in the network says "never seen this". The domain is a compact summary
of the run's own training molecules, built once by ``litshift train`` and stored in the
checkpoint, so that a retrained model carries its own domain. A molecule is *in domain* when
every one of these was seen in training:

- its elements (metals are named as such), (element, formal charge) pairs, isotopes;
- radicals (none in the curated data, so any radical is outside);
- atom types: the (element, atom-feature categories) tuples of :mod:`litshift.chem.graph`
  (aromaticity, hybridization, degree, hydrogens, charge, ring size), what the model reads;
- atom environments: HOSE codes of radius 1 of every heavy atom (the atom and its bonded
  neighbours, :func:`litshift.chem.hose.hose_codes`);
- its size: no more heavy atoms than the largest training molecule.

The verdict is per molecule: one unseen atom changes the conformer, the attention and the
neighbours' shifts. Everything here is a pure function of SMILES / RDKit molecules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from rdkit import Chem

from litshift.chem.graph import atom_features
from litshift.chem.hose import hose_codes
from litshift.chem.molecules import mol_from_smiles

__all__ = [
    "OUT_OF_DOMAIN_STD_FACTOR",
    "Domain",
    "atom_type",
    "build_domain",
    "domain_reasons",
    "is_metal",
]

#: radius of the HOSE environments compared: on the default split, radius 1 puts 16 of 797
#: test molecules outside the training molecules' domain, radius 2 puts 429 there (54 %, so
#: it no longer singles out the unusual) and stores 12 472 codes instead of 757
ENVIRONMENT_RADIUS = 1
#: factor on the calibrated std of predictions outside the domain: with molecules holding Cl
#: or S kept out of training, their 95 % intervals covered 88 % (1H) and 86 % (13C) of the
#: shifts; 1.66 and 1.94 times the std restore 95 % (benchmarks/results/domain.txt,
#: docs/training.md "Applicability domain")
OUT_OF_DOMAIN_STD_FACTOR = 2.0
#: reasons listed per kind before "and N more" (one output cell stays readable)
MAX_LISTED = 3

_METALS = frozenset(
    [3, 4, 11, 12, 13, *range(19, 32), *range(37, 51), *range(55, 85), *range(87, 119)]
)


def is_metal(atomic_number: int) -> bool:
    """Alkali, alkaline-earth, transition, post-transition metals, lanthanides, actinides."""
    return atomic_number in _METALS


@dataclass(frozen=True, slots=True)
class Domain:
    """What a model's training molecules contained (sorted tuples, so it is JSON-able and
    stable between runs on the same data)."""

    molecules: int
    """Number of distinct training molecules it summarizes."""
    elements: tuple[str, ...]
    """Element symbols."""
    charges: tuple[str, ...]
    """Non-zero formal charges as ``<element><charge>``, e.g. ``N+1``, ``O-1``."""
    isotopes: tuple[str, ...]
    """Explicit isotopes as ``<mass><element>``, e.g. ``2H``."""
    radicals: bool
    """Whether any training atom had radical electrons."""
    atom_types: tuple[str, ...]
    """``<element>:<feature categories>`` of every atom (:func:`atom_type`)."""
    environments: tuple[str, ...]
    """HOSE codes of radius :data:`ENVIRONMENT_RADIUS` of every heavy atom."""
    heavy_atoms: tuple[int, int]
    """Smallest and largest heavy-atom count."""

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and scalars (what a ``weights_only`` checkpoint can hold)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Domain:
        return cls(
            molecules=int(data["molecules"]),
            elements=tuple(data["elements"]),
            charges=tuple(data["charges"]),
            isotopes=tuple(data["isotopes"]),
            radicals=bool(data["radicals"]),
            atom_types=tuple(data["atom_types"]),
            environments=tuple(data["environments"]),
            heavy_atoms=(int(data["heavy_atoms"][0]), int(data["heavy_atoms"][1])),
        )


def atom_type(symbol: str, features: Iterable[int]) -> str:
    """``C:aromatic=1,hybridization=4,...``-style key, compact: ``C:1.4.5.4.3.1``."""
    return f"{symbol}:{'.'.join(str(int(f)) for f in features)}"


_HYBRIDIZATION_NAMES = ("s", "sp", "sp2", "sp3", "sp3d", "sp3d2", "other hybridization")


def _describe_type(key: str) -> str:
    """``C:1.4.4.2.3.1`` -> ``C(sp2, degree 3, 1 H)``: the categories of
    :data:`litshift.chem.graph.ATOM_FEATURES` in words (padding shift removed)."""
    symbol, _, values = key.partition(":")
    aromatic, hybridization, degree, hydrogens, charge, ring = (
        int(v) - 1 for v in values.split(".")
    )
    words = [_HYBRIDIZATION_NAMES[hybridization], f"degree {degree}", f"{hydrogens} H"]
    if charge != 2:
        words.append(f"charge {charge - 2:+d}")
    if aromatic:
        words.append("aromatic")
    if ring:
        words.append(f"{ring + 2}-ring")
    return f"{symbol}({', '.join(words)})"


@dataclass(frozen=True, slots=True)
class _Facts:
    """The domain-relevant facts of one molecule."""

    elements: frozenset[str]
    charges: frozenset[str]
    isotopes: frozenset[str]
    radical: bool
    atom_types: frozenset[str]
    environments: frozenset[str]
    heavy_atoms: int


def _facts(mol: Chem.Mol) -> _Facts:
    mol_h = Chem.AddHs(mol)
    atoms = list(mol_h.GetAtoms())
    features = atom_features(mol_h)
    return _Facts(
        elements=frozenset(a.GetSymbol() for a in atoms),
        charges=frozenset(
            f"{a.GetSymbol()}{a.GetFormalCharge():+d}" for a in atoms if a.GetFormalCharge()
        ),
        isotopes=frozenset(f"{a.GetIsotope()}{a.GetSymbol()}" for a in atoms if a.GetIsotope()),
        radical=any(a.GetNumRadicalElectrons() for a in atoms),
        atom_types=frozenset(
            atom_type(a.GetSymbol(), row) for a, row in zip(atoms, features, strict=True)
        ),
        environments=frozenset(
            hose_codes(mol_h, a.GetIdx(), ENVIRONMENT_RADIUS)[-1]
            for a in atoms
            if a.GetAtomicNum() != 1
        ),
        heavy_atoms=mol.GetNumHeavyAtoms(),
    )


def build_domain(smiles: Iterable[str]) -> Domain:
    """The domain of the training molecules ``smiles`` (duplicates are counted once)."""
    distinct = sorted(set(smiles))
    if not distinct:
        raise ValueError("no training molecules to build a domain from")
    facts = [_facts(mol_from_smiles(s)) for s in distinct]

    def union(name: str) -> tuple[str, ...]:
        return tuple(sorted(set().union(*(getattr(f, name) for f in facts))))

    sizes = [f.heavy_atoms for f in facts]
    return Domain(
        molecules=len(distinct),
        elements=union("elements"),
        charges=union("charges"),
        isotopes=union("isotopes"),
        radicals=any(f.radical for f in facts),
        atom_types=union("atom_types"),
        environments=union("environments"),
        heavy_atoms=(min(sizes), max(sizes)),
    )


def _listed(kind: str, items: Iterable[str]) -> str:
    ordered = sorted(items)
    shown = ", ".join(ordered[:MAX_LISTED])
    more = f" and {len(ordered) - MAX_LISTED} more" if len(ordered) > MAX_LISTED else ""
    return f"unseen {kind} {shown}{more}"


def domain_reasons(domain: Domain, mol: Chem.Mol) -> list[str]:
    """Why ``mol`` lies outside ``domain`` (empty: inside), most fundamental reason first.

    An unseen element also makes its atom types and environments unseen; only the element is
    named then, so the reason says what matters.
    """
    facts = _facts(mol)
    reasons = []
    new_elements = facts.elements - set(domain.elements)
    metals = {e for e in new_elements if is_metal(Chem.GetPeriodicTable().GetAtomicNumber(e))}
    if metals:
        reasons.append(_listed("metal", metals))
    if new_elements - metals:
        reasons.append(_listed("element", new_elements - metals))
    charges = facts.charges - set(domain.charges)
    if charges:
        reasons.append(_listed("charge", charges))
    if facts.radical and not domain.radicals:
        reasons.append("radical (training had none)")
    isotopes = facts.isotopes - set(domain.isotopes)
    if isotopes:
        reasons.append(_listed("isotope", isotopes))
    if not reasons:
        types = facts.atom_types - set(domain.atom_types)
        if types:
            reasons.append(_listed("atom type", map(_describe_type, types)))
        environments = facts.environments - set(domain.environments)
        if environments:
            reasons.append(_listed("environment", environments))
    # only the upper end: a molecule smaller than every training molecule (ethanol when the
    # smallest had 4 heavy atoms) is made of environments the checks above already vouch for,
    # whereas a larger one has long-range context the attention never saw
    high = domain.heavy_atoms[1]
    if facts.heavy_atoms > high:
        reasons.append(f"size {facts.heavy_atoms} heavy atoms (training at most {high})")
    return reasons
