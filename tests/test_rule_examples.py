"""Every example in every rule file is a test (ids like `hostages.still-held[2]`)."""

from __future__ import annotations

import pytest

from tracker.checks import iter_examples, run_example
from tracker.ruleset import load_rules

RULES = load_rules()
CASES = [
    pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=case.example.todo)] if case.example.todo else [])
    for case in iter_examples(RULES)
]


@pytest.mark.parametrize("case", CASES)
def test_rule_example(case) -> None:
    result = run_example(case, RULES)
    assert result.passed, "\n".join([case.example.text, *result.problems])


def test_every_rule_has_positive_and_negative_examples() -> None:
    for rule in RULES.rules:
        positive = [e for e in rule.examples if e.claims and not e.todo]
        negative = [e for e in rule.examples if not e.claims and not e.todo]
        assert len(positive) >= 2 and len(negative) >= 1, rule.full_id
