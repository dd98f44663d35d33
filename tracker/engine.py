"""Run compiled rules over one normalised text: mask the numbers, match, resolve overlaps.

Count numbers found by ``tracker.numbers.scan`` are overwritten (same length, so offsets hold)
with NUMBER_MASK characters; a rule's ``{{number}}`` matches such a run and nothing else, so the
number grammar is written once and every rule sees the same numbers. Rules that need a number
run only on sentences that hold one, and only in spans that hold the words their pattern needs
(``RequiresIndex``, ``tracker.prefilter``). Every search is bounded by a timeout; a rule that
runs away is reported and the others go on.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import reduce
from operator import itemgetter, or_

import ahocorasick_rs
import regex

from tracker import prefilter
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


def needs_sentences(rule: CompiledRule) -> bool:
    """Rules without a number, or with a dual-noun branch ("رهينتين"), search whole sentences."""
    return not rule.number_groups or any(e.dual is not None for e in rule.emits)


@dataclass(slots=True)
class _Words:
    """The index's words found in one text: ``starts`` and word numbers in the collapsed text's
    offsets, by start; and the start words among them (where, and the rules they start)."""

    view: prefilter.CollapsedText
    starts: list[int]
    words: list[int]
    lead_starts: list[int]
    lead_rules: list[int]


class RequiresIndex:
    """What a rule needs before its regex is worth running, for every rule at once.

    Three necessary conditions, all read from one Aho-Corasick pass over the text: one of the
    rule's ``requires`` words, the formula of literals every match of its pattern contains, and,
    for rules whose every match starts with one of a few words, such a word: a search starts at
    the first of them (``tracker.prefilter``). A span that fails cannot hold a match, so it is
    not searched, and no match can start before that first word.
    """

    def __init__(self, rules: list[CompiledRule]) -> None:
        memo: prefilter.Memo = {}
        analysed = {r.full_id: _analyse(r, memo) for r in rules}
        atoms = sorted(set().union(*(prefilter.atoms(f) for f, _ in analysed.values())))
        n = len(rules)
        # one integer per word: the rules whose requires it meets (low bits), then its atom bit
        atom_bit = {a: 1 << (n + k) for k, a in enumerate(atoms)}
        firsts = {w for _, starts in analysed.values() for w in starts or ()}
        words = sorted({w for r in rules for w in r.requires} | set(atoms) | firsts)
        self._automaton = ahocorasick_rs.AhoCorasick(words) if words else None
        bits = {w: atom_bit.get(w, 0) for w in words}
        start_bits = {w: 0 for w in words}  # word -> rules whose every match starts with one of their words
        self.free = 0  # rules without requires: always searched
        for i, r in enumerate(rules):
            for w in r.requires:
                bits[w] |= 1 << i
            if not r.requires:
                self.free |= 1 << i
            for w in analysed[r.full_id][1] or ():
                start_bits[w] |= 1 << i
        self._bits = [bits[w] for w in words]
        self._start_bits = [start_bits[w] for w in words]
        self._rule_mask = (1 << n) - 1
        self._gates = [prefilter.compile_gate(prefilter.gate(analysed[r.full_id][0], atom_bit)) for r in rules]
        self._anchored = sum(1 << i for i, r in enumerate(rules) if analysed[r.full_id][1] is not None)
        self.rules = [(1 << i, r, needs_sentences(r)) for i, r in enumerate(rules)]
        self.whole_bits = sum(bit for bit, _, whole in self.rules if whole)
        self.order = {r.full_id: i for i, r in enumerate(rules)}  # rule order, for sorting matches
        self.whole = {r.full_id: whole for _, r, whole in self.rules}

    def anchored(self, full_id: str) -> bool:
        """Whether the rule's every match starts with one of a few words (its search starts there)."""
        return bool(self._anchored >> self.order[full_id] & 1)

    def find(self, masked: str) -> _Words:
        """The words of the index in ``masked``, as the conditions read it (``prefilter.collapsed``)."""
        view = prefilter.collapse_text(masked)
        if self._automaton is None:
            return _Words(view, [], [], [], [])
        found = sorted(self._automaton.find_matches_as_indexes(view.text, overlapping=True), key=itemgetter(1))
        start_bits = self._start_bits
        leads = [(a, start_bits[w]) for w, a, _ in found if start_bits[w]]
        return _Words(view, [a for _, a, _ in found], [w for w, _, _ in found],
                      [a for a, _ in leads], [bits for _, bits in leads])

    def spans(self, found: _Words, spans: list[tuple[int, int]], allowed: int) -> Iterator[tuple[int, tuple[int, int]]]:
        """(rule number, span to search) for every span and every rule of the bit set ``allowed``
        whose conditions hold in it; an anchored rule's span starts at its first start word.

        A word that starts in a span but runs past its end is counted as in it: that only lets
        more spans through, never fewer."""
        view, starts, words, gates, anchored = found.view, found.starts, found.words, self._gates, self._anchored
        bits, mask = self._bits, self._rule_mask
        for a, b in spans:
            ca, cb = view.index(a), view.index(b - 1) + 1
            lo, hi = bisect_left(starts, ca), bisect_left(starts, cb)
            present = reduce(or_, map(bits.__getitem__, words[lo:hi]), self.free)
            todo = present & mask & allowed
            while todo:  # each rule of the set, lowest bit first
                low = todo & -todo
                todo ^= low
                number = low.bit_length() - 1
                gate = gates[number]
                if gate is not None and not gate(present):  # the gates read the atom bits
                    continue
                if low & anchored:
                    first = _first_lead(found, low, ca, cb)
                    if first is not None:
                        yield number, (max(a, view.start_of(first)), b)
                else:
                    yield number, (a, b)


