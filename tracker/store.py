"""The DuckDB store: connect (with retry on lock), migrate, and write batches of articles and claims.

A DuckDB file admits one process at a time: while a writer has it open, readers cannot even
open it read-only. So writers hold the file only while committing a batch (open, one
transaction, CHECKPOINT, close) and everyone retries on a lock for a while. The CHECKPOINT
also folds the WAL into the file, so a copy of the ``.duckdb`` file alone is complete.

Rows arrive as Arrow tables inserted with ``INSERT ... SELECT`` (~400k rows/s here, against
~1k rows/s for executemany). SQL lives in ``tracker/sql/``: numbered migrations, the views,
and the named statements of ``store_writes.sql``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tracker import stories
from tracker.models import Article, Claim

SQL_DIR = Path(__file__).with_name("sql")
DEFAULT_DB = "tracker.duckdb"
LOCK_TIMEOUT = 60.0  # seconds a connect waits for another process to let go of the file
WRITER_MEMORY_MB = 256  # DuckDB's memory limit in a writing connection, beside the rows it writes


class StoreError(RuntimeError):
    """The database cannot be used: locked too long, too old to read, or not a tracker database."""


def utcnow() -> datetime:
    """Now in UTC, naive: the TIMESTAMP columns hold UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@cache
def sql(name: str) -> str:
    """A named statement from ``store_writes.sql``."""
    text = (SQL_DIR / "store_writes.sql").read_text(encoding="utf-8")
    parts = re.split(r"^-- name: (\w+)\s*$", text, flags=re.M)
    return dict(zip(parts[1::2], (p.strip() for p in parts[2::2])))[name]


@cache
def migrations() -> tuple[tuple[int, str, str], ...]:
    """(version, name, SQL) of every ``migration_NNN_name.sql``, in order."""
    found = []
    for path in SQL_DIR.glob("migration_*.sql"):
        m = re.fullmatch(r"migration_(\d+)_(\w+)\.sql", path.name)
        if m:
            found.append((int(m.group(1)), m.group(2), path.read_text(encoding="utf-8")))
    return tuple(sorted(found))


def latest_version() -> int:
    return migrations()[-1][0]


@cache
def _views() -> tuple[str, str]:
    text = (SQL_DIR / "views.sql").read_text(encoding="utf-8")
    return text, hashlib.sha256(text.encode()).hexdigest()


