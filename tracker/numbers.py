"""Numbers in Arabic text: ``parse_number`` for one expression, ``find_numbers`` for running text.

A number expression is digits (three scripts, separators, decimals) and/or number words, with
an optional qualifier before (نحو، أكثر من، ما لا يقل عن، بين ...) or after (على الأقل، ونيف).
Each expression found is also classified (``kind``) so that rules can ignore what is not a
count: ordinals, years, dates, clock times and percentages.

Speed matters (every article passes through here), so the scan does not try a big regex at
every position: candidate starts are digit runs (one fast ``\\d+`` scan) and word-initial stems
of number words (``str.find``, which runs at memory speed); the token grammar runs only there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, NamedTuple

import ahocorasick_rs
import regex

from tracker import numwords
from tracker.quantity import Qualifier, Quantity
from tracker.textnorm import normalize

NumberKind = Literal["count", "ordinal", "year", "date", "time", "percent"]

__all__ = ["NumberMatch", "Quantity", "NumberKind", "RawNumber", "find_numbers", "parse_number", "scan"]


class NumberMatch(NamedTuple):
    """A number expression found in text: half-open span, the original characters, its value."""

    start: int
    end: int
    text: str
    quantity: Quantity
    kind: NumberKind


class RawNumber(NamedTuple):
    """A number expression in *normalised* text (what the rule engine works with)."""

    start: int
    end: int
    quantity: Quantity
    kind: NumberKind


# Proclitics that may be glued to a number (و ف ب ل ك ال لل and their stacks); never in a span.
PROCLITICS = frozenset(
    a + b
    for a in ("", "و", "ف")
    for b in ("", "ب", "ل", "ك", "ال", "لل", "بال", "كال")
)
# Word-initial stems: every number word starts with one (tested), so these find all candidates.
_STEMS = (
    "صفر", "واحد", "اثن", "اتن", "ثنت", "ثلاث", "تلات", "تلت", "اربع", "خمس", "ست", "سطاشر", "سبع",
    "ثمان", "تمان", "تمن", "تسع", "عشر", "حداشر", "احداشر", "مئ", "مائ", "مية", "ميه", "ماية", "مايه",
    "متين", "ميتين", "ميات", "الف", "الاف", "الالاف", "الوف", "مليو", "ملاي", "الملاي", "مليار",
    "المليار", "بليون", "بلاي", "البلاي", "تريليو", "ترليو", "التريليو", "بضع", "اول", "ثاني", "ثالث", "رابع", "خامس", "سادس", "سابع", "ثامن",
    "تاسع", "عاشر", "حادي", "احد", "نصف", "ربع", "ثلثم",
)
# One Aho-Corasick pass finds every stem; the digit stems find digit runs (normalised text has
# ASCII digits only).
_STEM_SCAN = ahocorasick_rs.AhoCorasick(
    list(_STEMS) + list("0123456789"), matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
)
# Words that read as a proclitic + number word but are other words: "I am not", "the lady",
# "quantity" (ك + Egyptian مية). Checked without a leading و/ف.
_NOT_NUMBERS = frozenset({"لست", "الست", "كمية", "كميه"})
# Names holding a number word: the word, and the words before it that make it a name (Beersheba).
_NAMES: dict[str, frozenset[str]] = {"السبع": frozenset({"بير", "بئر"})}
# "تشرين الاول", "كانون الثاني", "آل ثاني": month and family names, not ordinals.
_NOT_ORDINAL_AFTER = frozenset({"تشرين", "كانون", "ال"})

_ORDINALS = {
    "اول": 1, "اولي": 1, "ثاني": 2, "ثانية": 2, "ثالث": 3, "ثالثة": 3, "رابع": 4, "رابعة": 4,
    "خامس": 5, "خامسة": 5, "سادس": 6, "سادسة": 6, "سابع": 7, "سابعة": 7, "ثامن": 8, "ثامنة": 8,
    "تاسع": 9, "تاسعة": 9, "عاشر": 10, "عاشرة": 10, "حادي": 1, "حادية": 1,
}
_ORDINAL_RE = regex.compile(r"(?P<w>\L<ords>)(?:\s+(?P<teen>عشر[ةه]?))?(?!\w)", ords=list(_ORDINALS))
# Compound ordinals: "الحادي والعشرين" (21st), "الثاني والستين بعد المئتين" (262nd).
_ORDINAL_TEN_RE = regex.compile(r"\s*و\s*(?:ال)?(?P<ten>\L<tens>)(?!\w)", tens=list(numwords.TENS))
_ORDINAL_HUNDRED_RE = regex.compile(r"\s+بعد\s+(?:ال)?(?P<h>\L<hs>)(?!\w)", hs=list(numwords.HUNDREDS))

_MONTH_NAMES = frozenset((
    "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر شباط اذار نيسان "
    "ايار حزيران تموز اب ايلول جانفي فيفري افريل ماي جوان جويلية اوت"
).split()) | {"كانون الثاني", "تشرين الاول", "تشرين الثاني", "كانون الاول"}
# Two-word names use \s+, not a space: _FAST_RE is VERBOSE and would drop a literal space.
_MONTHS_RE = "|".join(m.replace(" ", r"\s+") for m in sorted(_MONTH_NAMES, key=len, reverse=True))
_DATE_AFTER_RE = regex.compile(rf"\s*(?:من\s+)?(?:شهر\s+)?(?:{_MONTHS_RE})(?!\w)(?:\s*(?:عام\s+|سنة\s+)?\d{{4}}(?!\d))?")
_SLASH_DATE_RE = regex.compile(r"[/-]\d{1,2}(?:[/-]\d{2,4})?(?!\d)|/\d{4}(?!\d)")
_TIME_AFTER_RE = regex.compile(r":\d{2}(?!\d)(?::\d{2}(?!\d))?")
_PERCENT_AFTER_RE = regex.compile(r"\s*(?:%|(?:في|ب)\s*ال(?:مئة|مائة|مية|ميه|مئه|مائه)(?!\w))")
_YEAR_WORDS = frozenset(
    "عام العام سنة السنة منذ مطلع اوائل اواخر منتصف خريف ربيع صيف شتاء".split()
) | _MONTH_NAMES
_YEAR_AFTER_RE = regex.compile(r"\s?(?:م|ه)(?!\w)")
_TIME_WORDS = frozenset({"الساعة", "الساعه"})
_HALF_AFTER_RE = regex.compile(r"\s*و\s*(?P<f>نصف|ربع)(?!\w)")
_CLITIC_HEADS = ("و", "ف", "ب", "ل", "لل")

# Qualifiers, looked up as the one to four words before a number ("ما لا يقل عن").
_QUALIFIERS_BEFORE: dict[str, Qualifier | Literal["between", "from"]] = {
    "نحو": "approx", "حوالي": "approx", "قرابة": "approx", "قرابه": "approx", "زهاء": "approx",
    "ما يقارب": "approx", "يقارب": "approx", "ما يقرب من": "approx", "يقرب من": "approx",
    "ما يقارب من": "approx", "يقارب من": "approx", "تقارب": "approx", "تناهز": "approx",
    "ما يناهز": "approx", "يناهز": "approx", "تقريبا": "approx", "في حدود": "approx",
    "اكثر من": "more_than", "ما يزيد علي": "more_than", "ما يزيد عن": "more_than",
    "يزيد علي": "more_than", "يزيد عن": "more_than", "ازيد من": "more_than", "ما يربو علي": "more_than",
    "يربو علي": "more_than", "ما يفوق": "more_than", "يفوق": "more_than", "ما يتجاوز": "more_than",
    "يتجاوز": "more_than", "تجاوز": "more_than", "تجاوزت": "more_than", "تخطي": "more_than",
    "يتخطي": "more_than", "ما يتخطي": "more_than", "فوق": "more_than",
    "تزيد علي": "more_than", "تزيد عن": "more_than", "تتجاوز": "more_than", "تفوق": "more_than",
    "ما ينيف علي": "more_than", "ينيف علي": "more_than", "ما يربو عن": "more_than",
    "ما ينوف علي": "more_than", "ينوف علي": "more_than", "ما ينوف عن": "more_than",
    "ما لا يقل عن": "at_least", "لا يقل عن": "at_least", "ما لا يقل علي": "at_least",
    "علي الاقل": "at_least", "لا تقل عن": "at_least", "ما لا تقل عن": "at_least",
    "اقل من": "less_than", "ما يقل عن": "less_than", "ما دون": "less_than", "دون": "less_than",
    "ما لا يزيد عن": "at_most", "ما لا يزيد علي": "at_most", "لا يزيد عن": "at_most",
    "لا يزيد علي": "at_most", "ما يصل الي": "at_most", "حتي": "at_most",
    # negations of more_than verbs: longer phrases win, so "لا يتجاوز" is not "يتجاوز"
    "لا يتجاوز": "at_most", "ما لا يتجاوز": "at_most", "لا تتجاوز": "at_most",
    "لا تزيد عن": "at_most", "لا تزيد علي": "at_most", "لا يتعدي": "at_most", "لا تتعدي": "at_most",
    "ما بين": "between", "بين": "between", "من": "from",
}
_QUALIFIERS_AFTER: dict[str, Qualifier] = {
    "علي الاقل": "at_least", "تقريبا": "approx", "ونيف": "more_than", "و نيف": "more_than",
    "او اكثر": "at_least", "فاكثر": "at_least", "واكثر": "at_least", "علي الاكثر": "at_most",
    "كحد ادني": "at_least", "كحد اقصي": "at_most", "علي اقل تقدير": "at_least",
    "بحد ادني": "at_least", "بحد اقصي": "at_most", "علي اقصي تقدير": "at_most",
    "وما فوق": "at_least", "فما فوق": "at_least", "وما دون": "at_most", "فما دون": "at_most",
}
_QUAL_AFTER_RE = regex.compile(
    r"\s*[,،]?\s*(?P<q>\L<quals>)(?!\w)", quals=sorted(_QUALIFIERS_AFTER, key=len, reverse=True)
)
# "قتل 20 شخصا على الاقل": the qualifier after the counted noun. The span stays on the number
# (rules read the noun after it); "او اكثر من ..." starts another figure, so not before "من".
_QUALS_AFTER_NOUN = sorted(set(_QUALIFIERS_AFTER) - {"واكثر", "ونيف", "و نيف"}, key=len, reverse=True)
_QUAL_AFTER_NOUN_RE = regex.compile(
    r"\s+[^\W\d_]++\s*,?\s*(?P<q>\L<quals>)(?!\w)(?!\s*من(?!\w))", quals=_QUALS_AFTER_NOUN
)
# A clock time told by the part of the day: "10 صباحا", "العاشرة مساء".
_DAYPARTS = frozenset({"صباحا", "مساء", "مساءا", "ظهرا", "عصرا", "فجرا", "ليلا"})
_DAYPART_AFTER_RE = regex.compile(r"\s+(?:" + "|".join(_DAYPARTS) + r")(?!\w)")
_RANGE_SEP_RE = {
    "between": regex.compile(r"\s*و\s*|\s+(?:الي|حتي)\s+"),  # "ما بين 3 الى 5" is common too
    "from": regex.compile(r"\s+(?:الي|حتي|لغاية)\s+"),
    None: regex.compile(r"\s+(?:الي|او)\s+|[-–](?=\d)"),  # "5-10", "100–150" (en dash)
}
# "ارتفع العدد من 40 الى 45" is a change, not a range.
_RISE_STEMS = ("ارتف", "ترتفع", "يرتفع", "زاد", "يزيد", "تزيد", "قفز", "صعد", "انخفض", "تراجع")
_LOOKBACK = 40

# "لليوم الـ34" is the 34th day but "الساعات الـ24" the 24 hours: after an article a number is an
# ordinal only when the noun before it is a singular that counts turns. Feminine singulars in ة
# (الدفعة، المرة، الجولة، الدورة، الذكري) and these masculine ones do; plurals do not.
_ORDINAL_HEADS = frozenset(
    "يوم اسبوع شهر عام قرن طابق بند فصل مؤتمر اجتماع موسم جيل عدد مركز كنيست لقاء اسير "
    "حزب لواء فوج صف مستوي مقعد رقم".split()
)
_ARTICLES = ("وال", "بال", "فال", "كال", "لل", "ال")
# Scale words the lexicon lists with their article ("عشرات الالاف" reads it as one token).
_ARTICLE_SCALES = tuple(w for w in numwords.SCALES if w.startswith("ال") and w[2:] in numwords.SCALES)

# The common case in one regex call: a digit number with its optional qualifier before (a
# look-behind that captures; "قرابة الـ50" puts an article between), scale word and addend
# ("3 آلاف و577"), and what follows it (a clock time, a date, a percent sign, a qualifier after
# the number or after its noun, or a range to finish in Python).
# (The qualifier's own proclitic, "لاكثر من", is matched outside the list: listing every
# clitic form made the look-behind's list six times longer and the scan measurably slower.)
_SCALE_WORDS = sorted((w for w, t in numwords.WORD_TYPES.items() if t == "scale"), key=len, reverse=True)
_FAST_RE = regex.compile(
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
      |(?P<month>\s*(?:من\s+)?(?:شهر\s+)?(?:{_MONTHS_RE})(?![^\W\d_])(?:\s*(?:عام\s+|سنة\s+)?\d{{4}}(?!\d))?)
      |(?P<qa>\s*,?\s*(?:\L<qa>)(?![^\W\d_]))
      |(?P<rng>\s+(?:الي|او|حتي|لغاية)\s+|\s*و\s*(?=\d)|[-–](?=\d))
      |(?P<ysfx>\s?(?:م|ه)(?![^\W\d_]))
      |(?P<half>\s*و\s*(?:نصف|ربع)(?![^\W\d_]))
      |(?P<point>\s+فاصل)
      |(?P<nx>\s+(?P<nxw>[^\W\d_]++)(?:\s*,?\s*(?P<qnw>\L<qn>)(?![^\W\d_])(?!\s*من(?![^\W\d_])))?)
    )?
    """,
    regex.VERBOSE,
    qb=sorted(_QUALIFIERS_BEFORE, key=len, reverse=True),
    scales=_SCALE_WORDS,
    qa=sorted(_QUALIFIERS_AFTER, key=len, reverse=True),
    qn=_QUALS_AFTER_NOUN,
)


