"""Syndication: link copies of one text (the same or nearly the same words) into one story.

Arabic outlets republish agency copy (WAFA, Anadolu, AFP Arabic) with a new headline, a
dropped paragraph or a footer. Those copies are one source, not several, when sources are
counted in a disagreement. Each article gets a MinHash signature of its word 5-shingles on
the normalised text; locality-sensitive hashing (32 bands of 4 rows) finds candidate copies
with an equi-join on band keys, and a candidate is a copy when the signatures estimate a
Jaccard similarity of at least ``SAME_STORY`` (identical words for texts under
``MIN_SHINGLES``) and the two were published at most ``COPY_WINDOW_DAYS`` apart (or either is
undated). Copies share a ``story_id``.

Hashes are crc32 and fixed seeds, never Python's salted ``hash``, so every process and every
run computes the same signatures.
"""

from __future__ import annotations

import hashlib
import itertools
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import regex

from tracker.textnorm import normalize

SHINGLE_WORDS = 5
NUM_PERM = 128
BANDS, ROWS = 32, 4  # LSH candidates from Jaccard ~0.4 up; SAME_STORY then decides
# Measured on 97 real Al Mayadeen articles: a copy with a new headline, a dropped paragraph and
# a footer scores 0.73-0.97; distinct articles on the same events score at most 0.15.
SAME_STORY = 0.5
# Copies run within days of the original. Two reports weeks apart on the same template
# ("ارتفع عدد الشهداء إلى ...") are separate stories, however alike their words.
COPY_WINDOW_DAYS = 2
# Below this many shingles (about 25 words) only identical texts are copies: see _copies.
MIN_SHINGLES = 20

# The NUM_PERM hash functions: multiply-shift, ((a*x + b) mod 2**64) >> 32 with a odd, a
# universal family that needs no modulo (numpy's uint64 modulo cost 5x more). Fixed seed:
# signatures must be the same in every process and every run.
_rng = np.random.default_rng(20231007)
_A = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 2**63, NUM_PERM, dtype=np.uint64)
_WORD = regex.compile(r"\w+")
_MIX = np.uint64(1_000_003)


class Signature(NamedTuple):
    """A text's MinHash (NUM_PERM uint32 as bytes) and how many distinct shingles it summarises."""

    minhash: bytes
    shingles: int


def signature(text: str) -> Signature | None:
    """The MinHash signature of a text; None for a text without words."""
    words = _WORD.findall(normalize(text).text)
    if not words:
        return None
    hashes = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words))
    # a shingle's hash: its word hashes combined as a polynomial (uint64 wraps), all at once
    n = max(1, len(words) - SHINGLE_WORDS + 1)
    combined = np.zeros(n, dtype=np.uint64)
    for j in range(min(SHINGLE_WORDS, len(words))):
        combined = combined * _MIX + hashes[j: j + n]
    x = np.unique(combined)
    hashed = (np.outer(_A, x) + _B[:, None]) >> np.uint64(32)
    return Signature(hashed.min(axis=1).astype(np.uint32).tobytes(), len(x))


def band_keys(sig: bytes) -> list[int]:
    """The LSH band keys of a signature: signed 64-bit ints, one per band, band index mixed in."""
    keys = []
    for b in range(BANDS):
        chunk = sig[b * ROWS * 4: (b + 1) * ROWS * 4]
        digest = hashlib.blake2b(chunk, digest_size=8, person=b"band%04d" % b).digest()
        keys.append(int.from_bytes(digest, "little", signed=True))
    return keys


def new_story_id(article_id: str, content_hash: str) -> str:
    """A story's id: from its first article's id and text, so a rewritten text starts a new story."""
    return "s-" + hashlib.sha256(f"{article_id}\0{content_hash}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Known:
    """An article already stored (or earlier in the batch) that shares a band with a new one."""

    article_id: str
    story_id: str
    signature: Signature
    day: date | None


@dataclass
class NewArticle:
    """An article about to be stored, with its signature (None when it has no words)."""

    article_id: str
    content_hash: str
    signature: Signature | None
    day: date | None = None
    story_id: str | None = None

    @cached_property
    def bands(self) -> list[int]:
        return band_keys(self.signature.minhash) if self.signature is not None else []


def _copies(similarity: float, shingles: int) -> bool:
    # Short texts (news flashes, templated tolls) differ in a word or two, often the very figure
    # in question: they are copies only when their words are the same.
    return similarity >= (SAME_STORY if shingles >= MIN_SHINGLES else 1.0)


def _wanted(art: NewArticle) -> Iterable[tuple[int, date | None]]:
    """(band key, day) pairs a stored copy of ``art`` would have: any day close enough, or None."""
    days: list[date | None] = [None] if art.day is None else [
        art.day + timedelta(days=k) for k in range(-COPY_WINDOW_DAYS, COPY_WINDOW_DAYS + 1)]
    return ((band, day) for band in art.bands for day in days)


def assign_stories(
    batch: list[NewArticle], lookup: Callable[[set[tuple[int, date | None]]], list[tuple[int, Known]]]
) -> dict[str, str]:
    """Give every article of ``batch`` a story id, in order; return story merges (old id -> kept id).

    ``lookup({(band key, day)})`` returns the stored articles that share a band and were published
    that day (any day for None; undated ones always), as (band, Known). Asking by day keeps the
    candidates to a few days of news even when outlet boilerplate makes bands collide.
    An article joins the stories of all its copies; when it bridges several stories they merge
    into the smallest id (deterministic whatever the order of discovery), and the caller
    relabels the stored articles of the others.
    """
    wanted = {pair for art in batch for pair in _wanted(art)}
    # indexed by (band, day): boilerplate makes some bands common, a day keeps them few
    index: dict[tuple[int, date | None], list[Known]] = {}
    by_band: dict[int, list[Known]] = {}  # only for undated articles, which match any day

    def add(band: int, known: Known) -> None:
        index.setdefault((band, known.day), []).append(known)
        by_band.setdefault(band, []).append(known)

    for band, known in lookup(wanted):
        add(band, known)
    merges: dict[str, str] = {}

    def current(story: str) -> str:
        while story in merges:
            story = merges[story]
        return story

    for art in batch:
        if art.signature is None:
            art.story_id = new_story_id(art.article_id, art.content_hash)
            continue
        if art.day is None:
            found = (k for band in art.bands for k in by_band.get(band, ()))
        else:
            found = (k for band, day in _wanted(art) for k in index.get((band, day), ()))
            found = itertools.chain(found, (k for band in art.bands for k in index.get((band, None), ())))
        candidates = list({k.article_id: k for k in found if k.article_id != art.article_id}.values())
        stories: set[str] = set()
        if candidates:
            sims = (np.frombuffer(b"".join(k.signature.minhash for k in candidates), np.uint32)
                    .reshape(len(candidates), -1) == np.frombuffer(art.signature.minhash, np.uint32)).mean(axis=1)
            stories = {current(k.story_id) for k, sim in zip(candidates, sims)
                       if _copies(sim, min(k.signature.shingles, art.signature.shingles))}
        keep = min(stories) if stories else new_story_id(art.article_id, art.content_hash)
        for other in stories - {keep}:
            merges[other] = keep
        art.story_id = keep
        me = Known(art.article_id, keep, art.signature, art.day)
        for band in art.bands:  # later articles of the batch may copy this one
            add(band, me)
    for art in batch:
        art.story_id = current(art.story_id or "")
    return {old: current(old) for old in merges}
