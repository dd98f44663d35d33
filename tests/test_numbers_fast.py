"""The fast paths of ``tracker.numbers.scan`` agree with the readings they replace.

* Digit numbers are read in Python around small regexes (``_read_digits``) instead of one big
  regex, ``_FAST_RE``. The regex is kept here as the reference: every group it captured (the
  qualifier before, the word before, digits, scale word, addend, the alternative after and its
  words) must come out the same, on hand-picked edge cases and on generated text.
* ``_read`` reads one-token numbers ("50 شخصا", "اربعة اشخاص") without the token grammar; it must
  agree with ``_read_tokens`` (numwords.tokenize + evaluate) everywhere.
* ``scan`` on short sentences, exact ``RawNumber`` values: qualifiers before and after, ranges,
  years, percentages, clock times, dates, proclitics, Arabic-Indic digits.
"""

from __future__ import annotations

import random

import pytest
import regex

from tracker import numbers, numwords
from tracker.numbers import scan
from tracker.textnorm import normalize

# ---------------------------------------------------------------------------------------------
# scan: exact results (start, end, value, low, high, qualifier, kind) on normalised text
# ---------------------------------------------------------------------------------------------

SCAN_CASES = [
    # qualifiers before a digit number, with a scale word, with a proclitic, with an article
    ("أكثر من 40 ألف شخص", [(0, 14, 40000, 40000, None, "more_than", "count")]),
    ("قتل نحو 50", [(4, 10, 50, 45, 55, "approx", "count")]),
    ("نحو  50", [(0, 7, 50, 45, 55, "approx", "count")]),
    ("نحو\n50", [(0, 6, 50, 45, 55, "approx", "count")]),
    ("نحو\x1c50", [(4, 6, 50, 50, 50, "exact", "count")]),  # \x1c: isspace(), but not \s
    ("ونحو 50 شخصا", [(1, 7, 50, 45, 55, "approx", "count")]),
    ("قرابة الـ50 اسيرا", [(0, 10, 50, 45, 55, "approx", "count")]),
    ("نحو وال50 شخصا", [(7, 9, 50, 50, 50, "exact", "count")]),  # "وال" is no article alone
    ("لاكثر من 300 شخص", [(1, 12, 300, 300, None, "more_than", "count")]),
    ("ما لا يقل عن 15 مصابا", [(0, 15, 15, 15, None, "at_least", "count")]),
    ("فما يقارب 50", [(1, 12, 50, 45, 55, "approx", "count")]),  # a proclitic on a qualifier of two words
    ("كاكثر من 50", [(9, 11, 50, 50, 50, "exact", "count")]),  # ك is no proclitic of a qualifier
    ("كما يقارب 50 شخصا", [(4, 12, 50, 45, 55, "approx", "count")]),  # not "ما يقارب"
    ("اكثر من 3 آلاف و577 شهيدا", [(0, 19, 3577, 3577, None, "more_than", "count")]),
    # qualifiers after the number or its noun
    ("قتل 20 شخصا على الاقل", [(4, 6, 20, 20, None, "at_least", "count")]),
    ("قتل 20 شخصا على الاقل من", [(4, 6, 20, 20, 20, "exact", "count")]),
    ("وصل 50 شخصا او اكثر", [(4, 6, 50, 50, None, "at_least", "count")]),
    # ranges
    ("بين 10 و20 شخصا", [(0, 10, 10, 10, 20, "range", "count")]),
    ("ما بين 3 الى 5 ايام", [(0, 14, 3, 3, 5, "range", "count")]),
    ("بين 500 و10 آلاف", [(0, 16, 500, 500, 10000, "range", "count")]),
    ("من 40 الى 45", [(0, 12, 40, 40, 45, "range", "count")]),
    ("ارتفع العدد من 40 الى 45", [(15, 17, 40, 40, 40, "exact", "count"), (22, 24, 45, 45, 45, "exact", "count")]),
    ("من 50 شخصا", [(3, 5, 50, 50, 50, "exact", "count")]),
    ("10-15", [(0, 5, 10, 10, 15, "range", "count")]),
    ("10 - 15 شخصا", [(0, 2, 10, 10, 10, "exact", "count"), (5, 7, 15, 15, 15, "exact", "count")]),
    # years, percentages, clock times, dates, ordinals after an article
    ("في عام 2023 قتل", [(7, 11, 2023, 2023, 2023, "exact", "year")]),
    ("2023م", [(0, 5, 2023, 2023, 2023, "exact", "year")]),
    ("حرب 2014", [(4, 8, 2014, 2014, 2014, "exact", "year")]),
    ("تشرين الاول 2023", [(12, 16, 2023, 2023, 2023, "exact", "year")]),
    ("ارتفعت الاسعار 50% هذا العام", [(15, 18, 50, 50, 50, "exact", "percent")]),
    ("نسبة 12 بالمئة", [(5, 14, 12, 12, 12, "exact", "percent")]),
    ("عند الساعة 10:30 صباحا", [(11, 16, 10, 10, 10, "exact", "time")]),
    ("الساعة 12:99", [(7, 9, 12, 12, 12, "exact", "time"), (10, 12, 99, 99, 99, "exact", "count")]),
    ("الساعة 10", [(7, 9, 10, 10, 10, "exact", "time")]),
    ("10 صباحا", [(0, 8, 10, 10, 10, "exact", "time")]),
    ("24 ليلا", [(0, 7, 24, 24, 24, "exact", "time")]),
    ("25 ليلا", [(0, 2, 25, 25, 25, "exact", "count")]),
    ("في 7 أكتوبر 2023", [(3, 16, 7, 7, 7, "exact", "date")]),
    ("في 7/10/2023", [(3, 12, 7, 7, 7, "exact", "date")]),
    ("المادة 94/1", [(7, 9, 94, 94, 94, "exact", "count"), (10, 11, 1, 1, 1, "exact", "count")]),
    ("لليوم الـ34", [(8, 10, 34, 34, 34, "exact", "ordinal")]),
    ("الساعات الـ24", [(10, 12, 24, 24, 24, "exact", "count")]),
    # proclitics, digit scripts, separators, glued words
    ("و150 جريحا", [(1, 4, 150, 150, 150, "exact", "count")]),
    ("قتل ٤٠ شخصا", [(4, 6, 40, 40, 40, "exact", "count")]),
    ("1.5 مليون دولار", [(0, 9, 1500000, 1500000, 1500000, "exact", "count")]),
    ("40,000 نازح", [(0, 6, 40000, 40000, 40000, "exact", "count")]),
    ("50 الفا", [(0, 7, 50000, 50000, 50000, "exact", "count")]),
    ("3 آلاف ونصف", [(0, 11, 3500, 3500, 3500, "exact", "count")]),
    ("50شخصا", [(0, 2, 50, 50, 50, "exact", "count")]),
    ("x50", []),
    ("ad_4.8", []),
    # number words: one token (read without the grammar) and more
    ("ثلاثة اشخاص", [(0, 5, 3, 3, 3, "exact", "count")]),
    ("الاف الفلسطينيين", [(0, 4, 3000, 3000, 9999, "vague", "count")]),
    ("عشرات الالاف", [(0, 12, 30000, 30000, 99999, "vague", "count")]),
    ("اربعة عشر", [(0, 9, 14, 14, 14, "exact", "count")]),
    ("الفين", [(0, 5, 2000, 2000, 2000, "exact", "count")]),
    ("5 فاصلة 3", [(0, 9, 5.3, 5.3, 5.3, "exact", "count")]),
]


