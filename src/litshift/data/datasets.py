"""In-memory training examples, batch samplers and padding collate functions.

Labeled examples come from the atom-assigned spectra: every (molecule, solvent class) is ONE
example whose per-atom target is the mean over all its spectra of that nucleus. Several
NMRShiftDB2 spectra of one compound in one solvent class measure the same quantity, so averaging
them removes label noise instead of giving that molecule extra weight; different solvent classes
stay separate examples because the solvent is a model input.

Weak examples come from the unassigned shift sets: each keeps, per nucleus, the
:class:`~litshift.chem.matching.MatchPlan` computed once here (which atoms are pooled and which
observed shift each pool is compared to), so the training loop does no chemistry. Records of one
molecule in one solvent class are paired up across nuclei (the first 1H set with the first 13C
set, ...) to share one forward pass; a second set of the same nucleus makes a second example.

Everything skipped is counted with its reason; the counts are logged by the trainer.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import torch
from rdkit import Chem
from torch import Tensor
from torch.utils.data import Sampler

from litshift.chem.graph import molecular_graph
from litshift.chem.matching import MatchPlan, MatchSkip, plan_match
from litshift.chem.molecules import MoleculeError, connectivity_key, mol_from_smiles, molecule_key
from litshift.chem.nuclei import element_of, window_violation
from litshift.chem.solvents import SOLVENT_CLASSES
from litshift.data.atom_labels import Ambiguous, read_atom_labels
from litshift.data.weak_filters import WeakFilters

__all__ = [
    "Conformers",
    "Structure",
    "LabeledExample",
    "WeakExample",
    "ModelInputs",
    "LabeledBatch",
    "WeakBatch",
    "build_atom_labeled",
    "build_labeled",
    "build_weak",
    "weak_filter_reason",
    "target_scaler",
    "collate_inputs",
    "collate_labeled",
    "collate_weak",
    "StreamSampler",
    "bucketed_indices",
    "stream_indices",
]

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Structure:
    """One molecule in one solvent class, as the model sees it."""

    key: str
    """:func:`litshift.chem.molecules.molecule_key` of ``smiles``."""
    smiles: str
    """Canonical SMILES (defines the atom order)."""
    atomic_numbers: np.ndarray
    """Shape ``N``, int64."""
    coords: np.ndarray
    """Shape ``N x 3``, float32, Angstrom."""
    solvent_class: int
    """Index into :data:`litshift.chem.solvents.SOLVENT_CLASSES`."""
    features: np.ndarray = field(init=False, repr=False)
    """Shape ``N x F`` uint8 atom categories (:func:`litshift.chem.graph.atom_features`)."""
    topology: np.ndarray = field(init=False, repr=False)
    """Shape ``N x N`` uint8 bond counts (:func:`litshift.chem.graph.topological_distances`)."""
    symmetry: np.ndarray = field(init=False, repr=False)
    """Shape ``N`` topological symmetry class per atom (predictions are averaged over them)."""

    def __post_init__(self) -> None:
        # derived from the SMILES here, once, so the graph inputs can never disagree with it
        graph = molecular_graph(self.smiles)
        if len(graph.symmetry) != len(self.atomic_numbers):
            raise ValueError(
                f"{self.smiles}: {len(self.atomic_numbers)} atoms given, "
                f"{len(graph.symmetry)} in the SMILES with hydrogens"
            )
        self.features, self.topology, self.symmetry = graph


@dataclass(slots=True)
class LabeledExample(Structure):
    """A structure with its assigned shifts."""

    targets: np.ndarray
    """Shape ``N x K`` float32, ppm (0 where unlabeled)."""
    mask: np.ndarray
    """Shape ``N x K`` bool, True where labeled."""


@dataclass(slots=True)
class WeakExample(Structure):
    """A structure with an unassigned shift set per nucleus."""

    plans: tuple[MatchPlan | None, ...]
    """One plan per model nucleus (None: no usable set of that nucleus)."""


class ModelInputs(NamedTuple):
    """What :class:`~litshift.model.transformer.ShiftTransformer` reads, in its argument order."""

    atomic_numbers: Tensor
    """Long ``B x N``; 0 marks padding."""
    coords: Tensor
    """Float ``B x N x 3``."""
    solvent_class: Tensor
    """Long ``B``."""
    features: Tensor
    """Long ``B x N x F`` atom categories (0 = padding)."""
    topology: Tensor
    """Long ``B x N x N`` bond counts."""


class LabeledBatch(NamedTuple):
    """Padded labeled batch (padding: atomic number 0, mask False); starts with the
    :class:`ModelInputs` fields."""

    atomic_numbers: Tensor
    coords: Tensor
    solvent_class: Tensor
    features: Tensor
    topology: Tensor
    targets: Tensor
    """Float ``B x N x K``, ppm."""
    target_mask: Tensor
    """Bool ``B x N x K``."""


class WeakBatch(NamedTuple):
    """Padded weak batch; groups of all nuclei padded to one length ``G``; starts with the
    :class:`ModelInputs` fields."""

    atomic_numbers: Tensor
    coords: Tensor
    solvent_class: Tensor
    features: Tensor
    topology: Tensor
    pool: Tensor
    """Float ``B x K x G x N``; row g of nucleus k averages the atoms of group g (weights 1/|g|)."""
    targets: Tensor
    """Float ``B x K x G``, observed shifts in ppm."""
    mask: Tensor
    """Bool ``B x K x G``, True for real groups."""


def _solvent_index(solvent_class: str) -> int:
    try:
        return SOLVENT_CLASSES.index(solvent_class)
    except ValueError:
        raise ValueError(
            f"unknown solvent class {solvent_class!r}; expected {SOLVENT_CLASSES}"
        ) from None


#: ``molecule_key -> (atomic numbers N, coordinates C x N x 3)``, lowest-energy conformer first,
#: as returned by :func:`litshift.data.conformer_shards.load_conformers` (ok molecules only)
Conformers = Mapping[str, tuple[np.ndarray, np.ndarray]]


def _geometry(
    key: str, mol_h: Chem.Mol, conformers: Conformers, max_atoms: int
) -> tuple[np.ndarray, np.ndarray] | str:
    """Atomic numbers (int64) and lowest-energy coordinates of ``key``, or the skip reason."""
    found = conformers.get(key)
    if found is None:
        return "no ok conformer"
    atomic_numbers, coords = found
    expected = np.array([a.GetAtomicNum() for a in mol_h.GetAtoms()])
    if not np.array_equal(np.asarray(atomic_numbers), expected):
        return "conformer atoms differ from the molecule"
    if len(expected) > max_atoms:
        return "more atoms than max_atoms"
    return expected.astype(np.int64), np.asarray(coords[0], dtype=np.float32)


def build_labeled(
    assigned: pa.Table,
    splits: pa.Table,
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
) -> tuple[dict[str, list[LabeledExample]], Counter[str]]:
    """Group assigned spectra into examples per split.

    Parameters
    ----------
    assigned, splits
        Tables of schema ``assigned`` and ``splits``.
    conformers
        Conformers of the molecules (:data:`Conformers`); the others are skipped.
    nuclei
        Model output nuclei (``ModelConfig.nuclei``); other nuclei are counted and ignored.
    max_atoms
        Molecules with more atoms (H included) are skipped.

    Returns
    -------
    examples, counts
        ``{"train": [...], "valid": [...], "test": [...]}`` and skip/keep counts.
    """
    split_of = dict(
        zip(
            splits.column("connectivity_key").to_pylist(),
            splits.column("split").to_pylist(),
            strict=True,
        )
    )
    counts: Counter[str] = Counter()
    grouped = _grouped()
    split_of_group: dict[tuple[str, str], str] = {}
    for row in assigned.select(
        ["inchikey", "smiles", "nucleus", "solvent_class", "labels"]
    ).to_pylist():
        if row["nucleus"] not in nuclei:
            counts[f"labeled.skipped.nucleus {row['nucleus']}"] += 1
            continue
        split = split_of.get(connectivity_key(row["inchikey"]))
        if split is None:
            counts["labeled.skipped.not in splits"] += 1
            continue
        group = (row["smiles"], row["solvent_class"])
        split_of_group[group] = split
        for label in row["labels"]:
            grouped[group][row["nucleus"]][label["atom_index"]].append(label["shift"])
        counts["labeled.spectra"] += 1
    examples, example_counts = _labeled_examples(
        grouped, split_of_group, conformers, nuclei, max_atoms, "labeled"
    )
    counts.update(example_counts)
    return examples, counts


#: (smiles, solvent class) -> nucleus -> atom index -> the shifts of every spectrum/set
_Grouped = dict[tuple[str, str], dict[str, dict[int, list[float]]]]


def _grouped() -> _Grouped:
    return defaultdict(lambda: defaultdict(lambda: defaultdict(list)))


def _labeled_examples(
    grouped: _Grouped,
    split_of_group: Mapping[tuple[str, str], str],
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
    prefix: str,
) -> tuple[dict[str, list[LabeledExample]], Counter[str]]:
    """One example per (molecule, solvent class), each atom's target the mean of its shifts;
    counts ``<prefix>.skipped.<reason>`` and ``<prefix>.examples.<split>``."""
    counts: Counter[str] = Counter()
    examples: dict[str, list[LabeledExample]] = {"train": [], "valid": [], "test": []}
    for (smiles, solvent), per_nucleus in grouped.items():
        mol_h = Chem.AddHs(mol_from_smiles(smiles))
        key = molecule_key(smiles)
        geometry = _geometry(key, mol_h, conformers, max_atoms)
        if isinstance(geometry, str):
            counts[f"{prefix}.skipped.{geometry}"] += 1
            continue
        n_atoms = mol_h.GetNumAtoms()
        targets = np.zeros((n_atoms, len(nuclei)), dtype=np.float32)
        mask = np.zeros((n_atoms, len(nuclei)), dtype=bool)
        for k, nucleus in enumerate(nuclei):
            element = element_of(nucleus)
            for atom, shifts in per_nucleus.get(nucleus, {}).items():
                if not 0 <= atom < n_atoms or mol_h.GetAtomWithIdx(atom).GetSymbol() != element:
                    raise ValueError(
                        f"label {nucleus} on atom {atom} of {smiles} is not a {element} atom"
                    )
                targets[atom, k] = float(np.mean(shifts))
                mask[atom, k] = True
        split = split_of_group[(smiles, solvent)]
        examples[split].append(
            LabeledExample(
                key=key,
                smiles=smiles,
                atomic_numbers=geometry[0],
                coords=geometry[1],
                solvent_class=_solvent_index(solvent),
                targets=targets,
                mask=mask,
            )
        )
        counts[f"{prefix}.examples.{split}"] += 1
    return examples, counts


def build_atom_labeled(
    rows: Sequence[dict],
    split: str,
    conformers: Conformers,
    nuclei: Sequence[str],
    label_nuclei: Sequence[str],
    max_atoms: int,
    filters: WeakFilters | None = None,
) -> tuple[list[LabeledExample], set[int], Counter[str]]:
    """Labeled examples of ``split`` from the weak sets of ``label_nuclei`` that are atom-level
    labels in disguise (:mod:`litshift.data.atom_labels`).

    Why: 31P and 19F have a handful of assigned spectra but thousands of sets whose peaks map
    onto atoms unambiguously (the one P of a phosphine); trained as atom labels, they give those
    heads a target scaler and ``L_atom`` instead of only the weaker sorted matching.

    Parameters
    ----------
    rows
        Dicts with the columns of a ``weak`` table.
    split
        ``train``, ``valid`` or ``test``: where every example goes.
    conformers, nuclei, max_atoms
        As in :func:`build_labeled`.
    label_nuclei
        Nuclei (among ``nuclei``) whose unambiguous sets become labels.
    filters
        Weak-data filters applied to the molecules and shifts (training sets); None = none.

    Returns
    -------
    examples, used, counts
        The examples, the indices of the rows read as labels (unambiguous ones, filtered or
        not: the caller keeps them out of ``L_mol``), and counts
        ``atom_labels.<split>.<nucleus>.<branch or reason>``,
        ``atom_labels.<split>.skipped.<reason>`` and ``atom_labels.<split>.examples.<split>``.
    """
    prefix = f"atom_labels.{split}"
    counts: Counter[str] = Counter()
    grouped = _grouped()
    used: set[int] = set()
    mols: dict[str, Chem.Mol | str] = {}
    for i, result in read_atom_labels(rows, [n for n in label_nuclei if n in nuclei]):
        row = rows[i]
        nucleus, smiles = row["nucleus"], row["smiles"]
        if isinstance(result, Ambiguous):
            counts[f"{prefix}.{nucleus}.{result.reason}"] += 1
            continue
        counts[f"{prefix}.{nucleus}.{result.branch}"] += 1
        used.add(i)
        if filters is not None:
            if smiles not in mols:
                mols[smiles] = _weak_molecule(smiles, filters)
            reason = mols[smiles] if isinstance(mols[smiles], str) else None
            if reason is None and filters.windows is not None:
                if window_violation(row["shifts"], nucleus, filters.windows):
                    reason = "filter: shift outside window"
            if reason is not None:
                counts[f"{prefix}.skipped.{reason}"] += 1
                continue
        for atom, shift in result.labels:
            grouped[(smiles, row["solvent_class"])][nucleus][atom].append(shift)
    examples, example_counts = _labeled_examples(
        grouped, defaultdict(lambda: split), conformers, nuclei, max_atoms, prefix
    )
    counts.update(example_counts)
    return examples[split], used, counts


def weak_filter_reason(mol_h: Chem.Mol, filters: WeakFilters) -> str | None:
    """Why the paper's molecule-level weak-data filters drop ``mol_h``, or ``None`` to keep it."""
    if filters.max_atoms is not None and mol_h.GetNumAtoms() > filters.max_atoms:
        return "too many atoms"
    if filters.elements is not None:
        allowed = set(filters.elements)
        if any(a.GetSymbol() not in allowed for a in mol_h.GetAtoms()):
            return "element outside the allowed set"
    if filters.max_stereocentres is not None:
        centres = Chem.FindMolChiralCenters(
            mol_h, includeUnassigned=True, useLegacyImplementation=False
        )
        if len(centres) > filters.max_stereocentres:
            return "too many stereocentres"
    return None


