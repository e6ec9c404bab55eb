"""The ``split`` stage: leakage-safe train/valid/test split and the weak training set.

Assigned molecules are split by *groups*: the InChIKey connectivity block (first 14 characters)
by default, so stereoisomers and isotopologues never straddle splits, or Bemis-Murcko scaffolds.
Weak (molecule-level) shift sets then lose every molecule whose connectivity key is in the
assigned valid/test splits or in the held-out literature test set: otherwise the sorted-matching
loss would train on exactly the molecules the model is evaluated on.

Nuclei with few or no assigned spectra (31P, 19F) have held-out molecules only if their weak
molecules are split too. ``--heteronuclei`` names them: the assigned molecules with a spectrum
of another nucleus are split first, exactly as without the option, then every other molecule
with a spectrum of a heteronucleus (assigned or weak) is split the same way (seed, fractions,
method; a scaffold group already split keeps its split) and added to the splits table. The
guard above then removes the valid/test ones from the weak training set, every nucleus of them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
from rdkit.Chem.Scaffolds import MurckoScaffold

from litshift.chem.molecules import MoleculeError, mol_from_smiles
from litshift.data.io import read_table, write_table

__all__ = [
    "assign_splits",
    "group_ids",
    "extend_splits",
    "held_out_sets",
    "weak_rows",
    "weak_sources",
    "SplitOptions",
    "split_tables",
    "write_splits",
]

SPLITS = ("train", "valid", "test")
WEAK_COLUMNS = [
    "source",
    "record_id",
    "inchikey",
    "smiles",
    "nucleus",
    "solvent",
    "solvent_class",
    "shifts",
    "n_h",
]


def _scaffold(smiles: str) -> str | None:
    try:
        scaffold = MurckoScaffold.MurckoScaffoldSmiles(mol=mol_from_smiles(smiles))
    except (MoleculeError, ValueError):
        return None
    return scaffold or None


def group_ids(molecules: pl.DataFrame, method: str) -> pl.Series:
    """The grouping unit of each molecule (``connectivity_key``, ``smiles`` columns).

    Acyclic molecules have no scaffold; they form their own group by connectivity key.
    """
    if method == "connectivity":
        return molecules["connectivity_key"]
    if method == "scaffold":
        scaffolds = [_scaffold(s) for s in molecules["smiles"]]
        return pl.Series(
            [
                f"scaffold:{s}" if s else f"key:{k}"
                for s, k in zip(scaffolds, molecules["connectivity_key"], strict=True)
            ]
        )
    raise ValueError(f"unknown split method {method!r} (connectivity | scaffold)")


def _rank(group: str, seed: int) -> str:
    """A seeded, platform-independent pseudo-random order of groups."""
    return hashlib.sha256(f"{seed}:{group}".encode()).hexdigest()


def assign_splits(
    molecules: pl.DataFrame, fractions: Sequence[float], seed: int, method: str
) -> pl.DataFrame:
    """Assign each connectivity key to train/valid/test; all keys of a group go together.

    Groups are visited in seeded hash order and filled into the split whose share of molecules
    is furthest below its target, so the realised fractions track ``fractions`` closely even
    with large scaffold groups.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or sum(fractions) <= 0:
        raise ValueError(f"fractions must be three non-negative numbers, got {fractions}")
    total_fraction = sum(fractions)
    targets = [f / total_fraction for f in fractions]
    unique = molecules.unique("connectivity_key", keep="first", maintain_order=True)
    unique = unique.with_columns(group=group_ids(unique, method))
    sizes = unique.group_by("group").len()
    order = sorted(sizes.iter_rows(), key=lambda row: _rank(row[0], seed))
    filled = [0, 0, 0]
    group_split: dict[str, str] = {}
    assigned = 0
    for group, size in order:
        deficits = [targets[i] * (assigned + size) - filled[i] for i in range(3)]
        choice = max(range(3), key=lambda i: deficits[i])
        group_split[group] = SPLITS[choice]
        filled[choice] += size
        assigned += size
    return unique.select(
        "connectivity_key",
        split=pl.col("group").replace_strict(group_split, return_dtype=pl.String),
    ).sort("connectivity_key")