@pytest.mark.parametrize(("text", "expected"), SCAN_CASES, ids=[c[0] for c in SCAN_CASES])
def test_scan_exact(text: str, expected: list[tuple]) -> None:
    got = [
        (n.start, n.end, n.quantity.value, n.quantity.low, n.quantity.high, n.quantity.qualifier, n.kind)
        for n in scan(normalize(text).text)
    ]
    assert got == expected
    assert [type(g[2]) for g in got] == [type(e[2]) for e in expected]  # 40000, not 40000.0


# ---------------------------------------------------------------------------------------------
# _read_digits against the regex it replaces
# ---------------------------------------------------------------------------------------------

FAST_RE = regex.compile(
    rf"""
    (?:(?<=(?<![^\W\d_])(?:لل|[وفبل])?(?P<q>\L<qb>)\s+(?:ال)?))?
    (?:(?<=(?<![^\W\d_])(?P<pw>[^\W\d_]+)\s+[^\W\d_]{{0,4}}))?
    (?P<d>{numwords.DIGITS})
    (?:\s*(?P<sc>\L<scales>)(?![^\W\d_])
       (?:\s*و\s*(?P<add>\d+(?:\.\d+)?)(?!\d)(?!\s*(?:\L<scales>)(?!\w)))?
    )?
    (?:
       (?P<time>:\d{{2}}(?!\d)(?::\d{{2}}(?!\d))?)
      |(?P<date>[/-]\d{{1,2}}(?:[/-]\d{{2,4}})?(?!\d)|/\d{{4}}(?!\d))
      |(?P<pct>\s*(?:%|(?:في|ب)\s*ال(?:مئة|مائة|مية|ميه|مئه|مائه)(?![^\W\d_])))
      |(?P<month>\s*(?:من\s+)?(?:شهر\s+)?(?:{numbers._MONTHS_RE})(?![^\W\d_])(?:\s*(?:عام\s+|سنة\s+)?\d{{4}}(?!\d))?)
      |(?P<qa>\s*,?\s*(?:\L<qa>)(?![^\W\d_]))
      |(?P<rng>\s+(?:الي|او|حتي|لغاية)\s+|\s*و\s*(?=\d)|[-–](?=\d))
      |(?P<ysfx>\s?(?:م|ه)(?![^\W\d_]))
      |(?P<half>\s*و\s*(?:نصف|ربع)(?![^\W\d_]))
      |(?P<point>\s+فاصل)
      |(?P<nx>\s+(?P<nxw>[^\W\d_]++)(?:\s*,?\s*(?P<qnw>\L<qn>)(?![^\W\d_])(?!\s*من(?![^\W\d_])))?)
    )?
    """,
    regex.VERBOSE,
    qb=sorted(numbers._QUALIFIERS_BEFORE, key=len, reverse=True),
    scales=numbers._SCALE_WORDS,
    qa=sorted(numbers._QUALIFIERS_AFTER, key=len, reverse=True),
    qn=numbers._QUALS_AFTER_NOUN,
)


