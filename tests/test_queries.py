"""The dashboard's queries (tracker.queries): same disagreements as the store's view, filters
with bound parameters, snapshots that follow the database and never block or fail on a
writer, downloads that spreadsheets cannot run."""

from __future__ import annotations

import importlib.util
import io
import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracker import queries as Q
from tracker import store

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("dashboard_fixture", ROOT / "fixtures" / "dashboard" / "build_db.py")
assert _spec and _spec.loader
fixture_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fixture_db)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("queries")
    return fixture_db.build(tmp / "fx.duckdb", tmp)


@pytest.fixture(scope="module")
def snap(db: Path) -> Q.Snapshot:
    return Q.build_snapshot(db, precompute="now")


@pytest.fixture()
def con(snap: Q.Snapshot):
    c = snap.cursor()
    yield c
    c.close()


def view_disagreements(path: Path) -> pd.DataFrame:
    c = store.connect(path, read_only=True)
    try:
        return c.execute("SELECT * FROM disagreements ORDER BY conflict_id").df()
    finally:
        c.close()


def sides(con: duckdb.DuckDBPyConnection, f: Q.Filters, row: dict) -> tuple[list[str], list[str]]:
    d = Q.disagreement_claims(con, f, row, per_side=None)
    return sorted(d[d.side == "low"].claim_id), sorted(d[d.side == "high"].claim_id)


COLUMNS = ["conflict_id", "metric", "subgroup", "kind", "planned", "first_day", "last_day", "n_sources",
           "min_value", "max_value", "relative_spread", "sources"]


def assert_same_as_view(con: duckdb.DuckDBPyConnection, view: pd.DataFrame, f: Q.Filters,
                        max_sides: int | None = None) -> None:
    mine = Q.disagreements(con, f, limit=None, sources=None).sort_values("conflict_id").reset_index(drop=True)
    assert mine[COLUMNS].astype(str).to_dict("records") == view[COLUMNS].astype(str).to_dict("records")
    for _, row in mine.head(max_sides).iterrows():
        v = view[view.conflict_id == row.conflict_id].iloc[0]
        assert sides(con, f, row.to_dict()) == (list(v.low_claim_ids), list(v.high_claim_ids))


# ---- disagreements: the same as the store's view ------------------------------------------------

def test_fixture_has_the_expected_conflicts(db: Path) -> None:
    view = view_disagreements(db)
    assert set(view.metric) == {"killed", "hostages_held", "prisoners_released"}
    assert len(view) >= 4


def test_disagreements_equal_the_view_precomputed_and_live(db: Path, snap: Q.Snapshot, con) -> None:
    view = view_disagreements(db)
    assert Q.conflicts_ready(con)
    assert_same_as_view(con, view, Q.Filters())  # precomputed tables
    everyone = tuple(con.execute("SELECT DISTINCT publisher FROM facts").df().publisher)
    assert_same_as_view(con, view, Q.Filters(publishers=everyone))  # computed live from the claims
    fresh = Q.build_snapshot(db, precompute="no")  # before the background precompute is done
    c2 = fresh.cursor()
    assert not Q.conflicts_ready(c2)
    assert_same_as_view(c2, view, Q.Filters())


def test_disagreements_most_severe_first_and_filtered(con) -> None:
    d = Q.disagreements(con, Q.Filters())
    spreads = list(d.relative_spread)
    assert spreads == sorted(spreads, reverse=True)
    held = Q.disagreements(con, Q.Filters(metric="hostages_held", subgroup=Q.TOTAL))
    assert set(held.metric) == {"hostages_held"} and len(held) == 3
    # a date range keeps the groups whose first day lies in it, on both paths
    f = Q.Filters(metric="hostages_held", date_from=date(2024, 8, 14), date_to=date(2024, 8, 14))
    pre = Q.disagreements(con, f)
    live = Q.disagreements(con, Q.Filters(**{**f.__dict__, "qualifiers": ("exact",)}))
    assert list(pre.first_day.astype(str)) == list(live.first_day.astype(str)) == ["2024-08-14"]
    assert list(pre.last_day.astype(str)) == ["2024-08-15"]