def extend_splits(
    splits: pl.DataFrame,
    split_molecules: pl.DataFrame,
    candidates: pl.DataFrame,
    fractions: Sequence[float],
    seed: int,
    method: str,
) -> pl.DataFrame:
    """Split the ``candidates`` (``connectivity_key``, ``smiles``) that ``splits`` lacks.

    ``splits`` is left as it is. With the scaffold method a candidate whose scaffold group holds
    molecules split already (``split_molecules``: their ``connectivity_key``, ``smiles``) joins
    their split, so that no group straddles splits; the others are split by
    :func:`assign_splits`.
    """
    new = candidates.unique("connectivity_key", keep="first", maintain_order=True).filter(
        ~pl.col("connectivity_key").is_in(splits["connectivity_key"].implode())
    )
    if method == "scaffold" and new.height:
        known = split_molecules.unique("connectivity_key", keep="first", maintain_order=True)
        group_split = (
            known.with_columns(group=group_ids(known, method))
            .join(splits, on="connectivity_key")
            .unique("group", keep="first", maintain_order=True)
            .select("group", "split")
        )
        new = new.with_columns(group=group_ids(new, method)).join(
            group_split, on="group", how="left"
        )
        followed = new.filter(pl.col("split").is_not_null()).select("connectivity_key", "split")
        new = new.filter(pl.col("split").is_null()).select("connectivity_key", "smiles")
    else:
        followed = splits.clear()
    if new.height:
        followed = pl.concat([followed, assign_splits(new, fractions, seed, method)])
    return followed.sort("connectivity_key")


def weak_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Project a curated weak source onto the ``weak`` columns (``n_h`` null where absent)."""
    if "n_h" not in frame.columns:
        frame = frame.with_columns(n_h=pl.lit(None, dtype=pl.List(pl.Int32)))
    return frame.select(WEAK_COLUMNS)


def _connectivity(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(connectivity_key=pl.col("inchikey").str.slice(0, 14))


def weak_sources(
    unassigned: pa.Table, literature: pa.Table | None, test_sources: Collection[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Every weak set before the leakage guard, and the literature test sets.

    Both have the ``weak`` columns plus ``connectivity_key``: the curated ``unassigned`` rows
    and the ``ok`` literature rows of the training sources, then the ``ok`` rows of the
    ``test_sources``.
    """
    sources = [weak_rows(pl.from_arrow(unassigned))]
    literature_test = sources[0].clear()
    if literature is not None:
        kept = weak_rows(pl.from_arrow(literature).filter(pl.col("status") == "ok"))
        is_test = pl.col("source").is_in(sorted(test_sources))
        literature_test = kept.filter(is_test)
        sources.append(kept.filter(~is_test))
    return _connectivity(pl.concat(sources)), _connectivity(literature_test)


def held_out_sets(unassigned: pa.Table, splits: pa.Table, nuclei: Collection[str]) -> pl.DataFrame:
    """The NMRShiftDB2 sets of ``nuclei`` whose molecules the split holds out (``valid`` or
    ``test``, column ``split``): what ``--heteronuclei`` keeps out of the weak training table
    and heteronucleus runs validate and test on."""
    sets, _ = weak_sources(unassigned, None, ())
    return sets.filter(pl.col("nucleus").is_in(sorted(nuclei))).join(
        pl.from_arrow(splits).filter(pl.col("split").is_in(["valid", "test"])),
        on="connectivity_key",
    )


@dataclass(frozen=True)
class SplitOptions:
    """How molecules are grouped and divided (the ``litshift split`` options)."""

    #: train, valid, test shares (normalised by their sum)
    fractions: Sequence[float] = (0.8, 0.1, 0.1)
    seed: int = 17
    #: ``connectivity`` (InChIKey connectivity block) or ``scaffold`` (Bemis-Murcko)
    method: str = "connectivity"
    #: literature sources held out as the literature test set
    literature_test_sources: frozenset[str] = frozenset()
    #: nuclei whose molecules, weak ones included, are split after the others
    heteronuclei: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SplitTables:
    """What :func:`split_tables` makes: the three output tables and their counts."""

    #: ``connectivity_key``, ``split``: the assigned and the heteronuclear molecules
    splits: pl.DataFrame
    #: the weak training set (``weak`` columns plus ``connectivity_key``)
    weak: pl.DataFrame
    #: the literature test set (``weak`` columns plus ``connectivity_key``)
    literature_test: pl.DataFrame
    #: molecules per split, rows read, kept and removed by the leakage guard
    counts: dict[str, int]


