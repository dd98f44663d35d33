"""The engine's own behaviour, on small rule sets written here: overlaps, breakdowns,
attribution, spans into the original text."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tracker.extract import extract
from tracker.ruleset import RuleSet, load_rules

COMMON = Path(__file__).resolve().parent.parent / "rules" / "common.yaml"

RULES = """\
schema: 1
namespace: t
vocab:
  t_captive: [رهينة, رهائن, محتجز, محتجزا, محتجزين, أسير, أسيرا]
  t_nat: [إسرائيليا, إسرائيليين, أمريكيين, أميركيين, شخصا]
rules:
  - id: generic
    version: 1
    status: stable
    metric: hostages_held
    description: any captive count
    pattern: '{{number}} \\s+ \\L<t_captive>'
    examples: &ex
      - {text: "5 رهائن", claims: [{value: 5}]}
      - {text: "6 رهائن", claims: [{value: 6}]}
      - {text: "لا شيء", claims: []}
  - id: released
    version: 1
    status: stable
    metric: hostages_released
    priority: 5
    description: a release with a breakdown
    pattern: 'سراح \\s+ {{number:total}} \\s+ \\L<t_captive> (?:\\s+ [-–] \\s+ {{number:a}} \\s+ (?P<na>\\L<t_nat>) \\s+ و {{number:b}} \\s+ (?P<nb>\\L<t_nat>))?'
    emit:
      - {value: total}
      - {value: a, parent: total, subgroup_from: na, subgroups: {إسرائيليا: Israelis}}
      - {value: b, parent: total, subgroup_from: nb, subgroups: {شخصا: other nationalities}}
    examples: *ex
  - id: of-them
    version: 1
    status: stable
    metric: hostages_held
    description: a breakdown of the previous total
    pattern: 'من \\s+ بينهم \\s+ {{number}} \\s+ (?P<who>مواطنين \\s+ \\L<t_nat>)'
    emit: {metric: $parent, parent: previous, subgroup: American citizens}
    examples: *ex
"""


@pytest.fixture(scope="module")
def rules(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    folder = tmp_path_factory.mktemp("rules")
    shutil.copy(COMMON, folder / "common.yaml")
    (folder / "t.yaml").write_text(textwrap.dedent(RULES), encoding="utf-8")
    return load_rules(folder)


def test_priority_wins_and_one_number_yields_one_claim(rules: RuleSet) -> None:
    text = "أطلقت حماس سراح 69 أسيرًا – 51 إسرائيليًا و18 شخصًا من دول أخرى."
    claims = extract(text, rules)
    assert [(c.rule_id, c.metric, c.value, c.subgroup) for c in claims] == [
        ("t.released", "hostages_released", 69, None),
        ("t.released", "hostages_released", 51, "Israelis"),
        ("t.released", "hostages_released", 18, "other nationalities"),
    ]
    total, a, b = claims
    assert a.parent_key == total.key and b.parent_key == total.key and total.parent_key is None
    assert text[total.span_start:total.span_end] == total.quote == "سراح 69 أسيرًا – 51 إسرائيليًا و18 شخصًا"
    assert text[a.number_start:a.number_end] == "51" and text[b.number_start:b.number_end] == "18"


def test_previous_parent_inherits_metric_and_attribution(rules: RuleSet) -> None:
    text = "وتشير التقديرات الإسرائيلية إلى أنه ما زال 101 محتجز لدى حماس في غزة، من بينهم سبعة مواطنين أميركيين."
    total, child = extract(text, rules)
    assert (total.metric, total.value, total.attributed_to) == ("hostages_held", 101, "التقديرات الإسرائيلية")
    assert (child.metric, child.value, child.subgroup) == ("hostages_held", 7, "American citizens")
    assert child.parent_key == total.key
    assert child.attributed_to == "التقديرات الإسرائيلية"
    assert text[child.number_start:child.number_end] == "سبعة"


def test_child_without_a_total_is_dropped(rules: RuleSet) -> None:
    assert extract("من بينهم سبعة مواطنين أميركيين", rules) == []


def test_spans_point_into_the_original_with_diacritics_and_controls(rules: RuleSet) -> None:
    text = "\u200fقالت\u200f الحركة إنَّ ٥٩ رهينةً ما زالوا في غزة"
    (claim,) = extract(text, rules)
    assert claim.value == 59
    assert claim.quote == "٥٩ رهينةً"
    assert text[claim.span_start:claim.span_end] == claim.quote
    assert claim.attributed_to == "الحركة"
    assert claim.sentence == text[1:]  # the leading RLM belongs to no character


def test_dates_and_durations_are_not_numbers_for_rules(rules: RuleSet) -> None:
    assert extract("في 9 نوفمبر رهائن، ولمدة يومين", rules) == []


def _claims_and_matches(text: str, rules: RuleSet, prune: bool) -> tuple[list[dict[str, object]], int]:
    from tracker.engine import find_matches, prepare
    from tracker.extract import _build, _candidates, _resolve
    from tracker.textnorm import normalize

    norm = normalize(text)
    scanned = prepare(norm.text)
    matches, _ = find_matches(rules, scanned, prune=prune)
    winners = _resolve(_candidates(rules, scanned, matches))
    return [c.model_dump() for c in _build(norm, scanned, winners)], len(matches)


def test_pruning_by_priority_keeps_every_claim() -> None:
    """Skipping rules that could not win a number must not change a single claim (seeds, the
    scenario articles and every rule example), and must skip something."""
    import json

    root = Path(__file__).resolve().parent.parent
    rules = load_rules()
    texts = [p.read_text(encoding="utf-8") for p in sorted((root / "fixtures" / "seeds").glob("*.txt"))]
    texts += [json.loads(line)["text"] for line in (root / "fixtures" / "scenarios" / "outlets.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += [ex.text for rule in rules.rules for ex in rule.examples]
    pruned_matches = full_matches = 0
    for text in texts:
        pruned, n_pruned = _claims_and_matches(text, rules, prune=True)
        full, n_full = _claims_and_matches(text, rules, prune=False)
        assert pruned == full, text
        pruned_matches += n_pruned
        full_matches += n_full
    assert len(texts) > 350
    assert pruned_matches < full_matches


def test_claim_matches_are_the_claims_matches() -> None:
    """The bench's floor runs, for each claim, its rule's pattern at its match's start: one job per
    claim, and the pattern matches there with the claim's span (no tashkeel: offsets are equal)."""
    from tracker.extract import claim_matches

    text = "أفرجت حماس عن 3 رهائن، وقالت إن 59 رهينة ما زالوا في غزة."
    claims = extract(text)
    jobs = claim_matches(text)
    assert [c.value for c in claims] == [3, 59]
    assert len(jobs) == 2
    for (pattern, masked, start, end), claim in zip(jobs, claims):
        m = pattern.match(masked, start, end)
        assert m is not None and (m.start(), m.end()) == (claim.span_start, claim.span_end)
        assert pattern.pattern == load_rules().get(claim.rule_id).compiled.pattern