def _first_lead(found: _Words, rule_bit: int, start: int, end: int) -> int | None:
    """Where the first start word of the rule ``rule_bit`` begins in ``[start, end)`` (collapsed
    offsets), if any."""
    starts, rules = found.lead_starts, found.lead_rules
    for k in range(bisect_left(starts, start), len(starts)):
        if starts[k] >= end:
            return None
        if rules[k] & rule_bit:
            return starts[k]
    return None


def _analyse(rule: CompiledRule, memo: prefilter.Memo | None = None) -> tuple[prefilter.Formula, frozenset[str] | None]:
    """What every match of the rule contains and may start with; nothing if the analysis cannot
    read the pattern."""
    try:
        return prefilter.analyse(rule.compiled.pattern, rule.compiled.named_lists, memo, collapse=True)
    except prefilter.PatternSyntaxError:
        return None, None


def requires_index(ruleset: RuleSet) -> RequiresIndex:
    """The rule set's index, built once and kept with it."""
    index = ruleset.cache.get("requires")
    if index is None:
        index = ruleset.cache["requires"] = RequiresIndex(ruleset.rules)
    return index


def search_plan(ruleset: RuleSet, scanned: Scanned) -> list[tuple[CompiledRule, list[tuple[int, int]]]]:
    """Each rule with the spans it searches: windows around numbers (or whole sentences), kept
    only where the rule's conditions hold (``RequiresIndex``), from the first place a match can
    start; in rule order."""
    index = requires_index(ruleset)
    found = index.find(scanned.masked)
    chosen: dict[int, list[tuple[int, int]]] = {}
    everything = (1 << len(index.rules)) - 1
    for number, span in index.spans(found, number_windows(scanned), everything & ~index.whole_bits):
        chosen.setdefault(number, []).append(span)
    if index.whole_bits:
        for number, span in index.spans(found, scanned.sentences.spans, index.whole_bits):
            chosen.setdefault(number, []).append(span)
    return [(index.rules[number][1], chosen[number]) for number in sorted(chosen)]


def claimed_numbers(match: Match, numbers: dict[int, RawNumber]) -> list[int]:
    """Starts of the count numbers a match gives a claim to (as ``extract`` reads its emits)."""
    out = []
    for emit in match.rule.emits:
        if emit.dual is not None or (emit.when is not None and emit.when not in match.groups):
            continue
        span = match.groups.get(emit.value or "number")
        if span is not None and (n := numbers.get(span[0])) is not None and n.end == span[1]:
            out.append(span[0])
    return out


def find_matches(ruleset: RuleSet, scanned: Scanned, *, rule_ids: set[str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT, prune: bool = False) -> tuple[list[Match], list[RuleTimeout]]:
    """Every match of every rule (before overlap resolution), and the rules that timed out.

    With ``prune``, rules run from the highest priority down, and a rule skips a window once
    every number in it has a match of a rule of higher priority: one claim per number goes to
    the highest priority, so such a rule could not win any of them (rules with a dual noun,
    whose claim is not on a count number, always run). Then the matches that
    cannot win may be missing, but the claims are the same (``extract`` prunes; ``explain``
    shows every match)."""
    masked = scanned.masked
    index_of = requires_index(ruleset)
    plan = search_plan(ruleset, scanned)
    if prune:
        plan.sort(key=lambda entry: -entry[0].rule.priority)  # stable: rule order within a priority
        starts = sorted(scanned.numbers)
        best: dict[int, int] = {}  # number start -> highest priority of a match claiming it
    found: list[tuple[int, Match]] = []
    timeouts: list[tuple[int, RuleTimeout]] = []
    for rule, spans in plan:
        if rule_ids is not None and rule.full_id not in rule_ids:
            continue
        compiled = rule.compiled
        names = tuple(compiled.groupindex.items())  # a match's spans are read from m.regs by index
        priority = rule.rule.priority
        index = index_of.order[rule.full_id]
        prunable = prune and not index_of.whole[rule.full_id]  # a dual noun's claim is not a count number's
        for a, b in spans:
            if prunable:
                inside = starts[bisect_left(starts, a):bisect_left(starts, b)]
                if inside and all(best.get(n, priority) > priority for n in inside):
                    continue
            try:
                for m in compiled.finditer(masked, a, b, overlapped=False, timeout=timeout):
                    if m.end() == m.start() or not _starts_at_word(masked, m.start()):
                        continue
                    regs = m.regs
                    groups = {name: regs[i] for name, i in names if regs[i][0] >= 0}
                    match = Match(rule, m.start(), m.end(), groups)
                    found.append((index, match))
                    if prune:
                        for n in claimed_numbers(match, scanned.numbers):
                            best[n] = max(best.get(n, priority), priority)
            except TimeoutError:
                timeouts.append((index, RuleTimeout(rule.full_id, a, f"rule {rule.full_id} timed out after {timeout}s")))
    # back in rule order, each rule's matches in text order, as without pruning
    found.sort(key=lambda entry: entry[0])
    timeouts.sort(key=lambda entry: entry[0])
    return [m for _, m in found], [t for _, t in timeouts]
