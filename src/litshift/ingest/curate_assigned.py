"""Stage ``curate_assigned``: NMRShiftDB2 SD file -> atom-assigned spectra.

The work of ``litshift curate-assigned`` (:mod:`litshift.cli.curate_assigned`):
:func:`curate_records` is pure, :func:`curate_sdf` reads the file and writes the tables.

One output row per (record, spectrum). Labels are ``(atom_index, shift)`` pairs over the atoms
of ``Chem.AddHs(Chem.MolFromSmiles(smiles))`` (see :mod:`litshift.chem.molecules`).

1H policy. NMRShiftDB2 assigns a 1H shift to the heavy atom carrying the proton, sometimes once
per heavy atom, sometimes once per proton (a CH3 listed three times). Every hydrogen of that
heavy atom gets the shift. When one heavy atom carries several *different* shifts (diastereotopic
CH2 protons), the tag does not say which proton is which, so any split between the two H atoms
would be a coin flip: both get the mean, and the number of such atoms is logged
(``h_atoms_averaged``). Several values on one 13C (or other) atom are averaged the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from rdkit import Chem
from tqdm import tqdm

from litshift.chem.molecules import (
    MoleculeError,
    canonical_order,
    hydrogens_by_heavy_atom,
    inchikey,
    mol_from_molblock,
)
from litshift.chem.nuclei import element_of, window_violation
from litshift.chem.solvents import classify
from litshift.ingest.curation import CurationResult, write_result
from litshift.ingest.nmrshiftdb2 import (
    Peak,
    SdRecord,
    SpectrumTagError,
    iter_sd_records,
    open_text,
    parse_indexed_tag,
    parse_number,
    parse_spectrum,
    spectrum_tags,
)

__all__ = ["assign_labels", "curate_records", "curate_sdf"]


STAGE = "curate_assigned"
SOURCE = "nmrshiftdb2_sdf"


class LabelError(ValueError):
    """A spectrum whose assignment cannot be mapped onto the molecule; message = reject reason."""


def assign_labels(
    peaks: list[Peak], nucleus: str, mol: Chem.Mol, mol_h: Chem.Mol, heavy_map: list[int]
) -> tuple[list[tuple[int, float]], int]:
    """Map molblock-indexed peaks onto litshift atom indices.

    Returns the sorted ``(atom_index, shift)`` labels and the number of atoms whose label is the
    mean of several different values.
    """
    element = element_of(nucleus)
    per_atom: dict[int, list[float]] = defaultdict(list)
    for peak in peaks:
        if not 0 <= peak.atom_index < mol.GetNumAtoms():
            raise LabelError(
                f"atom index out of range: {peak.atom_index} of {mol.GetNumAtoms()} atoms"
            )
        atom = mol.GetAtomWithIdx(peak.atom_index)
        if element == "H":
            if atom.GetAtomicNum() == 1:  # an explicit H in the molblock: use its heavy atom
                atom = atom.GetNeighbors()[0] if atom.GetDegree() == 1 else atom
            target = heavy_map[atom.GetIdx()]
        else:
            if atom.GetSymbol() != element:
                raise LabelError(
                    "shift assigned to an atom of another element: "
                    f"{nucleus} on {atom.GetSymbol()} {peak.atom_index}"
                )
            target = heavy_map[peak.atom_index]
        if target < 0:
            raise LabelError(f"atom without canonical counterpart: {peak.atom_index}")
        per_atom[target].append(peak.shift)

    hydrogens = hydrogens_by_heavy_atom(mol_h) if element == "H" else {}
    labels: list[tuple[int, float]] = []
    averaged = 0
    for atom_index, values in per_atom.items():
        distinct = set(values)
        averaged += len(distinct) > 1
        shift = sum(distinct) / len(distinct)
        if element == "H":
            owners = hydrogens.get(atom_index)
            if not owners:
                raise LabelError(f"1H shift assigned to an atom without hydrogens: {atom_index}")
            labels.extend((h, shift) for h in owners)
        else:
            labels.append((atom_index, shift))
    return sorted(labels), averaged


def curate_records(
    records: Iterator[SdRecord],
    nuclei: set[str],
    windows: dict[str, tuple[float, float]],
) -> CurationResult:
    """Turn raw SD records into assigned rows and reject rows (pure; no I/O)."""
    result = CurationResult(SOURCE, STAGE)
    for record in records:
        result.counts["records_read"] += 1
        try:
            mol = mol_from_molblock(record.molblock)
            smiles, mol_h, heavy_map = canonical_order(mol)
            key = inchikey(mol)
        except MoleculeError as err:
            result.reject(record.record_id, err.message, record.molblock)
            continue
        try:
            record_id = int(record.record_id)
        except ValueError:
            result.reject(record.record_id, "missing nmrshiftdb2 ID", record.molblock)
            continue
        solvents = parse_indexed_tag(record.tags.get("Solvent"))
        temperatures = parse_indexed_tag(record.tags.get("Temperature [K]"))
        fields = parse_indexed_tag(record.tags.get("Field Strength [MHz]"))
        kept = 0
        for nucleus, index, value in spectrum_tags(record.tags):
            result.counts[f"spectra_read.{nucleus}"] += 1
            try:
                peaks = parse_spectrum(value)
                if reason := window_violation((p.shift for p in peaks), nucleus, windows):
                    raise LabelError(reason)
                labels, averaged = assign_labels(peaks, nucleus, mol, mol_h, heavy_map)
            except (SpectrumTagError, LabelError) as err:
                result.reject(record.record_id, str(err), f"Spectrum {nucleus} {index}: {value}")
                continue
            if nucleus not in nuclei:
                result.counts[f"spectra_not_selected.{nucleus}"] += 1
                continue
            solvent_raw = solvents.get(index)
            solvent, solvent_class = classify(solvent_raw)
            result.rows.append(
                {
                    "nmrshiftdb2_id": record_id,
                    "spectrum_index": index,
                    "inchikey": key,
                    "smiles": smiles,
                    "mol_block": record.molblock,
                    "nucleus": nucleus,
                    "solvent_raw": solvent_raw,
                    "solvent": solvent,
                    "solvent_class": solvent_class,
                    "temperature_k": parse_number(temperatures.get(index)),
                    "field_mhz": parse_number(fields.get(index)),
                    "labels": [{"atom_index": a, "shift": s} for a, s in labels],
                }
            )
            result.counts[f"spectra_kept.{nucleus}"] += 1
            result.counts[f"h_atoms_averaged.{nucleus}"] += averaged
            kept += 1
        result.counts["records_kept" if kept else "records_without_kept_spectrum"] += 1
    return result


def curate_sdf(
    sdf: str, out: str, rejected: str, nuclei: set[str], windows: dict[str, tuple[float, float]]
) -> dict[str, int]:
    """Curate the SD file ``sdf`` (optionally gzipped) into ``out`` and ``rejected``.

    Returns the counters (records read and kept, spectra per nucleus, rejects per reason).
    """
    records = tqdm(iter_sd_records(open_text(sdf)), desc=STAGE, unit=" records", mininterval=5)
    return write_result(curate_records(records, nuclei, windows), out, rejected, "assigned")
