"""The disagreement, revision, timeline and story views on scenario articles with known answers.

fixtures/scenarios/outlets.jsonl: four outlets from 15 to 28 August 2024. al-madar's scn-02
is a syndicated copy of al-sharq's scn-01. Each article declares its claims, so the views are
tested against exact claims; one test runs the real rules over the same articles instead.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from store_helpers import SCENARIOS, declared_extractor, query, real_extractor
from tracker import store
from tracker.cli import main
from tracker.ingest import ingest

KILLED_15 = ("killed", None, "cumulative", False, "2024-08-15", "2024-08-15", 3, 39800.0, 40005.0,
             ["scn-04"], ["scn-01", "scn-02", "scn-03"], ["al-ghad", "al-nahar", "al-sharq"])
KILLED_16 = ("killed", None, "cumulative", False, "2024-08-16", "2024-08-17", 2, 39900.0, 40099.0,
             ["scn-06"], ["scn-05"], ["al-ghad", "al-nahar"])
HELD_20 = ("hostages_held", None, "stock", False, "2024-08-20", "2024-08-21", 3, 109.0, 115.0,
           ["scn-09", "scn-10"], ["scn-08", "scn-09"], ["al-ghad", "al-nahar", "al-sharq"])
HELD_20_SAME_DAY = ("hostages_held", None, "stock", False, "2024-08-20", "2024-08-20", 2, 111.0, 115.0,
                    ["scn-09"], ["scn-08"], ["al-ghad", "al-sharq"])
ALIVE_25 = ("hostages_alive", None, "stock", False, "2024-08-25", "2024-08-25", 2, 41.0, 70.0,
            ["scn-13"], ["scn-13"], ["al-nahar / حركة حماس", "al-nahar / مكتب رئيس الوزراء الإسرائيلي"])


@pytest.fixture(scope="module")
def scenario_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("scenario") / "s.duckdb"
    errors: list[str] = []
    summary = ingest([str(SCENARIOS)], db, extractor_factory=declared_extractor, report=errors.append)
    assert (summary.new, summary.failed, summary.claims_added, errors) == (19, 0, 20, [])
    return db


def groups(db: Path, window: int = 1) -> list[tuple]:
    """The disagreement groups with claim ids turned into their article ids, for readable tests."""
    article_of = dict(query(db, "SELECT claim_id, article_id FROM claims"))
    rows = query(db, "SELECT metric, subgroup, kind, planned, first_day::VARCHAR, last_day::VARCHAR, n_sources, "
                     "min_value, max_value, low_claim_ids, high_claim_ids, sources "
                     "FROM disagreements_within(?) ORDER BY first_day, metric", [window])
    return [(*r[:9], sorted({article_of[c] for c in r[9]}), sorted({article_of[c] for c in r[10]}), r[11])
            for r in rows]


def test_disagreements_default_window_finds_exactly_the_conflicts(scenario_db: Path) -> None:
    # Not conflicts: "أكثر من 40 ألف" vs 40,005; "نحو 50" vs 48 (22nd); a later, higher toll
    # (16th vs 15th); one outlet's two unattributed figures (26th); planned vs executed (28th);
    # the undated claim; the copy scn-02 against its original scn-01.
    assert groups(scenario_db) == [KILLED_15, KILLED_16, HELD_20, ALIVE_25]
    assert query(scenario_db, "SELECT count(*) FROM disagreements")[0][0] == 4


def test_disagreement_row_values(scenario_db: Path) -> None:
    ids = lambda aid: [c for (c,) in query(scenario_db, "SELECT claim_id FROM claims WHERE article_id = ? "
                                                       "ORDER BY claim_id", [aid])]
    (row,) = query(scenario_db, "SELECT relative_spread, low_claim_ids, high_claim_ids, length(conflict_id) "
                                "FROM disagreements WHERE metric = 'killed' AND first_day = DATE '2024-08-15'")
    assert row[0] == pytest.approx(205 / 40005)
    assert row[1] == ids("scn-04")
    assert row[2] == sorted(ids("scn-01") + ids("scn-02") + ids("scn-03"))
    assert row[3] == 16


def test_window_zero_and_three(scenario_db: Path) -> None:
    assert groups(scenario_db, 0) == [KILLED_15, HELD_20_SAME_DAY, ALIVE_25]
    alive = [g for g in groups(scenario_db, 3) if g[0] == "hostages_alive"]
    # three days apart, 41 and 70 now also meet "نحو 50" and 48 of the 22nd
    assert [(g[4], g[5], g[6], g[9], g[10]) for g in alive] == [
        ("2024-08-22", "2024-08-25", 4, ["scn-11", "scn-12", "scn-13"], ["scn-11", "scn-12", "scn-13"]),
        ("2024-08-25", "2024-08-25", 2, ["scn-13"], ["scn-13"]),
    ]


def test_revisions_flag_a_toll_stated_lower_later(scenario_db: Path) -> None:
    rows = query(scenario_db, "SELECT metric, source, attributed_to, day::VARCHAR, value, previous_day::VARCHAR, "
                              "previous_value FROM revisions")
    assert rows == [("killed", "al-sharq", None, "2024-08-18", 39950.0, "2024-08-15", 40005.0)]


def test_timeline_groups_copies_and_keeps_undated(scenario_db: Path) -> None:
    rows = query(scenario_db, "SELECT metric, source, day, value, value_low, value_high, qualifier, n_mentions, "
                              "publishers, article_ids FROM timeline WHERE day = DATE '2024-08-15' OR day IS NULL "
                              "ORDER BY day NULLS FIRST, value")
    assert rows == [
        ("hostages_held", "al-madar", None, 120.0, 120.0, 120.0, "exact", 1, ["al-madar"], ["scn-16"]),
        ("killed", "al-nahar", date(2024, 8, 15), 39800.0, 39800.0, 39800.0, "exact", 1, ["al-nahar"], ["scn-04"]),
        ("killed", "al-ghad", date(2024, 8, 15), 40000.0, 40000.0, None, "more_than", 1, ["al-ghad"], ["scn-03"]),
        ("killed", "al-sharq", date(2024, 8, 15), 40005.0, 40005.0, 40005.0, "exact", 2,
         ["al-madar", "al-sharq"], ["scn-01", "scn-02"]),
    ]
    assert query(scenario_db, "SELECT count(*) FROM timeline")[0][0] == 19


def test_stories_link_only_the_copy(scenario_db: Path) -> None:
    assert query(scenario_db, "SELECT source, n_articles, publishers, article_ids FROM stories WHERE n_articles > 1") \
        == [("al-sharq", 2, ["al-madar", "al-sharq"], ["scn-01", "scn-02"])]
    assert query(scenario_db, "SELECT count(*) FROM stories")[0][0] == 18


def test_dates_from_input_text_or_none(scenario_db: Path) -> None:
    rows = query(scenario_db, "SELECT a.article_id, a.published_at::VARCHAR, a.published_at_source, c.as_of::VARCHAR "
                              "FROM articles a JOIN claims c USING (article_id) "
                              "WHERE a.article_id IN ('scn-01', 'scn-16', 'scn-17') ORDER BY 1")
    assert rows == [("scn-01", "2024-08-15 00:00:00", "input", "2024-08-15"),
                    ("scn-16", None, None, None),
                    ("scn-17", "2024-08-27 00:00:00", "text", "2024-08-27")]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


INTERVAL_CASES = [  # (claim of outlet P, claim of outlet Q, whether they conflict)
    ({"value": 40000, "qualifier": "more_than"}, {"value": 40005}, False),
    ({"value": 40000, "qualifier": "more_than"}, {"value": 39800}, True),
    ({"value": 50, "qualifier": "approx"}, {"value": 48}, False),
    ({"value": 50, "qualifier": "approx"}, {"value": 56}, True),
    ({"value": 40000, "qualifier": "more_than"}, {"value": 40000}, True),  # open bound excludes 40000
    ({"value": 40000, "qualifier": "at_least"}, {"value": 40000}, False),
    ({"value": 100, "qualifier": "less_than"}, {"value": 100}, True),
    ({"value": 100, "qualifier": "at_most"}, {"value": 100}, False),
    ({"value": 10, "qualifier": "range", "high": 15}, {"value": 15}, False),
    ({"value": 10, "qualifier": "range", "high": 15}, {"value": 16}, True),
    ({"value": 3000, "qualifier": "vague", "high": 9999}, {"value": 2500}, True),
    ({"value": 100, "qualifier": "more_than"}, {"value": 100, "qualifier": "less_than"}, True),
    ({"value": 100, "qualifier": "at_least"}, {"value": 100, "qualifier": "at_most"}, False),
]


def test_interval_rule(tmp_path: Path) -> None:
    """Each case is a metric of its own: outlets P and Q state it on the same day."""
    records = []
    for case, (a, b, _) in enumerate(INTERVAL_CASES):
        for pub, spec in (("P", a), ("Q", b)):
            quote = f"بلغ عدد الحالات في الملف {case} الرقم {spec['value']}"
            lead = "قالت مصادر محلية صباح اليوم" if pub == "P" else "أفاد تقرير نشر في المساء"
            records.append({"id": f"{pub}-{case}", "publisher": pub, "published_at": "2024-05-01",
                            "text": f"{lead} إن آخر الأرقام تغيرت: {quote}.",
                            "claims": [{"quote": quote, "metric": f"case{case:02d}", "kind": "stock", **spec}]})
    db = tmp_path / "t.duckdb"
    ingest([str(_write(tmp_path / "cases.jsonl", records))], db, extractor_factory=declared_extractor)
    found = {m for (m,) in query(db, "SELECT metric FROM disagreements_within(0)")}
    assert sorted(found) == [f"case{i:02d}" for i, (_, _, conflict) in enumerate(INTERVAL_CASES) if conflict]


@pytest.mark.parametrize("numpy_pairs_max", [None, 0], ids=["numpy", "sql"])
def test_a_copy_with_another_figure_is_not_an_independent_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 numpy_pairs_max: int | None) -> None:
    """Copies within a batch are found in numpy, or by the SQL join when they pair too often."""
    if numpy_pairs_max is not None:
        monkeypatch.setattr(store, "_NUMPY_PAIRS_MAX", numpy_pairs_max)
    filler = "وأضاف البيان أن طواقم الإسعاف ما زالت تعمل في ظروف صعبة وسط نقص حاد في الوقود والأدوية والمعدات. " * 3
    records = []
    for pub, value, text in (("P", 40005, filler), ("Q", 39800, filler), ("R", 39800, "خبر مستقل تماما.")):
        quote = f"بلغ عدد الضحايا الرقم {value}"
        records.append({"id": pub, "publisher": pub, "published_at": "2024-05-01", "text": f"{quote}. {text}",
                        "claims": [{"quote": quote, "metric": "killed", "kind": "stock", "value": value}]})
    db = tmp_path / "t.duckdb"
    ingest([str(_write(tmp_path / "copies.jsonl", records))], db, extractor_factory=declared_extractor)
    assert query(db, "SELECT article_ids FROM stories WHERE n_articles > 1") == [(["P", "Q"],)]
    # Q's copy of P, with another figure, is no second source: only R's own text disagrees with P
    (group,) = groups(db, 0)
    assert (group[6], group[9], group[10], group[11]) == (2, ["R"], ["P"], ["P", "R"])


def test_cli_disagreements_filters(scenario_db: Path) -> None:
    run = lambda *args: CliRunner().invoke(main, ["disagreements", "--db", str(scenario_db), *args])
    result = run("--metric", "killed", "--since", "2024-08-16")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split("\t")[:7] == ["conflict_id", "metric", "subgroup", "kind", "planned", "first_day", "last_day"]
    assert [line.split("\t")[1:10] for line in lines[1:]] == [
        ["killed", "", "cumulative", "False", "2024-08-16", "2024-08-17", "2", "39900", "40099"]]
    result = run("--window-days", "0", "--json")
    assert [(g["metric"], g["first_day"], g["n_sources"]) for g in map(json.loads, result.stdout.splitlines())] == [
        ("killed", "2024-08-15", 3), ("hostages_held", "2024-08-20", 2), ("hostages_alive", "2024-08-25", 2)]


def test_real_rules_find_the_same_disagreements(tmp_path: Path) -> None:
    db = tmp_path / "real.duckdb"
    summary = ingest([str(SCENARIOS)], db, extractor_factory=real_extractor)
    assert (summary.new, summary.failed, summary.claims_added) == (19, 0, 20)
    assert [g[:6] + g[9:11] for g in groups(db)] == [g[:6] + g[9:11] for g in (KILLED_15, KILLED_16, HELD_20, ALIVE_25)]
