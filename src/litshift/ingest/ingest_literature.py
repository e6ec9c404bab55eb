"""Stage ``ingest_literature``: literature records -> consistency-checked peak lists.

Inputs (``--format``, detected from the file name by default):

- ``csv``: the annotated layout of NMRExtractor / NMRBank (``Paragraph``, ``SMILES``,
  ``PMC accession number (PMCID)``, ...; ``.csv``/``.csv.gz``). Only the paragraph, the SMILES
  and the document id are read: the annotation columns are never used as input.
- ``text``: one paragraph per line (``.txt``/``.txt.gz``); the record's SMILES may follow the
  paragraph after a tab (``PARAGRAPH<TAB>SMILES``), otherwise the record has no SMILES.
- ``parquet``: already-extracted peak lists with columns ``smiles``, ``nucleus``, ``solvent``,
  ``shifts`` (optionally ``n_h`` and ``reference``, the shift reference as written); they skip
  the parser and go through the same filters.

Output: the ``literature`` table, one row per NMR block (a record without any block gets one row
with a null nucleus and status ``no NMR block found``); every non-``ok`` row is also written to
the shared ``rejected`` table. The input is streamed in chunks; with ``--workers N`` chunks are
parsed and filtered in N processes while this process merges duplicates (which needs every kept
list seen so far) and writes, so memory stays bounded by about ``2 N`` chunks.

This module is the work of ``litshift ingest-literature`` (:mod:`litshift.cli.ingest_literature`
reads the options): reading, the pure per-chunk parsing and filtering, and :func:`ingest`, which
streams a whole input into the two tables.
"""

from __future__ import annotations

import concurrent.futures
import logging
import multiprocessing
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from litshift.chem.molecules import MoleculeError
from litshift.chem.solvents import classify
from litshift.data.io import atomic_path, reject_row, validate
from litshift.data.schemas import schema
from litshift.ingest import literature_filters as filters
from litshift.ingest.literature import (
    Peak,
    Spectrum,
    normalize_paragraph,
    parse_normalized,
)
from litshift.ingest.nmrshiftdb2 import open_text

__all__ = [
    "IngestOptions",
    "InputRecord",
    "LiteratureInput",
    "check_columns",
    "detect_format",
    "ingest",
    "ingest_chunk",
    "merge_duplicates",
    "read_records",
]

logger = logging.getLogger(__name__)

STAGE = "ingest_literature"
PMCID_COLUMN = "PMC accession number (PMCID)"
FORMATS = ("csv", "text", "parquet")
#: columns of a peak-list Parquet input, and those read when present
PARQUET_COLUMNS = frozenset({"smiles", "nucleus", "solvent", "shifts"})
OPTIONAL_PARQUET_COLUMNS = frozenset({"n_h", "reference"})


@dataclass(frozen=True, slots=True)
class InputRecord:
    """One input row: a paragraph to parse, or one already-extracted peak list."""

    index: int
    """0-based row of the input (``record_index``)."""
    smiles: str | None
    text: str | None = None
    """The paragraph (csv and text inputs)."""
    document_id: str | None = None
    """Where the paragraph comes from (the PMCID for NMRExtractor/NMRBank files)."""
    spectrum: Spectrum | None = None
    """An already-extracted peak list (parquet input) instead of a paragraph."""


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """What a worker needs besides the records (picklable)."""

    source: str
    role: str
    nuclei: frozenset[str]
    config: filters.FilterConfig


@dataclass(frozen=True, slots=True)
class LiteratureInput:
    """One input file and how to read it (the arguments of :func:`read_records`)."""

    path: str
    fmt: str
    """``csv``, ``text`` or ``parquet`` (:data:`FORMATS`; :func:`detect_format` guesses it)."""
    text_column: str = "Paragraph"
    smiles_column: str | None = "SMILES"
    """None: the records have no structure."""
    id_column: str | None = None
    """None: the PMCID column of NMRExtractor/NMRBank files when present; '' for none."""
    chunk_size: int = 5000
    """Records per chunk, the unit of work of a worker process."""


# --- reading ---------------------------------------------------------------------------------


def detect_format(path: str) -> str:
    """``csv``, ``text`` or ``parquet`` from the file name (``.gz`` allowed)."""
    name = Path(path).name.lower().removesuffix(".gz")
    suffixes = {"csv": (".csv",), "parquet": (".parquet", ".pq"), "text": (".txt",)}
    for fmt, endings in suffixes.items():
        if name.endswith(endings):
            return fmt
    raise ValueError(f"cannot tell the format of {path!r}; pass --format csv|text|parquet")


