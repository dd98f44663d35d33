"""The database under hostile conditions (issue 7), with the real `tracker` command and rules:
`tracker ingest` killed with SIGKILL at a random moment and restarted; the dashboard's queries
and `tracker disagreements` reading while an ingest writes; filter values that try SQL injection.

One scenario serves the first two: run 1 is killed, run 2 completes while readers poll. The kill
moment is random: set TRACKER_CRASH_SEED to replay one (the seed is in every failure message).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from store_helpers import ROOT, query, real_extractor, stored_articles
from tracker import queries as Q
from tracker.cli import main
from tracker.ingest import ingest

N_ARTICLES = 120
BATCH = 10
HOSTILE_ID = "x'; DROP TABLE claims; --"
TABLES = ("articles", "claims", "story_signatures", "story_bands")
VOLATILE = {"run_id", "ingested_at", "extracted_at", "superseded_at", "superseded_by_run", "read_from"}
TRACKER = [str(Path(sys.executable).with_name("tracker"))] if Path(sys.executable).with_name("tracker").exists() \
    else [sys.executable, "-m", "tracker"]
ENV = {k: v for k, v in os.environ.items() if k != "TRACKER_RULES"}  # the project's rules, as in `reference`


def _write_corpus(path: Path) -> Path:
    """Slices of the seed articles behind two claim sentences, five outlets, one hostile record."""
    seeds = [json.loads(line) for line in (ROOT / "fixtures" / "seeds" / "articles.jsonl").read_text(encoding="utf-8")
             .splitlines()]
    publishers = ["الجزيرة نت", "العربية", "RT Arabic", "al-ghad", "al-madar"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(N_ARTICLES):
            seed = seeds[i % len(seeds)]
            a = (i * 37) % (len(seed["text"]) - 300)
            record = {"id": f"k-{i:04d}", "publisher": publishers[i % 5], "published_at": f"2024-08-{1 + i % 28:02d}",
                      "title": seed["title"],
                      "text": f"ما زال {100 + i % 40} محتجزا في قطاع غزة، وارتفع عدد الشهداء إلى {40000 + 7 * i} "
                              f"شهيدا. " + seed["text"][a:a + 300]}
            if i == 77:
                record.update(id=HOSTILE_ID, publisher=HOSTILE_ID, title="<img src=x onerror=alert(1)>",
                              url="javascript:alert(1)")
            f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return path


def _rows(db: Path, table: str, article_ids: set[str] | None = None) -> list[tuple[Any, ...]]:
    """The rows of ``table`` (of the given articles), sorted, without the columns that differ between runs."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [c for (c,) in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                          "ORDER BY ordinal_position", [table]).fetchall() if c not in VOLATILE]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    finally:
        con.close()
    if article_ids is not None:
        rows = [r for r in rows if r[cols.index("article_id")] in article_ids]
    return sorted(rows, key=repr)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write_corpus(tmp_path_factory.mktemp("hostile-store") / "corpus.jsonl")


@pytest.fixture(scope="module")
def reference(corpus: Path) -> Path:
    """An uninterrupted ingest of the corpus with the project's rules."""
    db = corpus.with_name("reference.duckdb")
    summary = ingest([str(corpus)], db, extractor_factory=real_extractor, batch_size=N_ARTICLES)
    assert (summary.new, summary.failed) == (N_ARTICLES, 0)
    return db


def _ingest_cmd(corpus: Path, db: Path, batch: int = BATCH) -> list[str]:
    return [*TRACKER, "ingest", str(corpus), "--db", str(db), "--batch-size", str(batch)]


