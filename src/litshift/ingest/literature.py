"""Parse NMR peak lists out of experimental-section text.

Literature paragraphs report spectra as ``1H NMR (400 MHz, DMSO-d6) δ 8.44 (s, 2H), 7.32 (dd,
J = 8.3, 1.9 Hz, 1H), 1.25–1.52 (m, 74H); 13C{1H} NMR (101 MHz, CDCl3) δ 188.8, 135.3``. This
module finds every such block in a paragraph on its own (no annotation columns), splits it into
peaks and reads the acquisition conditions. It is a pure text -> records function built on
precompiled regular expressions (no RDKit), so that millions of paragraphs can be parsed.

The text is first folded (:func:`normalize_paragraph`): NFKC (``¹³C`` -> ``13C``, thin and
non-breaking spaces -> spaces), every dash and minus sign -> ``-``, runs of whitespace -> one
space; UTF-8 mis-decoded as cp1252 (``Î´``, ``â€“``) is repaired first. A block is a header
(``13C{1H} NMR``), an optional conditions part (parenthesised frequency / solvent / temperature /
reference, ``δ``, ``ppm``) and a list of peaks, each a shift or a range followed by optional
details in parentheses. Paragraphs that describe several compounds are split into compound
groups (:attr:`Spectrum.compound_index`) at a new compound label or at a nucleus repeated in the
same solvent; only group 0 belongs to the record's structure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from litshift.chem.solvents import UNRECOGNIZED, UNREPORTED, canonical_solvent, classify

__all__ = [
    "NUCLEI",
    "Peak",
    "Spectrum",
    "normalize_paragraph",
    "parse_normalized",
    "parse_paragraph",
    "parse_peak_list",
]

#: Nuclei the parser recognizes, in output order.
NUCLEI: tuple[str, ...] = ("1H", "13C", "19F", "31P", "11B", "15N", "29Si")

_ELEMENT = {"1H": "H", "13C": "C", "19F": "F", "31P": "P", "11B": "B", "15N": "N", "29Si": "Si"}
# (mass number, element) -> nucleus; a missing mass ("H NMR", lost superscript) and the "3C NMR"
# typo are read as the only nucleus they can mean.
_NUCLEUS_OF = {
    ("1", "H"): "1H",
    ("", "H"): "1H",
    ("13", "C"): "13C",
    ("", "C"): "13C",
    ("3", "C"): "13C",
    ("19", "F"): "19F",
    ("31", "P"): "31P",
    ("11", "B"): "11B",
    ("15", "N"): "15N",
    ("29", "Si"): "29Si",
}

_DASHES = re.compile("[\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d\u00ad]")


# UTF-8 text that was decoded as cp1252 upstream ("Î´ 1.52â€“1.58"): a lead byte Â-ô followed
# by one to three characters that cp1252 gives to continuation bytes 0x80-0xBF.
_MOJIBAKE = re.compile(
    "[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
    "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{1,3}"
)


def _undo_mojibake(match: re.Match[str]) -> str:
    try:
        return match.group(0).encode("cp1252").decode("utf-8")
    except UnicodeError:
        return match.group(0)


def normalize_paragraph(text: str) -> str:
    """Fold Unicode variants so that one set of patterns reads every spelling.

    NFKC maps superscript digits, thin/non-breaking spaces and full-width forms; all dashes and
    minus signs become ``-`` (a dash between two numbers is a range, before one a sign).
    """
    if "â" in text or "Î" in text or "Â" in text:
        text = _MOJIBAKE.sub(_undo_mojibake, text)
    return " ".join(_DASHES.sub("-", unicodedata.normalize("NFKC", text)).split())


# --- block headers -------------------------------------------------------------------------

_NUCLEUS_TOKEN = (
    r"(?P<mass>1|13|19|31|11|15|29|3)?\s?(?P<el>Si|H|C|F|P|B|N)"
    r"(?:\s?[{\[(]\s?1?H\s?[}\])])?"  # 13C{1H}, 31P{1H}, 13C[1H]
    r"(?:\s?-?\s?(?:APT|DEPT(?:\s?-?\s?\d+)?|\{1H\}))?"
)
_HEADER = re.compile(
    r"(?<![A-Za-z0-9])(?<!\d\.)(?:"
    rf"{_NUCLEUS_TOKEN}\s?-?\s?(?:NMR|RMN|MMR)(?![A-Za-z])"  # 1H NMR, 13C{1H}-NMR, 1H MMR
    r"|(?:NMR|RMN)\s?-?:?\s?(?P<mass2>1|13|19|31|11|15|29)\s?(?P<el2>Si|H|C|F|P|B|N)(?![A-Za-z])"
    r"|(?P<mass3>1|13)(?P<el3>H|C)(?=\s?\(\s?\d+(?:\.\d+)?\s?MHz)"  # 1H (400 MHz, ...)
    r"|(?P<bare>NMR)(?=\s?[(:]|\s?δ)"  # NMR (300 MHz, CDCl3) δ ... (nucleus from the peaks)
    r"|δ(?P<el4>H|C)(?=\s?\(\s?\d+(?:\.\d+)?\s?MHz)"  # δH (600 MHz, DMSO) 12.20 (1H, ...)
    r")"
)

# Cheap literal anchors every header contains; the full header pattern is only tried around them.
_ANCHOR = re.compile(r"NMR|RMN|MMR|δ[HC]\s?\(|\d[HC]\s?\(")
_HEADER_REACH = 24  # characters a header can start before its anchor ("13C{1H} DEPT-135 NMR")
_LOOKAHEAD_REACH = 40  # characters a header's lookahead reads past its anchor ("(400.13 MHz")


def _next_header(text: str, pos: int, anchors: Iterator[re.Match[str]]) -> re.Match[str] | None:
    """The first header at or after ``pos``, tried only around the (shared) anchor iterator."""
    for anchor in anchors:
        if anchor.start() < pos:
            continue
        lo = max(pos, anchor.start() - _HEADER_REACH)
        header = _HEADER.search(text, lo, anchor.end() + _LOOKAHEAD_REACH)
        if header is not None and header.start() <= anchor.start():
            return header
    return None


# --- conditions between header and peak list ------------------------------------------------

_COND_SKIP = re.compile(
    r"(?:\s+|[:=,;/]|δ\s?\(?ppm\)?|δ[HCFPNB]?(?![A-Za-z])|\(?ppm\)?(?![A-Za-z])"
    r"|(?:spectrum|spectra|data|shows|showed|show|recorded|at|in|and|was|is|as follows)"
    r"(?![A-Za-z]))",
    re.IGNORECASE,
)
# Numbers in the conditions that are not peaks: "see Table 2", "reference 11", "compound 3".
_COND_CITE = re.compile(
    r"(?:Tables?|Figures?|Figs?\.|Schemes?|Supplementary \w+|SI|references?|refs?\.|compounds?"
    r"|derivatives?|products?)\s?S?\d+[A-Za-z]?",
    re.IGNORECASE,
)
_COND_WORD = re.compile(r"[^\s,;:()\[\]=]*[^\s,;:()\[\]=.]")  # a final "." ends a sentence
_MAX_COND_WORDS = 6  # more free words than this between header and numbers: no peak list
_MAX_COND_CHARS = 200

_EQUATION = re.compile(r"(?<![δ\w/])(?!ppm)[A-Za-z]\w*\s?=\s?$")
_FREQ = re.compile(r"(\d+(?:\.\d+)?)\s?M\s?Hz(?![A-Za-z])", re.IGNORECASE)
_TEMP = re.compile(r"(-?\d+(?:\.\d+)?)\s?(K|°\s?C|oC)(?![A-Za-z])")
_REFERENCE = re.compile(
    r"TMS|tetramethylsilane|internal|standard|refer|relative|CFCl3|H3PO4|"
    r"BF3|nitromethane|MeNO2|CH3NO2|NH3|external|\bfrom\b|\bvs\b",
    re.IGNORECASE,
)
# The part of a fragment that names the reference, not the solvent: "CDCl3 from MeNO2".
_REFERENCE_CLAUSE = re.compile(
    r"\b(?:from|relative to|referenced to|referenced|ref\.?|vs\.?|versus|internal|external)\b.*",
    re.IGNORECASE,
)
# A solvent missing from the solvent table still looks deuterated: "C6D5Cl", "[D8]THF", "D2O".
_DEUTERATED = re.compile(r"^[\w\[\]()+/\-.]*(?:D|-d\d|d\d|deuter)[\w\[\]()+/\-. ]*$")
_FRAGMENT_SPLIT = re.compile(r"[,;:]|\.\s|\s(?:in|and)\s")

# --- peaks -----------------------------------------------------------------------------------

_NUM = r"-?\d{1,3}(?:\.\d{1,4})?(?!\.?\d)"
# A decimal comma is accepted inside a point-decimal list only where it cannot be a separator:
# right before the details, a range dash or the next ", " ("7,14-7,16 (m, 2H)", "135,54, 132.1").
_NUM_OR_COMMA = r"-?\d{1,3},\d{2}(?=\s?[(-]|,\s)|" + _NUM
_BARE_MULT = r"(?:br\.?\s?)?(?:[sdtqmp]{1,4}|brs|bs|brd|sept|sext|quint?|hept)"
_DETAILS = r"\((?:[^()]|\([^()]*\))*\)|\[(?:[^\[\]]|\[[^\[\]]*\])*\]"
# A forgotten comma: "40.66 63.08, 68.65" (the next number is itself followed by a separator).
_NEXT_NUMBER = r"\s(?=-?\d{1,3}\.\d{1,4}\s?[,;(])"
_ITEM_BODY = (
    rf"(?:δ[HCFPNB]?\s?[:=]?\s?)?"
    rf"(?P<lo>{_NUM_OR_COMMA})"
    rf"(?:\s?(?:-|~|to)\s?(?P<hi>{_NUM_OR_COMMA}))?"
    # two isomers' signals written together: "7.05/6.39 (s, 1H)", "4.40-4.25/4.13-4.03 (m)"
    rf"(?:\s?/\s?(?P<alt>{_NUM_OR_COMMA})(?:\s?-\s?(?P<althi>{_NUM_OR_COMMA}))?)?"
    rf"(?P<ppm>\s?ppm(?![A-Za-z]))?"
    rf"(?:\s?(?P<bare>{_BARE_MULT})(?![A-Za-z0-9]))?"
    # details, possibly after a stray comma, and a second bracket group ("(m, 1H, CH) (Cp)")
    rf"(?:,?\s?(?P<det>{_DETAILS})(?:\s?(?P<det2>{_DETAILS}))?(?:\s?ppm(?![A-Za-z]))?"
    rf"(?:[*†‡]|\s?(?:major|minor)\b)?"
    # without details (or "ppm") the number must end at a separator or at the next section
    # ("... 50.7 HRMS"), not run into a unit ("5 mL", "400 MHz")
    rf"|[*†‡]?(?(ppm)|(?=\s?(?:[,;.\])(\[]|:(?!\d)|and\b|&|$|δ)|{_NEXT_NUMBER}"
    rf"|\s(?:[A-Z]{{2,}}(?![a-z])|Anal|Elem|Found|Calc))))"
)
_GROUP_LABEL = r"(?:(?:C|CH|CH2|CH3|Cq|Cquat|C quat|quaternary C)\s?:\s?)"
# What may separate two peaks; empty only right after details ("(br s, 1H, OH)7.76 (m, 1H)").
_SEP_BODY = (
    rf"(?:{_NEXT_NUMBER}|\s?(?:[,;]\s?(?:and\s|&\s?)?|and\s|&\s?"
    rf"|\.\s(?={_NUM}\s?(?:\([^()]*\))?\s?[,;])|(?<=[)\]])\s?(?=\d)))"
    rf"{_GROUP_LABEL}?(?:δ[HCFPNB]?\s?[:=]?\s?)?"
)
# One peak and the separator after it (one match call per peak keeps the parser fast).
_ITEM = re.compile(rf"{_ITEM_BODY}(?P<sep>{_SEP_BODY})?")
# Decimal-comma lists: the first number has a decimal comma and no point-decimal follows.
_COMMA_DECIMAL_START = re.compile(r"-?\d{1,3},\d{1,3}(?![\d])")
_POINT_DECIMAL = re.compile(r"\d\.\d")
_COMMA_IN_NUMBER = re.compile(r"(?<=\d),(?=\d)")

_J = re.compile(
    r"(?:\d?J|J\s?\(?[A-Za-z0-9,\-]{1,8}\)?)\s?(?:=|:|≈|~)?\s?"
    r"(?P<values>\d+(?:\.\d+)?(?:\s?(?:,|and|&)\s?\d+(?:\.\d+)?(?![\d.]|\s?H(?!z)|\s?[A-GI-Za-z]))*)"
    r"(?:\s?Hz)?"
)
_J_VALUE = re.compile(r"\d+(?:\.\d+)?")
_PART_SPLIT = re.compile(r"\s?[,;]\s?")
_MULT = re.compile(
    r"(?:app(?:arent)?\.?\s?|pseudo-?\s?|ps\.?\s?)?(?:br(?:oad)?\.?\s?)?"
    r"(?:[sdtqmp]{1,5}|brs|bs|bd|bt|brd|sept(?:et)?|sext(?:et)?|quint(?:et)?|quin|hept(?:et)?"
    r"|singlet|doublet|triplet|quartet|multiplet|ABq?|ABX|AA'BB'|m\s?\(?overlap(?:ped)?\)?)"
    r"(?:\s?of\s?[a-z]+)?",
    re.IGNORECASE,
)
_HZ_ONLY = re.compile(r"\d+(?:\.\d+)?\s?Hz|Hz", re.IGNORECASE)


@lru_cache(maxsize=16)
def _count_pattern(element: str) -> re.Pattern[str]:
    """``2H``, ``2 H``, ``2C``, ``2 × C`` in a peak's details, for ``element``."""
    tail = "(?!z)(?![a-z0-9])" if element == "H" else "(?![a-z])"
    return re.compile(rf"(?<![\w'.\-])(\d+(?:\.\d+)?)\s?(?:[×x]\s?)?{element}{tail}")