def _weak_molecule(smiles: str, filters: WeakFilters) -> Chem.Mol | str:
    """The explicit-H molecule, or why it is dropped (checked once per SMILES)."""
    try:
        mol_h = Chem.AddHs(mol_from_smiles(smiles))
    except MoleculeError as err:
        return str(err)
    reason = weak_filter_reason(mol_h, filters)
    return mol_h if reason is None else f"filter: {reason}"


def build_weak(
    weak: pa.Table,
    conformers: Conformers,
    nuclei: Sequence[str],
    max_atoms: int,
    policy: str,
    filters: WeakFilters,
) -> tuple[list[WeakExample], Counter[str]]:
    """Turn weak shift sets into examples with precomputed match plans.

    Parameters
    ----------
    weak
        Table of schema ``weak`` (already leakage-filtered).
    conformers, nuclei, max_atoms
        As in :func:`build_labeled`.
    policy
        Count-mismatch policy passed to :func:`litshift.chem.matching.plan_match`.
    filters
        Weak-data filters (:func:`weak_filter_reason`).

    Returns
    -------
    examples, counts
        Counts hold ``weak.skipped.<reason>``, ``weak.branch.<nucleus>.<branch>`` and
        ``weak.match_skip.<nucleus>.<reason>``.
    """
    counts: Counter[str] = Counter()
    # (smiles, solvent class) -> nucleus -> plans, in table order
    plans: dict[tuple[str, str], dict[str, list[MatchPlan]]] = defaultdict(
        lambda: defaultdict(list)
    )
    mols: dict[str, Chem.Mol | str] = {}
    columns = ["smiles", "nucleus", "solvent_class", "shifts", "n_h"]
    for row in weak.select(columns).to_pylist():
        nucleus = row["nucleus"]
        if nucleus not in nuclei:
            counts[f"weak.skipped.nucleus {nucleus}"] += 1
            continue
        smiles = row["smiles"]
        if smiles not in mols:
            mols[smiles] = _weak_molecule(smiles, filters)
        mol_h = mols[smiles]
        if isinstance(mol_h, str):
            counts[f"weak.skipped.{mol_h}"] += 1
            continue
        if filters.windows is not None and window_violation(
            row["shifts"], nucleus, filters.windows
        ):
            counts["weak.skipped.filter: shift outside window"] += 1
            continue
        plan = plan_match(mol_h, nucleus, row["shifts"], row["n_h"], policy=policy)
        if isinstance(plan, MatchSkip):
            counts[f"weak.match_skip.{nucleus}.{plan.reason}"] += 1
            continue
        counts[f"weak.branch.{nucleus}.{plan.branch}"] += 1
        plans[(smiles, row["solvent_class"])][nucleus].append(plan)

    examples: list[WeakExample] = []
    for (smiles, solvent), per_nucleus in plans.items():
        mol_h = mols[smiles]
        key = molecule_key(smiles)
        geometry = _geometry(key, mol_h, conformers, max_atoms)
        if isinstance(geometry, str):
            counts[f"weak.skipped.{geometry}"] += sum(len(v) for v in per_nucleus.values())
            continue
        for paired in zip_longest(*(per_nucleus.get(n, []) for n in nuclei)):
            examples.append(
                WeakExample(
                    key=key,
                    smiles=smiles,
                    atomic_numbers=geometry[0],
                    coords=geometry[1],
                    solvent_class=_solvent_index(solvent),
                    plans=tuple(paired),
                )
            )
    counts["weak.examples"] = len(examples)
    return examples, counts


