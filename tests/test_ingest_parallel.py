"""Ingest with workers: the input's last chunks are sent in small pieces, in order; the stored
keys are read beside the loading of the rules, and its errors reach the caller."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from store_helpers import declared_extractor, dump, write_corpus
from tracker import ingest as ingest_module
from tracker import store
from tracker.ingest import ingest


class _Done:
    """An ``apply_async`` result that is ready at once."""

    def __init__(self, value: Any):
        self.value = value

    def ready(self) -> bool:
        return True

    def get(self) -> Any:
        return self.value


class _Inline:
    """A pool that records each task's articles and hands them back as its result."""

    def __init__(self) -> None:
        self.sent: list[list[Any]] = []

    def apply_async(self, func: Any, args: tuple[list[Any]]) -> _Done:
        self.sent.append(args[0])
        return _Done(args[0])


@pytest.mark.parametrize(("n", "workers"), [(0, 2), (5, 2), (64, 2), (300, 2), (300, 3), (129, 1)])
def test_last_chunks_go_in_small_pieces_in_input_order(n: int, workers: int) -> None:
    jobs = [(f"article-{i}", "") for i in range(n)]
    pool = _Inline()
    out = list(ingest_module._prepared_chunks(iter(jobs), pool, 64, workers, lambda: None))  # type: ignore[arg-type]
    assert [job for chunk in out for job in chunk] == jobs  # every article once, in order
    assert out == pool.sent
    full = max(0, -(-n // 64) - workers)  # chunks sent whole, before the last `workers` ones
    assert [len(c) for c in out[:full]] == [64] * full
    assert all(len(c) <= ingest_module.TAIL_CHUNK for c in out[full:])


def test_tail_pieces_are_never_larger_than_the_chunk() -> None:
    jobs = [(i, "") for i in range(10)]
    out = list(ingest_module._prepared_chunks(iter(jobs), _Inline(), 3, 2, lambda: None))  # type: ignore[arg-type]
    assert [job for chunk in out for job in chunk] == jobs and max(map(len, out)) <= 3


def test_two_workers_store_what_one_stores_whatever_the_batch(tmp_path: Path) -> None:
    # 131 articles in batches of 30: the tail pieces (8) and the batches do not line up
    corpus = write_corpus(tmp_path / "c.jsonl", 131)
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    s1 = ingest([str(corpus)], one, extractor_factory=declared_extractor, batch_size=30)
    s2 = ingest([str(corpus)], two, extractor_factory=declared_extractor, batch_size=30, workers=2)
    assert (s2.new, s2.claims_added, s2.failed) == (s1.new, s1.claims_added, s1.failed) == (131, s1.claims_added, 0)
    for table in ("articles", "claims", "story_signatures", "story_bands"):
        assert dump(one, table) == dump(two, table)
    again = ingest([str(corpus)], two, extractor_factory=declared_extractor, batch_size=30, workers=2)
    assert (again.new, again.unchanged) == (0, 131)  # the stored keys, read beside the rules, are used


def test_a_store_error_with_workers_is_raised_as_without(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "c.jsonl", 3)
    not_a_db = tmp_path / "not.duckdb"
    not_a_db.write_text("this is not a database\n")
    errors = []
    for workers in (1, 2):
        with pytest.raises(store.StoreError) as info:
            ingest([str(corpus)], not_a_db, extractor_factory=declared_extractor, workers=workers)
        errors.append(type(info.value))
    assert errors[0] is errors[1]
    assert not any(t.name == "tracker-background" for t in threading.enumerate())


def test_background_call_returns_or_raises_in_the_caller() -> None:
    assert ingest_module._Background(sum, [1, 2]).result() == 3
    failing = ingest_module._Background(int, "x")
    with pytest.raises(ValueError):
        failing.result()
    nothing = ingest_module._Background(None)
    with nothing:
        pass
    assert nothing.result() is None