def _reference(text: str, pos: int) -> tuple | None:
    m = FAST_RE.match(text, pos)
    if m is None:
        return None
    group = m.lastgroup
    sc, add = m.group("sc"), m.group("add")
    return (
        m.group("d"), m.end("d"), m.group("q"), m.start("q") if m.group("q") is not None else 0, m.group("pw") or "",
        sc, m.end("sc") if sc is not None else 0, add, m.end("add") if add is not None else 0,
        group, m.group(group) if group in ("date", "time", "qa") else "", m.end(), m.group("nxw"), m.group("qnw"),
    )


def _read(text: str, pos: int) -> tuple | None:
    r = numbers._read_digits(text, pos)
    if r is None:
        return None
    sc_end = r[6] if r[5] is not None else 0  # the regex has no end for a group that did not match
    add_end = r[8] if r[7] is not None else 0
    return (*r[:6], sc_end, r[7], add_end, *r[9:])


def _digit_starts(text: str) -> list[int]:
    return [i for i, c in enumerate(text) if "0" <= c <= "9" and (i == 0 or not "0" <= text[i - 1] <= "9")]


# Each exercises one branch of _read_digits or of the look-ups it replaced.
DIGIT_EDGE_CASES = [
    "نحو 50", "كنحو 50", "لنحو 50", "للنحو 50", "وللنحو 50", "نحو\t\t50", "نحو\x1c50", "نحو ال50", "نحو وال50", "ونحو 50", "ضمن 50", "للاكثر من 50", "ولاكثر من 50",
    "كما يقارب 50", "ما يقارب 50", "ما لا يقل عن 50", "ما لا  يقل عن 50", "x نحو 50", "نحو" + "\u064b" + " 50",
    "عام 2023", "عام  2023", "عام\n2023", "عام ابتث2023", "عام ابتثج2023", "حرب_ 2014", "الساعة 10", "اليوم ال 34",
    "كلمةطويلةجداجداجداجداجداجداجدا 50", "5 50", "(50)", "50.", "50", " 50", "50 ", "50 %", "50%", "50 ,", "50,5 مليون",
    "1.5 مليون", "1.234.567", "40,000", ".77", "12:30", "12:30:15", "7/10/2023", "94/1", "5-10", "5–10", "2023-01-15",
    "50 الف", "50الف", "50 الف و300", "50 الف و 300 شخص", "50 الف و300 الف", "3 ملايين و1.5", "50 الف شخص", "50 الف ,",
    "7 اكتوبر", "7اكتوبر", "7 من شهر اكتوبر 2023", "7 من الجنود", "7 شهر", "15 تشرين الاول", "15 تشرين",
    "50 علي الاقل", "50, علي الاقل", "50 شخصا علي الاقل", "50 شخصا , علي الاقل", "50 شخصا علي الاقل من", "50 او اكثر",
    "10 الي 20", "10 الي", "10 الي20", "10 حتي 20", "10 او 20", "10 و20", "10 و 20", "10و20", "10 ونصف", "10 و نصف",
    "2023م", "2023 م", "2023  م", "5 فاصلة 3", "5 فاصل", "10 صباحا", "10 صباحا علي الاقل", "50 بالمئة", "50 في المئة",
    "50 ب المئة", "50 فيالمئة", "50 برميلا", "50 في", "50شخصا", "50_", "50\u064bشخصا", "١2 شخصا", "12٣ شخصا", "9" * 400,
]


