"""Numbers in Arabic text: ``parse_number`` for one expression, ``find_numbers`` for running text.

A number expression is digits (three scripts, separators, decimals) and/or number words, with
an optional qualifier before (نحو، أكثر من، ما لا يقل عن، بين ...) or after (على الأقل، ونيف).
Each expression found is also classified (``kind``) so that rules can ignore what is not a
count: ordinals, years, dates, clock times and percentages.

Speed matters (every article passes through here), so the scan does not try a big regex at
every position: candidate starts are digit runs and word-initial stems of number words, found in
one Aho-Corasick pass; the token grammar runs only there, and most numbers do without it. A
digit number is read in Python around a few small regexes (``_read_digits``, which agrees with
the one big regex it replaced, kept in tests/test_numbers_fast.py); a number of one token
("اربعة اشخاص") is read from the word tables (``_read_lone_word``). A call of the ``regex``
module costs about as much as fifty lines of Python here, so the word after a number is read
once and the other regexes run only where that word allows a match.
"""

from __future__ import annotations

import itertools
import math
from typing import Iterator, Literal, NamedTuple

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
_PROCLITIC_ENDS = frozenset(p[-1] for p in PROCLITICS if p)
# Word-initial stems: every number word starts with one (tested), so these find all candidates.
_STEMS = (
    "صفر", "واحد", "اثن", "اتن", "ثنت", "ثلاث", "تلات", "تلت", "اربع", "خمس", "ست", "سطاشر", "سبع",
    "ثمان", "تمان", "تمن", "تسع", "عشر", "حداشر", "احداشر", "مئ", "مائ", "مية", "ميه", "ماية", "مايه",
    "متين", "ميتين", "ميات", "الف", "الاف", "الالاف", "الوف", "مليو", "ملاي", "الملاي", "مليار",
    "المليار", "بليون", "بلاي", "البلاي", "تريليو", "ترليو", "التريليو", "بضع", "اول", "ثاني", "ثالث", "رابع", "خامس", "سادس", "سابع", "ثامن",
    "تاسع", "عاشر", "حادي", "احد", "نصف", "ربع", "ثلثم",
)
# One Aho-Corasick pass finds every stem; the digit stems find digit runs (normalised text has
# ASCII digits only). A run of up to three digits is one hit (longer runs are several hits in a
# row), so the loop over the hits sees fewer; the DFA keeps the pass as fast with the thousand
# extra patterns.
_STEM_SCAN = ahocorasick_rs.AhoCorasick(
    list(_STEMS) + ["".join(p) for n in (1, 2, 3) for p in itertools.product("0123456789", repeat=n)],
    matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST,
    implementation=ahocorasick_rs.Implementation.DFA,
)
# The words a number expression or an ordinal can start with: a word candidate whose letters are
# none of these reads as nothing (``numwords.tokenize`` looks up the same tables), so it is dropped
# before the token grammar runs. Most stem hits are such words ("الفلسطيني", "السبت").
_FIRST_WORDS = frozenset(numwords.WORD_TYPES) | frozenset(numwords._TEEN_HEADS) | numwords._ONE_HEADS | frozenset(
    numwords.FRACTIONS
)
_LETTERS_RE = regex.compile(r"[^\W\d_]+")
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