def _chunked(records: Iterable[InputRecord], size: int) -> Iterator[list[InputRecord]]:
    chunk: list[InputRecord] = []
    for record in records:
        chunk.append(record)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _csv_records(
    path: str, text_column: str, smiles_column: str | None, id_column: str | None
) -> Iterator[InputRecord]:
    if id_column is None:
        id_column = PMCID_COLUMN if PMCID_COLUMN in pacsv.open_csv(path).schema.names else ""
    columns = [c for c in (text_column, smiles_column, id_column) if c]
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            include_columns=columns, column_types=dict.fromkeys(columns, pa.string())
        ),
    )
    index = 0
    for batch in reader:
        texts = batch.column(text_column).to_pylist()
        empty = [None] * len(texts)
        smiles = batch.column(smiles_column).to_pylist() if smiles_column else empty
        documents = batch.column(id_column).to_pylist() if id_column else empty
        for text, smi, document in zip(texts, smiles, documents, strict=True):
            yield InputRecord(index, smi, text, document)
            index += 1


def _text_records(path: str) -> Iterator[InputRecord]:
    for index, line in enumerate(open_text(path)):
        text, _, smiles = line.rstrip("\r\n").partition("\t")
        yield InputRecord(index, smiles.strip() or None, text)


def _parquet_records(path: str, chunk_size: int) -> Iterator[InputRecord]:
    file = pq.ParquetFile(path)
    index = 0
    columns = sorted(PARQUET_COLUMNS | set(file.schema_arrow.names) & OPTIONAL_PARQUET_COLUMNS)
    for batch in file.iter_batches(batch_size=chunk_size, columns=columns):
        for row in batch.to_pylist():
            shifts = row["shifts"] or []
            counts = row.get("n_h") or [None] * len(shifts)
            peaks = [Peak(s, s, s, count=c) for s, c in zip(shifts, counts, strict=True)]
            spectrum = Spectrum(
                row["nucleus"], peaks, solvent_raw=row["solvent"], reference=row.get("reference")
            )
            yield InputRecord(index, row["smiles"], spectrum=spectrum)
            index += 1


def check_columns(
    path: str, fmt: str, text_column: str, smiles_column: str | None, id_column: str | None
) -> None:
    """Raise ``ValueError`` naming the columns ``path`` lacks (text files have none)."""
    if fmt == "csv":
        header = pacsv.open_csv(path).schema.names
        missing = [c for c in (text_column, smiles_column, id_column) if c and c not in header]
        if missing:
            raise ValueError(
                f"{path}: no column(s) {missing}; its columns are {header} "
                "(see --text-column, --smiles-column, --id-column)"
            )
    elif fmt == "parquet":
        names = set(pq.ParquetFile(path).schema_arrow.names)
        if missing := PARQUET_COLUMNS - names:
            raise ValueError(f"{path}: a peak-list Parquet needs columns {sorted(missing)}")


def read_records(
    path: str,
    fmt: str,
    text_column: str = "Paragraph",
    smiles_column: str | None = "SMILES",
    id_column: str | None = None,
    chunk_size: int = 5000,
) -> Iterator[list[InputRecord]]:
    """Chunks of input records, streamed from ``path``.

    ``id_column`` None picks the PMCID column of NMRExtractor/NMRBank files when present.
    """
    if not Path(path).exists():
        raise FileNotFoundError(f"input file not found: {path}")
    check_columns(path, fmt, text_column, smiles_column, id_column)
    if fmt == "csv":
        records = _csv_records(path, text_column, smiles_column, id_column)
    elif fmt == "text":
        records = _text_records(path)
    else:
        records = _parquet_records(path, chunk_size)
    return _chunked(records, chunk_size)


# --- parsing and filtering (pure) ------------------------------------------------------------


def _selected(spectra: list[Spectrum], nuclei: frozenset[str]) -> list[tuple[int, Spectrum]]:
    """Blocks worth a row: those with peaks, plus the first empty block of a nucleus that has
    no peaks anywhere (so "1H NMR: see Table 1" is reported rather than dropped)."""
    with_peaks = {s.nucleus for s in spectra if s.peaks}
    chosen: list[tuple[int, Spectrum]] = []
    reported_empty: set[str] = set()
    for index, spectrum in enumerate(spectra):
        if spectrum.nucleus not in nuclei:
            continue
        if spectrum.peaks:
            chosen.append((index, spectrum))
        elif spectrum.nucleus not in with_peaks and spectrum.nucleus not in reported_empty:
            reported_empty.add(spectrum.nucleus)
            chosen.append((index, spectrum))
    return chosen


