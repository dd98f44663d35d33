"""Read-only queries behind the dashboard: every figure it shows is computed here, in DuckDB.

The dashboard never holds the database file open: a DuckDB file admits one process at a time
while someone writes, so a reader that keeps it open would stall ``tracker ingest``. Instead,
``snapshot`` copies the file's bytes (opened read-only for the copy, retried while a writer
commits: writers wait well under a second per million claims) into a private folder and
answers from the copy, whose memory DuckDB bounds (``MEMORY_LIMIT``) and pages from disk.
While an ingest keeps changing the file, the copy is refreshed in the background at most
every ``REFRESH_SECONDS`` (or three build times), and the previous copy answers meanwhile.

In the copy, ``facts`` holds every claim with its article's publisher, source, date, title
and URL. It is first a view (the first page needs nothing more), then, in the background,
stored ordered by metric, kind and latest day first (``sort_facts``), with small tables
beside it: claims per day and publisher, source or attribution (the sidebar, the overview
and the timeline count from these), claim and article lookups for the drill-down, the
names behind the disagreements' integer keys, the distinct figures per publisher
(``statement_rows``, what filtered disagreements are computed from) and every disagreement
(``precompute_conflicts``). Queries use those once they exist and
``facts`` until then, with the same answers (tests/test_queries.py compares them). A query
for one metric, a few days or the latest claims reads only the row groups those lie in.

Query functions take a connection to a snapshot (table ``facts``, alias ``c``) and return
small pandas frames; parameters are always bound, and the only SQL built at run time is the
choice of fixed fragments and numbered parameters. Rows for the browser are capped here.

``disagreements`` re-derives the store's ``disagreements`` view for the filtered claims in
linear time: the view compares statements pairwise, which takes minutes at a million claims;
the results are the same (tests/test_queries.py compares them). The snapshot's precomputed
disagreements are derived in SQL (``_ENDS``, ``_GROUPS``); those of a filter that keeps some
claims of a statement and not others, at each query, in numpy over the filtered statements
(``_live_disagreements``: the same steps, without the SQL's planning and per-step costs).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from tracker import store

ALL = "__all__"      # subgroup filter: every subgroup and the totals
TOTAL = "__total__"  # subgroup filter: only the figures with no subgroup (the totals)
Series = Literal["publisher", "source", "attributed_to"]
SERIES_LABELS: dict[str, str] = {
    "publisher": "Publisher",
    "source": "Independent source (syndicated copies once)",
    "attributed_to": "Attributed source (who is quoted)",
}
READ_TIMEOUT = 10.0     # seconds to wait for a writer's batch commit before telling the user
REFRESH_SECONDS = 10.0  # while the file keeps changing, copy it at most this often


def db_path(cli_value: str | None = None) -> str:
    """The database: ``--db``, else ``$TRACKER_DB``, else ``tracker.duckdb``."""
    return cli_value or os.environ.get("TRACKER_DB") or store.DEFAULT_DB


Stamp = tuple[int, int, int, int]


def db_stamp(path: str | Path) -> Stamp | None:
    """(mtime_ns, size) of the file and of its WAL: changes whenever a writer commits.

    None when there is no database file.
    """
    p = Path(path)
    try:
        st = p.stat()
    except OSError:
        return None
    try:
        wal = Path(str(p) + ".wal").stat()
        w = (wal.st_mtime_ns, wal.st_size)
    except OSError:
        w = (0, 0)
    return (st.st_mtime_ns, st.st_size, *w)


class NoDatabase(store.StoreError):
    """There is no database file at the path."""


# ---- snapshots --------------------------------------------------------------------------------

FACT_COLUMNS = """claim_id, article_id, metric, kind, value, value_low, value_high, qualifier, subgroup,
    planned, parent_claim_id, attributed_to, as_of, publisher, published_at, source, story_id, title, url,
    quote, sentence, span_start, span_end, number_start, number_end, rule_id, rule_version"""

SNAPSHOT_DIR_ENV = "TRACKER_SNAPSHOT_DIR"   # where snapshot copies live; ":memory:" keeps them in RAM
MEMORY_ENV = "TRACKER_DASHBOARD_MEMORY"      # DuckDB memory limit of one snapshot (default MEMORY_LIMIT)
MEMORY_LIMIT = "2GB"


@dataclass(eq=False)  # compared (and hashed) by identity
class Snapshot:
    """A private, query-ready copy of one database state.

    ``stamp`` is the file's stamp taken before the copy, so a commit racing the copy makes
    the next check see a change and copy again, never the other way round. ``workdir`` holds
    the copy (None: kept in memory); it is removed when the snapshot is closed or garbage
    collected.
    """

    path: str
    stamp: Stamp
    built_at: datetime  # local time, for "data as of"
    built_monotonic: float
    seconds: float
    con: duckdb.DuckDBPyConnection
    info: dict[str, Any]
    workdir: Path | None = None
    catalog: str | None = None  # the catalog to USE in each cursor (in-memory snapshots)
    pending: bool = False  # deferred background work not started yet (``start_background``)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A connection for one thread (DuckDB connections are not shared across threads).
        It keeps the snapshot, and so its files, alive while it is in use."""
        cur = self.con.cursor()
        if self.catalog:
            cur.execute(f"USE {self.catalog}")
        return cast(duckdb.DuckDBPyConnection, _Cursor(cur, self))

    @property
    def key(self) -> tuple[str, Stamp]:
        """What cached query results are keyed on."""
        return (self.path, self.stamp)

    @property
    def build_seconds(self) -> float:
        """The copy, the ordered facts and the disagreements (those done so far)."""
        return self.seconds + self.info.get("layout_s", 0.0) + self.info.get("conflicts_s", 0.0)

    def close(self) -> None:
        """Close the copy and delete its files (also done when the snapshot is garbage collected)."""
        finalizer = getattr(self, "_finalizer", None)
        if finalizer is not None:
            finalizer()
        else:
            _close_and_remove(self.con, self.workdir)


class _Cursor:
    """A DuckDB cursor holding a reference to its snapshot: the snapshot's files are removed
    when it is garbage collected, which must not happen while a cursor is still reading."""

    __slots__ = ("_cur", "_snap")

    def __init__(self, cur: duckdb.DuckDBPyConnection, snap: Snapshot) -> None:
        self._cur = cur
        self._snap = snap

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)


def _close_and_remove(con: duckdb.DuckDBPyConnection, workdir: Path | None) -> None:
    try:
        con.close()
    except duckdb.Error:
        pass
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


def _retry_locked(path: str, timeout: float, open_: Any) -> Any:
    """``open_()``, retried while a writer holds the file (as ``store.connect`` does)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        try:
            return open_()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise store.StoreError(f"{path}: {exc}") from None
            if time.monotonic() >= deadline:
                raise store.StoreError(f"{path} is busy: another process has been writing to it for "
                                       f"{timeout:g} s") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _check_version(con: duckdb.DuckDBPyConnection, path: str) -> None:
    version = store.schema_version(con)
    if version < store.latest_version():
        raise store.StoreError(
            f"{path} has schema version {version}; this tracker needs {store.latest_version()}: "
            f"run `tracker migrate --db {path}`" if version else f"{path} is not a tracker database")


def _snapshot_folder() -> Path | None:
    """Where snapshot copies go: ``$TRACKER_SNAPSHOT_DIR``, else the system's temporary folder;
    None for ":memory:"."""
    configured = os.environ.get(SNAPSHOT_DIR_ENV)
    if configured == ":memory:":
        return None
    folder = Path(configured) if configured else Path(tempfile.gettempdir())
    _remove_stale(folder)
    return folder


_stale_checked: set[Path] = set()


def _remove_stale(folder: Path) -> None:
    """Delete the snapshot folders of dashboard processes that no longer run (killed ones leave
    theirs behind); once per folder and process."""
    if folder in _stale_checked:
        return
    _stale_checked.add(folder)
    for d in folder.glob("tracker-snapshot-*"):
        try:
            pid = int(d.name.split("-")[2])
        except (IndexError, ValueError):
            continue
        if pid == os.getpid():
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(d, ignore_errors=True)
        except OSError:
            pass  # alive (another user's), or unknowable: leave it


def _room_for_copy(folder: Path, path: str) -> bool:
    """True when ``folder`` has room for a copy of the database and the dashboard's tables."""
    try:
        size = sum(Path(p).stat().st_size for p in (path, path + ".wal") if Path(p).exists())
        return shutil.disk_usage(folder).free > 1.6 * size + 256 * 2**20
    except OSError:
        return False


def _memory_limit() -> str:
    return os.environ.get(MEMORY_ENV) or MEMORY_LIMIT


def build_snapshot(path: str | Path, timeout: float = READ_TIMEOUT,
                   precompute: Literal["now", "background", "deferred", "no"] = "background") -> Snapshot:
    """Copy the database at ``path`` and build the dashboard's tables in the copy (see the
    module docstring), then precompute the disagreements (``precompute_conflicts``).

    The file is held (read-only, so writers wait) only while its bytes are copied; the
    tables are built from the copy. With no room for a copy (or ``$TRACKER_SNAPSHOT_DIR`` set
    to ":memory:") the tables are built in memory straight from the file instead, holding it
    for the whole build.
    """
    path = str(path)
    stamp = db_stamp(path)
    if stamp is None:
        raise NoDatabase(f"{path}: no such database")
    started = time.perf_counter()
    folder = _snapshot_folder()
    if folder is not None and _room_for_copy(folder, path):
        con, workdir = _build_from_copy(path, folder, timeout)
        catalog = None
    else:
        con, workdir, catalog = _build_in_memory(path, timeout), None, "snap"
    try:
        # every result read to its end: a pending one keeps its transaction open, and an open
        # transaction on the copy stops its checkpoints
        row = _first(con.execute("SELECT n_articles, last_ingest FROM snapshot_info").fetchall())
    except BaseException:
        _close_and_remove(con, workdir)
        raise
    assert row is not None
    seconds = time.perf_counter() - started
    snap = Snapshot(path, stamp, datetime.now(), time.monotonic(), seconds, con,
                    {"articles": row[0], "last_ingest": row[1]}, workdir, catalog)
    snap._finalizer = weakref.finalize(snap, _close_and_remove, con, workdir)  # type: ignore[attr-defined]
    if workdir is not None:
        _copies.setdefault(str(Path(path).resolve()), weakref.WeakSet()).add(snap)
    # exit handlers run last registered first: interrupt the background work before the
    # finalizers close the snapshots
    atexit.unregister(_interrupt_busy)
    atexit.register(_interrupt_busy)
    if precompute == "now":
        precompute_conflicts(snap)
    elif precompute != "no":
        snap.pending = True
        if precompute == "background":
            start_background(snap)
    return snap


_copies: dict[str, "weakref.WeakSet[Snapshot]"] = {}  # the live snapshots with a copy, by database path

DEFER_SECONDS = 5.0  # a deferred snapshot's background work starts at the latest this long after it is served


def start_background(snap: Snapshot) -> None:
    """Start the work ``build_snapshot(precompute="deferred")`` left (``precompute_conflicts``)
    in a background thread; once. The dashboard starts it when its first page is drawn, so
    that page does not share the CPU with it."""
    with _entries_lock:
        if not snap.pending:
            return
        snap.pending = False
    threading.Thread(target=precompute_conflicts, args=(snap,), name="tracker-conflicts", daemon=True).start()


