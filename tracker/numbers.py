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
    "المليار", "بليون", "بضع", "اول", "ثاني", "ثالث", "رابع", "خامس", "سادس", "سابع", "ثامن",
    "تاسع", "عاشر", "حادي", "احد", "نصف",
)
# One Aho-Corasick pass finds every stem; the digit stems find digit runs (normalised text has
# ASCII digits only).
_STEM_SCAN = ahocorasick_rs.AhoCorasick(
    list(_STEMS) + list("0123456789"), matchkind=ahocorasick_rs.MATCHKIND_LEFTMOST_LONGEST
)
_NOT_NUMBERS = frozenset({"لست", "الست"})  # "I am not", "the lady": not six

_ORDINALS = {
    "اول": 1, "اولي": 1, "ثاني": 2, "ثانية": 2, "ثالث": 3, "ثالثة": 3, "رابع": 4, "رابعة": 4,
    "خامس": 5, "خامسة": 5, "سادس": 6, "سادسة": 6, "سابع": 7, "سابعة": 7, "ثامن": 8, "ثامنة": 8,
    "تاسع": 9, "تاسعة": 9, "عاشر": 10, "عاشرة": 10, "حادي": 1, "حادية": 1,
}
_ORDINAL_RE = regex.compile(r"(?P<w>\L<ords>)(?:\s+(?P<teen>عشر[ةه]?))?(?!\w)", ords=list(_ORDINALS))

_MONTH_NAMES = frozenset((
    "يناير فبراير مارس ابريل مايو يونيو يوليو اغسطس سبتمبر اكتوبر نوفمبر ديسمبر شباط اذار نيسان "
    "ايار حزيران تموز اب ايلول جانفي فيفري افريل ماي جوان جويلية اوت"
).split()) | {"كانون الثاني", "تشرين الاول", "تشرين الثاني", "كانون الاول"}
_MONTHS_RE = "|".join(sorted(_MONTH_NAMES, key=len, reverse=True))
_DATE_AFTER_RE = regex.compile(rf"\s*(?:من\s+)?(?:شهر\s+)?(?:{_MONTHS_RE})(?!\w)(?:\s*(?:عام\s+|سنة\s+)?\d{{4}}(?!\d))?")
_SLASH_DATE_RE = regex.compile(r"[/-]\d{1,2}(?:[/-]\d{2,4})?(?!\d)|/\d{4}(?!\d)")
_TIME_AFTER_RE = regex.compile(r":\d{2}(?!\d)(?::\d{2}(?!\d))?")
_PERCENT_AFTER_RE = regex.compile(r"\s*(?:%|(?:في|ب)\s*ال(?:مئة|مائة|مية|ميه|مئه|مائه)(?!\w))")
_YEAR_WORDS = frozenset("عام العام سنة السنة منذ مطلع اوائل اواخر منتصف خريف ربيع صيف شتاء".split()) | _MONTH_NAMES
_YEAR_AFTER_RE = regex.compile(r"\s?(?:م|ه)(?!\w)")
_TIME_WORDS = frozenset({"الساعة", "الساعه"})
_HALF_AFTER_RE = regex.compile(r"\s*و\s*(?P<f>نصف|ربع)(?!\w)")
_CLITIC_HEADS = ("و", "ف", "ب", "ل", "لل")