@pytest.mark.parametrize("text", DIGIT_EDGE_CASES)
def test_read_digits_edge_cases(text: str) -> None:
    starts = _digit_starts(text)
    assert starts
    for pos in starts:
        assert _read(text, pos) == _reference(text, pos), (text, pos)


def _generated_texts(seed: int, count: int) -> list[str]:
    rnd = random.Random(seed)
    words = (
        list(numbers._QUALIFIERS_BEFORE) + list(numbers._QUALIFIERS_AFTER) + numbers._SCALE_WORDS
        + sorted(numbers._MONTH_NAMES) + sorted(numbers._DAYPARTS) + sorted(numbers._YEAR_WORDS)
        + sorted(numbers._TIME_WORDS) + sorted(numwords.WORD_TYPES)
        + ["شخصا", "ال", "و", "ف", "ب", "ل", "لل", "م", "ه", "في", "المئة", "بالمئة", "فاصل", "ونصف", "من", "شهر",
           "حرب", "تشرين", "الاول", "اليوم", "لليوم", "ضمن", "كما", "abc", "x_y", "و577", "و 20"]
    )
    numbers_ = ["1", "5", "12", "24", "31", "50", "2023", "1999", "40000", "1.5", "40,000", "3,5", ".77", "12:30",
                "12:99", "7/10/2023", "94/1", "5-10", "١٢", "12٣", "ال50", "و50", "وال50", "x50"]
    seps = [" ", " ", " ", "  ", "\n", "\t", "\x1c", "\xa0", "", ",", ".", ":", "/", "-", "–", "%", "(", "_", "\u064b"]
    prefixes = ["", "", "", "و", "ف", "ب", "ل", "لل", "ك", "وال", "x", "5"]
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rnd.randint(2, 8)):
            r = rnd.random()
            token = rnd.choice(numbers_) if r < 0.35 else rnd.choice(prefixes) + rnd.choice(words)
            parts.append(token + rnd.choice(seps))
        texts.append("".join(parts))
    return texts


def test_read_digits_generated() -> None:
    checked = 0
    for text in _generated_texts(seed=20240, count=1500):
        for pos in _digit_starts(text):
            assert _read(text, pos) == _reference(text, pos), (text, pos)
            checked += 1
    assert checked > 1500


def _reference_digits(text: str, pos: int) -> tuple | None:
    return _reference(text, pos)


def test_scan_with_reference_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """scan with the fast readings and with the ones they replace gives the same numbers."""
    texts = _generated_texts(seed=7, count=600) + [normalize(t).text for t, _ in SCAN_CASES] + DIGIT_EDGE_CASES
    fast = [scan(t) for t in texts]
    monkeypatch.setattr(numbers, "_read_digits", _reference_digits)
    monkeypatch.setattr(numbers, "_read", numbers._read_tokens)
    assert [scan(t) for t in texts] == fast
    assert sum(map(len, fast)) > 1000


# ---------------------------------------------------------------------------------------------
# _read: one-token shortcuts against the token grammar
# ---------------------------------------------------------------------------------------------

READ_EDGE_CASES = [
    "50 شخصا", "50", "50 60", "50 الف", "50 والف", "50 و الف", "50 فاصلة 5", "50 وفاصلة 5", "1.5 مليون", "3,5 مليون",
    "9" * 400 + " شخص", "اربعة اشخاص", "اربعة عشر", "اربعة 5", "اربعة و5", "اربعة وعشرون", "الف شخص", "الفين", "الفا",
    "الاف الفلسطينيين", "الاف 5", "عشرات الالاف", "عشرات الاشخاص", "بضع مئات", "بضعة اشخاص", "مئة اثنا عشر", "مئة شخص",
    "احد عشر", "احد الاشخاص", "احد", "احد 5", "احد,", "احد وعشرون", "احد و عشرون", "احدي عشرة", "بين 962 و1005",
    "962 و 1005", "962و1005", "962 و,5", "962 و الف", "962 و.5", "احد الاسري", "نصف مليون", "نصف الاسري", "فاصلة", "ثلاثمائة شخص", "مليون ونصف", "مليون و نصف",
    "خمسين,", "خمسين\n", "خمسين\x1c", "خمسين" + "\u064b", "الف_", "الف2",
]


@pytest.mark.parametrize("text", READ_EDGE_CASES)
def test_read_shortcuts_edge_cases(text: str) -> None:
    for pos in range(len(text) + 1):
        assert repr(numbers._read(text, pos)) == repr(numbers._read_tokens(text, pos)), (text, pos)