def _valid_date(first: str, rest: str) -> bool:
    """Whether digits ``first`` and ``rest`` ("/11/2023", "-01-15", "/2024") make a calendar date.

    "94/1" (an article number) and "5-10" (a range) are not dates.
    """
    if not first.isdigit() or len(first) > 4:
        return False
    parts = [first, *rest[1:].replace("-", "/").split("/")]
    nums = [int(p) for p in parts]
    if len(parts) == 2:
        if rest[0] == "-":
            return False
        if len(parts[1]) == 4:
            return 1 <= nums[0] <= 12  # month/year
        return 1 <= nums[0] <= 31 and 1 <= nums[1] <= 12
    if len(first) == 4:
        return 1 <= nums[1] <= 12 and 1 <= nums[2] <= 31  # year-month-day
    return 1 <= nums[0] <= 31 and 1 <= nums[1] <= 12


def _valid_time(first: str, rest: str) -> bool:
    """Whether ``first`` and ``rest`` (":30", ":30:15") make a clock time ("12:99" does not)."""
    return first.isdigit() and len(first) <= 2 and int(first) <= 24 and all(int(p) < 60 for p in rest[1:].split(":"))


def _article_ordinal(text: str, ws: int, pos: int) -> bool:
    """Whether the number at ``pos`` (word from ``ws``) is an ordinal after an article ("لليوم الـ34")."""
    words = text[max(0, ws - _LOOKBACK):ws].split()
    if ws == pos:  # "اليوم الـ 34": the article stands alone (its tatweel was deleted)
        if len(words) < 2 or words[-1] != "ال" or not text[ws - 1].isspace():
            return False
        head = words[-2]
    else:
        prefix = text[ws:pos]
        if not (prefix.endswith("ال") or prefix.endswith("لل")) or not words or not text[ws - 1].isspace():
            return False
        head = words[-1]
    for art in _ARTICLES:
        if head.startswith(art) and len(head) > len(art) + 1:
            base = head[len(art):]
            return base in _ORDINAL_HEADS or base.endswith(("ة", "ه"))
    return False


