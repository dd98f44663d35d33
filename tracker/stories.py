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
import zlib
from collections.abc import Iterable, Sequence
from typing import NamedTuple

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
# Below this many shingles (about 25 words) only identical texts are copies: see copies().
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


def similarity(a: Sequence[bytes], b: Sequence[bytes]) -> np.ndarray:
    """Estimated Jaccard similarity of each pair of signatures ``a[i]``, ``b[i]``: the share of
    equal MinHash values, all pairs at once."""
    if not a:
        return np.zeros(0)
    x = np.frombuffer(b"".join(a), np.uint32).reshape(len(a), -1)
    y = np.frombuffer(b"".join(b), np.uint32).reshape(len(b), -1)
    return (x == y).mean(axis=1)


def copies(similarity: np.ndarray, shingles_a: Sequence[int], shingles_b: Sequence[int]) -> np.ndarray:
    """Which pairs are copies of one text. Short texts (news flashes, templated tolls) differ in a
    word or two, often the very figure in question: they are copies only when their words are the same."""
    fewest = np.minimum(np.asarray(shingles_a), np.asarray(shingles_b))
    return similarity >= np.where(fewest >= MIN_SHINGLES, SAME_STORY, 1.0)


def link(own: Sequence[str], stored: Iterable[tuple[int, str]], earlier: Iterable[tuple[int, int]]
         ) -> tuple[list[str], dict[str, str]]:
    """Story ids for a batch of new articles, in order, and the merges of stories (old id -> kept id).

    ``own[i]``: the story article ``i`` starts when it copies nothing (``new_story_id``).
    ``stored``: ``(i, story id)`` for each stored article that article ``i`` copies;
    ``earlier``: ``(i, j)`` for each article ``j < i`` of the batch that article ``i`` copies.
    Articles are linked in batch order, as if stored one by one: an article joins the stories of
    all its copies; when it bridges several they merge into the smallest id (deterministic
    whatever the order of discovery), and the caller relabels the stored articles of the others.
    """
    found: dict[int, tuple[list[str], list[int]]] = {}
    for i, story in stored:
        found.setdefault(i, ([], []))[0].append(story)
    for i, j in earlier:
        found.setdefault(i, ([], []))[1].append(j)
    merges: dict[str, str] = {}

    def current(story: str) -> str:
        while story in merges:
            story = merges[story]
        return story

    assigned: dict[int, str] = {}
    for i in sorted(found):
        in_store, in_batch = found[i]
        stories = {current(s) for s in in_store} | {current(assigned.get(j, own[j])) for j in in_batch}
        keep = min(stories)
        for other in stories - {keep}:
            merges[other] = keep
        assigned[i] = keep
    if not merges:
        return [assigned.get(i, story) for i, story in enumerate(own)], {}
    return ([current(assigned.get(i, story)) for i, story in enumerate(own)],
            {old: current(old) for old in merges})