# --- compound labels -------------------------------------------------------------------------

# "4c", "21a", "3′e", "1 c" but not an amount ("10 ml", "3 d").
_LABEL_BODY = r"\d{1,3}(?!\s?(?:mg|ml|mm|nm|kg|g|h|l|eq|min)\b|\s[ds]\b)['′]?\s?[a-z]{0,2}['′]?"
_LABEL = re.compile(
    rf"(?:\b(?:[Cc]ompound|[Pp]roduct|[Dd]erivative|[Cc]omplex|[Ll]igand)\s"
    rf"(?P<word>{_LABEL_BODY})(?![\w])"
    rf"|(?:(?<=[A-Za-z\])])|(?<=[A-Za-z\])]\s))\((?P<paren>{_LABEL_BODY})\))"
)


@dataclass(slots=True)
class Peak:
    """One reported signal."""

    shift: float
    """Reported shift in ppm; the midpoint for a range."""
    lo: float
    """Lower end of the reported range (equal to ``shift`` for a single value)."""
    hi: float
    """Upper end of the reported range."""
    multiplicity: str | None = None
    """Multiplicity as written (``s``, ``dd``, ``br s``, ...), None if not given."""
    j_hz: tuple[float, ...] = ()
    """Coupling constants in Hz, in the order written."""
    count: int | None = None
    """Number of nuclei the peak stands for (``2H`` integration, ``(2C)``), None if not given."""
    assignment: str | None = None
    """Remaining free text of the details (``OCH3``, ``H-5``, ``C=O``)."""