# A digit number is read in Python around a few small regexes: its qualifier before ("نحو 50";
# "قرابة الـ50" puts an article between), the word before it ("عام 2023"), its scale word and
# addend ("3 آلاف و577"), and what follows it (a clock time, a date, a percent sign, a qualifier
# after the number or after its noun, or a range to finish in Python). This was one regex,
# _FAST_RE (tests/test_numbers_fast.py keeps it as the reference the reading must agree with); it
# cost ~10 us at every digit number, mostly in its look-behinds and in trying each alternative
# of the tail in turn, where most numbers are just followed by a word ("50 شخصا").
_SCALE_WORDS = sorted((w for w, t in numwords.WORD_TYPES.items() if t == "scale"), key=len, reverse=True)
_SCALE_SET = frozenset(_SCALE_WORDS)
# Digits, then the space and the word after them; a separator or a decimal point ("40,000",
# "1.5") leaves it to the full DIGITS.
_DIGITS_HEAD_RE = regex.compile(r"(\d++)(?![.,]\d)(\s*+)([^\W\d_]*+)(\s*+,?\s*+)([^\W\d_]*+)")
_DIGITS_FULL_HEAD_RE = regex.compile(rf"({numwords.DIGITS})(\s*+)([^\W\d_]*+)(\s*+,?\s*+)([^\W\d_]*+)")
# The space and word after a position, and the word after that (past a comma: "شخصا، على الاقل").
_WORD_AFTER_RE = regex.compile(r"(\s*+)([^\W\d_]*+)")
_WORDS_AFTER_RE = regex.compile(r"(\s*+)([^\W\d_]*+)(\s*+,?\s*+)([^\W\d_]*+)")
_ADD_RE = regex.compile(r"\s*و\s*(?P<add>\d+(?:\.\d+)?)(?!\d)(?!\s*(?:\L<scales>)(?!\w))", scales=_SCALE_WORDS)
# The qualifiers before of several words by their last word, longest first; and every word a
# qualifier before can end with (a single word may carry a proclitic: "ونحو", "للاكثر من").
_QB_ENDING_IN: dict[str, tuple[str, ...]] = {}
for _q in sorted((q for q in _QUALIFIERS_BEFORE if " " in q), key=len, reverse=True):
    _QB_ENDING_IN[_q.rsplit(" ", 1)[1]] = (*_QB_ENDING_IN.get(_q.rsplit(" ", 1)[1], ()), _q)
_QB_LAST_WORDS = frozenset(_QB_ENDING_IN) | frozenset(
    c + q for c in ("", "و", "ف", "ب", "ل", "لل") for q in _QUALIFIERS_BEFORE if " " not in q
)
# The alternatives after a number. "nx" (the next word) is read in Python unless the word is one
# that may start another alternative (_TAIL_WORDS) or the characters after the number may
# (_TAIL_CHARS, or "%" and "," after a space).
_TAIL_RE = regex.compile(
    rf"""
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
    """,
    regex.VERBOSE,
    qa=sorted(_QUALIFIERS_AFTER, key=len, reverse=True),
    qn=_QUALS_AFTER_NOUN,
)
# The words after a number that may start a month ("7 اكتوبر", "من شهر ..."), a percent ("في
# المئة"), a qualifier after the number ("علي الاقل") or a range ("الى 20"; "او" and "و" start
# qualifiers too). Python reads the word after a number; the regexes run only after these.
_MONTH_WORDS = frozenset(m.split()[0] for m in _MONTH_NAMES) | {"من", "شهر"}
_PCT_WORDS = frozenset({"في", "ب"}) | frozenset(
    p + "ال" + h for p in ("في", "ب") for h in ("مئة", "مائة", "مية", "ميه", "مئه", "مائه")
)
_QA_FIRST_WORDS = frozenset(q.split(" ")[0] for q in _QUALIFIERS_AFTER)
_RANGE_WORDS = frozenset({"الي", "حتي", "لغاية"})
# The first words of _TAIL_RE's alternatives other than "nx" (also the year suffixes and "ونصف";
# "فاصل..." is tested apart: "point" has no word boundary), and the other characters they start
# with ("%" is read in Python).
_TAIL_WORDS = _MONTH_WORDS | _PCT_WORDS | _QA_FIRST_WORDS | _RANGE_WORDS | {"او", "و", "م", "ه", "ونصف", "وربع"}
_TAIL_CHARS = frozenset(":/-–,")
_MONTH_TAIL_RE = regex.compile(
    rf"\s*(?:من\s+)?(?:شهر\s+)?(?:{_MONTHS_RE})(?![^\W\d_])(?:\s*(?:عام\s+|سنة\s+)?\d{{4}}(?!\d))?"
)
# "nx"'s qualifier after the counted noun, on its own; it runs only where a qualifier starts.
_QUAL_NOUN_RE = regex.compile(r"\s*,?\s*(?P<qnw>\L<qn>)(?![^\W\d_])(?!\s*من(?![^\W\d_]))", qn=_QUALS_AFTER_NOUN)
_QN_FIRST_WORDS = frozenset(q.split(" ")[0] for q in _QUALS_AFTER_NOUN)


