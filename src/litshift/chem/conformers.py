"""3D conformers in litshift's atom order: ETKDGv3 embedding, MMFF94/UFF optimization.

Pure functions (SMILES + :class:`EmbedOptions` -> :class:`ConformerResult`); the sharded,
cached stage around them is :mod:`litshift.data.conformer_shards`.

- Atom order is ``Chem.AddHs(Chem.MolFromSmiles(smiles))`` of the SMILES as given (pass the
  canonical SMILES, see :mod:`litshift.chem.molecules`), so label indices line up unchanged.
- Reproducible: every molecule gets its own seed from the global seed and its key, and RDKit
  runs single-threaded, so a molecule's coordinates do not depend on its shard, on the other
  molecules or on the number of workers. A result is ``ok`` only when no time limit was hit,
  so ``ok`` coordinates do not depend on machine speed either.
- Failures are results, not exceptions: ``status``/``error`` say why, ``method`` is
  ``failed`` and there are no coordinates (never zero or 2D placeholders).
- Salts and other multi-fragment SMILES: every fragment is embedded and optimized on its own
  (all atoms keep their index) and the fragments are laid side by side along x,
  :data:`FRAGMENT_GAP` apart. Distances between fragments therefore carry no information; a
  counterion is neither dropped (that would shift the label indices) nor packed against the
  molecule in a gas-phase ion pair.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np
import rdkit
from rdkit import Chem
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers

from litshift.chem.molecules import MoleculeError, mol_from_smiles, molecule_key

__all__ = [
    "CACHEABLE_STATUSES",
    "FORCE_FIELDS",
    "FRAGMENT_GAP",
    "ConformerError",
    "ConformerResult",
    "EmbedOptions",
    "TIMEOUT",
    "Geometry",
    "embed",
    "embed_geometry",
    "failed",
    "molecule_seed",
]

#: force field name -> ``method`` written to the shard
FORCE_FIELDS: dict[str, str] = {"MMFF94": "ETKDG+MMFF", "UFF": "ETKDG+UFF"}
#: Angstrom between the bounding boxes of neighbouring fragments of a multi-fragment SMILES
FRAGMENT_GAP = 8.0
#: status of a molecule that ran out of time (depends on the machine and on ``timeout_s``)
TIMEOUT = "timeout"
#: statuses fully determined by the SMILES and :meth:`EmbedOptions.digest` (safe to cache);
#: ``timeout``, ``too_many_atoms`` and ``worker_crashed`` depend on limits or on the machine
CACHEABLE_STATUSES = frozenset(
    {
        "ok",
        "invalid_smiles",
        "unsupported_element",
        "no_force_field",
        "embed_failed",
        "optimization_failed",
    }
)
#: fields of :class:`EmbedOptions` that limit the work but never change ``ok`` coordinates
LIMITS = frozenset({"timeout_s", "max_atoms"})
# Bump when embed() gives different results for the same options (invalidates caches).
_RESULTS_VERSION = 1
_SEED_MASK = 0x7FFFFFFF  # RDKit seeds are non-negative C ints
_FAILURE_CAUSES = {
    int(code): cause.name for code, cause in rdDistGeom.EmbedFailureCauses.values.items()
}
_TIMEOUT_CAUSE = int(rdDistGeom.EmbedFailureCauses.EXCEEDED_TIMEOUT)


class ConformerError(ValueError):
    """No conformer for a molecule; the message is ``"<status>: <error>"``."""


class Geometry(NamedTuple):
    """One conformer in litshift atom order."""

    atomic_numbers: np.ndarray
    """Shape ``N``, int8."""
    coords: np.ndarray
    """Shape ``N x 3``, float32, Angstrom."""


@dataclass(frozen=True, slots=True)
class EmbedOptions:
    """Everything that decides a molecule's conformers (the ``conformers:`` config section)."""

    n_confs: int = field(default=1, metadata={"help": "conformers embedded and optimized"})
    keep: int = field(
        default=1, metadata={"help": "lowest-energy conformers stored (models read the first)"}
    )
    seed: int = field(default=17, metadata={"help": "global seed (per molecule: + key)"})
    max_attempts: int = field(
        default=3,
        metadata={"help": "embedding attempts; after the first, from random coordinates"},
    )
    timeout_s: int = field(
        default=2, metadata={"help": "per-molecule embedding time limit (s, whole seconds)"}
    )
    max_atoms: int = field(
        default=200, metadata={"help": "larger molecules (H included) fail as too_many_atoms"}
    )
    force_fields: tuple[str, ...] = field(
        default=("MMFF94", "UFF"),
        metadata={"help": "force fields by preference (per fragment: first with parameters)"},
    )
    ff_max_iters: int = field(
        default=500, metadata={"help": "force-field optimization iterations per conformer"}
    )

    def __post_init__(self) -> None:
        for name in ("n_confs", "keep", "max_attempts", "timeout_s", "max_atoms", "ff_max_iters"):
            if getattr(self, name) < 1:
                raise ValueError(f"conformer option {name} must be >= 1")
        if self.keep > self.n_confs:
            raise ValueError(f"keep={self.keep} exceeds n_confs={self.n_confs}")
        unknown = [f for f in self.force_fields if f not in FORCE_FIELDS]
        if unknown or not self.force_fields:
            raise ValueError(f"force_fields {list(self.force_fields)}: use {list(FORCE_FIELDS)}")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> EmbedOptions:
        """Options from a config section or argparse namespace dict (other keys are ignored)."""
        known = {f.name: values[f.name] for f in fields(cls) if values.get(f.name) is not None}
        if "force_fields" in known:
            known["force_fields"] = tuple(known["force_fields"])
        return cls(**known)

    def identity(self) -> dict[str, Any]:
        """Every option that can change a result, plus the RDKit version.

        The limits (:data:`LIMITS`) are left out: raising a limit must not throw away the
        molecules that already succeeded.
        """
        payload = {k: v for k, v in asdict(self).items() if k not in LIMITS}
        return payload | {"rdkit": rdkit.__version__, "version": _RESULTS_VERSION}

    def digest(self) -> str:
        """Short hash of :meth:`identity`: the name of a result store."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


@dataclass(slots=True)
class ConformerResult:
    """Outcome of embedding one molecule (one row of a conformer shard)."""

    key: str
    smiles: str
    atomic_numbers: np.ndarray
    """Shape ``N``, int8; empty when the SMILES was never parsed."""
    coords: np.ndarray
    """Shape ``C x N x 3``, float32, Angstrom, lowest energy first; ``C = 0`` on failure."""
    energy: np.ndarray
    """Shape ``C``, float64, kcal/mol of the force field in ``method``."""
    method: str
    n_attempts: int
    seed: int
    status: str
    error: str | None = None
    seconds: float = 0.0
    """Wall time spent on this molecule (for stage metrics; not stored in shards)."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_row(self) -> dict[str, Any]:
        """A row of the ``conformers`` table schema."""
        return {
            "key": self.key,
            "smiles": self.smiles,
            "atomic_numbers": self.atomic_numbers.tolist(),
            "coords": [conformer.ravel() for conformer in self.coords],
            "energy": self.energy.tolist(),
            "method": self.method,
            "n_attempts": self.n_attempts,
            "seed": self.seed,
            "status": self.status,
            "error": self.error,
        }