@dataclass(slots=True)
class Spectrum:
    """One NMR block of a paragraph."""

    nucleus: str
    """``1H``, ``13C``, ``19F``, ``31P``, ``11B``, ``15N`` or ``29Si``."""
    peaks: list[Peak] = field(default_factory=list)
    """Peaks in the order written (empty if the block gives none, e.g. "see Table 1")."""
    frequency_mhz: float | None = None
    """Spectrometer frequency as written in the conditions."""
    solvent_raw: str | None = None
    """The conditions text that names the solvent, None if none does."""
    temperature_k: float | None = None
    """Temperature in K if given (°C converted)."""
    reference: str | None = None
    """Conditions text naming the shift reference (``TMS``), if given."""
    compound_label: str | None = None
    """Label of the compound this block follows (``4c``, ``21a``), if the text gives one."""
    compound_index: int = 0
    """0 for the paragraph's first compound, incremented at each further compound."""
    start: int = 0
    """Offset of the header in the normalized paragraph."""
    end: int = 0
    """Offset just past the last peak in the normalized paragraph."""
    reject_reason: str | None = None
    """Why the parser gave up on this block's list (``peaks`` is then empty), None otherwise."""

    @property
    def shifts(self) -> list[float]:
        return [p.shift for p in self.peaks]

    @property
    def solvent(self) -> str:
        return classify(self.solvent_raw)[0]

    @property
    def solvent_class(self) -> str:
        return classify(self.solvent_raw)[1]