def _fast(text: str, ws: int, pos: int) -> RawNumber | None:
    """A digit number read in one regex call; None when the slow path must decide (ranges...)."""
    m = _FAST_RE.match(text, pos)
    if m is None or m.lastgroup in ("rng", "half", "point"):
        return None
    q = m.group("q")
    q_kind = _QUALIFIERS_BEFORE[q] if q is not None else None
    if q_kind in ("between", "from") or (q is not None and ws != pos and text[ws:pos] != "ال"):
        return None
    d, sc = m.group("d"), m.group("sc")
    group = m.lastgroup
    if (group == "date" and not _valid_date(d, m.group("date"))) or (
        group == "time" and not _valid_time(d, m.group("time"))
    ):
        return None  # the slow path reads "94/1" and "12:99" as plain numbers
    value = numwords.parse_digits(d, sc is not None)
    if not math.isfinite(value):  # hundreds of digits: no float holds it, scan() drops it
        return RawNumber(pos, m.end("d"), Quantity(value, value, value, "exact"), "count")
    end = m.end("sc") if sc is not None else m.end("d")
    if sc is not None:
        value *= numwords.SCALES[sc][0]
        if (add := m.group("add")) is not None:
            value += float(add)
            end = m.end("add")
    start = pos if q is None else m.start("q")
    qualifier: Qualifier = q_kind if q_kind is not None else "exact"  # type: ignore[assignment]
    kind: NumberKind = "count"
    if group == "qa" and qualifier == "exact":
        qualifier = _QUALIFIERS_AFTER[m.group("qa").lstrip().lstrip(",").lstrip()]  # "5\nعلى الأقل"
        end = m.end()
    elif group == "nx" and (qnw := m.group("qnw")) is not None:
        if qualifier == "exact":
            qualifier = _QUALIFIERS_AFTER[qnw]  # after the counted noun: the span stays on the number
    elif group == "time":
        kind, end = "time", m.end()
    elif group == "date":
        kind, end = "date", m.end()
    elif group == "pct":
        kind, end = "percent", m.end()
    elif group == "month" and sc is None and value == int(value) and 1 <= value <= 31:
        kind, end = "date", m.end()
    elif group == "nx" and sc is None and value <= 24 and m.group("nxw") in _DAYPARTS:
        kind, end = "time", m.end()
    if kind == "count" and sc is None:
        pw = m.group("pw") or ""
        if len(d) == 4 and 1800 <= value <= 2100 and (
            group == "ysfx" or pw in _YEAR_WORDS or _clitic_free(pw) in _YEAR_WORDS
            or pw in ("حرب", "وحرب", "انتفاضة")  # "حرب 2014", but not "الحرب 2000 مصاب"
            or " ".join(text[max(0, ws - 20):ws].split()[-2:]) in _MONTH_NAMES  # "تشرين الاول 2023"
        ):
            kind = "year"
            if group == "ysfx":
                end = m.end()
        elif value <= 24 and pw in _TIME_WORDS and ws == pos:
            kind = "time"
        elif (ws != pos or pw == "ال") and _article_ordinal(text, ws, pos):
            kind = "ordinal"  # "لليوم الـ34"
    if kind != "count" and kind != "percent":
        qualifier = "exact"
    return RawNumber(start, end, Quantity.of(value, qualifier), kind)