class _Failure(Exception):
    """Internal: ends :func:`embed` early with a status."""

    def __init__(self, status: str, error: str, attempts: int = 0) -> None:
        super().__init__(error)
        self.status, self.error, self.attempts = status, error, attempts


def molecule_seed(seed: int, key: str) -> int:
    """Per-molecule RDKit seed: independent of shard, order and the other molecules."""
    digest = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") & _SEED_MASK


def failed(
    key: str,
    smiles: str,
    seed: int,
    status: str,
    error: str,
    atomic_numbers: np.ndarray | None = None,
    n_attempts: int = 0,
    seconds: float = 0.0,
) -> ConformerResult:
    """A failure result: no coordinates, ``method`` ``failed``."""
    z = np.zeros(0, np.int8) if atomic_numbers is None else atomic_numbers
    return ConformerResult(
        key=key,
        smiles=smiles,
        atomic_numbers=z,
        coords=np.zeros((0, len(z), 3), np.float32),
        energy=np.zeros(0),
        method="failed",
        n_attempts=n_attempts,
        seed=seed,
        status=status,
        error=error,
        seconds=seconds,
    )


def embed(smiles: str, options: EmbedOptions, key: str | None = None) -> ConformerResult:
    """Embed, optimize and rank the conformers of one molecule.

    Parameters
    ----------
    smiles
        Canonical SMILES; defines the atom order.
    options
        Embedding options.
    key
        :func:`~litshift.chem.molecules.molecule_key` of ``smiles`` (computed when omitted);
        seeds the molecule.
    """
    start = time.perf_counter()
    key = molecule_key(smiles) if key is None else key
    seed = molecule_seed(options.seed, key)
    z: np.ndarray | None = None
    try:
        try:
            mol = Chem.AddHs(mol_from_smiles(smiles))
        except MoleculeError as err:
            raise _Failure("invalid_smiles", err.message) from None
        z = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=np.int8)
        _check_molecule(z, options)
        coords, energy, method, attempts = _embed_fragments(
            mol, options, seed, deadline=start + options.timeout_s
        )
    except _Failure as failure:
        return failed(
            key,
            smiles,
            seed,
            failure.status,
            failure.error,
            z,
            failure.attempts,
            time.perf_counter() - start,
        )
    return ConformerResult(
        key=key,
        smiles=smiles,
        atomic_numbers=z,
        coords=coords,
        energy=energy,
        method=method,
        n_attempts=attempts,
        seed=seed,
        status="ok",
        seconds=time.perf_counter() - start,
    )


