"""Raw article text -> a normalised copy for matching, with an offset map back to the original.

Normalisation is *character-local*: every original character becomes zero, one or several
normalised characters, independently of its neighbours. That keeps the offset map exact and
cheap: one-to-one substitutions (alef forms, digits, separators, odd spaces) never move an
offset, so they are done with fast chained ``str.replace``; only deletions (diacritics, tatweel,
bidi and zero-width controls) and expansions (NFKC of presentation forms) are walked in Python,
and only where they occur.

Spans are half-open. A normalised span ``[a, b)`` maps to the original span that starts at the
first original character of ``a`` and ends after the last original character of ``b - 1``
*plus* the diacritics written on it, so a match that ends on ``أسيرً`` keeps its tanween.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache

import re

import regex

# Characters removed outright. Marks (tashkeel, Quranic marks, tatweel) belong to the letter they
# follow, so a span ending on that letter extends over them; controls belong to nothing.
_MARKS = (
    "\u0610-\u061a"  # Quranic honorifics and small high letters
    "\u064b-\u065f"  # tashkeel: fathatan..wavy hamza below (tanween, shadda, sukun ...)
    "\u0670"  # superscript (dagger) alef
    "\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"  # Quranic annotation marks
    "\u08d3-\u08e1\u08e3-\u08ff"  # extended Arabic marks
    "\u0640"  # tatweel
)
_CONTROLS = (
    "\u00ad"  # soft hyphen
    "\u061c"  # Arabic letter mark
    "\u180e"  # Mongolian vowel separator (still seen as a zero-width space)
    "\u200b-\u200f"  # ZWSP, ZWNJ, ZWJ, LRM, RLM
    "\u202a-\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2060-\u2064\u2066-\u206f"  # word joiner, invisible operators, isolates, deprecated formats
    "\ufeff"  # BOM / ZWNBSP
    "\ufe00-\ufe0f"  # variation selectors
)
MARK_RE = regex.compile(f"[{_MARKS}]")

# One-to-one substitutions: the offset map is untouched by these.
_ONE_TO_ONE: dict[str, str] = {
    "\u0622": "\u0627",  # آ -> ا
    "\u0623": "\u0627",  # أ -> ا
    "\u0625": "\u0627",  # إ -> ا
    "\u0671": "\u0627",  # ٱ -> ا
    "\u0672": "\u0627",  # ٲ -> ا
    "\u0673": "\u0627",  # ٳ -> ا
    "\u0649": "\u064a",  # ى -> ي
    "\u06cc": "\u064a",  # Persian yeh -> ي
    "\u06a9": "\u0643",  # keheh -> ك
    "\u066b": ".",  # Arabic decimal separator
    "\u066c": ",",  # Arabic thousands separator
    "\u060c": ",",  # Arabic comma
    "\u061b": ";",  # Arabic semicolon
    "\u066a": "%",  # Arabic percent sign
}
for _i in range(10):
    _ONE_TO_ONE[chr(0x0660 + _i)] = str(_i)  # Arabic-Indic digits
    _ONE_TO_ONE[chr(0x06F0 + _i)] = str(_i)  # Persian digits
for _sp in "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000":
    _ONE_TO_ONE[_sp] = " "

_ONE_TO_ONE_CLASS = "".join(sorted(_ONE_TO_ONE))


# Everything that deletes or expands: marks, controls, and characters NFKC rewrites
# (presentation forms, ligatures, full-width forms ...). Scanning Arabic text for a class of many
# ranges runs at ~10-40 MB/s; single-range classes run at 300-1500 MB/s. So the scan uses a few
# single ranges that between them hold every irregular character, and filters their rare hits.
_FAST_SCANS = tuple(
    regex.compile(p)
    for p in (
        "[\u064b-\u065f]",  # tashkeel: the common case, always irregular
        "[\u00a0-\u060b]",  # Latin-1 and other scripts, Arabic signs: filtered
        "[\u0610-\u061c]",  # Quranic marks, Arabic letter mark
        "[\u0640]",  # tatweel
        "[\u0670-\u0678]",  # dagger alef, high-hamza letters
        "[\u06d6-\U0010ffff]",  # Quranic marks, controls, presentation forms ...: filtered
    )
)


_CONTROL_RE = regex.compile(f"[{_CONTROLS}]")


@lru_cache(maxsize=8192)
def normalize_char(ch: str) -> str:
    """The normalised form of one character (possibly empty, possibly several characters)."""
    if MARK_RE.match(ch) or _CONTROL_RE.match(ch):
        return ""
    if ch in _ONE_TO_ONE:
        return _ONE_TO_ONE[ch]
    folded = unicodedata.normalize("NFKC", ch)
    if folded == ch:
        return ch
    # NFKC output may itself hold marks or alef forms (e.g. ligatures with shadda).
    return "".join(normalize_char(c) if c != ch else c for c in folded)


def _replace_one_to_one(text: str) -> str:
    # A membership test per character and str.replace on the ones present run at memory speed;
    # str.translate is ~30x slower on Arabic text.
    for ch, repl in _ONE_TO_ONE.items():
        if ch in text:
            text = text.replace(ch, repl)
    return text


def _irregular_positions(text: str) -> list[int]:
    """Sorted offsets of the characters that normalisation deletes or rewrites."""
    hits: list[int] = []
    for scan in _FAST_SCANS:
        hits.extend(m.start() for m in scan.finditer(text))
    if not hits:
        return hits
    hits.sort()
    return [p for p in hits if normalize_char(text[p]) != text[p]]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """A normalised copy of ``original`` and the map between their offsets.

    The map is a list of *edits*, one per original character that was deleted or rewritten:
    edit ``k`` turned ``original[_orig[k]]`` into ``_width[k]`` characters at ``text[_norm[k]:]``.
    Between edits, characters correspond one to one.
    """

    text: str
    original: str
    _norm: tuple[int, ...]
    _orig: tuple[int, ...]
    _width: tuple[int, ...]

    @property
    def is_identity(self) -> bool:
        """True when offsets are the same in both texts (only one-to-one substitutions)."""
        return not self._norm

    def _locate(self, i: int) -> tuple[int, bool]:
        """(original offset of normalised character ``i``, whether it comes from an expansion)."""
        k = bisect_right(self._norm, i) - 1
        # skip back over deletions recorded at this same position: they precede character i
        if k < 0:
            return i, False
        n, o, w = self._norm[k], self._orig[k], self._width[k]
        if i < n + w:
            return o, w > 1
        return o + 1 + (i - n - w), False

    def _orig_start(self, i: int) -> int:
        """Original offset of the first character behind normalised character ``i``."""
        if self.is_identity:
            return i
        if i >= len(self.text):
            return len(self.original)
        return self._locate(i)[0]

    def _orig_end(self, i: int) -> int:
        """Original offset just after normalised character ``i`` and the marks written on it."""
        if self.is_identity:
            return i + 1
        end = self._locate(i)[0] + 1
        original = self.original
        while end < len(original) and MARK_RE.match(original, end):
            end += 1
        return end

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open normalised span ``[start, end)`` to the original text."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside normalised text of length {len(self.text)}")
        if start == end:
            pos = self._orig_start(start)
            return pos, pos
        return self._orig_start(start), self._orig_end(end - 1)

    def original_slice(self, start: int, end: int) -> str:
        """The original characters behind the normalised span ``[start, end)``."""
        a, b = self.to_original(start, end)
        return self.original[a:b]


def normalize(raw: str) -> NormalizedText:
    """Normalise ``raw`` for matching and keep the map back to its offsets."""
    text = _replace_one_to_one(raw)
    positions = _irregular_positions(text)
    if not positions:
        return NormalizedText(text, raw, (), (), ())
    pieces: list[str] = []
    norm: list[int] = []
    widths: list[int] = []
    pos = 0  # original offset not yet copied
    out = 0  # normalised length so far
    for i in positions:
        pieces.append(text[pos:i])
        out += i - pos
        rep = normalize_char(text[i])
        pieces.append(rep)
        norm.append(out)
        widths.append(len(rep))
        out += len(rep)
        pos = i + 1
    pieces.append(text[pos:])
    return NormalizedText("".join(pieces), raw, tuple(norm), tuple(positions), tuple(widths))


def normalize_literal(s: str) -> str:
    """Normalise a word or phrase from a rule file the same way article text is normalised."""
    return normalize(s).text