class _CharClass(dict):  # type: ignore[type-arg]
    """Whether a character is in a regex class, memoised per character.

    The Python reading must agree with the regexes it replaces, and str methods do not:
    ``isalpha`` misses the marks ``[^\\W\\d_]`` holds, ``isspace`` takes ``\\x1c``-``\\x1f``,
    which ``\\s`` does not. Only characters below U+3000 are kept, so the memo stays small.
    """

    def __init__(self, pattern: str) -> None:
        super().__init__()
        self._re = regex.compile(pattern)

    def __missing__(self, ch: str) -> bool:
        hit = self._re.match(ch) is not None
        if ch < "\u3000":
            self[ch] = hit
        return hit


_IS_LETTER = _CharClass(r"[^\W\d_]")
_IS_SPACE = _CharClass(r"\s")
_IS_DIGIT = _CharClass(r"\d")


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


# A digit number as _FAST_RE read it, a plain tuple (a NamedTuple cost more to build than the
# rest of the common case): digits and their end; the qualifier before and its start; the word
# before; the scale word and its end; the addend ("3 آلاف و577") and its end; the alternative of
# _TAIL_RE that matched, else the last group read ("d", "sc", "add"), and its text for "date",
# "time" and "qa"; the end of the whole match; for "nx", the next word and the qualifier after it.
_Digits = tuple[str, int, str | None, int, str, str | None, int, str | None, int, str, str, int, str | None, str | None]


def _word_before(text: str, pos: int) -> tuple[str, int]:
    """_FAST_RE's "pw" and where it ends: the word before the one at ``pos`` (at most four of whose
    letters come before ``pos``); "" when there is none."""
    if pos > 1 and text[pos - 1] == " " and text[pos - 2] != " ":  # the common case: "word 50"
        end = pos - 1
        start = text.rfind(" ", max(0, end - 24), end) + 1
        if (start > 0 or end < 24) and text[start:end].isalpha():  # isalpha: letters, in [^\W\d_]
            return text[start:end], end
    glued = pos
    while glued > 0 and pos - glued < 5 and _IS_LETTER[text[glued - 1]]:
        glued -= 1
    if pos - glued > 4 or glued == 0 or not _IS_SPACE[text[glued - 1]]:
        return "", 0
    end = glued - 1
    while end > 0 and _IS_SPACE[text[end - 1]]:
        end -= 1
    start = text.rfind(" ", max(0, end - 24), end) + 1  # the common case: a space before the word
    if (start > 0 or end < 24) and text[start:end].isalpha():  # isalpha: letters, a subset of [^\W\d_]
        return text[start:end], end
    start = end
    while start > 0 and _IS_LETTER[text[start - 1]]:
        start -= 1
    return text[start:end], end


def _word_initial(text: str, i: int) -> bool:
    """Whether ``i`` starts a word, or follows a proclitic (لل or one of و ف ب ل) that does."""
    return (
        i == 0 or not _IS_LETTER[text[i - 1]]
        or (text[i - 1] in "وفبل" and (i == 1 or not _IS_LETTER[text[i - 2]]))
        or (i >= 2 and text[i - 2:i] == "لل" and (i == 2 or not _IS_LETTER[text[i - 3]]))
    )


def _qualifier_before(text: str, pos: int, pw: str, pw_end: int) -> tuple[str | None, int]:
    """_FAST_RE's "q": the qualifier before the number at ``pos`` ("نحو 50") and its start.

    Its last word is the word before, ``pw``, if nothing or only "ال" is glued to the number. The
    look-behind tries the qualifiers longest first; a single word may carry a proclitic ("ونحو").
    """
    if not pw or not (_IS_SPACE[text[pos - 1]] or (text[pos - 2:pos] == "ال" and _IS_SPACE[text[pos - 3]])):
        return None, 0
    several = _QB_ENDING_IN.get(pw, ())
    if several and text.endswith(several, 0, pw_end):
        for q in several:  # longest first: "ما لا يقل عن"
            q_start = pw_end - len(q)
            if q_start >= 0 and text[q_start:pw_end] == q and _word_initial(text, q_start):
                return q, q_start
    if pw in _QUALIFIERS_BEFORE:
        return pw, pw_end - len(pw)
    if pw[0] in "وفبل" and pw[1:] in _QUALIFIERS_BEFORE:
        return pw[1:], pw_end - len(pw) + 1
    if pw.startswith("لل") and pw[2:] in _QUALIFIERS_BEFORE:
        return pw[2:], pw_end - len(pw) + 2
    return None, 0


