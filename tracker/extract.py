"""Article text -> claims: normalise, match rules, resolve overlaps, link breakdowns, attribute.

Public API: ``extract(text, rules=None)`` and ``extract_article(article, rules=None)``; both
return ``Claim``s whose offsets index the ORIGINAL text. ``extract_text`` and
``extract_article_reporting`` also report rules that timed out, so callers can name them.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

import regex

from tracker import attribution
from tracker.engine import DEFAULT_TIMEOUT, Match, RuleTimeout, Scanned, find_matches, prepare, requires_index, search_plan
from tracker.models import Article, Claim, Kind
from tracker.quantity import QUALIFIERS, Quantity
from tracker.ruleschema import Emit
from tracker.ruleset import RuleSet, load_rules
from tracker.textnorm import NormalizedText, normalize, normalize_literal

_PARENT_REACH = 400  # characters: how far back "من بينهم" may look for its total


@lru_cache(maxsize=1)
def _default_rules() -> RuleSet:
    return load_rules()


@dataclass
class Extraction:
    """The claims of one text and the rules that timed out on it."""

    claims: list[Claim]
    timeouts: list[RuleTimeout] = field(default_factory=list)


@dataclass
class _Candidate:
    match: Match
    emit: Emit
    order: int  # rule order in the rule set: the last tie-breaker
    num_start: int
    num_end: int
    quantity: Quantity
    metric: str
    kind: Kind

    def rank(self) -> tuple[int, int, int]:
        rule = self.match.rule.rule
        return (-rule.priority, -(self.match.end - self.match.start), self.order)


def _subgroup(emit: Emit, match: Match, text: str) -> str | None:
    if emit.subgroup_from is None or emit.subgroup_from not in match.groups:
        return emit.subgroup
    a, b = match.groups[emit.subgroup_from]
    said = text[a:b].strip()
    table = _subgroup_table(tuple(emit.subgroups.items()))
    if said in table:
        return table[said]
    for key, label in table.items():
        if said.startswith(key) or said.endswith(key):
            return label
    return emit.subgroup or said


@lru_cache(maxsize=512)
def _subgroup_table(items: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """A rule's subgroup words, normalised, longest first (so the longest word wins)."""
    table = {normalize_literal(k): v for k, v in items}
    return dict(sorted(table.items(), key=lambda kv: -len(kv[0])))


def _candidates(ruleset: RuleSet, scanned: Scanned, matches: list[Match]) -> list[_Candidate]:
    order = requires_index(ruleset).order  # rule order, kept with the rule set
    out = []
    for m in matches:
        rule = m.rule
        for emit in rule.emits:
            if emit.when is not None and emit.when not in m.groups:
                continue
            if emit.dual is not None:
                if emit.dual not in m.groups:
                    continue
                start, end = m.groups[emit.dual]
                quantity = Quantity.of(2)
            else:
                group = emit.value or "number"
                if group not in m.groups:
                    continue
                start, end = m.groups[group]
                number = scanned.numbers.get(start)
                if number is None or number.end != end:
                    continue
                quantity = number.quantity
            for qualifier, group in emit.qualifier.items():
                if group in m.groups and quantity.qualifier == "exact" and qualifier in QUALIFIERS[:6]:
                    quantity = Quantity.of(quantity.value, qualifier)
            metric = emit.metric or rule.metric
            kind = emit.kind or rule.kind
            if emit.kind is None and metric != rule.metric and metric in ruleset.metrics:
                kinds = ruleset.metrics[metric].kinds  # another metric: its own kind if it has one
                kind = kinds[0] if len(kinds) == 1 else (rule.kind if rule.kind in kinds else kinds[0])
            out.append(_Candidate(m, emit, order[rule.full_id], start, end, quantity, metric, kind))
    return out


def _resolve(cands: list[_Candidate]) -> list[_Candidate]:
    """One claim per number: the best rule by priority, then the longest match."""
    best: dict[int, _Candidate] = {}
    for c in cands:
        cur = best.get(c.num_start)
        if cur is None or c.rank() < cur.rank():
            best[c.num_start] = c
    return sorted(best.values(), key=lambda c: c.num_start)


