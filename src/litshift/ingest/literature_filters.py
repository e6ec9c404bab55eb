"""Consistency filters for literature peak lists: every failure is a reject with a reason.

A parsed list is only as good as the paragraph it came from: authors list the solvent line as a
compound peak, report 13C lists of a different compound, or integrate to a formula that is not
the one in the SMILES column. These checks compare a list with its structure and with the other
records, and return a stable reason string (the ``status`` of the output row) or ``"ok"``.

All checks are pure functions of the list, the molecule and a :class:`FilterConfig`;
:class:`DuplicateIndex` is the one stateful piece (it remembers the lists already kept).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rdkit import Chem

from litshift.chem.molecules import canonical_smiles, inchikey, mol_from_smiles
from litshift.chem.nuclei import element_of, reference_mismatch, window_violation
from litshift.chem.solvents import residual_peaks
from litshift.chem.symmetry import EXCHANGEABLE_PARENTS, symmetry_classes
from litshift.ingest.literature import Peak

__all__ = [
    "OK",
    "NO_BLOCK",
    "NO_PEAKS",
    "OTHER_COMPOUND",
    "NUCLEUS_ABSENT",
    "REFERENCE",
    "RESIDUAL",
    "INTEGRATION",
    "CARBON_EXCESS",
    "CARBON_DEFICIT",
    "DUPLICATE",
    "DEFAULT_LITERATURE_WINDOWS",
    "DEFAULT_REFERENCE_STANDARDS",
    "FilterConfig",
    "MoleculeInfo",
    "Verdict",
    "molecule_info",
    "check_spectrum",
    "residual_hits",
    "DuplicateIndex",
]

OK = "ok"
NO_BLOCK = "no NMR block found"
NO_PEAKS = "no peak list"
OTHER_COMPOUND = "spectrum of another compound"
NUCLEUS_ABSENT = "nucleus absent from molecule"
REFERENCE = "nonstandard shift reference"
RESIDUAL = "solvent residual peak listed"
INTEGRATION = "1H integration mismatch"
CARBON_EXCESS = "more 13C peaks than carbons"
CARBON_DEFICIT = "too few 13C peaks for distinct carbons"
DUPLICATE = "duplicate"

#: Plausible windows (ppm) for every nucleus the parser reads; wider than the curation windows
#: because literature lists include enols, hydrides and organometallics.
DEFAULT_LITERATURE_WINDOWS: dict[str, tuple[float, float]] = {
    "1H": (-5.0, 20.0),
    "13C": (-20.0, 250.0),
    "19F": (-300.0, 100.0),
    "31P": (-300.0, 300.0),
    "11B": (-130.0, 100.0),
    "15N": (-500.0, 1000.0),
    "29Si": (-250.0, 150.0),
}

#: Nuclei whose lists are checked for their stated reference, and the scale they must be on
#: (names of :data:`litshift.chem.nuclei.SHIFT_REFERENCES`). 1H and 13C lists are referenced to
#: TMS or the solvent line, both on the TMS scale, so there is nothing to check.
DEFAULT_REFERENCE_STANDARDS: dict[str, str] = {"19F": "CFCl3", "31P": "H3PO4"}


@dataclass(frozen=True, slots=True)
class FilterConfig:
    """Tolerances of the consistency checks (config.yaml ``literature.filters``)."""

    integration_tolerance: int = 1
    """H atoms the 1H total integration may exceed the formula (or fall short of its
    non-exchangeable H count) by."""
    carbon_excess_tolerance: int = 0
    """13C peaks allowed beyond the number of carbons (rotamers, diastereomer mixtures)."""
    carbon_deficit_tolerance: int = 2
    """13C peaks that may be missing below the number of topologically distinct carbons
    (overlaps, unobserved quaternary carbons)."""
    windows: Mapping[str, tuple[float, float]] = field(
        default_factory=lambda: dict(DEFAULT_LITERATURE_WINDOWS)
    )
    """Plausible shift window per nucleus; nuclei without a window are not checked."""
    residual_tolerance: Mapping[str, float] = field(
        default_factory=lambda: {"1H": 0.005, "13C": 0.06}
    )
    """Distance (ppm) within which a listed peak is taken for the solvent's residual line."""
    reject_residual: bool = True
    """Reject lists with a residual solvent line; False keeps them with a flag only."""
    duplicate_tolerance: Mapping[str, float] = field(
        default_factory=lambda: {"1H": 0.01, "13C": 0.1}
    )
    """Largest per-peak difference (ppm) of two lists that count as the same measurement."""
    reference_standards: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_REFERENCE_STANDARDS)
    )
    """Standard reference per checked nucleus: a list whose conditions name another reference
    compound of that nucleus is rejected (its shifts are on another scale)."""


@dataclass(frozen=True, slots=True)
class MoleculeInfo:
    """What the checks need to know about a structure."""

    smiles: str
    """RDKit canonical SMILES (litshift's atom order)."""
    inchikey: str
    atom_counts: Mapping[str, int]
    """Element symbol -> number of atoms, hydrogens included."""
    exchangeable_h: int
    """Hydrogens on N, O or S (often missing from 1H lists)."""
    distinct_carbons: int
    """Topologically distinct carbons (``CanonicalRankAtoms(breakTies=False)`` classes)."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Outcome of :func:`check_spectrum`."""

    status: str
    """``"ok"`` or the reject reason (a stable category)."""
    detail: str | None = None
    """Numbers behind the reason, for humans."""
    flags: tuple[str, ...] = ()
    """Notes that do not reject (or do, with ``reject_residual``): ``solvent residual 77.16``."""


