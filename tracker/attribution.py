"""Who makes a claim: the source named in its sentence (قال X، بحسب X، تشير تقديرات X ...).

Works on normalised text and returns a normalised span; the caller maps it to the original.
The nearest attribution before the number wins; otherwise the first one after it
("... 52 شهيدا، بحسب وزارة الصحة").
"""

from __future__ import annotations

import ahocorasick_rs
import regex

from tracker import prefilter

_SAY_VERBS = (
    "قال|قالت|يقول|تقول|يقولون|قالوا|افاد|افادت|يفيد|تفيد|اكد|اكدت|يؤكد|تؤكد|اعلن|اعلنت|يعلن|تعلن|"
    "ذكر|ذكرت|يذكر|تذكر|اوضح|اوضحت|صرح|صرحت|كشف|كشفت|اشار|اشارت|اضاف|اضافت|افادت|زعم|زعمت|"
    "نقل|نقلت|اورد|اوردت|اعتبر|اعتبرت|تابع|تابعت|بينت"  # not "بين": normalised it is also "between"
)
_BELIEF_VERBS = "تشير|يشير|تقدر|يقدر|تعتقد|يعتقد|ترجح|يرجح|تفيد|يفيد|تظهر|يظهر|تقول|يقول|توضح|يوضح"
_ACCORDING = "بحسب|حسب|وفقا ل|وفقا لـ|وفق|طبقا ل|نقلا عن|استنادا الي|استنادا ل|بناء علي|علي حد قول|كما افاد|كما ذكر|كما اعلن|كما اكد"
# A source is 1-6 words, up to the complementiser, a preposition that starts the content, or
# punctuation.
# A source is 1-6 words, up to the complementiser, a preposition that starts the content, a
# verbal noun of the event itself (بمقتل، بارتفاع، استشهاد ...), or punctuation.
_STOP = (
    r"(?:ان|انه|انها|إن|بان|بانه|الي|علي|في|عن|ل|لـ|مع|امس|اليوم|يوم|الخميس|الجمعة|السبت|الاحد|الاثنين|"
    r"الثلاثاء|الاربعاء|مقتل|استشهاد|باستشهاد|ارتقاء|اصابة|اصابات|ارتفاع|انتشال|سقوط|عدد|حصيلة|ان|قائلا|قائلة|"
    r"ب(?:ال|م|ان|ار|ت)[^\W\d_]{3,}|ل(?:ل|ا)[^\W\d_]{3,})(?![^\W\d_])"
)
_SUBJECT = rf"(?P<who>(?:(?!{_STOP})[^\W\d_]+\s*){{1,6}})"
_PATTERNS = [
    regex.compile(rf"(?<![^\W_])[وف]?(?:{_ACCORDING})\s+(?:ما\s+(?:{_SAY_VERBS}|نشرت|نشره|نشرته)\s+)?{_SUBJECT}"),
    regex.compile(rf"(?<![^\W_])[وف]?(?:{_SAY_VERBS})\s+{_SUBJECT}"),
    regex.compile(rf"(?<![^\W_])[وف]?(?:{_BELIEF_VERBS})\s+{_SUBJECT}"),
]
_STOP_TRAILERS = ("و",)
# The words each pattern needs (its verb or "according to"): most claim sentences hold none of
# them, and one Aho-Corasick pass over the sentence is cheaper than a pattern's search.
_NEEDS = [prefilter.required(p.pattern, {}, verbose=False) for p in _PATTERNS]
_WORDS = sorted(set().union(*(prefilter.atoms(f) for f in _NEEDS)))
_WORD_SCAN = ahocorasick_rs.AhoCorasick(_WORDS)


def sources(text: str, sent_start: int, sent_end: int) -> list[tuple[int, int]]:
    """Normalised spans of every source named in the sentence ``[sent_start, sent_end)`` (one
    sentence often holds several claims: its sources are found once)."""
    found: list[tuple[int, int]] = []
    present = {_WORDS[w] for w, _, _ in _WORD_SCAN.find_matches_as_indexes(text[sent_start:sent_end], overlapping=True)}
    for pattern, needs in zip(_PATTERNS, _NEEDS):
        if not prefilter.holds(needs, present):
            continue
        for m in pattern.finditer(text, sent_start, sent_end):
            a, b = m.span("who")
            while b > a and text[b - 1].isspace():
                b -= 1
            if b > a:
                found.append((a, b))
    return found


def pick(found: list[tuple[int, int]], number_start: int) -> tuple[int, int] | None:
    """Of a sentence's sources, the one for the number at ``number_start``: the nearest before
    it, else the first after it."""
    before = [s for s in found if s[1] <= number_start]
    if before:
        return max(before, key=lambda s: s[1])
    after = [s for s in found if s[0] >= number_start]
    return min(after) if after else None


def find_attribution(text: str, sent_start: int, sent_end: int, number_start: int) -> tuple[int, int] | None:
    """The normalised span of the source named for the number at ``number_start``, if any."""
    return pick(sources(text, sent_start, sent_end), number_start)
