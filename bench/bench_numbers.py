"""Benchmark the number parser against a plain ``\\d+`` scan, on ~10 MB of article-like text.

The corpus is built from the seed articles (fixtures/seeds/articles.jsonl): each copy has its
figures replaced by varied ones (three digit scripts, separators, decimals, scale words, number
words, qualifiers, vague plurals), so the parser sees the mix a news feed gives it. Articles are
processed one at a time, as the tracker does. Three passes are timed in the same run, several
times each: a ``regex`` ``\\d+`` scan (the floor any digit finder pays), ``normalize`` and
``find_numbers`` (which normalises, scans and maps spans back). Sizes are UTF-8 bytes; "x base"
is a pass's median time over the ``\\d+`` scan's.

Run: ``.venv/bin/python bench/bench_numbers.py [--mb 10] [--repeat 5] [--json PATH]``. The
figure generator is shared with ``tracker bench`` (``tracker/bench.py``), which measures the
whole pipeline (extraction, ingest, queries, memory).
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import regex

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tracker.bench import SEEDS, vary_figures  # noqa: E402  (the figure generator `tracker bench` uses too)
from tracker.numbers import find_numbers  # noqa: E402
from tracker.textnorm import normalize  # noqa: E402

_DIGIT_RUN = regex.compile(r"\d+")


def build_corpus(target_mb: float, seed: int = 2024) -> list[str]:
    """Article texts, figures varied, until their UTF-8 size reaches ``target_mb``."""
    with SEEDS.open(encoding="utf-8") as f:
        bases = [json.loads(line)["text"] for line in f if line.strip()]
    rnd = random.Random(seed)
    articles: list[str] = []
    size = 0
    target = int(target_mb * 1_000_000)
    while size < target:
        base = rnd.choice(bases)
        text = vary_figures(base, rnd)
        articles.append(text)
        size += len(text.encode("utf-8"))
    return articles


def _time(fn: Callable[[list[str]], int], corpus: list[str], repeat: int) -> tuple[list[float], list[float], int]:
    """Wall and CPU times of ``repeat`` runs, the garbage collector off while timing (as ``timeit``).

    CPU time is reported too: on a shared machine the wall clock also counts other processes.
    """
    walls, cpus, count = [], [], 0
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            count = fn(corpus)
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
        finally:
            gc.enable()
    return walls, cpus, count


def _digits(corpus: list[str]) -> int:
    findall = _DIGIT_RUN.findall
    return sum(len(findall(t)) for t in corpus)


def _normalize(corpus: list[str]) -> int:
    return sum(len(normalize(t).text) for t in corpus)


def _find_numbers(corpus: list[str]) -> int:
    return sum(len(find_numbers(t)) for t in corpus)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=10.0, help="corpus size in MB of UTF-8 (default 10)")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions of each pass (default 5)")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)

    corpus = build_corpus(args.mb)
    mb = sum(len(t.encode("utf-8")) for t in corpus) / 1_000_000
    chars = sum(map(len, corpus))
    print(f"corpus: {len(corpus)} articles, {mb:.2f} MB UTF-8, {chars:,} characters; {args.repeat} runs each")

    passes = {"regex \\d+": _digits, "normalize": _normalize, "find_numbers": _find_numbers}
    results: dict[str, dict[str, float]] = {}
    base: tuple[float, float] | None = None
    print(f"{'':<14}{'---------- wall clock ----------':>40}  {'---- CPU time ----':>27}")
    print(f"{'pass':<14}{'median s':>9}{'min s':>8}{'max s':>8}{'MB/s':>8}{'x base':>8}"
          f"  {'median s':>9}{'MB/s':>9}{'x base':>8}  items")
    for name, fn in passes.items():
        fn(corpus[:50])  # warm caches (lru_cache of normalize_char, compiled patterns)
        walls, cpus, count = _time(fn, corpus, args.repeat)
        med, cpu = statistics.median(walls), statistics.median(cpus)
        base = base or (med, cpu)
        row = {
            "median_s": med, "min_s": min(walls), "max_s": max(walls), "mb_per_s": mb / med,
            "ratio_to_digits": med / base[0],
            "cpu_median_s": cpu, "cpu_min_s": min(cpus), "cpu_max_s": max(cpus), "cpu_mb_per_s": mb / cpu,
            "cpu_ratio_to_digits": cpu / base[1], "items": count,
        }
        results[name] = row
        print(f"{name:<14}{med:>9.3f}{min(walls):>8.3f}{max(walls):>8.3f}{row['mb_per_s']:>8.1f}"
              f"{row['ratio_to_digits']:>8.1f}  {cpu:>9.3f}{row['cpu_mb_per_s']:>9.1f}"
              f"{row['cpu_ratio_to_digits']:>8.1f}  {count:,}")

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "corpus": {"articles": len(corpus), "mb_utf8": mb, "characters": chars},
            "repeat": args.repeat, "python": platform.python_version(), "machine": platform.machine(),
            "results": results,
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