_Tail = tuple[str | None, str, int, str | None, str | None]  # group, its text, end, nxw, qnw


def _tail(text: str, t: int, space: str, word: str, word2: str) -> _Tail:
    """What follows a digit number (or its scale word) at ``t``: ``space``, ``word``, then ``word2``."""
    n = len(text)
    if not word:
        k = t + len(space)
        if k < n and text[k] == "%":  # no alternative before "pct" starts with "%"
            return "pct", "", k + 1, None, None
        if k < n and text[k] in ((",",) if space else _TAIL_CHARS):
            return _tail_regex(text, t)
        return None, "", t, None, None
    w_end = t + len(space) + len(word)
    if word in _MONTH_WORDS:
        # "7 اكتوبر", "من شهر ..."; none of these words starts another alternative but "nx"
        if (mm := _MONTH_TAIL_RE.match(text, t)) is not None:
            return "month", "", mm.end(), None, None
    elif word in _RANGE_WORDS:
        if space and w_end < n and _IS_SPACE[text[w_end]]:  # "10 الى 20": "rng"; else "nx"
            end = w_end
            while end < n and _IS_SPACE[text[end]]:
                end += 1
            return "rng", "", end, None, None
    elif word in _TAIL_WORDS or (space and word.startswith("فاصل")):
        return _tail_regex(text, t)
    if not space:  # glued ("20شخصا"): "nx" needs a space
        return None, "", t, None, None
    if word2 in _QN_FIRST_WORDS and (qm := _QUAL_NOUN_RE.match(text, w_end)) is not None:
        return "nx", "", qm.end(), word, qm.group("qnw")
    return "nx", "", w_end, word, None


def _tail_regex(text: str, t: int) -> _Tail:
    m = _TAIL_RE.match(text, t)
    if m is None:
        return None, "", t, None, None
    group = m.lastgroup
    return group, m.group(group) if group in ("date", "time", "qa") else "", m.end(), m.group("nxw"), m.group("qnw")


def _read_digits(text: str, pos: int) -> _Digits | None:
    """The digit number at ``pos`` as _FAST_RE read it."""
    head = _DIGITS_HEAD_RE.match(text, pos) or _DIGITS_FULL_HEAD_RE.match(text, pos)
    if head is None:
        return None
    d, space, word, _, word2 = head.groups()
    d_end = pos + len(d)
    pw, pw_end = _word_before(text, pos)
    q, q_start = _qualifier_before(text, pos, pw, pw_end) if pw in _QB_LAST_WORDS else (None, 0)
    sc = add = None
    t = sc_end = add_end = d_end
    if word in _SCALE_SET:
        sc = word
        t = sc_end = d_end + len(space) + len(word)
        space, word, _, word2 = _WORDS_AFTER_RE.match(text, t).groups()  # type: ignore[union-attr]  # always matches
        if word == "و" and (am := _ADD_RE.match(text, t)) is not None:
            add, t = am.group("add"), am.end()
            add_end = t
            space, word, _, word2 = _WORDS_AFTER_RE.match(text, t).groups()  # type: ignore[union-attr]
    if space and word and word not in _TAIL_WORDS and not word.startswith("فاصل") and word2 not in _QN_FIRST_WORDS:
        # the common case, what _tail would find: "nx", no qualifier after the noun ("50 شخصا")
        return (d, d_end, q, q_start, pw, sc, sc_end, add, add_end, "nx", "", t + len(space) + len(word), word, None)
    group, group_text, end, nxw, qnw = _tail(text, t, space, word, word2)
    if group is None:
        group = "add" if add is not None else "sc" if sc is not None else "d"
    return (d, d_end, q, q_start, pw, sc, sc_end, add, add_end, group, group_text, end, nxw, qnw)


