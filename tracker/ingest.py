"""Ingest and re-extract: read inputs, skip what is stored, extract in worker processes, store in batches.

The main process reads and deduplicates; workers (``workers > 1``) date, extract and sign
chunks of articles into Arrow tables; the main process gathers chunks and commits them in one
transaction every ``CommitPolicy`` (rows or seconds) while the workers extract the next ones.
A transaction is all or nothing, so an ingest killed at any point leaves whole articles with
all their claims, and the next run, which skips what is stored, completes it.
"""

from __future__ import annotations

import json
import multiprocessing
import queue
import signal
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from tracker import __version__, stories, store
from tracker.articles import DEFAULT_MAX_BYTES, ReadError, read_inputs
from tracker.dates import resolve_published_at
from tracker.extract import Extraction
from tracker.models import Article

# A transaction holds at most DEFAULT_BATCH articles or COMMIT_CLAIMS claim rows, and is committed
# at the latest COMMIT_SECONDS after the previous one. Each commit has a fixed cost (open the file,
# look up stored bands, CHECKPOINT, close) that a big transaction shares among many rows, and
# DuckDB writes a table's rows straight to the file, skipping the WAL, only when one transaction
# appends a whole row group (122,880 rows) to it: so when the writer is behind, transactions grow
# to two row groups of claims. The time bound keeps what readers see fresh and what a crash loses
# small; readers get in between commits (the file is closed then).
DEFAULT_BATCH = 32_768
COMMIT_CLAIMS = 250_000
COMMIT_SECONDS = 5.0
READER_GAP = 0.4  # seconds the file stays free between two commits that follow each other
CHUNK = 64  # articles per task a worker prepares: several per commit, so workers keep busy
IN_FLIGHT = 8  # chunks per worker submitted ahead of the writer (the input is read that far ahead)
# The input's last chunks go to the workers in pieces this small: a worker that finishes its last
# full chunk would otherwise idle until the other finishes its own (~0.15 s of 64 articles, of a
# few seconds' run on a small input)
TAIL_CHUNK = 8
READ_CHUNK = 1024  # reextract: stored articles read per query


@dataclass(frozen=True)
class Extractor:
    """What turns an article into claims, and the hash of the rules it applies."""

    extract: Callable[[Article], Extraction]  # the claims, and the rules that timed out
    rules_hash: str


def default_extractor() -> Extractor:
    """The project's rules (``rules/``) applied by ``tracker.extract.extract_article_reporting``."""
    from functools import partial

    from tracker.engine import requires_index
    from tracker.extract import extract_article_reporting
    from tracker.ruleset import load_rules

    rules = load_rules()
    requires_index(rules)  # the rules' word index, built once here: forked workers inherit it
    return Extractor(partial(extract_article_reporting, rules=rules), rules.hash)


@dataclass
class Summary:
    """What a run did. ``replaced``: re-read articles whose content changed (ingest) or
    articles whose claims changed (reextract)."""

    command: str = "ingest"
    new: int = 0
    unchanged: int = 0
    replaced: int = 0
    failed: int = 0
    skipped: int = 0  # reextract: already extracted with the current rules
    claims_added: int = 0
    claims_removed: int = 0
    seconds: float = 0.0
    run_id: int | None = None
    interrupted: bool = False

    @property
    def articles(self) -> int:
        return self.new + self.unchanged + self.replaced + self.failed

    def add(self, counts: Counter[str]) -> None:
        for key in ("new", "unchanged", "replaced", "failed", "claims_added", "claims_removed"):
            setattr(self, key, getattr(self, key) + counts[key])

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        rate = self.articles / self.seconds if self.seconds > 0 else 0.0
        if self.command == "reextract":
            head = (f"articles: {self.replaced} with changed claims, {self.unchanged} unchanged, "
                    f"{self.skipped} already current, {self.failed} failed; "
                    f"claims: {self.claims_added} added, {self.claims_removed} superseded")
        else:
            head = (f"articles: {self.new} new, {self.unchanged} unchanged, {self.replaced} replaced, "
                    f"{self.failed} failed; claims: {self.claims_added}")
        tail = " (interrupted)" if self.interrupted else ""
        return f"{head}; {self.seconds:.1f} s ({rate:.0f} articles/s){tail}"

    def as_json(self) -> str:
        return json.dumps(asdict(self))