@dataclass(frozen=True, slots=True)
class _Before:
    """The words just before a position (nearest last), for qualifier and kind look-ups."""

    words: list[str]
    text: str  # the slice they come from
    base: int  # its offset in the full text
    spaced: bool  # whether whitespace separates the last word from the position

    @classmethod
    def at(cls, text: str, pos: int) -> "_Before":
        base = max(0, pos - _LOOKBACK)
        s = text[base:pos]
        words = s.split()
        if base > 0 and words and not s[0].isspace():
            words = words[1:]  # cut in the middle
        return cls(words, s, base, bool(s) and s[-1].isspace())

    def last(self) -> str:
        return self.words[-1] if self.words and self.spaced else ""

    def qualifier(self) -> tuple[str, int] | None:
        """The qualifier phrase ending right before the position and where it starts."""
        if not self.spaced:
            return None
        for n in (4, 3, 2, 1):
            if len(self.words) < n:
                continue
            phrase = " ".join(self.words[-n:])
            if phrase in _QUALIFIERS_BEFORE:
                found = phrase
            else:
                found = next((phrase[len(c):] for c in _CLITIC_HEADS
                              if phrase.startswith(c) and phrase[len(c):] in _QUALIFIERS_BEFORE), "")
                if not found:
                    continue
            pattern = r"\s+".join(map(regex.escape, found.split())) + r"\s+$"
            m = regex.search(pattern, self.text)
            if m is not None:
                return found, self.base + m.start()
        return None


