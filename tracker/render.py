"""Safe HTML for untrusted text: escaping, bidi neutralising, number highlights, links.

Every string that comes from an article (text, title, publisher, quote, URL, attribution) is
untrusted. The dashboard renders HTML only through these helpers, which escape every untrusted
part with ``html.escape`` and build the markup around it; nothing else is passed to
``st.markdown(..., unsafe_allow_html=True)``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

# A font stack that renders Arabic well where installed, then common fallbacks.
ARABIC_FONT_STACK = '"Noto Naskh Arabic", "Amiri", "Noto Sans Arabic", "Segoe UI", "Tahoma", sans-serif'

# Bidi embeddings, overrides and isolates (LRE RLE PDF LRO RLO, LRI RLI FSI PDI): in untrusted
# text they can make "١٠١" read as "١٠١" reversed or move a quote's words around, so they are
# shown as visible markers instead of acting. The plain marks LRM/RLM/ALM only nudge neutral
# characters and are common in Arabic copy, so they pass.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# C0/C1 controls other than tab and newline have no business on a page.
_OTHER_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CSS = f"""
<style>
.trk-ar {{ font-family: {ARABIC_FONT_STACK}; font-size: 1.15rem; line-height: 1.9;
           text-align: right; unicode-bidi: isolate; }}