def _fast(text: str, ws: int, pos: int) -> RawNumber | None:
    """A digit number read without the token grammar; None when the slow path must decide (ranges...)."""
    m = _read_digits(text, pos)
    if m is None:
        return None
    d, d_end, q, q_start, pw, sc, sc_end, add, add_end, group, group_text, m_end, nxw, qnw = m
    if group == "nx" and qnw is None and q is None and sc is None:  # the common case: "50 شخصا"
        value = float(d) if d.isdecimal() else numwords.parse_digits(d, False)  # as parse_digits reads digits
        if not math.isfinite(value):
            return RawNumber(pos, d_end, Quantity(value, value, value, "exact"), "count")
        qualifier: Qualifier = "exact"
        end = d_end
        kind: NumberKind = "time" if value <= 24 and nxw in _DAYPARTS else "count"
        if kind == "time":
            end = m_end
    else:
        if group in ("rng", "half", "point"):
            return None
        q_kind = _QUALIFIERS_BEFORE[q] if q is not None else None
        if q_kind in ("between", "from") or (q is not None and ws != pos and text[ws:pos] != "ال"):
            return None
        if (group == "date" and not _valid_date(d, group_text)) or (group == "time" and not _valid_time(d, group_text)):
            return None  # the slow path reads "94/1" and "12:99" as plain numbers
        value = numwords.parse_digits(d, sc is not None)
        if not math.isfinite(value):  # hundreds of digits: no float holds it, scan() drops it
            return RawNumber(pos, d_end, Quantity(value, value, value, "exact"), "count")
        end = sc_end if sc is not None else d_end
        if sc is not None:
            value *= numwords.SCALES[sc][0]
            if add is not None:
                value += float(add)
                end = add_end
        qualifier = q_kind if q_kind is not None else "exact"  # type: ignore[assignment]
        kind = "count"
        if group == "qa" and qualifier == "exact":
            qualifier = _QUALIFIERS_AFTER[group_text.lstrip().lstrip(",").lstrip()]  # "5\nعلى الأقل"
            end = m_end
        elif group == "nx" and qnw is not None:
            if qualifier == "exact":
                qualifier = _QUALIFIERS_AFTER[qnw]  # after the counted noun: the span stays on the number
        elif group == "time":
            kind, end = "time", m_end
        elif group == "date":
            kind, end = "date", m_end
        elif group == "pct":
            kind, end = "percent", m_end
        elif group == "month" and sc is None and value == int(value) and 1 <= value <= 31:
            kind, end = "date", m_end
        elif group == "nx" and sc is None and value <= 24 and nxw in _DAYPARTS:
            kind, end = "time", m_end
    if kind == "count" and sc is None:
        if len(d) == 4 and 1800 <= value <= 2100 and (
            group == "ysfx" or pw in _YEAR_WORDS or _clitic_free(pw) in _YEAR_WORDS
            or pw in ("حرب", "وحرب", "انتفاضة")  # "حرب 2014", but not "الحرب 2000 مصاب"
            or " ".join(text[max(0, ws - 20):ws].split()[-2:]) in _MONTH_NAMES  # "تشرين الاول 2023"
        ):
            kind = "year"
            if group == "ysfx":
                end = m_end
        elif value <= 24 and pw in _TIME_WORDS and ws == pos:
            kind = "time"
        elif (ws != pos or pw == "ال") and _article_ordinal(text, ws, pos):
            kind = "ordinal"  # "لليوم الـ34"
    if kind != "count" and kind != "percent":
        qualifier = "exact"
    return RawNumber(pos if q is None else q_start, end, Quantity.of(value, qualifier), kind)


# The phrases that read as a qualifier before, as the last words before a number: the qualifier
# itself, or with a proclitic glued to its first word ("ونحو"; the first proclitic in
# _CLITIC_HEADS that leaves a qualifier wins); each mapped to the qualifier. The last words of
# these phrases let most numbers skip the look-up.
_QB_PHRASES: dict[str, str] = {q: q for q in _QUALIFIERS_BEFORE}
for _c in _CLITIC_HEADS:
    for _q in _QUALIFIERS_BEFORE:
        _QB_PHRASES.setdefault(_c + _q, _q)
_QB_PHRASE_ENDS = frozenset(p.rsplit(" ", 1)[-1] for p in _QB_PHRASES)
# Where a qualifier stands in the text before a number: its words apart by any spaces, then spaces.
_QB_END_RES = {
    q: regex.compile(r"\s+".join(map(regex.escape, q.split())) + r"\s+$") for q in _QUALIFIERS_BEFORE
}