def _verdict(
    spectrum: Spectrum,
    own: bool,
    mol: filters.MoleculeInfo | None,
    mol_error: MoleculeError | None,
    solvent: str,
    config: filters.FilterConfig,
) -> filters.Verdict:
    """Problems of the text first (another compound, no list), then of the structure, then the
    consistency checks."""
    if not own:
        label = spectrum.compound_label or f"#{spectrum.compound_index}"
        return filters.Verdict(filters.OTHER_COMPOUND, f"compound {label}")
    if not spectrum.peaks:
        # the parser's reason for giving up on the list ("list cut short: ..."), when it had one
        return filters.Verdict(filters.NO_PEAKS, spectrum.reject_reason)
    if mol is None:
        return filters.Verdict(str(mol_error), mol_error.detail)
    return filters.check_spectrum(
        spectrum.nucleus,
        spectrum.peaks,
        solvent,
        mol,
        config,
        (spectrum.solvent_raw, spectrum.reference),
    )


def _record_rows(record: InputRecord, options: IngestOptions) -> list[tuple[dict, str]]:
    """(row, excerpt) for every block of one record."""
    base = {
        "source": options.source,
        "role": options.role,
        "record_id": f"{options.source}:{record.index}",
        "record_index": record.index,
        "document_id": record.document_id,
    }
    if record.spectrum is not None:
        text, spectra = "", [record.spectrum]
    else:
        text = normalize_paragraph(record.text or "")
        spectra = parse_normalized(text)
    blocks = _selected(spectra, options.nuclei)
    if not blocks:
        solvent, solvent_class = classify(None)
        row = {
            **base,
            "nucleus": None,
            "solvent": solvent,
            "solvent_class": solvent_class,
            "shifts": [],
            "shift_lo": [],
            "shift_hi": [],
            "status": filters.NO_BLOCK,
            "detail": None,
        }
        return [(row, text[:300])]
    mol: filters.MoleculeInfo | None = None
    mol_error: MoleculeError | None = None
    try:
        mol = filters.molecule_info(record.smiles)
    except MoleculeError as err:
        mol_error = err
    own_label = next((s.compound_label for s in spectra if s.compound_index == 0), None)
    rows = []
    for block_index, spectrum in blocks:
        own = spectrum.compound_index == 0 or (
            spectrum.compound_label is not None and spectrum.compound_label == own_label
        )
        solvent, solvent_class = classify(spectrum.solvent_raw)
        peaks = spectrum.peaks
        verdict = _verdict(spectrum, own, mol, mol_error, solvent, options.config)
        keep_structure = own and mol is not None
        rows.append(
            (
                {
                    **base,
                    "block_index": block_index,
                    "compound_index": spectrum.compound_index,
                    "compound_label": spectrum.compound_label,
                    "nucleus": spectrum.nucleus,
                    "smiles": mol.smiles if keep_structure else None,
                    "inchikey": mol.inchikey if keep_structure else None,
                    "solvent_raw": spectrum.solvent_raw,
                    "solvent": solvent,
                    "solvent_class": solvent_class,
                    "frequency_mhz": spectrum.frequency_mhz,
                    "temperature_k": spectrum.temperature_k,
                    "reference": spectrum.reference,
                    "shifts": [p.shift for p in peaks],
                    "shift_lo": [p.lo for p in peaks],
                    "shift_hi": [p.hi for p in peaks],
                    "multiplicity": [p.multiplicity for p in peaks],
                    "j_hz": [list(p.j_hz) for p in peaks],
                    "n_h": [p.count for p in peaks],
                    "assignment": [p.assignment for p in peaks],
                    "flags": list(verdict.flags),
                    "status": verdict.status,
                    "detail": verdict.detail,
                },
                text[spectrum.start : spectrum.end] if text else repr(spectrum.shifts),
            )
        )
    return rows


def ingest_chunk(records: list[InputRecord], options: IngestOptions) -> tuple[pa.Table, list[str]]:
    """Parse and check one chunk (runs in a worker): its ``literature`` rows and one excerpt
    of the source text per row.

    The rows travel back as an Arrow table (cheap to pickle). Duplicates are not merged here:
    that needs the lists of every earlier chunk.
    """
    pairs = [pair for record in records for pair in _record_rows(record, options)]
    table = pa.Table.from_pylist([row for row, _ in pairs], schema=schema("literature"))
    return validate(table, "literature"), [excerpt for _, excerpt in pairs]