def test_read_shortcuts_generated() -> None:
    rnd = random.Random(3)
    words = sorted(numwords.WORD_TYPES) + ["و", "شخصا", "من", "ونصف", "وعشرين", "ab", "_x", "5", "50", "1.5", "40,000"]
    seps = [" ", " ", "  ", "\n", "", ",", ".", "\x1c", "\u064b"]
    shortcut = 0
    for _ in range(1500):
        text = "".join(rnd.choice(words) + rnd.choice(seps) for _ in range(rnd.randint(1, 5)))
        for pos in range(len(text) + 1):
            assert repr(numbers._read(text, pos)) == repr(numbers._read_tokens(text, pos)), (text, pos)
            shortcut += pos < len(text) and numbers._read_lone_word(text, pos) is not None
    assert shortcut > 500  # the shortcut was taken, not just the fallback


# ---------------------------------------------------------------------------------------------
# _ordinal against the regex it replaced
# ---------------------------------------------------------------------------------------------

ORDINAL_RE = regex.compile(r"(?P<w>\L<ords>)(?:\s+(?P<teen>عشر[ةه]?))?(?!\w)", ords=list(numbers._ORDINALS))


def _reference_ordinal(text: str, ws: int, pos: int) -> numbers.RawNumber | None:
    om = ORDINAL_RE.match(text, pos)
    if om is None:
        return None
    prev = numbers._prev_word(text, ws)
    if prev in numbers._NOT_ORDINAL_AFTER:
        return None
    value = numbers._ORDINALS[om.group("w")] + (10 if om.group("teen") else 0)
    end = om.end()
    if not om.group("teen") and (tm := numbers._ORDINAL_TEN_RE.match(text, end)):
        value += numwords.TENS[tm.group("ten")]
        end = tm.end()
        if hm := numbers._ORDINAL_HUNDRED_RE.match(text, end):
            value += numwords.HUNDREDS[hm.group("h")]
            end = hm.end()
    kind = "ordinal"
    dm = numbers._DAYPART_AFTER_RE.match(text, end)
    if value <= 12 and (prev in numbers._TIME_WORDS or dm is not None):
        kind = "time"
        end = dm.end() if dm is not None else end
    return numbers.RawNumber(pos, end, numbers.Quantity.of(value), kind)  # type: ignore[arg-type]


ORDINAL_CASES = [
    "الثاني", "الثاني عشر", "الثانية عشرة", "الثاني عشره", "الثاني  عشر", "الثاني\nعشر", "الثاني عشرات", "الثاني عشر5",
    "الثاني عشر_", "الثاني5", "الثاني_", "ثاني" + "\u064b", "الحادي والعشرين", "الحادي و العشرين", "الثاني والستين بعد المئتين",
    "العاشرة صباحا", "الساعة السابعة", "الساعة الحادية عشرة", "السابع عشر مساء", "تشرين الاول", "كانون الثاني", "ال ثاني",
    "الاول", "اولي", "الثالث عشر صباحا", "الرابع,", "الخامس.", "السادس\x1c", "السابع عشرة5",
]


def test_ordinal_matches_the_regex() -> None:
    texts = ORDINAL_CASES + [" ".join(random.Random(i).choices(ORDINAL_CASES + ["قتل", "في", "و"], k=4)) for i in range(300)]
    checked = 0
    for text in texts:
        for pos in range(len(text)):
            if pos == 0 or not text[pos - 1].isalpha():
                for ws in {pos, max(0, pos - 2)}:
                    assert numbers._ordinal(text, ws, pos) == _reference_ordinal(text, ws, pos), (text, ws, pos)
                    checked += 1
    assert checked > 1000


# ---------------------------------------------------------------------------------------------
# the character classes the Python reading relies on
# ---------------------------------------------------------------------------------------------

CHARS = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u2003\u3000_-.,:%5٣²abzءاي\u064b\u0301\u0670ـ،؛\U0001f600\U00010400"


@pytest.mark.parametrize("ch", list(CHARS))
def test_char_classes_match_the_regexes(ch: str) -> None:
    assert numbers._IS_LETTER[ch] == bool(regex.match(r"[^\W\d_]", ch))
    assert numbers._IS_SPACE[ch] == bool(regex.match(r"\s", ch))


def test_char_class_memo_stays_small() -> None:
    numbers._IS_LETTER["\U00010400"]  # noqa: B018  (looked up, not kept)
    assert all(c < "\u3000" for c in numbers._IS_LETTER)
