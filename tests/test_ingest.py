"""Ingest: formats, idempotence, replacement, bad input, workers, Ctrl-C and re-extraction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from store_helpers import (BAD, ROOT, declared_extractor, declared_extractor_v2, dump, interrupting_extractor,
                           query, real_extractor, row_counts, slow_extractor, write_corpus)
from tracker.cli import main
from tracker.ingest import ingest, reextract

SEEDS = ROOT / "fixtures" / "seeds"


def _spans_slice_quotes(db: Path) -> None:
    rows = query(db, "SELECT a.text, c.span_start, c.span_end, c.quote FROM claims c JOIN articles a USING (article_id)")
    assert rows and all(text[a:b] == quote for text, a, b, quote in rows)


def test_seed_fixtures_twice_adds_no_row(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    errors: list[str] = []
    first = ingest([str(SEEDS)], db, extractor_factory=real_extractor, report=errors.append)
    # articles.jsonl and five .txt copies of its texts; gold.jsonl and negatives.jsonl hold no text
    assert (first.new, first.unchanged, first.replaced, first.failed) == (10, 0, 0, 30)
    assert errors[0] == f"{SEEDS}/gold.jsonl:1: missing field 'text'"
    counts = row_counts(db)
    assert counts["articles"] == 10 and counts["runs"] == 1 and counts["claims"] == 2 * first.claims_added // 2
    second = ingest([str(SEEDS)], db, extractor_factory=real_extractor, report=lambda m: None)
    assert (second.new, second.unchanged, second.replaced, second.failed, second.claims_added) == (0, 10, 0, 30, 0)
    assert row_counts(db) == counts
    _spans_slice_quotes(db)
    # each .txt file (no id: named by its content) is the same story as its JSONL record
    assert query(db, "SELECT count(DISTINCT story_id) FROM articles")[0][0] == 5


def test_changed_text_replaces_claims_and_keeps_history(tmp_path: Path) -> None:
    src, db = tmp_path / "a.jsonl", tmp_path / "t.duckdb"
    def write(text: str, quote: str, value: int) -> None:
        record = {"id": "x1", "publisher": "P", "published_at": "2024-02-01", "text": text,
                  "claims": [{"quote": quote, "metric": "hostages_held", "kind": "stock", "value": value}]}
        src.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    write("ما زال 134 محتجزا في غزة.", "ما زال 134 محتجزا", 134)
    ingest([str(src)], db, extractor_factory=declared_extractor)
    old = query(db, "SELECT claim_id, content_hash FROM claims JOIN articles USING (article_id)")
    write("قال مسؤول إنه ما زال 136 محتجزا في غزة.", "ما زال 136 محتجزا", 136)
    summary = ingest([str(src)], db, extractor_factory=declared_extractor)
    assert (summary.new, summary.replaced, summary.claims_added, summary.claims_removed) == (0, 1, 1, 1)
    assert query(db, "SELECT value, span_start, quote, run_id FROM claims") == [(136.0, 14, "ما زال 136 محتجزا", 2)]
    assert query(db, "SELECT claim_id, content_hash, value, run_id, superseded_by_run FROM claims_history") == \
        [(old[0][0], old[0][1], 134.0, 1, 2)]
    assert query(db, "SELECT run_id, command, status, articles_new, articles_replaced, claims_added, claims_removed "
                     "FROM runs ORDER BY run_id") == [(1, "ingest", "completed", 1, 0, 1, 0),
                                                     (2, "ingest", "completed", 0, 1, 1, 1)]


BAD_ERRORS = [
    "bad_date.md:4: field 'published_at': '2024-13-45' is not a date",
    "empty_body.md:6: empty text",
    "invalid_utf8.txt:6: invalid UTF-8",
    "no_front_matter_end.md:1: front matter has no closing '---' line",
    "records.jsonl:2: invalid UTF-8 at byte 50 of the line",
    "records.jsonl:3: empty text",
    "records.jsonl:4: empty text",
    "records.jsonl:5: missing field 'text'",
    "records.jsonl:6: field 'published_at': '2024-13-45' is not a date",
    "records.jsonl:7: not JSON: Unterminated string starting at (column 25)",
    "records.jsonl:8: a line must be a JSON object, not list",
    "records.jsonl:9: field 'text' must be a string, not int",
    "records.jsonl:10: field 'text' is not valid Unicode: unpaired surrogate at character 0",
    "table.csv:4: empty text",
    "table.csv:5: field 'published_at': 'not a date' is not a date",
    "table.csv:6: invalid UTF-8",
]


def test_bad_input_is_reported_located_and_skipped(tmp_path: Path) -> None:
    db, errors = tmp_path / "t.duckdb", []
    summary = ingest([str(BAD)], db, extractor_factory=declared_extractor, report=errors.append)
    assert errors == [f"{BAD}/{e}" for e in BAD_ERRORS]
    assert (summary.new, summary.failed) == (4, 16)
    assert query(db, "SELECT article_id, read_from FROM articles ORDER BY 1") == [
        ("bad-1", f"{BAD}/records.jsonl:1"), ("bad-12", f"{BAD}/records.jsonl:12"),
        ("bad-csv-1", f"{BAD}/table.csv:2"), ("bad-md-good", f"{BAD}/good.md:1")]
    assert query(db, "SELECT metadata->>'section', text FROM articles WHERE article_id = 'bad-csv-1'") == \
        [("news", "ما زال 130 محتجزا\nفي قطاع غزة.")]


def test_huge_article_unreadable_file_and_missing_path(tmp_path: Path) -> None:
    big = tmp_path / "in" / "big.jsonl"
    big.parent.mkdir()
    with big.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "huge", "text": "غ" * (25 * 2**20)}, ensure_ascii=False) + "\n")
        f.write(json.dumps({"id": "small", "text": "ما زال 130 محتجزا في غزة."}, ensure_ascii=False) + "\n")
    (tmp_path / "in" / "gone.txt").symlink_to(tmp_path / "nowhere.txt")  # listed, cannot be opened
    errors: list[str] = []
    summary = ingest([str(tmp_path / "in"), str(tmp_path / "missing.jsonl")], tmp_path / "t.duckdb",
                     extractor_factory=declared_extractor, report=errors.append)
    assert [e.replace(str(tmp_path), "") for e in errors] == [
        "/in/big.jsonl:1: line is 50.0 MB, above the 10 MB limit",
        "/in/gone.txt:1: cannot read file: No such file or directory",
        "/missing.jsonl:1: cannot read file: No such file or directory",
    ]
    assert (summary.new, summary.failed) == (1, 3)


def test_formats_front_matter_csv_html_folders(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub" / ".hidden").mkdir(parents=True)
    (src / "a.txt").write_text("---\nid: t1\npublisher: P\npublished_at: 2024-01-02T10:30:00+02:00\n"
                               "title: عنوان\nsection: world\n---\nنص الخبر.\n", encoding="utf-8")
    (src / "sub" / "b.md").write_text("# خبر بلا مقدمة\n\nنص آخر.\n", encoding="utf-8")
    (src / "sub" / "c.csv").write_text("id,publisher,url,text,extra\nc1,Q,https://q.example/1,نص ثالث,42\n",
                                       encoding="utf-8")
    (src / "sub" / "d.html").write_text(
        "<html><head><title>T</title><meta property='og:site_name' content='موقع المثال'>"
        "<link rel='canonical' href='https://ex.example/news/1'>"
        "<meta property='article:published_time' content='2024-03-01T10:00:00+02:00'></head>"
        "<body><nav>القائمة</nav><article><h1>عنوان الصفحة</h1><p>قالت وزارة الصحة في غزة إن عدد الشهداء "
        "ارتفع إلى 30035 شهيدا منذ بدء الحرب، وإن عدد الجرحى تجاوز 70 ألفا.</p><p>وأضافت الوزارة في بيانها "
        "اليومي أن طواقمها تعمل في ظروف صعبة للغاية مع نقص الوقود.</p></article></body></html>", encoding="utf-8")
    (src / "sub" / ".hidden" / "e.txt").write_text("مخفي", encoding="utf-8")
    (src / "notes.docx").write_bytes(b"ignored: not a known type")
    db = tmp_path / "t.duckdb"
    summary = ingest([str(src)], db, extractor_factory=declared_extractor)
    assert (summary.new, summary.failed) == (4, 0)
    rows = query(db, "SELECT article_id, publisher, url, published_at::VARCHAR, title, metadata::VARCHAR, text "
                     "FROM articles ORDER BY read_from")
    assert rows[0] == ("t1", "P", None, "2024-01-02 10:30:00", "عنوان", '{"section": "world"}', "نص الخبر.\n")
    assert rows[1][0].startswith("rec-") and rows[1][1:] == (None, None, None, None, "{}", "# خبر بلا مقدمة\n\nنص آخر.\n")
    assert rows[2] == ("c1", "Q", "https://q.example/1", None, None, '{"extra": "42"}', "نص ثالث")
    assert rows[3][:5] == ("https://ex.example/news/1", "موقع المثال", "https://ex.example/news/1",
                           "2024-03-01 00:00:00", "عنوان الصفحة")
    assert "ارتفع إلى 30035 شهيدا" in rows[3][6] and "القائمة" not in rows[3][6]


def test_stdin_and_cli_summary(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    lines = "".join(json.dumps({"id": f"s{i}", "text": f"نص رقم {i}"}, ensure_ascii=False) + "\n" for i in range(3))
    result = CliRunner().invoke(main, ["ingest", "-", "--db", str(db), "--json"], input=lines + "not json\n")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert (summary["new"], summary["failed"], summary["run_id"]) == (3, 1, 1)
    assert result.stderr == "<stdin>:4: not JSON: Expecting value (column 1)\n"  # no progress bar off a terminal
    result = CliRunner().invoke(main, ["ingest", "-", "--db", str(db), "--strict"], input=lines + "not json\n")
    assert result.exit_code == 1
    assert result.stdout.startswith("articles: 0 new, 3 unchanged, 0 replaced, 1 failed; claims: 0; ")


def test_same_id_twice_in_one_run(tmp_path: Path) -> None:
    src = tmp_path / "a.jsonl"
    recs = [{"id": "d", "text": "نص أول"}, {"id": "d", "text": "نص أول"}, {"id": "d", "text": "نص مختلف"}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    errors: list[str] = []
    summary = ingest([str(src)], tmp_path / "t.duckdb", extractor_factory=declared_extractor, report=errors.append)
    assert (summary.new, summary.unchanged, summary.failed) == (1, 1, 1)
    assert errors == [f"{src}:3: article_id 'd' was already read from {src}:1 with different content; skipped"]


def test_workers_store_the_same_rows(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 120)
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    s1 = ingest([str(corpus)], one, extractor_factory=declared_extractor, batch_size=32)
    s2 = ingest([str(corpus)], two, extractor_factory=declared_extractor, batch_size=32, workers=2)
    assert (s1.new, s1.claims_added) == (s2.new, s2.claims_added) and s1.new == 120
    for table in ("articles", "claims", "story_signatures", "story_bands"):
        assert dump(one, table) == dump(two, table)
    _spans_slice_quotes(two)


def test_ctrl_c_rolls_back_the_batch_in_flight_and_the_next_run_completes(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 120)
    db, reference = tmp_path / "t.duckdb", tmp_path / "ref.duckdb"
    # Ctrl-C arrives while extracting gen-00075, in the third batch of 30
    summary = ingest([str(corpus)], db, extractor_factory=interrupting_extractor, batch_size=30)
    assert summary.interrupted and summary.new == 60
    assert query(db, "SELECT status, articles_new FROM runs") == [("interrupted", 60)]
    assert query(db, "SELECT count(*) FROM articles")[0][0] == 60
    resumed = ingest([str(corpus)], db, extractor_factory=declared_extractor, batch_size=30)
    assert (resumed.new, resumed.unchanged) == (60, 60)
    ingest([str(corpus)], reference, extractor_factory=declared_extractor, batch_size=30)
    for table in ("articles", "claims", "story_signatures", "story_bands"):
        assert dump(db, table) == dump(reference, table)


def test_reextract_supersedes_changed_claims_only(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 60)
    db = tmp_path / "t.duckdb"
    ingest([str(corpus)], db, extractor_factory=declared_extractor)
    before = query(db, "SELECT count(*), count(*) FILTER (WHERE metric = 'hostages_held') FROM claims")[0]
    held_articles = query(db, "SELECT count(DISTINCT article_id) FROM claims WHERE metric = 'hostages_held'")[0][0]
    summary = reextract(db, extractor_factory=declared_extractor_v2)
    # only the articles with a hostages_held claim change: their claims all move to history
    moved = query(db, "SELECT count(*) FROM claims WHERE article_id IN "
                      "(SELECT article_id FROM claims WHERE metric = 'hostages_held')")[0][0]
    assert (summary.replaced, summary.unchanged, summary.claims_added, summary.claims_removed) == \
        (held_articles, 60 - held_articles, moved, moved)
    assert query(db, "SELECT rule_version, count(*) FROM claims WHERE metric = 'hostages_held' GROUP BY 1") == \
        [(2, before[1])]
    assert query(db, "SELECT rule_version, superseded_by_run, count(*) FROM claims_history "
                     "WHERE metric = 'hostages_held' GROUP BY ALL") == [(1, 2, before[1])]
    assert query(db, "SELECT command, rules_hash FROM runs ORDER BY run_id") == [
        ("ingest", "declared-v1"), ("reextract", "declared-v2")]
    again = reextract(db, extractor_factory=declared_extractor_v2)
    assert (again.skipped, again.replaced, again.unchanged) == (60, 0, 0)
    forced = reextract(db, extractor_factory=declared_extractor_v2, force=True)
    assert (forced.replaced, forced.unchanged) == (0, 60)
    assert query(db, "SELECT count(*) FROM claims")[0][0] == before[0]


def test_progress_bar_with_rate_when_the_work_is_long(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 150)
    ingest([str(corpus)], tmp_path / "t.duckdb", extractor_factory=slow_extractor, show_progress=True, batch_size=50)
    err = capsys.readouterr().err
    assert "150 articles" in err and "articles/s" in err  # off a terminal: see test_stdin_and_cli_summary


def test_records_without_id_or_url_are_named_by_their_content(tmp_path: Path) -> None:
    text = "قالت وزارة الصحة في غزة إن عدد الشهداء ارتفع إلى 40005 شهداء منذ بدء الحرب على القطاع."
    src = tmp_path / "a.jsonl"
    recs = [{"publisher": "P", "text": text}, {"publisher": "Q", "text": text}, {"publisher": "P", "text": text}]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    db = tmp_path / "t.duckdb"
    summary = ingest([str(src)], db, extractor_factory=declared_extractor)
    assert (summary.new, summary.unchanged, summary.failed) == (2, 1, 0)  # the third repeats the first
    assert query(db, "SELECT n_articles, publishers FROM stories") == [(2, ["P", "Q"])]
    assert all(aid.startswith("rec-") for (aid,) in query(db, "SELECT article_id FROM articles"))


def test_csv_row_over_the_limit_is_reported_and_the_rest_read(tmp_path: Path) -> None:
    src = tmp_path / "big.csv"
    src.write_text("id,text\nc1,نص أول\nc2," + "x" * (2 * 2**20) + "\nc3,نص ثالث\n", encoding="utf-8")
    errors: list[str] = []
    summary = ingest([str(src)], tmp_path / "t.duckdb", extractor_factory=declared_extractor, max_bytes=2**20,
                     report=errors.append)
    assert errors == [f"{src}:3: line is 2.0 MB, above the 1 MB limit"]
    assert (summary.new, summary.failed) == (2, 1)