def merge_duplicates(table: pa.Table, index: filters.DuplicateIndex) -> pa.Table:
    """Mark ``ok`` rows whose list repeats one kept earlier as duplicates of it."""
    status = table.column("status").to_pylist()
    ok = [i for i, s in enumerate(status) if s == filters.OK]
    if not ok:
        return table
    detail = table.column("detail").to_pylist()
    keys = table.take(ok).select(["smiles", "nucleus", "solvent", "shifts", "record_id"])
    for i, row in zip(ok, keys.to_pylist(), strict=True):
        first = index.first_copy(
            row["smiles"], row["nucleus"], row["solvent"], row["shifts"], row["record_id"]
        )
        if first is not None:
            status[i], detail[i] = filters.DUPLICATE, f"same list as {first}"
    table = table.set_column(
        table.schema.get_field_index("status"), "status", pa.array(status, pa.string())
    )
    return table.set_column(
        table.schema.get_field_index("detail"), "detail", pa.array(detail, pa.string())
    )


# --- orchestration ---------------------------------------------------------------------------


def _map_chunks(
    chunks: Iterable[list[InputRecord]], options: IngestOptions, workers: int
) -> Iterator[tuple[pa.Table, list[str]]]:
    """``ingest_chunk`` over the chunks, in order, with at most ``2 x workers`` in flight."""
    if workers <= 1:
        for chunk in chunks:
            yield ingest_chunk(chunk, options)
        return
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[concurrent.futures.Future] = deque()
        for chunk in chunks:
            pending.append(pool.submit(ingest_chunk, chunk, options))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _TableStream:
    """Append schema-checked tables to one Parquet file, renamed into place on success."""

    def __init__(self, stack: ExitStack, path: str, name: str) -> None:
        self._name = name
        tmp = stack.enter_context(atomic_path(path))
        self._writer = stack.enter_context(pq.ParquetWriter(tmp, schema(name), compression="zstd"))

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(validate(table, self._name))


def _rejected_rows(table: pa.Table, excerpts: list[str], source: str) -> pa.Table:
    """``rejected`` rows for every non-ok row of a chunk; the reason is the status."""
    columns = table.select(["record_id", "status", "detail"]).to_pydict()
    rows = [
        reject_row(source, record_id, STAGE, f"{status}: {detail}" if detail else status, excerpt)
        for record_id, status, detail, excerpt in zip(
            columns["record_id"], columns["status"], columns["detail"], excerpts, strict=True
        )
        if status != filters.OK
    ]
    return pa.Table.from_pylist(rows, schema=schema("rejected"))


def _count(table: pa.Table, counts: Counter) -> None:
    counts["rows"] += table.num_rows
    for status, nucleus in zip(
        table.column("status").to_pylist(), table.column("nucleus").to_pylist(), strict=True
    ):
        counts[f"status.{status}"] += 1
        if nucleus is not None:
            counts[f"{'ok' if status == filters.OK else 'rejected'}.{nucleus}"] += 1


def ingest(
    literature: LiteratureInput,
    output: str,
    rejected: str | None,
    options: IngestOptions,
    workers: int = 1,
) -> dict[str, int]:
    """Stream ``literature`` through the parser and filters into ``output`` (and ``rejected``).

    ``workers`` > 1 parses and filters chunks in that many processes. Returns the counters,
    sorted by name: records read, rows, rows per status, ok/rejected rows per nucleus.
    """
    counts: Counter = Counter()
    duplicates = filters.DuplicateIndex(options.config.duplicate_tolerance)
    chunks = read_records(
        literature.path,
        literature.fmt,
        literature.text_column,
        literature.smiles_column,
        literature.id_column,
        literature.chunk_size,
    )
    with ExitStack() as stack:
        table_out = _TableStream(stack, output, "literature")
        rejects_out = _TableStream(stack, rejected, "rejected") if rejected else None
        for table, excerpts in _map_chunks(_counted(chunks, counts), options, workers):
            table = merge_duplicates(table, duplicates)
            table_out.write(table)
            if rejects_out is not None:
                rejects_out.write(_rejected_rows(table, excerpts, options.source))
            _count(table, counts)
            logger.debug("%s: %d records read", STAGE, counts["records_read"])
    return dict(sorted(counts.items()))


def _counted(chunks: Iterable[list[InputRecord]], counts: Counter) -> Iterator[list[InputRecord]]:
    for chunk in chunks:
        counts["records_read"] += len(chunk)
        yield chunk