def split_tables(
    assigned: pa.Table, unassigned: pa.Table, literature: pa.Table | None, options: SplitOptions
) -> SplitTables:
    """Split the assigned molecules (then the heteronuclear ones) and guard the weak sets.

    A literature test molecule the assigned training set holds is dropped from the test set;
    every weak row whose molecule is held out (valid, test or literature test) is dropped from
    the weak training set.
    """
    fractions, seed, method = options.fractions, options.seed, options.method
    heteronuclei = sorted(options.heteronuclei)
    frame = _connectivity(pl.from_arrow(assigned))
    is_hetero = pl.col("nucleus").is_in(heteronuclei)
    first = frame.filter(~is_hetero).select("connectivity_key", "smiles")
    splits = assign_splits(first, fractions, seed, method)
    weak, literature_test = weak_sources(unassigned, literature, options.literature_test_sources)

    train_keys = splits.filter(pl.col("split") == "train")["connectivity_key"]
    held_out = splits.filter(pl.col("split") != "train")["connectivity_key"]
    # The literature test set keeps only molecules the assigned training set has not seen.
    lit_seen = literature_test["connectivity_key"].is_in(train_keys.implode())
    literature_test = literature_test.filter(~lit_seen)
    # the rest of the heteronuclear molecules (literature test ones are held out already)
    candidates = pl.concat(
        [
            frame.filter(is_hetero).select("connectivity_key", "smiles"),
            weak.filter(is_hetero).select("connectivity_key", "smiles"),
        ]
    ).filter(~pl.col("connectivity_key").is_in(literature_test["connectivity_key"].implode()))
    extra = extend_splits(splits, first, candidates, fractions, seed, method)
    held_out = pl.concat([held_out, extra.filter(pl.col("split") != "train")["connectivity_key"]])
    blocked = pl.concat([held_out, literature_test["connectivity_key"]]).unique()
    leaked = weak["connectivity_key"].is_in(blocked.implode())
    counts = {
        **{f"split_molecules.{s}": int((splits["split"] == s).sum()) for s in SPLITS},
        **{
            f"split_heteronuclear_molecules.{s}": int((extra["split"] == s).sum())
            for s in SPLITS
            if heteronuclei
        },
        "weak_rows_read": weak.height,
        "weak_rows_removed_leakage": int(leaked.sum()),
        "weak_molecules_removed_leakage": weak.filter(leaked)["connectivity_key"].n_unique(),
        "literature_test_rows_removed_seen_in_train": int(lit_seen.sum()),
        "literature_test_rows": literature_test.height,
    }
    weak = weak.filter(~leaked)
    counts["weak_rows_kept"] = weak.height
    for nucleus in sorted(weak["nucleus"].unique()):
        counts[f"weak_rows_kept.{nucleus}"] = int((weak["nucleus"] == nucleus).sum())
    return SplitTables(
        splits=pl.concat([splits, extra]).sort("connectivity_key"),
        weak=weak,
        literature_test=literature_test,
        counts=counts,
    )


def write_splits(
    *,
    assigned: str | os.PathLike[str],
    unassigned: str | os.PathLike[str],
    literature: str | os.PathLike[str] | None,
    out_splits: str | os.PathLike[str],
    out_weak: str | os.PathLike[str],
    out_literature_test: str | os.PathLike[str],
    options: SplitOptions,
) -> dict[str, int]:
    """:func:`split_tables` from and to Parquet files (schemas ``splits`` and ``weak``);
    returns its counts."""
    tables = split_tables(
        read_table(assigned, "assigned"),
        read_table(unassigned, "unassigned"),
        read_table(literature, "literature") if literature else None,
        options,
    )
    write_table(tables.splits.to_arrow(), out_splits, "splits")
    write_table(tables.weak.drop("connectivity_key").to_arrow(), out_weak, "weak")
    write_table(
        tables.literature_test.drop("connectivity_key").to_arrow(), out_literature_test, "weak"
    )
    return tables.counts