def embed_geometry(smiles: str, options: EmbedOptions | None = None) -> Geometry:
    """Lowest-energy conformer of ``smiles`` for on-the-fly prediction (no cache).

    Raises :class:`ConformerError` with the failure status and reason.
    """
    result = embed(smiles, options or EmbedOptions())
    if not result.ok:
        raise ConformerError(f"{result.status}: {result.error}")
    return Geometry(result.atomic_numbers, result.coords[0])


def _check_molecule(z: np.ndarray, options: EmbedOptions) -> None:
    """Reject what cannot be embedded before spending time on it."""
    dummies = np.flatnonzero(z == 0)
    if dummies.size:
        raise _Failure(
            "unsupported_element",
            f"dummy atom '*' (R group or attachment point) at index {int(dummies[0])}",
        )
    if len(z) > options.max_atoms:
        raise _Failure(
            "too_many_atoms", f"{len(z)} atoms (H included) > max_atoms={options.max_atoms}"
        )


def _force_field(mol: Chem.Mol, options: EmbedOptions) -> str:
    """The first force field of ``options`` with parameters for every atom of ``mol``."""
    has_params = {
        "MMFF94": rdForceFieldHelpers.MMFFHasAllMoleculeParams,
        "UFF": rdForceFieldHelpers.UFFHasAllMoleculeParams,
    }
    for name in options.force_fields:
        if has_params[name](mol):
            return name
    elements = sorted({atom.GetSymbol() for atom in mol.GetAtoms()})
    raise _Failure(
        "no_force_field",
        f"no {'/'.join(options.force_fields)} parameters for a fragment of elements {elements}",
    )


