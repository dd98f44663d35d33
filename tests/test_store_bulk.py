"""The writer with batches past a DuckDB row group (122,880 rows): the transaction stays all or
nothing whatever DuckDB does with the rows before COMMIT (spill, compress, write ahead)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tracker import stories, store

TABLES = ("articles", "claims", "story_signatures", "story_bands", "runs")


def _batch(n_articles: int, seed: int = 7) -> store.Batch:
    """``n_articles`` articles of one claim each, with random signatures (no two are copies):
    ``n_articles * stories.BANDS`` band rows."""
    rnd = random.Random(seed)
    builder = store.BatchBuilder()
    for a in range(n_articles):
        aid = f"bulk-{a:06d}"
        text = f"قالت الوزارة إن {a} شخصا قتلوا"
        day = date(2024, 1, 1) + timedelta(days=a % 300)
        claim = (f"c{a:019d}", aid, "killed", "event", float(a), float(a), float(a), "exact", None, False, None,
                 None, text, 0, len(text), text, 15, 15 + len(str(a)), "test.rule", 1, f"k@{a}", day)
        row = (aid, "pub", f"https://example.org/{a}", datetime.combine(day, datetime.min.time()), "input",
               None, text, f"{rnd.getrandbits(256):064x}", f"{rnd.getrandbits(256):064x}", "{}", f"t:{a}")
        builder.add(row, [claim], stories.Signature(rnd.randbytes(stories.NUM_PERM * 4), 40))
    return builder.build()


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in TABLES}
    finally:
        con.close()


def test_a_batch_past_a_row_group_is_all_or_nothing(tmp_path: Path) -> None:
    db = tmp_path / "t.duckdb"
    store.connect(db).close()
    n = 4_000
    batch = _batch(n)
    assert n * stories.BANDS > 122_880  # the band rows fill more than one row group
    with pytest.raises(RuntimeError, match="before the commit"):
        with store.writing(db, batch_bytes=batch.nbytes) as con:
            store.save_ingest_batch(con, store.Run("ingest", "h", "0"), batch)
            raise RuntimeError("failed before the commit")
    assert _counts(db) == dict.fromkeys(TABLES, 0)

    with store.writing(db, batch_bytes=batch.nbytes) as con:
        counts = store.save_ingest_batch(con, store.Run("ingest", "h", "0"), batch)
    assert counts["new"] == n and counts["claims_added"] == n
    assert _counts(db) == {"articles": n, "claims": n, "story_signatures": n,
                           "story_bands": n * stories.BANDS, "runs": 1}
