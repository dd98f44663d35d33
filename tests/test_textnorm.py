"""Normalisation: a table of the cases issue 2 lists, and property tests of the offset map.

The table pins the exact normalised text and the exact original characters behind a normalised
match. The properties check, for arbitrary Unicode and for Arabic-heavy text, that every span of
the normalised text maps back inside the original, monotonically, deterministically, onto
characters that normalise back to the span, and that the diacritics written on a word stay in
its span.
"""

from __future__ import annotations

import regex
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tracker.textnorm import NormalizedText, normalize, normalize_char, normalize_literal

# ---------------------------------------------------------------------------------------------
# The table. Each case: raw text, exact normalised text, and (normalised needle, exact original
# characters the needle maps back to).
# ---------------------------------------------------------------------------------------------

TASHKEEL = "".join(chr(c) for c in range(0x064B, 0x0653))  # fathatan .. sukun
LRM, RLM, ZWNJ, ZWJ, BOM = "\u200e", "\u200f", "\u200c", "\u200d", "\ufeff"

CASES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    # id, raw, normalised, [(needle in normalised, original slice)]
    ("alef-hamza-above", "أحمد", "احمد", [("احمد", "أحمد")]),
    ("alef-hamza-below", "إسرائيل", "اسرائيل", [("اسرائيل", "إسرائيل")]),
    ("alef-madda", "آلاف", "الاف", [("الاف", "آلاف")]),
    ("alef-wasla", "ٱلله", "الله", [("الله", "ٱلله")]),
    ("alef-forms-mixed", "أإآٱا", "ااااا", [("ااااا", "أإآٱا")]),
    ("alef-maqsura", "على مستشفى", "علي مستشفي", [("مستشفي", "مستشفى"), ("علي", "على")]),
    ("persian-yeh-keheh", "یک", "يك", [("يك", "یک")]),
    ("tanween-fath-inside", "أسيرًا", "اسيرا", [("اسيرا", "أسيرًا"), ("اسير", "أسيرً")]),
    ("tanween-after-alef", "طفلاً", "طفلا", [("طفلا", "طفلاً"), ("طفل", "طفل")]),
    ("tanween-damm", "كتابٌ", "كتاب", [("كتاب", "كتابٌ")]),
    ("tanween-kasr", "بيتٍ جميل", "بيت جميل", [("بيت", "بيتٍ"), ("جميل", "جميل")]),
    ("full-tashkeel", "مُحَمَّدٌ", "محمد", [("محمد", "مُحَمَّدٌ"), ("مح", "مُحَ"), ("حم", "حَمَّ")]),
    ("all-tashkeel-marks", "ب" + TASHKEEL + "ت", "بت", [("ب", "ب" + TASHKEEL), ("بت", "ب" + TASHKEEL + "ت")]),
    ("dagger-alef", "هٰذا", "هذا", [("هذا", "هٰذا"), ("ه", "هٰ")]),
    ("quranic-mark", "الرحيمۖ", "الرحيم", [("الرحيم", "الرحيمۖ")]),
    ("tatweel-word", "كـتـاب", "كتاب", [("كتاب", "كـتـاب"), ("ك", "كـ")]),
    ("tatweel-article-digits", "لليوم الـ34", "لليوم ال34", [("34", "34"), ("ال34", "الـ34")]),
    ("tatweel-with-tanween", "جداًـ", "جدا", [("جدا", "جداًـ")]),
    ("lrm-rlm", RLM + "40" + LRM + " ألف", "40 الف", [("40", "40"), ("40 الف", "40" + LRM + " ألف")]),
    ("bidi-embeddings", "\u202a12\u202c و\u202b13\u202c", "12 و13",
     [("12", "12"), ("13", "13"), ("12 و13", "12\u202c و\u202b13")]),
    ("bidi-overrides", "\u202d5\u202e", "5", [("5", "5")]),
    ("bidi-isolates", "\u2066\u2067\u20683\u2069", "3", [("3", "3")]),
    ("zwj-zwnj", "ب" + ZWJ + "ت" + ZWNJ + "ث", "بتث", [("بتث", "ب" + ZWJ + "ت" + ZWNJ + "ث"), ("ت", "ت")]),
    ("bom", BOM + "مئة", "مئة", [("مئة", "مئة")]),
    ("arabic-letter-mark", "\u061c7", "7", [("7", "7")]),
    ("soft-hyphen", "عش\u00adرة", "عشرة", [("عشرة", "عش\u00adرة")]),
    ("no-break-space", "40\u00a0ألف", "40 الف", [("40 الف", "40\u00a0ألف")]),
    ("narrow-nbsp", "3\u202fآلاف", "3 الاف", [("3 الاف", "3\u202fآلاف")]),
    ("thin-and-ideographic-space", "1\u20092\u30003", "1 2 3", [("2", "2")]),
    ("em-space", "\u2003x", " x", [(" ", "\u2003")]),
    ("lam-alef-ligature", "ﻻ", "لا", [("لا", "ﻻ"), ("ل", "ﻻ"), ("ا", "ﻻ")]),
    ("lam-alef-hamza-ligature", "ﻹ", "لا", [("لا", "ﻹ")]),
    ("presentation-forms-word", "ﻣﺤﻤﺪ", "محمد", [("محمد", "ﻣﺤﻤﺪ"), ("حم", "ﺤﻤ")]),
    ("allah-ligature", "ﷲ", "الله", [("الله", "ﷲ"), ("لل", "ﷲ")]),
    ("sallallahu-ligature", "قال ﷺ", "قال صلي الله عليه وسلم", [("الله", "ﷺ"), ("قال", "قال")]),
    ("form-b-yeh-keheh", "ﯾﮎ", "يك", [("يك", "ﯾﮎ")]),
    ("arabic-indic-digits", "٠١٢٣٤٥٦٧٨٩", "0123456789", [("345", "٣٤٥")]),
    ("persian-digits", "۰۱۲۳۴۵۶۷۸۹", "0123456789", [("789", "۷۸۹")]),
    ("three-digit-scripts", "1٢۳", "123", [("123", "1٢۳")]),
    ("thousands-separator", "٤٠٬٠٠٠", "40,000", [("40,000", "٤٠٬٠٠٠"), (",", "٬")]),
    ("decimal-separator", "١٫٥ مليون", "1.5 مليون", [("1.5", "١٫٥")]),
    ("arabic-comma", "غزة، رفح", "غزة, رفح", [(",", "،")]),
    ("arabic-semicolon-percent", "٥٠٪؛", "50%;", [("50%", "٥٠٪")]),
    ("fullwidth-digits", "４０", "40", [("40", "４０")]),
    ("ascii-untouched", "abc 123", "abc 123", [("c 1", "c 1")]),
    ("empty", "", "", []),
]


