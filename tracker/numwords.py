"""Arabic number words: the lexicon, the token pattern, and the evaluation of a token sequence.

Everything here works on *normalised* text (see ``textnorm``): alef forms are ``ا``, ``ى`` is
``ي``, diacritics and tatweel are gone, digits are ASCII and ``٫ ٬`` are ``. ,``.
Spelling variants (ة/ه endings, مئة/مائة/مية, Egyptian forms as in Duckling) are listed once
here; nothing else in the project spells a number word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import regex

TokenType = Literal["digits", "unit", "teen", "ten", "hundred", "scale", "vague", "point", "fraction"]


def _with_h(words: list[str]) -> list[str]:
    """Add the ه-ending spelling of every word ending in ة (اربعه for اربعة)."""
    return words + [w[:-1] + "ه" for w in words if w.endswith("ة")]


UNITS: dict[str, int] = {}
for _value, _forms in {
    0: ["صفر"],
    1: ["واحد", "واحدة"],
    2: ["اثنان", "اثنين", "اثنتان", "اثنتين", "اتنين", "اتنان", "ثنتين"],
    3: ["ثلاث", "ثلاثة", "تلات", "تلاتة", "تلاته"],
    4: ["اربع", "اربعة", "اربعت"],
    5: ["خمس", "خمسة"],
    6: ["ست", "ستة"],
    7: ["سبع", "سبعة"],
    8: ["ثمان", "ثماني", "ثمانية", "تمان", "تمانية", "تمن"],
    9: ["تسع", "تسعة"],
    10: ["عشر", "عشرة"],
}.items():
    for _w in _with_h(_forms):
        UNITS[_w] = _value

# The first word of a two-word teen ("ثلاثة عشر"); "احد/احدي" only count inside a teen.
# ("حادي عشر" is the ordinal eleventh, read by the ordinal rule, not a count.)
_TEEN_HEADS: dict[str, int] = {"احد": 1, "احدي": 1, "اثنا": 2, "اثني": 2, "اثنتا": 2, "اثنتي": 2}
for _w, _v in UNITS.items():
    if 3 <= _v <= 9:
        _TEEN_HEADS[_w] = _v

TEENS: dict[str, int] = {
    # Egyptian single-word teens (Duckling's EG corpus)
    "حداشر": 11, "احداشر": 11, "اتناشر": 12, "اثناشر": 12, "تلتاشر": 13, "تلاتاشر": 13,
    "اربعتاشر": 14, "اربعطاشر": 14, "خمستاشر": 15, "خمسطاشر": 15, "ستاشر": 16, "سطاشر": 16,
    "سبعتاشر": 17, "سبعطاشر": 17, "تمنتاشر": 18, "تمانتاشر": 18, "تسعتاشر": 19, "تسعطاشر": 19,
}

TENS: dict[str, int] = {}
for _value, _stems in {
    20: ["عشر"], 30: ["ثلاث", "تلات"], 40: ["اربع"], 50: ["خمس"], 60: ["ست"],
    70: ["سبع"], 80: ["ثمان", "تمان"], 90: ["تسع"],
}.items():
    for _stem in _stems:
        TENS[_stem + "ون"] = _value
        TENS[_stem + "ين"] = _value

_HUNDRED_WORDS = ["مئة", "مائة", "مية", "ميه", "مئه", "مائه", "ماية", "مايه"]
HUNDREDS: dict[str, int] = {w: 100 for w in _HUNDRED_WORDS}
HUNDREDS.update({w: 200 for w in ["مئتان", "مئتين", "مائتان", "مائتين", "مئتا", "مئتي", "مائتا", "مائتي", "متين", "ميتين"]})
# Fused multiples of a hundred ("ثلاثمائة"); "ثلث" is the classical spelling of "ثلثمائة".
for _stem, _value in {
    "ثلاث": 300, "ثلث": 300, "تلت": 300, "تلات": 300, "اربع": 400, "خمس": 500, "ست": 600, "سبع": 700,
    "ثمان": 800, "ثماني": 800, "تمن": 800, "تمان": 800, "تسع": 900,
}.items():
    for _h in _HUNDRED_WORDS:
        HUNDREDS[_stem + _h] = _value

# Scale words: value and grammatical number. A dual standing alone doubles ("الفين" = 2000);
# an accusative singular after a multiplier ("40 الفا") is just the scale, so "الفا" and
# "مليونا" are "acc_or_dual" and decided by context.
ScaleForm = Literal["singular", "dual", "acc_or_dual", "plural"]
SCALES: dict[str, tuple[int, ScaleForm]] = {}
for _value, _forms in {
    1000: {"singular": ["الف"], "acc_or_dual": ["الفا"], "dual": ["الفان", "الفين", "الفي"],
           "plural": ["الاف", "الالاف", "الوف"]},
    1_000_000: {"singular": ["مليون"], "acc_or_dual": ["مليونا"], "dual": ["مليونان", "مليونين", "مليوني"],
                "plural": ["ملايين", "الملايين"]},
    1_000_000_000: {"singular": ["مليار", "بليون"], "acc_or_dual": ["مليارا", "بليونا"],
                    "dual": ["ملياران", "مليارين", "ملياري", "بليونان", "بليونين"],
                    "plural": ["مليارات", "المليارات", "بلايين", "البلايين"]},
    1_000_000_000_000: {"singular": ["تريليون", "ترليون"], "acc_or_dual": ["تريليونا", "ترليونا"],
                        "dual": ["تريليونان", "تريليونين", "ترليونان", "ترليونين"],
                        "plural": ["تريليونات", "ترليونات", "التريليونات"]},
}.items():
    for _form, _words in _forms.items():
        for _w in _words:
            SCALES[_w] = (_value, _form)  # type: ignore[assignment]

# Vague plurals: the interval a reader would grant ("آلاف" is at least three thousand, the
# smallest Arabic plural, and fewer than ten thousand).
VAGUE: dict[str, tuple[int, int]] = {
    "عشرات": (30, 99), "مئات": (300, 999), "مائات": (300, 999), "ميات": (300, 999),
    "بضع": (3, 9), "بضعة": (3, 9), "بضعه": (3, 9),
}

POINT_WORDS = ["فاصلة", "فاصله", "فاصل"]

# A fraction multiplies a following scale word ("نصف مليون" = 500000); alone it is not a count
# ("نصف الأسرى"), so the tokenizer emits it only before a scale word.
FRACTIONS: dict[str, float] = {"نصف": 0.5, "ربع": 0.25}

# "احد/احدي" mean one only inside a compound: a teen ("احد عشر") or before "و" + a ten
# ("احدي وعشرون"); alone they are "someone" / "Sunday".
_ONE_HEADS = frozenset({"احد", "احدي"})
# "بضع" takes a following vague plural's interval: "بضع مئات" is a few hundred.
_FEW = frozenset({"بضع", "بضعة", "بضعه"})


def _all_words() -> dict[str, TokenType]:
    kinds: dict[str, TokenType] = {}
    for table, kind in ((UNITS, "unit"), (TEENS, "teen"), (TENS, "ten"), (HUNDREDS, "hundred"),
                        (SCALES, "scale"), (VAGUE, "vague")):
        for w in table:
            kinds.setdefault(w, kind)  # type: ignore[arg-type]
    for w in POINT_WORDS:
        kinds[w] = "point"
    return kinds


WORD_TYPES: dict[str, TokenType] = _all_words()

# Digits with optional thousands separators and decimals. After normalisation "٬" is "," and
# "٫" is ".". ``(?!\d)`` keeps a run whole.
# "1,5 مليون": a comma followed by one or two digits before a scale word is a decimal comma
# (Maghreb usage, and "،" typed for "٫"); the scale-word look-ahead keeps "3,4" lists apart.
_SCALE_ALT = "|".join(sorted(SCALES, key=len, reverse=True))
# "1.234.567": two or more dot groups are thousands (a single ".243" is decided in parse_digits).
DIGITS = (
    r"\d{1,3}(?:\.\d{3}){2,}(?!\.?\d)|"
    r"(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+,\d{1,2}(?=\s*(?:" + _SCALE_ALT + r")(?!\w))|\d+)(?:\.\d+)?(?!\d)|\.\d+(?!\d)"
)
# The next word after optional space: a digit run or a run of letters. Words are looked up in
# dicts rather than matched by a big alternation, which costs ~10x more per position.
_NEXT_RE = regex.compile(rf"(?P<sp>\s*)(?:(?P<d>{DIGITS})|(?P<w>[^\W\d_]+))")
_TEEN_TAILS = frozenset({"عشر", "عشرة", "عشره"})

@dataclass(frozen=True, slots=True)
class Token:
    """One number token: its text, where it ends in the string, its type and value."""

    type: TokenType
    value: float
    end: int
    form: str = ""
    joined_by_wa: bool = False


@dataclass(frozen=True, slots=True)
class Evaluated:
    """A number expression read from tokens: value (low, high for vague plurals) and its end."""

    value: float
    end: int
    vague: tuple[float, float] | None = None


def parse_digits(s: str, followed_by_scale: bool) -> float:
    """Digits to a value; "40.000" is forty thousand unless a scale word follows ("1.500 مليون")."""
    if "," in s:
        head, _, tail = s.rpartition(",")
        if len(tail) < 3 and "," not in head:
            return float(f"{head}.{tail}")  # a decimal comma (see DIGITS)
        s = s.replace(",", "")
    if s.count(".") > 1:
        return float(s.replace(".", ""))  # "1.234.567"
    if "." in s and not followed_by_scale and not s.startswith(("0", ".")):
        head, _, tail = s.partition(".")
        if regex.fullmatch(r"\d{1,3}(?:\.\d{3})+", s) and (s.count(".") > 1 or len(tail) == 3):
            return float(s.replace(".", ""))
        return float(head + "." + tail)
    return float(s)


def _word_token(word: str, end: int, joined: bool) -> Token | None:
    kind = WORD_TYPES.get(word)
    if kind is None:
        return None
    if kind == "unit":
        value: float = UNITS[word]
    elif kind == "teen":
        value = TEENS[word]
    elif kind == "ten":
        value = TENS[word]
    elif kind == "hundred":
        value = HUNDREDS[word]
    elif kind == "scale":
        value = SCALES[word][0]
    else:
        value = 0
    return Token(kind, value, end, word, joined)


def _wa_ten_follows(text: str, nxt: regex.Match[str] | None) -> bool:
    """Whether the next word is "و" + a ten, glued ("وعشرون") or spaced ("و عشرون")."""
    if nxt is None or not nxt.group("sp") or not (w := nxt.group("w")):
        return False
    if w == "و":
        after = _NEXT_RE.match(text, nxt.end())
        return after is not None and (after.group("w") or "") in TENS
    return w[0] == "و" and w[1:] in TENS


# No number expression has more tokens than this (999,999,999,999 in words has 16); the cap keeps
# a run of number words ("عشرات عشرات ...") from being re-read whole at every candidate.
MAX_TOKENS = 24


def tokenize(text: str, pos: int) -> list[Token]:
    """The run of number tokens starting exactly at ``pos`` (empty if none starts there).

    Tokens are separated by spaces or by ``و`` (attached or spaced); a lone ``و`` or a word
    that is not a number word ends the run. At most ``MAX_TOKENS`` are read.
    """
    tokens: list[Token] = []
    joined = False
    limit = MAX_TOKENS
    m = _NEXT_RE.match(text, pos)
    while m is not None and len(tokens) < limit:
        if tokens and not m.group("sp") and not joined:
            break  # glued to the previous token without a separator
        if not tokens and m.group("sp"):
            break
        if (d := m.group("d")) is not None:
            nxt = _NEXT_RE.match(text, m.end())
            before_scale = nxt is not None and WORD_TYPES.get(nxt.group("w") or "") == "scale"
            tokens.append(Token("digits", parse_digits(d, before_scale), m.end(), d, joined))
            joined, m = False, nxt
            continue
        word = m.group("w")
        if word == "و":
            if joined or not tokens:
                break
            joined = True
            m = _NEXT_RE.match(text, m.end())
            continue
        nxt = _NEXT_RE.match(text, m.end())
        if word in _TEEN_HEADS and nxt is not None and nxt.group("sp") and nxt.group("w") in _TEEN_TAILS:
            tok: Token | None = Token("teen", 10 + _TEEN_HEADS[word], nxt.end(), word, joined)
            nxt = _NEXT_RE.match(text, nxt.end())
        elif word in _ONE_HEADS:
            tok = Token("unit", 1, m.end(), word, joined) if _wa_ten_follows(text, nxt) else None
        elif word in FRACTIONS:
            scale_next = not tokens and nxt is not None and nxt.group("sp") and WORD_TYPES.get(nxt.group("w") or "") == "scale"
            tok = Token("fraction", FRACTIONS[word], m.end(), word, joined) if scale_next else None
        else:
            tok = _word_token(word, m.end(), joined)
            if tok is None and word[0] == "و" and tokens and not joined:
                tok = _word_token(word[1:], m.end(), True)  # "وعشرين": و glued to the word
        if tok is None:
            break
        if not tokens and (tok.type == "vague" or (tok.type == "scale" and SCALES[tok.form][1] == "plural")):
            limit = 3  # a vague plural reads at most "بضع مئات الالاف"
        tokens.append(tok)
        joined, m = False, nxt
    return tokens


def evaluate(tokens: list[Token]) -> Evaluated | None:
    """Read the longest valid number expression from the front of ``tokens``.

    Arabic composes numbers as descending groups: ``[multiplier] scale (و addend)*`` with
    addends smaller than the scale before them, units before tens (``خمسة وعشرون``), hundreds
    first. A token that does not fit ends the expression, so ``بين 10 و15`` reads as 10, then 15,
    and ``40 الفا و107 الاف`` as 40000 then 107000.
    """
    if not tokens:
        return None
    # A figure too long for a float ends the expression before it (one alone is returned as
    # inf, which the scanner drops) rather than poisoning the arithmetic below.
    for i in range(1, len(tokens)):
        if not math.isfinite(tokens[i].value):
            tokens = tokens[:i]
            break
    first = tokens[0]
    if not math.isfinite(first.value):
        return Evaluated(first.value, first.end)
    if first.type == "point":
        return None
    if first.type == "vague" or (first.type == "scale" and SCALES[first.form][1] == "plural"):
        low, high = VAGUE.get(first.form, (3, 9))
        if first.type == "scale":
            scale = first.value
            low, high = 3 * scale, 10 * scale - 1
        end = first.end
        rest = tokens[1:]
        # "بضع مئات": a few of a vague plural is that plural's interval.
        if first.form in _FEW and rest and rest[0].type == "vague" and not rest[0].joined_by_wa:
            low, high = VAGUE[rest[0].form]
            end, rest = rest[0].end, rest[1:]
        # "عشرات الالاف": a vague multiple of a scale in construct.
        if rest and rest[0].type == "scale" and not rest[0].joined_by_wa and first.type == "vague":
            scale = rest[0].value
            low, high, end = low * scale, (high + 1) * scale - 1, rest[0].end
        return Evaluated(low, end, (low, high))

    total = 0.0
    group = 0.0  # the sub-scale accumulation
    last_scale = float("inf")
    scale_end: int | None = None  # where the expression ends at its last scale word
    prev: Token | None = None
    end = first.end
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        ok = False
        if prev is None:
            ok = tok.type in ("digits", "unit", "teen", "ten", "hundred", "scale", "fraction")
        elif prev.type == "fraction":
            ok = tok.type == "scale"  # "نصف مليون"; the tokenizer only emits a fraction before one
        elif tok.type == "scale":
            ok = prev.type != "scale" and not tok.joined_by_wa and tok.value < last_scale
        elif tok.type == "point":
            # "واحد فاصلة واحد": the fraction is the digits of the next token.
            if i + 1 < len(tokens) and prev.type in ("unit", "digits") and group == prev.value:
                frac_tok = tokens[i + 1]
                frac = str(int(frac_tok.value)) if frac_tok.type in ("unit", "digits") and frac_tok.value == int(frac_tok.value) else None
                if frac is not None:
                    group = float(f"{int(group)}.{frac}")
                    end = frac_tok.end
                    prev = frac_tok
                    i += 2
                    continue
            ok = False
        elif prev.type == "scale":
            ok = tok.joined_by_wa and tok.value < prev.value and tok.type != "point"
        elif prev.type == "hundred" and tok.type in ("unit", "teen", "ten") and group % 100 == 0:
            ok = True  # "مئة وواحد", Egyptian "متين واحد وعشرين"
        elif prev.type == "unit" and tok.type == "ten" and tok.joined_by_wa and 1 <= prev.value <= 9:
            ok = True  # "خمسة وعشرون"
        elif prev.type == "ten" and tok.type == "unit" and tok.joined_by_wa and 1 <= tok.value <= 9 and group % 10 == 0:
            ok = True  # "عشرين وخمسة"
        elif prev.type == "unit" and tok.type == "hundred" and tok.value == 100 and not tok.joined_by_wa and 3 <= prev.value <= 9:
            group = group - prev.value + prev.value * 100  # "ثلاث مئة"
            prev, end = tok, tok.end
            i += 1
            continue
        if not ok:
            if tok.type == "scale" and not tok.joined_by_wa and scale_end is not None and group:
                # "40 الفا و107 الاف": the addend has a scale word of its own that cannot attach,
                # so it starts the next number; this one ends at its own scale word.
                return Evaluated(total, scale_end)
            break
        if tok.type == "scale":
            scale, form = SCALES[tok.form]
            if prev is None or prev.type == "scale":
                multiplier = 2.0 if form == "dual" or form == "acc_or_dual" else 1.0
            else:
                multiplier = group
            total += multiplier * scale
            group = 0.0
            last_scale = scale
            scale_end = tok.end
        else:
            group += tok.value
        prev, end = tok, tok.end
        i += 1
    return Evaluated(total + group, end)
