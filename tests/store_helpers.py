"""Helpers for the store tests: an extractor that returns the claims each article declares, and
table dumps to compare two databases.

The declared extractor lets the store, view and crash tests state exact claims (interval,
attribution, kind) without depending on the rules, which change under their own tests. It must
live in an importable module (not a test file) so that ``--workers`` processes can load it.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import duckdb

from tracker.extract import Extraction
from tracker.ingest import Extractor
from tracker.models import Article, Claim
from tracker.quantity import Quantity

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "fixtures" / "scenarios" / "outlets.jsonl"
BAD = ROOT / "fixtures" / "bad"


def declared_claims(article: Article, version: int = 1, bumped: frozenset[str] = frozenset()) -> Extraction:
    """The claims listed under the article's ``claims`` key, located by their quote.

    Each entry: quote, metric, kind, value, and optionally qualifier, high, subgroup, planned,
    attributed_to, occurrence (which match of the quote, from 1), parent (index of the total).
    Metrics in ``bumped`` get rule version ``version + 1``, as if their rule had changed.
    """
    claims: list[Claim] = []
    for spec in article.metadata.get("claims", []):
        start = -1
        for _ in range(spec.get("occurrence", 1)):
            start = article.text.index(spec["quote"], start + 1)
        end = start + len(spec["quote"])
        q = Quantity.of(spec["value"], spec.get("qualifier", "exact"), spec.get("high"))
        number = spec.get("number", str(spec["value"]))
        n_start = article.text.find(number, start, end)
        n_start, n_end = (n_start, n_start + len(number)) if n_start >= 0 else (start, end)
        parent = spec.get("parent")
        claims.append(Claim(
            metric=spec["metric"], kind=spec["kind"], value=q.value, value_low=q.low, value_high=q.high,
            qualifier=q.qualifier, subgroup=spec.get("subgroup"), planned=spec.get("planned", False),
            attributed_to=spec.get("attributed_to"), sentence=spec["quote"], span_start=start, span_end=end,
            quote=spec["quote"], number_start=n_start, number_end=n_end, rule_id=f"declared.{spec['metric']}",
            rule_version=version + (spec["metric"] in bumped), key=f"declared@{start}",
            parent_key=claims[parent].key if parent is not None else None,
        ))
    return Extraction(claims)


def declared_extractor() -> Extractor:
    """Rules "declared-v1": every article's declared claims."""
    return Extractor(declared_claims, "declared-v1")


def declared_extractor_v2() -> Extractor:
    """Rules "declared-v2": as v1, but the hostages_held rule has a new version."""
    return Extractor(partial(declared_claims, bumped=frozenset({"hostages_held"})), "declared-v2")


VOLATILE = {"run_id", "ingested_at", "extracted_at", "superseded_at", "superseded_by_run", "read_from"}


def dump(db: Path | str, table: str) -> list[tuple[Any, ...]]:
    """Every row of a table, sorted, without the columns that differ between equal runs."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table]).fetchall() if c not in VOLATILE]
        rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    finally:
        con.close()
    return sorted(rows, key=repr)


def query(db: Path | str, sql: str, params: list[Any] | dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run one read-only query and return its rows."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def stored_articles(db: Path) -> int:
    """Articles committed so far, read as the dashboard reads: read-only, 0 while the file is
    missing, not yet migrated or busy."""
    from tracker import store

    if not db.exists():
        return 0
    try:
        con = store.connect(db, read_only=True, timeout=0.5)
    except store.StoreError:
        return 0
    try:
        return con.execute("SELECT count(*) FROM articles").fetchall()[0][0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


def row_counts(db: Path | str) -> dict[str, int]:
    """Rows per table, every table of the store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'").fetchall()]
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in sorted(tables)}
    finally:
        con.close()


_TEMPLATES = (
    ("ارتفع عدد الشهداء في قطاع غزة إلى {n} شهيدا", "killed", "cumulative", 30000, 45000),
    ("ما زال {n} محتجزا في قطاع غزة", "hostages_held", "stock", 90, 130),
    ("يعتقد أن {n} محتجزا ما زالوا على قيد الحياة", "hostages_alive", "stock", 30, 70),
    ("أصيب {n} شخصا بجروح منذ بدء الحرب", "injured", "cumulative", 70000, 99000),
)
_FILLER = ("وأضافت المصادر أن الأوضاع الإنسانية تزداد سوءا يوما بعد يوم في ظل نقص الغذاء والدواء. ",
           "وتواصل الطواقم الطبية عملها في ظروف بالغة الصعوبة مع انقطاع الكهرباء عن المستشفيات. ",
           "وتستمر المفاوضات غير المباشرة بوساطة مصرية وقطرية دون تقدم يذكر حتى الآن. ")


def write_corpus(path: Path, n: int, seed: int = 7) -> Path:
    """A JSONL corpus of ``n`` synthetic articles with declared claims; every tenth is a copy of
    the one before from another outlet."""
    import json
    import random

    rnd = random.Random(seed)
    publishers = ["al-sharq", "al-ghad", "al-nahar", "al-madar", "al-yawm"]
    lines, previous = [], None
    for i in range(n):
        if previous is not None and i % 10 == 0:
            record = {**previous, "id": f"gen-{i:05d}", "publisher": rnd.choice(publishers),
                      "text": previous["text"] + " المصدر: وكالات."}
        else:
            parts, claims = [], []
            for _ in range(rnd.randint(1, 3)):
                template, metric, kind, lo, hi = rnd.choice(_TEMPLATES)
                value = rnd.randint(lo, hi)
                quote = template.format(n=value)
                parts.append(f"{quote}. {rnd.choice(_FILLER)}")
                claims.append({"quote": quote, "metric": metric, "kind": kind, "value": value,
                               "occurrence": sum(p.count(quote) for p in parts)})
            record = {"id": f"gen-{i:05d}", "publisher": rnd.choice(publishers),
                      "published_at": f"2024-{rnd.randint(1, 9):02d}-{rnd.randint(10, 28):02d}",
                      "text": "".join(parts), "claims": claims}
        previous = record
        lines.append(json.dumps(record, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def interrupting_extractor(at: str = "gen-00075") -> Extractor:
    """Declared claims, but Ctrl-C arrives while extracting article ``at``."""
    return Extractor(partial(_interrupt_at, at=at), "declared-v1")


def _interrupt_at(article: Article, at: str) -> Extraction:
    if article.article_id == at:
        raise KeyboardInterrupt
    return declared_claims(article)


@lru_cache(maxsize=1)
def _real() -> Extractor:
    from tracker.ingest import default_extractor

    return default_extractor()


def real_extractor() -> Extractor:
    """The project's rules, loaded once per test process (loading takes seconds)."""
    return _real()


def slow_extractor() -> Extractor:
    """Declared claims at about 100 articles a second, for work long enough to show progress."""
    return Extractor(_slowly, "declared-v1")


def _slowly(article: Article) -> Extraction:
    import time

    time.sleep(0.01)
    return declared_claims(article)