def _balanced_end(text: str, start: int) -> int:
    """Index just past the bracket group opening at ``start`` (or -1 if it never closes)."""
    opening = text[start]
    closing = ")" if opening == "(" else "]"
    depth = 0
    for i in range(start, min(len(text), start + _MAX_COND_CHARS)):
        c = text[i]
        if c == opening:
            depth += 1
        elif c == closing:
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _scan_conditions(text: str, pos: int) -> tuple[list[str], int | None]:
    """Read the conditions after a header; return their fragments and where the peaks start.

    The peak list starts at the first number outside brackets that is not a frequency; None
    when free text (more than a few words), a new header or the end comes first.
    """
    parts: list[str] = []
    words = 0
    limit = min(len(text), pos + _MAX_COND_CHARS)
    while pos < limit:
        c = text[pos]
        if c in "([":
            end = _balanced_end(text, pos)
            if end < 0:  # never closed: "13C NMR (DMSO-d6, δ, ppm: 199.96 (C=O); ..."
                pos += 1
                continue
            inner = text[pos + 1 : end - 1]
            if inner.strip().lower() not in {"ppm", "δ"}:
                parts.append(inner)
            pos = end
            continue
        m = _FREQ.match(text, pos) or _COND_CITE.match(text, pos)
        if m:
            parts.append(m.group(0))
            pos = m.end()
            continue
        if (
            c == "."
            and text.startswith(" ", pos + 1)
            and not text.startswith("δ", pos + 2)
            or (
                c == ";"
                and pos + 2 < len(text)
                and text[pos + 2].isalpha()
                and text[pos + 2] != "δ"
            )
        ):
            return parts, None  # the sentence or clause ended without a peak list
        m = _COND_SKIP.match(text, pos)
        if m and m.end() > pos:
            pos = m.end()
            continue
        if _HEADER.match(text, pos):
            return parts, None
        if _ITEM.match(text, pos):
            # "determined by 1H NMR: q = 0.94" is an equation, not a peak list
            return parts, (None if _EQUATION.search(text, max(0, pos - 12), pos) else pos)
        m = _COND_WORD.match(text, pos)
        if m is None:
            pos += 1
            continue
        words += 1
        if words > _MAX_COND_WORDS:
            return parts, None
        parts.append(m.group(0))
        pos = m.end()
    return parts, None