def _build_from_copy(path: str, folder: Path, timeout: float) -> tuple[duckdb.DuckDBPyConnection, Path]:
    """Copy the file's bytes while holding it read-only (no writer can change it meanwhile),
    then open the copy and give it the dashboard's ``facts`` (a view until ``sort_facts``)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"tracker-snapshot-{os.getpid()}-", dir=folder))
    copy = workdir / "snapshot.duckdb"
    try:
        lock = _retry_locked(path, timeout, lambda: duckdb.connect(path, read_only=True))
        try:
            _check_version(lock, path)
            shutil.copyfile(path, copy)
            if Path(path + ".wal").exists():  # a writer that died mid-batch; replayed on open
                shutil.copyfile(path + ".wal", str(copy) + ".wal")
        finally:
            lock.close()  # the file is free again: writers need not wait for the rest
        (workdir / "tmp").mkdir()
        # the allocator's background threads hand freed memory back to the system: after the
        # ordering and the disagreements the process keeps ~250 MB less per million claims
        con = duckdb.connect(str(copy), config={"memory_limit": _memory_limit(),
                                                "temp_directory": str(workdir / "tmp"),
                                                "allocator_background_threads": True})
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        _facts_view(con)
    except BaseException:
        _close_and_remove(con, workdir)
        raise
    return con, workdir


def _build_in_memory(path: str, timeout: float) -> duckdb.DuckDBPyConnection:
    """The dashboard's tables in a compressed in-memory database, built from the file itself."""
    con = duckdb.connect(":memory:", config={"memory_limit": _memory_limit()})
    try:
        try:
            con.execute("ATTACH ':memory:' AS snap (COMPRESS)")
        except duckdb.Error:  # an older DuckDB: uncompressed
            con.execute("ATTACH ':memory:' AS snap")
        quoted = path.replace("'", "''")
        _retry_locked(path, timeout, lambda: con.execute(f"ATTACH '{quoted}' AS src (READ_ONLY)"))
        try:
            con.execute("USE src")
            _check_version(con, path)
            con.execute("USE snap")
            derive_tables(con, source="src")
        finally:
            con.execute("USE snap")
            con.execute("DETACH src")  # the file is free again
        con.execute("CHECKPOINT snap")  # compresses the tables
    except BaseException:
        con.close()
        raise
    return con


_ARTICLE_COLUMNS = ("publisher", "published_at", "source", "story_id", "title", "url")
_FACTS_ORDER = "metric, kind, as_of DESC NULLS LAST, published_at DESC NULLS LAST"


def _facts_select(source: str, articles: str) -> str:
    s = f"{source}." if source else ""
    cols = ", ".join(f"a.{c}" if c in _ARTICLE_COLUMNS else f"c.{c}"
                     for c in (c.strip() for c in FACT_COLUMNS.split(",")))
    # integer keys of the disagreements' statements: the group (metric, subgroup, kind,
    # planned), the source, the attribution (computed here once, not per query)
    keys = ("hash(c.metric, COALESCE(c.subgroup, ''), c.kind, c.planned) AS gk, hash(a.source) AS sk, "
            "hash(c.attributed_to) AS ak, COALESCE(contains(c.sentence, c.quote), FALSE) AS quote_in_sentence")
    return f"SELECT {cols}, {keys} FROM {s}claims AS c JOIN {articles} AS a USING (article_id)"


def _articles_select(source: str) -> str:
    s = f"{source}." if source else ""
    return f"""
        SELECT a.article_id, a.publisher, a.url, a.title, a.published_at, a.story_id, s.source
        FROM {s}articles AS a JOIN {s}article_sources AS s USING (article_id)"""


def _info_select(source: str) -> str:
    s = f"{source}." if source else ""
    return f"""
        SELECT (SELECT count(*) FROM {s}articles) AS n_articles,
               (SELECT max(finished_at) FROM {s}runs WHERE status = 'completed') AS last_ingest"""


def _facts_view(con: duckdb.DuckDBPyConnection) -> None:
    """In a copy of the database: ``facts`` as a view of the claims joined with their
    articles' publisher, source and the rest (``snapshot_articles``, computed once), so the
    dashboard can answer at once; ``sort_facts`` then stores it ordered."""
    con.execute(f"CREATE OR REPLACE TABLE snapshot_articles AS {_articles_select('')}")
    con.execute(f"CREATE OR REPLACE VIEW facts AS {_facts_select('', 'snapshot_articles')}")
    con.execute(f"CREATE OR REPLACE TABLE snapshot_info AS {_info_select('')}")


def facts_sorted(con: duckdb.DuckDBPyConnection) -> bool:
    """True when ``facts`` is a table (ordered), False while it is still a view."""
    row = _first(con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'facts' "
                      "AND database_name = current_database()").fetchall())
    return not (row and row[0])


def sort_facts(con: duckdb.DuckDBPyConnection) -> None:
    """Store ``facts`` ordered by metric, kind and latest day first, replacing the view: a
    query for one metric and kind reads only its row groups (DuckDB skips those whose min/max
    exclude the filter), and one for the latest claims stops after the first. Then the lookup
    tables of the drill-down (``_lookup_tables``). Concurrent queries are unaffected: they see
    the view or the table, both with the same rows."""
    if facts_sorted(con):
        return
    con.execute(f"CREATE OR REPLACE TABLE facts_sorted AS SELECT * FROM facts ORDER BY {_FACTS_ORDER}")
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DROP VIEW facts")
        con.execute("ALTER TABLE facts_sorted RENAME TO facts")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _lookup_tables(con)
    _count_tables(con)
    _key_tables(con)
    _checkpoint(con)
    _statement_table(con)
    _checkpoint(con)


def _checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write the new tables to the copy's file, compressed (until then they are held in memory
    as written); skipped while a query of another thread has a transaction open."""
    try:
        con.execute("CHECKPOINT")
    except duckdb.TransactionException:
        pass


def _lookup_tables(con: duckdb.DuckDBPyConnection) -> None:
    """``claim_ix`` and ``article_ix``: (key, rid = rowid in ``facts``) ordered by the key, so
    finding a claim or an article's claims reads one row group (and costs no index in memory)."""
    con.execute("CREATE OR REPLACE TABLE claim_ix AS SELECT claim_id, rowid AS rid FROM facts ORDER BY claim_id")
    con.execute("CREATE OR REPLACE TABLE article_ix AS SELECT article_id, rowid AS rid FROM facts ORDER BY article_id")