class _Before(NamedTuple):  # a NamedTuple: a frozen dataclass took longer to build than to use
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
        if not self.spaced or not self.words or self.words[-1] not in _QB_PHRASE_ENDS:
            return None
        for n in (4, 3, 2, 1):
            if len(self.words) < n:
                continue
            found = _QB_PHRASES.get(" ".join(self.words[-n:]))
            if found is not None and (m := _QB_END_RES[found].search(self.text)) is not None:
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


def _candidates(text: str) -> Iterator[tuple[int, int]]:
    """(word start, number start) where a number may begin, in text order.

    Stem hits come as (-1, stem start): whether a number word starts there (``_word_candidate``)
    is left to the caller, which skips the hits inside a number already read ("40 الف").
    """
    last_digit_end = -1
    rejected_end = -2  # end of the last digit run that was inside a word ("ad_4"); -2: none yet
    for _, i, end in _STEM_SCAN.find_matches_as_indexes(text):
        if "0" <= text[i] <= "9":  # digits: only the first hit of a run counts
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
            # no letter (nor "_") before: the word starts here (what _word_start finds, sooner)
            ws = i if i == 0 or (not (c := text[i - 1]).isalpha() and c != "_") else _word_start(text, i)
            if ws is None:
                rejected_end = end
                continue
            yield ws, i
        elif i == 0 or text[i - 1] in _PROCLITIC_ENDS or not text[i - 1].isalpha():
            yield -1, i  # (else inside a word, "مستشفى": no proclitic ends with that letter)


def _word_candidate(text: str, i: int) -> tuple[int, bool] | None:
    """Word start and ``reads`` for a stem at ``i`` that starts a number word or an ordinal.

    ``reads`` is False for a word only an ordinal starts with ("الثاني"): the token grammar would
    find no number there.
    """
    word = _LETTERS_RE.match(text, i).group()  # type: ignore[union-attr]  # a stem is letters
    reads = word in _FIRST_WORDS
    if not reads and word not in _ORDINALS:
        return None
    ws = i if i == 0 or (not (c := text[i - 1]).isalpha() and c != "_") else _word_start(text, i)
    return None if ws is None else (ws, reads)


class _Read(NamedTuple):
    """A word or digit expression read at a position."""

    value: float
    end: int
    vague: tuple[float, float] | None
    scale: float  # the scale word it ends with ("10 آلاف": 1000), 0 if none


# The token grammar (numwords.tokenize, then evaluate) costs ~10 us a call. Most numbers are one
# token followed by a word that is none: "50 شخصا", "اربعة اشخاص", "الاف الفلسطينيين". Those are
# read here from the same tables (tests/test_numbers_fast.py checks the two readings agree).
# The words the grammar joins to digits before it: a scale word ("50 الف") or a decimal point
# word ("5 فاصلة 3"), also after "و" (so a word in "و" is left to the grammar, but not a lone "و"
# before digits: "بين 962 و1005" reads 962, the grammar joins no digits to digits).
_JOINS_DIGITS = frozenset(w for w, t in numwords.WORD_TYPES.items() if t in ("scale", "point"))
_NO_NUMBER = _Read(0.0, 0, None, 0.0)  # _read_lone_word's answer for a word that reads as none
_WORD_HEAD_RE = regex.compile(r"([^\W\d_]++)(\s*+)([^\W\d_]*+)")  # a word, then the next one
# Words the grammar reads alone as one token (not "احد", "نصف", "فاصلة": those need context;
# but "احد" with neither "عشر" nor "و" after it is no number: "احد الاسري").
_LONE_WORDS = frozenset(
    w for w, t in numwords.WORD_TYPES.items()
    if t != "point" and w not in numwords._ONE_HEADS and w not in numwords.FRACTIONS
)


def _read_lone_digits(text: str, pos: int) -> _Read | None:
    """Digits at ``pos`` the token grammar would read alone ("من 50 شخصا"), without tokenizing."""
    head = _DIGITS_HEAD_RE.match(text, pos) or _DIGITS_FULL_HEAD_RE.match(text, pos)
    if head is None:
        return None
    d, _, word, _, after = head.groups()
    if word in _JOINS_DIGITS or (word.startswith("و") and (word != "و" or after)):
        return None
    return _Read(numwords.parse_digits(d, False), pos + len(d), None, 0.0)


