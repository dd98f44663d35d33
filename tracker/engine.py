"""Run compiled rules over one normalised text: mask the numbers, match, resolve overlaps.

Count numbers found by ``tracker.numbers.scan`` are overwritten (same length, so offsets hold)
with NUMBER_MASK characters; a rule's ``{{number}}`` matches such a run and nothing else, so the
number grammar is written once and every rule sees the same numbers. Rules that need a number
run only on sentences that hold one. Every search is bounded by a timeout; a rule that runs
away is reported and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from tracker.numbers import RawNumber, scan
from tracker.ruleset import NUMBER_MASK, CompiledRule, RuleSet
from tracker.sentences import Sentences

# Seconds per rule and window. Real rules take microseconds; the timeout is wall-clock, so it is
# generous enough that a loaded machine does not silently drop claims.
DEFAULT_TIMEOUT = 2.0
# A rule that needs a number only searches this far around one (within the sentence): news
# sentences run to hundreds of characters, and most of them are far from any figure.
WINDOW_BEFORE = 160
WINDOW_AFTER = 120
_PROCLITICS = frozenset(a + b for a in ("", "و", "ف") for b in ("", "ب", "ل", "ك", "ال", "لل", "بال"))


@dataclass(frozen=True, slots=True)
class Match:
    """One rule match in normalised text, with the spans of its named groups."""

    rule: CompiledRule
    start: int
    end: int
    groups: dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class RuleTimeout:
    """A rule whose search was stopped by the timeout."""

    rule_id: str
    sentence_start: int
    message: str


@dataclass
class Scanned:
    """A normalised text prepared for rules: its numbers, the masked copy and its sentences."""

    text: str
    numbers: dict[int, RawNumber]  # count numbers by start offset
    masked: str
    sentences: Sentences


def prepare(text: str) -> Scanned:
    """Find the numbers of normalised ``text`` and mask the counts among them."""
    found = scan(text)
    numbers = {n.start: n for n in found if n.kind == "count"}
    safe = text.replace(NUMBER_MASK, "\ufffd") if NUMBER_MASK in text else text
    pieces = []
    pos = 0
    for n in sorted(numbers.values()):
        pieces.append(safe[pos:n.start])
        pieces.append(NUMBER_MASK * (n.end - n.start))
        pos = n.end
    pieces.append(safe[pos:])
    return Scanned(text, numbers, "".join(pieces), Sentences(text))


def _starts_at_word(text: str, start: int) -> bool:
    """A match must begin a word, or follow only a proclitic inside it (Duckling's rule)."""
    j = start
    while j > 0 and (text[j - 1].isalpha()) and start - j <= 4:
        j -= 1
    if j > 0 and text[j - 1].isalpha():
        return False
    return text[j:start] in _PROCLITICS


def number_windows(scanned: Scanned) -> list[tuple[int, int]]:
    """Merged spans around each count number, clipped to its sentence."""
    windows: list[tuple[int, int]] = []
    for n in sorted(scanned.numbers.values()):
        sa, sb = scanned.sentences.at(n.start)
        a, b = max(sa, n.start - WINDOW_BEFORE), min(sb, n.end + WINDOW_AFTER)
        if windows and a <= windows[-1][1] and sa <= windows[-1][0]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], b))
        else:
            windows.append((a, b))
    return windows


def search_spans(rule: CompiledRule, windows: list[tuple[int, int, str]],
                 sentences: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """The spans a rule searches, with their text: windows around numbers, or every sentence for
    rules without a number or with a dual-noun branch ("رهينتين")."""
    needs_all = not rule.number_groups or any(e.dual is not None for e in rule.emits)
    spans = sentences if needs_all else windows
    if not rule.requires:
        return spans
    return [s for s in spans if any(w in s[2] for w in rule.requires)]


def with_text(masked: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, str]]:
    """Spans with their text, sliced once for every rule (not once per rule)."""
    return [(a, b, masked[a:b]) for a, b in spans]


def find_matches(ruleset: RuleSet, scanned: Scanned, *, rule_ids: set[str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> tuple[list[Match], list[RuleTimeout]]:
    """Every match of every rule (before overlap resolution), and the rules that timed out."""
    masked = scanned.masked
    windows = with_text(masked, number_windows(scanned))
    sentences = with_text(masked, scanned.sentences.spans)
    matches: list[Match] = []
    timeouts: list[RuleTimeout] = []
    for rule in ruleset.rules:
        if rule_ids is not None and rule.full_id not in rule_ids:
            continue
        for a, b, _ in search_spans(rule, windows, sentences):
            try:
                for m in rule.compiled.finditer(masked, a, b, overlapped=False, timeout=timeout):
                    if m.end() == m.start() or not _starts_at_word(masked, m.start()):
                        continue
                    groups = {name: m.span(name) for name in rule.compiled.groupindex if m.start(name) >= 0}
                    matches.append(Match(rule, m.start(), m.end(), groups))
            except TimeoutError:
                timeouts.append(RuleTimeout(rule.full_id, a, f"rule {rule.full_id} timed out after {timeout}s"))
    return matches, timeouts
