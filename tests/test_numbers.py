"""The number parser: table-driven cases for ``parse_number`` and ``find_numbers``.

Tables: whole expressions (units to millions, masculine and feminine, with and without hamza and
diacritics, three digit scripts, separators, decimals, every qualifier, ranges, vague plurals);
running sentences with every match asserted exactly (span, original text, interval, kind); the
figures of the seed articles' gold quotes and the numbers of their negative phrases; bad input;
and the whole Duckling Arabic numeral corpus, one test per line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.numbers import NumberMatch, find_numbers, parse_number, scan
from tracker.quantity import Quantity
from tracker.textnorm import normalize

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SEEDS = FIXTURES / "seeds"


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------------------------
# parse_number: whole expressions
# ---------------------------------------------------------------------------------------------


def ex(id_: str, text: str, value: float) -> object:
    """An exact figure: the interval is the value itself."""
    return pytest.param(text, Quantity(value, value, value, "exact"), id=id_)


def q(id_: str, text: str, value: float, low: float | None, high: float | None, qualifier: str) -> object:
    return pytest.param(text, Quantity(value, low, high, qualifier), id=id_)  # type: ignore[arg-type]


PARSE_CASES = [
    # units, masculine and feminine, with and without hamza
    ex("zero", "صفر", 0),
    ex("one-m", "واحد", 1),
    ex("one-f", "واحدة", 1),
    ex("two-nom-m", "اثنان", 2),
    ex("two-nom-hamza", "إثنان", 2),
    ex("two-acc-m", "اثنين", 2),
    ex("two-nom-f", "اثنتان", 2),
    ex("two-acc-f", "اثنتين", 2),
    ex("three-f", "ثلاث", 3),
    ex("three-m", "ثلاثة", 3),
    ex("three-m-ha", "ثلاثه", 3),
    ex("four-f-hamza", "أربع", 4),
    ex("four-m-hamza", "أربعة", 4),
    ex("four-m-no-hamza", "اربعة", 4),
    ex("five-f", "خمس", 5),
    ex("five-m", "خمسة", 5),
    ex("six-f-shadda", "ستّ", 6),
    ex("six-m", "ستة", 6),
    ex("seven-m", "سبعة", 7),
    ex("eight-f", "ثماني", 8),
    ex("eight-m", "ثمانية", 8),
    ex("nine-m", "تسعة", 9),
    ex("ten-f", "عشر", 10),
    ex("ten-m", "عشرة", 10),
    ex("ten-diacritics", "عَشَرَةٌ", 10),
    # teens
    ex("eleven-m-hamza", "أحد عشر", 11),
    ex("eleven-f-hamza", "إحدى عشرة", 11),
    ex("eleven-no-hamza", "احد عشر", 11),
    ex("twelve-m-nom", "اثنا عشر", 12),
    ex("twelve-m-acc", "اثني عشر", 12),
    ex("twelve-f", "اثنتا عشرة", 12),
    ex("thirteen-m", "ثلاثة عشر", 13),
    ex("thirteen-f", "ثلاث عشرة", 13),
    ex("fourteen", "أربعة عشر", 14),
    ex("fifteen-f", "خمس عشرة", 15),
    ex("sixteen", "ستة عشر", 16),
    ex("seventeen", "سبعة عشر", 17),
    ex("eighteen-m", "ثمانية عشر", 18),
    ex("eighteen-f", "ثماني عشرة", 18),
    ex("nineteen-diacritics", "تِسْعَةَ عَشَرَ", 19),
    # tens, nominative and oblique
    ex("twenty-nom", "عشرون", 20),
    ex("twenty-obl", "عشرين", 20),
    ex("thirty", "ثلاثون", 30),
    ex("forty-hamza", "أربعين", 40),
    ex("fifty", "خمسون", 50),
    ex("sixty", "ستين", 60),
    ex("seventy", "سبعون", 70),
    ex("eighty", "ثمانين", 80),
    ex("ninety", "تسعون", 90),
    # units and tens joined by و
    ex("21-m", "واحد وعشرون", 21),
    ex("21-f", "إحدى وعشرون", 21),
    ex("22", "اثنان وعشرون", 22),
    ex("22-f", "اثنتان وعشرون", 22),
    ex("25", "خمسة وعشرون", 25),
    ex("25-tanween", "خمسةٌ وعشرونَ", 25),
    ex("37-f", "سبع وثلاثون", 37),
    ex("43-spaced-wa", "ثلاثة و أربعون", 43),
    ex("99", "تسعة وتسعون", 99),
    # hundreds: مئة/مائة, duals, fused and spaced multiples
    ex("100-mia", "مئة", 100),
    ex("100-maa", "مائة", 100),
    ex("100-diacritics", "مِئَة", 100),
    ex("200-nom", "مئتان", 200),
    ex("200-obl", "مئتين", 200),
    ex("200-maa-nom", "مائتان", 200),
    ex("200-maa-obl", "مائتين", 200),
    ex("300-fused", "ثلاثمئة", 300),
    ex("300-fused-maa", "ثلاثمائة", 300),
    ex("300-spaced", "ثلاث مئة", 300),
    ex("300-spaced-maa", "ثلاث مائة", 300),
    ex("400", "أربعمئة", 400),
    ex("500", "خمسمائة", 500),
    ex("600", "ستمئة", 600),
    ex("700", "سبعمائة", 700),
    ex("800-fused", "ثمانمئة", 800),
    ex("800-thamani", "ثماني مئة", 800),
    ex("900", "تسعمئة", 900),
    ex("101", "مئة وواحد", 101),
    ex("150", "مائة وخمسون", 150),
    ex("225", "مئتان وخمسة وعشرون", 225),
    ex("999", "تسعمائة وتسعة وتسعون", 999),
    # thousands: singular, dual, accusative, plural, construct
    ex("1000-hamza", "ألف", 1000),
    ex("1000-bare", "الف", 1000),
    ex("2000-dual-nom", "ألفان", 2000),
    ex("2000-dual-obl", "ألفين", 2000),
    ex("2000-dual-construct", "ألفا", 2000),
    ex("2000-dual-construct-obl", "ألفي", 2000),
    ex("3000", "ثلاثة آلاف", 3000),
    ex("10000", "عشرة آلاف", 10000),
    ex("11000", "أحد عشر ألفاً", 11000),
    ex("20000-acc", "عشرون ألفا", 20000),
    ex("50000", "خمسين ألف", 50000),
    ex("100000", "مئة ألف", 100000),
    ex("200000-construct", "مائتا ألف", 200000),
    ex("300000", "ثلاثمائة ألف", 300000),
    ex("1500", "ألف وخمسمائة", 1500),
    ex("2300", "ألفان وثلاثمائة", 2300),
    ex("3577-words", "ثلاثة آلاف وخمسمائة وسبعة وسبعون", 3577),
    ex("325000", "ثلاثمائة وخمسة وعشرون ألفاً", 325000),
    ex("999999", "تسعمائة وتسعة وتسعون ألفا وتسعمائة وتسعة وتسعون", 999999),
    # millions and billions
    ex("million", "مليون", 1_000_000),
    ex("million-dual-nom", "مليونان", 2_000_000),
    ex("million-dual-obl", "مليونين", 2_000_000),
    ex("3-million", "ثلاثة ملايين", 3_000_000),
    ex("10-million", "عشرة ملايين", 10_000_000),
    ex("million-and-half", "مليون ونصف", 1_500_000),
    ex("half-million", "نصف مليون", 500_000),
    ex("quarter-million", "ربع مليون", 250_000),
    ex("1.2-million-words", "مليون ومئتا ألف", 1_200_000),
    ex("2.5-million-words", "مليونين وخمسمائة ألف", 2_500_000),
    ex("billion", "مليار", 1_000_000_000),
    ex("billion-dual", "ملياران", 2_000_000_000),
    # digits in three scripts, separators, decimals
    ex("ascii", "40", 40),
    ex("arabic-indic", "٤٠", 40),
    ex("persian", "۴۰", 40),
    ex("mixed-scripts-digits", "1٢۳", 123),
    ex("ascii-thousands", "40,000", 40000),
    ex("arabic-thousands-sep", "٤٠٬٠٠٠", 40000),
    ex("persian-thousands-sep", "۴۰٬۰۰۰", 40000),
    ex("millions-sep", "١٬٢٣٤٬٥٦٧", 1_234_567),
    ex("dot-grouping", "1.234.567", 1_234_567),
    ex("decimal", "1.5", 1.5),
    ex("arabic-decimal", "١٫٥", 1.5),
    ex("persian-decimal", "۱٫۵", 1.5),
    ex("leading-dot", ".77", 0.77),
    ex("arabic-leading-decimal", "٫٧٧", 0.77),
    ex("sep-and-decimal", "١٬٢٣٤٬٥٦٧٫٨٩", 1_234_567.89),
    ex("negative", "-1.2", -1.2),
    ex("fraction", "٧٧/١٠٠", 0.77),
    # digits with scale words, addends
    ex("40-alf", "40 ألف", 40000),
    ex("40-alfan-tanween", "٤٠ ألفًا", 40000),
    ex("3-alaf-577", "3 آلاف و577", 3577),
    ex("75-alfan-92", "75 ألفاً و92", 75092),
    ex("alfain-494", "ألفين و494", 2494),
    ex("1.5-million", "1.5 مليون", 1_500_000),
    ex("arabic-1.5-million", "١٫٥ مليون", 1_500_000),
    ex("decimal-comma-billion", "2,5 مليار", 2_500_000_000),
    ex("10-alaf", "10 آلاف", 10000),
    ex("3-malayin", "3 ملايين", 3_000_000),
    ex("million-and-200-alf", "مليون و200 ألف", 1_200_000),
    ex("100-alf-no-hamza", "100 الف", 100000),
    # qualifiers before the number
    q("nahw", "نحو 50", 50, 45, 55, "approx"),
    q("nahw-small-min-tolerance", "نحو 5", 5, 4, 6, "approx"),
    q("hawali", "حوالي 40 ألف", 40000, 36000, 44000, "approx"),
    q("hawala-maqsura", "حوالى 300", 300, 270, 330, "approx"),
    q("qurabat", "قرابة ألفي", 2000, 1800, 2200, "approx"),
    q("zuhaa", "زهاء مئتي", 200, 180, 220, "approx"),
    q("ma-yuqarib", "ما يقارب 3 ملايين", 3_000_000, 2_700_000, 3_300_000, "approx"),
    q("ma-yaqrub-min", "ما يقرب من 300", 300, 270, 330, "approx"),
    q("ma-yunahiz", "ما يناهز 100", 100, 90, 110, "approx"),
    q("akthar-min-40-alf", "أكثر من 40 ألف", 40000, 40000, None, "more_than"),
    q("akthar-min-words", "أكثر من ثلاثة آلاف", 3000, 3000, None, "more_than"),
    q("ma-yazid-ala", "ما يزيد على 200", 200, 200, None, "more_than"),
    q("ma-yazid-an", "ما يزيد عن 53 ألفاً", 53000, 53000, None, "more_than"),
    q("tajawaz", "تجاوز 500", 500, 500, None, "more_than"),
    q("ma-la-yaqill", "ما لا يقل عن 20", 20, 20, None, "at_least"),
    q("ma-la-yaqill-words", "ما لا يقل عن خمسين", 50, 50, None, "at_least"),
    q("la-taqill-f", "لا تقل عن 10", 10, 10, None, "at_least"),
    q("ala-alaqal-after", "20 على الأقل", 20, 20, None, "at_least"),
    q("taqriban-after", "30 تقريباً", 30, 27, 33, "approx"),
    q("aqall-min", "أقل من 5", 5, None, 5, "less_than"),
    q("aqall-min-mia", "أقل من مئة", 100, None, 100, "less_than"),
    q("ma-la-yazid", "ما لا يزيد عن 30", 30, None, 30, "at_most"),
    q("la-yatajawaz-negated", "لا يتجاوز 10", 10, None, 10, "at_most"),
    q("ma-yasil-ila", "ما يصل إلى 100", 100, None, 100, "at_most"),
    # ranges
    q("bayna-wa", "بين 10 و15", 10, 10, 15, "range"),
    q("ma-bayna-wa", "ما بين 20 و30", 20, 20, 30, "range"),
    q("bayna-spaced-wa", "بين 130 و 140", 130, 130, 140, "range"),
    q("bayna-words", "بين عشرين وثلاثين", 20, 20, 30, "range"),
    q("bayna-shared-scale", "بين 5 و10 آلاف", 5000, 5000, 10000, "range"),
    q("bayna-own-low", "بين 500 و10 آلاف", 500, 500, 10000, "range"),
    q("ma-bayna-ila", "ما بين 3 إلى 5 آلاف", 3000, 3000, 5000, "range"),
    q("min-ila", "من 10 إلى 20", 10, 10, 20, "range"),
    q("min-ila-arabic-digits", "من ٣ إلى ٥ آلاف", 3000, 3000, 5000, "range"),
    q("bare-ila", "10 إلى 15", 10, 10, 15, "range"),
    q("aw", "3 أو 4", 3, 3, 4, "range"),
    q("words-ila", "عشرة إلى خمسة عشر", 10, 10, 15, "range"),
    q("hyphen", "100-150", 100, 100, 150, "range"),
    # vague plurals
    q("alaf", "آلاف", 3000, 3000, 9999, "vague"),
    q("al-alaf", "الآلاف", 3000, 3000, 9999, "vague"),
    q("asharat", "عشرات", 30, 30, 99, "vague"),
    q("miat", "مئات", 300, 300, 999, "vague"),
    q("al-miat", "المئات", 300, 300, 999, "vague"),
    q("asharat-alaf", "عشرات الآلاف", 30000, 30000, 99999, "vague"),
    q("miat-alaf", "مئات الآلاف", 300_000, 300_000, 999_999, "vague"),
    q("bida", "بضعة", 3, 3, 9, "vague"),
    q("bida-alaf", "بضعة آلاف", 3000, 3000, 9999, "vague"),
    q("bid-miat", "بضع مئات", 300, 300, 999, "vague"),
    q("malayin", "ملايين", 3_000_000, 3_000_000, 9_999_999, "vague"),
    # controls and odd spaces around a figure
    ex("bidi-wrapped", "\u202b٤٠ ألف\u202c", 40000),
    ex("rlm-inside", "\u200f40\u200e\u00a0ألف", 40000),
    ex("tatweel", "ثلاثـة", 3),
]


@pytest.mark.parametrize(("text", "expected"), PARSE_CASES)
def test_parse_number(text: str, expected: Quantity) -> None:
    got = parse_number(text)
    assert got == expected
    assert type(got.value) is type(expected.value) or isinstance(expected.value, float)  # 40000, not 40000.0


BAD_INPUTS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="spaces"),
    pytest.param(",", id="lone-comma"),
    pytest.param(".", id="lone-dot"),
    pytest.param("٬", id="lone-thousands-sep"),
    pytest.param("٫", id="lone-decimal-sep"),
    pytest.param("،", id="lone-arabic-comma"),
    pytest.param("٫٬،", id="separators-only"),
    pytest.param("%", id="lone-percent"),
    pytest.param("-", id="lone-minus"),
    pytest.param("9" * 10_000, id="10000-digits"),
    pytest.param("٩" * 10_000, id="10000-arabic-digits"),
    pytest.param("نحو " + "9" * 10_000, id="approx-10000-digits"),
    pytest.param("بين 1 و" + "9" * 10_000, id="range-10000-digits"),
    pytest.param("9" * 5_000 + "/1", id="5000-digit-fraction"),
    pytest.param("1/" + "1" * 5_000, id="5000-digit-denominator"),
    pytest.param("12abc", id="digits-glued-to-latin"),
    pytest.param("abc١٢", id="latin-then-arabic-digits"),
    pytest.param("\x00", id="nul"),
    pytest.param("4\x000", id="nul-between-digits"),
    pytest.param("\u200f\u200e\u202a\u2066", id="controls-only"),
    pytest.param("\ufeff", id="bom-only"),
    pytest.param("ال", id="article-only"),
    pytest.param("و", id="wa-only"),
    pytest.param("نحو", id="qualifier-only"),
    pytest.param("بين و", id="range-words-only"),
    pytest.param("ثلاثة كتب", id="trailing-noun"),
    pytest.param("12 و ألف كتاب", id="two-figures"),
    pytest.param("ﷺ", id="ligature-only"),
    pytest.param("\u064b\u064c\u0651", id="marks-only"),
    pytest.param("1e5", id="exponent"),
]


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_is_none_and_never_crashes(text: str) -> None:
    assert parse_number(text) is None
    for m in find_numbers(text):  # running text may hold a number; it must be a sound one
        assert text[m.start:m.end] == m.text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("9" * 10_000, id="10000-digits"),
        pytest.param("نحو " + "٩" * 10_000 + " شخص", id="approx-10000-digits"),
        pytest.param(("١٢٣٬" * 3000) + "٤", id="long-separated"),
        pytest.param("٫" * 5000, id="many-decimal-seps"),
        pytest.param(("بين " + "و" * 50 + " ") * 200, id="many-range-words"),
        pytest.param("عشرات " * 2000, id="repeated-vague"),
        pytest.param("\u202e" * 3000 + "40", id="many-controls"),
        pytest.param("9" * 400 + " فاصلة 5", id="overflow-then-decimal-word"),
        pytest.param("9" * 400 + " أكتوبر", id="overflow-then-month"),
        pytest.param("ستون " + "9" * 400 + " ألف", id="overflow-after-word"),
        pytest.param("[ad_4.8 مليون]", id="identifier-digits"),
    ],
)
def test_find_numbers_survives_hostile_text(text: str) -> None:
    parse_number(text)  # never raises
    for m in find_numbers(text):
        assert text[m.start:m.end] == m.text
        assert m.quantity.value == m.quantity.value  # not NaN


# ---------------------------------------------------------------------------------------------
# find_numbers: running sentences, every match asserted
# ---------------------------------------------------------------------------------------------


class Exp(NamedTuple):
    """An expected match: its original text (the n-th occurrence in the sentence) and meaning."""

    text: str
    value: float
    low: float | None
    high: float | None
    qualifier: str
    kind: str
    nth: int = 0


def E(text: str, value: float, kind: str = "count", nth: int = 0) -> Exp:
    return Exp(text, value, value, value, "exact", kind, nth)


def _span(sentence: str, needle: str, nth: int) -> tuple[int, int]:
    i = -1
    for _ in range(nth + 1):
        i = sentence.index(needle, i + 1)
    return i, i + len(needle)


SENTENCES = [
    ("killed-more-than", "استشهد أكثر من 40 ألف فلسطيني في غزة",
     [Exp("أكثر من 40 ألف", 40000, 40000, None, "more_than", "count")]),
    ("list-with-wa", "بينهم 2360 طفلاً و1292 امرأة و295 مسناً",
     [E("2360", 2360), E("1292", 1292), E("295", 295)]),
    ("spaced-wa-digit", "305 طفلاً و173 امرأة و 78 مسنّاً", [E("305", 305), E("173", 173), E("78", 78)]),
    ("tanween-after-number", "أطلقت حماس سراح 69 أسيرًا", [E("69", 69)]),
    ("approx-words", "وقّعه نحو مئة طبيب إسرائيلي", [Exp("نحو مئة", 100, 90, 110, "approx", "count")]),
    ("approx-with-clitic", "مأوى لنحو 700 ألف نسمة", [Exp("نحو 700 ألف", 700000, 630000, 770000, "approx", "count")]),
    ("approx-after-article", "قرابة الـ50 أسيرا", [Exp("قرابة الـ50", 50, 45, 55, "approx", "count")]),
    ("at-least-after-noun", "واستشهد 6 أشخاص على الأقل في القصف",
     [Exp("6", 6, 6, None, "at_least", "count")]),
    ("at-least-after-number", "وجرح 10 على الأقل في قصف", [Exp("10 على الأقل", 10, 10, None, "at_least", "count")]),
    ("at-least-then-more-than", "هناك 13 شهيداً على الأقل وأكثر من 35 مصاباً",
     [Exp("13", 13, 13, None, "at_least", "count"), Exp("أكثر من 35", 35, 35, None, "more_than", "count")]),
    ("or-more-of-next-figure", "قتل 20 شخصا أو أكثر من 30 جريحا",
     [E("20", 20), Exp("أكثر من 30", 30, 30, None, "more_than", "count")]),
    ("more-than-wa-clitic", "و2136 امرأة، وأكثر من 20 ألف مصاب",
     [E("2136", 2136), Exp("أكثر من 20 ألف", 20000, 20000, None, "more_than", "count")]),
    ("ma-yazid-ala-alfan", "وجرح ما يزيد على 53 ألفاً.",
     [Exp("ما يزيد على 53 ألفاً", 53000, 53000, None, "more_than", "count")]),
    ("la-yatajawaz", "بطاقة لا تتجاوز 30%", [Exp("لا تتجاوز 30%", 30, None, 30, "at_most", "percent")]),
    ("range-between", "يتراوح بين 200 و250 أسيراً", [Exp("بين 200 و250", 200, 200, 250, "range", "count")]),
    ("range-between-ila", "تحرير ما يتراوح بين 100 إلى 250 أسيراً",
     [Exp("بين 100 إلى 250", 100, 100, 250, "range", "count")]),
    ("range-from-to", "أصيب من 100 إلى 150 شخصا", [Exp("من 100 إلى 150", 100, 100, 150, "range", "count")]),
    ("range-bare", "تحرير 4000 إلى 5000 أسير", [Exp("4000 إلى 5000", 4000, 4000, 5000, "range", "count")]),
    ("range-shared-scale", "نزوح بين 5 و10 آلاف شخص", [Exp("بين 5 و10 آلاف", 5000, 5000, 10000, "range", "count")]),
    ("rise-is-not-a-range", "ارتفع العدد من 40 إلى 45", [E("40", 40), E("45", 45)]),
    ("thousands-and-addend", "إلى 35 ألفا و34 شهيدا", [E("35 ألفا و34", 35034)]),
    ("two-figures-with-addends", "إلى 32 ألفاً و226 شهيداً و74 ألفاً و518 جريحاً",
     [E("32 ألفاً و226", 32226), E("74 ألفاً و518", 74518)]),
    ("decimal-million", "نزوح نحو 1.7 مليون شخص",
     [Exp("نحو 1.7 مليون", 1_700_000, 1_530_000, 1_870_000, "approx", "count")]),
    ("arabic-decimal-million", "يعيش ٢٫٥ مليون نازح", [E("٢٫٥ مليون", 2_500_000)]),
    ("persian-thousands", "قتل ۴۰٬۰۰۰ شخص", [E("۴۰٬۰۰۰", 40000)]),
    ("dual-construct", "ألفا طفل في المخيم", [E("ألفا", 2000)]),
    ("dual-construct-approx", "قرابة ألفي شخص", [Exp("قرابة ألفي", 2000, 1800, 2200, "approx", "count")]),
    ("dual-oblique-word", "البالغ عددهم مليوني نسمة", [E("مليوني", 2_000_000)]),
    ("words-in-sentence", "من بينهم سبعة مواطنين أميركيين", [E("سبعة", 7)]),
    ("number-first-text-ends-with-dot", "29 جندياً قتلوا.", [E("29", 29)]),
    ("vague-with-clitic", "ارتقاء عشرات الشهداء، وأصيب العشرات", [
        Exp("عشرات", 30, 30, 99, "vague", "count"), Exp("عشرات", 30, 30, 99, "vague", "count", nth=1)]),
    ("vague-construct", "وعشرات الآلاف من المقاتلين", [Exp("عشرات الآلاف", 30000, 30000, 99999, "vague", "count")]),
    ("vague-thousands", "سراح آلاف الأسرى", [Exp("آلاف", 3000, 3000, 9999, "vague", "count")]),
    ("vague-with-article", "سيحرم الآلاف من حقهم", [Exp("آلاف", 3000, 3000, 9999, "vague", "count")]),
    ("diacritised-number-word", "قُتِلَ خَمْسَةٌ وَعِشْرُونَ شَخْصًا", [E("خَمْسَةٌ وَعِشْرُونَ", 25)]),
    ("quantity-is-not-100", "ستشمل كمية محدودة من الوقود", []),
    ("beersheba-is-not-7", "في اتجاه مدينة بئر السبع", []),
    ("dual-noun-is-no-number", "أفاد مصدران مطلعان", []),
    ("ad-token-is-one-word", "[ad_1] وتشمل المحادثات", []),
    ("glued-to-word-is-not-split", "لكل كم2 من الأرض", []),
    ("half-after-scale", "نحو مليون ونصف نازح",
     [Exp("نحو مليون ونصف", 1_500_000, 1_350_000, 1_650_000, "approx", "count")]),
]

KIND_SENTENCES = [
    # ordinals
    ("ordinal-seventh-of-october", "منذ السابع من أكتوبر", [E("سابع", 7, "ordinal")]),
    ("ordinal-day-34", "لليوم الـ34 على التوالي", [E("34", 34, "ordinal")]),
    ("ordinal-day-spaced", "لليوم الـ 169 على التوالي", [E("169", 169, "ordinal")]),
    ("ordinal-batch", "الدفعة الـ5 من الأسرى", [E("5", 5, "ordinal")]),
    ("count-hours-article", "خلال الساعات الـ24 الماضية", [E("24", 24)]),
    ("count-prisoners-article", "إعادة هؤلاء الأسرى الـ50", [E("50", 50)]),
    ("ordinal-word-f", "في المرحلة الأولى", [E("أولى", 1, "ordinal")]),
    ("ordinal-teen", "لليوم الحادي عشر", [E("حادي عشر", 11, "ordinal")]),
    ("ordinal-compound", "في القرن الحادي والعشرين", [E("حادي والعشرين", 21, "ordinal")]),
    ("ordinal-compound-hundreds", "لليوم الثاني والستين بعد المئتين", [E("ثاني والستين بعد المئتين", 262, "ordinal")]),
    # dates
    ("date-day-month", "الذي كان في 9 نوفمبر", [E("9 نوفمبر", 9, "date")]),
    ("date-day-month-year", "28 نوفمبر 2023 وقال", [E("28 نوفمبر 2023", 28, "date")]),
    ("date-slash", "في 28/11/2023 أعلن", [E("28/11/2023", 28, "date")]),
    ("date-slash-arabic", "في ٢٨/١١/٢٠٢٣", [E("٢٨/١١/٢٠٢٣", 28, "date")]),
    ("date-iso", "بتاريخ 2024-01-15", [E("2024-01-15", 2024, "date")]),
    ("date-levantine-month", "منذ 7 تشرين الأول/أكتوبر", [E("7 تشرين الأول", 7, "date")]),
    ("date-article-min", "في الـ7 من أكتوبر", [E("7 من أكتوبر", 7, "date")]),
    ("date-monday", "اليوم الاثنين", [E("اثنين", 2, "date")]),
    ("article-number-is-not-date", "المادة 94/1 من الميثاق", [E("94", 94), E("1", 1)]),
    ("hyphen-range-is-not-date", "5-10 أشخاص", [Exp("5-10", 5, 5, 10, "range", "count")]),
    # years
    ("year-aam", "منذ عام 1967 وحتى", [E("1967", 1967, "year")]),
    ("year-arabic-digits", "في عام ٢٠١٤", [E("٢٠١٤", 2014, "year")]),
    ("year-suffix", "في 2024م", [E("2024م", 2024, "year")]),
    ("year-after-month", "بعد السابع من أكتوبر 2023،", [E("سابع", 7, "ordinal"), E("2023", 2023, "year")]),
    ("four-digit-count", "قتل 2023 شخصا", [E("2023", 2023)]),
    # times
    ("time-colon", "عند الساعة 3:25 من ظهر اليوم", [E("3:25", 3, "time")]),
    ("time-hour-word", "حتى الساعة 11 من صباح الأربعاء", [E("11", 11, "time")]),
    ("time-daypart", "في 10 صباحا", [E("10 صباحا", 10, "time")]),
    ("time-ordinal-hour", "الساعة السابعة مساءً", [E("سابعة مساءً", 7, "time")]),
    ("invalid-time", "النتيجة 12:99", [E("12", 12), E("99", 99)]),
    ("duration-is-count", "خلال 48 ساعة", [E("48", 48)]),
    # percentages
    ("percent-sign", "بنسبة 25%", [E("25%", 25, "percent")]),
    ("percent-arabic-sign", "بنسبة ٢٥٪ فقط", [E("٢٥٪", 25, "percent")]),
    ("percent-words", "ثلاثين في المئة من السكان", [E("ثلاثين في المئة", 30, "percent")]),
    ("percent-bil-mia", "ارتفع 30 بالمائة", [E("30 بالمائة", 30, "percent")]),
    ("percent-decimal", "نسبة 30.5 في المائة", [E("30.5 في المائة", 30.5, "percent")]),
    ("percent-more-than", "تدمير أكثر من 50% من الوحدات", [Exp("أكثر من 50%", 50, 50, None, "more_than", "percent")]),
]

PROCLITIC_SENTENCES = [
    ("wa-digits", "و15 إصابة", [E("15", 15)]),
    ("wa-bi-tatweel", "وبـ20 شهيدا", [E("20", 20)]),
    ("bi-vague", "استهدافها بعشرات القذائف", [Exp("عشرات", 30, 30, 99, "vague", "count")]),
    ("wal-vague-scale", "والآلاف نزحوا", [Exp("آلاف", 3000, 3000, 9999, "vague", "count")]),
    ("li-word", "لثلاثة أيام", [E("ثلاثة", 3)]),
    ("fa-word", "فخمسة منهم", [E("خمسة", 5)]),
    ("bi-million", "بمليون دولار", [E("مليون", 1_000_000)]),
    ("ka-alf", "كألف رجل", [E("ألف", 1000)]),
    ("wal-word", "والخمسة الباقون", [E("خمسة", 5)]),
    ("lil-approx", "لنحو 50 أسيرا", [Exp("نحو 50", 50, 45, 55, "approx", "count")]),
    ("no-split-inside-word", "الثلاثاء والخميس وستوكهولم", []),
]


def _check_matches(sentence: str, expected: list[Exp]) -> None:
    got = find_numbers(sentence)
    want = []
    for e in expected:
        a, b = _span(sentence, e.text, e.nth)
        want.append((a, b, e.text, e.value, e.low, e.high, e.qualifier, e.kind))
    have = [(m.start, m.end, m.text, m.quantity.value, m.quantity.low, m.quantity.high, m.quantity.qualifier, m.kind)
            for m in got]
    assert have == want
    for m in got:
        assert sentence[m.start:m.end] == m.text


@pytest.mark.parametrize(("sentence", "expected"), [pytest.param(s, e, id=i) for i, s, e in SENTENCES])
def test_find_numbers_in_sentences(sentence: str, expected: list[Exp]) -> None:
    _check_matches(sentence, expected)


@pytest.mark.parametrize(("sentence", "expected"), [pytest.param(s, e, id=i) for i, s, e in KIND_SENTENCES])
def test_find_numbers_kinds(sentence: str, expected: list[Exp]) -> None:
    _check_matches(sentence, expected)


@pytest.mark.parametrize(("sentence", "expected"), [pytest.param(s, e, id=i) for i, s, e in PROCLITIC_SENTENCES])
def test_proclitics_stay_outside(sentence: str, expected: list[Exp]) -> None:
    _check_matches(sentence, expected)


def test_scan_spans_are_in_normalised_text() -> None:
    text = "قُتِلَ أَكْثَرُ مِنْ ٤٠ أَلْفًا"
    norm = normalize(text)
    (raw,) = scan(norm.text)
    assert norm.text[raw.start:raw.end] == "اكثر من 40 الفا"
    assert norm.original_slice(raw.start, raw.end) == "أَكْثَرُ مِنْ ٤٠ أَلْفًا"
    assert raw.quantity == Quantity(40000, 40000, None, "more_than")


# ---------------------------------------------------------------------------------------------
# Seed articles: every figure of the gold quotes, and the numbers of the negative phrases
# ---------------------------------------------------------------------------------------------

ARTICLES = {a["id"]: a["text"] for a in _jsonl(SEEDS / "articles.jsonl")}
GOLD = _jsonl(SEEDS / "gold.jsonl")
NEGATIVES = _jsonl(SEEDS / "negatives.jsonl")

# The number expression, as written, behind each gold claim (keyed by its quote).
GOLD_EXPRESSIONS = {
    "مطلب حماس بإطلاق سراح آلاف الأسرى الفلسطينيين": "آلاف",
    "حماس تطالب بالإفراج عن 100 سجين آخر محكوم عليهم بالسجن مدى الحياة": "100",
    "150 سجينا اتفق الطرفان بالفعل على إطلاق سراحهم": "150",
    "إطلاق سراح 115 محتجزا إسرائيليا لدى حماس": "115",
    "استشهد أكثر من 40 ألف فلسطيني": "أكثر من 40 ألف",
    "ما زال 101 محتجز لدى حماس في غزة": "101",
    "من بينهم سبعة مواطنين أميركيين": "سبعة",
    "نحو 50 منهم ما زالوا على قيد الحياة": "نحو 50",
    "وأفرجت عن 12 آخرين يوم الثلاثاء": "12",
    "إطلاق سراح ونقل 12 رهينة محتجزين في غزة": "12",
    "من المقرر إطلاق سراح 30 أسيرًا فلسطينيًا": "30",
    "أطلقت حماس سراح 69 أسيرًا": "69",
    "51 إسرائيليًا": "51",
    "18 شخصًا من دول أخرى": "18",
    "تم إطلاق سراح 150 سجينًا فلسطينيًا": "150",
    "117 طفلاً": "117",
    "33 امرأة": "33",
}


def _in_quote(article: str, quote: str) -> list[NumberMatch]:
    i = article.index(quote)
    return [m for m in find_numbers(article) if i <= m.start and m.end <= i + len(quote)]


def test_every_gold_quote_has_an_expression() -> None:
    assert {g["quote"] for g in GOLD} == set(GOLD_EXPRESSIONS)


@pytest.mark.parametrize("gold", [pytest.param(g, id=f"{g['article_id'][:3]}-{g['metric']}-{g['value']}") for g in GOLD])
def test_gold_figures_are_found_in_their_articles(gold: dict) -> None:
    article = ARTICLES[gold["article_id"]]
    expression = GOLD_EXPRESSIONS[gold["quote"]]
    found = _in_quote(article, gold["quote"])
    assert len(found) == 1, found
    (m,) = found
    assert m.text == expression
    assert article[m.start:m.end] == expression
    assert m.kind == "count"
    assert m.quantity.value == gold["value"]
    assert m.quantity.qualifier == gold["qualifier"]
    if gold["qualifier"] in ("range", "vague"):
        assert m.quantity.high == gold["value_high"]
    # the quote read alone gives the same figure
    (alone,) = [n for n in find_numbers(gold["quote"]) if n.text == expression]
    assert alone.quantity == m.quantity


# What the numbers of each negative phrase are, so that a rule can ignore them: none at all (a
# dual noun or "عدة" is not a number), a non-count kind (dates), or a count whose noun (sources,
# days, devices) the rules must reject. (text, value, kind) per number, in order.
NEGATIVE_NUMBERS: dict[str, list[tuple[str, float, str]]] = {
    "حسبما أفاد مصدران مطلعان": [],
    "قال ثلاثة مصادر مطلعة": [("ثلاثة", 3, "count")],
    "على مدى الأسبوعين الماضيين": [],
    "منذ السابع من أكتوبر": [("سابع", 7, "ordinal")],
    "لعدة ساعات": [],
    "نقلت رويترز عن مصدرين أمنيين مصريين": [],
    "الانتظار لمدة شهرين آخرين": [],
    "استمرت عدة دقائق": [],
    "تمديد المهلة الأصلية لمدة أربعة أيام لمدة يومين": [("أربعة", 4, "count")],
    "الذي كان في 9 نوفمبر": [("9 نوفمبر", 9, "date")],
    "28 نوفمبر 2023": [("28 نوفمبر 2023", 28, "date")],
    "تفجير ثلاث عبوات ناسفة في موقعين": [("ثلاث", 3, "count")],
    "لا تريد التمديد لأكثر من 10 أيام في المجمل": [("أكثر من 10", 10, "count")],
}


def test_every_negative_has_an_expectation() -> None:
    assert {n["quote"] for n in NEGATIVES} == set(NEGATIVE_NUMBERS)


@pytest.mark.parametrize("neg", [pytest.param(n, id=f"{n['article_id'][:3]}-{n['quote'][:20]}") for n in NEGATIVES])
def test_negative_phrases(neg: dict) -> None:
    article = ARTICLES[neg["article_id"]]
    found = [(m.text, m.quantity.value, m.kind) for m in _in_quote(article, neg["quote"])]
    assert found == NEGATIVE_NUMBERS[neg["quote"]]
    # no negative yields a count in a claim-like sense unless its noun is there to reject it
    for text, _, kind in found:
        if kind == "count":
            after = article[article.index(neg["quote"]):].split(text, 1)[1].split()[0]
            assert after in {"مصادر", "أيام", "عبوات"}


def test_seed_articles_scan_cleanly() -> None:
    for article_id, text in ARTICLES.items():
        prev_end = 0
        for m in find_numbers(text):
            assert text[m.start:m.end] == m.text, article_id
            assert m.start >= prev_end, "matches overlap"
            prev_end = m.end


# ---------------------------------------------------------------------------------------------
# Fuzzing: any text gives sound, ordered, non-overlapping matches
# ---------------------------------------------------------------------------------------------

NUMBERISH = st.lists(
    st.sampled_from(
        ["40", "٤٠", "۴۰", "٬", "٫", "،", ",", ".", " ", "ألف", "آلاف", "ألفا", "مليون", "و", "نحو", "أكثر من",
         "بين", "إلى", "عشرات", "ثلاثة", "عشر", "مئة", "%", "/", ":", "-", "\u064b", "\u0640", "\u200f", "ال",
         "السابع", "من", "أكتوبر", "عام", "2023", "الساعة", "على الأقل", "الـ", "\u00a0", "x"]
    ),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(NUMBERISH, st.text(max_size=40)))
def test_find_numbers_is_sound_on_any_text(text: str) -> None:
    prev_end = 0
    for m in find_numbers(text):
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start:m.end] == m.text
        assert m.start >= prev_end
        prev_end = m.end
        lo, hi = m.quantity.low, m.quantity.high
        assert lo is None or hi is None or lo <= hi
    parse_number(text)  # never raises


# ---------------------------------------------------------------------------------------------
# Duckling's Arabic numeral corpus (BSD-3-Clause, see fixtures/peer-tests/README.md)
# ---------------------------------------------------------------------------------------------

DUCKLING = _jsonl(FIXTURES / "peer-tests" / "duckling_ar.jsonl")
# Lines the parser is known to get wrong: {line number (1-based): reason}. Each is a strict
# xfail, so a fix shows up as XPASS and must be removed from here.
DUCKLING_XFAIL: dict[int, str] = {}


def _duckling_ok(case: dict) -> bool:
    got = parse_number(case["text"])
    return got is not None and got.qualifier == "exact" and abs(got.value - case["value"]) < 1e-9


def _duckling_params() -> list[object]:
    params = []
    for n, case in enumerate(DUCKLING, start=1):
        marks = ([pytest.mark.xfail(strict=True, reason=DUCKLING_XFAIL[n])] if n in DUCKLING_XFAIL else [])
        params.append(pytest.param(case, id=f"{n:03d}-{case['locale']}-{case['text']}", marks=marks))
    return params


@pytest.mark.parametrize("case", _duckling_params())
def test_duckling_case(case: dict) -> None:
    assert _duckling_ok(case), (case["text"], case["value"], parse_number(case["text"]))


def test_duckling_pass_rate() -> None:
    passed = sum(_duckling_ok(c) for c in DUCKLING)
    assert len(DUCKLING) == 319
    assert passed / len(DUCKLING) >= 0.99
    # the xfail list holds exactly the failures
    failing = {n for n, c in enumerate(DUCKLING, start=1) if not _duckling_ok(c)}
    assert failing == set(DUCKLING_XFAIL)
