"""Stage ``curate_unassigned``: NMRShiftDB2 JSON lines -> molecule-level shift sets.

The JSON dump carries spectra whose atom indices refer to molblocks it does not include, so the
indices cannot be mapped onto the SMILES. What survives is the *set* of shifts of the molecule,
exactly the kind of weak label the sorted-matching loss learns from.

The work of ``litshift curate-unassigned`` (:mod:`litshift.cli.curate_unassigned`):
:func:`curate_json_records` is pure, :func:`curate_jsonl` reads the file and writes the tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from tqdm import tqdm

from litshift.chem.molecules import MoleculeError, canonical_smiles, inchikey, mol_from_smiles
from litshift.chem.nuclei import window_violation
from litshift.chem.solvents import classify
from litshift.ingest.curation import CurationResult, write_result
from litshift.ingest.nmrshiftdb2 import (
    SpectrumTagError,
    open_text,
    parse_indexed_tag,
    parse_number,
    parse_spectrum,
    spectrum_tags,
)

__all__ = ["curate_json_records", "curate_jsonl"]


STAGE = "curate_unassigned"
SOURCE = "nmrshiftdb2_jsonl"


def curate_json_records(
    lines: Iterable[str],
    nuclei: set[str],
    windows: dict[str, tuple[float, float]],
    max_records: int | None = None,
    uncapped: frozenset[str] = frozenset(),
) -> CurationResult:
    """Parse JSON lines into molecule-level shift sets (pure; no I/O).

    Only the first ``max_records`` lines are read in full. Past them, records are read for
    their spectra of the ``uncapped`` nuclei only: rare nuclei (31P, 19F) that a sample of the
    records would mostly miss, while the cap still bounds the 1H/13C sets. Without uncapped
    nuclei reading stops at the cap.
    """
    result = CurationResult(SOURCE, STAGE)
    for line_number, line in enumerate(lines):
        past_cap = max_records is not None and line_number >= max_records
        if past_cap and not uncapped:
            break
        if not line.strip():
            continue
        result.counts["records_read_past_cap" if past_cap else "records_read"] += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            result.reject(f"line {line_number + 1}", f"unparseable JSON: {err.msg}", line)
            continue
        selected = nuclei & uncapped if past_cap else nuclei
        if past_cap and not any(n in selected for n, _, _ in spectrum_tags(record)):
            continue
        record_id = str(record.get("nmrshiftdb2 ID") or f"line {line_number + 1}")
        try:
            mol = mol_from_smiles(record.get("SMILES"))
            smiles, key = canonical_smiles(mol), inchikey(mol)
        except MoleculeError as err:
            result.reject(record_id, err.message, str(record.get("SMILES")))
            continue
        solvents = parse_indexed_tag(record.get("Solvent"))
        temperatures = parse_indexed_tag(record.get("Temperature [K]"))
        fields = parse_indexed_tag(record.get("Field Strength [MHz]"))
        kept = 0
        for nucleus, index, value in spectrum_tags(record):
            if nucleus not in selected:
                result.counts[f"spectra_not_selected.{nucleus}"] += 1
                continue
            result.counts[f"spectra_read.{nucleus}"] += 1
            try:
                peaks = parse_spectrum(value)
            except SpectrumTagError as err:
                result.reject(record_id, str(err), f"Spectrum {nucleus} {index}: {value}")
                continue
            shifts = [p.shift for p in peaks]
            if reason := window_violation(shifts, nucleus, windows):
                result.reject(record_id, reason, f"Spectrum {nucleus} {index}: {value}")
                continue
            solvent_raw = solvents.get(index)
            solvent, solvent_class = classify(solvent_raw)
            result.rows.append(
                {
                    "source": SOURCE,
                    "record_id": f"{record_id}:{nucleus}:{index}",
                    "inchikey": key,
                    "smiles": smiles,
                    "nucleus": nucleus,
                    "solvent_raw": solvent_raw,
                    "solvent": solvent,
                    "solvent_class": solvent_class,
                    "temperature_k": parse_number(temperatures.get(index)),
                    "field_mhz": parse_number(fields.get(index)),
                    "shifts": shifts,
                    "multiplicity": [p.multiplicity for p in peaks] if nucleus == "1H" else None,
                }
            )
            result.counts[f"spectra_kept.{nucleus}"] += 1
            kept += 1
        result.counts["records_kept" if kept else "records_without_selected_spectrum"] += 1
    return result


def curate_jsonl(
    jsonl: str,
    out: str,
    rejected: str,
    nuclei: set[str],
    windows: dict[str, tuple[float, float]],
    max_records: int | None = None,
    uncapped: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Curate the JSON-lines file ``jsonl`` (optionally gzipped) into ``out`` and ``rejected``.

    ``max_records`` and ``uncapped`` as in :func:`curate_json_records`. Returns the counters
    (records read and kept, spectra per nucleus, rejects per reason).
    """
    lines = tqdm(open_text(jsonl), desc=STAGE, unit=" records", mininterval=5)
    result = curate_json_records(lines, nuclei, windows, max_records, uncapped)
    return write_result(result, out, rejected, "unassigned")