def _read_lone_word(text: str, pos: int) -> _Read | None:
    """A number word at ``pos`` that no number token follows ("اربعة اشخاص"), without tokenizing.

    The next word must be no number word and not start with "و" (which could join one); digits
    or anything else after the word end the expression as well. None: ask the grammar;
    _NO_NUMBER: the grammar reads no number here.
    """
    head = _WORD_HEAD_RE.match(text, pos)
    if head is None:
        return None
    word, _, after = head.groups()
    if word in numwords._ONE_HEADS and after not in numwords._TEEN_TAILS and after[:1] != "و":
        return _NO_NUMBER  # "احد الاسري": one only in "احد عشر", "احد وعشرون"
    if word not in _LONE_WORDS or (after and (after in _FIRST_WORDS or after[0] == "و")):
        return None
    end = pos + len(word)
    kind = numwords.WORD_TYPES[word]
    if kind == "scale":
        scale, form = numwords.SCALES[word]
        if form == "plural":  # "الاف": three to ten of the scale (numwords.evaluate)
            return _Read(3 * scale, end, (3 * scale, 10 * scale - 1), float(scale))
        return _Read((2.0 if form in ("dual", "acc_or_dual") else 1.0) * scale, end, None, float(scale))
    if kind == "vague":  # "عشرات"
        low, high = numwords.VAGUE[word]
        return _Read(low, end, (low, high), 0.0)
    table = {"unit": numwords.UNITS, "teen": numwords.TEENS, "ten": numwords.TENS, "hundred": numwords.HUNDREDS}[kind]
    return _Read(float(table[word]), end, None, 0.0)


def _read(text: str, pos: int) -> _Read | None:
    """The number expression at ``pos``: value, end, vague bounds and its final scale word."""
    if pos < len(text):
        c = text[pos]
        lone = _read_lone_digits(text, pos) if "0" <= c <= "9" else _read_lone_word(text, pos) if c.isalpha() else None
        if lone is not None:
            return None if lone is _NO_NUMBER else lone
    return _read_tokens(text, pos)


def _read_tokens(text: str, pos: int) -> _Read | None:
    """``_read`` by the token grammar."""
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


def _classify(
    text: str, ws: int, start: int, end: int, value: float, before: _Before, after: tuple[str, str] | None = None
) -> tuple[NumberKind, int]:
    """The kind of the expression [start, end) and its end (dates and times extend it).

    Each regex after the number runs only where the character or the word after it could start
    a match: one small regex reads that word (``after``, the space and word, if the caller has
    them), where the checks ran one regex each.
    """
    raw = text[start:end]
    first = raw[0]
    prefix = text[ws:start]
    space, word = after or _WORD_AFTER_RE.match(text, end).groups()  # type: ignore[union-attr]  # always matches
    if first.isdigit():
        c = text[end:end + 1]
        if c == ":" and (m := _TIME_AFTER_RE.match(text, end)) and _valid_time(raw, m.group()):
            return "time", m.end()
        if c in ("/", "-") and (m := _SLASH_DATE_RE.match(text, end)) and _valid_date(raw, m.group()):
            return "date", m.end()
    k = end + len(space)
    if (word in _PCT_WORDS or text[k:k + 1] == "%") and (m := _PERCENT_AFTER_RE.match(text, end)):
        return "percent", m.end()
    if value == int(value) and 1 <= value <= 31 and word in _MONTH_WORDS and (m := _DATE_AFTER_RE.match(text, end)):
        return "date", m.end()
    last = before.last()
    if len(raw) == 4 and raw.isdigit() and 1800 <= value <= 2100:
        if last in _YEAR_WORDS or _clitic_free(last) in _YEAR_WORDS or " ".join(before.words[-2:]) in _MONTH_NAMES:
            return "year", end
        if word in ("م", "ه") and (m := _YEAR_AFTER_RE.match(text, end)):
            return "year", m.end()
    if value <= 24 and last in _TIME_WORDS:
        return "time", end
    if value <= 24 and value == int(value) and word in _DAYPARTS and (m := _DAYPART_AFTER_RE.match(text, end)):
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


