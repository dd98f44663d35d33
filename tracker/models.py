"""Domain types that cross module boundaries: an article read from input, a claim read from it."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

from tracker.quantity import Number, Qualifier

Kind = Literal["stock", "cumulative", "event"]


class Article(BaseModel):
    """One news article as read from a file, a JSONL record, a CSV row or an HTML page."""

    model_config = ConfigDict(frozen=True)

    article_id: str = Field(min_length=1)
    text: str
    publisher: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    title: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    source: str | None = None  # where it was read from: "path:line", for error messages

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_hash(self) -> str:
        """sha256 of the text: a changed text under the same id replaces the article's claims."""
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()


class Claim(BaseModel):
    """One numeric claim: a figure of a metric, stated in a sentence, found by a rule.

    Offsets are half-open and index the ORIGINAL article text (Python string indices):
    ``text[span_start:span_end] == quote`` and ``text[number_start:number_end]`` is the number.
    ``key`` identifies the claim within its article; ``parent_key`` links a breakdown
    (``51 إسرائيليًا``) to its total (``69 أسيرًا``).
    """

    model_config = ConfigDict(frozen=True)

    metric: str
    kind: Kind
    value: Number
    value_low: Number | None
    value_high: Number | None
    qualifier: Qualifier
    subgroup: str | None = None
    planned: bool = False
    attributed_to: str | None = None
    sentence: str
    span_start: int
    span_end: int
    quote: str
    number_start: int
    number_end: int
    rule_id: str
    rule_version: int
    key: str
    parent_key: str | None = None