def _conditions(parts: list[str]) -> tuple[float | None, str | None, float | None, str | None]:
    """(frequency MHz, solvent text, temperature K, reference text) from condition fragments."""
    joined = ", ".join(parts)
    freq = _FREQ.search(joined)
    temp = _TEMP.search(joined)
    temperature = None
    if temp:
        value = float(temp.group(1))
        temperature = value if temp.group(2) == "K" else value + 273.15
    reference = None
    solvents: list[str] = []
    unknown: list[str] = []
    for fragment in _FRAGMENT_SPLIT.split(joined):
        fragment = _TEMP.sub(" ", _FREQ.sub(" ", fragment)).strip(" .:=-")
        if not fragment:
            continue
        if _REFERENCE.search(fragment):
            reference = fragment if reference is None else f"{reference}, {fragment}"
            fragment = _REFERENCE_CLAUSE.sub("", fragment).strip()
            if not fragment:
                continue
        if canonical_solvent(fragment) not in (UNRECOGNIZED, UNREPORTED):
            solvents.append(fragment)
        elif len(fragment) <= 30 and _DEUTERATED.match(fragment):
            unknown.append(fragment)
    solvent_raw = ", ".join(solvents) if solvents else (unknown[0] if unknown else None)
    return (float(freq.group(1)) if freq else None), solvent_raw, temperature, reference