def _prepare_into(builder: store.BatchBuilder, article: Article, record_hash: str,
                  extractor: Extractor) -> list[str] | str:
    """Date, extract and sign one article into ``builder``: its warnings, or a located error message."""
    published_at, date_source = resolve_published_at(article.published_at, article.metadata, article.text)
    dated = article if published_at == article.published_at else article.model_copy(update={"published_at": published_at})
    try:
        found = extractor.extract(dated)
    except Exception as exc:  # one article's failure must not stop the others
        return f"{article.source}: extraction failed: {type(exc).__name__}: {exc}"
    rows, warnings = store.claim_tuples(article, found.claims, published_at.date() if published_at else None)
    # the article is stored with the other rules' claims; the user is told which rule's are missing
    warnings = [f"{t.message}; its claims in this article are missing, the other rules' are stored "
                "(`tracker reextract` tries it again)" for t in found.timeouts] + warnings
    row = (article.article_id, article.publisher, article.url, published_at, date_source, article.title,
           article.text, article.content_hash, record_hash, json.dumps(article.metadata, ensure_ascii=False),
           article.source)
    builder.add(row, rows, stories.signature(article.text), incomplete=bool(found.timeouts))
    return [f"{article.source}: warning: {w}" for w in warnings]


@dataclass
class Chunk:
    """A few articles prepared for the store (in a worker or here): their rows as a ``store.Batch``,
    the messages to report in input order, and how many failed."""

    batch: store.Batch
    messages: list[str]
    failed: int
    articles: int  # read into this chunk, failed ones included
    rules_hash: str


def prepare_chunk(jobs: list[tuple[Article, str]], extractor: Extractor) -> Chunk:
    """Date, extract and sign each (article, record hash): rows ready to store, and the errors."""
    builder = store.BatchBuilder()
    messages: list[str] = []
    failed = 0
    for article, digest in jobs:
        out = _prepare_into(builder, article, digest, extractor)
        if isinstance(out, str):
            failed += 1
            messages.append(out)
        else:
            messages.extend(out)
    return Chunk(builder.build(), messages, failed, len(jobs), extractor.rules_hash)


_worker_extractor: Extractor | None = None


def _init_worker(factory: Callable[[], Extractor] | None) -> None:
    global _worker_extractor
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    if factory is not None:  # spawned: nothing inherited
        _worker_extractor = factory()


def _prepare_in_worker(jobs: list[tuple[Article, str]]) -> Chunk:
    assert _worker_extractor is not None
    return prepare_chunk(jobs, _worker_extractor)


def _warm_up() -> None:
    """What every process preparing batches would load on its first chunk, loaded here before the
    fork: building an Arrow array from Python values imports pandas (~0.3 s), which each worker
    and then the writer thread did again."""
    import pyarrow as pa

    pa.array([0])


@contextmanager
def _worker_pool(workers: int, extractor: Callable[[], Extractor], factory: Callable[[], Extractor],
                 before_fork: Callable[[], None] | None = None) -> Iterator[Any]:
    """A pool of ``workers`` processes that prepare articles, or None to prepare them here.

    Forked where the platform allows: the rules are loaded once, here, and the workers inherit
    them (loading them in each worker instead cost as much CPU again, seconds, on a machine whose
    cores the workers need; the compiled rules take ~20 MB). Callers create the pool before they
    open DuckDB or start a progress bar, so no thread of theirs is copied mid-flight;
    ``before_fork`` is called (with a pool) just before the workers start: where a caller joins
    the thread it ran beside the loading of the rules. Elsewhere the workers are spawned and
    build their own extractor from ``factory``.
    """
    global _worker_extractor
    if workers <= 1:
        if before_fork is not None:
            before_fork()
        yield None
        return
    if "fork" in multiprocessing.get_all_start_methods():
        _worker_extractor = extractor()
        _warm_up()
        ctx, initargs = multiprocessing.get_context("fork"), (None,)
    else:
        ctx, initargs = multiprocessing.get_context("spawn"), (factory,)
    if before_fork is not None:
        before_fork()
    with ctx.Pool(workers, initializer=_init_worker, initargs=initargs) as pool:
        yield pool


