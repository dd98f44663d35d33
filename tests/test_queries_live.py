"""Live disagreements (a filter on publishers, attributed sources, qualifiers or text) on a generated
store: the fast path (statement table, key tables, per voice-day bounds) must give exactly the
rows of a straightforward reference: the store's pairwise ``disagreements`` view over a copy of
the store that holds only the claims the filter keeps."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from tracker import bench
from tracker import queries as Q
from tracker import store

COLUMNS = ["conflict_id", "metric", "subgroup", "kind", "planned", "first_day", "last_day", "n_sources",
           "min_value", "max_value", "relative_spread", "sources"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6,000 generated claims over 8 days (dense: many conflicts on every day)."""
    path = tmp_path_factory.mktemp("live") / "gen.duckdb"
    mp = pytest.MonkeyPatch()
    mp.setattr(bench, "SPAN_DAYS", 8)
    try:
        bench.generate_claims_db(path, 6000, ["نص المقال " * 20, "قتل 40 شخصا " * 10], chunk=2000)
    finally:
        mp.undo()
    return path


@pytest.fixture(scope="module")
def snap(generated: Path):
    s = Q.build_snapshot(generated, precompute="now")
    yield s
    s.close()


def reference(db: Path, tmp: Path, f: Q.Filters) -> pd.DataFrame:
    """The pairwise view over a copy of the store keeping only the claims ``f`` keeps (the
    articles, and so the independent sources, stay as they are), then the group filters."""
    copy = tmp / "ref.duckdb"
    shutil.copyfile(db, copy)
    con = store.connect(copy)
    try:
        w = Q.where_clause(Q.Filters(publishers=f.publishers, sources=f.sources, qualifiers=f.qualifiers,
                                     search=f.search))
        con.execute(f"""DELETE FROM claims WHERE claim_id NOT IN (
            SELECT c.claim_id FROM (SELECT k.claim_id, k.attributed_to, k.qualifier, k.sentence, k.quote, a.publisher,
                                           a.title, COALESCE(contains(k.sentence, k.quote), FALSE) AS quote_in_sentence
                                    FROM claims AS k JOIN articles AS a USING (article_id)) AS c
            WHERE {w.sql})""", w.params)
        view = con.execute("SELECT * FROM disagreements").df()
    finally:
        con.close()
        copy.unlink()
    keep = pd.Series(True, index=view.index)
    if f.metric is not None:
        keep &= view.metric == f.metric
    if f.subgroup == Q.TOTAL:
        keep &= view.subgroup.isna()
    elif f.subgroup != Q.ALL:
        keep &= view.subgroup == f.subgroup
    if f.kind is not None:
        keep &= view.kind == f.kind
    if not f.include_planned:
        keep &= ~view.planned.astype(bool)
    days = pd.to_datetime(view.first_day).dt.date
    if f.date_from is not None:
        keep &= days >= f.date_from
    if f.date_to is not None:
        keep &= days <= f.date_to
    return view[keep].sort_values("conflict_id").reset_index(drop=True)


def _filters(con: duckdb.DuckDBPyConnection) -> list[Q.Filters]:
    pubs = [r[0] for r in con.execute("SELECT publisher FROM facts GROUP BY 1 ORDER BY count(*) DESC, 1").fetchall()]
    voices = [r[0] for r in con.execute("SELECT attributed_to FROM facts WHERE attributed_to IS NOT NULL "
                                        "GROUP BY 1 ORDER BY count(*) DESC, 1").fetchall()]
    first = con.execute("SELECT min(as_of) FROM facts").fetchall()[0][0]
    return [
        Q.Filters(publishers=(pubs[0],)),
        Q.Filters(publishers=tuple(pubs[1:4])),
        Q.Filters(metric="killed", subgroup=Q.TOTAL, kind="cumulative", publishers=(pubs[0], pubs[5], pubs[9])),
        Q.Filters(metric="hostages_held", publishers=tuple(pubs[:2])),
        Q.Filters(sources=(voices[0],)),
        Q.Filters(metric="injured", sources=tuple(voices[:3]), include_planned=False),
        Q.Filters(qualifiers=("exact",)),
        Q.Filters(qualifiers=("approx", "more_than", "at_least")),
        Q.Filters(metric="prisoners_released", qualifiers=("exact", "range"), include_planned=False),
        Q.Filters(publishers=tuple(pubs[:3]), sources=tuple(voices[:4]), qualifiers=("exact", "approx")),
        Q.Filters(metric="killed", subgroup=Q.ALL, publishers=tuple(pubs[:6]),
                  date_from=first + timedelta(days=2), date_to=first + timedelta(days=4)),
        Q.Filters(publishers=("no such publisher",)),
        Q.Filters(metric="killed", search="غزة"),  # text: the statements are read from facts
        Q.Filters(publishers=tuple(pubs[:4]), search="غزة", include_planned=False),
    ]


def test_live_disagreements_equal_the_pairwise_view_of_the_kept_claims(generated: Path, snap: Q.Snapshot,
                                                                       tmp_path: Path) -> None:
    con = snap.cursor()
    assert Q._has_table(con, Q.STATEMENT_TABLE) and Q._has_table(con, Q.KEY_TABLES["attributed_to"])
    some = 0
    for f in _filters(con):
        assert Q._claim_level(f)
        mine = Q.disagreements(con, f, limit=None, sources=None).sort_values("conflict_id").reset_index(drop=True)
        ref = reference(generated, tmp_path, f)
        assert mine[COLUMNS].astype(str).to_dict("records") == ref[COLUMNS].astype(str).to_dict("records"), f
        some += len(mine)
    assert some > 100  # the filters keep plenty of disagreements


def test_live_disagreements_with_and_without_the_snapshot_tables(snap: Q.Snapshot,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """From the statement and key tables, or from facts and the filtered claims' names (before
    those tables exist): the same rows, and the same drill-down."""
    con = snap.cursor()
    filters = _filters(con)
    fast = [Q.disagreements(con, f, limit=None, sources=None) for f in filters]
    real = Q._has_table
    hidden = {Q.STATEMENT_TABLE, *Q.KEY_TABLES.values()}
    monkeypatch.setattr(Q, "_has_table", lambda c, name: False if name in hidden else real(c, name))
    for f, df in zip(filters, fast, strict=True):
        slow = Q.disagreements(con, f, limit=None, sources=None)
        assert df.astype(str).to_dict("records") == slow.astype(str).to_dict("records")
    monkeypatch.undo()
    for f, df in zip(filters, fast, strict=True):
        for _, row in df.head(3).iterrows():
            d = Q.disagreement_claims(con, f, row.to_dict(), per_side=None)
            assert set(d.side) <= {"low", "high"} and len(d)
