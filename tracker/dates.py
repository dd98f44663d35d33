"""Publication dates: parse a stated date, or find one in an article's metadata or text.

An article's ``published_at`` is, in order of preference:
1. the date the input states (``published_at``), which must parse or the record is refused;
2. a date found in the metadata under a date-like key (``date``, ``datePublished`` ...), when
   every such key that parses names the same day;
3. a date found in the text: an explicit "نشر في / بتاريخ ..." marker anywhere, otherwise the
   dateline (the first few hundred characters), when exactly one day is named there;
4. nothing: NULL, and the article's claims are kept as undated.

Times keep the wall clock the source wrote and drop any UTC offset: a Gaza outlet's
``2024-02-17T01:00+02:00`` stays on 17 February, the day its readers saw it.
"""

from __future__ import annotations

import email.utils
from datetime import date, datetime, time
from typing import Any

import regex

from tracker.textnorm import normalize, normalize_literal

# Years outside this range are typos or epoch artefacts, not news dates.
MIN_YEAR, MAX_YEAR = 1900, 2100

# Metadata keys that may hold a publication date, most specific first.
METADATA_DATE_KEYS = (
    "date_published", "datePublished", "publication_date", "published_date", "published",
    "pubdate", "pub_date", "date", "created_at", "timestamp",
)

# How far into the text a dateline may sit.
DATELINE_CHARS = 300


class DateError(ValueError):
    """A value that should be a date and is not one."""


def _to_datetime(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        # Keep the wall clock as written; see the module docstring for why offsets are dropped.
        return value.replace(tzinfo=None)
    return datetime.combine(value, time())


def _check_year(d: datetime, raw: object) -> datetime:
    if not MIN_YEAR <= d.year <= MAX_YEAR:
        raise DateError(f"{raw!r} is not a plausible publication date (year {d.year})")
    return d


def parse_date(value: Any) -> datetime | None:
    """Parse a stated date: ISO 8601 (date or date-time, any offset), ``YYYY/MM/DD`` or RFC 2822.

    Returns None for an absent value (None or blank). Raises ``DateError`` for anything else
    that does not name a real calendar day, such as ``2024-13-45``.
    """
    if value is None:
        return None
    if isinstance(value, (datetime, date)):  # YAML front matter parses dates itself
        return _check_year(_to_datetime(value), value)
    if not isinstance(value, str):
        raise DateError(f"{value!r} is not a date")
    raw = value.strip()
    if not raw:
        return None
    parsed: datetime | None = None
    for text in (raw, raw.replace("/", "-")):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            break
        except ValueError:
            continue
    if parsed is None:
        try:
            parsed = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            raise DateError(f"{value!r} is not a date") from None
    return _check_year(_to_datetime(parsed), value)


def date_from_metadata(metadata: dict[str, Any]) -> tuple[datetime, str] | None:
    """The publication date named by the metadata and the key it came from, if unambiguous."""
    found: list[tuple[datetime, str]] = []
    for key in METADATA_DATE_KEYS:
        if key not in metadata:
            continue
        try:
            parsed = parse_date(metadata[key])
        except DateError:
            continue  # not our field: an odd value there is ignored, not an error
        if parsed is not None:
            found.append((parsed, key))
    if not found or len({d.date() for d, _ in found}) > 1:
        return None
    return found[0]


# Gregorian month names as written across the Arab world (Egypt/Gulf, Levant, Maghreb).
_MONTHS: dict[str, int] = {}
for _month, _names in enumerate(
    (
        ["يناير", "كانون الثاني", "جانفي"],
        ["فبراير", "شباط", "فيفري"],
        ["مارس", "آذار"],
        ["أبريل", "إبريل", "نيسان", "أفريل"],
        ["مايو", "أيار", "ماي"],
        ["يونيو", "يونيه", "حزيران", "جوان"],
        ["يوليو", "يوليه", "تموز", "جويلية"],
        ["أغسطس", "آب", "أوت"],
        ["سبتمبر", "أيلول"],
        ["أكتوبر", "تشرين الأول"],
        ["نوفمبر", "تشرين الثاني"],
        ["ديسمبر", "كانون الأول"],
    ),
    start=1,
):
    for _name in _names:
        _MONTHS[normalize_literal(_name)] = _month

_MONTH_ALT = "|".join(sorted((regex.escape(m) for m in _MONTHS), key=len, reverse=True))
# "17 فبراير 2024", "17 شباط/فبراير 2024", "2024-02-17"; digits are ASCII after normalisation.
_DATE_RE = regex.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}})\s+(?:ال)?(?P<m>{_MONTH_ALT})(?:\s*[/(]\s*(?:{_MONTH_ALT})\s*\)?)?\s*[,،]?\s+(?P<y>\d{{4}})(?!\d)"
    r"|(?<!\d)(?P<iy>\d{4})-(?P<im>\d{1,2})-(?P<id>\d{1,2})(?!\d)"
)
# An explicit publication marker: the date after it is the publication date wherever it sits.
_MARKER_RE = regex.compile(r"(?:تاريخ النشر|نشر (?:في|بتاريخ)|نشرت (?:في|بتاريخ))\s*:?\s*")


def _dates_in(text: str) -> list[date]:
    found: list[date] = []
    for m in _DATE_RE.finditer(text):
        try:
            if m.group("d"):
                d = date(int(m.group("y")), _MONTHS[m.group("m")], int(m.group("d")))
            else:
                d = date(int(m.group("iy")), int(m.group("im")), int(m.group("id")))
        except ValueError:
            continue  # "31 فبراير": not a day
        if MIN_YEAR <= d.year <= MAX_YEAR:
            found.append(d)
    return found


def date_from_text(text: str) -> date | None:
    """A publication date stated in the text, if exactly one day is named where one would be."""
    norm = normalize(text).text
    marked = {d for m in _MARKER_RE.finditer(norm) for d in _dates_in(norm[m.end(): m.end() + 40])[:1]}
    if marked:
        return marked.pop() if len(marked) == 1 else None
    head = set(_dates_in(norm[:DATELINE_CHARS]))
    return head.pop() if len(head) == 1 else None


def resolve_published_at(
    stated: datetime | None, metadata: dict[str, Any], text: str
) -> tuple[datetime | None, str | None]:
    """The article's publication date and where it came from: ``input``, ``metadata:KEY``, ``text``."""
    if stated is not None:
        return stated, "input"
    from_meta = date_from_metadata(metadata)
    if from_meta is not None:
        return from_meta[0], f"metadata:{from_meta[1]}"
    from_text = date_from_text(text)
    if from_text is not None:
        return datetime.combine(from_text, time()), "text"
    return None, None