def _readers(db: Path, stop: threading.Event, seen: dict[str, list[Any]]) -> list[threading.Thread]:
    """Readers until ``stop``: the dashboard's snapshot and article queries (this thread), and
    `tracker disagreements` as its own process once (a second thread, as soon as commits are seen:
    a process start costs a second of CPU that would slow the writer)."""

    def dashboard() -> None:
        while not stop.is_set():
            try:
                snap = Q.build_snapshot(db, timeout=30, precompute="no")
                try:
                    c = snap.cursor()
                    seen["dashboard"].append((Q.count_claims(c, Q.Filters()), len(Q.disagreements(c, Q.Filters())),
                                              len(Q.claims_page(c, Q.Filters(metric="killed")))))
                    c.close()
                finally:
                    snap.con.close()
                assert Q.article_text(db, "k-0000", timeout=30) is not None
                run = CliRunner().invoke(main, ["disagreements", "--db", str(db), "--json"])
                assert run.exit_code == 0 and run.stderr == "", run.output
                seen["cli_in_process"].append(len([json.loads(line) for line in run.stdout.splitlines()]))
            except BaseException as exc:  # noqa: BLE001 - every failure is what this test looks for
                seen["errors"].append(f"dashboard: {exc!r}")
            # unhurried while the writer starts (its rules take seconds of CPU), brisk once it commits
            time.sleep(0.3 if len({n for n, _, _ in seen["dashboard"]}) >= 2 else 1.0)

    def cli() -> None:
        while not stop.is_set() and len({n for n, _, _ in seen["dashboard"]}) < 2:
            time.sleep(0.1)
        if stop.is_set():
            return
        proc = subprocess.run([*TRACKER, "disagreements", "--db", str(db)], capture_output=True, text=True,
                              env=ENV, cwd=ROOT, timeout=120)
        if proc.returncode != 0 or not proc.stderr.endswith(" disagreement groups\n"):
            seen["errors"].append(f"tracker disagreements: exit {proc.returncode}: {proc.stderr.strip()}")
        else:
            seen["cli_process"].append(len(proc.stdout.splitlines()) - 1)

    return [threading.Thread(target=dashboard, daemon=True), threading.Thread(target=cli, daemon=True)]


@pytest.fixture(scope="module")
def scenario(corpus: Path, reference: Path) -> dict[str, Any]:
    seed = int(os.environ.get("TRACKER_CRASH_SEED") or random.SystemRandom().randrange(2**32))
    rnd = random.Random(seed)
    db = corpus.with_name("killed.duckdb")
    out: dict[str, Any] = {"seed": seed, "db": db}

    # run 1: killed at a random moment after its first commit (mid-extraction or mid-commit)
    out["t0"] = time.monotonic()
    proc = subprocess.Popen(_ingest_cmd(corpus, db), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV,
                            cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while stored_articles(db) == 0 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        out["delay"] = rnd.uniform(0, 1.0)
        time.sleep(out["delay"])
        out["running_at_kill"] = proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    out["t1"] = time.monotonic()
    out["returncode_1"] = proc.returncode
    out["stderr_1"] = proc.stderr.read().decode() if proc.stderr else ""
    out["stored_after_kill"] = {r[0] for r in query(db, "SELECT article_id FROM articles")}
    out["after_kill"] = {t: _rows(db, t) for t in TABLES}

    # run 2: completes while the dashboard's queries and `tracker disagreements` read the file
    # (in small batches, so that readers get in between many commits)
    seen: dict[str, list[Any]] = {"dashboard": [], "cli_in_process": [], "cli_process": [], "errors": []}
    stop = threading.Event()
    readers = _readers(db, stop, seen)
    proc = subprocess.Popen(_ingest_cmd(corpus, db, batch=4), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV, cwd=ROOT)
    for t in readers:
        t.start()
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=120)
    out["t2"] = time.monotonic()
    out.update(returncode_2=proc.returncode, stdout_2=stdout.decode(), stderr_2=stderr.decode(), seen=seen)
    return out