def target_scaler(
    examples: Sequence[LabeledExample], n_nuclei: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-nucleus mean and std (ppm) of the labeled shifts; (0, 1) for a nucleus without labels."""
    mean = np.zeros(n_nuclei)
    std = np.ones(n_nuclei)
    for k in range(n_nuclei):
        values = np.concatenate([e.targets[e.mask[:, k], k] for e in examples] or [np.empty(0)])
        if not np.all(np.isfinite(values)):
            raise ValueError(f"non-finite labeled shift in nucleus column {k}")
        if len(values) > 1:
            mean[k], std[k] = values.mean(), max(values.std(), 1e-6)
    return mean, std


def collate_inputs(examples: Sequence[Structure]) -> ModelInputs:
    """Pad structures to the largest of the batch (atomic number 0, features 0)."""
    n_max = max(len(e.atomic_numbers) for e in examples)
    n_features = examples[0].features.shape[1]
    atomic_numbers = torch.zeros(len(examples), n_max, dtype=torch.long)
    coords = torch.zeros(len(examples), n_max, 3)
    features = torch.zeros(len(examples), n_max, n_features, dtype=torch.long)
    topology = torch.zeros(len(examples), n_max, n_max, dtype=torch.long)
    for b, example in enumerate(examples):
        n = len(example.atomic_numbers)
        atomic_numbers[b, :n] = torch.from_numpy(example.atomic_numbers)
        coords[b, :n] = torch.from_numpy(example.coords)
        features[b, :n] = torch.from_numpy(example.features)
        topology[b, :n, :n] = torch.from_numpy(example.topology)
    solvent = torch.tensor([e.solvent_class for e in examples], dtype=torch.long)
    return ModelInputs(atomic_numbers, coords, solvent, features, topology)


def collate_labeled(examples: Sequence[LabeledExample]) -> LabeledBatch:
    """Pad labeled examples to the largest molecule of the batch."""
    inputs = collate_inputs(examples)
    B, N = inputs.atomic_numbers.shape
    K = examples[0].targets.shape[1]
    targets = torch.zeros(B, N, K)
    mask = torch.zeros(B, N, K, dtype=torch.bool)
    for b, example in enumerate(examples):
        n = len(example.atomic_numbers)
        targets[b, :n] = torch.from_numpy(example.targets)
        mask[b, :n] = torch.from_numpy(example.mask)
    return LabeledBatch(*inputs, targets, mask)


def collate_weak(examples: Sequence[WeakExample]) -> WeakBatch:
    """Pad weak examples; build the group-averaging matrices from their match plans."""
    inputs = collate_inputs(examples)
    B, N = inputs.atomic_numbers.shape
    K = len(examples[0].plans)
    G = max((len(p.groups) for e in examples for p in e.plans if p is not None), default=1)
    pool = torch.zeros(B, K, G, N)
    targets = torch.zeros(B, K, G)
    mask = torch.zeros(B, K, G, dtype=torch.bool)
    for b, example in enumerate(examples):
        for k, plan in enumerate(example.plans):
            if plan is None:
                continue
            for g, atoms in enumerate(plan.groups):
                pool[b, k, g, atoms] = 1.0 / len(atoms)
            n_groups = len(plan.groups)
            targets[b, k, :n_groups] = torch.tensor(plan.targets, dtype=torch.float32)
            mask[b, k, :n_groups] = True
    return WeakBatch(*inputs, pool, targets, mask)


def stream_indices(n: int, batch_size: int, seed: int, batch_number: int) -> np.ndarray:
    """Indices of batch ``batch_number`` of an endless stream of reshuffled passes over ``n`` items.

    A pure function of its arguments: resuming at any step needs no sampler state, and each
    DDP process reads its own batch numbers of the same global stream.
    """
    start = batch_number * batch_size
    positions = np.arange(start, start + batch_size)
    passes = positions // n
    out = np.empty(batch_size, dtype=np.int64)
    for p in np.unique(passes):
        perm = np.random.default_rng([seed, int(p)]).permutation(n)
        selected = passes == p
        out[selected] = perm[positions[selected] % n]
    return out


def bucketed_indices(
    sizes: np.ndarray, batch_size: int, seed: int, batch_number: int, window: int, order_seed: int
) -> np.ndarray:
    """Batch ``batch_number`` of the :func:`stream_indices` stream, regrouped by molecule size.

    Why: a batch is padded to its largest molecule and attention costs N², so random batches
    of 10- to 70-atom molecules waste most of a CPU step on padding. Windows of ``window``
    consecutive batches of the stream are sorted by size and cut into ``window`` batches of
    similar molecules, served in an order drawn from ``order_seed``; every item is still seen
    once per pass and the result is a pure function of the arguments (resumable, DDP-safe).
    Two streams given the same ``order_seed`` and ``window`` (labeled and weak) serve batches of
    the same size rank at every step, so their merged forward pass is padded little too.
    """
    w, j = divmod(batch_number, window)
    items = stream_indices(len(sizes), batch_size * window, seed, w)
    items = items[np.argsort(sizes[items], kind="stable")]
    slot = np.random.default_rng([order_seed, w]).permutation(window)[j]
    return items[slot * batch_size : (slot + 1) * batch_size]


class StreamSampler(Sampler[list[int]]):
    """Batch sampler over :func:`stream_indices` for steps ``[start_step, end_step)``.

    At step ``s`` process ``rank`` of ``world_size`` reads global batch ``s * world_size + rank``.
    With ``sizes`` and ``window > 1`` batches are bucketed by size (:func:`bucketed_indices`).
    """

    def __init__(
        self,
        n: int,
        batch_size: int,
        seed: int,
        start_step: int,
        end_step: int,
        rank: int = 0,
        world_size: int = 1,
        sizes: np.ndarray | None = None,
        window: int = 1,
        order_seed: int = 0,
    ) -> None:
        if n == 0:
            raise ValueError("cannot sample batches from an empty dataset")
        if sizes is not None and len(sizes) != n:
            raise ValueError(f"{len(sizes)} sizes for {n} items")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.start_step, self.end_step = start_step, end_step
        self.rank, self.world_size = rank, world_size
        self.sizes, self.window, self.order_seed = sizes, window, order_seed

    def __len__(self) -> int:
        return max(self.end_step - self.start_step, 0)

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start_step, self.end_step):
            batch = step * self.world_size + self.rank
            if self.sizes is None or self.window <= 1:
                yield stream_indices(self.n, self.batch_size, self.seed, batch).tolist()
            else:
                yield bucketed_indices(
                    self.sizes, self.batch_size, self.seed, batch, self.window, self.order_seed
                ).tolist()
