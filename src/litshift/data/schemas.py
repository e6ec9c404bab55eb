"""Every Parquet table litshift writes, declared once.

Stages validate their output against these schemas when writing
(:func:`litshift.data.io.write_table`) and their input when reading
(:func:`litshift.data.io.read_table`), so a schema drift fails at the stage boundary with a clear
message instead of deep inside training.

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
    # One row per NMR block of a literature record (ingest_literature): parsed peaks, the
    # record's structure and the verdict of the consistency filters. A record without any block
    # gets one row with a null nucleus. status is "ok" or the reject reason; only "ok" rows may
    # become weak labels, and only from sources whose role is "train".
    "literature": pa.schema(
        [
            pa.field("source", pa.string(), nullable=False),
            pa.field("role", pa.string(), nullable=False),  # train | test
            pa.field("record_id", pa.string(), nullable=False),  # <source>:<record_index>
            pa.field("record_index", pa.int64(), nullable=False),  # 0-based row of the input
            pa.field("document_id", pa.string()),  # e.g. the PMCID the paragraph comes from
            pa.field("block_index", pa.int32()),  # order of the block in the paragraph
            pa.field("compound_index", pa.int32()),  # 0 = the record's own compound
            pa.field("compound_label", pa.string()),  # "4c" when the text names one
            pa.field("nucleus", pa.string()),
            pa.field("smiles", pa.string()),  # canonical; null if missing/invalid/other compound
            pa.field("inchikey", pa.string()),
            *_SOLVENT_FIELDS,
            pa.field("frequency_mhz", pa.float64()),
            pa.field("temperature_k", pa.float64()),
            pa.field("reference", pa.string()),
            # Per peak, in the order written; a range gives its midpoint in shifts.
            pa.field("shifts", pa.list_(pa.float64()), nullable=False),
            pa.field("shift_lo", pa.list_(pa.float64()), nullable=False),
            pa.field("shift_hi", pa.list_(pa.float64()), nullable=False),
            pa.field("multiplicity", pa.list_(pa.string())),
            pa.field("j_hz", pa.list_(pa.list_(pa.float64()))),
            # Nuclei per peak as reported: the 1H integration (2H), "(2C)" in 13C lists.
            pa.field("n_h", pa.list_(pa.int32())),
            pa.field("assignment", pa.list_(pa.string())),
            pa.field("flags", pa.list_(pa.string())),  # e.g. "solvent residual 77.16"
            pa.field("status", pa.string(), nullable=False),
            pa.field("detail", pa.string()),  # numbers behind a reject reason
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
    # Split membership of every assigned molecule, keyed by InChIKey connectivity block, and of
    # the weak molecules of the heteronuclei (split --heteronuclei).
    "splits": pa.schema(
        [
            pa.field("connectivity_key", pa.string(), nullable=False),
            pa.field("split", pa.string(), nullable=False),
        ]
    ),
    # Output of `litshift predict`: one row per (input molecule, nucleus, atom). atom_index
    # refers to Chem.AddHs(Chem.MolFromSmiles(smiles)) of the SMILES as given by the user.
    "predictions": pa.schema(
        [
            pa.field("input_row", pa.int64(), nullable=False),
            pa.field("smiles", pa.string(), nullable=False),
            pa.field("solvent", pa.string(), nullable=False),
            # the model's solvent class the prediction used (CDCl3 | DMSO-d6 | other)
            pa.field("solvent_class", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            pa.field("atom_index", pa.int32(), nullable=False),
            pa.field("element", pa.string(), nullable=False),
            pa.field("shift_ppm", pa.float64(), nullable=False),
            # calibrated 1-sigma of the Gaussian predictive distribution and its 95 % interval
            # (widened outside the domain: litshift.inference.domain.OUT_OF_DOMAIN_STD_FACTOR)
            pa.field("shift_std_ppm", pa.float64(), nullable=False),
            pa.field("shift_lo95_ppm", pa.float64(), nullable=False),
            pa.field("shift_hi95_ppm", pa.float64(), nullable=False),
            # applicability domain of the molecule (litshift.inference.domain): null when the
            # checkpoint stores no training domain; the reason is empty inside the domain
            pa.field("in_domain", pa.bool_()),
            pa.field("domain_reason", pa.string(), nullable=False),
        ]
    ),
    # Stage evaluate (results/eval/predictions.parquet): every scored prediction of every model.
    # split assigned_test: one row per labeled atom of a (molecule, solvent); split
    # literature_test: one row per sorted-matching pair, atom_index = first atom of the group
    # of n_atoms whose pooled prediction is paired with the observed peak. Stage hose_baseline
    # (results/eval/hose_baseline/) writes the same rows for heteronuclei, split weak_test too.
    "eval_predictions": pa.schema(
        [
            pa.field("model", pa.string(), nullable=False),  # run name, HOSE or CSP5
            # assigned_test | literature_test | weak_test
            pa.field("split", pa.string(), nullable=False),
            # the scored unit: <key>/<solvent> (assigned) | <record id>/<solvent> (the others)
            pa.field("record_id", pa.string(), nullable=False),
            pa.field("key", pa.string(), nullable=False),  # molecule_key(smiles)
            pa.field("smiles", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            pa.field("solvent", pa.string(), nullable=False),
            pa.field("solvent_class", pa.string(), nullable=False),
            pa.field("atom_index", pa.int32(), nullable=False),
            pa.field("n_atoms", pa.int32(), nullable=False),
            pa.field("environment", pa.string(), nullable=False),  # e.g. aromatic CH, carbonyl C
            pa.field("max_similarity", pa.float64(), nullable=False),  # Tanimoto to training set
            pa.field("match_branch", pa.string()),  # plan_match branch (literature_test)
            pa.field("observed", pa.float64(), nullable=False),
            pa.field("predicted", pa.float64(), nullable=False),
            # calibrated predictive std (ppm; pairs: mean over the pooled group; NaN: hose_baseline)
            pa.field("std", pa.float64(), nullable=False),
        ]
    ),
    # Stage evaluate (results/eval/metrics.parquet): errors (ppm) per model, split, level
    # (atom | molecule = sorted matching), nucleus and breakdown group, with cluster-bootstrap
    # 95 % intervals over molecules; budget = config label that produced the numbers.
    "eval_metrics": pa.schema(
        [
            pa.field("model", pa.string(), nullable=False),
            pa.field("split", pa.string(), nullable=False),
            pa.field("level", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            pa.field("breakdown", pa.string(), nullable=False),  # all|solvent_class|solvent|...
            pa.field("group", pa.string(), nullable=False),
            pa.field("n", pa.int64(), nullable=False),  # atoms or matched peaks
            pa.field("n_molecules", pa.int64(), nullable=False),
            pa.field("mae", pa.float64(), nullable=False),
            pa.field("rmse", pa.float64(), nullable=False),
            pa.field("mae_ci_lo", pa.float64(), nullable=False),
            pa.field("mae_ci_hi", pa.float64(), nullable=False),
            pa.field("rmse_ci_lo", pa.float64(), nullable=False),
            pa.field("rmse_ci_hi", pa.float64(), nullable=False),
            pa.field("budget", pa.string(), nullable=False),
        ]
    ),
    # Stage evaluate (results/eval/uncertainty.parquet): calibration of the predictive std on
    # the atoms of the assigned test split, per model and nucleus (factors fitted on the
    # assigned validation split): coverage of the central 50/80/95 % Gaussian intervals, mean
    # Gaussian NLL (nats) and Spearman correlation of |error| with the std.
    "eval_uncertainty": pa.schema(
        [
            pa.field("model", pa.string(), nullable=False),
            pa.field("split", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            pa.field("n", pa.int64(), nullable=False),
            pa.field("coverage_50", pa.float64(), nullable=False),
            pa.field("coverage_80", pa.float64(), nullable=False),
            pa.field("coverage_95", pa.float64(), nullable=False),
            pa.field("nll", pa.float64(), nullable=False),
            pa.field("spearman", pa.float64()),  # null when the std is constant
            pa.field("mean_std", pa.float64(), nullable=False),
            pa.field("budget", pa.string(), nullable=False),
        ]
    ),
    # Stage verify_benchmark (results/verify/benchmark.parquet): one row per model, case (a
    # test spectrum), nucleus set (1H, 13C, 1H+13C) and candidate (the true structure or a
    # decoy of its formula), with the DP4-style probability and rank (1 = best, ties count
    # against the candidate; null when the model could not score it).
    "verify_benchmark": pa.schema(
        [
            pa.field("model", pa.string(), nullable=False),
            pa.field("split", pa.string(), nullable=False),  # assigned_test | literature_test
            pa.field("case_id", pa.string(), nullable=False),  # <key or record>/<solvent>
            pa.field("true_smiles", pa.string(), nullable=False),
            pa.field("solvent", pa.string(), nullable=False),
            pa.field("nuclei", pa.string(), nullable=False),  # 1H | 13C | 1H+13C
            pa.field("candidate", pa.string(), nullable=False),  # canonical SMILES
            pa.field("kind", pa.string(), nullable=False),  # true | positional | formula
            pa.field("n_candidates", pa.int32(), nullable=False),
            pa.field("log_likelihood", pa.float64()),
            pa.field("probability", pa.float64()),
            pa.field("rank", pa.int32()),
            pa.field("branch", pa.string()),  # plan_match branch or partial:<skip reason>
        ]
    ),
    # Stage summarize_ablations (results/ablations/summary.parquet, `make ablations`): the
    # validation MAE (ppm) of every ablation run over its seeds, per nucleus and solvent class
    # ("all" = every validation atom of the nucleus); mae_std is the sample std (null with one
    # seed). The run's knobs come from its config.json, overrides is the declared JSON.
    "ablation_summary": pa.schema(
        [
            pa.field("run", pa.string(), nullable=False),
            pa.field("nucleus", pa.string(), nullable=False),
            pa.field("solvent_class", pa.string(), nullable=False),  # all | CDCl3 | ...
            pa.field("mode", pa.string(), nullable=False),
            pa.field("lambda_mol", pa.float64(), nullable=False),
            pa.field("solvent_mode", pa.string(), nullable=False),
            pa.field("match_policy", pa.string(), nullable=False),
            pa.field("overrides", pa.string(), nullable=False),
            pa.field("seeds", pa.list_(pa.int64()), nullable=False),  # seeds that scored it
            pa.field("n_seeds", pa.int64(), nullable=False),
            pa.field("n_atoms", pa.int64(), nullable=False),  # validation atoms of the group
            pa.field("mae_mean", pa.float64(), nullable=False),
            pa.field("mae_std", pa.float64()),
            pa.field("mae_min", pa.float64(), nullable=False),
            pa.field("mae_max", pa.float64(), nullable=False),
            pa.field("max_steps", pa.int64()),  # the configured budget (null = epochs)
            pa.field("steps_mean", pa.float64(), nullable=False),  # trained (early stopping)
            pa.field("wall_seconds_mean", pa.float64(), nullable=False),
            pa.field("wall_seconds_total", pa.float64(), nullable=False),
            pa.field("budget", pa.string(), nullable=False),
        ]
    ),
}


def schema(name: str) -> pa.Schema:
    """The declared schema called ``name`` (KeyError lists the known names)."""
    try:
        return SCHEMAS[name]
    except KeyError:
        raise KeyError(f"unknown table schema {name!r}; known: {sorted(SCHEMAS)}") from None