def test_sigkill_at_a_random_moment_then_restart_equals_an_uninterrupted_run(scenario: dict[str, Any],
                                                                             reference: Path) -> None:
    why = f"TRACKER_CRASH_SEED={scenario['seed']} (killed {scenario['delay']:.2f} s after the first commit)"
    db = scenario["db"]
    assert scenario["running_at_kill"] and scenario["returncode_1"] == -signal.SIGKILL, why
    stored = scenario["stored_after_kill"]
    assert 0 < len(stored) < N_ARTICLES, why
    # after the kill: every stored article with all its claims, signature and bands, exactly as an
    # uninterrupted run stores them; nothing of any other article; no duplicates
    for table in TABLES:
        assert scenario["after_kill"][table] == _rows(reference, table, stored), f"{table}: {why}"
    assert len(set(scenario["after_kill"]["claims"])) == len(scenario["after_kill"]["claims"]), why
    # the restart stores the rest, and the result is the uninterrupted run's
    assert scenario["returncode_2"] == 0, scenario["stderr_2"]
    assert scenario["stdout_2"].startswith(
        f"articles: {N_ARTICLES - len(stored)} new, {len(stored)} unchanged, 0 replaced, 0 failed; "), why
    for table in TABLES:
        assert _rows(db, table) == _rows(reference, table), f"{table}: {why}"
    assert query(db, "SELECT count(*), count(DISTINCT claim_id) FROM claims") == \
        query(reference, "SELECT count(*), count(*) FROM claims")
    assert query(db, "SELECT status FROM runs ORDER BY run_id") == [("running",), ("completed",)]  # run 1 died


def test_dashboard_and_disagreements_read_while_ingest_writes(scenario: dict[str, Any], reference: Path) -> None:
    seen = scenario["seen"]
    assert seen["errors"] == []  # no lock error (or any other) reached a reader
    assert scenario["returncode_2"] == 0 and "lock" not in scenario["stderr_2"].lower(), scenario["stderr_2"]
    # the writer was really writing while they read: several reads of each kind, growing states
    assert len(seen["dashboard"]) >= 2 and len(seen["cli_in_process"]) >= 2 and len(seen["cli_process"]) >= 1, seen
    counts = [n for n, _, _ in seen["dashboard"]]
    assert counts == sorted(counts) and len(set(counts)) >= 2, counts  # consistent states, and they grew
    assert counts[-1] <= query(reference, "SELECT count(*) FROM claims")[0][0]
    final = query(reference, "SELECT count(*) FROM disagreements")[0][0]
    assert all(n <= final for n in seen["cli_process"] + seen["cli_in_process"])


# ---- SQL injection: filter values are bound parameters -------------------------------------------

def test_injection_in_filters_returns_no_rows_and_drops_nothing(reference: Path) -> None:
    before = query(reference, "SELECT count(*) FROM claims")[0][0]
    snap = Q.build_snapshot(reference, precompute="now")
    c = snap.cursor()
    try:
        total = Q.count_claims(c, Q.Filters())
        mine = query(reference, "SELECT count(*) FROM claims WHERE article_id = ?", [HOSTILE_ID])[0][0]
        assert mine > 0
        for value in (HOSTILE_ID, "' OR '1'='1", "killed' --", "x\"; DELETE FROM facts; --", "%' OR 1=1; --"):
            for f in (Q.Filters(metric=value), Q.Filters(kind=value), Q.Filters(subgroup=value),
                      Q.Filters(sources=(value,)), Q.Filters(qualifiers=(value,))):
                assert Q.count_claims(c, f) == 0, f
                assert len(Q.claims_page(c, f)) == 0 and len(Q.disagreements(c, f)) == 0, f
                assert Q.export_table(c, f).num_rows == 0, f
            assert Q.claim_detail(c, value) is None
            # publisher and search match literally: only the article whose publisher is that very text
            literal = mine if value == HOSTILE_ID else 0
            assert Q.count_claims(c, Q.Filters(publishers=(value,))) == literal, value
            assert Q.count_claims(c, Q.Filters(search=value)) == literal, value
        assert Q.count_claims(c, Q.Filters()) == total  # the snapshot's table is still there
    finally:
        c.close()
        snap.con.close()
    assert Q.article_text(reference, HOSTILE_ID)[0].startswith("ما زال ")
    run = CliRunner().invoke(main, ["disagreements", "--db", str(reference), "--metric", HOSTILE_ID])
    assert run.exit_code == 0 and run.stdout.count("\n") == 1 and run.stderr == "0 disagreement groups\n", run.output
    assert query(reference, "SELECT count(*) FROM claims")[0][0] == before  # and the file's claims table too