def _open(path: str | Path, read_only: bool, timeout: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise StoreError(f"{path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise StoreError(f"{path} is locked by another process (waited {timeout:g} s)") from None
            time.sleep(delay * (0.5 + random.random()))  # jitter: waiting readers do not collide
            delay = min(delay * 2, 0.2)


def connect(path: str | Path = DEFAULT_DB, read_only: bool = False,
            timeout: float = LOCK_TIMEOUT) -> duckdb.DuckDBPyConnection:
    """Open the database, retrying while another process holds it.

    Read-write: create or upgrade the schema first. Read-only: refuse a database whose schema
    is older than this tracker (open it read-write once, e.g. ``tracker migrate``, to upgrade).
    Close the connection soon: while it is open, no other process can write.
    """
    if read_only and not Path(path).exists():
        raise StoreError(f"{path}: no such database")
    con = _open(path, read_only, timeout)
    try:
        if read_only:
            version = schema_version(con)
            if version < latest_version():
                raise StoreError(f"{path} has schema version {version}; this tracker needs "
                                 f"{latest_version()}: run `tracker migrate --db {path}`")
        else:
            migrate(con)
    except BaseException:
        con.close()
        raise
    return con


@contextmanager
def writing(path: str | Path = DEFAULT_DB, timeout: float = LOCK_TIMEOUT,
            batch_bytes: int = 0) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed and checkpointed on success,
    rolled back on any error or interrupt, and closed either way. ``batch_bytes``: the size of
    the rows to be written (Arrow), which DuckDB may hold beside its base memory limit."""
    con = connect(path, timeout=timeout)
    try:
        # DuckDB's memory: by default it caches what a checkpoint reads back (the table's last,
        # growing row group) up to most of the machine's RAM, and the writer's peak grew with the
        # database (to ~800 MB at 100,000 articles); bounded, it stays flat at a small cost
        con.execute(f"SET memory_limit = '{WRITER_MEMORY_MB + batch_bytes // 2**20}MB'")
        # Checkpoint at every commit, straight from the transaction's data: without these DuckDB
        # first writes the rows to the WAL (its estimate of a commit's size leaves out string
        # contents, so a commit of long texts never reaches the auto-checkpoint threshold), then
        # the CHECKPOINT below writes them again.
        con.execute("SET checkpoint_threshold = '1KB'")
        con.execute("SET auto_checkpoint_skip_wal_threshold = 0")
        # One thread for the inserts: from Arrow tables of many small chunks (ingest's workers
        # send 64 articles at a time) DuckDB's parallel, order-preserving insert buffers each
        # chunk apart and merges them, which cost 2-3x the CPU and time of one thread
        # (200,000 claims: ~1.7 against ~0.6 s CPU). The commit's checkpoint gets both back.
        con.execute("SET threads = 1")
        # No optimistic writes: otherwise the one-thread inserts compress and write each full row
        # group as it fills (past ~20% of memory_limit of buffered rows), serially; held until
        # COMMIT, every row group is compressed by the commit's checkpoint on all threads
        # (200,000 claims in one batch, A/B pairs on a loaded machine: 0-7% less wall; ~50 MB
        # more peak RSS, as the full row groups wait uncompressed). The rows are in memory anyway:
        # memory_limit above counts the batch, and DuckDB spills beyond it.
        con.execute("SET enable_optimistic_write = false")
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("RESET threads")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
    finally:
        con.close()
        _release_memory()


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The highest migration applied; 0 for an empty or foreign database."""
    try:
        row = con.execute("SELECT max(version) FROM schema_migrations").fetchall()[0]
    except duckdb.CatalogException:
        return 0
    return (row[0] if row else None) or 0


def _views_current(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        rows = con.execute("SELECT value FROM tracker_meta WHERE key = 'views_hash'").fetchall()
    except duckdb.CatalogException:
        return False
    return bool(rows) and rows[0][0] == _views()[1]


def migrate(con: duckdb.DuckDBPyConnection, target: int | None = None) -> list[int]:
    """Apply the pending migrations (each in its own transaction) and refresh changed views."""
    if target is None and schema_version(con) == latest_version() and _views_current(con):
        return []  # the common case, on every batch's connection: two catalog reads, no writes
    con.execute("CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)")
    con.execute("CREATE TABLE IF NOT EXISTS tracker_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    current = schema_version(con)
    applied = []
    for version, name, text in migrations():
        if version <= current or (target is not None and version > target):
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(text)
            if version in _POST_STEPS:
                _POST_STEPS[version](con)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, utcnow()])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(version)
    if schema_version(con) == latest_version() and not _views_current(con):
        views, digest = _views()
        con.execute("BEGIN TRANSACTION")
        con.execute(views)
        con.execute("INSERT OR REPLACE INTO tracker_meta VALUES ('views_hash', ?)", [digest])
        con.execute("COMMIT")
    return applied


# ---- rows ---------------------------------------------------------------------------------

ARTICLE_SCHEMA = pa.schema([
    ("article_id", pa.string()), ("publisher", pa.string()), ("url", pa.string()),
    ("published_at", pa.timestamp("us")), ("published_at_source", pa.string()),
    ("title", pa.string()), ("text", pa.large_string()), ("content_hash", pa.string()),
    ("record_hash", pa.string()), ("metadata", pa.large_string()), ("read_from", pa.string()),
    ("story_id", pa.string()),
])
# An article on its way to the store: its row (without story_id, known only when it is linked),
# the story it starts if it copies nothing, its MinHash signature and LSH band keys (NULL: no words).
BATCH_ARTICLE_SCHEMA = pa.schema([
    *[f for f in ARTICLE_SCHEMA if f.name != "story_id"],
    ("own_story", pa.string()), ("signature", pa.binary()), ("shingles", pa.int32()),
    ("bands", pa.list_(pa.int64())), ("incomplete", pa.bool_()),
])
IDS_SCHEMA = pa.schema([("article_id", pa.string())])
# Marks the rules hash of an article whose extraction a rule's timeout cut short: it differs from
# every rules hash, so `tracker reextract` tries the article again.
INCOMPLETE = " (incomplete)"
CLAIM_SCHEMA = pa.schema([
    ("claim_id", pa.string()), ("article_id", pa.string()), ("metric", pa.string()),
    ("kind", pa.string()), ("value", pa.float64()), ("value_low", pa.float64()),
    ("value_high", pa.float64()), ("qualifier", pa.string()), ("subgroup", pa.string()),
    ("planned", pa.bool_()), ("parent_claim_id", pa.string()), ("attributed_to", pa.string()),
    ("sentence", pa.large_string()), ("span_start", pa.int32()), ("span_end", pa.int32()),
    ("quote", pa.large_string()), ("number_start", pa.int32()), ("number_end", pa.int32()),
    ("rule_id", pa.string()), ("rule_version", pa.int32()), ("claim_key", pa.string()),
    ("as_of", pa.date32()),
])


def record_hash(article: Article) -> str:
    """sha256 over every input field: equal means the same article read again, nothing to do."""
    fields = [article.article_id, article.publisher, article.url,
              article.published_at.isoformat() if article.published_at else None,
              article.title, article.text, article.metadata]
    blob = json.dumps(fields, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()


def claim_tuples(article: Article, claims: list[Claim], as_of: date | None) -> tuple[list[tuple[Any, ...]], list[str]]:
    """The claims rows of one article as tuples in ``CLAIM_SCHEMA`` order, and a warning per claim
    dropped: for a span that lies, or for a key another claim of the article has (ids would repeat).

    ``claim_id`` hashes the article id and text with the rule, its version, the key and the
    span: re-running the same rules on the same text gives the same ids, a new rule version
    gives new ones.
    """
    text, warnings = article.text, []
    kept = []
    keys: set[str] = set()
    for c in claims:
        if text[c.span_start:c.span_end] != c.quote:
            warnings.append(f"rule {c.rule_id}@{c.rule_version}: span [{c.span_start}, {c.span_end}) "
                            "does not slice its quote; claim dropped")
        elif c.key in keys:
            warnings.append(f"rule {c.rule_id}@{c.rule_version}: key {c.key!r} already used by another claim "
                            "of the article; claim dropped")
        else:
            keys.add(c.key)
            kept.append(c)
    if not kept:
        return [], warnings
    aid, content_hash = article.article_id, article.content_hash
    ids: dict[str, str] = {}
    used: Counter[str] = Counter()
    for c in kept:
        base = hashlib.sha256("\0".join(map(str, (
            aid, content_hash, c.rule_id, c.rule_version, c.key,
            c.span_start, c.span_end))).encode("utf-8", "surrogatepass")).hexdigest()[:20]
        used[base] += 1
        ids.setdefault(c.key, base if used[base] == 1 else f"{base}-{used[base]}")
    rows = [(ids[c.key], aid, c.metric, c.kind, float(c.value),
             None if c.value_low is None else float(c.value_low),
             None if c.value_high is None else float(c.value_high),
             c.qualifier, c.subgroup, c.planned, ids.get(c.parent_key) if c.parent_key else None,
             c.attributed_to, c.sentence, c.span_start, c.span_end, c.quote, c.number_start, c.number_end,
             c.rule_id, c.rule_version, c.key, as_of) for c in kept]
    return rows, warnings


def claim_rows(article: Article, claims: list[Claim], as_of: date | None) -> tuple[list[dict[str, Any]], list[str]]:
    """``claim_tuples`` as dicts (column name -> value)."""
    rows, warnings = claim_tuples(article, claims, as_of)
    return [dict(zip(CLAIM_SCHEMA.names, row)) for row in rows], warnings


def _table(rows: list[tuple[Any, ...]], schema: pa.Schema) -> pa.Table:
    """Rows (tuples in schema order) as an Arrow table, built column by column."""
    columns = list(zip(*rows)) if rows else [()] * len(schema)
    return pa.Table.from_arrays([pa.array(col, type=f.type) for col, f in zip(columns, schema)], schema=schema)


class BatchBuilder:
    """Collects prepared articles (in ingest's worker processes) into a ``Batch``."""

    def __init__(self) -> None:
        self.articles: list[tuple[Any, ...]] = []
        self.claims: list[tuple[Any, ...]] = []

    def add(self, row: tuple[Any, ...], claims: list[tuple[Any, ...]], sig: stories.Signature | None,
            incomplete: bool = False) -> None:
        """One article: ``row`` in ``ARTICLE_SCHEMA`` order without ``story_id``, its claim tuples and
        signature; ``incomplete``: a rule timed out on it, so some of its claims may be missing."""
        article_id, content_hash = row[0], row[7]
        if sig is None:
            extra = (stories.new_story_id(article_id, content_hash), None, None, None)
        else:
            extra = (stories.new_story_id(article_id, content_hash), sig.minhash, sig.shingles,
                     stories.band_keys(sig.minhash))
        self.articles.append((*row, *extra, incomplete))
        self.claims.extend(claims)

    def __len__(self) -> int:
        return len(self.articles)

    def build(self) -> Batch:
        return Batch(_table(self.articles, BATCH_ARTICLE_SCHEMA), _table(self.claims, CLAIM_SCHEMA))


@dataclass
class Batch:
    """Articles ready to store, as Arrow tables: ``articles`` (``BATCH_ARTICLE_SCHEMA``, one row
    per article, in input order) and their ``claims`` (``CLAIM_SCHEMA``)."""

    articles: pa.Table
    claims: pa.Table

    def __len__(self) -> int:
        return self.articles.num_rows

    @property
    def nbytes(self) -> int:
        # the buffers' sizes (nbytes walks each of the many chunks' offsets: ~4x slower)
        return self.articles.get_total_buffer_size() + self.claims.get_total_buffer_size()

    @classmethod
    def concat(cls, batches: list[Batch]) -> Batch:
        if len(batches) == 1:
            return batches[0]
        return cls(pa.concat_tables([b.articles for b in batches]), pa.concat_tables([b.claims for b in batches]))

    @classmethod
    def of(cls, items: Batch | list[Prepared]) -> Batch:
        """A batch, from row dicts (``Prepared``) if need be."""
        if isinstance(items, Batch):
            return items
        builder = BatchBuilder()
        names = [f.name for f in ARTICLE_SCHEMA if f.name != "story_id"]
        for p in items:
            builder.add(tuple(p.article.get(n) for n in names),
                        [tuple(c.get(n) for n in CLAIM_SCHEMA.names) for c in p.claims], p.signature)
        return builder.build()


@dataclass
class Prepared:
    """One article ready to store, as dicts: its row, its claims rows and its story signature.
    (``ingest`` builds ``Batch``es directly; ``Batch.of`` turns a list of these into one.)"""

    article: dict[str, Any]
    claims: list[dict[str, Any]]
    signature: stories.Signature | None
    warnings: list[str] = field(default_factory=list)

    @property
    def article_id(self) -> str:
        return self.article["article_id"]


@dataclass
class Run:
    """One ingest or reextract. Its ``runs`` row is written with the first batch that changes
    something, so a run that finds everything unchanged leaves no trace."""

    command: str
    rules_hash: str
    tool_version: str
    inputs: list[str] = field(default_factory=list)
    started_at: datetime = field(default_factory=utcnow)
    run_id: int | None = None
    pending: Counter[str] = field(default_factory=Counter)  # counts not yet written to its row


def _ensure_run(con: duckdb.DuckDBPyConnection, run: Run) -> int:
    if run.run_id is None:
        run_id = con.execute(sql("next_run_id")).fetchall()[0][0]
        con.execute(sql("insert_run"), {
            "run_id": run_id, "command": run.command, "started_at": run.started_at,
            "rules_hash": run.rules_hash, "tool_version": run.tool_version, "inputs": run.inputs})
        run.run_id = run_id  # set after the insert: a rolled-back batch leaves it None
    return run.run_id


def _flush_counts(con: duckdb.DuckDBPyConnection, run: Run) -> None:
    keys = ("new", "unchanged", "replaced", "failed", "claims_added", "claims_removed")
    con.execute(sql("update_run"), {"run_id": run.run_id, **{k: run.pending[k] for k in keys}})


def finish_run(path: str | Path, run: Run, status: str) -> None:
    """Record the end of a run (and its last counts), if it wrote anything at all."""
    if run.run_id is None:
        return
    with writing(path) as con:
        _flush_counts(con, run)
        con.execute(sql("finish_run"), {"run_id": run.run_id, "finished_at": utcnow(), "status": status})
    run.pending.clear()


def end_run(con: duckdb.DuckDBPyConnection, run: Run, status: str) -> None:
    """``finish_run`` inside the caller's transaction (that of the run's last batch). The caller
    restores ``run.pending`` if the transaction is rolled back."""
    if run.run_id is None:
        return
    _flush_counts(con, run)
    con.execute(sql("finish_run"), {"run_id": run.run_id, "finished_at": utcnow(), "status": status})
    run.pending.clear()


def hash_key(digest: str) -> int:
    """A record hash as a 64-bit int (its first 16 hex digits): a compact key for telling
    records apart in memory (``record_keys``); the store itself compares whole hashes."""
    return int(digest[:16], 16)


def record_hashes(path: str | Path) -> dict[str, str]:
    """article_id -> record_hash of every stored article (creating the database if needed)."""
    con = connect(path)
    try:
        return dict(con.execute(sql("record_hashes")).fetchall())
    finally:
        con.close()


def record_keys(path: str | Path) -> dict[str, int]:
    """article_id -> ``hash_key(record_hash)`` of every stored article (creating the database if
    needed): what ingest holds in memory to skip stored records, ~100 bytes an article."""
    con = connect(path)
    try:
        return dict(con.execute(sql("record_keys")).fetchall())
    finally:
        con.close()


def _release_memory() -> None:
    """Hand the heap memory freed by a closed connection back to the system (glibc keeps it
    otherwise, and a long ingest's RSS crept up by ~2 MB per 1,000 articles)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def register(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]] | dict[str, list] | pa.Table,
             schema: pa.Schema | None = None) -> None:
    """Expose rows (an Arrow table, dicts, or a dict of columns) to SQL as the Arrow table ``name``."""
    if isinstance(rows, pa.Table):
        table = rows
    elif isinstance(rows, list):
        table = pa.Table.from_pylist(rows, schema=schema)
    else:
        table = pa.table(rows, schema=schema)
    con.register(name, table)


# Above this many key pairs (many copies of the same articles in one batch, as in a backfill of
# wire stories) DuckDB's hashed join is faster: 15 million pairs took 10 s in numpy, 2.2 s in SQL
# on one thread; a usual batch has a few thousand, where numpy is faster.
_NUMPY_PAIRS_MAX = 500_000


def _batch_candidates(articles: pa.Table, window: int) -> list[tuple[int, int]] | None:
    """``(pos, earlier pos)`` of the batch's articles that share a band key and were published at
    most ``window`` days apart (either undated: any days), distinct, in order: what the SQL
    statement ``batch_candidates`` returns, computed with numpy on the band keys (~10x faster
    than the self-join in DuckDB, on 32 keys an article). None when the keys pair more than
    ``_NUMPY_PAIRS_MAX`` times: the SQL statement is faster then."""
    bands = articles.column("bands").combine_chunks()
    if not len(bands) or bands.null_count == len(bands):
        return []
    lengths = pc.fill_null(pc.list_value_length(bands), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    keys = pc.list_flatten(bands).to_numpy(zero_copy_only=False)
    pos = np.repeat(np.arange(len(bands), dtype=np.int64), lengths)
    # published_at::DATE: days since the epoch, floored; undated articles flagged
    published = articles.column("published_at").combine_chunks()
    micros = pc.fill_null(published.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    days_of = np.floor_divide(micros, 86_400_000_000)
    dated_of = ~pc.is_null(published).to_numpy(zero_copy_only=False)
    # only keys that occur more than once can pair: found with a plain sort (~15 ms for 800,000
    # keys, against ~120 ms to sort the keys with their positions), the rest dropped
    ordered = np.sort(keys)
    shared = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if not len(shared):
        return []
    mine = shared[np.minimum(np.searchsorted(shared, keys), len(shared) - 1)] == keys
    keys, pos = keys[mine], pos[mine]
    order = np.lexsort((pos, keys))  # by key, then position
    keys, pos = keys[order], pos[order]
    first = np.empty(len(keys), dtype=bool)
    first[:1] = True
    first[1:] = keys[1:] != keys[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))
    rank = np.arange(len(keys)) - start  # how many entries of the same key come before
    ends = np.cumsum(rank)
    if not len(ends) or not ends[-1]:
        return []
    if ends[-1] > _NUMPY_PAIRS_MAX:
        return None
    # every pair (later entry a, earlier entry b) of a key: a repeated rank times, b from its
    # key's start; at most _NUMPY_PAIRS_MAX of them, so held at once
    total = int(ends[-1])
    a = np.repeat(np.arange(len(keys)), rank)
    b = start[a] + (np.arange(total) - np.repeat(ends - rank, rank))
    pa_, pb = pos[a], pos[b]
    keep = (pb < pa_) & (~dated_of[pa_] | ~dated_of[pb] | (np.abs(days_of[pb] - days_of[pa_]) <= window))
    n = len(bands)
    pairs = np.unique(pa_[keep] * n + pb[keep])
    return list(zip((pairs // n).tolist(), (pairs % n).tolist()))


def _link_stories(con: duckdb.DuckDBPyConnection, articles: pa.Table) -> pa.Table:
    """Give each new article (``BATCH_ARTICLE_SCHEMA``, registered as ``batch_articles``) its story
    id, merge the stored stories it bridges, store its signature and bands; return the articles
    with their ``story_id`` column.

    Candidate copies come from SQL: an equi-join of the batch's band keys with the stored bands
    on (band, day) for each day of the copy window; copies within the batch come from the same
    equi-join of the batch's keys with each other, in numpy (``_batch_candidates``; in SQL
    when the batch holds many copies of the same articles). Only the candidates' signatures
    are compared, all at once.
    """
    window = stories.COPY_WINDOW_DAYS
    published = articles.column("published_at")
    register(con, "batch_links", pa.table({
        "pos": pa.array(range(len(articles)), pa.int32()), "bands": articles.column("bands"),
        "published_at": published}))
    first, last = pc.min(published).as_py(), pc.max(published).as_py()
    if first is None or published.null_count:  # an undated article matches stored ones of any day
        lo, hi = date.min, date.max
    else:
        lo, hi = first.date() - timedelta(days=window), last.date() + timedelta(days=window)
    stored_rows = con.execute(sql("stored_candidates"), {"window": window, "lo": lo, "hi": hi}).fetchall()
    earlier_rows = _batch_candidates(articles, window)
    if earlier_rows is None:
        earlier_rows = [tuple(r) for r in con.execute(sql("batch_candidates"), {"window": window}).fetchall()]
    sig_col = articles.column("signature")
    shingles_col = articles.column("shingles")

    def take(column: pa.ChunkedArray, idx: list[int]) -> list[Any]:
        return column.take(pa.array(idx, pa.int64())).to_pylist()

    stored: list[tuple[int, str]] = []
    earlier: list[tuple[int, int]] = []
    if stored_rows:
        mine = [i for i, *_ in stored_rows]
        sims = stories.similarity(take(sig_col, mine), [bytes(sig) for _, _, sig, _ in stored_rows])
        ok = stories.copies(sims, take(shingles_col, mine), [n for *_, n in stored_rows])
        stored = [(i, story) for (i, story, _, _), yes in zip(stored_rows, ok) if yes]
    if earlier_rows:
        later, before = [i for i, _ in earlier_rows], [j for _, j in earlier_rows]
        sims = stories.similarity(take(sig_col, later), take(sig_col, before))
        ok = stories.copies(sims, take(shingles_col, later), take(shingles_col, before))
        earlier = [pair for pair, yes in zip(earlier_rows, ok) if yes]
    if stored or earlier:
        ids, merges = stories.link(articles.column("own_story").to_pylist(), stored, earlier)
        for old, keep in sorted(merges.items()):
            con.execute(sql("merge_story"), {"old": old, "keep": keep})
        story = pa.array(ids, pa.string())
    else:
        story = articles.column("own_story")
    con.execute(sql("insert_signatures"))
    con.execute(sql("insert_bands"))
    return articles.append_column("story_id", story)


def _supersede(con: duckdb.DuckDBPyConnection, run: Run, ids: list[str], now: datetime) -> int:
    """Move the current claims of these articles to claims_history; return how many moved."""
    register(con, "batch_superseded", {"article_id": ids}, IDS_SCHEMA)
    removed = con.execute(sql("archive_claims"), {"now": now, "run_id": run.run_id}).fetchall()[0][0]
    con.execute(sql("delete_claims"))
    return removed


def _insert_claims(con: duckdb.DuckDBPyConnection, run: Run, claims: pa.Table | list[Prepared], now: datetime,
                   only_batch_articles: bool = False) -> int:
    """Insert claims rows (an Arrow table in ``CLAIM_SCHEMA``); with ``only_batch_articles``, those
    of the articles in ``batch_articles`` only. Returns how many were inserted."""
    if not isinstance(claims, pa.Table):
        claims = Batch.of(claims).claims
    register(con, "batch_claims", claims)
    name = "insert_batch_article_claims" if only_batch_articles else "insert_claims"
    return con.execute(sql(name), {"run_id": run.run_id, "now": now}).fetchall()[0][0]


def save_ingest_batch(con: duckdb.DuckDBPyConnection, run: Run, items: Batch | list[Prepared]) -> Counter[str]:
    """Store a batch of read articles: new ones added, changed ones replaced (old claims to
    history), ones stored meanwhile with the same content skipped. Call inside ``writing``."""
    batch = Batch.of(items)
    articles = batch.articles
    register(con, "batch_articles", articles)
    stored = dict(con.execute(sql("batch_existing")).fetchall())
    counts: Counter[str] = Counter()
    if stored:
        hashes = articles.column("record_hash").to_pylist()
        keep = []
        for aid, digest in zip(articles.column("article_id").to_pylist(), hashes):
            old = stored.get(aid)
            counts["unchanged" if old == digest else "replaced" if old else "new"] += 1
            keep.append(old != digest)
        if not any(keep):
            run.pending.update(counts)
            return counts
        articles = articles.filter(pa.array(keep))
        register(con, "batch_articles", articles)
    else:
        counts["new"] = len(articles)
    if not len(articles):
        run.pending.update(counts)
        return counts
    _ensure_run(con, run)
    now = utcnow()
    replaced = [aid for aid in articles.column("article_id").to_pylist() if aid in stored]
    if replaced:
        counts["claims_removed"] = _supersede(con, run, replaced, now)
        register(con, "batch_replaced", {"article_id": replaced}, IDS_SCHEMA)
        for name in ("delete_articles", "delete_signatures", "delete_bands"):
            con.execute(sql(name))
    articles = _link_stories(con, articles)
    register(con, "batch_articles", articles)
    con.execute(sql("insert_articles"), {"now": now, "run_id": run.run_id, "rules_hash": run.rules_hash,
                                         "incomplete": INCOMPLETE})
    counts["claims_added"] = _insert_claims(con, run, batch.claims, now, only_batch_articles=bool(stored))
    run.pending.update(counts)
    _flush_counts(con, run)
    run.pending.clear()
    return counts


def save_reextract_batch(con: duckdb.DuckDBPyConnection, run: Run, items: Batch | list[Prepared]) -> Counter[str]:
    """Store new claims for stored articles: where the claim ids differ, the old claims move to
    history and the new ones replace them; every article is marked with the run's rules hash."""
    batch = Batch.of(items)
    ids = batch.articles.column("article_id").to_pylist()
    register(con, "batch_ids", batch.articles.select(["article_id", "incomplete"]))
    current = {aid: list(claim_ids) for aid, claim_ids in con.execute(sql("current_claim_ids")).fetchall()}
    new: dict[str, list[str]] = {aid: [] for aid in ids}
    for aid, cid in zip(batch.claims.column("article_id").to_pylist(), batch.claims.column("claim_id").to_pylist()):
        new[aid].append(cid)
    changed = [aid for aid in ids if sorted(new[aid]) != current.get(aid, [])]
    counts = Counter(replaced=len(changed), unchanged=len(ids) - len(changed))
    _ensure_run(con, run)
    now = utcnow()
    if changed:
        counts["claims_removed"] = _supersede(con, run, changed, now)
        register(con, "batch_articles", {"article_id": changed}, IDS_SCHEMA)
        counts["claims_added"] = _insert_claims(con, run, batch.claims, now, only_batch_articles=True)
    con.execute(sql("set_rules_hash"), {"rules_hash": run.rules_hash, "incomplete": INCOMPLETE})
    run.pending.update(counts)
    _flush_counts(con, run)
    run.pending.clear()
    return counts


def _backfill_stories(con: duckdb.DuckDBPyConnection) -> None:
    """Migration 2's Python step: signatures and story ids for articles stored before it."""
    rows = con.execute(sql("stories_missing")).fetchall()
    if not rows:
        return
    builder = BatchBuilder()
    for aid, text, h, when in rows:
        builder.add((aid, None, None, when, None, None, text, h, "", None, None), [], stories.signature(text))
    articles = builder.build().articles
    register(con, "batch_articles", articles)
    linked = _link_stories(con, articles)
    register(con, "batch_story_ids", linked.select(["article_id", "story_id"]))
    con.execute(sql("set_story"))


_POST_STEPS = {2: _backfill_stories}