# Qualifiers, looked up as the one to four words before a number ("ما لا يقل عن").
_QUALIFIERS_BEFORE: dict[str, Qualifier | Literal["between", "from"]] = {
    "نحو": "approx", "حوالي": "approx", "قرابة": "approx", "قرابه": "approx", "زهاء": "approx",
    "ما يقارب": "approx", "يقارب": "approx", "ما يقرب من": "approx", "يقرب من": "approx",
    "ما يناهز": "approx", "يناهز": "approx", "تقريبا": "approx", "في حدود": "approx",
    "اكثر من": "more_than", "ما يزيد علي": "more_than", "ما يزيد عن": "more_than",
    "يزيد علي": "more_than", "يزيد عن": "more_than", "ازيد من": "more_than", "ما يربو علي": "more_than",
    "يربو علي": "more_than", "ما يفوق": "more_than", "يفوق": "more_than", "ما يتجاوز": "more_than",
    "يتجاوز": "more_than", "تجاوز": "more_than", "تجاوزت": "more_than", "تخطي": "more_than",
    "يتخطي": "more_than", "ما يتخطي": "more_than", "فوق": "more_than",
    "ما لا يقل عن": "at_least", "لا يقل عن": "at_least", "ما لا يقل علي": "at_least",
    "علي الاقل": "at_least",
    "اقل من": "less_than", "ما يقل عن": "less_than", "ما دون": "less_than", "دون": "less_than",
    "ما لا يزيد عن": "at_most", "ما لا يزيد علي": "at_most", "لا يزيد عن": "at_most",
    "لا يزيد علي": "at_most", "ما يصل الي": "at_most", "حتي": "at_most",
    "ما بين": "between", "بين": "between", "من": "from",
}
_QUALIFIERS_AFTER: dict[str, Qualifier] = {
    "علي الاقل": "at_least", "تقريبا": "approx", "ونيف": "more_than", "و نيف": "more_than",
    "او اكثر": "at_least", "فاكثر": "at_least", "واكثر": "at_least", "علي الاكثر": "at_most",
    "كحد ادني": "at_least", "كحد اقصي": "at_most", "علي اقل تقدير": "at_least",
}
_QUAL_AFTER_RE = regex.compile(
    r"\s*[,،]?\s*(?P<q>\L<quals>)(?!\w)", quals=sorted(_QUALIFIERS_AFTER, key=len, reverse=True)
)
_RANGE_SEP_RE = {
    "between": regex.compile(r"\s*و\s*"),
    "from": regex.compile(r"\s+(?:الي|حتي|لغاية)\s+"),
    None: regex.compile(r"\s+(?:الي|او)\s+|-(?=\d)"),
}
# "ارتفع العدد من 40 الى 45" is a change, not a range.
_RISE_STEMS = ("ارتف", "ترتفع", "يرتفع", "زاد", "يزيد", "تزيد", "قفز", "صعد", "انخفض", "تراجع")
_LOOKBACK = 40

# The common case in one regex call: a digit number with its optional qualifier before (a
# look-behind that captures), scale word and addend ("3 آلاف و577"), and what follows it
# (a clock time, a date, a percent sign, a qualifier after, or a range to finish in Python).
_QUAL_BEFORE_FORMS = sorted(
    {c + q for q in _QUALIFIERS_BEFORE for c in ("",) + _CLITIC_HEADS}, key=len, reverse=True
)
_SCALE_WORDS = sorted((w for w, t in numwords.WORD_TYPES.items() if t == "scale"), key=len, reverse=True)
_FAST_RE = regex.compile(
    rf"""
    (?:(?<=(?<![^\W\d_])(?P<q>\L<qb>)\s+))?
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
      |(?P<rng>\s+(?:الي|او|حتي|لغاية)\s+|\s*و\s*(?=\d)|-(?=\d))
      |(?P<ysfx>\s?(?:م|ه)(?![^\W\d_]))
      |(?P<half>\s*و\s*(?:نصف|ربع)(?![^\W\d_]))
      |(?P<point>\s+فاصل)
    )?
    """,
    regex.VERBOSE,
    qb=_QUAL_BEFORE_FORMS,
    scales=_SCALE_WORDS,
    qa=sorted(_QUALIFIERS_AFTER, key=len, reverse=True),
)


def _strip_clitic(phrase: str) -> str:
    if phrase in _QUALIFIERS_BEFORE:
        return phrase
    for c in _CLITIC_HEADS:
        if phrase.startswith(c) and phrase[len(c):] in _QUALIFIERS_BEFORE:
            return phrase[len(c):]
    return phrase


