"""Accuracy and speed of the literature parser against the NMRExtractor annotations.

For both annotated files in ``../shared/data/literature`` this prints, per nucleus (1H, 13C):
the exact-list match rate, peak-level precision / recall (a parsed peak matches an annotated one
within ±0.01 ppm, one-to-one), solvent-class accuracy, and paragraphs per second of
:func:`litshift.ingest.literature.parse_paragraph` on one core. ``train_1000`` is the tuning set;
``test_300`` was never looked at while tuning and gives the honest figure.

The annotation columns are text (``8.30 (d, 1H, J = 2.0 Hz, 5’-H), ...``); they are read by a
deliberately independent, simpler reader (:func:`reference_shifts`): every number or range
outside brackets is one peak. The stage writes one row per block, so the parser's list for a
record is its block of that nucleus in compound group 0 (the compound the annotators followed)
that best matches the annotation: a compound measured in two solvents has two 1H lists and the
annotators picked one of them; a paragraph can also mention "1H NMR" in passing before the real
list. How many records have more than one candidate is printed.

The third set, ``tests/ingest/fixtures/literature_prose.jsonl``, is hand-annotated literature
outside the tidy SI layout (shifts spread through prose, bracketed and grouped lists, multipliers,
header variants, numbers in per-peak annotations, page furniture and typos, and paragraphs that
must give no list). It is scored strictly (:func:`score_prose`): every list the parser accepts
(a block with peaks in compound group 0) is checked, so recall is the share of expected lists
found exactly and precision the share of accepted lists that are right.

Run: ``python benchmarks/ingest_accuracy.py [--details N] > benchmarks/results/ingest_accuracy.txt``
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from litshift.chem.solvents import classify
from litshift.ingest.literature import Spectrum, parse_paragraph

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "literature"
PROSE = Path(__file__).resolve().parents[1] / "tests" / "ingest" / "fixtures"
PROSE_FILE = PROSE / "literature_prose.jsonl"
FILES = {"train_1000": "nmrextractor_train_1000.csv.gz", "test_300": "nmrextractor_test_300.csv.gz"}
COLUMNS = {"1H": "1H NMR", "13C": "13C NMR"}
TOLERANCE = 0.01

_DASH = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_BRACKETS = re.compile(r"\([^()]*(?:\([^()]*\)[^()]*)*\)|\[[^\[\]]*\]")
_PEAK = re.compile(
    rf"(?<![\w.])[{_DASH}]?\d+(?:[.,]\d+)?"
    rf"(?:\s*(?:[{_DASH}~]|to)\s*[{_DASH}]?\d+(?:[.,]\d+)?)?(?![\w])"
)
_NUMBER = rf"[{_DASH}]?\d+(?:[.,]\d+)?"
_RANGE = re.compile(rf"({_NUMBER})\s*(?:[{_DASH}~]|to)\s*({_NUMBER})$")


def _float(text: str) -> float:
    return float(text.replace(",", ".").translate(dict.fromkeys(map(ord, _DASH), "-")))


def reference_shifts(annotation: str | None) -> list[float] | None:
    """Peaks of an annotation column: every number or range outside brackets (None if N/A)."""
    if annotation is None or annotation.strip() in {"", "N/A"}:
        return None
    text = annotation
    while True:  # strip nested brackets from the inside out
        stripped = _BRACKETS.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    shifts = []
    for token in _PEAK.findall(text):
        m = _RANGE.fullmatch(token)
        if m:
            lo, hi = _float(m.group(1)), _float(m.group(2))
            shifts.append(round((lo + hi) / 2, 6))
        else:
            shifts.append(_float(token))
    return shifts


def match_counts(predicted: list[float], expected: list[float]) -> int:
    """One-to-one matches within ±TOLERANCE (greedy over both sorted lists)."""
    a, b = sorted(predicted), sorted(expected)
    i = j = matched = 0
    while i < len(a) and j < len(b):
        if abs(a[i] - b[j]) <= TOLERANCE + 1e-9:
            matched += 1
            i += 1
            j += 1
        elif a[i] < b[j]:
            i += 1
        else:
            j += 1
    return matched


def _is_prefix(short: list[float], long: list[float]) -> bool:
    return len(short) < len(long) and all(
        abs(a - b) <= TOLERANCE for a, b in zip(short, long, strict=False)
    )


def failure_kind(predicted: list[float] | None, expected: list[float] | None) -> str | None:
    """Coarse, automatic class of a disagreement (None when the lists match)."""
    if not predicted and not expected:
        return None
    if expected and predicted is None:
        return "annotated, but no header recognized"
    if expected and not predicted:
        return "header found, no list after it (prose, table)"
    if not expected:
        return "list parsed where the annotation has none"
    if len(predicted) == len(expected):
        return (
            None
            if match_counts(predicted, expected) == len(expected)
            else ("same peak count, some values differ")
        )
    if _is_prefix(predicted, expected):
        return "parsed list stops early"
    if _is_prefix(expected, predicted):
        return "parsed list runs past the annotated end"
    return "peak counts differ (split/merged peaks)"


def _same_list(predicted: list[float], expected: list[float]) -> bool:
    return len(predicted) == len(expected) == match_counts(predicted, expected)


def parse_speed(paragraphs: list[str]) -> tuple[float, float]:
    """Paragraphs/s of the first pass (caches cold for this text) and the best of 3 more."""
    timings = []
    for _ in range(4):
        start = time.perf_counter()
        for paragraph in paragraphs:
            parse_paragraph(paragraph)
        timings.append(time.perf_counter() - start)
    return len(paragraphs) / timings[0], len(paragraphs) / min(timings[1:])


def evaluate(name: str, frame: pl.DataFrame, details: int) -> list[str]:
    lines = [f"== {name}: {frame.height} paragraphs"]
    paragraphs = frame["Paragraph"].to_list()
    cold, warm = parse_speed(paragraphs)
    lines.append(
        f"parse speed, one core: {cold:,.0f} paragraphs/s first pass, {warm:,.0f} paragraphs/s warm"
    )
    parsed = [parse_paragraph(p) for p in paragraphs]
    for nucleus, column in COLUMNS.items():
        n_records = n_exact = tp = n_pred = n_ref = n_solvent = solvent_ok = several = 0
        kinds: Counter[str] = Counter()
        examples: dict[str, list[int]] = {}
        failures: list[str] = []
        for index, (spectra, annotation, conditions) in enumerate(
            zip(
                parsed,
                frame[f"{column} chemical shifts"],
                frame[f"{column} conditions"],
                strict=True,
            )
        ):
            expected = reference_shifts(annotation)
            blocks = [s for s in spectra if s.nucleus == nucleus and s.compound_index == 0]
            several += len([b for b in blocks if b.peaks]) > 1
            block = max(
                blocks,
                default=None,
                key=lambda s: (match_counts(s.shifts, expected or []), len(s.peaks)),
            )
            predicted = block.shifts if block is not None else None
            if not expected and not predicted:
                continue
            n_records += 1
            kind = failure_kind(predicted, expected)
            if kind is not None and block is not None and block.reject_reason:
                kind = f"list rejected ({_reason(block)})"
            n_exact += kind is None
            n_pred += len(predicted or [])
            n_ref += len(expected or [])
            tp += match_counts(predicted or [], expected or [])
            if expected:
                n_solvent += 1
                truth = classify(None if conditions == "N/A" else conditions)[1]
                got = block.solvent_class if block is not None else "other"
                solvent_ok += truth == got
                if truth != got:
                    kinds["solvent class differs"] += 1
                    examples.setdefault("solvent class differs", []).append(index)
                    failures.append(
                        f"  [{index}] solvent {conditions!r} -> "
                        f"{block.solvent_raw if block else None!r}"
                    )
            if kind is not None:
                kinds[kind] += 1
                examples.setdefault(kind, []).append(index)
                failures.append(
                    f"  [{index}] {kind}\n      annotated {expected}\n      parsed    {predicted}"
                )
        lines.append(
            f"{nucleus:>4}: exact lists {n_exact}/{n_records} = {n_exact / n_records:.1%}; "
            f"peaks precision {tp / max(n_pred, 1):.1%} recall {tp / max(n_ref, 1):.1%}; "
            f"solvent class {solvent_ok}/{n_solvent} = {solvent_ok / max(n_solvent, 1):.1%}"
        )
        lines.append(
            f"        ({several} records have more than one {nucleus} list for their compound)"
        )
        for kind, count in kinds.most_common():
            rows = ", ".join(map(str, examples[kind][:8]))
            lines.append(f"        {count:3d} x {kind} (rows {rows}{', ...' if count > 8 else ''})")
        lines.extend(failures[:details])
    return lines


def load_prose(path: Path = PROSE_FILE) -> list[dict]:
    """The prose fixture's rows; a range ``[lo, hi]`` in an expected list becomes its midpoint."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        for nucleus in COLUMNS:
            if row[nucleus] is not None:
                row[nucleus] = [
                    round((v[0] + v[1]) / 2, 6) if isinstance(v, list) else v for v in row[nucleus]
                ]
    return rows


