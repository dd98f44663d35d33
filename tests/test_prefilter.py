"""The prefilter: the literals every match of a pattern contains, and the searches it skips.

It may only skip searches that could find nothing, so the tests check it three ways: the formula
of each construct, soundness on random patterns and texts (every match satisfies its pattern's
formula), and soundness on the project's rules over the fixtures, with the claims unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from tracker import engine, prefilter
from tracker.prefilter import Formula, required
from tracker.ruleset import FLAGS, load_rules
from tracker.textnorm import normalize

ROOT = Path(__file__).resolve().parent.parent


def satisfied(formula: Formula, text: str) -> bool:
    """Whether ``text`` contains what ``formula`` asks (the reference for the gates and ``prefilter.holds``)."""
    if formula is None:
        return True
    if isinstance(formula, frozenset):
        return any(atom in text for atom in formula)
    if formula[0] == "and":
        return all(satisfied(part, text) for part in formula[1])
    return any(satisfied(part, text) for part in formula[1])


def test_a_literal_and_its_spellings() -> None:
    assert required("رهين[ةه]", {}) == frozenset({"رهينة", "رهينه"})
    # "الرهائن" holds "رهائن": text with the one has the other, so the condition keeps the shorter
    assert required("(?:ال)?رهائن", {}) == frozenset({"رهائن"})
    assert required("(?:ال)?(?:اسري|رهائن)", {}) == frozenset({"اسري", "رهائن"})
    assert required("(?:رهينة|الرهائن)", {}) == frozenset({"رهينة", "الرهائن"})  # neither holds the other
    assert required("اسري \\s+ اسرائيليين", {}) == ("and", (frozenset({"اسري"}), frozenset({"اسرائيليين"})))


def test_verbose_spaces_join_a_literal() -> None:
    assert required("رها ئن", {}) == frozenset({"رهائن"})


def test_short_strings_make_no_condition() -> None:
    # "عن" is everywhere: asking for it would cost and skip nothing
    assert required("(?:الافراج|اطلاق)\\s+عن", {}) == frozenset({"الافراج", "اطلاق"})
    assert required("من|عن", {}) is None


def test_lookarounds_consume_nothing_so_ask_nothing() -> None:
    assert required("(?<=سجون\\s)\\uE000+\\s+اسري(?!\\s+فلسطينيين)", {}) == frozenset({"اسري"})
    assert required("(?<!الاحتلال)\\uE000+", {}) is None


def test_optional_and_repeated_pieces() -> None:
    assert required("(?:اسري){0,2}\\d", {}) is None
    assert required("(?:اسري)*", {}) is None
    assert required("(?:اسري)+", {}) == frozenset({"اسري"})
    assert required("(?:اسري){2,5}?", {}) == frozenset({"اسري"})
    assert required("اسري{1}", {}) == frozenset({"اسري"})


def test_named_lists_and_alternations() -> None:
    words = {"still": ["لا يزال", "ما زال"]}
    assert required("\\L<still>\\s+محتجزين", words) == ("and", (frozenset({"لا يزال", "ما زال"}), frozenset({"محتجزين"})))
    assert required("رهائن|\\L<unknown>", {}) is None  # a list it does not know: anything
    assert required("(?:رهائن|جثث\\s+قتلي)", {}) == ("or", (frozenset({"رهائن"}), ("and", (frozenset({"جثث"}), frozenset({"قتلي"})))))


def test_conditionals_take_either_branch() -> None:
    # the analysis does not tie a branch to its group: wider than needed, never narrower
    assert required("(?P<g>ال)?(?(g)اسري|رهائن)", {}) == frozenset({"اسري", "رهائن"})
    assert required("(?P<g>ال)?(?(g)اسري)", {}) is None


def test_classes_and_any() -> None:
    assert required("[^\\W\\d_]+اسري", {}) == frozenset({"اسري"})
    assert required(".اسري", {}) == frozenset({"اسري"})
    assert required("[ا-ي]سري", {}) == frozenset({"سري"})


def test_syntax_it_cannot_read_is_an_error_and_the_engine_asks_nothing() -> None:
    with pytest.raises(prefilter.PatternSyntaxError):
        required("(?i)رهائن", {})
    rule = next(iter(load_rules().rules))
    fake = type("Rule", (), {"compiled": regex.compile("(?i)رهائن"), "full_id": "x"})()
    assert engine._analyse(fake) == (None, None)  # type: ignore[arg-type]
    assert engine._analyse(rule)[0] is not None


def test_groups_pair_up_past_escapes_sets_and_comments() -> None:
    pattern = "(a\\(b)[)(](?:c # a comment (\n d)"
    assert prefilter._closing_parens(pattern) == {0: 5, 10: len(pattern) - 1}
    assert prefilter._closing_parens("(a))") == {}
    assert prefilter._closing_parens("((a)") == {}


def test_the_memo_changes_no_formula() -> None:
    rules = load_rules()
    memo: prefilter.Memo = {}
    for rule in rules.rules:
        lists = rule.compiled.named_lists
        assert required(rule.compiled.pattern, lists, memo) == required(rule.compiled.pattern, lists), rule.full_id
    assert len(memo) > 100


def test_gates_agree_with_the_formula() -> None:
    formula = required("(?:الافراج|اطلاق)\\s+\\uE000+\\s+(?:رهائن|جثث\\s+قتلي)", {})
    bit = {a: 1 << k for k, a in enumerate(sorted(prefilter.atoms(formula)))}
    gate = prefilter.gate(formula, bit)
    compiled = prefilter.compile_gate(gate)
    assert compiled is not None
    for present in range(1 << len(bit)):
        words = [a for a, b in bit.items() if present & b]
        assert compiled(present) == satisfied(formula, " ".join(words)) == prefilter.holds(formula, words)


# Random patterns over a tiny alphabet, so that literals of three letters and more occur often;
# spaces, tabs and number masks in the texts, so that runs of them collapse (no newline: the
# engine never searches across one, and ``collapsed`` keeps them).
_CHARS = "ابت \t\uE000"
_literal = st.text(alphabet="ابت", min_size=1, max_size=4)


def _regex_pieces() -> st.SearchStrategy[str]:
    leaf = st.one_of(
        _literal,
        st.sampled_from(["[اب]", "[^ت]", ".", "\\s", "\\s+", "\\s*", "\\uE000+", "\\uE000", "\\n", "\\w",
                         "(?=ا)", "(?<!ب)", "(?!تت)", "(?<=ا)", "\\L<w>"]),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(inner, inner).map("".join),
            st.tuples(inner, inner).map(lambda t: f"(?:{t[0]}|{t[1]})"),
            st.tuples(inner, st.sampled_from(["?", "*", "+", "{2}", "{1,3}", "{0,2}", "??", "+?"])).map(lambda t: f"(?:{t[0]}){t[1]}"),
            st.tuples(inner, inner, st.integers(0, 10**6)).map(lambda t: f"(?P<g{t[2]}>ب)?(?(g{t[2]}){t[0]}|{t[1]})"),
            st.tuples(inner, st.integers(0, 10**6)).map(lambda t: f"(?P<h{t[1]}>{t[0]})"),
        ),
        max_leaves=8,
    )


_LISTS = {"w": ["ابت", "تاب", "بب", "ا  ب"]}


@given(pattern=_regex_pieces(), text=st.text(alphabet=_CHARS, max_size=40), collapse=st.booleans())
def test_every_match_satisfies_its_formula(pattern: str, text: str, collapse: bool) -> None:
    try:
        compiled = regex.compile(pattern, FLAGS, ignore_unused=True, w=_LISTS["w"])
    except regex.error:
        return
    formula, starts = prefilter.analyse(pattern, _LISTS, collapse=collapse)
    for m in compiled.finditer(text, overlapped=True):
        seen = prefilter.collapsed(m.group()) if collapse else m.group()
        assert satisfied(formula, seen), (pattern, m.group(), formula)
        assert starts is None or seen.startswith(tuple(starts)), (pattern, m.group(), starts)


@given(text=st.text(alphabet=_CHARS + "\n\r\u2028", max_size=60), data=st.data())
def test_a_collapsed_span_is_the_span_collapsed(text: str, data: st.DataObject) -> None:
    view = prefilter.collapse_text(text)
    assert view.text == prefilter.collapsed(text)
    if not text:
        return
    a = data.draw(st.integers(0, len(text) - 1))
    b = data.draw(st.integers(a + 1, len(text)))
    assert view.text[view.index(a):view.index(b - 1) + 1] == prefilter.collapsed(text[a:b])
    start = view.start_of(view.index(a))
    assert start <= a and prefilter.collapsed(text[start:a + 1]) == view.text[view.index(a)]


def test_collapsed_offsets_map_back() -> None:
    text = "قال  ان \uE000\uE000\uE000 رهائن\n\nفي"
    view = prefilter.collapse_text(text)
    assert view.text == "قال ان \uE000 رهائن\n\nفي"
    assert prefilter.collapse_text("\uE000\uE000 رهائن").text == "\uE000 رهائن"  # the common case: numbers only
    mask = text.index("\uE000")
    assert view.index(mask + 2) == view.index(mask) == view.text.index("\uE000")
    assert view.start_of(view.text.index("\uE000")) == mask
    assert view.start_of(view.text.index("رهائن")) == text.index("رهائن")
    assert view.index(text.index("في")) == view.text.index("في")


def _fixture_texts() -> list[str]:
    rules = load_rules()
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "fixtures" / "seeds").glob("*.txt"))]
    texts += [json.loads(line)["text"] for line in (ROOT / "fixtures" / "scenarios" / "outlets.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += [ex.text for rule in rules.rules for ex in rule.examples]
    return texts


def test_every_rule_match_in_the_fixtures_satisfies_the_rule_formula() -> None:
    rules = load_rules()
    analysed = {r.full_id: prefilter.analyse(r.compiled.pattern, r.compiled.named_lists, collapse=True) for r in rules.rules}
    assert all(f is not None for f, _ in analysed.values())  # the filter says something for every rule
    assert sum(starts is not None for _, starts in analysed.values()) >= 25
    matched = 0
    for text in _fixture_texts():
        scanned = engine.prepare(normalize(text).text)
        for rule in rules.rules:
            formula, starts = analysed[rule.full_id]
            # every search is within a sentence, as the engine's
            for m in (m for a, b in scanned.sentences.spans for m in rule.compiled.finditer(scanned.masked, a, b, overlapped=True)):
                matched += 1
                seen = prefilter.collapsed(m.group())
                assert satisfied(formula, seen), (rule.full_id, m.group())
                assert starts is None or seen.startswith(tuple(starts)), (rule.full_id, m.group())
    assert matched > 400


def test_a_search_starts_at_the_first_word_a_match_can_start_with() -> None:
    rules = load_rules()
    text = "قالت مصادر إن الجيش أعلن إعادة 3 رهائن"
    scanned = engine.prepare(normalize(text).text)
    plan = {rule.full_id: spans for rule, spans in engine.search_plan(rules, scanned)}
    start = scanned.text.index("اعادة")
    assert plan["hostages.released"] == [(start, len(scanned.text))]
    index = engine.requires_index(rules)
    assert index.anchored("hostages.released") and not index.anchored("hostages.held-in-gaza")


def test_the_gates_and_starts_skip_searches_but_no_claim(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.extract import extract_text

    rules = load_rules()
    texts = _fixture_texts()
    scanned = [engine.prepare(normalize(t).text) for t in texts]
    with_gates = [extract_text(t, rules).claims for t in texts]
    def searched() -> tuple[int, int]:
        plans = [spans for s in scanned for _, spans in engine.search_plan(rules, s)]
        return sum(map(len, plans)), sum(b - a for spans in plans for a, b in spans)

    spans, chars = searched()
    index = engine.requires_index(rules)
    monkeypatch.setattr(index, "_gates", [None] * len(index.rules))
    monkeypatch.setattr(index, "_anchored", 0)
    without = [extract_text(t, rules).claims for t in texts]
    spans_without, chars_without = searched()
    assert with_gates == without
    assert sum(map(len, with_gates)) > 300
    assert spans < 0.9 * spans_without
    assert chars < 0.8 * chars_without


def test_collapsed_words_tie_a_number_to_its_noun() -> None:
    assert required("\\uE000+\\s+رهائن", {}, collapse=True) == frozenset({"\uE000 رهائن"})
    assert required("\\uE000+\\s*رهائن", {}, collapse=True) == frozenset({"\uE000 رهائن", "\uE000رهائن"})
    # a piece it cannot spell still tells how it starts: the number is followed by one of those words
    formula = required("\\uE000+\\s+(?:رهائن|اسري\\s+[^\\W\\d_]+)", {}, collapse=True)
    assert formula is not None and formula[0] == "and"
    assert set(formula[1]) == {frozenset({"\uE000 رهائن", "\uE000 اسري"}), frozenset({"رهائن", "اسري "})}
    assert required("\\uE000+\\s+رهائن", {}) == frozenset({"رهائن"})  # without collapsing, \\s is anything


def test_a_pattern_without_verbose_keeps_its_spaces_and_hashes() -> None:
    assert required("وفقا ل(?:ـ)?", {}, verbose=False) == frozenset({"وفقا ل"})
    assert required("رقم #1", {}, verbose=False) == frozenset({"رقم #1"})
    assert required("وفقا ل", {}) == frozenset({"وفقال"})  # VERBOSE: the space is not a character


def test_attribution_finds_the_same_sources_when_it_skips_patterns(monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker import attribution
    from tracker.sentences import sentence_spans

    texts = [normalize(t).text for t in _fixture_texts()]
    spans = [(t, a, b) for t in texts for a, b in sentence_spans(t)]
    gated = [attribution.sources(t, a, b) for t, a, b in spans]
    monkeypatch.setattr(attribution, "_NEEDS", [None] * len(attribution._PATTERNS))
    assert gated == [attribution.sources(t, a, b) for t, a, b in spans]
    assert sum(map(len, gated)) > 100