class _Background:
    """``call(*args)`` in a thread of its own, started at once (no thread without a call);
    ``result()`` waits for its value or raises its error. Leaving the ``with`` block waits for
    it, unless by an exception: a Ctrl-C is not held up by a connect waiting for a lock (the
    thread, a daemon, ends by itself)."""

    def __init__(self, call: Callable[..., Any] | None, *args: Any):
        self.call = call
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if call is not None:
            self._thread = threading.Thread(target=self._run, args=args, name="tracker-background", daemon=True)
            self._thread.start()

    def _run(self, *args: Any) -> None:
        assert self.call is not None
        try:
            self._value = self.call(*args)
        except BaseException as exc:  # noqa: BLE001 - raised by result(), in the caller's thread
            self._error = exc

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join()

    def result(self) -> Any:
        self.join()
        if self._error is not None:
            raise self._error
        return self._value

    def __enter__(self) -> _Background:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.join()


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def _prepared_chunks(jobs: Iterable[tuple[Article, str]], pool: Any, size: int, workers: int,
                     extractor: Callable[[], Extractor]) -> Iterator[Chunk]:
    """Prepared chunks of ``size`` articles in input order. With a pool, up to ``IN_FLIGHT`` chunks
    per worker are being prepared while the caller stores earlier ones, so the workers keep busy
    through a commit; the input is read only that far ahead (bounded memory). The last
    ``workers`` chunks of the input are sent in pieces of ``TAIL_CHUNK`` articles, so the
    workers finish together."""
    if pool is None:
        for chunk in _chunks(jobs, size):
            yield prepare_chunk(chunk, extractor())
        return
    pending: deque[Any] = deque()
    held: deque[list[tuple[Article, str]]] = deque()  # read, not sent: maybe the input's last

    def send(chunk: list[tuple[Article, str]]) -> Iterator[Chunk]:
        pending.append(pool.apply_async(_prepare_in_worker, (chunk,)))
        while pending and (len(pending) >= IN_FLIGHT * workers or pending[0].ready()):
            yield pending.popleft().get()

    for chunk in _chunks(jobs, size):
        held.append(chunk)
        if len(held) > workers:
            yield from send(held.popleft())
    tail = [job for chunk in held for job in chunk]
    for piece in _chunks(tail, min(TAIL_CHUNK, size)):
        yield from send(piece)
    while pending:
        yield pending.popleft().get()


class _Reporter:
    """Errors to stderr, and a progress bar (articles/s) when stdout is a terminal and work is long."""

    def __init__(self, report: Callable[[str], None] | None, show_progress: bool | None):
        show = sys.stdout.isatty() if show_progress is None else show_progress
        self.bar = tqdm(unit=" articles", delay=1.0, disable=not show, file=sys.stderr, smoothing=0.1)
        self.report = report or (lambda msg: self.bar.write(msg, file=sys.stderr))

    def close(self) -> None:
        self.bar.close()


@dataclass(frozen=True)
class CommitPolicy:
    """When the writer commits what it has prepared: at ``articles`` articles, ``claims`` claim
    rows, or ``seconds`` after the previous commit, whichever comes first."""

    articles: int = DEFAULT_BATCH
    claims: int = COMMIT_CLAIMS
    seconds: float = COMMIT_SECONDS