def _number(text: str) -> float:
    return float(text.replace(",", ".")) if "," in text else float(text)


@lru_cache(maxsize=8192)
def _details(
    det: str, element: str
) -> tuple[str | None, tuple[float, ...], int | None, str | None]:
    """(multiplicity, J values, nuclei count, assignment) from a peak's bracketed details.

    Cached: a few detail strings (``(s, 3H)``, ``(m, 2H)``) make up most of every corpus.
    """
    body = det[1:-1]
    j_values: tuple[float, ...] = ()
    if "J" in body:
        j_values = tuple(
            float(v) for m in _J.finditer(body) for v in _J_VALUE.findall(m.group("values"))
        )
        if j_values:
            body = _J.sub(",", body)
    count = None
    m = _count_pattern(element).search(body)
    if m:
        value = float(m.group(1))
        count = int(value) if value.is_integer() else None
        body = body[: m.start()] + "," + body[m.end() :]
    multiplicity = None
    rest: list[str] = []
    for part in _PART_SPLIT.split(body):
        part = part.strip()
        if not part or _HZ_ONLY.fullmatch(part):
            continue
        if multiplicity is None and _MULT.fullmatch(part):
            multiplicity = part
        else:
            rest.append(part)
    return multiplicity, j_values, count, (", ".join(rest) if rest else None)


def _peak(
    lo_text: str,
    hi_text: str | None,
    multiplicity: str | None,
    j_hz: tuple[float, ...],
    count: int | None,
    assignment: str | None,
) -> Peak:
    lo = _number(lo_text)
    if not hi_text:
        return Peak(lo, lo, lo, multiplicity, j_hz, count, assignment)
    hi = _number(hi_text)
    if hi < lo:
        lo, hi = hi, lo
    return Peak(round((lo + hi) / 2, 4), lo, hi, multiplicity, j_hz, count, assignment)


def parse_peak_list(text: str, start: int, element: str) -> tuple[list[Peak], int]:
    """Read consecutive peaks of ``text`` from ``start``; return them and the end offset.

    ``element`` (``H``, ``C``, ...) tells which ``nX`` token in the details is the count.
    """
    peaks: list[Peak] = []
    pos = end = start
    while True:
        m = _ITEM.match(text, pos)
        if m is None:
            break
        lo_text, hi_text, bare, det, det2, alt, alt_hi, sep = m.group(
            "lo", "hi", "bare", "det", "det2", "alt", "althi", "sep"
        )
        if det:
            multiplicity, j_hz, count, assignment = _details(det, element)
            if det2:
                extra = det2[1:-1].strip()
                assignment = f"{assignment}, {extra}" if assignment else extra
        else:
            multiplicity, j_hz, count, assignment = None, (), None, None
        multiplicity = multiplicity or bare
        peaks.append(_peak(lo_text, hi_text, multiplicity, j_hz, count, assignment))
        if alt:
            peaks.append(_peak(alt, alt_hi, multiplicity, j_hz, count, assignment))
        if sep is None:
            end = m.end()
            break
        end = m.start("sep")
        if not sep and text[end - 1] not in ")]":
            break
        pos = m.end()
    return peaks, end