@dataclass(slots=True)
class ProseScore:
    """Strict list-level score of one nucleus on the prose fixture."""

    expected: int = 0
    """Rows with an expected list."""
    found: int = 0
    """Expected lists the parser accepted exactly."""
    accepted: int = 0
    """Lists the parser accepted (blocks with peaks in compound group 0)."""
    correct: int = 0
    """Accepted lists equal to the expected one."""
    solvent_ok: int = 0
    """Correct lists whose canonical solvent is the annotated one (rows that name a solvent)."""
    solvent_rows: int = 0
    failures: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(row id, family, kind, detail) for every miss and every wrong accepted list."""
    rejected: Counter[str] = field(default_factory=Counter)
    """Blocks the parser gave up on, by reason (right or wrong)."""

    @property
    def recall(self) -> float:
        return self.found / max(self.expected, 1)

    @property
    def precision(self) -> float:
        return self.correct / max(self.accepted, 1)


def score_prose(rows: list[dict]) -> dict[str, ProseScore]:
    """Recall and precision of exact lists per nucleus over the prose fixture's rows."""
    scores = {nucleus: ProseScore() for nucleus in COLUMNS}
    for row in rows:
        spectra = parse_paragraph(row["paragraph"])
        for nucleus, score in scores.items():
            expected = row[nucleus]
            blocks = [s for s in spectra if s.nucleus == nucleus and s.compound_index == 0]
            accepted = [s for s in blocks if s.peaks]
            score.accepted += len(accepted)
            right = [s for s in accepted if expected is not None and _same_list(s.shifts, expected)]
            score.correct += len(right)
            for block in accepted:
                if block not in right:
                    if expected is None:
                        failure = ("list accepted where none is expected", str(block.shifts))
                    else:
                        failure = ("wrong list accepted", failure_kind(block.shifts, expected))
                    score.failures.append((row["id"], row["family"], *failure))
            score.rejected.update(_reason(b) for b in blocks if b.reject_reason)
            if expected is None:
                continue
            score.expected += 1
            if right:
                score.found += 1
                if row["solvent"] is not None:
                    score.solvent_rows += 1
                    score.solvent_ok += right[0].solvent == row["solvent"]
            elif not accepted:
                score.failures.append((row["id"], row["family"], *_no_list(blocks)))
    return scores