# Held while this process has the database open: the writer thread's commits and reextract's
# reads (one process shares one DuckDB instance per file, and a CHECKPOINT fails while another
# connection of it is inside a query).
_DB_LOCK = threading.Lock()


class _Writer:
    """Commits batches in a thread of its own, one at a time and in order, while the main thread
    keeps reading and feeding the workers (DuckDB releases the GIL while it works): a commit no
    longer leaves the workers idle once the chunks they were given are done.

    The thread owns ``run`` while it lives: the main thread hands over, with each batch, the
    counts it kept (failed and skipped articles) and collects each commit's counts from
    ``done()``. One batch waits while one is written; beyond that ``submit`` blocks. The last
    batch may carry the run's end (``finish``): recorded in its transaction, which saves the
    run's own commit (open, checkpoint, close: ~0.1 s); ``finished`` is then that status.
    """

    def __init__(self, db: str | Path, run: store.Run, save: Callable[..., Counter[str]]):
        self.db, self.run, self.save = db, run, save
        self.error: BaseException | None = None
        self.finished: str | None = None  # the run's end as committed with the last batch
        self._todo: queue.Queue[tuple[store.Batch, Counter[str], str | None] | None] = queue.Queue(maxsize=1)
        self._done: queue.Queue[Counter[str]] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="tracker-writer", daemon=True)
        self._thread.start()

    def submit(self, batch: store.Batch, counts: Counter[str], finish: str | None = None) -> None:
        self._put((batch, counts, finish))

    def done(self) -> list[Counter[str]]:
        """The counts of the commits finished since the last call."""
        out = []
        while True:
            try:
                out.append(self._done.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        """Wait until every batch handed over is committed; raise the error that stopped the thread."""
        if self._thread.is_alive():
            self._put(None, check=False)
            self._thread.join()
        if self.error is not None:
            raise self.error

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _put(self, item: tuple[store.Batch, Counter[str], str | None] | None, check: bool = True) -> None:
        while True:
            if check and self.error is not None:
                raise self.error
            try:
                self._todo.put(item, timeout=0.2)
                return
            except queue.Full:
                pass

    def _loop(self) -> None:
        run = self.run
        while (item := self._todo.get()) is not None:
            batch, counts, finish = item
            if self.error is not None:  # a commit failed: the rest is not stored either
                run.pending.update(counts)
                continue
            snapshot = (run.run_id, Counter(run.pending))
            run.pending.update(counts)
            try:
                with _DB_LOCK, store.writing(self.db, batch_bytes=batch.nbytes) as con:
                    saved = self.save(con, run, batch)
                    if finish is not None and run.run_id is not None:
                        store.end_run(con, run, finish)
                self._done.put(saved)  # counted once committed: a failed commit stores nothing
                if finish is not None and run.run_id is not None:
                    self.finished = finish
            except BaseException as exc:  # noqa: BLE001 - handed to the main thread
                run.run_id, run.pending = snapshot[0], snapshot[1] + counts  # that transaction was rolled back
                self.error = exc
            if self._batch_waiting():
                # the next batch is waiting: leave the file free a moment, or a reader retrying
                # on the lock (every 0.2 s at most) would find it taken again each time
                time.sleep(READER_GAP)

    def _batch_waiting(self) -> bool:
        """Whether a batch (not the end) waits in the queue: after the last commit, no pause."""
        with self._todo.mutex:
            return bool(self._todo.queue) and self._todo.queue[0] is not None


def _run_batches(db: str | Path, run: store.Run, summary: Summary, chunks: Iterable[Chunk],
                 save: Callable[..., Counter[str]], policy: CommitPolicy, out: _Reporter,
                 tally: Counter[str] | None = None) -> None:
    """Store every prepared chunk, a transaction per commit (see ``CommitPolicy``), committed by a
    ``_Writer`` thread; record the run's end whatever happens. ``tally``: the run's counts kept
    by the caller as it reads (skipped records), handed to the writer with each commit. On
    Ctrl-C, what was prepared before it is stored, then the run ends as interrupted."""
    tally = Counter() if tally is None else tally
    pending: list[store.Batch] = []
    n_articles = n_claims = 0
    last = time.monotonic()
    writer = _Writer(db, run, save)

    def collect() -> None:
        for counts in writer.done():
            summary.add(counts)

    def commit(finish: str | None = None) -> None:
        nonlocal pending, n_articles, n_claims, last
        if not pending:
            return
        batch = store.Batch.concat(pending)
        pending, n_articles, n_claims = [], 0, 0
        counts = Counter(tally)
        tally.clear()
        writer.submit(batch, counts, finish)
        last = time.monotonic()

    status = "failed"
    try:
        try:
            for chunk in chunks:
                for msg in chunk.messages:
                    out.report(msg)
                summary.failed += chunk.failed
                tally["failed"] += chunk.failed
                if not run.rules_hash:  # the first chunk, before the writer uses run
                    run.rules_hash = chunk.rules_hash
                if len(chunk.batch):
                    pending.append(chunk.batch)
                    n_articles += len(chunk.batch)
                    n_claims += chunk.batch.claims.num_rows
                out.bar.update(chunk.articles)
                collect()
                if (n_articles >= policy.articles or n_claims >= policy.claims
                        or (pending and time.monotonic() - last >= policy.seconds)):
                    commit()
        except KeyboardInterrupt:
            summary.interrupted = True
        # the articles prepared before the end (or the interrupt) are whole: store them, and
        # the run's end with them
        ending = "interrupted" if summary.interrupted else "completed"
        commit(finish=ending)
        status = ending
    except KeyboardInterrupt:
        summary.interrupted = True
        status = "interrupted"
    finally:
        try:
            writer.close()
        except BaseException:
            status = "failed"
            raise
        finally:
            collect()
            if not writer.alive:  # (a second Ctrl-C may leave it finishing a commit)
                run.pending.update(tally)
                summary.run_id = run.run_id
                try:
                    if writer.finished != status or run.pending:  # not recorded with the last batch
                        store.finish_run(db, run, status)
                except store.StoreError as exc:
                    out.report(f"could not record the end of run {run.run_id}: {exc}")


def ingest(paths: Iterable[str], db: str | Path = store.DEFAULT_DB, *, workers: int = 1,
           extractor_factory: Callable[[], Extractor] = default_extractor, batch_size: int = DEFAULT_BATCH,
           max_bytes: int = DEFAULT_MAX_BYTES, stdin: BinaryIO | None = None,
           report: Callable[[str], None] | None = None, show_progress: bool | None = None,
           commit_claims: int = COMMIT_CLAIMS, commit_seconds: float = COMMIT_SECONDS) -> Summary:
    """Ingest files, folders and ``-`` (JSONL on stdin) into ``db``. Bad records are reported
    through ``report`` as ``path:line: message`` and skipped. A transaction is committed every
    ``batch_size`` articles, ``commit_claims`` claims or ``commit_seconds``, whichever comes
    first. Ctrl-C stores what was prepared and stops (``Summary.interrupted``)."""
    started = time.perf_counter()
    paths = list(paths)
    # loaded when first needed: an ingest that finds nothing new never spends seconds on the rules
    extractor = cache(extractor_factory)
    run = store.Run("ingest", "", __version__, inputs=paths)
    summary = Summary("ingest")
    # article_id -> (store.hash_key of its record hash, where it was read) for every record read in
    # this run, and the same keys of the stored articles: ~100-300 bytes an article
    seen: dict[str, tuple[int, str | None]] = {}
    # With workers, the stored keys are read (creating the database if need be: ~0.15 s) beside
    # the loading of the rules, DuckDB working without the GIL, and not while the workers wait
    # for their first articles; the thread ends before they are forked.
    keys = _Background(store.record_keys, db) if workers > 1 else _Background(None)
    with keys, _worker_pool(workers, extractor, extractor_factory, before_fork=keys.join) as pool:  # see _worker_pool
        out = _Reporter(report, show_progress)
        stored = keys.result() if keys.call is not None else store.record_keys(db)

        tally: Counter[str] = Counter()  # skipped records, handed to the writer with each commit

        def skip(counter: str, msg: str | None = None) -> None:
            setattr(summary, counter, getattr(summary, counter) + 1)
            tally[counter] += 1
            if msg:
                out.report(msg)
            out.bar.update(1)

        def jobs() -> Iterator[tuple[Article, str]]:
            for item in read_inputs(paths, max_bytes, stdin):
                if isinstance(item, ReadError):
                    skip("failed", str(item))
                    continue
                digest = store.record_hash(item)
                key = store.hash_key(digest)
                first = seen.get(item.article_id)
                if first is not None:
                    if first[0] == key:
                        skip("unchanged")
                    else:
                        skip("failed", f"{item.source}: article_id {item.article_id!r} was already read from "
                                       f"{first[1]} with different content; skipped")
                    continue
                seen[item.article_id] = (key, item.source)
                if stored.get(item.article_id) == key:  # 64-bit keys: equal by chance once in 2**64
                    skip("unchanged")
                    continue
                yield item, digest

        chunks = _prepared_chunks(jobs(), pool, min(CHUNK, batch_size), workers, extractor)
        try:
            _run_batches(db, run, summary, chunks, store.save_ingest_batch,
                         CommitPolicy(batch_size, commit_claims, commit_seconds), out, tally)
        finally:
            out.close()
    summary.seconds = time.perf_counter() - started
    return summary


def reextract(db: str | Path = store.DEFAULT_DB, *, workers: int = 1, force: bool = False,
              extractor_factory: Callable[[], Extractor] = default_extractor, batch_size: int = DEFAULT_BATCH,
              report: Callable[[str], None] | None = None, show_progress: bool | None = None,
              commit_claims: int = COMMIT_CLAIMS, commit_seconds: float = COMMIT_SECONDS) -> Summary:
    """Re-run the current rules over the stored articles (no input files needed). Articles
    already extracted with these rules are skipped unless ``force``; superseded claims move to
    ``claims_history`` so old and new rule versions stay traceable."""
    started = time.perf_counter()
    extractor = cache(extractor_factory)
    run = store.Run("reextract", extractor().rules_hash, __version__)
    summary = Summary("reextract")
    with _worker_pool(workers, extractor, extractor_factory) as pool:  # first: see _worker_pool
        out = _Reporter(report, show_progress)
        con = store.connect(db)
        try:
            total = con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
            ids = [r[0] for r in con.execute(store.sql("articles_to_reextract"),
                                             {"force": force, "rules_hash": run.rules_hash}).fetchall()]
        finally:
            con.close()
        summary.skipped = total - len(ids)

        def jobs() -> Iterator[tuple[Article, str]]:
            for chunk in _chunks(ids, min(batch_size, READ_CHUNK)):
                # read-write like the writer thread's connection (one process cannot hold the
                # file both ways), and never while it commits
                with _DB_LOCK:
                    con = store.connect(db)
                    try:
                        store.register(con, "batch_ids", {"article_id": chunk})
                        rows = con.execute(store.sql("articles_by_id")).fetchall()
                    finally:
                        con.close()
                for aid, text, publisher, url, published_at, title, metadata, read_from, _, _ in rows:
                    yield Article(article_id=aid, text=text, publisher=publisher, url=url, title=title,
                                  published_at=published_at, metadata=json.loads(metadata or "{}"),
                                  source=read_from), ""

        chunks = _prepared_chunks(jobs(), pool, min(CHUNK, batch_size), workers, extractor)
        try:
            _run_batches(db, run, summary, chunks, store.save_reextract_batch,
                         CommitPolicy(batch_size, commit_claims, commit_seconds), out)
        finally:
            out.close()
    summary.seconds = time.perf_counter() - started
    return summary
