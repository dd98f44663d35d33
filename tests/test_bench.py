"""`tracker bench` end to end at tiny sizes: every section runs and reports positive figures.

A smoke test, not a timed one: it checks the JSON's shape and that numbers are there, never
how fast anything is (the machine is shared). The rules are the project's metrics plus the
dashboard fixture's small rule file, so that loading them in each ingest process is quick.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from click.testing import CliRunner

from tracker import bench
from tracker.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _positive(x: object) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) and x > 0


def _throughput_ok(t: dict) -> None:
    assert t["articles"] > 0 and _positive(t["mb"])
    for key in ("mb_per_s", "articles_per_s", "ratio_to_baseline"):
        assert _positive(t[key]), (t["name"], key, t[key])
    assert _positive(t["wall"]["median"]) and t["wall"]["min"] <= t["wall"]["median"] <= t["wall"]["max"]


def test_bench_smoke(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    shutil.copy(ROOT / "rules" / "common.yaml", rules)
    shutil.copy(ROOT / "fixtures" / "dashboard" / "rules" / "dashfixture.yaml", rules)
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, [
        "bench", "--articles", "12", "--repeat", "1", "--claims", "2000", "--query-repeat", "2",
        "--bulk-rows", "400", "--memory-articles", "30", "--memory-workers", "1", "--rules", str(rules),
        "--workdir", str(tmp_path / "work"), "--json", str(out),
    ])
    assert result.exit_code == 0, result.output + repr(result.exception)
    for heading in ("baseline", "ingest", "bulk", "dashboard queries", "peak memory", "targets"):
        assert heading in result.output

    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["corpus"]["articles"] == 12 and res["corpus"]["bytes"] > 0
    _throughput_ok(res["baseline"])
    assert set(res["passes"]) == {"scan \\d+ (decoded texts)", "normalize", "find_numbers", "extract (all rules)",
                                  "rules at claims (floor)"}
    for t in res["passes"].values():
        _throughput_ok(t)
    assert res["passes"]["extract (all rules)"]["items"] > 0  # the fixture rules found claims

    for w in (1, 2):
        _throughput_ok(res["ingest"][f"workers_{w}"])
        assert res["ingest"][f"workers_{w}"]["items"] > 0  # claims stored
    assert _positive(res["ingest"]["speedup_2_over_1"])

    assert res["bulk_load"] and all(_positive(b["rows_per_s"]) and b["rows"] > 0 for b in res["bulk_load"])

    q = res["queries"]["2000"]
    assert "error" not in q, q
    assert q["generation"]["claims"] == 2000 and _positive(q["generation"]["claims_rows_per_s"])
    assert _positive(q["snapshot_s"]) and _positive(q["precompute_conflicts_s"])
    names = {x["name"] for x in q["queries"]}
    assert {"timeline", "disagreements", "claim drill-down", "filtered table"} <= names
    for x in q["queries"]:
        assert _positive(x["p50_ms"]) and x["p95_ms"] >= x["p50_ms"], x

    m = res["memory"]
    assert "error" not in m, m
    assert m["articles"] == 30 and m["claims"] > 0
    assert _positive(m["peak_rss_tree_mb"]) and _positive(m["peak_rss_process_mb"])

    assert {t["name"].split(" ")[0] for t in res["targets"]} >= {"full", "ingest", "bulk", "dashboard"}
    assert not list((tmp_path / "work").glob("*.duckdb"))  # work databases removed


def test_generated_claims_db_has_the_store_schema(tmp_path: Path) -> None:
    """The generated claims go through the store's migrations and views: the store reads them."""
    from tracker import store

    texts = [a["text"] for a in bench.generate_articles(5)]
    info = bench.generate_claims_db(tmp_path / "g.duckdb", 800, texts)
    assert info["claims"] == 800 and info["articles"] == 100
    con = store.connect(tmp_path / "g.duckdb", read_only=True)
    try:
        n, broken, metrics = con.execute("""
            SELECT count(*), count(*) FILTER (WHERE value_low > value_high), count(DISTINCT metric)
            FROM claims_detailed""").fetchone()
        spans = con.execute("SELECT count(*) FROM claims WHERE substr(sentence, span_start - "
                            "(span_start // 450) * 450 - 40 + 1, span_end - span_start) <> quote").fetchone()[0]
    finally:
        con.close()
    assert n == 800 and broken == 0 and metrics >= 5
    assert spans == 0  # each quote is the slice of its sentence the spans say


def test_percentile_and_corpus_sizes() -> None:
    assert bench.percentile([1, 2, 3, 4, 5], 50) == 3
    assert bench.percentile([1.0, 2.0], 95) == 1.95
    arts = list(bench.generate_articles(40, seed=3))
    assert len({a["id"] for a in arts}) == 40
    sizes = [len(a["text"].encode()) for a in arts]
    assert 2_000 < sum(sizes) / len(sizes) < 8_000  # ~4 KB, like news
    assert arts == list(bench.generate_articles(40, seed=3))  # reproducible


def test_bench_on_a_corpus_of_real_articles(tmp_path: Path) -> None:
    """--corpus measures the user's own articles: the five seed articles, their 16 claims."""
    out = tmp_path / "bench.json"
    result = CliRunner().invoke(main, [
        "bench", "--corpus", str(ROOT / "fixtures" / "seeds" / "articles.jsonl"), "--repeat", "1",
        "--skip", "ingest,bulk,queries,memory", "--json", str(out),
    ])
    assert result.exit_code == 0, result.output + repr(result.exception)
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["corpus"]["articles"] == 5 and res["corpus"]["bytes"] == 24149
    assert res["passes"]["extract (all rules)"]["items"] == 16
    _throughput_ok(res["passes"]["extract (all rules)"])
    # the floor runs the pattern of each of the 16 claims once where its match starts, and each matches there
    floor = res["passes"]["rules at claims (floor)"]
    assert floor["extra"]["claims"] == 16 and floor["items"] == 16
    _throughput_ok(floor)


def test_bench_refuses_a_corpus_without_texts(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "نص"}\n{"title": "no text"}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["bench", "--corpus", str(bad), "--skip", "ingest,bulk,queries,memory"])
    assert result.exit_code == 2
    assert f'{bad}:2: no "text" string' in result.output