def _fast(text: str, ws: int, pos: int) -> RawNumber | None:
    """A digit number read in one regex call; None when the slow path must decide (ranges...)."""
    m = _FAST_RE.match(text, pos)
    if m is None or m.lastgroup in ("rng", "half", "point"):
        return None
    q = m.group("q")
    qual_word = _strip_clitic(q) if q is not None else None
    q_kind = _QUALIFIERS_BEFORE[qual_word] if qual_word is not None else None
    if q_kind in ("between", "from") or (q is not None and ws != pos):
        return None
    d, sc = m.group("d"), m.group("sc")
    value = numwords.parse_digits(d, sc is not None)
    end = m.end("sc") if sc is not None else m.end("d")
    if sc is not None:
        value *= numwords.SCALES[sc][0]
        if (add := m.group("add")) is not None:
            value += float(add)
            end = m.end("add")
    start = pos if q is None else m.start("q") + (len(q) - len(qual_word))  # type: ignore[arg-type]
    qualifier: Qualifier = q_kind if q_kind is not None else "exact"  # type: ignore[assignment]
    kind: NumberKind = "count"
    group = m.lastgroup
    if group == "qa" and qualifier == "exact":
        qualifier = _QUALIFIERS_AFTER[m.group("qa").strip(" ,")]
        end = m.end()
    elif group == "time":
        kind, end = "time", m.end()
    elif group == "date":
        kind, end = "date", m.end()
    elif group == "pct":
        kind, end = "percent", m.end()
    elif group == "month" and sc is None and value == int(value) and 1 <= value <= 31:
        kind, end = "date", m.end()
    if kind == "count" and sc is None:
        pw = m.group("pw") or ""
        if len(d) == 4 and 1800 <= value <= 2100 and (
            group == "ysfx" or pw in _YEAR_WORDS or _clitic_free(pw) in _YEAR_WORDS
        ):
            kind = "year"
            if group == "ysfx":
                end = m.end()
        elif value <= 24 and pw in _TIME_WORDS and ws == pos:
            kind = "time"
        elif ws != pos and "ال" in text[ws:pos] and pw.startswith(("ال", "لل", "وال", "بال")):
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
    if j > 0 and text[j - 1].isalpha():
        return None
    return j if text[j:i] in PROCLITICS else None


def _candidates(text: str) -> list[tuple[int, int]]:
    """(word start, number start) pairs where a number may begin, in text order."""
    found: list[tuple[int, int]] = []
    last_digit_end = -1
    for _, i, end in _STEM_SCAN.find_matches_as_indexes(text):
        if end - i == 1 and text[i].isdigit():  # a digit: only the first of a run counts
            if i == last_digit_end:
                last_digit_end = end
                continue
            last_digit_end = end
            if i > 0 and text[i - 1] == "." and not (i > 1 and text[i - 2].isdigit()):
                i -= 1  # ".77"
        ws = _word_start(text, i)
        if ws is not None:
            found.append((ws, i))
    return found


def _read(text: str, pos: int) -> tuple[float, int, tuple[float, float] | None, bool] | None:
    """The number expression at ``pos``: (value, end, vague bounds, ends with a scale word)."""
    tokens = numwords.tokenize(text, pos)
    ev = numwords.evaluate(tokens)
    if ev is None:
        return None
    value, end = ev.value, ev.end
    last = next((t for t in tokens if t.end == end), None)
    ends_with_scale = last is not None and last.type == "scale"
    if ends_with_scale and ev.vague is None and (h := _HALF_AFTER_RE.match(text, end)):
        scale = numwords.SCALES[last.form][0]  # type: ignore[union-attr]
        value += scale * (0.5 if h.group("f") == "نصف" else 0.25)
        end = h.end()
    return value, end, ev.vague, ends_with_scale


def _clitic_free(word: str) -> str:
    for c in ("وال", "بال", "لل", "ال", "و", "ف", "ب", "ل"):
        if word.startswith(c) and len(word) > len(c) + 1:
            return word[len(c):]
    return word


def _classify(text: str, start: int, end: int, value: float, prefix: str, before: _Before) -> tuple[NumberKind, int]:
    """The kind of the expression [start, end) and its end (dates and times extend it)."""
    raw = text[start:end]
    first = raw[0]
    if first.isdigit():
        if m := _TIME_AFTER_RE.match(text, end):
            return "time", m.end()
        if m := _SLASH_DATE_RE.match(text, end):
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
    if value <= 24 and _clitic_free(last) in _TIME_WORDS | {"ساعة"} and last in _TIME_WORDS:
        return "time", end
    if "ال" in prefix or prefix.endswith("لل"):
        if raw == "اثنين":
            return "date", end  # "يوم الاثنين": Monday
        if first.isdigit() and last.startswith(("ال", "لل", "وال", "بال")):
            return "ordinal", end  # "لليوم الـ34"
    return "count", end


