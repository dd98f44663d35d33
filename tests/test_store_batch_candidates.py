"""Copies within a batch: ``store._batch_candidates`` (numpy) finds exactly the pairs the SQL
statement ``batch_candidates`` (a self-join of the batch's band keys in DuckDB) finds, in the
same order."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import duckdb
import pyarrow as pa
import pytest

from tracker import store, stories


def _batch(rnd: random.Random, n: int, chunk: int) -> pa.Table:
    """``n`` articles in chunks of ``chunk`` (as ingest concatenates them): some share all their
    band keys (copies), some a few (near copies), some none; dates spread around the copy
    window's edges, before 1970 and at midnight, some undated; some without words (no bands)."""
    pool = [[rnd.getrandbits(63) - 2**62 for _ in range(stories.BANDS)] for _ in range(max(1, n // 3))]
    base = datetime(1969, 12, 30, 0, 0)
    tables = []
    for lo in range(0, n, chunk):
        bands, published, ids = [], [], []
        for i in range(lo, min(n, lo + chunk)):
            kind = rnd.random()
            if kind < 0.1:
                keys = None
            elif kind < 0.6:
                keys = list(rnd.choice(pool))
            elif kind < 0.8:
                keys = [k if rnd.random() < 0.2 else rnd.getrandbits(63) for k in rnd.choice(pool)]
            else:
                keys = [rnd.getrandbits(63) for _ in range(stories.BANDS)]
            bands.append(keys)
            published.append(None if rnd.random() < 0.1 else
                             base + timedelta(days=rnd.randrange(8), hours=rnd.choice([0, 0, 13, 23.99])))
            ids.append(f"a{i}")
        tables.append(pa.table({"article_id": pa.array(ids), "published_at": pa.array(published, pa.timestamp("us")),
                                "bands": pa.array(bands, pa.list_(pa.int64()))}))
    return pa.concat_tables(tables)


def _sql(articles: pa.Table, window: int) -> list[tuple[int, int]]:
    con = duckdb.connect()
    try:
        con.register("batch_links", pa.table({
            "pos": pa.array(range(len(articles)), pa.int32()), "bands": articles.column("bands"),
            "published_at": articles.column("published_at")}))
        return [tuple(r) for r in con.execute(store.sql("batch_candidates"), {"window": window}).fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("seed", range(6))
def test_numpy_candidates_equal_the_sql_self_join(seed: int) -> None:
    rnd = random.Random(seed)
    articles = _batch(rnd, [400, 2, 50, 400, 1, 300][seed], [64, 1, 7, 1, 64, 7][seed])
    for window in (0, stories.COPY_WINDOW_DAYS):
        expected = _sql(articles, window)
        assert store._batch_candidates(articles, window) == expected
    assert len(articles) < 50 or len(expected) > 10  # the batches do hold copies


def test_no_bands_no_candidates() -> None:
    empty = pa.table({"published_at": pa.array([], pa.timestamp("us")), "bands": pa.array([], pa.list_(pa.int64()))})
    assert store._batch_candidates(empty, 2) == []
    none = pa.table({"published_at": pa.array([None, None], pa.timestamp("us")),
                     "bands": pa.array([None, []], pa.list_(pa.int64()))})
    assert store._batch_candidates(none, 2) == _sql(none, 2) == []


def test_many_pairs_are_left_to_sql(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``_NUMPY_PAIRS_MAX`` key pairs the numpy path steps aside (None): the store runs the SQL."""
    articles = _batch(random.Random(0), 400, 64)
    assert store._batch_candidates(articles, 2) == _sql(articles, 2)
    monkeypatch.setattr(store, "_NUMPY_PAIRS_MAX", 10)
    assert store._batch_candidates(articles, 2) is None