@lru_cache(maxsize=65536)
def molecule_info(smiles: str | None) -> MoleculeInfo:
    """Parse ``smiles`` once; raises :class:`~litshift.chem.molecules.MoleculeError`.

    Cached because literature corpora repeat structures (series of analogues, duplicates).
    """
    mol = mol_from_smiles(smiles)
    mol_h = Chem.AddHs(mol)
    counts: dict[str, int] = {}
    for atom in mol_h.GetAtoms():
        counts[atom.GetSymbol()] = counts.get(atom.GetSymbol(), 0) + 1
    exchangeable = sum(
        a.GetTotalNumHs() for a in mol.GetAtoms() if a.GetAtomicNum() in EXCHANGEABLE_PARENTS
    )
    classes = symmetry_classes(mol)
    carbons = {int(classes[a.GetIdx()]) for a in mol.GetAtoms() if a.GetAtomicNum() == 6}
    return MoleculeInfo(canonical_smiles(mol), inchikey(mol), counts, exchangeable, len(carbons))


def residual_hits(
    peaks: Sequence[Peak], solvent: str, nucleus: str, tolerance: float
) -> list[float]:
    """Listed single-value peaks that sit on a residual line of ``solvent``.

    A range (a multiplet's midpoint) never counts, and a 1H peak only counts when it has no
    integration: 7.26 (d, 2H) in CDCl3 is a compound peak.
    """
    lines = residual_peaks(solvent, nucleus)
    return [
        p.shift
        for p in peaks
        if p.lo == p.hi
        and any(abs(p.shift - line) <= tolerance for line in lines)
        and (nucleus != "1H" or p.count is None)
    ]


def _integration(counts: Sequence[int | None], mol: MoleculeInfo, tolerance: int) -> str | None:
    total_h = mol.atom_counts.get("H", 0)
    reported = [c for c in counts if c is not None]
    integral = sum(reported)
    if integral > total_h + tolerance:
        return f"{INTEGRATION}: {integral} H integrated, formula has {total_h}"
    lowest = total_h - mol.exchangeable_h - tolerance
    if len(reported) == len(counts) and integral < lowest:
        return (
            f"{INTEGRATION}: {integral} H integrated, formula has {total_h} "
            f"({mol.exchangeable_h} exchangeable)"
        )
    return None


def _carbon_count(n_peaks: int, mol: MoleculeInfo, config: FilterConfig) -> str | None:
    """``n_peaks`` counts a peak written with a multiplier ("128.4 (2C)") as that many."""
    carbons = mol.atom_counts.get("C", 0)
    if n_peaks > carbons + config.carbon_excess_tolerance:
        return f"{CARBON_EXCESS}: {n_peaks} carbons listed, {carbons} in the formula"
    if n_peaks < mol.distinct_carbons - config.carbon_deficit_tolerance:
        return f"{CARBON_DEFICIT}: {n_peaks} carbons listed, {mol.distinct_carbons} distinct"
    return None


def check_spectrum(
    nucleus: str,
    peaks: Sequence[Peak],
    solvent: str,
    mol: MoleculeInfo,
    config: FilterConfig,
    conditions: Sequence[str | None] = (),
) -> Verdict:
    """Every per-spectrum check, in order; the first failure decides the status.

    ``conditions`` are the list's condition texts as written (solvent, reference), where a
    stated shift reference is looked for; a list on another scale is rejected before the shift
    window, which its shifted values might fail too.
    """
    if not peaks:
        return Verdict(NO_PEAKS)
    if mol.atom_counts.get(element_of(nucleus), 0) == 0:
        return Verdict(NUCLEUS_ABSENT, f"no {element_of(nucleus)} in {mol.smiles}")
    flags: tuple[str, ...] = ()
    standard = config.reference_standards.get(nucleus)
    if standard is not None and (mismatch := reference_mismatch(conditions, nucleus, standard)):
        return Verdict(REFERENCE, mismatch)
    problem = window_violation([p.shift for p in peaks], nucleus, config.windows)
    if problem is None:
        hits = residual_hits(peaks, solvent, nucleus, config.residual_tolerance.get(nucleus, 0.0))
        if hits:
            flags = tuple(f"solvent residual {h:g}" for h in hits)
            if config.reject_residual:
                problem = f"{RESIDUAL}: {', '.join(f'{h:g}' for h in hits)} in {solvent}"
    if problem is None and nucleus == "1H":
        problem = _integration([p.count for p in peaks], mol, config.integration_tolerance)
    if problem is None and nucleus == "13C":
        problem = _carbon_count(sum(p.count or 1 for p in peaks), mol, config)
    if problem is None:
        return Verdict(OK, None, flags)
    status, _, detail = problem.partition(": ")
    return Verdict(status, detail or None, flags)


class DuplicateIndex:
    """Remembers kept lists so that a near-identical later record is merged into the first.

    Two lists are duplicates when they describe the same molecule (canonical SMILES), nucleus
    and solvent, have the same number of peaks and differ by at most the nucleus' tolerance
    peak by peak after sorting (the same spectrum reprinted in two papers, or twice in one).
    """

    def __init__(self, tolerance: Mapping[str, float]) -> None:
        self._tolerance = tolerance
        self._kept: dict[tuple[str, str, str, int], list[tuple[tuple[float, ...], str]]] = {}

    def first_copy(
        self, smiles: str, nucleus: str, solvent: str, shifts: Sequence[float], record_id: str
    ) -> str | None:
        """The record_id this list duplicates, or None (then it is remembered as kept)."""
        ordered = tuple(sorted(shifts))
        key = (smiles, nucleus, solvent, len(ordered))
        tolerance = self._tolerance.get(nucleus, 0.0) + 1e-9
        kept = self._kept.setdefault(key, [])
        for other, other_id in kept:
            if all(abs(a - b) <= tolerance for a, b in zip(ordered, other, strict=True)):
                return other_id
        kept.append((ordered, record_id))
        return None