def _word_start(text: str, i: int) -> int | None:
    """Start of the word holding position ``i`` if what lies before ``i`` is a proclitic."""
    j = i
    while j > 0 and text[j - 1].isalpha() and i - j <= 4:
        j -= 1
    if j > 0 and (text[j - 1].isalpha() or text[j - 1] == "_"):
        return None  # inside a longer word, or an identifier such as "ad_1"
    return j if text[j:i] in PROCLITICS else None


def _candidates(text: str) -> list[tuple[int, int]]:
    """(word start, number start) pairs where a number may begin, in text order."""
    found: list[tuple[int, int]] = []
    last_digit_end = -1
    rejected_end = -2  # end of the last digit run that was inside a word ("ad_4"); -2: none yet
    for _, i, end in _STEM_SCAN.find_matches_as_indexes(text):
        if end - i == 1 and text[i].isdigit():  # a digit: only the first of a run counts
            if i == last_digit_end:
                last_digit_end = end
                if rejected_end == i:
                    rejected_end = end
                continue
            last_digit_end = end
            if i == rejected_end + 1 and text[rejected_end] in ".,":
                rejected_end = end  # "ad_4.8": the rest of a rejected number is no number either
                continue
            if i > 0 and text[i - 1] == "." and not (i > 1 and text[i - 2].isdigit()):
                i -= 1  # ".77"
            ws = _word_start(text, i)
            if ws is None:
                rejected_end = end
                continue
        else:
            ws = _word_start(text, i)
            if ws is None:
                continue
        found.append((ws, i))
    return found