def _find(haystack: str, needle: str) -> tuple[int, int]:
    i = haystack.index(needle)
    return i, i + len(needle)


@pytest.mark.parametrize(("raw", "expected", "slices"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_normalisation_table(raw: str, expected: str, slices: list[tuple[str, str]]) -> None:
    norm = normalize(raw)
    assert norm.text == expected
    assert norm.original == raw
    assert normalize_literal(raw) == expected
    for needle, original in slices:
        a, b = _find(norm.text, needle)
        assert norm.original_slice(a, b) == original, needle
        oa, ob = norm.to_original(a, b)
        assert raw[oa:ob] == original


def test_seed_quote_maps_back_with_tanween() -> None:
    raw = "أطلقت حماس سراح 69 أسيرًا، و117 طفلاً"
    norm = normalize(raw)
    assert norm.text == "اطلقت حماس سراح 69 اسيرا, و117 طفلا"
    for needle, original in (("اسيرا", "أسيرًا"), ("طفلا", "طفلاً"), ("117", "117"), (",", "،")):
        assert norm.original_slice(*_find(norm.text, needle)) == original


@pytest.mark.parametrize(
    ("ch", "expected"),
    [
        pytest.param("أ", "ا", id="alef-hamza"),
        pytest.param("ى", "ي", id="maqsura"),
        pytest.param("\u064b", "", id="fathatan"),
        pytest.param("\u0651", "", id="shadda"),
        pytest.param("\u0640", "", id="tatweel"),
        pytest.param("\u200f", "", id="rlm"),
        pytest.param("\u2067", "", id="rli"),
        pytest.param("\ufeff", "", id="bom"),
        pytest.param("\u00a0", " ", id="nbsp"),
        pytest.param("٧", "7", id="arabic-indic-7"),
        pytest.param("۷", "7", id="persian-7"),
        pytest.param("٫", ".", id="decimal-sep"),
        pytest.param("٬", ",", id="thousands-sep"),
        pytest.param("،", ",", id="arabic-comma"),
        pytest.param("ﻻ", "لا", id="lam-alef"),
        pytest.param("ب", "ب", id="plain-letter"),
        pytest.param("x", "x", id="ascii"),
    ],
)
def test_normalize_char(ch: str, expected: str) -> None:
    assert normalize_char(ch) == expected


def test_identity_map_when_only_substitutions() -> None:
    norm = normalize("أكثر من ٤٠ ألف")
    assert norm.is_identity
    assert norm.text == "اكثر من 40 الف"
    assert norm.to_original(8, 10) == (8, 10)


def test_to_original_rejects_spans_outside() -> None:
    norm = normalize("مُحَمَّد")
    with pytest.raises(ValueError):
        norm.to_original(0, len(norm.text) + 1)
    with pytest.raises(ValueError):
        norm.to_original(2, 1)
    with pytest.raises(ValueError):
        norm.to_original(-1, 1)


# ---------------------------------------------------------------------------------------------
# Properties. A reference map built one character at a time (normalisation is character-local)
# tells which normalised characters come from which original character.
# ---------------------------------------------------------------------------------------------

# The characters that belong to the letter before them (the spec's marks: tashkeel incl. tanween,
# dagger alef, Quranic marks, tatweel).
MARK = regex.compile(
    "[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed\u08d3-\u08e1\u08e3-\u08ff\u0640]"
)


def _owners(raw: str) -> list[int]:
    """For each normalised character, the offset of the original character it comes from."""
    owners: list[int] = []
    for i, ch in enumerate(raw):
        owners.extend([i] * len(normalize_char(ch)))
    return owners


def _check_map(raw: str) -> None:
    norm = normalize(raw)
    text = norm.text
    n = len(text)
    # character-local: the normalised text is the concatenation of per-character forms
    assert text == "".join(normalize_char(c) for c in raw)
    owners = _owners(raw)
    assert len(owners) == n
    # deterministic
    again = normalize(raw)
    assert again.text == text and again == norm

    starts = [norm.to_original(a, a)[0] for a in range(n + 1)]
    assert starts == sorted(starts), "span starts are not monotonic"
    # every span of short texts; long expansions (one ligature is 18 characters) are sampled
    points = list(range(n + 1)) if n <= 40 else sorted({*range(0, n + 1, n // 20), n, *range(min(8, n))})
    for a in points:
        prev_end = -1
        for b in (p for p in points if p >= a):
            oa, ob = norm.to_original(a, b)
            assert 0 <= oa <= ob <= len(raw)
            assert ob >= prev_end, "span ends are not monotonic"
            prev_end = ob
            if a == b:
                continue
            # the span starts at the character behind its first normalised character ...
            assert oa == owners[a]
            # ... and ends after the character behind its last one, plus the marks written on it
            assert ob > owners[b - 1]
            assert ob == len(raw) or not MARK.match(raw[ob]), "a trailing diacritic was cut off"
            assert all(MARK.match(c) for c in raw[owners[b - 1] + 1:ob])
            if b - a > 12 and a % 3:
                continue  # re-normalising every long span is quadratic; a third of them suffice
            again_text = normalize(raw[oa:ob]).text
            assert text[a:b] in again_text
            cuts_expansion = (a > 0 and owners[a] == owners[a - 1]) or (b < n and owners[b] == owners[b - 1])
            if not cuts_expansion:
                assert again_text == text[a:b]
    # starts for a fixed b are monotonic in a too
    for b in points:
        ss = [norm.to_original(a, b)[0] for a in range(b + 1)]
        assert ss == sorted(ss)


def _check_words(raw: str) -> None:
    """Every word of the normalised text maps back to a span holding the word's diacritics."""
    norm = normalize(raw)
    owners = _owners(raw)
    for m in regex.finditer(r"[^\W\d_]+", norm.text):
        oa, ob = norm.to_original(m.start(), m.end())
        # the span runs from the word's first letter to past the marks on its last letter: every
        # diacritic written inside or at the end of the word is in it, nothing else is added
        assert oa == owners[m.start()]
        assert ob == len(raw) or not MARK.match(raw[ob])
        assert normalize(raw[oa:ob]).text == m.group()
        marks_in_word = [c for c in raw[oa:ob] if MARK.match(c)]
        marks_expected = [c for c in raw[owners[m.start()]:ob] if MARK.match(c)]
        assert marks_in_word == marks_expected


ARABIC_LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإٱىةئؤ"
TASHKEEL_ALL = "".join(chr(c) for c in range(0x064B, 0x0660)) + "\u0670"
CONTROLS = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u061c\u00ad"
SPACES = " \u00a0\u202f\u2009\u3000\n\t"
DIGITS3 = "0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬،.,"

arabic_heavy = st.lists(
    st.one_of(
        st.sampled_from(ARABIC_LETTERS),
        st.sampled_from(ARABIC_LETTERS),
        st.sampled_from(TASHKEEL_ALL),
        st.just("\u0640"),
        st.sampled_from(CONTROLS),
        # presentation forms, unassigned code points included (integers: cheaper to draw)
        st.integers(0xFB50, 0xFDFF).map(chr),
        st.integers(0xFE70, 0xFEFC).map(chr),
        st.sampled_from(DIGITS3),
        st.sampled_from(SPACES),
    ),
    max_size=24,
).map("".join)

# Arabic words with tashkeel on their letters, separated by odd spaces and controls.
diacritised_words = st.lists(
    st.tuples(
        st.sampled_from(ARABIC_LETTERS),
        st.text(alphabet=TASHKEEL_ALL + "\u0640", max_size=3),
        st.sampled_from(("",) * 6 + tuple(SPACES + CONTROLS)),
    ),
    min_size=1, max_size=20,
).map(lambda parts: "".join(letter + marks + sep for letter, marks, sep in parts))

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.text(max_size=24))
@example("ﷺ\u064b")
@example("ب\u0651\u064e\u200dت")
@example("\u200f")
def test_map_properties_arbitrary_unicode(raw: str) -> None:
    _check_map(raw)


@SETTINGS
@given(arabic_heavy)
@example("ﻻ\u064eﷲ")
@example("أسيرًا")
def test_map_properties_arabic_heavy(raw: str) -> None:
    _check_map(raw)


@settings(max_examples=400, deadline=None)
@given(diacritised_words)
def test_words_keep_their_diacritics(raw: str) -> None:
    _check_words(raw)
    norm = normalize(raw)
    # each original word, diacritics and all, is the original slice of its normalised word
    for word in regex.findall(r"[^\s\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u061c\u00ad]+", raw):
        bare = normalize(word).text
        if not bare:
            continue
        i = norm.text.find(bare)
        assert i >= 0
        assert normalize(norm.original_slice(i, i + len(bare))).text == bare


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_normalize_is_total_and_idempotent(raw: str) -> None:
    norm = normalize(raw)
    assert isinstance(norm, NormalizedText)
    assert normalize(norm.text).text == norm.text
    if norm.text:
        oa, ob = norm.to_original(0, len(norm.text))
        assert normalize(raw[oa:ob]).text == norm.text  # the whole text maps onto what it came from
