"""Time each rule over a corpus, so authors can find the rules that make extraction slow."""

from __future__ import annotations

import time
from dataclasses import dataclass

from tracker.engine import Scanned, prepare, search_plan
from tracker.ruleset import RuleSet
from tracker.textnorm import normalize


@dataclass(frozen=True)
class RuleTiming:
    """Seconds a rule spent over the corpus, per KB of text searched, and its match count."""

    rule_id: str
    seconds: float
    us_per_kb: float
    matches: int


def profile_rules(texts: list[str], ruleset: RuleSet, timeout: float = 2.0) -> list[RuleTiming]:
    """Per-rule search time over ``texts`` (slowest first), searching what the engine searches."""
    scanned: list[Scanned] = [prepare(normalize(t).text) for t in texts]
    kb = max(sum(len(t.encode("utf-8")) for t in texts) / 1000, 1e-9)
    plans = [{rule.full_id: spans for rule, spans in search_plan(ruleset, sc)} for sc in scanned]
    out = []
    for rule in ruleset.rules:
        n = 0
        start = time.perf_counter()
        for sc, plan in zip(scanned, plans):
            for a, b in plan.get(rule.full_id, ()):
                try:
                    n += sum(1 for _ in rule.compiled.finditer(sc.masked, a, b, timeout=timeout))
                except TimeoutError:
                    pass
        seconds = time.perf_counter() - start
        out.append(RuleTiming(rule.full_id, seconds, seconds * 1e6 / kb, n))
    return sorted(out, key=lambda r: -r.seconds)
