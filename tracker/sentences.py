"""Sentence boundaries in normalised text, so each claim keeps the sentence it was stated in."""

from __future__ import annotations

from bisect import bisect_right

import regex

# A full stop between digits is a decimal point, not a boundary ("1.5 مليون").
_BOUNDARY_RE = regex.compile(r"(?:[!?؟…]|(?<!\d)\.|\.(?!\d)|\n)+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Half-open spans of the sentences of ``text``, trimmed of surrounding whitespace."""
    spans = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        spans.append((start, m.end()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    trimmed = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            trimmed.append((a, b))
    return trimmed


class Sentences:
    """Look up the sentence holding a position."""

    def __init__(self, text: str) -> None:
        self.spans = sentence_spans(text)
        self._starts = [a for a, _ in self.spans]

    def index_at(self, pos: int) -> int:
        return max(0, bisect_right(self._starts, pos) - 1)

    def at(self, pos: int) -> tuple[int, int]:
        """The span of the sentence that holds ``pos`` (the nearest one before it otherwise)."""
        if not self.spans:
            return (0, 0)
        return self.spans[self.index_at(pos)]