def derive_tables(con: duckdb.DuckDBPyConnection, source: str = "") -> None:
    """``facts`` (see ``sort_facts``) and ``snapshot_info`` as tables in the current catalog,
    from the tracker's tables in catalog ``source`` (default: the current one)."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE snapshot_articles AS {_articles_select(source)}")
    con.execute(f"CREATE OR REPLACE TABLE facts AS SELECT * FROM ({_facts_select(source, 'temp.snapshot_articles')}) "
                f"ORDER BY {_FACTS_ORDER}")
    con.execute("DROP TABLE temp.snapshot_articles")
    _lookup_tables(con)
    _count_tables(con)
    _key_tables(con)
    _statement_table(con)
    con.execute(f"CREATE OR REPLACE TABLE snapshot_info AS {_info_select(source)}")


_busy: set[Any] = set()  # cursors doing a snapshot's long work, interrupted when the process exits
_busy_lock = threading.Lock()


def _interrupt_busy() -> None:
    """At exit: stop the long work of background threads before the snapshots are closed; a
    thread still inside DuckDB when the interpreter goes away aborts the process."""
    with _busy_lock:
        busy = list(_busy)
    for cur in busy:
        try:
            cur.interrupt()
        except Exception:  # noqa: BLE001  closed meanwhile
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with _busy_lock:
            if not _busy:
                return
        time.sleep(0.02)


def precompute_conflicts(snap: Snapshot) -> None:
    """Store ``facts`` ordered (``sort_facts``), then the disagreements of all claims, so that
    choosing a metric, subgroup or dates only filters these tables (see ``disagreements``);
    until they exist, queries compute live. Times go to ``snap.info`` (layout_s, conflicts_s)."""
    con = snap.cursor()
    raw = getattr(con, "_cur", con)
    with _busy_lock:
        _busy.add(raw)
    try:
        started = time.perf_counter()
        sort_facts(con)
        snap.info["layout_s"] = time.perf_counter() - started
        started = time.perf_counter()
        create_conflict_tables(con)
        _checkpoint(con)
        snap.info["conflicts_s"] = time.perf_counter() - started
    except duckdb.Error:
        pass  # a snapshot dropped meanwhile, or the process exiting; queries go on computing live
    finally:
        with _busy_lock:
            _busy.discard(raw)
        con.close()


def create_conflict_tables(con: duckdb.DuckDBPyConnection) -> None:
    """``conflict_groups``: the disagreements of every dated claim of ``facts``, computed one
    metric at a time (a group never spans two metrics; all at once, 10 million claims took
    more than the snapshot's memory limit), then stored ordered."""
    metrics = [r[0] for r in con.execute("SELECT DISTINCT metric FROM facts WHERE as_of IS NOT NULL ORDER BY 1").fetchall()]
    select = f"""
        SELECT * EXCLUDE (sources), to_json(sources) AS sources_json,
               to_json(sources[:{SOURCES_SHOWN}]) AS sources_shown_json
        FROM ({_GROUPS})"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE conflict_parts AS {_ends(con, 'FALSE')} {select}")
    try:
        for metric in metrics:
            con.execute(f"INSERT INTO conflict_parts {_ends(con, 'c.as_of IS NOT NULL AND c.metric = $metric')} {select}",
                        {"metric": metric})
        con.execute("""CREATE OR REPLACE TABLE conflict_groups AS
            SELECT * FROM temp.conflict_parts ORDER BY metric, kind, subgroup, planned, first_day""")
    finally:
        con.execute("DROP TABLE IF EXISTS temp.conflict_parts")
    con.execute("CREATE OR REPLACE TABLE conflicts_ready AS SELECT now() AS at")  # created last: the flag


def conflicts_ready(con: duckdb.DuckDBPyConnection) -> bool:
    """True once ``precompute_conflicts`` has finished on this snapshot."""
    row = _first(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'conflicts_ready'").fetchall())
    return bool(row and row[0])


@dataclass
class _Entry:
    """The snapshots of one database file: the one served, and a refresh in progress."""

    current: Snapshot | None = None
    refreshing: threading.Thread | None = None
    error: str | None = None  # why the last background refresh failed
    first_build: threading.Lock = field(default_factory=threading.Lock)


_entries: dict[str, _Entry] = {}
_entries_lock = threading.Lock()


def _refresh(entry: _Entry, path: str) -> None:
    try:
        # complete before it is served: meanwhile the previous snapshot answers
        entry.current = build_snapshot(path, precompute="now")
        entry.error = None
    except store.StoreError as exc:
        entry.error = str(exc)
    finally:
        entry.refreshing = None


def snapshot(path: str | Path, *, background: bool = True, force: bool = False,
             refresh_seconds: float | None = None) -> Snapshot:
    """The snapshot to answer from. Raises ``NoDatabase`` or ``store.StoreError``.

    The first call copies the database (other sessions wait and share the copy). Later,
    when the file has changed, the current snapshot is still returned at once while a
    fresh one is copied in a background thread (``background=False``: copied before
    returning), so a user never waits for a refresh. A refresh starts at most every
    ``refresh_seconds`` or three build times, whichever is longer, so an ingest that commits
    every second does not keep the dashboard copying; ``force`` starts one now.
    ``refresh_seconds`` defaults to ``REFRESH_SECONDS``, read at each call.
    """
    if refresh_seconds is None:
        refresh_seconds = REFRESH_SECONDS
    key = str(Path(path).resolve())
    with _entries_lock:
        entry = _entries.setdefault(key, _Entry())
    stamp = db_stamp(path)
    if stamp is None:
        entry.current = None
        raise NoDatabase(f"{path}: no such database")
    current = entry.current
    if current is None:
        with entry.first_build:
            if entry.current is None:
                # served before its facts are ordered: the first page need not wait for that
                entry.current = build_snapshot(path, precompute="deferred")
            return entry.current
    if current.pending and time.monotonic() - current.built_monotonic >= DEFER_SECONDS:
        start_background(current)
    if current.stamp == stamp and not force:
        return current
    if not background:
        entry.current = build_snapshot(path)
        return entry.current
    with _entries_lock:
        due = time.monotonic() - current.built_monotonic >= max(refresh_seconds, 3 * current.build_seconds)
        if entry.refreshing is None and (due or force):
            entry.refreshing = threading.Thread(target=_refresh, args=(entry, str(path)),
                                                name="tracker-snapshot", daemon=True)
            entry.refreshing.start()
    return current


def refresh_state(path: str | Path) -> tuple[bool, str | None]:
    """(a refresh is running, why the last one failed) for the status line."""
    entry = _entries.get(str(Path(path).resolve()))
    if entry is None:
        return False, None
    return entry.refreshing is not None, entry.error


def is_stale(snap: Snapshot) -> bool:
    """True when the file has changed since the snapshot was copied."""
    return db_stamp(snap.path) != snap.stamp


def article_text(path: str | Path, article_id: str, timeout: float = READ_TIMEOUT) -> tuple[str, str | None] | None:
    """(text, published_at_source) of one article, read from the file itself, or from a
    snapshot's copy of the file as it is now (same stamp): opening a large file read-only
    costs tens of milliseconds and makes writers wait."""
    stamp = db_stamp(path)
    for snap in list(_copies.get(str(Path(path).resolve()), ())):
        if snap.stamp == stamp and snap.workdir is not None:
            try:
                return snapshot_article(snap, article_id)
            except duckdb.Error:
                break  # a copy closed meanwhile: read the file
    return _article_row(store.connect(path, read_only=True, timeout=timeout), article_id)


def _article_row(con: duckdb.DuckDBPyConnection, article_id: str) -> tuple[str, str | None] | None:
    """(text, published_at_source) of one article through ``con``, which is closed after."""
    try:
        row = _first(con.execute("SELECT text, published_at_source FROM articles WHERE article_id = $a",
                                 {"a": article_id}).fetchall())
    finally:
        con.close()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the claims to. Empty tuples mean "no restriction"."""

    metric: str | None = None
    subgroup: str = ALL
    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    include_undated: bool = True
    include_planned: bool = True
    publishers: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    qualifiers: tuple[str, ...] = ()
    search: str = ""

    def without_metric(self) -> "Filters":
        """The same filters for every metric (subgroup and kind are per metric)."""
        return Filters(None, ALL, None, self.date_from, self.date_to, self.include_undated,
                       self.include_planned, self.publishers, self.sources, self.qualifiers, self.search)


@dataclass
class Where:
    """A WHERE clause over ``facts`` (alias ``c``) and its bound parameters."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


def where_clause(f: Filters, dated_only: bool = False) -> Where:
    """The conditions for ``f``; every value is a bound ``$parameter``."""
    parts: list[str] = []
    p: dict[str, Any] = {}
    if f.metric is not None:
        parts.append("c.metric = $metric")
        p["metric"] = f.metric
    if f.subgroup == TOTAL:
        parts.append("c.subgroup IS NULL")
    elif f.subgroup != ALL:
        parts.append("c.subgroup = $subgroup")
        p["subgroup"] = f.subgroup
    if f.kind is not None:
        parts.append("c.kind = $kind")
        p["kind"] = f.kind
    if not f.include_planned:
        parts.append("NOT c.planned")
    if f.date_from is not None or f.date_to is not None:
        p["d0"] = f.date_from or date(1, 1, 1)
        p["d1"] = f.date_to or date(9999, 12, 31)
        undated = "" if dated_only or not f.include_undated else " OR c.as_of IS NULL"
        parts.append(f"(c.as_of BETWEEN $d0 AND $d1{undated})")
    elif dated_only or not f.include_undated:
        parts.append("c.as_of IS NOT NULL")
    if dated_only:
        parts.append("c.as_of IS NOT NULL")
    for name, col, values in (("publishers", "c.publisher", f.publishers),
                              ("sources", "c.attributed_to", f.sources),
                              ("qualifiers", "c.qualifier", f.qualifiers)):
        if values:  # an IN list of parameters: DuckDB filters it inside the scan
            marks = ", ".join(f"${name}{k}" for k in range(len(values)))
            parts.append(f"{col} IN ({marks})")
            p.update({f"{name}{k}": v for k, v in enumerate(values)})
    q = f.search.strip()
    if q:
        # A substring match with no pattern syntax exposed. Arabic has no case, and lower()
        # on a million Arabic strings costs seconds, so a search without cased letters is a
        # plain contains(); one with Latin letters is a case-insensitive RE2 match of the
        # escaped text (several times faster than lower()).
        # A quote is nearly always part of its sentence (quote_in_sentence, computed with
        # facts): then a match in the quote is one in the sentence, and the quote is skipped.
        cols = ["c.sentence", "c.quote", "c.title", "c.publisher", "c.attributed_to"]
        if q.lower() != q.upper():
            tests = [f"regexp_matches({col}, $q)" for col in cols]
            p["q"] = "(?i)" + _re2_literal(q)
        else:
            tests = [f"contains({col}, $q)" for col in cols]
            p["q"] = q
        tests[1] = f"(NOT c.quote_in_sentence AND {tests[1]})"
        parts.append("COALESCE(" + " OR ".join(tests) + ", FALSE)")
    return Where(" AND ".join(parts) if parts else "TRUE", p)


def _re2_literal(text: str) -> str:
    """``text`` as an RE2 pattern matching itself: every ASCII punctuation mark escaped."""
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() and not ch.isspace() else ch for ch in text)


def _first(rows: list[Any]) -> Any:
    """The first row of a fully read result (``fetchone`` would leave the result, and with it
    a transaction, open: an open transaction on a snapshot's copy stops its checkpoints)."""
    return rows[0] if rows else None


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    return con.execute(sql, params or {}).df()


# ---- what is in the database ----------------------------------------------------------------

# Claims per (metric, kind, subgroup, planned, day) and one series column: built with the
# ordered facts (``_count_tables``). Their size is bounded by series x days, not by the number
# of claims, so counts for the sidebar, the overview and the timeline read a few thousand rows
# where facts has millions. Queries fall back to ``facts`` when a filter needs other columns.
COUNT_TABLES = {"publisher": "counts_by_publisher", "source": "counts_by_source",
                "attributed_to": "counts_by_attribution"}


def _count_tables(con: duckdb.DuckDBPyConnection) -> None:
    for col, table in COUNT_TABLES.items():
        con.execute(f"""
            CREATE OR REPLACE TABLE {table} AS
            SELECT metric, kind, subgroup, planned, as_of, {col}, count(*) AS n
            FROM facts GROUP BY ALL ORDER BY metric, kind, as_of DESC NULLS LAST""")


# The names behind the disagreements' integer keys (a few hundred rows), and the statements the
# live disagreements start from: one row per distinct figure of a source, attribution,
# publisher and day (claims repeating one collapse), ordered so that a filter on metric, kind
# and publishers reads only the row groups of those publishers. Built with the count tables.
KEY_TABLES = {"group": "key_groups", "source": "key_sources", "attributed_to": "key_attributions"}
STATEMENT_TABLE = "statement_rows"


def _key_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""CREATE OR REPLACE TABLE {KEY_TABLES['group']} AS
        SELECT DISTINCT metric, subgroup, kind, planned FROM {COUNT_TABLES['publisher']}""")
    con.execute(f"CREATE OR REPLACE TABLE {KEY_TABLES['source']} AS SELECT DISTINCT source FROM {COUNT_TABLES['source']}")
    con.execute(f"""CREATE OR REPLACE TABLE {KEY_TABLES['attributed_to']} AS
        SELECT DISTINCT attributed_to FROM {COUNT_TABLES['attributed_to']}""")


def _statement_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"""
        CREATE OR REPLACE TABLE {STATEMENT_TABLE} AS
        SELECT DISTINCT metric, kind, subgroup, planned, publisher, as_of, attributed_to, qualifier,
               value, value_low, value_high, gk, sk, ak
        FROM facts WHERE as_of IS NOT NULL
        ORDER BY metric, kind, publisher, as_of""")


def _counts(con: duckdb.DuckDBPyConnection, series: str, f: Filters | None = None) -> tuple[str, str]:
    """(table, count expression) answering ``f`` per ``series`` column: a count table when
    ``f`` needs no other column, else facts."""
    if f is not None and (f.search.strip() or f.qualifiers or (f.publishers and series != "publisher")
                          or (f.sources and series != "attributed_to")):
        return "facts", "count(*)"
    table = COUNT_TABLES[series]
    return (table, "sum(c.n)") if _has_table(con, table) else ("facts", "count(*)")


def summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Claim counts for the header: claims, undated claims, first and last as-of day."""
    table, n = _counts(con, "publisher")
    row = _first(con.execute(f"""
        SELECT CAST(COALESCE({n}, 0) AS BIGINT), CAST(COALESCE({n} FILTER (WHERE c.as_of IS NULL), 0) AS BIGINT),
               min(c.as_of), max(c.as_of), count(DISTINCT c.metric)
        FROM {table} AS c""").fetchall())
    assert row is not None
    return {"claims": row[0], "undated": row[1], "first_day": row[2], "last_day": row[3], "metrics": row[4]}


def metric_counts(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Claims per metric (unfiltered): metric, n_claims, n_undated."""
    table, n = _counts(con, "publisher")
    return _df(con, f"""
        SELECT c.metric, CAST({n} AS BIGINT) AS n_claims,
               CAST(COALESCE({n} FILTER (WHERE c.as_of IS NULL), 0) AS BIGINT) AS n_undated
        FROM {table} AS c GROUP BY c.metric ORDER BY n_claims DESC, c.metric""")


def facet_values(con: duckdb.DuckDBPyConnection, column: Literal["subgroup", "kind", "publisher", "attributed_to"],
                 metric: str | None, limit: int = 300) -> pd.DataFrame:
    """The most frequent values of a column (for a metric): value, n. NULLs are left out."""
    col = {"subgroup": "subgroup", "kind": "kind", "publisher": "publisher", "attributed_to": "attributed_to"}[column]
    table, n = _counts(con, "attributed_to" if col == "attributed_to" else "publisher")
    return _df(con, f"""
        SELECT c.{col} AS value, CAST({n} AS BIGINT) AS n FROM {table} AS c
        WHERE c.{col} IS NOT NULL AND ($metric IS NULL OR c.metric = $metric)
        GROUP BY 1 ORDER BY n DESC, value LIMIT $limit""", {"metric": metric, "limit": limit})


def day_range(con: duckdb.DuckDBPyConnection, metric: str | None) -> tuple[date | None, date | None]:
    """First and last as-of day of the claims (of a metric)."""
    table, _ = _counts(con, "publisher")
    row = _first(con.execute(f"SELECT min(c.as_of), max(c.as_of) FROM {table} AS c WHERE $metric IS NULL OR c.metric = $metric",
                      {"metric": metric}).fetchall())
    return (row[0], row[1]) if row else (None, None)


# ---- overview -------------------------------------------------------------------------------

def overview(con: duckdb.DuckDBPyConnection, f: Filters, kinds: dict[str, str],
             recent_days: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each metric's latest figure per independent source, and how far apart they are.

    ``kinds`` maps a metric to the kind its headline figure has (killed: cumulative), so a
    day's event count is not compared with a toll. Only totals (no subgroup), not planned.
    A source's latest figure is its last as-of day's (the highest when it gave several that
    day); sources whose latest day is more than ``recent_days`` before the metric's latest
    day are listed but left out of the spread.

    Returns (per_metric, per_source). per_metric: metric, latest_day, n_sources, n_recent,
    min_value, max_value, relative_spread, n_claims. per_source: metric, source, day, value,
    value_low, value_high, qualifier, quote, claim_id, recent.
    """
    w = where_clause(Filters(**{**f.without_metric().__dict__, "subgroup": TOTAL, "include_planned": False}),
                     dated_only=True)
    params = {**w.params, "km": list(kinds), "kk": list(kinds.values()), "recent": recent_days}
    table, n = _counts(con, "source", f)
    headline = f"""
        FROM {table} AS c
        JOIN (SELECT unnest(CAST($km AS VARCHAR[])) AS metric,
                     unnest(CAST($kk AS VARCHAR[])) AS kind) AS k
          ON k.metric = c.metric AND k.kind = c.kind
        WHERE {w.sql}"""
    # each source's latest day first (from the counts when the filters allow), then only that
    # day's claims are read: the join hands the days' range to the scan of facts, which skips
    # the older row groups
    per_source = _df(con, f"""
        WITH latest AS (
            SELECT c.metric, c.source, max(c.as_of) AS day, CAST({n} AS BIGINT) AS n {headline} GROUP BY ALL
        ),
        picked AS (
            SELECT l.metric, l.source, any_value(l.n) AS n,
                   arg_max(struct_pack(day := c.as_of, value := c.value, value_low := c.value_low,
                                       value_high := c.value_high, qualifier := c.qualifier,
                                       quote := c.quote, claim_id := c.claim_id), c.value) AS s
            FROM facts AS c
            JOIN (SELECT unnest(CAST($km AS VARCHAR[])) AS metric,
                         unnest(CAST($kk AS VARCHAR[])) AS kind) AS k
              ON k.metric = c.metric AND k.kind = c.kind
            JOIN latest AS l ON l.metric = c.metric AND l.source = c.source AND l.day = c.as_of
            WHERE {w.sql}
            GROUP BY l.metric, l.source
        )
        SELECT metric, source, s.day AS day, s.value AS value, s.value_low AS value_low,
               s.value_high AS value_high, s.qualifier AS qualifier, s.quote AS quote,
               s.claim_id AS claim_id,
               s.day >= max(s.day) OVER (PARTITION BY metric) - CAST($recent AS INTEGER) AS recent, n
        FROM picked ORDER BY metric, day DESC, value DESC, source""", params)
    con.register("overview_sources", per_source)
    try:
        per_metric = _df(con, """
            SELECT metric, max(day) AS latest_day, count(*) AS n_sources,
                   count(*) FILTER (WHERE recent) AS n_recent,
                   min(value) FILTER (WHERE recent) AS min_value,
                   max(value) FILTER (WHERE recent) AS max_value,
                   CASE WHEN count(*) FILTER (WHERE recent) >= 2  -- one source: nothing to compare
                        THEN (max(value) FILTER (WHERE recent) - min(value) FILTER (WHERE recent))
                             / NULLIF(max(value) FILTER (WHERE recent), 0) END AS relative_spread,
                   sum(n) AS n_claims
            FROM overview_sources GROUP BY metric ORDER BY metric""")
    finally:
        con.unregister("overview_sources")
    return per_metric, per_source.drop(columns="n")


# ---- timeline -------------------------------------------------------------------------------

def timeline(con: duckdb.DuckDBPyConnection, f: Filters, series: Series = "publisher",
             max_series: int = 12, max_rows: int = 4000) -> tuple[pd.DataFrame, dict[str, int]]:
    """Each distinct figure per series and as-of day, for the chart.

    One row per (series, day, value, interval, qualifier): n_mentions, one example quote and
    claim id (the earliest published), the subgroup. Only the ``max_series`` series with the
    most claims are kept and at most ``max_rows`` rows (the latest days), so the browser gets
    a bounded payload; ``info`` says how many claims, series and undated claims were left out.
    Bounds of open intervals are NULL; the chart draws them to its edge.

    Two steps, so that only the days shown are grouped: claims per series and day (a cheap
    count) pick the series and the earliest day that can hold ``max_rows`` figures; then the
    figures of those days only (``facts`` is ordered by day, so the older row groups are
    skipped). Should those days hold fewer figures (many repeats), more days are taken.
    """
    w = where_clause(f, dated_only=False)
    col = {"publisher": "c.publisher", "source": "c.source", "attributed_to": "c.attributed_to"}[series]
    table, n = _counts(con, series, f)
    # claims per series (dated or not): the series shown and the counts of ``info``
    counts = con.execute(f"""
        SELECT COALESCE({col}, '(unattributed)') AS series, c.as_of IS NOT NULL AS dated, CAST({n} AS BIGINT) AS n
        FROM {table} AS c WHERE {w.sql} GROUP BY ALL""", w.params).fetchall()
    per_series: dict[str, int] = {}
    dated = undated = 0
    for name, is_dated, n in counts:
        if is_dated:
            per_series[name] = n
            dated += n
        else:
            undated += n
    n_series = len(per_series)
    shown = [name for name, _ in sorted(per_series.items(), key=lambda kv: (-kv[1], kv[0]))[:max_series]]
    marks = ", ".join(f"$series{k}" for k in range(len(shown))) or "NULL"
    # claims per day of the series shown, latest first
    per_day = [{"day": d, "n": k} for d, k in con.execute(f"""
        SELECT c.as_of, CAST({n} AS BIGINT) FROM {table} AS c
        WHERE {w.sql} AND c.as_of IS NOT NULL AND COALESCE({col}, '(unattributed)') IN ({marks})
        GROUP BY 1 ORDER BY 1 DESC""", {**w.params, **{f"series{k}": v for k, v in enumerate(shown)}}).fetchall()]
    params = {**w.params, **{f"series{k}": v for k, v in enumerate(shown)}, "max_rows": max_rows}
    figures = f"""
        SELECT series, day, subgroup, value, value_low, value_high, qualifier,
               bool_or(planned) AS planned,
               count(*) AS n_mentions,
               arg_min(struct_pack(quote, publisher, attributed_to),
                       struct_pack(p := published_at, id := claim_id)) AS first,
               min(claim_id) AS claim_id
        FROM (SELECT COALESCE({col}, '(unattributed)') AS series, c.as_of AS day, c.subgroup, c.value,
                     c.value_low, c.value_high, c.qualifier, c.planned, c.quote, c.publisher,
                     c.attributed_to, c.published_at, c.claim_id
              FROM facts AS c WHERE {w.sql} AND c.as_of >= $since) AS f
        WHERE series IN ({marks})
        GROUP BY ALL
        ORDER BY day DESC, series, value, value_low NULLS FIRST, value_high NULLS LAST, qualifier, subgroup NULLS FIRST
        LIMIT $max_rows"""
    figures = f"""
        SELECT series, day, subgroup, value, value_low, value_high, qualifier, planned, n_mentions,
               first.quote AS quote, first.publisher AS publisher, first.attributed_to AS attributed_to, claim_id
        FROM ({figures})"""
    target = 3 * max_rows  # claims to take at first: a figure is often stated more than once
    while True:
        since, acc = None, 0
        for d in per_day:  # latest first
            acc += d["n"]
            since = d["day"]
            if acc >= target:
                break
        complete = acc < target  # every dated claim is in
        df = _df(con, figures, {**params, "since": since or date(1, 1, 1)})
        if len(df) >= max_rows or complete:
            break
        # too many repeats: take as many more days as the figures per claim so far call for
        target = max(2 * acc, int(1.25 * max_rows * acc / max(len(df), 1)))
    info = {"dated": dated, "undated": undated, "series": n_series, "series_shown": min(n_series, max_series),
            "rows": len(df), "rows_capped": int(len(df) >= max_rows)}
    return df.sort_values(["day", "series"]).reset_index(drop=True), info


# ---- disagreements --------------------------------------------------------------------------

# The store's `disagreements` view (window 1 day), re-derived in linear time.
#
# A statement (timeline row) on day d conflicts with the statements of day D (d-1, d, d+1)
# that are independent of it exactly when the most extreme independent bound of day D
# excludes it. "Independent" is the view's test: a different source, or the same source
# with two different named attributions. So per (group, day) it is enough to know the
# two sources with the highest lower bound (the best one may be the statement's own source)
# and, within each source, the two attributions with the highest lower bound; likewise for
# the lowest upper bound. Bounds are compared as (value, open) so that an open bound wins a
# tie: "more than 40000" excludes 40000, "at least 40000" does not.
#
# The view assigns each conflicting pair to the group of its earlier day; a cumulative toll
# that is lower on the later day (lo earlier than hi) is no conflict. For group g = day d:
#   s on d:   low end  if it is below day d, or (not cumulative) below day d+1;
#             high end if it is above day d or above day d+1;
#   s on d+1: low end  if it is below day d;  high end if (not cumulative) above day d.

# the names behind a group key (``gk``), from ``{names_groups}``
_GROUP_NAMES = """
    SELECT DISTINCT hash(metric, COALESCE(subgroup, ''), kind, planned) AS gk, metric, subgroup,
           COALESCE(subgroup, '') AS subgroup_key, kind, planned
    FROM {names_groups}
"""


def _ends_sql() -> str:
    """The WITH clause defining ``voice_ends`` (the ends of the comment above, per voice-day) and the names."""
    days = {"prev": -1, "same": 0, "next": 1}
    fields = ("k1", "v1", "o1", "v2", "o2")  # the best key, its bound and openness; the second's

    def best(side: str, key: str) -> str:
        """Per group: the top two (key, bound, open) of ``side`` as one struct of ``fields``."""
        if side == "lo":  # highest lower bound; at a tie the open one excludes more
            top = (f"arg_max(struct_pack(k := {key}, v := lo_v, o := lo_o), struct_pack(v := lo_v, o := lo_o), 2) "
                   "FILTER (WHERE lo_v IS NOT NULL)")
        else:  # lowest upper bound; at a tie the open one
            top = (f"arg_min(struct_pack(k := {key}, v := hi_v, o := hi_o), struct_pack(v := hi_v, c := NOT hi_o), 2) "
                   "FILTER (WHERE hi_v IS NOT NULL)")
        return top

    def flat(col: str) -> str:
        return (f"struct_pack(k1 := {col}[1].k, v1 := {col}[1].v, o1 := {col}[1].o, "
                f"v2 := {col}[2].v, o2 := {col}[2].o)")

    def around(partition: str, cols: tuple[str, ...]) -> str:
        out = []
        for c in cols:
            out.append(f"{c} AS {c}_same")
            out.append(f"CASE WHEN lag(day) OVER w = day - 1 THEN lag({c}) OVER w END AS {c}_prev")
            out.append(f"CASE WHEN lead(day) OVER w = day + 1 THEN lead({c}) OVER w END AS {c}_next")
        return ", ".join(out) + f" FROM {{src}} WINDOW w AS (PARTITION BY {partition} ORDER BY day)"

    probes = []
    for d in days:
        for side, bound in (("lo", "v"), ("hi", "v")):
            # another source's best bound: the best unless it is the statement's own source
            sd = f"sd.{side}_{d}"
            probes.append(f"CASE WHEN {sd}.k1 IS DISTINCT FROM s.sk THEN {sd}.v1 ELSE {sd}.v2 END AS ds_{d}_{side}_v")
            probes.append(f"CASE WHEN {sd}.k1 IS DISTINCT FROM s.sk THEN {sd}.o1 ELSE {sd}.o2 END AS ds_{d}_{side}_o")
            # another attribution of the statement's own source (attributed statements only)
            ad = f"ad.{side}_{d}"
            probes.append(f"CASE WHEN s.unattributed THEN NULL WHEN {ad}.k1 <> s.ak THEN {ad}.v1 "
                          f"ELSE {ad}.v2 END AS da_{d}_{side}_v")
            probes.append(f"CASE WHEN s.unattributed THEN NULL WHEN {ad}.k1 <> s.ak THEN {ad}.o1 "
                          f"ELSE {ad}.o2 END AS da_{d}_{side}_o")
    # per voice-day, the most extreme independent bound of each day, from another source or
    # another attribution (the greater lower bound, the lesser upper bound; at a tie the open
    # one): a statement below the greater of two bounds is below one of them
    thresholds = []
    for d in days:
        for side, cmp, pick in (("lo", ">", "greatest"), ("hi", "<", "least")):
            ds_v, ds_o, da_v, da_o = (f"{x}_{d}_{side}_{y}" for x in ("ds", "da") for y in ("v", "o"))
            thresholds.append(f"{pick}({ds_v}, {da_v}) AS {side}_{d}_v")
            thresholds.append(f"CASE WHEN {ds_v} IS NULL OR {da_v} {cmp} {ds_v} THEN {da_o} "
                              f"WHEN {da_v} IS NULL OR {ds_v} {cmp} {da_v} THEN {ds_o} "
                              f"ELSE {ds_o} OR {da_o} END AS {side}_{d}_o")
    flags = []
    for d in days:
        flags.append(f"COALESCE(s.value_high < t.lo_{d}_v OR (s.value_high = t.lo_{d}_v AND (s.high_open OR t.lo_{d}_o)), "
                     f"FALSE) AS below_{d}")
        flags.append(f"COALESCE(s.value_low > t.hi_{d}_v OR (s.value_low = t.hi_{d}_v AND (s.low_open OR t.hi_{d}_o)), "
                     f"FALSE) AS above_{d}")
    sep = ",\n        "
    probe_cols, flag_cols = sep.join(probes), sep.join(flags)
    threshold_cols = sep.join(thresholds)
    source_days = around("gk", ("lo", "hi")).format(src="day_sources")
    attr_days = around("gk, sk", ("lo", "hi")).format(src="day_attrs")
    return f"""
WITH statements AS MATERIALIZED (
    -- grouped by the integer keys of facts (gk: metric, subgroup, kind, planned; sk: source;
    -- ak: attribution), which stand for those columns: names are looked up at the end
    {{statements}}
),
-- per voice-day (the statements of one source and attribution on one day) and per source
-- and day: the most extreme bounds
voice_days AS MATERIALIZED (
    SELECT gk, day, sk, ak, unattributed,
           max(struct_pack(v := value_low, o := low_open)) FILTER (WHERE value_low IS NOT NULL) AS lo,
           min(struct_pack(v := value_high, c := NOT high_open)) FILTER (WHERE value_high IS NOT NULL) AS hi
    FROM statements GROUP BY ALL
),
by_source AS (
    SELECT gk, day, sk, lo.v AS lo_v, lo.o AS lo_o, hi.v AS hi_v, NOT hi.c AS hi_o
    FROM (SELECT gk, day, sk, max(lo) AS lo, min(hi) AS hi FROM voice_days GROUP BY ALL)
),
by_attr AS (
    SELECT gk, day, sk, ak, lo.v AS lo_v, lo.o AS lo_o, hi.v AS hi_v, NOT hi.c AS hi_o
    FROM voice_days WHERE NOT unattributed
),
-- per day: the two sources with the highest lower bound and the two with the lowest upper
-- bound; per day and source, the same for its attributions
day_sources AS (
    SELECT gk, day, {flat("lo")} AS lo, {flat("hi")} AS hi
    FROM (SELECT gk, day, {best("lo", "sk")} AS lo, {best("hi", "sk")} AS hi FROM by_source GROUP BY gk, day)
),
day_attrs AS (
    SELECT gk, day, sk, {flat("lo")} AS lo, {flat("hi")} AS hi
    FROM (SELECT gk, day, sk, {best("lo", "ak")} AS lo, {best("hi", "ak")} AS hi FROM by_attr GROUP BY gk, day, sk)
),
-- each day beside the day before and the day after (when those have statements)
source_days AS (SELECT gk, day, {source_days}),
attr_days AS (SELECT gk, day, sk, {attr_days}),
-- for every voice-day and each of the days d-1 (prev), d (same), d+1 (next): the most extreme bound of an independent
-- statement, from another source (ds_) or from another attribution of its own source (da_);
-- then, for each statement, whether it lies wholly below or above it
probes AS (
    SELECT s.*,
        {probe_cols}
    FROM voice_days AS s
    LEFT JOIN source_days AS sd ON sd.gk = s.gk AND sd.day = s.day
    LEFT JOIN attr_days AS ad ON ad.gk = s.gk AND ad.day = s.day AND ad.sk = s.sk
),
thresholds AS MATERIALIZED (
    SELECT gk, day, sk, ak, unattributed,
        {threshold_cols}
    FROM probes
),
flagged AS (
    SELECT s.gk, s.sk, s.ak, s.day, s.value, s.value_low, s.value_high, s.qualifier, s.cumulative,
        {flag_cols}
    FROM statements AS s
    JOIN thresholds AS t ON t.gk = s.gk AND t.day = s.day AND t.sk = s.sk AND t.ak = s.ak
                        AND t.unattributed = s.unattributed
),
voice_ends AS (
    SELECT gk, day, sk, ak,
           min(value) FILTER (WHERE first_end) AS first_min, max(value) FILTER (WHERE first_end) AS first_max,
           max(CASE WHEN (NOT cumulative AND below_next) OR above_next THEN day + 1 ELSE day END)
               FILTER (WHERE first_end) AS first_last,
           min(value) FILTER (WHERE later_end) AS later_min, max(value) FILTER (WHERE later_end) AS later_max
    FROM (SELECT *, below_same OR (NOT cumulative AND below_next) OR above_same OR above_next AS first_end,
                 below_prev OR (NOT cumulative AND above_prev) AS later_end
          FROM flagged)
    WHERE first_end OR later_end
    GROUP BY gk, day, sk, ak
),
-- the names behind the integer keys: from the count tables when they exist (a few thousand
-- rows), else from the filtered claims
group_names AS ({_GROUP_NAMES}),
voices AS (
    SELECT v.sk, v.ak, s.source || COALESCE(' / ' || a.attributed_to, '') AS voice
    FROM (SELECT DISTINCT sk, ak FROM voice_days) AS v
    JOIN (SELECT DISTINCT hash(source) AS sk, source FROM {{names_sources}}) AS s USING (sk)
    JOIN (SELECT DISTINCT hash(attributed_to) AS ak, attributed_to FROM {{names_attributions}}) AS a USING (ak)
)
"""


_ENDS = _ends_sql()
_STATEMENT_COLUMNS = """SELECT c.gk, c.sk, c.ak, c.as_of AS day, c.value, c.value_low, c.value_high, c.qualifier,
           c.qualifier = 'more_than' AS low_open, c.qualifier = 'less_than' AS high_open"""


def _ends(con: duckdb.DuckDBPyConnection, where: str) -> str:
    """``_ENDS`` for the claims ``where`` keeps (``create_conflict_tables``). Statements come from
    ``statement_rows`` once it exists, else from facts; keys are named from the key tables once
    those exist, else from the filtered claims."""
    if _has_table(con, STATEMENT_TABLE):
        # already distinct but for the publisher: a statement of several publishers repeats, which
        # changes nothing (every result is a minimum, a maximum or a distinct list), so no grouping
        statements = f"{_STATEMENT_COLUMNS}, c.kind = 'cumulative' AS cumulative, c.attributed_to IS NULL AS unattributed " \
                     f"FROM {STATEMENT_TABLE} AS c WHERE {where}"
    else:
        statements = f"""{_STATEMENT_COLUMNS}, bool_or(c.kind = 'cumulative') AS cumulative,
           bool_and(c.attributed_to IS NULL) AS unattributed
    FROM facts AS c WHERE {where}
    GROUP BY c.gk, c.sk, c.ak, c.as_of, c.value, c.value_low, c.value_high, c.qualifier"""
    return _ENDS.format(statements=statements, **_name_tables(con, where))


def _name_tables(con: duckdb.DuckDBPyConnection, where: str, tables: set[str] | None = None) -> dict[str, str]:
    """Where the names behind the keys are read: the key tables once they exist, else the claims
    ``where`` keeps (every key of those claims is named there). ``tables``: ``_tables(con)``."""
    if KEY_TABLES["attributed_to"] in (_tables(con) if tables is None else tables):
        return {"names_groups": KEY_TABLES["group"], "names_sources": KEY_TABLES["source"],
                "names_attributions": KEY_TABLES["attributed_to"]}
    claims = f"(SELECT * FROM facts AS c WHERE {where})"
    return {"names_groups": claims, "names_sources": claims, "names_attributions": claims}


# A disagreement row from its group (gk, first_day, last_day, n_sources, min_value, max_value,
# sources) and the group's names (``group_names``)
_NAMED = """
SELECT md5(concat_ws('|', n.metric, n.subgroup_key, n.kind, n.planned, g.first_day))[:16] AS conflict_id,
       n.metric, n.subgroup, n.kind, n.planned, g.first_day, g.last_day, g.n_sources, g.min_value,
       g.max_value, (g.max_value - g.min_value) / NULLIF(g.max_value, 0) AS relative_spread, g.sources
FROM {groups} AS g
JOIN group_names AS n USING (gk)
"""

_GROUPS = _NAMED.format(groups="""(
    -- per group and voice (source, with the attribution when there is one) first, so that
    -- ``ends`` is read once; voices are named once per distinct source and attribution
    SELECT gk, first_day, max(last_day) AS last_day, min(min_value) AS min_value, max(max_value) AS max_value,
           count(DISTINCT voice) AS n_sources, list_sort(list(DISTINCT voice) FILTER (WHERE voice IS NOT NULL)) AS sources
    FROM (SELECT gk, first_day, sk, ak, max(last_day) AS last_day, min(min_value) AS min_value,
                 max(max_value) AS max_value
          FROM (
              -- ``ends`` (is_low OR is_high) folded per voice-day in one pass over the statements:
              -- as the earlier day of its own group (first_), as the later day of the group of
              -- the day before (later_)
              SELECT gk, day AS first_day, sk, ak, first_last AS last_day, first_min AS min_value,
                     first_max AS max_value
              FROM voice_ends WHERE first_min IS NOT NULL
              UNION ALL
              SELECT gk, day - 1, sk, ak, day, later_min, later_max FROM voice_ends WHERE later_min IS NOT NULL)
          GROUP BY gk, first_day, sk, ak) AS p
    LEFT JOIN voices USING (sk, ak)
    GROUP BY gk, first_day
    HAVING count(voice) > 0)""")


# ---- live disagreements: the same derivation over the filtered statements, in numpy ------------
#
# A filter on publishers, attributed sources, qualifiers or text changes which statements exist,
# so their groups are derived again at each query. Those statements are few (for one metric and
# three publishers, ~75,000 of 7.7 million at 10 million claims) and the SQL above spent its time
# planning (~100 ms) and in the fixed costs of its dozen steps, not in the rows. Here one scan
# reads them, numpy sorts them, and each step is a reduction over runs of the sorted rows (voice-
# days, source-days, days): the same derivation as ``_ENDS`` and ``_GROUPS``, step for step (the
# drill-down, ``disagreement_claims``, uses the same steps for one group's sides). DuckDB then names
# the groups (``_NAMED``), filters and orders them. One metric and kind at a time: a group never
# spans two, and the arrays of all claims at once (before the snapshot's tables exist) would not
# fit beside the snapshot.

_LIVE_COLUMNS = ("gk", "sk", "ak", "day", "value", "low", "high", "low_open", "high_open", "attributed")
_LIVE_GROUPS = pa.schema([("gk", pa.uint64()), ("first_day", pa.date32()), ("last_day", pa.date32()),
                          ("n_sources", pa.int64()), ("min_value", pa.float64()), ("max_value", pa.float64()),
                          ("sources", pa.list_(pa.string()))])


@dataclass
class _Rows:
    """Statements of one metric and kind (``cumulative``: a toll that only grows), ordered by
    group (gk), day, source (sk) and attribution (ak); a bound that is NULL (unbounded) is NaN.
    Days are days since 1970-01-01."""

    gk: np.ndarray
    sk: np.ndarray
    ak: np.ndarray
    day: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    low_open: np.ndarray
    high_open: np.ndarray
    attributed: np.ndarray
    cumulative: bool
    claim_id: np.ndarray | None = None  # when read from facts for a drill-down


def _live_rows(con: duckdb.DuckDBPyConnection, table: str, where: str, params: dict[str, Any],
               cumulative: bool, claim_ids: bool = False) -> _Rows:
    """The statements of ``table`` (``statement_rows`` or ``facts``) that ``where`` keeps, in
    order (sorted here: numpy's sort of a few columns took a third of DuckDB's ORDER BY);
    ``claim_ids``: facts' claims, each with its id."""
    got = con.sql(f"""
        SELECT {'c.claim_id, ' if claim_ids else ''}c.gk, c.sk, c.ak, CAST(c.as_of - DATE '1970-01-01' AS INTEGER) AS day, c.value,
               c.value_low AS low, c.value_high AS high,
               c.qualifier = 'more_than' AS low_open, c.qualifier = 'less_than' AS high_open,
               c.attributed_to IS NOT NULL AS attributed
        FROM {table} AS c WHERE {where}""", params=params).to_arrow_table()  # (fetchnumpy: ~20% slower)
    cols = {k: got.column(k).to_numpy(zero_copy_only=False)  # a NULL bound becomes NaN
            for k in (*_LIVE_COLUMNS, *(("claim_id",) if claim_ids else ()))}
    order = np.lexsort((cols["ak"], cols["sk"], cols["day"], cols["gk"]))
    return _Rows(**{k: v[order] for k, v in cols.items()}, cumulative=cumulative)


def _runs(new: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each run, run of each row) given where runs start (``new``)."""
    return np.flatnonzero(new), np.cumsum(new, dtype=np.int32) - 1  # int32: ~10x faster than from bool to int64


@dataclass
class _Nest:
    """Runs of the ordered statements: voice-days (gk, day, sk, ak), source-days (gk, day, sk)
    and days (gk, day), each level indexed over the one below (first_: where each run starts,
    of_: the run of each element below)."""

    first_voice: np.ndarray   # over statements
    voice_of: np.ndarray
    first_source: np.ndarray  # over voice-days
    source_of: np.ndarray
    first_day: np.ndarray     # over source-days
    day_of: np.ndarray


def _nest(r: _Rows) -> _Nest:
    new_day = np.ones(len(r.gk), dtype=bool)
    new_day[1:] = (r.gk[1:] != r.gk[:-1]) | (r.day[1:] != r.day[:-1])
    new_source = new_day.copy()
    new_source[1:] |= r.sk[1:] != r.sk[:-1]
    new_voice = new_source.copy()
    new_voice[1:] |= r.ak[1:] != r.ak[:-1]
    first_voice, voice_of = _runs(new_voice)
    first_source, source_of = _runs(new_source[first_voice])
    first_day, day_of = _runs(new_day[first_voice][first_source])
    return _Nest(first_voice, voice_of, first_source, source_of, first_day, day_of)


Bound = tuple[np.ndarray, np.ndarray]  # (value, NaN: none; open)


def _extreme(bound: Bound, starts: np.ndarray, run: np.ndarray, highest: bool) -> Bound:
    """Per run: the highest (or lowest) bound and whether it is open (at a tie, an open bound
    excludes more: the view compares (value, open) structs)."""
    v, is_open = bound
    best = (np.fmax if highest else np.fmin).reduceat(v, starts)
    return best, np.logical_or.reduceat(is_open & (v == best[run]), starts)


@dataclass
class _TopTwo:
    """Per run: the key (source or attribution) with the most extreme bound, that bound, and the
    next key's bound (NaN: none)."""

    key: np.ndarray
    v1: np.ndarray
    o1: np.ndarray
    v2: np.ndarray
    o2: np.ndarray


def _top_two(bound: Bound, key: np.ndarray, outer: np.ndarray, highest: bool) -> tuple[np.ndarray, _TopTwo]:
    """(the values of ``outer``, ordered; per value, its two rows with the most extreme bounds)."""
    v, is_open = bound
    order = np.lexsort((~is_open, -v if highest else v, outer))  # NaN last; an open bound first at a tie
    new = np.ones(len(order), dtype=bool)
    new[1:] = outer[order][1:] != outer[order][:-1]
    starts = np.flatnonzero(new)
    second = np.minimum(starts + 1, len(order) - 1)
    has2 = np.append(starts[1:], len(order)) > starts + 1
    first, second = order[starts], order[second]
    top = _TopTwo(key[first], v[first], is_open[first], np.where(has2, v[second], np.nan), has2 & is_open[second])
    return outer[first], top


def _independent(top: _TopTwo, at: np.ndarray, found: np.ndarray, own: np.ndarray) -> Bound:
    """The most extreme bound in run ``at`` (a valid index) of ``top`` from a key other than
    ``own`` (NaN where not ``found``)."""
    if not len(top.key):
        return np.full(len(at), np.nan), np.zeros(len(at), dtype=bool)
    mine = top.key[at] == own
    v = np.where(mine, top.v2[at], top.v1[at])
    return np.where(found, v, np.nan), found & np.where(mine, top.o2[at], top.o1[at])


def _stricter(a: Bound, b: Bound, highest: bool) -> Bound:
    """The more extreme of two bounds (NaN: none); open when the extreme one (either, at a tie) is."""
    v = (np.fmax if highest else np.fmin)(a[0], b[0])
    return v, (a[1] & (a[0] == v)) | (b[1] & (b[0] == v))


def _find(keys: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(position of each of ``q`` in the ordered ``keys``, found there)."""
    if not len(keys):
        return np.zeros(len(q), dtype=np.int64), np.zeros(len(q), dtype=bool)
    pos = np.minimum(np.searchsorted(keys, q), len(keys) - 1)
    return pos, keys[pos] == q


def _neighbours(r: _Rows, n: _Nest) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per voice-day and day offset (-1, 0, 1): (the day run of that day of its group, whether
    the group has statements that day)."""
    at_voice = r.gk[n.first_voice], r.day[n.first_voice]
    day_run = n.day_of[n.source_of]
    first = n.first_voice[n.first_source[n.first_day]]
    d_gk, d_day = r.gk[first], r.day[first]
    out = {}
    for delta in (-1, 0, 1):
        t = np.clip(day_run + delta, 0, len(first) - 1)
        out[delta] = t, (d_gk[t] == at_voice[0]) & (d_day[t] == at_voice[1] + delta)
    return out


def _thresholds(r: _Rows, n: _Nest, near: dict[int, tuple[np.ndarray, np.ndarray]]) -> dict[int, tuple[Bound, Bound]]:
    """Per voice-day and day offset (-1, 0, 1): the greatest lower and least upper bound of the
    statements of that day independent of it (another source, or another attribution of its
    own source when both are attributed): ``voice_days`` .. ``thresholds`` of ``_ENDS``."""
    lo_v = _extreme((r.low, r.low_open), n.first_voice, n.voice_of, True)  # per voice-day
    hi_v = _extreme((r.high, r.high_open), n.first_voice, n.voice_of, False)
    lo_s = _extreme(lo_v, n.first_source, n.source_of, True)  # per source-day
    hi_s = _extreme(hi_v, n.first_source, n.source_of, False)
    v_sk, v_ak = r.sk[n.first_voice], r.ak[n.first_voice]
    s_sk = v_sk[n.first_source]
    _, day_lo = _top_two(lo_s, s_sk, n.day_of, True)  # per day: the two most extreme sources
    _, day_hi = _top_two(hi_s, s_sk, n.day_of, False)
    att = r.attributed[n.first_voice]
    of = n.source_of[att]
    att_sd, att_lo = _top_two((lo_v[0][att], lo_v[1][att]), v_ak[att], of, True)  # per source-day:
    _, att_hi = _top_two((hi_v[0][att], hi_v[1][att]), v_ak[att], of, False)     # its attributions
    # a source-day as one number (day run, source rank): a voice-day's source on another day is
    # found by search among those with attributions
    sk_rank = np.unique(s_sk, return_inverse=True)[1].reshape(-1)
    n_sk = int(sk_rank.max()) + 1
    att_keys = n.day_of[att_sd].astype(np.int64) * n_sk + sk_rank[att_sd]
    own_rank = sk_rank[n.source_of]
    out = {}
    for delta, (t, ok) in near.items():
        pos, found = _find(att_keys, t.astype(np.int64) * n_sk + own_rank)
        found &= ok & att
        lo = _stricter(_independent(day_lo, t, ok, v_sk), _independent(att_lo, pos, found, v_ak), True)
        hi = _stricter(_independent(day_hi, t, ok, v_sk), _independent(att_hi, pos, found, v_ak), False)
        out[delta] = (lo, hi)
    return out


def _past(mine: np.ndarray, mine_open: np.ndarray, bound: Bound, below: bool) -> np.ndarray:
    """Statements whose upper bound lies below a lower bound (``below``; else whose lower bound
    lies above an upper bound): wholly, or at the same number when either side is open."""
    beyond = mine < bound[0] if below else mine > bound[0]
    return beyond | ((mine == bound[0]) & (mine_open | bound[1]))


def _flags(r: _Rows, n: _Nest, near: dict[int, tuple[np.ndarray, np.ndarray]]
           ) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """(below, above) per day offset: the statements wholly below the greatest independent lower
    bound of that day, and wholly above the least upper bound (``flagged`` of ``_ENDS``)."""
    th = _thresholds(r, n, near)
    vd = n.voice_of
    below = {k: _past(r.high, r.high_open, (lo[0][vd], lo[1][vd]), True) for k, (lo, _) in th.items()}
    above = {k: _past(r.low, r.low_open, (hi[0][vd], hi[1][vd]), False) for k, (_, hi) in th.items()}
    return below, above


def _voice_groups(r: _Rows, known: tuple[dict[int, str | None], dict[int, str | None]]) -> pa.Table:
    """The groups (``_LIVE_GROUPS``) of the statements ``r``, their voices named from ``known``
    (``_live_keys``: sources and attributions by key)."""
    n = _nest(r)
    near = _neighbours(r, n)
    below, above = _flags(r, n, near)
    # ``voice_ends``: as the earlier day of its own group (reaching the next day when it
    # conflicts with it), as the later day of the group of the day before
    reach = (below[1] & (not r.cumulative)) | above[1]
    first_end = below[0] | above[0] | reach
    later_end = below[-1] | (above[-1] & (not r.cumulative))
    ends = {"first": _fold(r.value, first_end, n.first_voice), "later": _fold(r.value, later_end, n.first_voice)}
    reaches = np.logical_or.reduceat(reach, n.first_voice)
    voice, names = _voices(r.sk[n.first_voice], r.ak[n.first_voice], known)
    return _group_table(r, n, near[-1], ends, reaches, voice, names)


def _sides(r: _Rows, first: int) -> tuple[np.ndarray, np.ndarray]:
    """(low, high): the statements on each side of the group of day ``first`` (days since
    1970-01-01), ``r`` holding the statements of that day and the next: as the earlier day
    (against the same or the next day), as the later day (against the day before); see the
    comment above ``_ends_sql``."""
    if not len(r.gk):
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    n = _nest(r)
    below, above = _flags(r, n, _neighbours(r, n))
    on_first, on_next = r.day == first, r.day == first + 1
    low = (on_first & (below[0] | (below[1] & (not r.cumulative)))) | (on_next & below[-1])
    high = (on_first & (above[0] | above[1])) | (on_next & above[-1] & (not r.cumulative))
    return low, high


def _fold(value: np.ndarray, end: np.ndarray, starts: np.ndarray) -> Bound:
    """Per voice-day: (lowest, highest) value of its statements that are ``end`` (NaN: none)."""
    v = np.where(end, value, np.nan)
    return np.fmin.reduceat(v, starts), np.fmax.reduceat(v, starts)


def _group_table(r: _Rows, n: _Nest, prev: tuple[np.ndarray, np.ndarray], ends: dict[str, Bound],
                 reaches: np.ndarray, voice: np.ndarray, names: list[str]) -> pa.Table:
    """Per group (gk, first day): last day, lowest and highest figure and the distinct named
    voices, from its voice-days (``ends["first"]``) and those of the next day (``ends["later"]``,
    whose group is the day run before, ``prev``); groups with no named voice are left out (the
    view's HAVING)."""
    first_day = n.first_voice[n.first_source[n.first_day]]
    n_days = len(first_day)
    voice_starts = n.first_source[n.first_day]  # first voice-day of each day run
    lo = np.fmin.reduceat(ends["first"][0], voice_starts)
    hi = np.fmax.reduceat(ends["first"][1], voice_starts)
    reach = np.logical_or.reduceat(reaches & ~np.isnan(ends["first"][0]), voice_starts)
    # the next day's ends, moved to the group of the day before
    later_lo = np.fmin.reduceat(ends["later"][0], voice_starts)
    later_hi = np.fmax.reduceat(ends["later"][1], voice_starts)
    has_later = ~np.isnan(later_lo)
    to = prev[0][n.first_source[n.first_day]][has_later]  # the day run before each (it exists: an end needs it)
    lo[to] = np.fmin(lo[to], later_lo[has_later])
    hi[to] = np.fmax(hi[to], later_hi[has_later])
    reach[to] = True  # the group's last day is the next one
    # distinct named voices per group: (group, voice rank) pairs, ordered
    day_run = n.day_of[n.source_of]
    a = ~np.isnan(ends["first"][0]) & (voice >= 0)
    b = ~np.isnan(ends["later"][0]) & (voice >= 0)
    groups_b = prev[0][b]
    n_voices = max(len(names), 1)
    pairs = np.sort(np.concatenate([day_run[a].astype(np.int64) * n_voices + voice[a],
                                    groups_b.astype(np.int64) * n_voices + voice[b]]))
    first = np.ones(len(pairs), dtype=bool)
    first[1:] = pairs[1:] != pairs[:-1]
    pairs = pairs[first]  # (np.unique hashes: several times slower)
    count = np.bincount(pairs // n_voices, minlength=n_days)
    keep = count > 0
    offsets = np.append(0, np.cumsum(count[keep])).astype(np.int32)
    sources = pa.ListArray.from_arrays(pa.array(offsets), pa.array(names, pa.string()).take(pa.array(pairs % n_voices)))
    day = r.day[first_day][keep].astype(np.int32)
    return pa.table([pa.array(r.gk[first_day][keep], pa.uint64()), pa.array(day, pa.date32()),
                     pa.array(day + reach[keep], pa.date32()), pa.array(count[keep].astype(np.int64)),
                     pa.array(lo[keep]), pa.array(hi[keep]), sources], schema=_LIVE_GROUPS)


@dataclass
class _LiveKeys:
    """What a live computation needs beside the statements: where the names behind the keys are
    read (``_name_tables``, with the parameters they need), the sources and attributions by key,
    and the (metric, kind) pairs the filters can keep."""

    names: dict[str, str]
    params: dict[str, Any]
    sources: dict[int, str | None]
    attributions: dict[int, str | None]
    parts: list[tuple[str, str]]


def _live_keys(con: duckdb.DuckDBPyConnection, f: Filters, w: Where, tables: set[str]) -> _LiveKeys:
    """``_LiveKeys`` in one query (any query costs a few milliseconds, however small)."""
    names = _name_tables(con, w.sql, tables)
    params = {} if names["names_groups"] == KEY_TABLES["group"] else dict(w.params)
    cond = []
    for col, value in (("metric", f.metric), ("kind", f.kind)):
        if value is not None:
            cond.append(f"{col} = $part_{col}")
            params[f"part_{col}"] = value
    rows = con.execute(f"""
        SELECT 0, hash(source), source, NULL FROM (SELECT DISTINCT source FROM {names['names_sources']})
        UNION ALL
        SELECT 1, hash(attributed_to), attributed_to, NULL
        FROM (SELECT DISTINCT attributed_to FROM {names['names_attributions']})
        UNION ALL
        SELECT DISTINCT 2, NULL, metric, kind FROM {names['names_groups']} WHERE {' AND '.join(cond) or 'TRUE'}""",
                       params).fetchall()
    return _LiveKeys(names, {k: v for k, v in params.items() if not k.startswith("part_")},
                     {k: v for t, k, v, _ in rows if t == 0}, {k: v for t, k, v, _ in rows if t == 1},
                     sorted((m, kind) for t, _, m, kind in rows if t == 2))


def _voices(sk: np.ndarray, ak: np.ndarray, known: tuple[dict[int, str | None], dict[int, str | None]]
            ) -> tuple[np.ndarray, list[str]]:
    """Per voice-day, the rank of its voice ("source / attribution", or the source alone) among
    the sorted names (-1: unnamed), and the names (VARCHAR order is code point order)."""
    sks, sk_rank = np.unique(sk, return_inverse=True)
    aks, ak_rank = np.unique(ak, return_inverse=True)
    codes, inverse = np.unique(sk_rank.reshape(-1) * len(aks) + ak_rank.reshape(-1), return_inverse=True)
    pairs = zip(sks[codes // len(aks)].tolist(), aks[codes % len(aks)].tolist())
    sources, attributions = known
    voice: list[str | None] = []
    for s, a in pairs:  # as the SQL's inner joins and ||: no name when either is missing
        src = sources.get(s)
        voice.append(None if src is None or a not in attributions
                     else src + ("" if attributions[a] is None else " / " + str(attributions[a])))
    names = sorted({v for v in voice if v is not None})
    rank = {v: k for k, v in enumerate(names)}
    ranks = np.array([rank.get(v, -1) if v is not None else -1 for v in voice], dtype=np.int64)
    return ranks[inverse.reshape(-1)], names


def _live_disagreements(con: duckdb.DuckDBPyConnection, f: Filters, tail: str, params: dict[str, Any],
                        shown: str) -> pd.DataFrame:
    """``disagreements`` computed from the claims ``f`` keeps (see the comment above)."""
    w = _live_where(f)
    g = _group_where(f)
    tables = _tables(con)
    table = STATEMENT_TABLE if STATEMENT_TABLE in tables and not f.search.strip() else "facts"
    keys = _live_keys(con, f, w, tables)
    parts = []
    for metric, kind in keys.parts:
        r = _live_rows(con, table, f"{w.sql} AND c.metric = $part_metric AND c.kind = $part_kind",
                       {**w.params, "part_metric": metric, "part_kind": kind}, kind == "cumulative")
        if len(r.gk):
            parts.append(_voice_groups(r, (keys.sources, keys.attributions)))
    groups = pa.concat_tables(parts) if parts else _LIVE_GROUPS.empty_table()
    con.register("live_groups", groups)
    try:
        return _df(con, f"""WITH group_names AS ({_GROUP_NAMES.format(**keys.names)})
            SELECT * REPLACE (sources{shown} AS sources) FROM ({_NAMED.format(groups='live_groups')}) AS g
            WHERE {g.sql}{tail}""", {**params, **g.params, **keys.params})
    finally:
        con.unregister("live_groups")


def _claim_level(f: Filters) -> bool:
    """True when ``f`` keeps some claims of a statement and not others (publishers, attributed
    sources, qualifiers, text): the precomputed disagreements do not apply."""
    return bool(f.publishers or f.sources or f.qualifiers or f.search.strip())


def _group_where(f: Filters, alias: str = "g") -> Where:
    """Conditions on the group columns (metric, subgroup, kind, planned) and on first_day.

    A group of day d depends on the claims of days d and d+1 only, so keeping the groups
    whose first day lies in [from, to] is exact.
    """
    parts, p = [], {}
    if f.metric is not None:
        parts.append(f"{alias}.metric = $metric")
        p["metric"] = f.metric
    if f.subgroup == TOTAL:
        parts.append(f"{alias}.subgroup IS NULL")
    elif f.subgroup != ALL:
        parts.append(f"{alias}.subgroup = $subgroup")
        p["subgroup"] = f.subgroup
    if f.kind is not None:
        parts.append(f"{alias}.kind = $kind")
        p["kind"] = f.kind
    if not f.include_planned:
        parts.append(f"NOT {alias}.planned")
    if f.date_from is not None:
        parts.append(f"{alias}.first_day >= $g0")  # not $d0: live queries bind both
        p["g0"] = f.date_from
    if f.date_to is not None:
        parts.append(f"{alias}.first_day <= $g1")
        p["g1"] = f.date_to
    return Where(" AND ".join(parts) if parts else "TRUE", p)


def _live_where(f: Filters) -> Where:
    """The claims a live computation needs: the filtered ones, up to the day after ``date_to``."""
    widened = Filters(**{**f.__dict__, "date_to": None if f.date_to is None else f.date_to + timedelta(days=1)})
    return where_clause(widened, dated_only=True)


_ORDER = " ORDER BY relative_spread DESC NULLS LAST, n_sources DESC, first_day DESC, conflict_id"


SOURCES_SHOWN = 20  # voices listed per disagreement unless asked for all


def disagreements(con: duckdb.DuckDBPyConnection, f: Filters, limit: int | None = 500,
                  sources: int | None = SOURCES_SHOWN) -> pd.DataFrame:
    """Conflicting figures of independent sources within a day of each other, most severe first.

    The rows of the store's ``disagreements`` view for the filtered claims, without the claim
    id lists (``disagreement_claims`` gives them for one row): conflict_id, metric, subgroup,
    kind, planned, first_day, last_day, n_sources, min_value, max_value, relative_spread,
    sources. Filters on metric, subgroup, kind, planned and dates select among the groups the
    snapshot precomputed; the other filters change which statements exist, so the groups are
    computed again from the filtered claims. ``sources``: the first N voices of each row, in
    order (None: all of them); n_sources counts them all. A group can have hundreds, and
    turning hundreds of lists of hundreds of names into Python objects takes longer than the
    query.
    """
    params: dict[str, Any] = {}
    if limit is not None:
        params["limit"] = limit
    tail = _ORDER + (" LIMIT $limit" if limit is not None else "")
    g = _group_where(f)
    shown = "" if sources is None else f"[:{int(sources)}]"
    if not _claim_level(f) and conflicts_ready(con):
        # the voices are stored as JSON text (a list column would be read whole for any row),
        # all of them and the first SOURCES_SHOWN: the shorter is read when it is enough
        col = "sources_shown_json" if sources is not None and sources <= SOURCES_SHOWN else "sources_json"
        return _df(con, f"""
            SELECT * EXCLUDE ({col}), CAST(json({col}) AS VARCHAR[]){shown} AS sources
            FROM (SELECT * EXCLUDE (sources_json, sources_shown_json), {col} FROM conflict_groups AS g
                  WHERE {g.sql}{tail}){_ORDER}""", {**params, **g.params})
    return _live_disagreements(con, f, tail, params, shown)


def disagreement_claims(con: duckdb.DuckDBPyConnection, f: Filters, row: dict[str, Any],
                        per_side: int | None = 50) -> pd.DataFrame:
    """The claims on each side of one disagreement (a row of ``disagreements``).

    Returns the claims (``CLAIM_COLUMNS`` and offsets) with ``side``: 'low' or 'high' (a
    claim can be on both sides, against different statements), lowest value first; at most
    ``per_side`` of each side (None: all), and ``n_side``, how many that side has in all.
    """
    first = row["first_day"]
    first = first.date() if isinstance(first, datetime) else first
    sub = row["subgroup"]
    sub = None if sub is None or (isinstance(sub, float) and pd.isna(sub)) else str(sub)  # pandas: NaN for NULL
    group = Filters(metric=row["metric"], subgroup=TOTAL if sub is None else sub, kind=row["kind"])
    params: dict[str, Any] = {"first": first, "planned": bool(row["planned"])}
    # Only the group's two days matter: a group of day d depends on nothing else.
    narrowed = Filters(**{**f.__dict__, "metric": group.metric, "subgroup": group.subgroup,
                          "kind": group.kind, "date_from": None, "date_to": None})
    w = where_clause(narrowed if _claim_level(f) else group, dated_only=True)
    claims_where = f"{w.sql} AND c.planned = $planned AND c.as_of BETWEEN $first AND $first + 1"
    params.update(w.params)
    # computed from those two days' claims (facts is ordered by day: a few row groups), never
    # from a table of every conflict's ends: that would be larger than the claims
    r = _live_rows(con, "facts", claims_where, params, row["kind"] == "cumulative", claim_ids=True)
    low, high = _sides(r, (first - date(1970, 1, 1)).days)
    assert r.claim_id is not None
    sides = pa.table({"claim_id": pa.array(np.concatenate([r.claim_id[low], r.claim_id[high]]), pa.string()),
                      "side": pa.array(["low"] * int(low.sum()) + ["high"] * int(high.sum()), pa.string())})
    cap = "" if per_side is None else "WHERE k <= $per_side"
    if per_side is not None:
        params["per_side"] = per_side
    con.register("disagreement_sides", sides)
    try:
        return _df(con, f"""
            WITH matched AS (
                SELECT e.side, {CLAIM_COLUMNS}, c.number_start, c.number_end, c.span_start, c.span_end,
                       row_number() OVER (PARTITION BY e.side ORDER BY c.value, c.as_of, c.claim_id) AS k,
                       count(*) OVER (PARTITION BY e.side) AS n_side
                FROM disagreement_sides AS e JOIN facts AS c ON c.claim_id = e.claim_id
                WHERE {claims_where}
            )
            SELECT * EXCLUDE (k) FROM matched {cap}
            ORDER BY value, side, as_of, claim_id""", params)
    finally:
        con.unregister("disagreement_sides")


# ---- claims ---------------------------------------------------------------------------------

CLAIM_COLUMNS = """c.claim_id, c.as_of, c.metric, c.subgroup, c.kind, c.planned, c.value, c.value_low,
    c.value_high, c.qualifier, c.attributed_to, c.publisher, c.source, c.published_at, c.title, c.url,
    c.quote, c.sentence, c.rule_id, c.rule_version, c.article_id"""


def count_claims(con: duckdb.DuckDBPyConnection, f: Filters) -> int:
    """How many claims the filters keep."""
    w = where_clause(f)
    table, n = _counts(con, "attributed_to" if f.sources else "publisher", f)
    row = _first(con.execute(f"SELECT {n} FROM {table} AS c WHERE {w.sql}", w.params).fetchall())
    return int(row[0] or 0) if row else 0


def _days_back(con: duckdb.DuckDBPyConnection, f: Filters) -> list[tuple[date, int]] | None:
    """(day, claims) latest day first, for ``f`` without its claim-level filters (qualifiers,
    attributed sources, text): so at least as many claims as ``f`` keeps on each day. Read
    from a count table; None before those exist."""
    relaxed = Filters(**{**f.__dict__, "sources": (), "qualifiers": (), "search": ""})
    table, n = _counts(con, "publisher", relaxed)
    if table == "facts":
        return None
    w = where_clause(relaxed, dated_only=True)
    return [(d, int(k)) for d, k in con.execute(
        f"SELECT c.as_of, {n} FROM {table} AS c WHERE {w.sql} GROUP BY 1 ORDER BY 1 DESC", w.params).fetchall()]


def _since(days: list[tuple[date, int]], claims: int) -> date | None:
    """The latest day back to which ``days`` hold at least ``claims`` claims (None: never)."""
    acc = 0
    for day, n in days:
        acc += n
        if acc >= claims:
            return day
    return None


def claims_page(con: duckdb.DuckDBPyConnection, f: Filters, limit: int = 200, offset: int = 0) -> pd.DataFrame:
    """The filtered claims, latest first, one page.

    The page is looked for among the latest days first: the days that hold enough claims by
    the count tables (four times as many when claim-level filters will drop some), so the
    scan of ``facts`` (ordered by day) stops at those days' row groups; should they hold less
    than the page, more days are taken, at last all (the undated come last).
    """
    w = where_clause(f)
    sql = f"""
        SELECT {CLAIM_COLUMNS} FROM facts AS c WHERE {w.sql}{{since}}
        ORDER BY c.as_of DESC NULLS LAST, c.published_at DESC NULLS LAST, c.claim_id
        LIMIT $limit OFFSET $offset"""
    params = {**w.params, "limit": limit, "offset": offset}
    days = _days_back(con, f) if limit > 0 else None
    factor = 4 if (f.sources or f.qualifiers or f.search.strip()) else 1
    while days:
        since = _since(days, factor * (offset + limit))
        if since is None:
            break
        df = _df(con, sql.format(since=" AND c.as_of >= $since"), {**params, "since": since})
        if len(df) == limit:  # a full page: every later-ranked claim is older than these days
            return df
        factor *= 8
    return _df(con, sql.format(since=""), params)


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The tables of the snapshot (one query where several ``_has_table`` would each cost one)."""
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
                                      ).fetchall()}


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = _first(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = $t AND database_name = current_database()",
                      {"t": name}).fetchall())
    return bool(row and row[0])


def _rowids(con: duckdb.DuckDBPyConnection, table: str, column: str, values: Sequence[str]) -> list[int] | None:
    """``facts`` rowids through a lookup table (``claim_ix``, ``article_ix``): ordered by its key,
    so a key's row group is the only one read. None when there is no such table yet."""
    if not _has_table(con, table):
        return None
    values = list(dict.fromkeys(values))
    if not values:
        return []
    marks = ", ".join(f"$v{k}" for k in range(len(values)))
    return [r[0] for r in con.execute(f"SELECT rid FROM {table} WHERE {column} IN ({marks}) ORDER BY rid",
                                      {f"v{k}": v for k, v in enumerate(values)}).fetchall()]


MAX_POINT_LOOKUPS = 64


def _fetch(con: duckdb.DuckDBPyConnection, columns: str, rowids: Sequence[int],
           fallback: Where) -> duckdb.DuckDBPyConnection:
    """``columns`` of the ``facts`` rows at these rowids: a rowid condition reads one vector,
    where any other condition on a claim id scans the table. Many rows: ``fallback``, a scan."""
    if len(rowids) > MAX_POINT_LOOKUPS:
        return con.execute(f"SELECT {columns} FROM facts AS c WHERE {fallback.sql}", fallback.params)
    if not rowids:
        return con.execute(f"SELECT {columns} FROM facts AS c WHERE FALSE")
    return con.execute(" UNION ALL ".join(f"SELECT {columns} FROM facts AS c WHERE c.rowid = $r{k}"
                                          for k in range(len(rowids))),
                       {f"r{k}": int(r) for k, r in enumerate(rowids)})


def _ids_where(claim_ids: Sequence[str]) -> Where:
    ids = list(dict.fromkeys(claim_ids))
    marks = ", ".join(f"$i{k}" for k in range(len(ids))) or "NULL"
    return Where(f"c.claim_id IN ({marks})", {f"i{k}": v for k, v in enumerate(ids)})


def claims_by_id(con: duckdb.DuckDBPyConnection, claim_ids: Sequence[str]) -> pd.DataFrame:
    """These claims, with their articles' publisher, date, title, URL."""
    cols = f"{CLAIM_COLUMNS}, c.number_start, c.number_end, c.span_start, c.span_end"
    w = _ids_where(claim_ids)
    rids = _rowids(con, "claim_ix", "claim_id", claim_ids)
    cur = (con.execute(f"SELECT {cols} FROM facts AS c WHERE {w.sql}", w.params) if rids is None
           else _fetch(con, cols, rids, w))
    df = cur.df()
    return df.sort_values(["value", "as_of", "claim_id"], na_position="last", kind="stable").reset_index(drop=True)


def claim_detail(con: duckdb.DuckDBPyConnection, claim_id: str) -> dict[str, Any] | None:
    """One claim with its provenance and the spans of every claim of its article.

    The article's text is not read here: ``snapshot_article`` (or ``article_text``) reads it.
    """
    cols = (f"{CLAIM_COLUMNS}, c.number_start, c.number_end, c.span_start, c.span_end, "
            "c.parent_claim_id, c.story_id")
    w = _ids_where([claim_id])
    rids = _rowids(con, "claim_ix", "claim_id", [claim_id])
    cur = (con.execute(f"SELECT {cols} FROM facts AS c WHERE {w.sql}", w.params) if rids is None
           else _fetch(con, cols, rids, w))
    row = _first(cur.fetchall())
    if row is None:
        return None
    names = [d[0] for d in cur.description]
    detail = dict(zip(names, row))
    spans = "c.claim_id, c.metric, c.value, c.qualifier, c.subgroup, c.span_start, c.span_end, c.number_start, c.number_end"
    by_article = Where("c.article_id = $a", {"a": detail["article_id"]})
    rids = _rowids(con, "article_ix", "article_id", [detail["article_id"]])
    if rids is None:  # not indexed yet: the copy's claims (fewer columns than facts), else facts
        table = "claims" if _has_table(con, "claims") else "facts"
        others = con.execute(f"SELECT {spans} FROM {table} AS c WHERE {by_article.sql}", by_article.params).df()
    else:
        others = _fetch(con, spans, rids, by_article).df()
    detail["article_claims"] = others.sort_values(["span_start", "claim_id"], kind="stable").reset_index(drop=True)
    return detail


def snapshot_article(snap: Snapshot, article_id: str) -> tuple[str, str | None] | None:
    """(text, published_at_source) of one article as of the snapshot: read from the snapshot's
    copy (the database file stays free for writers), or from the file for an in-memory one."""
    if snap.workdir is None:
        return article_text(snap.path, article_id)
    return _article_row(snap.cursor(), article_id)


def export_table(con: duckdb.DuckDBPyConnection, f: Filters, for_csv: bool = False) -> pa.Table:
    """Every filtered claim with provenance, for download.

    ``for_csv``: text cells a spreadsheet would run as a formula (=, +, -, @ first) get a
    leading apostrophe, since the text comes from untrusted articles.
    """
    w = where_clause(f)
    cols = ["claim_id", "as_of", "metric", "subgroup", "kind", "planned", "value", "value_low",
            "value_high", "qualifier", "attributed_to", "publisher", "source", "published_at", "title",
            "url", "quote", "sentence", "number_start", "number_end", "span_start", "span_end",
            "rule_id", "rule_version", "article_id"]
    text = {"subgroup", "attributed_to", "publisher", "source", "title", "url", "quote", "sentence", "article_id"}
    exprs = []
    for col in cols:
        if for_csv and col in text:
            exprs.append(f"CASE WHEN regexp_matches(c.{col}, '^[=+\\-@\\t\\r]') THEN '''' || c.{col} "
                         f"ELSE c.{col} END AS {col}")
        else:
            exprs.append(f"c.{col}")
    return con.sql(f"""
        SELECT {', '.join(exprs)} FROM facts AS c WHERE {w.sql}
        ORDER BY c.as_of NULLS LAST, c.metric, c.claim_id""", params=w.params).to_arrow_table()
