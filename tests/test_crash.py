"""An ingest killed with SIGKILL mid-way leaves a consistent database, and the next run completes it
to exactly what an uninterrupted run stores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from store_helpers import declared_extractor, dump, query, stored_articles, write_corpus
from tracker import store
from tracker.ingest import ingest

TESTS = Path(__file__).resolve().parent
# The killed process extracts at about 100 articles a second (slow_extractor), so that however
# fast the machine it is still running when the poll below sees its first batches.
INGEST = """
import sys
sys.path.insert(0, {tests!r})
from store_helpers import slow_extractor
from tracker.ingest import ingest
ingest([{corpus!r}], {db!r}, extractor_factory=slow_extractor, batch_size=40, report=lambda m: None)
"""


def _kill_after(corpus: Path, db: Path, at_least: int) -> int:
    """Start an ingest process, SIGKILL it once ``at_least`` articles are committed; return how many were."""
    proc = subprocess.Popen([sys.executable, "-c", INGEST.format(tests=str(TESTS), corpus=str(corpus), db=str(db))],
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while stored_articles(db) < at_least:
            assert proc.poll() is None, "the ingest finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.3)  # a reader polling hard would keep the writer out
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the process and any worker it started
        proc.wait()
    return stored_articles(db)


def _assert_consistent(db: Path, declared: dict[str, int]) -> None:
    """Every stored article has exactly its claims; no claim lacks its article; no duplicates."""
    per_article = dict(query(db, "SELECT a.article_id, count(c.claim_id) FROM articles a "
                                 "LEFT JOIN claims c USING (article_id) GROUP BY 1"))
    assert per_article == {aid: declared[aid] for aid in per_article}
    assert query(db, "SELECT count(*) FROM claims WHERE article_id NOT IN (SELECT article_id FROM articles)") == [(0,)]
    assert query(db, "SELECT count(*) - count(DISTINCT claim_id) FROM claims") == [(0,)]
    assert query(db, "SELECT count(*) FROM articles WHERE article_id NOT IN "
                     "(SELECT article_id FROM story_signatures)") == [(0,)]


def test_sigkill_midway_then_rerun_equals_an_uninterrupted_run(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus.jsonl", 500)
    declared = {r["id"]: len(r.get("claims", [])) for r in map(json.loads, corpus.read_text(encoding="utf-8").splitlines())}
    db = tmp_path / "killed.duckdb"

    first = _kill_after(corpus, db, at_least=100)
    assert 100 <= first < 500 and first % 40 == 0  # whole batches only
    _assert_consistent(db, declared)
    assert query(db, "SELECT status, finished_at FROM runs") == [("running", None)]

    done = ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=200)
    assert (done.new, done.unchanged, done.failed) == (500 - first, first, 0)
    _assert_consistent(db, declared)
    assert len(declared) == 500 == query(db, "SELECT count(*) FROM articles")[0][0]

    reference = tmp_path / "reference.duckdb"
    ingest([str(corpus)], reference, extractor_factory=declared_extractor, batch_size=300)
    for table in ("articles", "claims", "story_signatures", "story_bands"):
        assert dump(db, table) == dump(reference, table), table


# The writer is the slow part here: each transaction takes 0.3 s longer than extracting its
# articles, so finished transactions queue up and are committed one right after the other.
WRITER = """
import sys, time
sys.path.insert(0, {tests!r})
from store_helpers import declared_extractor
from tracker import store
from tracker.ingest import ingest
save = store.save_ingest_batch
def slow_save(con, run, items):
    time.sleep(0.3)
    return save(con, run, items)
store.save_ingest_batch = slow_save
ingest([{corpus!r}], {db!r}, extractor_factory=declared_extractor, batch_size={batch}, report=lambda m: None)
"""


def test_readers_get_in_while_commits_follow_each_other(tmp_path: Path) -> None:
    """Extraction faster than the writer: transactions queue up and follow each other, and a
    reader retrying on the lock still gets in between them, well within its timeout."""
    corpus = write_corpus(tmp_path / "corpus.jsonl", 600)
    db = tmp_path / "t.duckdb"
    store.connect(db).close()
    proc = subprocess.Popen([sys.executable, "-c", WRITER.format(tests=str(TESTS), corpus=str(corpus), db=str(db),
                                                                  batch=50)])
    waits, counts = [], []
    try:
        while proc.poll() is None:
            started = time.monotonic()
            con = store.connect(db, read_only=True, timeout=10)
            waits.append(time.monotonic() - started)
            try:
                counts.append(con.execute("SELECT count(*) FROM articles").fetchall()[0][0])
            finally:
                con.close()
            time.sleep(0.05)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert len(set(counts)) >= 3, counts  # the reader saw the ingest progress
    # one transaction and a bit (without the writer's pause between commits: up to 4.4 s here)
    assert max(waits) < 2.5, sorted(waits)[-5:]