def test_disagreement_claims_capped_per_side_with_the_full_count(con) -> None:
    row = Q.disagreements(con, Q.Filters(metric="hostages_held", subgroup=Q.TOTAL)).iloc[0].to_dict()
    full = Q.disagreement_claims(con, Q.Filters(), row, per_side=None)
    capped = Q.disagreement_claims(con, Q.Filters(), row, per_side=1)
    for side in ("low", "high"):
        everyone, first = full[full.side == side], capped[capped.side == side]
        assert len(first) == 1 and first.claim_id.iloc[0] == everyone.claim_id.iloc[0]
        assert set(everyone.n_side) == set(first.n_side) == {len(everyone)}
    voices = Q.disagreements(con, Q.Filters(), sources=1)
    assert all(len(v) <= 1 for v in voices.sources) and (voices.n_sources >= 2).all()


# Random small worlds: the linear re-derivation must agree with the pairwise view on every one.
_DAYS = [date(2024, 1, 1) + timedelta(days=i) for i in range(4)]


@st.composite
def worlds(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    n_articles = draw(st.integers(1, 7))
    articles = []
    for i in range(n_articles):
        articles.append({
            "article_id": f"a{i}", "publisher": draw(st.sampled_from(["P", "Q", "R", None])),
            "story_id": draw(st.sampled_from(["s1", "s2", "s3", f"own{i}"])),
            "published_at": draw(st.one_of(st.none(), st.sampled_from(_DAYS))),
        })
    claims = []
    for j in range(draw(st.integers(1, 14))):
        art = draw(st.sampled_from(articles))
        q = draw(st.sampled_from(["exact", "exact", "approx", "more_than", "at_least", "less_than", "at_most", "range"]))
        v = draw(st.integers(0, 6))
        lo, hi = {"exact": (v, v), "approx": (v - 1, v + 1), "more_than": (v, None), "at_least": (v, None),
                  "less_than": (None, v), "at_most": (None, v), "range": (v, v + 2)}[q]
        claims.append({
            "claim_id": f"c{j}", "article_id": art["article_id"],
            "metric": draw(st.sampled_from(["m1", "m1", "m2"])),
            "kind": draw(st.sampled_from(["stock", "cumulative", "event"])),
            "value": v, "value_low": lo, "value_high": hi, "qualifier": q,
            "subgroup": draw(st.sampled_from([None, None, "kids"])),
            "planned": draw(st.booleans()) if j % 5 == 0 else False,
            "attributed_to": draw(st.sampled_from([None, None, "X", "Y"])),
            "as_of": art["published_at"],
        })
    return articles, claims


@pytest.fixture(scope="module")
def memdb() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    store.migrate(con)
    return con


def load_world(con: duckdb.DuckDBPyConnection, articles: list[dict], claims: list[dict]) -> None:
    con.execute("DELETE FROM claims; DELETE FROM articles")
    now = datetime(2024, 1, 10)
    arts = pd.DataFrame(articles, columns=["article_id", "publisher", "story_id", "published_at"])
    arts["published_at"] = pd.to_datetime(arts["published_at"])
    rows = pd.DataFrame(claims, columns=["claim_id", "article_id", "metric", "kind", "value", "value_low", "value_high",
                                         "qualifier", "subgroup", "planned", "attributed_to", "as_of"])
    for col in ("value", "value_low", "value_high"):
        rows[col] = rows[col].astype("float64")
    for frame, cols in ((arts, ("article_id", "publisher", "story_id")),
                        (rows, ("claim_id", "article_id", "metric", "kind", "qualifier", "subgroup", "attributed_to"))):
        for col in cols:  # typed, or DuckDB may guess DOUBLE from a column of leading NULLs
            frame[col] = frame[col].astype("string")
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    con.register("world_articles", arts)
    con.register("world_claims", rows)
    con.execute("""INSERT INTO articles (article_id, publisher, published_at, text, content_hash, record_hash,
                   ingested_at, run_id, rules_hash, story_id)
                   SELECT article_id, publisher, published_at, 'x', 'h', 'h', $now, 1, 'r', story_id
                   FROM world_articles""", {"now": now})
    con.execute("""INSERT INTO claims (claim_id, article_id, run_id, metric, kind, value, value_low, value_high,
                   qualifier, subgroup, planned, attributed_to, sentence, span_start, span_end, quote,
                   rule_id, rule_version, claim_key, as_of, extracted_at)
                   SELECT claim_id, article_id, 1, metric, kind, value, value_low, value_high, qualifier, subgroup,
                          planned, attributed_to, 's', 0, 1, 'x', 'r', 1, claim_id, CAST(as_of AS DATE), $now
                   FROM world_claims""", {"now": now})
    con.unregister("world_articles")
    con.unregister("world_claims")
    Q.derive_tables(con)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(worlds())
def test_linear_disagreements_match_the_pairwise_view(memdb: duckdb.DuckDBPyConnection,
                                                      world: tuple[list[dict], list[dict]]) -> None:
    load_world(memdb, *world)
    memdb.execute("DROP TABLE IF EXISTS conflicts_ready")
    view = memdb.execute("SELECT * FROM disagreements ORDER BY conflict_id").df()
    assert_same_as_view(memdb, view, Q.Filters(), max_sides=2)  # live
    Q.create_conflict_tables(memdb)
    assert_same_as_view(memdb, view, Q.Filters(), max_sides=2)  # precomputed


# ---- a snapshot answers the same before and after its facts are ordered -----------------------

def _frames_equal(a: object, b: object) -> None:
    if isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _frames_equal(x, y)
    elif isinstance(a, pd.DataFrame):
        assert list(a.columns) == list(b.columns)
        assert a.astype(str).to_dict("records") == b.astype(str).to_dict("records")
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _frames_equal(a[k], b[k])
    else:
        assert a == b


def test_the_first_answers_equal_the_ordered_ones(db: Path, snap: Q.Snapshot) -> None:
    """The first page is served while facts is still a view over the copy (no count or lookup
    tables yet); every query must answer exactly as it does once facts is ordered."""
    early = Q.build_snapshot(db, precompute="no")
    c1, c2 = early.cursor(), snap.cursor()
    assert not Q.facts_sorted(c1) and Q.facts_sorted(c2)
    kinds = {"killed": "cumulative", "hostages_held": "stock", "prisoners_released": "event"}
    filters = [Q.Filters(), Q.Filters(metric="killed", subgroup=Q.TOTAL, kind="cumulative"),
               Q.Filters(metric="killed", date_from=date(2024, 8, 14), date_to=date(2024, 8, 15)),
               Q.Filters(metric="killed", include_undated=False, publishers=("الجزيرة نت", "RT Arabic")),
               Q.Filters(metric="hostages_held", sources=("منتدى عائلات الرهائن",), qualifiers=("exact",)),
               Q.Filters(metric="killed", search="وزارة الصحة")]
    calls = [("summary",), ("metric_counts",), ("day_range", "killed"), ("day_range", None)]
    calls += [("facet_values", col, m) for col in ("subgroup", "kind", "publisher", "attributed_to")
              for m in ("killed", None)]
    for f in filters:
        calls += [("count_claims", f), ("claims_page", f, 5, 0), ("claims_page", f, 2, 3), ("overview", f, kinds),
                  ("disagreements", f, None, None)]
        calls += [("timeline", f, series, 2, 3) for series in ("publisher", "source", "attributed_to")]
    ids = [r[0] for r in c2.execute("SELECT claim_id FROM facts ORDER BY claim_id").fetchall()]
    calls += [("claim_detail", i) for i in ids[:6]] + [("claims_by_id", ids[::3])]
    for name, *args in calls:
        _frames_equal(getattr(Q, name)(c1, *args), getattr(Q, name)(c2, *args))
    early.close()


def test_a_snapshot_in_memory_answers_the_same(db: Path, snap: Q.Snapshot, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no room for a copy (or TRACKER_SNAPSHOT_DIR=:memory:) the tables are built in memory."""
    monkeypatch.setenv(Q.SNAPSHOT_DIR_ENV, ":memory:")
    mem = Q.build_snapshot(db, precompute="now")
    assert mem.workdir is None
    c1, c2 = mem.cursor(), snap.cursor()
    f = Q.Filters(metric="killed")
    for name, *args in [("summary",), ("metric_counts",), ("count_claims", f), ("claims_page", f, 4, 1),
                        ("timeline", f, "source"), ("disagreements", Q.Filters(), None, None)]:
        _frames_equal(getattr(Q, name)(c1, *args), getattr(Q, name)(c2, *args))
    claim_id = c2.execute("SELECT min(claim_id) FROM facts").fetchall()[0][0]
    _frames_equal(Q.claim_detail(c1, claim_id), Q.claim_detail(c2, claim_id))
    assert Q.snapshot_article(mem, "aj-0810") == Q.snapshot_article(snap, "aj-0810") is not None
    mem.close()


def test_a_closed_snapshot_leaves_no_files(db: Path) -> None:
    s = Q.build_snapshot(db, precompute="no")
    assert s.workdir is not None and (s.workdir / "snapshot.duckdb").exists()
    s.close()
    assert not s.workdir.exists()


# ---- filters ------------------------------------------------------------------------------------

def test_filters_are_bound_parameters(con) -> None:
    w = Q.where_clause(Q.Filters(metric="killed'; DROP TABLE facts; --", search="' OR 1=1 --",
                                 publishers=("x'y",)))
    assert "DROP" not in w.sql and "1=1" not in w.sql and "x'y" not in w.sql
    assert Q.count_claims(con, Q.Filters(metric="killed'; DROP TABLE facts; --")) == 0
    assert Q.count_claims(con, Q.Filters(search="' OR 1=1 --")) == 0
    assert Q.count_claims(con, Q.Filters()) == 26  # the table is still there


def test_search_is_literal_and_case_insensitive_for_latin(con) -> None:
    assert Q.count_claims(con, Q.Filters(search="rt arabic")) == Q.count_claims(con, Q.Filters(search="RT Arabic")) == 3
    assert Q.count_claims(con, Q.Filters(search="وزارة الصحة")) >= 5
    assert Q.count_claims(con, Q.Filters(search="<script>alert(1)")) == 2  # the hostile title, literally
    assert Q.count_claims(con, Q.Filters(search="onerror=alert(2)")) == 1  # sentence; parentheses are literal
    assert Q.count_claims(con, Q.Filters(search="%")) == 0 and Q.count_claims(con, Q.Filters(search=".*")) == 0


def test_filters_narrow_the_claims(con) -> None:
    all_killed = Q.count_claims(con, Q.Filters(metric="killed"))
    assert all_killed == 10
    assert Q.count_claims(con, Q.Filters(metric="killed", include_undated=False)) == 9
    assert Q.count_claims(con, Q.Filters(metric="killed", publishers=("الجزيرة نت",))) == 2
    assert Q.count_claims(con, Q.Filters(metric="killed", sources=("وزارة الصحة",))) == 4
    assert Q.count_claims(con, Q.Filters(metric="killed", qualifiers=("more_than",))) == 2
    window = Q.Filters(metric="killed", date_from=date(2024, 8, 14), date_to=date(2024, 8, 15))
    assert Q.count_claims(con, window) == 4 + 1  # four dated in the window, plus the undated one
    assert Q.count_claims(con, Q.Filters(**{**window.__dict__, "include_undated": False})) == 4


def test_timeline_rows_and_undated_count(con) -> None:
    df, info = Q.timeline(con, Q.Filters(metric="killed", subgroup=Q.TOTAL), "publisher")
    assert info["undated"] == 1 and info["dated"] == 9
    assert set(df.series) >= {"الجزيرة نت", "العربية", "RT Arabic"}
    rt = df[df.series == "RT Arabic"].iloc[0]
    assert rt.qualifier == "more_than" and rt.value_low == 40000 and pd.isna(rt.value_high)
    by_source, _ = Q.timeline(con, Q.Filters(metric="killed"), "attributed_to")
    assert "وزارة الصحة" in set(by_source.series)
    few, info = Q.timeline(con, Q.Filters(metric="killed"), "publisher", max_series=2)
    assert few.series.nunique() == 2 and info["series_shown"] == 2 and info["series"] > 2


def test_overview_latest_by_source_and_spread(con) -> None:
    kinds = {"killed": "cumulative", "hostages_held": "stock", "hostages_alive": "stock",
             "injured": "cumulative", "prisoners_released": "event"}
    per_metric, per_source = Q.overview(con, Q.Filters(), kinds)
    held = per_metric.set_index("metric").loc["hostages_held"]
    assert (held.min_value, held.max_value) == (105, 120)
    assert held.relative_spread == pytest.approx(15 / 120)
    latest = per_source[(per_source.metric == "hostages_held") & (per_source.source == "العربية")].iloc[0]
    assert latest.value == 111 and str(latest.day)[:10] == "2024-08-15"  # its latest, not its 115 of the 10th


def test_claim_detail_spans_index_the_article(db: Path, con) -> None:
    claim_id = con.execute("SELECT claim_id FROM facts WHERE article_id = 'hostile-1' AND metric = 'killed'").fetchone()[0]
    d = Q.claim_detail(con, claim_id)
    assert d is not None and d["url"] == "javascript:alert(1)"
    text, _ = Q.article_text(db, d["article_id"])
    assert text[d["span_start"]:d["span_end"]] == d["quote"]
    assert text[d["number_start"]:d["number_end"]] == "41000"
    assert len(d["article_claims"]) == 2
    assert Q.claim_detail(con, "no-such-claim") is None


def test_search_finds_a_quote_outside_its_sentence(memdb: duckdb.DuckDBPyConnection) -> None:
    """The search skips quotes that are part of their sentence; one that is not is searched."""
    load_world(memdb, [{"article_id": "a0", "publisher": "P", "story_id": "s", "published_at": _DAYS[0]}],
               [{"claim_id": f"c{i}", "article_id": "a0", "metric": "m1", "kind": "stock", "value": i,
                 "value_low": i, "value_high": i, "qualifier": "exact", "subgroup": None, "planned": False,
                 "attributed_to": None, "as_of": _DAYS[0]} for i in range(3)])  # sentence 's', quote 'x'
    assert Q.count_claims(memdb, Q.Filters(search="x")) == 3
    assert Q.count_claims(memdb, Q.Filters(search="s")) == 3
    memdb.execute("UPDATE facts SET quote = 's', quote_in_sentence = TRUE WHERE claim_id = 'c0'")
    assert Q.count_claims(memdb, Q.Filters(search="x")) == 2


# ---- downloads ----------------------------------------------------------------------------------

def test_export_csv_defuses_formulas_and_parquet_round_trips(memdb: duckdb.DuckDBPyConnection) -> None:
    load_world(memdb, [{"article_id": "a0", "publisher": "=HYPERLINK(\"http://x\")", "story_id": "s",
                        "published_at": _DAYS[0]}],
               [{"claim_id": "c0", "article_id": "a0", "metric": "m1", "kind": "stock", "value": 5,
                 "value_low": 5, "value_high": 5, "qualifier": "exact", "subgroup": None, "planned": False,
                 "attributed_to": "@cmd", "as_of": _DAYS[0]}])
    csv_table = Q.export_table(memdb, Q.Filters(), for_csv=True)
    assert csv_table.column("publisher").to_pylist() == ["'=HYPERLINK(\"http://x\")"]
    assert csv_table.column("attributed_to").to_pylist() == ["'@cmd"]
    raw = Q.export_table(memdb, Q.Filters())
    buf = io.BytesIO()
    pq.write_table(raw, buf)
    back = pq.read_table(io.BytesIO(buf.getvalue()))
    assert back.column("publisher").to_pylist() == ["=HYPERLINK(\"http://x\")"] and back.num_rows == 1


# ---- snapshots follow the database, and a writer never makes them fail --------------------------

def test_missing_database_raises_no_database(tmp_path: Path) -> None:
    with pytest.raises(Q.NoDatabase):
        Q.snapshot(tmp_path / "nothing.duckdb")


def test_snapshot_refreshes_when_the_database_changes(tmp_path: Path) -> None:
    path = fixture_db.build(tmp_path / "fx.duckdb", tmp_path)
    first = Q.snapshot(path)
    assert Q.snapshot(path) is first  # unchanged file: the same snapshot
    extra = tmp_path / "more.jsonl"
    extra.write_text(json.dumps({"id": "late-1", "publisher": "الجزيرة نت", "url": "https://example.org/late",
                                 "published_at": "2024-08-19", "title": "t",
                                 "text": "قالت وزارة الصحة إن حصيلة الشهداء بلغت 40139."}, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    fixture_db.ingest(path, fixture_db.rules_dir(tmp_path), extra)
    stale = Q.snapshot(path, refresh_seconds=0)  # served at once while the new copy loads
    assert stale is first and Q.is_stale(first)
    deadline = time.monotonic() + 30
    while Q.snapshot(path, refresh_seconds=0).key == first.key and time.monotonic() < deadline:
        time.sleep(0.05)
    fresh = Q.snapshot(path)
    assert fresh.key != first.key and not Q.is_stale(fresh)
    c = fresh.cursor()
    assert Q.count_claims(c, Q.Filters()) == 27


def test_reading_while_ingest_writes_never_fails(tmp_path: Path) -> None:
    """An ingest committing batch after batch; readers copy snapshots and read articles all along."""
    path = fixture_db.build(tmp_path / "fx.duckdb", tmp_path)
    rules = fixture_db.rules_dir(tmp_path)
    big = tmp_path / "many.jsonl"
    with big.open("w", encoding="utf-8") as fh:
        for i in range(80):
            fh.write(json.dumps({"id": f"bulk-{i}", "publisher": f"ناشر {i % 7}", "url": f"https://example.org/{i}",
                                 "published_at": f"2024-09-{1 + i % 28:02d}", "title": "t",
                                 "text": f"قالت وزارة الصحة إن حصيلة الشهداء بلغت {41000 + i}."},
                                ensure_ascii=False) + "\n")
    proc = subprocess.Popen([*fixture_db.tracker_exe(), "ingest", str(big), "--db", str(path), "--batch-size", "4"],
                            env=fixture_db.env_with_rules(rules), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
    counts = []
    try:
        while proc.poll() is None:
            snap = Q.build_snapshot(path, timeout=30, precompute="no")
            c = snap.cursor()
            counts.append(Q.count_claims(c, Q.Filters()))
            c.close()
            assert Q.article_text(path, "aj-0810", timeout=30) is not None
    finally:
        out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert counts == sorted(counts)  # every snapshot a consistent, growing state
    final = Q.build_snapshot(path, precompute="no").cursor()
    assert Q.count_claims(final, Q.Filters()) == 26 + 80
    assert len(counts) >= 2