.trk-ar mark {{ background: #ffe08a; color: inherit; padding: 0 .15em; border-radius: .2em; }}
.trk-ar mark.trk-num {{ background: #ffb347; font-weight: 700; }}
.trk-ar mark.trk-claim {{ background: #fff1b8; }}
.trk-ar mark.trk-current {{ outline: 2px solid #d9480f; }}
.trk-article {{ max-height: 32rem; overflow-y: auto; border: 1px solid #ddd;
                border-radius: .4rem; padding: .6rem 1rem; white-space: pre-wrap; }}
.trk-ctl {{ color: #c92a2a; font-family: monospace; font-size: .75em; }}
.trk-meta {{ unicode-bidi: isolate; }}
</style>
"""


_ANY_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """Untrusted text as a plain, single-purpose string: controls removed, bidi controls named.

    For places that render text themselves (tables, chart tooltips, widget options), where
    HTML escaping is the renderer's job but a bidi override would still reorder what is shown.
    """
    s = "" if text is None else str(text)
    if not _ANY_CONTROL.search(s):  # the common case, and the one that runs thousands of times
        return s
    s = _OTHER_CONTROLS.sub("", s)
    return _BIDI_CONTROLS.sub(lambda m: f"[U+{ord(m.group()):04X}]", s)


def clean_all(values: Iterable[object]) -> list[str]:
    """``clean`` of each value; missing values (None, NaN) become ""."""
    return [clean(v) if isinstance(v, str) else "" for v in values]


def esc(text: object) -> str:
    """Untrusted text escaped for HTML, with bidi controls shown as inert visible markers."""
    s = "" if text is None else str(text)
    s = _OTHER_CONTROLS.sub("", s)
    out: list[str] = []
    pos = 0
    for m in _BIDI_CONTROLS.finditer(s):
        out.append(html.escape(s[pos:m.start()], quote=True))
        out.append(f'<span class="trk-ctl" title="bidi control removed">[U+{ord(m.group()):04X}]</span>')
        pos = m.end()
    out.append(html.escape(s[pos:], quote=True))
    return "".join(out)


def safe_url(url: object) -> str | None:
    """The URL if it is an absolute http(s) URL with a host, else None (never a link)."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    # Browsers drop tabs/newlines inside URLs ("java\nscript:"), so any control or space
    # inside the URL disqualifies it rather than being cleaned away.
    if not u or re.search(r"[\x00-\x20\x7f-\x9f\u202a-\u202e\u2066-\u2069]", u):
        return None
    try:
        parts = urlsplit(u)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return u


def link(url: object, label: object | None = None) -> str:
    """An ``<a>`` for an http(s) URL; any other URL as escaped, inert text."""
    shown = esc(label if label is not None else url)
    ok = safe_url(url)
    if ok is None:
        return f'<span class="trk-meta">{shown}</span>'
    return (f'<a href="{html.escape(ok, quote=True)}" rel="noopener noreferrer nofollow" '
            f'target="_blank">{shown}</a>')


@dataclass(frozen=True)
class Span:
    """A half-open character range of the original text to wrap in ``<mark class=css>``."""

    start: int
    end: int
    css: str = "trk-num"
    title: str | None = None
    anchor: str | None = None


def highlight(text: str, spans: Iterable[Span]) -> str:
    """``text`` escaped, with each span wrapped in a ``<mark>``; nothing unescaped gets out.

    Spans are clipped to the text; overlapping spans are nested when one contains the other
    and otherwise the later one is cut to start where the earlier ends, so the markup is
    always well formed.
    """
    n = len(text)
    ordered = sorted(((max(0, min(s.start, n)), max(0, min(s.end, n)), s) for s in spans),
                     key=lambda t: (t[0], -t[1]))
    out: list[str] = []
    pos = 0
    stack: list[int] = []  # ends of the open marks

    def close_until(limit: int) -> None:
        nonlocal pos
        while stack and stack[-1] <= limit:
            end = stack.pop()
            out.append(esc(text[pos:end]))
            out.append("</mark>")
            pos = end

    for start, end, span in ordered:
        if end <= start:
            continue
        close_until(start)
        if stack and end > stack[-1]:
            # Crossing overlap: cut this span so it nests inside the open one.
            end = stack[-1]
            if end <= start:
                continue
        if start < pos:
            start = pos
            if end <= start:
                continue
        out.append(esc(text[pos:start]))
        pos = start
        attrs = f' class="{html.escape(span.css, quote=True)}"'
        if span.title:
            attrs += f' title="{esc(span.title)}"'
        if span.anchor:
            attrs += f' id="{html.escape(span.anchor, quote=True)}"'
        out.append(f"<mark{attrs}>")
        stack.append(end)
    close_until(n)
    out.append(esc(text[pos:]))
    return "".join(out)


def arabic_block(inner_html: str, *, css: str = "", testid: str | None = None) -> str:
    """Wrap already-safe HTML in a right-to-left Arabic block."""
    cls = "trk-ar" + (f" {css}" if css else "")
    data = f' data-testid="{html.escape(testid, quote=True)}"' if testid else ""
    return f'<div dir="rtl" lang="ar" class="{cls}"{data}>{inner_html}</div>'


def number_in_sentence(sentence: str, quote: str, span_start: int, number_start: int | None,
                       number_end: int | None, text: str | None = None) -> tuple[int, int] | None:
    """Where the claim's number lies in its sentence; claims store article offsets.

    With the article's ``text``, the sentence is located around the number; without it, the
    quote is located in the sentence (the number sits at the same place in every copy of the
    quote). None when neither works (a quote that runs over a sentence boundary).
    """
    if number_start is None or number_end is None or not sentence:
        return None
    n = len(sentence)
    if text is not None:
        s0 = text.find(sentence, max(0, number_end - n))
        if 0 <= s0 <= number_start and number_end <= s0 + n:
            return number_start - s0, number_end - s0
    i = sentence.find(quote) if quote else -1
    if i < 0:
        return None
    a, b = number_start - span_start + i, number_end - span_start + i
    return (a, b) if 0 <= a < b <= n else None


def sentence_html(sentence: str, number_start: int | None, number_end: int | None) -> str:
    """A claim's sentence, right to left, with its number highlighted (offsets in the sentence)."""
    spans: Sequence[Span] = []
    if number_start is not None and number_end is not None and 0 <= number_start < number_end:
        spans = [Span(number_start, number_end, "trk-num")]
    return arabic_block(highlight(sentence, spans), testid="claim-sentence")


def meta_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of (trusted label, already-safe HTML value)."""
    body = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                   f"<td>{v}</td></tr>" for k, v in rows)
    return f"<table class='trk-meta'>{body}</table>"


_CSV_FORMULA = re.compile(r"^[=+\-@\t\r]")


def grid_text(value: object) -> object:
    """A text cell for an interactive table: ``clean``, and defused for the table's own CSV
    export (which quotes cells but leaves formulas): an invisible WORD JOINER goes before a
    leading ``=``, ``+``, ``-`` or ``@``. Non-text values pass unchanged."""
    if not isinstance(value, str):
        return value
    s = clean(value)
    return "\u2060" + s if _CSV_FORMULA.match(s) else s


def csv_safe(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, prefixed with ``'`` (CSV only)."""
    if isinstance(value, str) and _CSV_FORMULA.match(value):
        return "'" + value
    return value
