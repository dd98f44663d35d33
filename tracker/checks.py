"""Rule examples as regression cases: one case per example, run through the full pipeline.

``tracker rules test`` and pytest both iterate ``iter_examples`` and call ``run_example``, so the
command line and the test suite can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tracker.extract import extract_text
from tracker.models import Claim
from tracker.ruleschema import Example, ExpectedClaim
from tracker.ruleset import CompiledRule, RuleSet


@dataclass(frozen=True)
class ExampleCase:
    """One example of one rule; ``id`` reads like ``hostages.still-held[2]``."""

    rule: CompiledRule
    index: int
    example: Example

    @property
    def id(self) -> str:
        return f"{self.rule.full_id}[{self.index}]"


@dataclass(frozen=True)
class ExampleResult:
    """Whether an example passed, and a readable diff when it did not."""

    case: ExampleCase
    passed: bool
    problems: list[str]
    got: list[Claim]


def iter_examples(ruleset: RuleSet) -> Iterator[ExampleCase]:
    """Every example of every active rule, in file order."""
    for rule in ruleset.rules:
        for i, example in enumerate(rule.examples):
            yield ExampleCase(rule, i, example)


def _show(c: Claim) -> str:
    bound = "" if c.qualifier == "exact" else f" {c.qualifier}[{c.value_low}, {c.value_high}]"
    extra = "".join(f" {k}={v!r}" for k, v in (("subgroup", c.subgroup), ("by", c.attributed_to)) if v)
    return f"{c.metric}={c.value}{bound}{extra} «{c.quote}»"


def _compare(expected: ExpectedClaim, got: Claim, default_metric: str, by_key: dict[str, Claim]) -> list[str]:
    problems = []
    if got.value != expected.value:
        problems.append(f"value {got.value} != expected {expected.value:g}")
    want_metric = expected.metric or default_metric
    if got.metric != want_metric:
        problems.append(f"metric {got.metric} != expected {want_metric}")
    checks = (("qualifier", got.qualifier, expected.qualifier), ("high", got.value_high, expected.high),
              ("subgroup", got.subgroup, expected.subgroup), ("planned", got.planned, expected.planned),
              ("attributed_to", got.attributed_to, expected.attributed_to))
    for name, have, want in checks:
        if want is not None and have != want:
            problems.append(f"{name} {have!r} != expected {want!r}")
    if expected.parent is not None:
        parent = by_key.get(got.parent_key or "")
        if parent is None or parent.value != expected.parent:
            problems.append(f"parent {parent.value if parent else None} != expected {expected.parent:g}")
    return problems


def run_example(case: ExampleCase, ruleset: RuleSet) -> ExampleResult:
    """Run one example through the whole pipeline; keep the claims of the example's rule."""
    all_claims = extract_text(case.example.text, ruleset).claims
    by_key = {c.key: c for c in all_claims}
    got = [c for c in all_claims if c.rule_id == case.rule.full_id]
    expected = case.example.claims
    problems: list[str] = []
    if len(got) != len(expected):
        problems.append(f"expected {len(expected)} claim(s), got {len(got)}")
    for i, (want, have) in enumerate(zip(expected, got)):
        problems.extend(f"claim {i}: {p}" for p in _compare(want, have, case.rule.metric, by_key))
    if case.example.match is not None and len(got) >= 1 and got[0].quote != case.example.match:
        problems.append(f"matched span «{got[0].quote}» != expected «{case.example.match}»")
    if problems:
        problems.append("got: " + ("; ".join(_show(c) for c in got) or "nothing"))
        others = [c for c in all_claims if c.rule_id != case.rule.full_id]
        if others:
            problems.append("other rules: " + "; ".join(f"{c.rule_id}: {_show(c)}" for c in others))
    return ExampleResult(case, not problems, problems, got)