class _Read(NamedTuple):
    """A word or digit expression read at a position."""

    value: float
    end: int
    vague: tuple[float, float] | None
    scale: float  # the scale word it ends with ("10 آلاف": 1000), 0 if none


def _read(text: str, pos: int) -> _Read | None:
    """The number expression at ``pos``: value, end, vague bounds and its final scale word."""
    tokens = numwords.tokenize(text, pos)
    ev = numwords.evaluate(tokens)
    if ev is None:
        return None
    value, end = ev.value, ev.end
    last = next((t for t in tokens if t.end == end), None)
    scale = float(numwords.SCALES[last.form][0]) if last is not None and last.type == "scale" else 0.0
    if scale and ev.vague is None and (h := _HALF_AFTER_RE.match(text, end)):
        value += scale * (0.5 if h.group("f") == "نصف" else 0.25)
        end = h.end()
    return _Read(value, end, ev.vague, scale)


def _range_low(low: _Read, high: _Read) -> float:
    """The low end of a range: "بين 5 و10 آلاف" shares the scale word, 5000 to 10000.

    A bare low end below the high end's multiplier takes its scale; "بين 500 و10 آلاف" does not.
    """
    if high.scale and not low.scale and low.vague is None and low.value < high.value / high.scale:
        return low.value * high.scale
    return low.value


def _clitic_free(word: str) -> str:
    for c in ("وال", "بال", "لل", "ال", "و", "ف", "ب", "ل"):
        if word.startswith(c) and len(word) > len(c) + 1:
            return word[len(c):]
    return word


