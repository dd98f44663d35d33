"""Why a sentence did or did not yield claims: matches per rule, kept or overruled, and near misses."""

from __future__ import annotations

from tracker.engine import find_matches, prepare
from tracker.extract import extract_text
from tracker.numbers import scan
from tracker.ruleset import RuleSet
from tracker.textnorm import normalize


def explain(text: str, ruleset: RuleSet) -> list[str]:
    """Readable lines: the numbers found, each rule match (kept or not), and rules whose words
    appear in the text but which did not match."""
    norm = normalize(text)
    lines = ["numbers:"]
    for n in scan(norm.text):
        q = n.quantity
        lines.append(f"  «{norm.original_slice(n.start, n.end)}» {n.kind} {q.value} {q.qualifier} [{q.low}, {q.high}]")
    scanned = prepare(norm.text)
    matches, timeouts = find_matches(ruleset, scanned)
    kept = {(c.rule_id, c.span_start) for c in extract_text(text, ruleset).claims}
    lines.append("matches:")
    matched_rules = set()
    for m in matches:
        a, b = norm.to_original(m.start, m.end)
        status = "kept" if (m.rule.full_id, a) in kept else "overruled (another rule won this number, or no number group)"
        lines.append(f"  {m.rule.full_id}@{m.rule.version} [{a}:{b}] «{text[a:b]}» -> {status}")
        matched_rules.add(m.rule.full_id)
    if not matches:
        lines.append("  (none)")
    for t in timeouts:
        lines.append(f"  TIMEOUT {t.message}")
    lines.append("words present, no match:")
    near = []
    for rule in ruleset.rules:
        if rule.full_id in matched_rules:
            continue
        words = sorted({w for w in rule.keywords if w in norm.text})
        if words:
            near.append(f"  {rule.full_id}: {', '.join(words[:6])} — pattern: {rule.rule.description}")
    lines.extend(near or ["  (none)"])
    return lines
