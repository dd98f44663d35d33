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

import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from tracker import stories
from tracker.models import Article, Claim

SQL_DIR = Path(__file__).with_name("sql")
DEFAULT_DB = "tracker.duckdb"
LOCK_TIMEOUT = 60.0  # seconds a connect waits for another process to let go of the file


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
def writing(path: str | Path = DEFAULT_DB, timeout: float = LOCK_TIMEOUT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed and checkpointed on success,
    rolled back on any error or interrupt, and closed either way."""
    con = connect(path, timeout=timeout)
    try:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("CHECKPOINT")
    finally:
        con.close()


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
IDS_SCHEMA = pa.schema([("article_id", pa.string())])
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


def claim_rows(article: Article, claims: list[Claim], as_of: date | None) -> tuple[list[dict[str, Any]], list[str]]:
    """The claims rows of one article, and a warning per claim dropped for a span that lies.

    ``claim_id`` hashes the article id and text with the rule, its version, the key and the
    span: re-running the same rules on the same text gives the same ids, a new rule version
    gives new ones.
    """
    text, warnings = article.text, []
    kept = []
    for c in claims:
        if text[c.span_start:c.span_end] != c.quote:
            warnings.append(f"rule {c.rule_id}@{c.rule_version}: span [{c.span_start}, {c.span_end}) "
                            "does not slice its quote; claim dropped")
        else:
            kept.append(c)
    ids: dict[str, str] = {}
    used: Counter[str] = Counter()
    for c in kept:
        base = hashlib.sha256("\0".join(map(str, (
            article.article_id, article.content_hash, c.rule_id, c.rule_version, c.key,
            c.span_start, c.span_end))).encode("utf-8", "surrogatepass")).hexdigest()[:20]
        used[base] += 1
        ids.setdefault(c.key, base if used[base] == 1 else f"{base}-{used[base]}")
    rows = []
    for c in kept:
        rows.append({
            "claim_id": ids[c.key], "article_id": article.article_id, "metric": c.metric,
            "kind": c.kind, "value": float(c.value),
            "value_low": None if c.value_low is None else float(c.value_low),
            "value_high": None if c.value_high is None else float(c.value_high),
            "qualifier": c.qualifier, "subgroup": c.subgroup, "planned": c.planned,
            "parent_claim_id": ids.get(c.parent_key) if c.parent_key else None,
            "attributed_to": c.attributed_to, "sentence": c.sentence,
            "span_start": c.span_start, "span_end": c.span_end, "quote": c.quote,
            "number_start": c.number_start, "number_end": c.number_end, "rule_id": c.rule_id,
            "rule_version": c.rule_version, "claim_key": c.key, "as_of": as_of,
        })
    return rows, warnings


@dataclass
class Prepared:
    """One article ready to store: its row, its claims rows and its story signature."""

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


def record_hashes(path: str | Path) -> dict[str, str]:
    """article_id -> record_hash of every stored article (creating the database if needed)."""
    con = connect(path)
    try:
        return dict(con.execute(sql("record_hashes")).fetchall())
    finally:
        con.close()


def register(con: duckdb.DuckDBPyConnection, name: str, rows: list[dict[str, Any]] | dict[str, list],
             schema: pa.Schema | None = None) -> None:
    """Expose rows (dicts, or a dict of columns) to SQL as the Arrow table ``name``."""
    table = pa.Table.from_pylist(rows, schema=schema) if isinstance(rows, list) else pa.table(rows, schema=schema)
    con.register(name, table)


def _day(when: datetime | None) -> date | None:
    return when.date() if when is not None else None


def _link_stories(con: duckdb.DuckDBPyConnection, items: list[Prepared]) -> None:
    """Give each new article its story id, merging stories it bridges (stories.assign_stories)."""
    batch = [stories.NewArticle(p.article_id, p.article["content_hash"], p.signature,
                                _day(p.article.get("published_at"))) for p in items]

    def lookup(keys):
        pairs = list(keys)
        register(con, "batch_band_keys", {"band_key": [k for k, _ in pairs], "day": [d for _, d in pairs]},
                  pa.schema([("band_key", pa.int64()), ("day", pa.date32())]))
        return [(band, stories.Known(aid, story, stories.Signature(bytes(sig), n), day))
                for band, aid, story, sig, n, day in con.execute(sql("band_candidates")).fetchall()]

    merges = stories.assign_stories(batch, lookup)
    for old, keep in sorted(merges.items()):
        con.execute(sql("merge_story"), {"old": old, "keep": keep})
    for p, art in zip(items, batch):
        p.article["story_id"] = art.story_id
    register(con, "batch_signatures", [{"article_id": a.article_id, "signature": a.signature.minhash,
                                         "shingles": a.signature.shingles} for a in batch if a.signature is not None],
              pa.schema([("article_id", pa.string()), ("signature", pa.binary()), ("shingles", pa.int32())]))
    register(con, "batch_bands", [{"band_key": k, "day": a.day, "article_id": a.article_id}
                                   for a in batch for k in a.bands],
              pa.schema([("band_key", pa.int64()), ("day", pa.date32()), ("article_id", pa.string())]))
    con.execute(sql("insert_signatures"))
    con.execute(sql("insert_bands"))


def _supersede(con: duckdb.DuckDBPyConnection, run: Run, ids: list[str], now: datetime) -> int:
    """Move the current claims of these articles to claims_history; return how many moved."""
    register(con, "batch_superseded", {"article_id": ids}, IDS_SCHEMA)
    removed = con.execute(sql("archive_claims"), {"now": now, "run_id": run.run_id}).fetchall()[0][0]
    con.execute(sql("delete_claims"))
    return removed


def _insert_claims(con: duckdb.DuckDBPyConnection, run: Run, items: list[Prepared], now: datetime) -> int:
    rows = [row for p in items for row in p.claims]
    register(con, "batch_claims", rows, CLAIM_SCHEMA)
    con.execute(sql("insert_claims"), {"run_id": run.run_id, "now": now})
    return len(rows)


def save_ingest_batch(con: duckdb.DuckDBPyConnection, run: Run, items: list[Prepared]) -> Counter[str]:
    """Store a batch of read articles: new ones added, changed ones replaced (old claims to
    history), ones stored meanwhile with the same content skipped. Call inside ``writing``."""
    register(con, "batch_ids", {"article_id": [p.article_id for p in items]}, IDS_SCHEMA)
    stored = dict(con.execute(sql("batch_existing")).fetchall())
    counts: Counter[str] = Counter()
    todo = []
    for p in items:
        old = stored.get(p.article_id)
        counts["unchanged" if old == p.article["record_hash"] else "replaced" if old else "new"] += 1
        if old != p.article["record_hash"]:
            todo.append(p)
    if not todo:
        run.pending.update(counts)
        return counts
    _ensure_run(con, run)
    now = utcnow()
    replaced = [p.article_id for p in todo if p.article_id in stored]
    if replaced:
        counts["claims_removed"] = _supersede(con, run, replaced, now)
        register(con, "batch_replaced", {"article_id": replaced}, IDS_SCHEMA)
        for name in ("delete_articles", "delete_signatures", "delete_bands"):
            con.execute(sql(name))
    _link_stories(con, todo)
    register(con, "batch_articles", [p.article for p in todo], ARTICLE_SCHEMA)
    con.execute(sql("insert_articles"), {"now": now, "run_id": run.run_id, "rules_hash": run.rules_hash})
    counts["claims_added"] = _insert_claims(con, run, todo, now)
    run.pending.update(counts)
    _flush_counts(con, run)
    run.pending.clear()
    return counts


def save_reextract_batch(con: duckdb.DuckDBPyConnection, run: Run, items: list[Prepared]) -> Counter[str]:
    """Store new claims for stored articles: where the claim ids differ, the old claims move to
    history and the new ones replace them; every article is marked with the run's rules hash."""
    register(con, "batch_ids", {"article_id": [p.article_id for p in items]}, IDS_SCHEMA)
    current = {aid: list(ids) for aid, ids in con.execute(sql("current_claim_ids")).fetchall()}
    changed = [p for p in items if sorted(r["claim_id"] for r in p.claims) != current.get(p.article_id, [])]
    counts = Counter(replaced=len(changed), unchanged=len(items) - len(changed))
    _ensure_run(con, run)
    now = utcnow()
    if changed:
        counts["claims_removed"] = _supersede(con, run, [p.article_id for p in changed], now)
        counts["claims_added"] = _insert_claims(con, run, changed, now)
    con.execute(sql("set_rules_hash"), {"rules_hash": run.rules_hash})
    run.pending.update(counts)
    _flush_counts(con, run)
    run.pending.clear()
    return counts


def _backfill_stories(con: duckdb.DuckDBPyConnection) -> None:
    """Migration 2's Python step: signatures and story ids for articles stored before it."""
    rows = con.execute(sql("stories_missing")).fetchall()
    items = [Prepared({"article_id": aid, "content_hash": h, "published_at": when}, [], stories.signature(text))
             for aid, text, h, when in rows]
    if not items:
        return
    _link_stories(con, items)
    register(con, "batch_story_ids", [{"article_id": p.article_id, "story_id": p.article["story_id"]} for p in items],
              pa.schema([("article_id", pa.string()), ("story_id", pa.string())]))
    con.execute(sql("set_story"))


_POST_STEPS = {2: _backfill_stories}
