"""The five seed articles: every gold claim found with its metric, value and qualifier; nothing
else; nothing on the phrases that are not claims; every span exact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tracker.extract import extract
from tracker.ruleset import load_rules

SEEDS = Path(__file__).resolve().parent.parent / "fixtures" / "seeds"
RULES = load_rules()
ARTICLES = {r["id"]: r for r in map(json.loads, (SEEDS / "articles.jsonl").read_text(encoding="utf-8").splitlines())}
GOLD = [json.loads(line) for line in (SEEDS / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
NEGATIVES = [json.loads(line) for line in (SEEDS / "negatives.jsonl").read_text(encoding="utf-8").splitlines()]
CLAIMS = {aid: extract(a["text"], RULES) for aid, a in ARTICLES.items()}


def _gold_id(g: dict) -> str:
    return f"{g['article_id'][:3]}-{g['metric']}-{g['value']}"


@pytest.mark.parametrize("gold", [g for g in GOLD if not g["optional"]], ids=_gold_id)
def test_gold_claim_found(gold: dict) -> None:
    got = [(c.metric, c.value, c.qualifier) for c in CLAIMS[gold["article_id"]]]
    assert (gold["metric"], gold["value"], gold["qualifier"]) in got


@pytest.mark.parametrize("article_id", sorted(ARTICLES))
def test_no_extra_claims(article_id: str) -> None:
    allowed = {(g["metric"], g["value"]) for g in GOLD if g["article_id"] == article_id}
    extra = [(c.metric, c.value, c.quote) for c in CLAIMS[article_id] if (c.metric, c.value) not in allowed]
    assert extra == []


@pytest.mark.parametrize("article_id", sorted(ARTICLES))
def test_spans_slice_their_quotes(article_id: str) -> None:
    text = ARTICLES[article_id]["text"]
    for c in CLAIMS[article_id]:
        assert text[c.span_start:c.span_end] == c.quote
        assert c.span_start <= c.number_start < c.number_end <= c.span_end
        assert c.sentence and c.quote in c.sentence


@pytest.mark.parametrize("negative", NEGATIVES, ids=lambda n: n["quote"][:30])
def test_negative_phrase_yields_nothing(negative: dict) -> None:
    text = ARTICLES[negative["article_id"]]["text"]
    start = text.index(negative["quote"])
    end = start + len(negative["quote"])
    overlapping = [c.quote for c in CLAIMS[negative["article_id"]] if c.number_start < end and c.number_end > start]
    assert overlapping == []
    assert extract(negative["quote"], RULES) == []