def _classify(text: str, ws: int, start: int, end: int, value: float, before: _Before) -> tuple[NumberKind, int]:
    """The kind of the expression [start, end) and its end (dates and times extend it)."""
    raw = text[start:end]
    first = raw[0]
    prefix = text[ws:start]
    if first.isdigit():
        if (m := _TIME_AFTER_RE.match(text, end)) and _valid_time(raw, m.group()):
            return "time", m.end()
        if (m := _SLASH_DATE_RE.match(text, end)) and _valid_date(raw, m.group()):
            return "date", m.end()
    if m := _PERCENT_AFTER_RE.match(text, end):
        return "percent", m.end()
    if value == int(value) and 1 <= value <= 31 and (m := _DATE_AFTER_RE.match(text, end)):
        return "date", m.end()
    last = before.last()
    if len(raw) == 4 and raw.isdigit() and 1800 <= value <= 2100:
        if last in _YEAR_WORDS or _clitic_free(last) in _YEAR_WORDS or " ".join(before.words[-2:]) in _MONTH_NAMES:
            return "year", end
        if m := _YEAR_AFTER_RE.match(text, end):
            return "year", m.end()
    if value <= 24 and last in _TIME_WORDS:
        return "time", end
    if value <= 24 and value == int(value) and (m := _DAYPART_AFTER_RE.match(text, end)):
        return "time", m.end()
    if "ال" in prefix or prefix.endswith("لل"):
        if raw == "اثنين":
            return "date", end  # "يوم الاثنين": Monday
    if first.isdigit() and (prefix or last == "ال") and _article_ordinal(text, ws, start):
        return "ordinal", end  # "لليوم الـ34"
    return "count", end


def _quantity(value: float, qualifier: Qualifier, high: float | None) -> Quantity:
    return Quantity.of(value, qualifier, high)


def _finite(q: Quantity) -> bool:
    """False for a value no float holds ("9" * 400 digits): such a "number" is not reported."""
    return math.isfinite(q.value) and (q.high is None or math.isfinite(q.high))


def _prev_word(text: str, ws: int) -> str:
    words = text[max(0, ws - 12):ws].split()
    return words[-1] if words and ws > 0 and text[ws - 1].isspace() else ""


def _ordinal(text: str, ws: int, pos: int) -> RawNumber | None:
    """An ordinal word at ``pos``: "السابع", "الحادي عشر", "الحادي والعشرين", "العاشرة صباحا"."""
    om = _ORDINAL_RE.match(text, pos)
    if om is None:
        return None
    prev = _prev_word(text, ws)
    if prev in _NOT_ORDINAL_AFTER:
        return None
    value = _ORDINALS[om.group("w")] + (10 if om.group("teen") else 0)
    end = om.end()
    if not om.group("teen") and (tm := _ORDINAL_TEN_RE.match(text, end)):
        value += numwords.TENS[tm.group("ten")]  # "الثاني والستين"
        end = tm.end()
        if hm := _ORDINAL_HUNDRED_RE.match(text, end):
            value += numwords.HUNDREDS[hm.group("h")]  # "... بعد المئتين"
            end = hm.end()
    kind: NumberKind = "ordinal"
    # "الساعة السابعة", "العاشرة صباحا": an hour told by its ordinal
    dm = _DAYPART_AFTER_RE.match(text, end)
    if value <= 12 and (prev in _TIME_WORDS or dm is not None):
        kind = "time"
        end = dm.end() if dm is not None else end
    return RawNumber(pos, end, Quantity.of(value), kind)