def _embed_fragments(
    mol: Chem.Mol, options: EmbedOptions, seed: int, deadline: float
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """Conformers of every fragment, combined in ``mol``'s atom order.

    Each fragment gets the first force field with parameters for it (an HCl of a
    hydrochloride has no MMFF94 type; the drug next to it still gets MMFF94), and the
    molecule's ``method`` names the least preferred one used.

    Returns coordinates ``C x N x 3``, energies ``C`` (sum over fragments), the method and
    the attempts used. Conformer ``c`` combines the ``c``-th lowest-energy conformer of each
    fragment.
    """
    atom_groups: list[tuple[int, ...]] = []
    pieces = Chem.GetMolFrags(mol, asMols=True, fragsMolAtomMapping=atom_groups)
    force_fields = [_force_field(piece, options) for piece in pieces]
    results = [
        _embed_one(piece, options, seed, force_field, deadline)
        for piece, force_field in zip(pieces, force_fields, strict=True)
    ]
    n_kept = min(len(energy) for _, energy, _ in results)
    coords = np.zeros((n_kept, mol.GetNumAtoms(), 3), np.float32)
    energy = np.zeros(n_kept)
    cursor = np.zeros(n_kept)  # next free x per conformer
    for index, (atoms, (xyz, e, _)) in enumerate(zip(atom_groups, results, strict=True)):
        xyz, e = xyz[:n_kept], e[:n_kept]
        if len(pieces) > 1:
            xyz = xyz - xyz.mean(axis=1, keepdims=True)
            x_min = xyz[:, :, 0].min(axis=1)
            if index:
                xyz[:, :, 0] += (cursor - x_min)[:, None]
            cursor = xyz[:, :, 0].max(axis=1) + FRAGMENT_GAP
        coords[:, list(atoms)] = xyz
        energy += e
    method = FORCE_FIELDS[max(force_fields, key=options.force_fields.index)]
    return coords, energy, method, max(attempts for _, _, attempts in results)


def _embed_one(
    mol: Chem.Mol, options: EmbedOptions, seed: int, force_field: str, deadline: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Embed one connected molecule: coordinates ``K x n x 3`` and energies ``K``, sorted."""
    causes: Counter[str] = Counter()
    for attempt in range(options.max_attempts):
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise _Failure(TIMEOUT, f"no conformer within {options.timeout_s} s", attempt)
        params = _etkdg(
            seed=(seed + attempt) & _SEED_MASK,
            random_coords=attempt > 0,
            timeout=max(1, round(remaining)),
        )
        try:
            ids = [i for i in rdDistGeom.EmbedMultipleConfs(mol, options.n_confs, params) if i >= 0]
        except RuntimeError as err:  # RDKit invariant violations on odd geometries
            causes[_rdkit_error(err)] += 1
            continue
        counts = params.GetFailureCounts()
        if counts[_TIMEOUT_CAUSE]:
            # A result after a timeout would depend on machine speed: never "ok".
            raise _Failure(TIMEOUT, f"embedding exceeded {options.timeout_s} s", attempt + 1)
        if ids:
            return _optimize(mol, force_field, options, attempt + 1)
        causes.update(
            {_FAILURE_CAUSES.get(code, str(code)): n for code, n in enumerate(counts) if n}
        )
    summary = ", ".join(f"{name} x{n}" for name, n in causes.most_common(4))
    raise _Failure(
        "embed_failed",
        f"no conformer in {options.max_attempts} attempts ({summary})",
        options.max_attempts,
    )


def _etkdg(seed: int, random_coords: bool, timeout: int) -> rdDistGeom.EmbedParameters:
    """ETKDGv3 with the torsion terms for macrocycles and small rings, single-threaded."""
    params = rdDistGeom.ETKDGv3()
    params.useMacrocycleTorsions = True
    params.useSmallRingTorsions = True
    params.randomSeed = seed
    params.useRandomCoords = random_coords
    params.numThreads = 1
    params.timeout = timeout
    params.trackFailures = True
    return params


def _optimize(
    mol: Chem.Mol, force_field: str, options: EmbedOptions, attempts: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Optimize every conformer of ``mol``; the ``keep`` lowest-energy ones, sorted."""
    optimize = {
        "MMFF94": rdForceFieldHelpers.MMFFOptimizeMoleculeConfs,
        "UFF": rdForceFieldHelpers.UFFOptimizeMoleculeConfs,
    }[force_field]
    try:
        results = optimize(mol, numThreads=1, maxIters=options.ff_max_iters)
    except RuntimeError as err:
        error = f"{force_field}: {_rdkit_error(err)}"
        raise _Failure("optimization_failed", error, attempts) from None
    energy = np.array([e for _, e in results], dtype=np.float64)
    coords = np.stack([c.GetPositions() for c in mol.GetConformers()]).astype(np.float32)
    if not (np.isfinite(energy).all() and np.isfinite(coords).all()):
        raise _Failure("optimization_failed", "non-finite energy or coordinates", attempts)
    order = np.argsort(energy, kind="stable")[: options.keep]
    return coords[order], energy[order], attempts


def _rdkit_error(err: RuntimeError) -> str:
    """First two lines of an RDKit exception ("Invariant Violation: bad direction ...")."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return ": ".join(lines[:2]) or type(err).__name__