_TEENS_TAIL = frozenset({"عشر", "عشرة", "عشره"})


def _word_goes_on(text: str, i: int) -> bool:
    """Whether ``text[i]`` is a word character (``\\w``: a letter, a digit or "_")."""
    return i < len(text) and (_IS_LETTER[c := text[i]] or _IS_DIGIT[c] or c == "_")


def _ordinal(text: str, ws: int, pos: int) -> RawNumber | None:
    """An ordinal word at ``pos``: "السابع", "الحادي عشر", "الحادي والعشرين", "العاشرة صباحا"."""
    # The ordinal is the whole word, "عشر" may follow ("الحادي عشر"), and no word character (\w)
    # right after either. One small regex reads the word and the next (this was a regex of its
    # own, and the word after it, for "و" + a ten or a part of the day, another).
    head = _WORD_HEAD_RE.match(text, pos)
    if head is None or (word := head.group(1)) not in _ORDINALS:
        return None
    space, after = head.group(2, 3)
    end = pos + len(word)
    after_end = end + len(space) + len(after)
    teen = bool(space) and after in _TEENS_TAIL and not _word_goes_on(text, after_end)
    if not teen and _word_goes_on(text, end):
        return None
    prev = _prev_word(text, ws)
    if prev in _NOT_ORDINAL_AFTER:
        return None
    value = _ORDINALS[word] + (10 if teen else 0)
    if teen:
        end = after_end
        after = _WORD_AFTER_RE.match(text, end).group(2)  # type: ignore[union-attr]  # always matches
    if not teen and after[:1] == "و" and (tm := _ORDINAL_TEN_RE.match(text, end)):
        value += numwords.TENS[tm.group("ten")]  # "الثاني والستين"
        end = tm.end()
        if hm := _ORDINAL_HUNDRED_RE.match(text, end):
            value += numwords.HUNDREDS[hm.group("h")]  # "... بعد المئتين"
            end = hm.end()
        after = _WORD_AFTER_RE.match(text, end).group(2)  # type: ignore[union-attr]
    kind: NumberKind = "ordinal"
    # "الساعة السابعة", "العاشرة صباحا": an hour told by its ordinal
    dm = None
    if value <= 12 and after in _DAYPARTS:
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
        reads = True
        if ws < 0:  # a stem hit
            if (found := _word_candidate(text, pos)) is None:
                continue
            ws, reads = found
        if text[pos].isdigit() and (fast := _fast(text, ws, pos)) is not None:
            if _finite(fast.quantity):
                out.append(fast)
            last_end = fast.end
            continue
        prefix = text[ws:pos]
        got = _read(text, pos) if reads else None
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
        # the space and words after the number: the regexes below run only where these allow
        after_at = end
        space, after, _, after2 = _WORDS_AFTER_RE.match(text, end).groups()  # type: ignore[union-attr]
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
        elif (
            vague is None and ((space and after in ("الي", "او")) or text[end:end + 1] in ("-", "–"))
            and (sm := _RANGE_SEP_RE[None].match(text, end))
        ):
            # "10 الى 15", "ثلاثة او اربعة" (unless a rise: "ارتفع ... 40 الى 45").
            window = text[max(0, start - 60):start]
            rng = _read(text, sm.end()) if not any(stem in window for stem in _RISE_STEMS) else None
            if rng is not None and rng.vague is None and rng.value > value:
                value = _range_low(got, rng)
                high, end, qualifier = rng.value, rng.end, "range"
        if end != after_at:  # a range read on
            after_at = end
            space, after, _, after2 = _WORDS_AFTER_RE.match(text, end).groups()  # type: ignore[union-attr]
        if qualifier == "exact":
            k = end + len(space)
            if (after in _QA_FIRST_WORDS or text[k:k + 1] in (",", "،")) and (am := _QUAL_AFTER_RE.match(text, end)):
                qualifier = _QUALIFIERS_AFTER[am.group("q")]
                end = am.end()
            elif space and after2 in _QN_FIRST_WORDS and (am := _QUAL_AFTER_NOUN_RE.match(text, end)):
                qualifier = _QUALIFIERS_AFTER[am.group("q")]  # the span stays on the number
        kind, end = _classify(text, ws, pos, end, value, before, (space, after) if end == after_at else None)
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