def _quantity(value: float, qualifier: Qualifier, high: float | None) -> Quantity:
    return Quantity.of(value, qualifier, high)


def scan(text: str) -> list[RawNumber]:
    """Every number expression in *normalised* ``text``, longest first, left to right."""
    out: list[RawNumber] = []
    last_end = 0
    for ws, pos in _candidates(text):
        if pos < last_end:
            continue
        if text[pos].isdigit() and (fast := _fast(text, ws, pos)) is not None:
            out.append(fast)
            last_end = fast.end
            continue
        prefix = text[ws:pos]
        got = _read(text, pos)
        if got is None:
            om = _ORDINAL_RE.match(text, pos)
            if om is not None:
                value = _ORDINALS[om.group("w")] + (10 if om.group("teen") else 0)
                out.append(RawNumber(pos, om.end(), Quantity.of(value), "ordinal"))
                last_end = om.end()
            continue
        value, end, vague, _ = got
        if text[ws:end] in _NOT_NUMBERS:
            continue
        start = pos
        qualifier: Qualifier = "vague" if vague else "exact"
        high: float | None = vague[1] if vague else None
        before = _Before.at(text, ws)
        qual = before.qualifier() if ws == pos else None
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
                    high, end = rng[0], rng[1]
                    qualifier = "range"
                    start = qual[1]
            if q not in ("between", "from") and vague is None:
                qualifier = "range" if rng is not None else q  # type: ignore[assignment]
                start = qual[1]
        elif vague is None and (sm := _RANGE_SEP_RE[None].match(text, end)):
            # "10 الى 15", "ثلاثة او اربعة" (unless a rise: "ارتفع ... 40 الى 45").
            window = text[max(0, start - 60):start]
            rng = _read(text, sm.end()) if not any(stem in window for stem in _RISE_STEMS) else None
            if rng is not None and rng[2] is None and rng[0] > value:
                high, end, qualifier = rng[0], rng[1], "range"
        if qualifier == "exact" and (am := _QUAL_AFTER_RE.match(text, end)):
            qualifier = _QUALIFIERS_AFTER[am.group("q")]
            end = am.end()
        kind, end = _classify(text, pos, end, value, prefix, before)
        if kind == "date" and qualifier != "exact":
            qualifier, high = "exact", None
        out.append(RawNumber(start, end, _quantity(value, qualifier, high), kind))
        last_end = end
    return out


def find_numbers(text: str) -> list[NumberMatch]:
    """Every number expression in ``text`` with spans into ``text`` itself (half-open)."""
    norm = normalize(text)
    result = []
    for n in scan(norm.text):
        a, b = norm.to_original(n.start, n.end)
        result.append(NumberMatch(a, b, text[a:b], n.quantity, n.kind))
    return result


_FRACTION_RE = regex.compile(r"(?P<sign>-)?(?P<num>\d+)/(?P<den>\d+)")
_EDGE_PUNCT = " \t\r\n.,;:!?()[]{}\"'«»“”"


def parse_number(text: str) -> Quantity | None:
    """The quantity of a whole number expression such as ``"أكثر من 40 ألف"``; None otherwise."""
    norm = normalize(text).text.strip(_EDGE_PUNCT.replace(".", "")).rstrip(".")
    if not norm:
        return None
    sign = 1
    if norm.startswith("-") and len(norm) > 1:
        sign, norm = -1, norm[1:].lstrip()
    if (f := _FRACTION_RE.fullmatch(norm)) and int(f.group("den")) != 0:
        return Quantity.of(sign * int(f.group("num")) / int(f.group("den")))
    found = scan(norm)
    if len(found) != 1 or found[0].start != 0 or norm[found[0].end:].strip(_EDGE_PUNCT):
        return None
    q = found[0].quantity
    if sign < 0:
        return Quantity.of(-q.value) if q.qualifier == "exact" else None
    return q