def _reason(block: Spectrum) -> str:
    """The reason category of a rejected block (without the offending text)."""
    return (block.reject_reason or "").partition(": ")[0]


def _no_list(blocks: list[Spectrum]) -> tuple[str, str]:
    """Why an expected list is missing: no header, or the parser's reason for giving up."""
    if not blocks:
        return "no block found", ""
    rejected = [b for b in blocks if b.reject_reason]
    if rejected:
        return f"rejected ({_reason(rejected[0])})", rejected[0].reject_reason or ""
    return "header found, no list", ""


def evaluate_prose(rows: list[dict], details: int) -> list[str]:
    lines = [f"== prose fixture ({PROSE_FILE.name}): {len(rows)} paragraphs"]
    cold, warm = parse_speed([row["paragraph"] for row in rows])
    lines.append(
        f"parse speed, one core: {cold:,.0f} paragraphs/s first pass, {warm:,.0f} paragraphs/s warm"
    )
    for nucleus, score in score_prose(rows).items():
        lines.append(
            f"{nucleus:>4}: exact lists {score.found}/{score.expected} = {score.recall:.1%} "
            f"recall; {score.correct}/{score.accepted} accepted lists right = "
            f"{score.precision:.1%} precision; solvent {score.solvent_ok}/{score.solvent_rows}"
        )
        rejected = ", ".join(f"{n} {reason}" for reason, n in score.rejected.most_common())
        lines.append(f"        blocks rejected with a reason: {rejected or 'none'}")
        lines.append(f"        remaining failures by family: {len(score.failures) or 'none'}")
        kinds = Counter((family, kind) for _, family, kind, _ in score.failures)
        for (family, kind), count in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])):
            ids = [i for i, f, k, _ in score.failures if (f, k) == (family, kind)]
            lines.append(f"        {count:3d} x {family}: {kind} ({', '.join(ids)})")
        lines.extend(
            f"  [{i}] {family}: {kind}: {detail}"
            for i, family, kind, detail in score.failures[:details]
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--details", type=int, default=0, help="print N failures per nucleus")
    parser.add_argument("--only", choices=[*sorted(FILES), "prose"], help="evaluate one file")
    args = parser.parse_args()
    # Timings are wall-clock on a shared machine: say how busy it was.
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    for name, filename in FILES.items():
        if args.only and name != args.only:
            continue
        frame = pl.read_csv(DATA / filename, infer_schema_length=0)
        print("\n".join(evaluate(name, frame, args.details)))
    if args.only in (None, "prose"):
        print("\n".join(evaluate_prose(load_prose(), args.details)))


if __name__ == "__main__":
    main()
