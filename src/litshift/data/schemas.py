"""Every Parquet table litshift writes, declared once.

Stages validate their output against these schemas when writing (:func:`litshift.data.io.write_table`)
and their input when reading (:func:`litshift.data.io.read_table`), so a schema drift fails at the
stage boundary with a clear message instead of deep inside training.

Atom indices everywhere refer to ``Chem.AddHs(Chem.MolFromSmiles(smiles))``: heavy atoms in the
order of the canonical SMILES, then hydrogens grouped by their heavy atom in ascending order.
"""

from __future__ import annotations

import pyarrow as pa

__all__ = ["LABEL", "SCHEMAS", "schema"]

LABEL = pa.struct([("atom_index", pa.int32()), ("shift", pa.float64())])

_SOLVENT_FIELDS = [
    pa.field("solvent_raw", pa.string()),
    pa.field("solvent", pa.string(), nullable=False),
    pa.field("solvent_class", pa.string(), nullable=False),
]

SCHEMAS: dict[str, pa.Schema] = {
    # One row per (NMRShiftDB2 record, assigned spectrum).
    "assigned": pa.schema(
        [
            pa.field("nmrshiftdb2_id", pa.int64(), nullable=False),
            pa.field("spectrum_index", pa.int32(), nullable=False),
            pa.field("inchikey", pa.string(), nullable=False),
            pa.field("smiles", pa.string(), nullable=False),
            pa.field("mol_block", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            *_SOLVENT_FIELDS,
            pa.field("temperature_k", pa.float64()),
            pa.field("field_mhz", pa.float64()),
            pa.field("labels", pa.list_(LABEL), nullable=False),
        ]
    ),
    # One row per molecule-level shift set whose atom assignment is unusable.
    "unassigned": pa.schema(
        [
            pa.field("source", pa.string(), nullable=False),
            pa.field("record_id", pa.string(), nullable=False),
            pa.field("inchikey", pa.string(), nullable=False),
            pa.field("smiles", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            *_SOLVENT_FIELDS,
            pa.field("temperature_k", pa.float64()),
            pa.field("field_mhz", pa.float64()),
            pa.field("shifts", pa.list_(pa.float64()), nullable=False),
            pa.field("multiplicity", pa.list_(pa.string())),
        ]
    ),
    # Everything a stage could not use, with the reason.
    "rejected": pa.schema(
        [
            pa.field("source", pa.string(), nullable=False),
            pa.field("record_id", pa.string()),
            pa.field("stage", pa.string(), nullable=False),
            pa.field("reason", pa.string(), nullable=False),
            pa.field("excerpt", pa.string()),
        ]
    ),
    # Every weak (molecule-level) shift set admitted to training, from all weak sources, after
    # the leakage guard. This is the one table the trainer reads for L_mol.
    "weak": pa.schema(
        [
            pa.field("source", pa.string(), nullable=False),
            pa.field("record_id", pa.string(), nullable=False),
            pa.field("inchikey", pa.string(), nullable=False),
            pa.field("smiles", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            pa.field("solvent", pa.string(), nullable=False),
            pa.field("solvent_class", pa.string(), nullable=False),
            pa.field("shifts", pa.list_(pa.float64()), nullable=False),
            # Integration of each peak (1H literature lists); null where not reported.
            pa.field("n_h", pa.list_(pa.int32())),
        ]
    ),
    # Molecules that need 3D coordinates (input of the sharded conformer stage).
    "molecules": pa.schema(
        [
            pa.field("key", pa.string(), nullable=False),
            pa.field("smiles", pa.string(), nullable=False),
        ]
    ),
    # One row per molecule of a conformer shard (results/conformers/shard-XXXX.parquet).
    # coords[c] is conformer c flattened to n_atoms*3 floats, atoms in the litshift order.
    "conformers": pa.schema(
        [
            pa.field("key", pa.string(), nullable=False),
            pa.field("smiles", pa.string(), nullable=False),
            pa.field("atomic_numbers", pa.list_(pa.int8()), nullable=False),
            pa.field("coords", pa.list_(pa.list_(pa.float32())), nullable=False),
            pa.field("energy", pa.list_(pa.float64()), nullable=False),
            pa.field("method", pa.string(), nullable=False),  # ETKDG+MMFF | ETKDG+UFF | failed
            pa.field("n_attempts", pa.int32(), nullable=False),
            pa.field("seed", pa.int64(), nullable=False),
            pa.field("status", pa.string(), nullable=False),  # ok | <failure reason>
            pa.field("error", pa.string()),
        ]
    ),
    # Split membership of every assigned molecule, keyed by InChIKey connectivity block.
    "splits": pa.schema(
        [
            pa.field("connectivity_key", pa.string(), nullable=False),
            pa.field("split", pa.string(), nullable=False),
        ]
    ),
}


def schema(name: str) -> pa.Schema:
    """The declared schema called ``name`` (KeyError lists the known names)."""
    try:
        return SCHEMAS[name]
    except KeyError:
        raise KeyError(f"unknown table schema {name!r}; known: {sorted(SCHEMAS)}") from None
