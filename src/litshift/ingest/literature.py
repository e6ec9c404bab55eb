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
details in parentheses (or written as list items: ``161.9, d, J = 245.1 Hz``), possibly with
a multiplier (``128.4 × 2``, ``2 × 128.4``, ``(2C)``), an atom label (``C-4′ 135.8``) or page
furniture between two peaks (``129.8, S12 128.6``). Paragraphs that describe several compounds
are split into compound groups (:attr:`Spectrum.compound_index`) at a new compound label or at a
nucleus repeated in the same solvent; only group 0 belongs to the record's structure.

Spectra described in sentences (natural-product and materials papers: "the 13C NMR data
revealed two methyls at δC 18.2 and 21.9, an ester carbonyl at δC 170.6, ...") are read as
running text (:func:`_read_prose`). Whenever the parser cannot be sure of a list (an
unreadable value, a list cut short, a number it cannot place, a sentence that compares spectra
or cites signals for another purpose) it returns the block without peaks and with the reason
(:attr:`Spectrum.reject_reason`, one of :data:`REJECT_REASONS`); it never guesses a peak.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import NamedTuple

from litshift.chem.solvents import UNRECOGNIZED, UNREPORTED, canonical_solvent, classify

__all__ = [
    "COMPARISON",
    "CORRELATIONS",
    "CUT_SHORT",
    "NUCLEI",
    "OUTSIDE_1H",
    "PURPOSE",
    "REGION",
    "REJECT_REASONS",
    "SOLVENT_LINES",
    "UNCLEAR_NUCLEUS",
    "UNREADABLE",
    "UNREAD_NUMBER",
    "Peak",
    "Spectrum",
    "normalize_paragraph",
    "parse_normalized",
    "parse_paragraph",
    "parse_peak_list",
]

#: Why the parser gives up on a list (:attr:`Spectrum.reject_reason` is ``"<reason>: <detail>"``
#: or the bare reason). The first group concerns a list's text, the second running text.
UNREADABLE = "unreadable value"
CUT_SHORT = "list cut short"
UNREAD_NUMBER = "number not read as a shift"
UNCLEAR_NUCLEUS = "shift of unclear nucleus"
REGION = "shift region, not single peaks"
OUTSIDE_1H = "value outside the 1H window"
CORRELATIONS = "2D correlations, not a peak list"
COMPARISON = "comparison with another spectrum"
PURPOSE = "signals cited for another purpose"
SOLVENT_LINES = "solvent or impurity signals"
REJECT_REASONS: tuple[str, ...] = (
    UNREADABLE,
    CUT_SHORT,
    UNREAD_NUMBER,
    UNCLEAR_NUCLEUS,
    REGION,
    OUTSIDE_1H,
    CORRELATIONS,
    COMPARISON,
    PURPOSE,
    SOLVENT_LINES,
)

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
_NMR = r"(?:NMR|RMN|MMR|[Nn]uclear [Mm]agnetic [Rr]esonance)(?![A-Za-z])"
_HEADER = re.compile(
    r"(?<![A-Za-z0-9])(?<!\d\.)(?:"
    rf"{_NUCLEUS_TOKEN}\s?-?\s?{_NMR}"  # 1H NMR, 13C{1H}-NMR, 1H MMR, 1H nuclear magnetic ...
    r"|(?:NMR|RMN)\s?-?:?\s?(?P<mass2>1|13|19|31|11|15|29)\s?(?P<el2>Si|H|C|F|P|B|N)(?![A-Za-z])"
    r"|(?P<mass3>1|13)(?P<el3>H|C)(?=\s?\(\s?\d+(?:\.\d+)?\s?MHz|\s(?:spectrum|spectra)\b)"
    r"|(?P<bare>NMR)(?=\s?[(:]|\s?δ)"  # NMR (300 MHz, CDCl3) δ ... (nucleus from the peaks)
    # δH (600 MHz, DMSO) 12.20 (1H, ...); δC (CDCl3) 167.5, ...
    r"|δ(?P<el4>H|C)(?=\s?\(\s?\d+(?:\.\d+)?\s?MHz|\s?\([^()]{1,40}\)\s?[:=]?\s?-?\d)"
    # Proton NMR, Carbon-13 NMR, "its proton spectrum"
    rf"|(?P<word>[Pp]roton|[Cc]arbon(?:-?\s?13)?)\s?-?\s?(?:{_NMR}|spectr(?:um|a)\b)"
    r")"
)
_WORD_NUCLEUS = {"p": "1H", "c": "13C"}

# Cheap literal anchors every header contains; the full header pattern is only tried around them.
_ANCHOR = re.compile(
    r"NMR|RMN|MMR|[Nn]uclear [Mm]ag|δ[HC]\s?\(|\d[HC]\s?\(|\d[HC]\sspectr|(?:on|bon) spectr"
)
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

_PPM = r"(?:ppm|p\.p\.m\.?)"
_COND_SKIP = re.compile(
    rf"(?:\s+|[:=,;/]|δ\s?\(?{_PPM}\)?|δ[HCFPNB]?(?![A-Za-z])|\(?{_PPM}\)?(?![A-Za-z])"
    r"|(?:spectrum|spectra|data|shows|showed|show|recorded|at|in|and|was|is|as follows)"
    r"(?![A-Za-z]))",
    re.IGNORECASE,
)
# Numbers in the conditions that are not peaks: "see Table 2", "reference 11", "compound 3".
_COND_CITE = re.compile(
    r"(?:Tables?|Figures?|Figs?\.|Schemes?|Supplementary \w+|SI|references?|refs?\.|compounds?"
    r"|derivatives?|products?)\s?S?\d+[A-Za-z]?(?:\s?(?:,|and|-)\s?S?\d+[A-Za-z]?)*",
    re.IGNORECASE,
)
_COND_WORD = re.compile(r"[^\s,;:()\[\]=]*[^\s,;:()\[\]=.]")  # a final "." ends a sentence
# "chemical shifts referenced to internal TMS", "relative to the residual solvent signal"
_COND_REFERENCE = re.compile(
    r"(?:chemical shifts?\s)?(?:(?:are|were)\s)?(?:referenced|relative|calibrated|reported)"
    r"(?:\srelative)?\s(?:to|against|vs\.?)\s(?:the\s)?(?:internal\s|external\s|residual\s)?"
    r"(?:solvent\s)?[\w\-\[\]]+(?:\s(?:signal|peak|standard))?",
    re.IGNORECASE,
)
# A list inside its own bracket: "δ [170.2, 135.8]", "(δ, ppm): (172.9, 155.1)".
_BRACKET_LIST = re.compile(r"\s?(?:δ[HC]?\s?[:=]?\s?)?(?=-?\d{1,3}\.\d)")
# An integer after these words is a compound number, not a peak: "spectrum of 3 (CDCl3)".
_COMPOUND_BEFORE = re.compile(r"\b(?:of|for|compound)\s$")
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
# Condition fragments read whole: "400 MHz", "see Table 3", "298 K", "referenced to TMS".
_COND_PART = re.compile(
    rf"(?i:{_FREQ.pattern})|(?i:{_COND_CITE.pattern})|{_TEMP.pattern}"
    rf"|(?i:{_COND_REFERENCE.pattern})"
)

# --- peaks -----------------------------------------------------------------------------------

_NUM = r"-?\d{1,3}(?:\.\d{1,4})?(?!\.?\d)"
# A decimal comma is accepted inside a point-decimal list only where it cannot be a separator:
# right before the details, a range dash or the next ", " ("7,14-7,16 (m, 2H)", "135,54, 132.1",
# "128,9, 128.4").
_NUM_OR_COMMA = r"-?\d{1,3},\d{1,2}(?=\s?[(-]|,\s)|" + _NUM
_BARE_MULT = r"(?:br\.?\s?)?(?:[sdtqmp]{1,4}|brs|bs|brd|sept|sext|quint?|hept)"
_DETAILS = r"\((?:[^()]|\([^()]*\))*\)|\[(?:[^\[\]]|\[[^\[\]]*\])*\]"
# A forgotten comma: "40.66 63.08, 68.65" (a decimal number, then one followed by a separator);
# an integer before a decimal number is a page number instead ("137.2, 15 129.3").
_AFTER_DECIMAL = r"(?:(?<=\.\d)|(?<=\.\d\d)|(?<=\.\d\d\d)|(?<=\.\d\d\d\d))"
_NEXT_NUMBER = rf"{_AFTER_DECIMAL}\s(?=-?\d{{1,3}}\.\d{{1,4}}\s?[,;(])"
# Page furniture that can interrupt a list: SI page labels, page footers, figure labels, page
# numbers. It is only skipped between two numbers ("129.8, S12 128.6").
_FURNITURE = (
    r"(?:Page\s?S?-?\d{1,3}(?:\s?of\s?S?-?\d{1,3})?|Supporting Information\s?S?-?\d{1,3}"
    r"|S-?\d{1,3}|Fig(?:ure|s?\.)\s?S?\d{1,3}[a-z]?|\d{1,3})"
)
# Atom positions and group names written next to a shift without brackets ("C-4′ 135.8",
# "170.2 C-1", "OCH3 52.0"), and class names that open a sub-list ("aliphatic carbons 56.0").
_POSITION = r"(?:CH[23]?|H[23]|[CHN])-?\d{1,2}[a-z]?['′″]*(?:[/,]\d{1,2}[a-z]?['′″]*)*"
_GROUP = (
    r"(?:C=O|Cquat|C quat|Cq|CH3|CH2|CH|C|OCH3|OMe|NCH3|NMe|SCH3|COOH|CHO|NH2|NH|OH|Ar-?[CH])"
    r"(?![\w=\-])"
)
_CLASS = (
    r"(?:aromatic|aliphatic|olefinic|quaternary|methine|methylene|methyl|carbonyl|anomeric"
    r"|vinylic|alkyl)(?:\s(?:carbons?|protons?|signals?|groups?|C|H|CH)(?![\w=]))?"
)
_PEAK_LABEL = rf"(?:{_POSITION}|{_GROUP}|{_CLASS}|\[[^\[\]\d]{{1,16}}\]|\[{_POSITION}\])"
# Details written as list items of their own: "161.9, d, J = 245.1 Hz; 138.2",
# "δH 7.88, 2H, d, J = 8.8 Hz; 6.83, 2H, d". A multiplicity needs a J or an integration with it.
_LOOSE_J = (
    r"\d?J\s?(?:[A-Z]{1,2}-?[A-Z]{1,2}\s?)?[=:]?\s?"
    r"\d{1,3}(?:\.\d{1,2})?(?:\s?,\s?\d{1,3}(?:\.\d{1,2})?)*\s?Hz"
)
_LOOSE_COUNT = r"\d{1,2}\s?H(?![\w.])"
_LOOSE_MULT = r"(?:br\.?\s?)?[sdtqm]{1,4}(?![\w.])"
_LOOSE_DETAILS = (
    rf"(?:,\s?{_LOOSE_COUNT})?(?:,?\s?{_LOOSE_MULT})?,?\s?{_LOOSE_J}"
    rf"|,\s?{_LOOSE_COUNT}(?:,\s?{_LOOSE_MULT})?(?:,\s?{_LOOSE_J})?"
)
# Words that end a shift in running text ("at δ 162.9 as a doublet"), unless they are units.
_PROSE_END = r"|\s(?=[a-z])(?!(?:h|min|s|mg|g|ml|mmol|mol|equiv|eq|nm|mm|cm)\b)"


def _item_pattern(prose: bool) -> re.Pattern[str]:
    """One peak and the separator after it (one match call per peak keeps the parser fast).

    ``prose`` reads a run of shifts inside a sentence: a shift may end at the next word, and
    ``δH``/``δC`` do not continue the run (they open a run of their own nucleus).
    """
    delta = r"δ\s?[:=]?\s?" if prose else r"δ[HCFPNB]?\s?[:=]?\s?"
    close = "" if prose else r"\)?"  # the end of a sub-list: "aromatic C (136.2, 127.5), 45.8"
    body = (
        rf"(?:{delta})?(?:(?P<pre>[1-9])\s?[×x]\s?)?"  # "2 × 128.7"
        rf"(?P<lo>{_NUM_OR_COMMA})"
        rf"(?:\s?(?:-|~|to)\s?(?P<hi>{_NUM_OR_COMMA}))?"
        # two isomers' signals written together: "7.05/6.39 (s, 1H)", "4.40-4.25/4.13-4.03 (m)"
        rf"(?:\s?/\s?(?P<alt>{_NUM_OR_COMMA})(?:\s?-\s?(?P<althi>{_NUM_OR_COMMA}))?)?"
        rf"(?:\s?[×x]\s?(?P<times>\d{{1,2}})(?!\.?\d))?"  # "129.6 × 2"
        rf"(?P<ppm>\s?(?:ppm|p\.p\.m\.?)(?![A-Za-z]))?"
        rf"(?:\s?(?P<bare>{'(?!)' if prose else _BARE_MULT})(?![A-Za-z0-9])"
        rf"|\s(?P<label>{_POSITION}|{_GROUP})(?=\s?[,;.]))?"
        rf"(?P<loose>{_LOOSE_DETAILS})?"
        # details, possibly after a stray comma or dash, and a second bracket group
        # ("(m, 1H, CH) (Cp)")
        rf"(?:(?:,|-(?=\(\w))?\s?(?P<det>{_DETAILS})(?:\s?(?P<det2>{_DETAILS}))?"
        rf"(?:\s?ppm(?![A-Za-z]))?(?:[*†‡]|\s?(?:major|minor)\b)?"
        # without details (or "ppm") the number must end at a separator, at page furniture or
        # at the next section ("... 50.7 HRMS"), not run into a unit ("5 mL", "400 MHz")
        rf"|[*†‡]?(?:\s?(?:major|minor)(?![a-z]))?"
        rf"(?(ppm)|(?=\s?(?:[,;.\])(\[]|:(?!\d)|and\b|&|$|δ)|{_NEXT_NUMBER}"
        rf"|\s(?={_FURNITURE}\s-?\d{{1,3}}[.,]\d)"
        rf"|\s(?:[A-Z]{{2,}}(?![a-z])|Anal|Elem|Found|Calc){_PROSE_END if prose else ''})))"
    )
    # What may separate two peaks; empty only right after details ("(br s, 1H, OH)7.76 (m)"),
    # doubled punctuation is a typo ("143.7., 128.2", "(1H),, 7.31").
    sep = (
        rf"(?:{_NEXT_NUMBER}|\s?(?:{close}\.?[,;]{{1,2}}\s?(?:and\s|&\s?)?|and\s|&\s?"
        rf"|\.\s(?={_NUM}\s?(?:\([^()]*\))?\s?[,;])|(?<=[)\]])\s?(?=\d)))"
        rf"(?:{_PEAK_LABEL}\s?(?::\s?|at\s|,\s|\((?=-?\d))?)?(?:{delta})?"
    )
    return re.compile(rf"{body}(?P<sep>{sep})?")


_GROUP_WORD = re.compile(_GROUP)
_ITEM = _item_pattern(prose=False)
_PROSE_ITEM = _item_pattern(prose=True)
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
    """``2H``, ``2 H``, ``2C``, ``2 × C``, ``×2``, ``CH×2`` in a peak's details, for ``element``.

    For carbon, ``2 × OCH3`` counts the groups (one carbon each).
    """
    tail = "(?!z)(?![a-z0-9])" if element == "H" else "(?![a-z])"
    groups = r"|(?<![\w'.\-])(\d{1,2})\s?[×x]\s?(?=[A-Z])" if element == "C" else ""
    return re.compile(
        rf"(?<![\w'.\-])(\d+(?:\.\d+)?)\s?(?:[×x]\s?)?{element}{tail}"
        rf"|(?<![\w.])(?:{element}\w{{0,2}}\s?)?[×x]\s?(\d{{1,2}})(?![\d.]){groups}"
    )


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
    """Number of nuclei the peak stands for (``2H`` integration, ``(2C)``, ``128.4 × 2``), None
    if not given; the shift is listed once whatever the count."""
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
    """Why the parser gave up on this block's list (``peaks`` is then empty), None otherwise:
    one of :data:`REJECT_REASONS`, possibly followed by ``": "`` and the offending text."""

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


class _Scan(NamedTuple):
    """What lies between a header and its peak list."""

    parts: list[str]
    """Condition fragments (bracket contents, frequency, words)."""
    start: int | None
    """Where the peaks start; None when the header has no list after it."""
    free_words: int
    """Words that are neither a solvent nor a reference: the header is part of a sentence."""
    reject_reason: str | None = None
    """Why the list after the header cannot be read."""


def _bracket_list(text: str, start: int, end: int) -> int | None:
    """Start of a list that fills the bracket ``text[start:end]`` (``δ [170.2, 135.8]``)."""
    m = _BRACKET_LIST.match(text, start + 1, end)
    if m is None:
        return None
    peaks, stop = _peak_list(text, m.end(), "H", _ITEM)
    return (
        m.end() if len(peaks) >= 2 and not text[stop : end - 1].replace("ppm", "").strip() else None
    )


def _is_condition_word(word: str) -> bool:
    """A solvent, reference, DEPT label or "d" (δ lost its Greek letter): not a sign of a
    sentence."""
    return (
        word in ("d", "δ")
        or _GROUP_WORD.fullmatch(word) is not None
        or canonical_solvent(word) not in (UNRECOGNIZED, UNREPORTED)
        or _DEUTERATED.match(word) is not None
        or _REFERENCE.search(word) is not None
    )


def _scan_conditions(text: str, pos: int) -> _Scan:
    """Read the conditions after a header: their fragments and where the peaks start.

    The peak list starts at the first number outside brackets that is not a frequency, a
    temperature or a compound number ("spectrum of 3 (CDCl3)"), or fills a bracket of its own;
    none when free text (more than a few words), a new header or the end comes first.
    """
    parts: list[str] = []
    words = free = 0
    in_brackets: int | None = None
    limit = min(len(text), pos + _MAX_COND_CHARS)
    while pos < limit:
        c = text[pos]
        if c in "([":
            end = _balanced_end(text, pos)
            if end < 0:  # never closed: "13C NMR (DMSO-d6, δ, ppm: 199.96 (C=O); ..."
                pos += 1
                continue
            inner = text[pos + 1 : end - 1]
            listed = _bracket_list(text, pos, end) if in_brackets is None else None
            if listed is not None:
                in_brackets = listed
            elif inner.strip().lower() not in {"ppm", "δ", "p.p.m."}:
                parts.append(inner)
            pos = end
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
            break  # the sentence or clause ended without a peak list
        m = _COND_SKIP.match(text, pos)
        if m and m.end() > pos:
            pos = m.end()
            continue
        m = _COND_PART.match(text, pos)
        if m:
            parts.append(m.group(0))
            pos = m.end()
            continue
        if _HEADER.match(text, pos):
            break
        item = _ITEM.match(text, pos)
        if item and not (
            item.group("lo").isdigit() and _COMPOUND_BEFORE.search(text, max(0, pos - 9), pos)
        ):
            # "determined by 1H NMR: q = 0.94" is an equation, not a peak list
            start = None if _EQUATION.search(text, max(0, pos - 12), pos) else pos
            return _Scan(parts, start, free)
        broken = _BROKEN_WORD.match(text, pos)
        if broken:
            return _Scan(parts, None, free, f"{UNREADABLE}: {broken.group('token')}")
        m = _COND_WORD.match(text, pos)
        if m is None:
            pos += 1
            continue
        words += 1
        free += not _is_condition_word(m.group(0))
        if words > _MAX_COND_WORDS:
            break
        parts.append(m.group(0))
        pos = m.end()
    return _Scan(parts, in_brackets, free)


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
        value = float(next(g for g in m.groups() if g is not None))
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
    return _peak_list(text, start, element, _ITEM)


def _peak_list(
    text: str, start: int, element: str, item: re.Pattern[str]
) -> tuple[list[Peak], int]:
    """:func:`parse_peak_list` with the item pattern of a tidy list or of running text."""
    peaks: list[Peak] = []
    pos = end = start
    while True:
        m = item.match(text, pos)
        if m is None:
            break
        lo_text, hi_text, bare, det, det2, alt, alt_hi, sep, label, loose, times, pre = m.group(
            "lo",
            "hi",
            "bare",
            "det",
            "det2",
            "alt",
            "althi",
            "sep",
            "label",
            "loose",
            "times",
            "pre",
        )
        if loose:  # "161.9, d, J = 245.1 Hz" reads like details in brackets
            det = f"({loose.strip(' ,')}, {det[1:-1]})" if det else f"({loose.strip(' ,')})"
        if det:
            multiplicity, j_hz, count, assignment = _details(det, element)
            if label:
                assignment = f"{label}, {assignment}" if assignment else label
        else:
            multiplicity, j_hz, count, assignment = None, (), None, label
        if det2:
            extra = det2[1:-1].strip()
            assignment = f"{assignment}, {extra}" if assignment else extra
        if times or pre:  # "128.4 × 2", "2 × 128.4": two nuclei
            count = int(times or pre)
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


# A separator, then page furniture, then the list goes on.
_FURNITURE_GAP = re.compile(rf"\s?(?:[,;]\s?)?{_FURNITURE}\s?,?\s?(?=-?\d{{1,3}}[.,]\d)")
# A number that cannot be read: a typo ("7.2.6", "7.2 6") or OCR ("6.7l", "12S.4"); after a
# separator it means the list was cut short.
_BROKEN = (
    r"-?(?:\d{1,3}\.\d+\.\d|\d{1,3}\.\d{1,3}\s\d{1,2}(?=\s?\()|\d+[lIOS]\.?\d|\d*\.\d*[lIOS])"
    r"[^\s,;()\[\]]*"
)
# A decimal glued to other characters ("18.9-(", "170.8major") or followed by a bare number.
_GLUED = r"\d{1,3}\.\d+(?:[^\s\d,;.()\[\]]|\s-?\d)\S*"
_UNREADABLE = re.compile(rf"\s?(?:[,;]|and\b)\s?(?:δ\s?)?(?P<token>{_BROKEN}|{_GLUED})")
_BROKEN_WORD = re.compile(rf"(?P<token>{_BROKEN})")


def _read_list(
    text: str, start: int, element: str, item: re.Pattern[str]
) -> tuple[list[Peak], int, str | None]:
    """Peaks from ``start`` across page furniture; none, with the reason, if a value is
    unreadable (the list would otherwise be silently cut short)."""
    peaks, end = _peak_list(text, start, element, item)
    while (gap := _FURNITURE_GAP.match(text, end)) and item.match(text, gap.end()):
        more, end = _peak_list(text, gap.end(), element, item)
        peaks += more
    unreadable = _UNREADABLE.match(text, end)
    if unreadable is not None and peaks:
        return [], end, f"{UNREADABLE}: {unreadable.group('token')}"
    return peaks, end, None


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
    if header.group("word"):
        return _WORD_NUCLEUS[header.group("word")[0].lower()]
    for mass, element in (("mass", "el"), ("mass2", "el2"), ("mass3", "el3"), (None, "el4")):
        if header.group(element):
            return _NUCLEUS_OF.get(((mass and header.group(mass)) or "", header.group(element)))
    return None


def _read_tidy(text: str, nucleus: str, scan: _Scan) -> tuple[list[Peak], int, str | None]:
    """Peaks, end offset and reject reason of a list laid out as in an experimental section."""
    if scan.start is None:
        return [], 0, scan.reject_reason
    element = _ELEMENT.get(nucleus, "H")
    if _comma_decimal(text, scan.start):
        stop = _HEADER.search(text, scan.start)
        segment = _COMMA_IN_NUMBER.sub(".", text[: stop.start() if stop else len(text)])
        return _read_list(segment, scan.start, element, _ITEM)
    return _read_list(text, scan.start, element, _ITEM)


# --- shifts in running text ------------------------------------------------------------------
#
# Natural-product and materials papers describe spectra in sentences: "The 13C NMR spectrum
# (CDCl3) revealed two methyls at δC 18.2 and 21.9, an ester carbonyl at δC 170.6, ...". Such a
# paragraph is read sentence by sentence from the sentence of its header (or of its first
# δH/δC): every run of shifts ("at δ 7.12 (d, J = 8.4 Hz) and 6.74 (dd, ...)") goes to the
# nucleus its tag names, else to the nearest header before it ("... in the 1H NMR spectrum"
# right after it wins), else to the nucleus the sentence talks about (protons or carbons), else
# to the nucleus of the sentence before. The reading stops at a sentence without shifts (unless
# the next one goes on listing them), at a tidy block, or at a sentence that uses signals for
# something else (2D correlations, comparisons, ratios, solvent lines). A nucleus is rejected,
# with the reason, when its sentences hold a shift-like number no run accounts for, or describe
# a region.

_PROSE_NUCLEI = ("1H", "13C")
_TAG_NUCLEUS = {"H": "1H", "C": "13C", "c": "13C"}
_SHIFT_START = r"(?=-?\d{1,3}\.\d)"
# Where a run of shifts starts: after δ (δH, δC, δ (ppm), δ =), after "at" or a verb, or in a
# bracket that ends in ppm ("two carbonyls (173.5 and 166.2 ppm)").
_RUN = re.compile(
    rf"δ\s?(?P<tag>[HCc](?![A-Za-z]))?\s?(?:\(?{_PPM}\)?\s?)?[:=]?\s?{_SHIFT_START}"
    rf"|\b(?:at|of|showed|displayed|exhibited|revealed|gave|contained)\s{_SHIFT_START}"
    rf"|[(\[](?=[^()\[\]]{{0,80}}ppm\s?[)\]]){_SHIFT_START}"
)
# A δH or δC that may open a description without any header ("The NMR data showed ... (δC 178.2)").
_TAG = re.compile(rf"δ\s?(?P<el>[HCc])(?![A-Za-z])\s?[:=]?\s?{_SHIFT_START}")
_JOINT = re.compile(r"1H\s?-?\s?(?:and|,|/|&)\s?13C")
_POSTPOSED = re.compile(r"[\s)\]]*(?:ppm[\s)\]]*)?in (?:the |its )?")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9)\]%+])\.\s(?=[A-Z(\[]|1?3?[CH]\b)")
_DECIMAL = re.compile(r"(?<![\w.,])-?\d{1,3}\.\d{1,4}(?!\.?\d)")
_UNIT_AFTER = re.compile(
    r"\s?(?:Hz|MHz|GHz|K|°\s?C|oC|cm|nm|mm|mg|g|mL|ml|mmol|mol|M|equiv|eq|h|min|s|%|Da)(?![A-Za-z])"
)
_VALUE_CONTEXT = re.compile(
    r"(?:\d?J\S{0,6}|m/z|Δδ\S{0,16}|calcd\.?(?:\sfor\s\S+)?|found|Rf|mp|\[α\]\S*|\(c|log\sε\)?)"
    r"\s?[=:~]?\s?[+-]?(?:\d+(?:\.\d+)?\s?(?:,|and)\s?)*$"
)
# Sentences that cite signals for something else than listing a spectrum, by reason.
_NOT_A_LIST = re.compile(
    r"(?P<correlations>(?:HMBC|COSY|NOESY|ROESY|TOCSY|NOE)(?![a-z])|(?i:correlat|cross-?peak))"
    r"|(?i:(?P<comparison>similar to|\bsame\b.{0,30}\bas\b|\bexcept|compared|comparison"
    r"|instead of|rather than|\bvs\b|versus|\bthan\b|upfield|downfield|\bmoved\b"
    r"|\bshift(?:ed|ing) (?:to|from|by)\b|\bbroadened\b"
    r"|\bdiffer(?:s|ed|ence|ences)?\b)"
    r"|(?P<purpose>\bratios?\b|integration of|conversion|determined (?:by|from)|monitor"
    r"|titration|\bee\b|\bdr\b|enantiomeric|diastereomeric|purity|incorporation|coalescence"
    r"|temperature-dependent|kinetic|progress|starting material|decreas|increas)"
    r"|(?P<solvent>residual|solvent (?:signal|peak|resonance)|impurit|\bwater\b|\bHDO\b|grease))"
)
_NOT_A_LIST_REASON = {
    "correlations": CORRELATIONS,
    "comparison": COMPARISON,
    "purpose": PURPOSE,
    "solvent": SOLVENT_LINES,
}
_PROTON_WORD = re.compile(r"proton", re.IGNORECASE)
_CARBON_WORD = re.compile(r"carbon", re.IGNORECASE)
# A shift region instead of peaks: "between δ 3.1 and 3.9", "in the range δ 20.5-35.8",
# "the δ 3.1-3.9 region", "from δC 127.5 to δC 138.4" (not "the aromatic region contained").
_DELTA_NUMBER = r"(?:\s(?:of|from|at|observed|δ\s?[HC]?|\(δ\s?[HC]?)){0,3}\s?\(?-?\d"
_REGION = re.compile(
    rf"\b(?:between|range|region){_DELTA_NUMBER}|\d\s?(?:ppm\s)?region\b"
    rf"|\bfrom{_DELTA_NUMBER}[\d.]*\s(?:ppm\s)?to\s",
    re.IGNORECASE,
)
# Where the clause of a tidy list ends: a semicolon, a new header or the next section.
_CLAUSE_END = re.compile(
    r";|\d{1,2}[A-Z][a-z]?\s?(?:\{[^}]*\})?-?\s?NMR|\b(?:HR-?|ESI-?|EI-?)?MS\b|\bIR\b|\bAnal|\bUV\b"
    r"|\bI\.R\.|m/z|\bmp\b|\bRf\b|\[α\]"
)
_SOLVENT_BRACKET = re.compile(r"\(([^()]{1,40})\)")


class _Block(NamedTuple):
    """A block before it is given its compound group."""

    nucleus: str
    peaks: list[Peak]
    parts: list[str]
    start: int
    end: int
    reject_reason: str | None = None


class _Run(NamedTuple):
    """Consecutive shifts in a sentence, from their introducer (``at δC``) on."""

    start: int
    data: int
    """Where its first shift starts."""
    end: int
    nuclei: tuple[str, ...]
    """The nucleus the run belongs to; empty while undecided, two for "1H and 13C NMR"."""
    peaks: list[Peak]


def _not_a_list(text: str, start: int, end: int) -> str | None:
    """Why the sentence ``text[start:end]`` cites signals without listing a spectrum."""
    m = _NOT_A_LIST.search(text, start, end)
    return _NOT_A_LIST_REASON[m.lastgroup] if m and m.lastgroup else None


def _prose_headers(text: str, start: int, end: int) -> list[tuple[re.Match[str], tuple[str, ...]]]:
    """1H/13C headers in ``text[start:end]`` and the nuclei each names ("1H and 13C NMR")."""
    found = []
    for header in _HEADER.finditer(text, start, end):
        nucleus = _nucleus(header)
        if nucleus not in _PROSE_NUCLEI:
            continue
        joint = nucleus == "13C" and _JOINT.search(text, max(start, header.start() - 14), end)
        both = joint and joint.end() >= header.start() + 3
        found.append((header, ("1H", "13C") if both else (nucleus,)))
    return found


def _runs(text: str, start: int, end: int) -> list[_Run]:
    """Runs of shifts in ``text[start:end]``; a tagged run already knows its nucleus."""
    runs: list[_Run] = []
    stop = start
    for m in _RUN.finditer(text, start, end):
        if m.start() < stop:
            continue
        nuclei = (_TAG_NUCLEUS[m.group("tag")],) if m.group("tag") else ()
        element = "C" if nuclei == ("13C",) else "H"
        peaks, stop = _peak_list(text, m.end(), element, _PROSE_ITEM)
        if peaks:
            runs.append(_Run(m.start(), m.end(), stop, nuclei, peaks))
    return runs


def _owner(
    text: str,
    start: int,
    end: int,
    headers: list[tuple[re.Match[str], tuple[str, ...]]],
    current: tuple[str, ...],
) -> tuple[str, ...]:
    """Nuclei of untagged text at ``start:end``: a header right after it ("... in the 1H NMR
    spectrum"), else the last header before it, else the next one, else ``current``."""
    after = [(h, n) for h, n in headers if h.start() >= end]
    if after and _POSTPOSED.fullmatch(text, end, after[0][0].start()):
        return after[0][1]
    before = [n for h, n in headers if h.end() <= start]
    if before:
        return before[-1]
    return after[0][1] if after else current


def _sentence_nucleus(text: str, start: int, end: int) -> tuple[str, ...] | None:
    """The nucleus a sentence without headers talks about: protons or carbons, not both."""
    protons = _PROTON_WORD.search(text, start, end) is not None
    carbons = _CARBON_WORD.search(text, start, end) is not None
    return ("1H",) if protons and not carbons else ("13C",) if carbons and not protons else None


def _unexplained(text: str, start: int, end: int, runs: list[_Run]) -> list[re.Match[str]]:
    """Shift-like numbers of ``text[start:end]`` outside every run and not a coupling
    constant, a unit value, a mass or an optical rotation."""
    numbers = []
    for number in _DECIMAL.finditer(text, start, end):
        if any(run.start <= number.start() < run.end for run in runs):
            continue
        if _UNIT_AFTER.match(text, number.end()) or _VALUE_CONTEXT.search(
            text, max(start, number.start() - 30), number.start()
        ):
            continue
        numbers.append(number)
    return numbers


def _sentence_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _SENTENCE_END.finditer(text)]


def _is_tidy(text: str, header: re.Match[str]) -> bool:
    """Whether a header inside running text opens a list of its own (read as usual): its list
    follows its conditions without free words."""
    scan = _scan_conditions(text, header.end())
    return scan.start is not None and not scan.free_words


class _Sentence(NamedTuple):
    """One sentence of running text, read."""

    end: int
    """Where it ends (before a tidy block that starts inside it)."""
    headers: list[tuple[re.Match[str], tuple[str, ...]]]
    runs: list[tuple[str, _Run]]
    """Runs of shifts and the nucleus each belongs to."""
    reasons: dict[str, str]
    """Why a nucleus cannot be listed from this sentence."""
    not_a_list: str | None
    """Why the sentence cites signals without listing a spectrum."""
    tidy: bool
    """A tidy block starts inside the sentence."""


def _read_sentence(text: str, start: int, end: int, at: int, current: tuple[str, ...]) -> _Sentence:
    """Headers, runs and their nuclei in ``text[start:end]``; ``current`` owns untagged runs
    that no header claims, headers after ``at`` that open a tidy list end the sentence."""
    headers = _prose_headers(text, start, end)
    tidy = next((h for h, _ in headers if h.start() > at and _is_tidy(text, h)), None)
    if tidy is not None:
        end = tidy.start()
        headers = [(h, n) for h, n in headers if h.start() < end]
    runs = _runs(text, start, end)
    if not headers:
        current = _sentence_nucleus(text, start, end) or current
    owned: list[tuple[str, _Run]] = []
    reasons: dict[str, str] = {}
    for run in runs:
        nuclei = run.nuclei or _owner(text, run.start, run.end, headers, current)
        if len(nuclei) != 1:
            for nucleus in nuclei or current:
                reasons.setdefault(nucleus, f"{UNCLEAR_NUCLEUS}: {run.peaks[0].shift:g}")
            continue
        if nuclei == ("13C",) and not run.nuclei:  # read again for "(2C)" counts
            run = run._replace(peaks=_peak_list(text, run.data, "C", _PROSE_ITEM)[0])
        owned.append((nuclei[0], run))
        current = nuclei
    if _REGION.search(text, start, end):
        for nucleus, _ in owned:
            reasons.setdefault(nucleus, REGION)
    for extra in _unexplained(text, start, end, runs):
        for nucleus in _owner(text, extra.start(), extra.end(), headers, current):
            reasons.setdefault(nucleus, f"{UNREAD_NUMBER}: {extra.group(0)}")
    why = _not_a_list(text, start, end)
    return _Sentence(end, headers, owned, reasons, why, tidy is not None)


def _read_prose(
    text: str, starts: list[int], at: int, lo: int, trigger: tuple[str, ...], tagged: bool
) -> tuple[list[_Block], int]:
    """1H/13C blocks described in the sentences from the one holding ``at`` (a header of
    ``trigger``, or its first δH/δC when ``tagged``); text before ``lo`` belongs to earlier
    blocks. Returns the blocks and where the reading stopped.

    The reading goes on while sentences hold shifts or headers, across one sentence without
    them when the next one goes on listing shifts (no header, no compound label), and stops
    before a sentence that cites signals for something else. A later sentence adds only shifts
    not listed yet ("coupling constants at δH 6.87 ..." after the 13C data repeats the 1H list).
    """
    index = bisect_right(starts, at) - 1
    lower = max(starts[index], lo)
    bounds = [lower, *starts[index + 1 :], len(text)]
    peaks: dict[str, list[Peak]] = {}
    spans: dict[str, list[int]] = {}
    reasons: dict[str, str] = {}
    parts: dict[str, list[str]] = {}
    current, region_end = trigger, at
    earlier: set[str] = set()  # nuclei listed by the sentences read so far
    number = -1
    while number + 2 < len(bounds):
        number += 1
        sentence = _read_sentence(text, bounds[number], bounds[number + 1], at, current)
        described = {nucleus for nucleus, _ in sentence.runs}
        if number and (sentence.not_a_list or not (sentence.runs or sentence.headers)):
            if sentence.not_a_list or not _goes_on(text, bounds, number + 1, at, current):
                break
            continue
        if sentence.not_a_list and tagged:
            return [], sentence.end
        for header, nuclei in sentence.headers:
            for nucleus in nuclei:
                parts.setdefault(nucleus, _scan_conditions(text, header.end()).parts)
                spans.setdefault(nucleus, [header.start(), header.end()])
        if sentence.not_a_list:  # the first sentence: its headers give no list
            for nucleus in {*trigger, *(n for _, ns in sentence.headers for n in ns)}:
                reasons.setdefault(nucleus, sentence.not_a_list)
                spans.setdefault(nucleus, [at, sentence.end])
            return _prose_blocks(
                text, peaks, spans, reasons, parts, tagged, lower, at
            ), sentence.end
        for nucleus, run in sentence.runs:
            listed = peaks.setdefault(nucleus, [])
            if nucleus in earlier:  # a later sentence repeats shifts it already listed
                run = run._replace(peaks=[p for p in run.peaks if not _listed(p, listed)])
            listed.extend(run.peaks)
            span = spans.setdefault(nucleus, [run.start, run.end])
            span[0], span[1] = min(span[0], run.start), max(span[1], run.end)
        for nucleus, why in sentence.reasons.items():
            reasons.setdefault(nucleus, why)
        earlier |= described
        if sentence.runs:
            current = (sentence.runs[-1][0],)
        if sentence.headers:
            current = sentence.headers[-1][1]
        region_end = sentence.end
        if sentence.tidy:
            break
    return _prose_blocks(text, peaks, spans, reasons, parts, tagged, lower, region_end), region_end


def _goes_on(text: str, bounds: list[int], number: int, at: int, current: tuple[str, ...]) -> bool:
    """Whether sentence ``number`` goes on listing shifts of the same compound."""
    if number + 1 >= len(bounds):
        return False
    start, end = bounds[number], bounds[number + 1]
    sentence = _read_sentence(text, start, end, at, current)
    return (
        bool(sentence.runs)
        and not sentence.headers
        and sentence.not_a_list is None
        and _LABEL.search(text, start, end) is None
    )


def _listed(peak: Peak, peaks: list[Peak]) -> bool:
    return any(abs(peak.shift - other.shift) <= 0.011 for other in peaks)


def _prose_blocks(
    text: str,
    peaks: dict[str, list[Peak]],
    spans: dict[str, list[int]],
    reasons: dict[str, str],
    parts: dict[str, list[str]],
    tagged: bool,
    start: int,
    end: int,
) -> list[_Block]:
    """One block per nucleus of running text, in order of first mention; a nucleus whose
    header names no solvent takes the one named for the other nucleus (or, for text without
    headers, a solvent in brackets)."""
    shared = next((p for p in parts.values() if _conditions(p)[1] is not None), None)
    if shared is None and tagged:
        shared = _SOLVENT_BRACKET.findall(text, start, end)
    blocks = []
    for nucleus in sorted(spans, key=lambda n: spans[n][0]):
        listed = peaks.get(nucleus, [])
        reason = reasons.get(nucleus)
        if reason is None and nucleus == "1H" and any(not -5 <= p.shift <= 20 for p in listed):
            reason = OUTSIDE_1H
        own = parts.get(nucleus, [])
        if shared is not None and _conditions(own)[1] is None:
            own = [*own, *shared]
        blocks.append(_Block(nucleus, [] if reason else listed, own, *spans[nucleus], reason))
    return blocks


def _reads_as_prose(text: str, nucleus: str, scan: _Scan, end: int, starts: list[int]) -> bool:
    """Whether a 1H/13C header opens running text: no list right after it, or a list that
    free words introduce and the sentence continues."""
    if nucleus not in _PROSE_NUCLEI or scan.reject_reason is not None:
        return False
    return scan.start is None or (scan.free_words > 0 and _interrupted(text, end, starts))


def _clause_start(text: str, pos: int, starts: list[int]) -> int:
    """Start of the sentence or ``;`` clause holding ``pos``."""
    return max(starts[bisect_right(starts, pos) - 1], text.rfind("; ", 0, pos) + 2)


def _cut_short(text: str, end: int, starts: list[int]) -> str | None:
    """Why a tidy list that stops at a comma was cut short: more shifts follow in its clause."""
    index = bisect_right(starts, end)
    stop = starts[index] if index < len(starts) else len(text)
    clause = _CLAUSE_END.search(text, end + 1, stop)
    more = _unexplained(text, end, clause.start() if clause else stop, [])
    return f"{CUT_SHORT}: before {more[0].group(0)}" if more else None


def _interrupted(text: str, end: int, starts: list[int]) -> bool:
    """Whether the text after a list goes on describing shifts (the list was prose): more
    shifts in its clause, or a next sentence without a header that lists shifts ("It also
    showed ... at δ 0.97")."""
    index = bisect_right(starts, end)
    stop = starts[index] if index < len(starts) else len(text)
    header = _HEADER.search(text, end, stop)
    if not text.startswith((".", ";"), end) and _unexplained(
        text, end, header.start() if header else stop, []
    ):
        return True
    if header is not None or index == len(starts):
        return False
    following = starts[index + 1] if index + 1 < len(starts) else len(text)
    return (
        _HEADER.search(text, stop, following) is None
        and _not_a_list(text, stop, following) is None
        and bool(_runs(text, stop, following))
    )


# --- the paragraph ---------------------------------------------------------------------------


class _Grouping:
    """Spectra of one paragraph with their compound groups, added in reading order.

    A new compound group starts at a block whose nucleus already has peaks in the same solvent
    in the current group (a second solvent is the same compound measured twice), or after text
    naming a compound label different from the group's.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.spectra: list[Spectrum] = []
        self.previous_end = 0
        self._group = 0
        self._label: str | None = None
        self._solvents: dict[str, str] = {}  # nucleus -> solvent of its spectrum in this group

    def has_peaks(self, nucleus: str) -> bool:
        return nucleus in self._solvents

    def add(self, block: _Block) -> None:
        frequency, solvent_raw, temperature, reference = _conditions(block.parts)
        solvent = classify(solvent_raw)[0]
        label = _label(self.text[self.previous_end : block.start])
        if block.peaks and (
            self._solvents.get(block.nucleus) == solvent
            or (label is not None and self._label is not None and label != self._label)
        ):
            self._group += 1
            self._solvents = {}
            self._label = label
        elif self._label is None:
            self._label = label
        if block.peaks:
            self._solvents[block.nucleus] = solvent
        self.spectra.append(
            Spectrum(
                block.nucleus,
                block.peaks,
                frequency,
                solvent_raw,
                temperature,
                reference,
                self._label,
                self._group,
                block.start,
                block.end,
                block.reject_reason,
            )
        )
        self.previous_end = max(self.previous_end, block.end)


def parse_paragraph(paragraph: str) -> list[Spectrum]:
    """Every NMR block of ``paragraph``, in order, grouped by compound.

    Offsets (:attr:`Spectrum.start`, :attr:`Spectrum.end`) refer to
    ``normalize_paragraph(paragraph)``; :func:`parse_normalized` takes that text directly.
    """
    return parse_normalized(normalize_paragraph(paragraph))


def parse_normalized(text: str) -> list[Spectrum]:
    """:func:`parse_paragraph` of text already passed through :func:`normalize_paragraph`.

    Blocks are grouped by compound (:class:`_Grouping`). A bare ``NMR`` header is kept only
    when its peaks carry ``nH`` integrations (then it is 1H). A 1H/13C header in a sentence
    (free words before its shifts, or a list that the sentence continues) is read as running
    text (:func:`_read_prose`), and so is a δH/δC of a nucleus that has no list yet.
    """
    grouping = _Grouping(text)
    pos = 0
    anchors = _ANCHOR.finditer(text)
    header: re.Match[str] | None = None
    starts: list[int] = []  # sentence starts, found when a list may be running text

    def sentences() -> list[int]:
        if not starts:
            starts.extend(_sentence_starts(text))
        return starts

    while True:
        if header is None or header.start() < pos:
            header = _next_header(text, pos, anchors)
        tag = _TAG.search(text, pos, header.start() if header else len(text))
        if tag is not None:
            nucleus = _TAG_NUCLEUS[tag.group("el")]
            if grouping.has_peaks(nucleus):
                pos = tag.end()
                continue
            blocks, end = _read_prose(
                text, sentences(), tag.start(), grouping.previous_end, (nucleus,), tagged=True
            )
            for block in blocks:
                grouping.add(block)
            pos = max(end, tag.end())
            continue
        if header is None:
            break
        nucleus = _nucleus(header)
        if nucleus is None:
            pos = header.end()
            continue
        scan = _scan_conditions(text, header.end())
        peaks, end, reason = _read_tidy(text, nucleus or "1H", scan)
        if nucleus in _PROSE_NUCLEI and (scan.start is None or scan.free_words):
            if peaks:  # a list in a sentence: is the sentence about this spectrum?
                clause = _clause_start(text, header.start(), sentences())
                reason = _not_a_list(text, clause, end) or (
                    REGION if _REGION.search(text, clause, end) else None
                )
                peaks = [] if reason else peaks
            if reason is None and _reads_as_prose(text, nucleus, scan, end, sentences()):
                blocks, end = _read_prose(
                    text, sentences(), header.start(), grouping.previous_end, (nucleus,), False
                )
                for block in blocks:
                    grouping.add(block)
                pos = max(end, header.end())
                continue
        if not nucleus:
            if not any(p.count is not None for p in peaks):
                pos = header.end()
                continue
            nucleus = "1H"
        if peaks and text.startswith((",", " ,"), end):
            reason = _cut_short(text, end, sentences())
            peaks = [] if reason else peaks
        end = max(end, header.end())
        grouping.add(_Block(nucleus, peaks, scan.parts, header.start(), end, reason))
        pos = end
    return grouping.spectra