def _comma_decimal(text: str, start: int) -> bool:
    """Whether the list at ``start`` writes decimal commas (``δ 7,26 (s, 1H); 7,15 ...``)."""
    if not _COMMA_DECIMAL_START.match(text, start):
        return False
    window = text[start : start + 300]
    return not _POINT_DECIMAL.search(window) and len(_COMMA_IN_NUMBER.findall(window)) >= 2


def _label(gap: str) -> str | None:
    """The first compound label named in text between blocks, normalized (``1 c`` -> ``1c``)."""
    m = _LABEL.search(gap)
    if m is None:
        return None
    return (m.group("word") or m.group("paren")).replace(" ", "").replace("′", "'")


def _nucleus(header: re.Match[str]) -> str | None:
    """The nucleus a header names; ``""`` for a bare ``NMR`` (decided by its peaks)."""
    if header.group("bare"):
        return ""
    for mass, element in (("mass", "el"), ("mass2", "el2"), ("mass3", "el3"), (None, "el4")):
        if header.group(element):
            return _NUCLEUS_OF.get(((mass and header.group(mass)) or "", header.group(element)))
    return None


def _read_block(
    text: str, header: re.Match[str], nucleus: str
) -> tuple[list[Peak], int, list[str]]:
    """Peaks, end offset and condition fragments of the block that ``header`` opens."""
    parts, data_start = _scan_conditions(text, header.end())
    if data_start is None:
        return [], header.end(), parts
    element = _ELEMENT.get(nucleus, "H")
    if _comma_decimal(text, data_start):
        stop = _HEADER.search(text, data_start)
        segment = _COMMA_IN_NUMBER.sub(".", text[: stop.start() if stop else len(text)])
        peaks, end = parse_peak_list(segment, data_start, element)
    else:
        peaks, end = parse_peak_list(text, data_start, element)
    return peaks, max(end, header.end()), parts


def parse_paragraph(paragraph: str) -> list[Spectrum]:
    """Every NMR block of ``paragraph``, in order, grouped by compound.

    Offsets (:attr:`Spectrum.start`, :attr:`Spectrum.end`) refer to
    ``normalize_paragraph(paragraph)``; :func:`parse_normalized` takes that text directly.
    """
    return parse_normalized(normalize_paragraph(paragraph))


def parse_normalized(text: str) -> list[Spectrum]:
    """:func:`parse_paragraph` of text already passed through :func:`normalize_paragraph`.

    A new compound group starts at a block whose nucleus already has peaks in the same solvent
    in the current group (a second solvent is the same compound measured twice), or after text
    naming a compound label different from the group's. A bare ``NMR`` header is kept only
    when its peaks carry ``nH`` integrations (then it is 1H).
    """
    spectra: list[Spectrum] = []
    pos = previous_end = 0
    group = 0
    group_label: str | None = None
    group_solvents: dict[str, str] = {}  # nucleus -> solvent of its spectrum in this group
    anchors = _ANCHOR.finditer(text)
    while (header := _next_header(text, pos, anchors)) is not None:
        nucleus = _nucleus(header)
        if nucleus is None:
            pos = header.end()
            continue
        peaks, end, parts = _read_block(text, header, nucleus)
        if not nucleus:
            if not any(p.count is not None for p in peaks):
                pos = header.end()
                continue
            nucleus = "1H"
        frequency, solvent_raw, temperature, reference = _conditions(parts)
        solvent = classify(solvent_raw)[0]
        label = _label(text[previous_end : header.start()])
        if peaks and (
            group_solvents.get(nucleus) == solvent  # this nucleus was already read in this solvent
            or (label is not None and group_label is not None and label != group_label)
        ):
            group += 1
            group_solvents = {}
            group_label = label
        elif group_label is None:
            group_label = label
        if peaks:
            group_solvents[nucleus] = solvent
        spectra.append(
            Spectrum(
                nucleus,
                peaks,
                frequency,
                solvent_raw,
                temperature,
                reference,
                group_label,
                group,
                header.start(),
                end,
            )
        )
        pos = previous_end = end
    return spectra