def _build(norm: NormalizedText, scanned: Scanned, winners: list[_Candidate]) -> list[Claim]:
    text = norm.text
    claims: list[Claim] = []
    starts: list[int] = []  # normalised number start of each claim, in order
    by_number: dict[int, Claim] = {}
    sources: dict[int, list[tuple[int, int]]] = {}  # sentence start -> its sources
    for c in winners:
        m, emit, rule = c.match, c.emit, c.match.rule
        sent_a, sent_b = scanned.sentences.at(c.num_start)
        parent: Claim | None = None
        if emit.parent == "previous":
            # the nearest earlier total, in this sentence or the one before, within reach
            idx = scanned.sentences.index_at(c.num_start)
            lower = max(scanned.sentences.spans[max(0, idx - 1)][0], c.num_start - _PARENT_REACH)
            for earlier, start in zip(reversed(claims), reversed(starts)):
                if start < lower:
                    break
                if earlier.parent_key is None:
                    parent = earlier
                    break
        elif emit.parent is not None and emit.parent in m.groups:
            parent = by_number.get(m.groups[emit.parent][0])
        metric, kind = c.metric, c.kind
        if metric == "$parent":
            if parent is None:
                continue
            metric, kind = parent.metric, parent.kind
        who: str | None = None
        if emit.attributed_to is not None and emit.attributed_to in m.groups:
            who = norm.original_slice(*m.groups[emit.attributed_to]).strip()
        else:
            if sent_a not in sources:
                sources[sent_a] = attribution.sources(text, sent_a, sent_b)
            found = attribution.pick(sources[sent_a], c.num_start)
            if found is not None:
                who = norm.original_slice(*found)
        if who is None and parent is not None:
            who = parent.attributed_to
        planned = emit.planned if isinstance(emit.planned, bool) else emit.planned in m.groups
        q = c.quantity
        span_a, span_b = norm.to_original(m.start, m.end)
        num_a, num_b = norm.to_original(c.num_start, c.num_end)
        sa, sb = norm.to_original(sent_a, sent_b)
        claim = Claim(
            metric=metric, kind=kind, value=q.value, value_low=q.low, value_high=q.high, qualifier=q.qualifier,
            subgroup=_subgroup(emit, m, text), planned=planned, attributed_to=who,
            sentence=norm.original[sa:sb], span_start=span_a, span_end=span_b, quote=norm.original[span_a:span_b],
            number_start=num_a, number_end=num_b, rule_id=rule.full_id, rule_version=rule.version,
            key=f"{rule.full_id}@{num_a}", parent_key=parent.key if parent is not None else None,
        )
        claims.append(claim)
        starts.append(c.num_start)
        by_number[c.num_start] = claim
    return claims


def extract_text(text: str, rules: RuleSet | None = None, *, rule_ids: set[str] | None = None,
                 timeout: float = DEFAULT_TIMEOUT) -> Extraction:
    """Claims of ``text`` and the rules that timed out (named, so a caller can report them)."""
    ruleset = rules if rules is not None else _default_rules()
    norm = normalize(text)
    scanned = prepare(norm.text)
    winners, timeouts = _winners(ruleset, scanned, rule_ids, timeout)
    return Extraction(_build(norm, scanned, winners), timeouts)


def _winners(ruleset: RuleSet, scanned: Scanned, rule_ids: set[str] | None = None,
             timeout: float = DEFAULT_TIMEOUT) -> tuple[list[_Candidate], list[RuleTimeout]]:
    """The match that wins each number (pruned search, then overlap resolution), and the rules
    that timed out."""
    matches, timeouts = find_matches(ruleset, scanned, rule_ids=rule_ids, timeout=timeout, prune=True)
    return _resolve(_candidates(ruleset, scanned, matches)), timeouts


def claim_matches(text: str, rules: RuleSet | None = None) -> list[tuple[regex.Pattern[str], str, int, int]]:
    """The match behind each claim of ``text``: (its rule's compiled pattern, the masked text it
    ran on, where the match starts, the end of the span that was searched). Running each
    pattern once there is the least work these rules' regexes can do to produce the claims
    (``tracker bench`` times it as a floor under full extraction)."""
    ruleset = rules if rules is not None else _default_rules()
    scanned = prepare(normalize(text).text)
    winners, _ = _winners(ruleset, scanned)
    spans = {rule.full_id: sorted(found) for rule, found in search_plan(ruleset, scanned)}
    out = []
    for c in winners:
        m = c.match
        searched = spans[m.rule.full_id]
        a, b = searched[bisect_right(searched, (m.start, len(scanned.masked) + 1)) - 1]
        out.append((m.rule.compiled, scanned.masked, m.start, b))
    return out


def extract(text: str, rules: RuleSet | None = None) -> list[Claim]:
    """Every claim in ``text`` (rules default to the project's ``rules/``)."""
    return extract_text(text, rules).claims


def extract_article(article: Article, rules: RuleSet | None = None) -> list[Claim]:
    """Every claim in an article's text (the title is part of the text only if the input put it there)."""
    return extract_text(article.text, rules).claims


def extract_article_reporting(article: Article, rules: RuleSet | None = None) -> Extraction:
    """An article's claims and the rules that timed out on it (what ``tracker ingest`` stores and reports)."""
    return extract_text(article.text, rules)