def scan(text: str) -> list[RawNumber]:
    """Every number expression in *normalised* ``text``, longest first, left to right."""
    out: list[RawNumber] = []
    last_end = 0
    for ws, pos in _candidates(text):
        if pos < last_end:
            continue
        if text[pos].isdigit() and (fast := _fast(text, ws, pos)) is not None:
            if _finite(fast.quantity):
                out.append(fast)
            last_end = fast.end
            continue
        prefix = text[ws:pos]
        got = _read(text, pos)
        if got is None:
            if (ordinal := _ordinal(text, ws, pos)) is not None:
                out.append(ordinal)
                last_end = ordinal.end
            continue
        if text.startswith(_ARTICLE_SCALES, pos):
            pos += 2  # "الالاف": the article is a proclitic and stays outside the span
            prefix = text[ws:pos]
        value, end, vague = got.value, got.end, got.vague
        if not math.isfinite(value):
            last_end = end
            continue
        word = text[ws:end]
        if (word[1:] if word[:1] in "وف" else word) in _NOT_NUMBERS or word in _NOT_NUMBERS:
            continue
        if word in _NAMES and _prev_word(text, ws) in _NAMES[word]:
            continue
        start = pos
        qualifier: Qualifier = "vague" if vague else "exact"
        high: float | None = vague[1] if vague else None
        before = _Before.at(text, ws)
        qual = before.qualifier() if ws == pos or prefix == "ال" else None
        if qual is not None:
            q = _QUALIFIERS_BEFORE[qual[0]]
            rng = None
            if q in ("between", "from") or vague is None:
                sep_re = _RANGE_SEP_RE[q if q in ("between", "from") else None]
                if q == "from":
                    window = text[max(0, qual[1] - 60):qual[1]]
                    if any(stem in window for stem in _RISE_STEMS):
                        sep_re = None
                if sep_re is not None and (sm := sep_re.match(text, end)) and (rng := _read(text, sm.end())):
                    value = _range_low(got, rng)
                    high, end = rng.value, rng.end
                    qualifier = "range"
                    start = qual[1]
            if q not in ("between", "from") and vague is None:
                qualifier = "range" if rng is not None else q  # type: ignore[assignment]
                start = qual[1]
        elif vague is None and (sm := _RANGE_SEP_RE[None].match(text, end)):
            # "10 الى 15", "ثلاثة او اربعة" (unless a rise: "ارتفع ... 40 الى 45").
            window = text[max(0, start - 60):start]
            rng = _read(text, sm.end()) if not any(stem in window for stem in _RISE_STEMS) else None
            if rng is not None and rng.vague is None and rng.value > value:
                value = _range_low(got, rng)
                high, end, qualifier = rng.value, rng.end, "range"
        if qualifier == "exact":
            if am := _QUAL_AFTER_RE.match(text, end):
                qualifier = _QUALIFIERS_AFTER[am.group("q")]
                end = am.end()
            elif am := _QUAL_AFTER_NOUN_RE.match(text, end):
                qualifier = _QUALIFIERS_AFTER[am.group("q")]  # the span stays on the number
        kind, end = _classify(text, ws, pos, end, value, before)
        if kind in ("date", "time") and qualifier != "exact":
            qualifier, high = "exact", None
        quantity = _quantity(value, qualifier, high)
        if _finite(quantity):
            out.append(RawNumber(start, end, quantity, kind))
        last_end = end
    return out


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number expression in ``text`` with spans into ``text`` itself (half-open)."""
    norm = normalize(text)
    result: list[NumberMatch] = []
    prev_end = 0
    for n in scan(norm.text):
        a, b = norm.to_original(n.start, n.end)
        if a < prev_end:
            continue  # two numbers inside one expanded character ("¼" is "1⁄4"): keep the first
        result.append(NumberMatch(a, b, text[a:b], n.quantity, n.kind))
        prev_end = b
    return result


# Bounded: int() refuses digit strings over 4300 characters.
_DECIMAL_COMMA_RE = regex.compile(r"\d{1,18},\d{1,2}")
_FRACTION_RE = regex.compile(r"(?P<sign>-)?(?P<num>\d{1,18})/(?P<den>\d{1,18})")
_EDGE_PUNCT = " \t\r\n.,;:!?()[]{}\"'«»“”"


def parse_number(text: str) -> Quantity | None:
    """The quantity of a whole number expression such as ``"أكثر من 40 ألف"``; None otherwise."""
    norm = normalize(text).text.strip(_EDGE_PUNCT.replace(".", "")).rstrip(".")
    if not norm:
        return None
    sign = 1
    if norm.startswith("-") and len(norm) > 1:
        sign, norm = -1, norm[1:].lstrip()
    # "77/100" is a fraction (Duckling), but "11/2023" is a month and year
    if (f := _FRACTION_RE.fullmatch(norm)) and int(f.group("den")) != 0 and not (
        len(f.group("den")) == 4 and 1800 <= int(f.group("den")) <= 2100
    ):
        return Quantity.of(sign * int(f.group("num")) / int(f.group("den")))
    if _DECIMAL_COMMA_RE.fullmatch(norm):
        return Quantity.of(sign * float(norm.replace(",", ".")))  # "3,5" alone cannot be a grouping
    found = scan(norm)
    # a leading proclitic stays outside the span: "المئات" is vague hundreds, "و15" is 15
    if len(found) != 1 or norm[:found[0].start] not in PROCLITICS or norm[found[0].end:].strip(_EDGE_PUNCT):
        return None
    q = found[0].quantity
    if sign < 0:
        return Quantity.of(-q.value) if q.qualifier == "exact" else None
    return q
