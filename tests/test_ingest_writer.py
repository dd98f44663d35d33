"""The ingest's writer thread: the run's end is recorded in the last batch's transaction, the
pause left for readers between two commits is not taken after the last one, and a batch is
counted once its commit went through."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from store_helpers import declared_extractor, query, write_corpus
from tracker import ingest as ingest_module
from tracker import store
from tracker.ingest import ingest


def _count_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = store.writing

    def counted(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "writing", counted)
    return calls


def _ingest_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, articles: int,
                  reader_gap: float = 0.0) -> tuple[Path, Path, list[int]]:
    """A corpus of ``articles``, an empty store, and the list counting its write transactions."""
    corpus = write_corpus(tmp_path / "corpus.jsonl", articles)
    db = tmp_path / "t.duckdb"
    store.connect(db).close()
    monkeypatch.setattr(ingest_module, "READER_GAP", reader_gap)
    return corpus, db, _count_writes(monkeypatch)


def test_one_batch_one_transaction_with_the_runs_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a reader pause long enough to see: the last commit must not take it
    corpus, db, writes = _ingest_setup(tmp_path, monkeypatch, 30, reader_gap=30.0)
    started = time.monotonic()
    done = ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=1000, report=lambda m: None)
    assert time.monotonic() - started < 20
    assert len(writes) == 1
    assert query(db, "SELECT status, finished_at IS NOT NULL, articles_new, claims_added FROM runs") == [
        ("completed", True, 30, done.claims_added)]


def test_several_batches_end_recorded_with_the_last(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus, db, writes = _ingest_setup(tmp_path, monkeypatch, 45)
    done = ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=10, report=lambda m: None)
    assert len(writes) == 5  # four full batches, and the last five articles with the run's end
    assert query(db, "SELECT status, finished_at IS NOT NULL, articles_new, articles_unchanged, claims_added "
                     "FROM runs") == [("completed", True, 45, 0, done.claims_added)]
    # nothing new: no batch to carry the end, and no run recorded at all (as before)
    writes.clear()
    again = ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=10, report=lambda m: None)
    assert again.unchanged == 45 and writes == []
    assert query(db, "SELECT count(*) FROM runs") == [(1,)]


def test_input_ending_on_a_full_batch_ends_the_run_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The last full batch is committed before the input is known to end: the end comes after it."""
    corpus, db, writes = _ingest_setup(tmp_path, monkeypatch, 40)
    done = ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=10, report=lambda m: None)
    assert len(writes) == 5
    assert query(db, "SELECT status, finished_at IS NOT NULL, articles_new, claims_added FROM runs") == [
        ("completed", True, 40, done.claims_added)]


def test_a_failed_last_commit_ends_the_run_as_failed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = write_corpus(tmp_path / "corpus.jsonl", 30)
    db = tmp_path / "t.duckdb"
    store.connect(db).close()
    real = store.save_ingest_batch
    calls: list[int] = []

    def failing_second(con, run, items):  # noqa: ANN001, ANN202
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(con, run, items)

    monkeypatch.setattr(store, "save_ingest_batch", failing_second)
    monkeypatch.setattr(ingest_module, "READER_GAP", 0.0)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=20, report=lambda m: None)
    assert query(db, "SELECT status, finished_at IS NOT NULL, articles_new FROM runs") == [("failed", True, 20)]
    assert query(db, "SELECT count(*) FROM articles") == [(20,)]


def test_a_batch_is_counted_only_once_its_commit_went_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer hands the main thread a batch's counts after its commit: a commit that fails
    (rolled back) adds nothing to the summary."""
    from contextlib import contextmanager

    from store_helpers import real_extractor
    from tracker.articles import read_file

    corpus = write_corpus(tmp_path / "corpus.jsonl", 3)
    db = tmp_path / "t.duckdb"
    store.connect(db).close()
    extractor = real_extractor()
    chunk = ingest_module.prepare_chunk([(a, store.record_hash(a)) for a in read_file(corpus)], extractor)
    real = store.writing

    @contextmanager
    def commit_fails(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        with real(*args, **kwargs) as con:
            yield con
            raise RuntimeError("commit failed")  # inside the transaction: it is rolled back

    monkeypatch.setattr(store, "writing", commit_fails)
    writer = ingest_module._Writer(db, store.Run("ingest", extractor.rules_hash, "test"), store.save_ingest_batch)
    writer.submit(chunk.batch, Counter())
    with pytest.raises(RuntimeError, match="commit failed"):
        writer.close()
    assert writer.done() == []
    assert query(db, "SELECT count(*) FROM articles") == [(0,)]
