"""`tracker bench`: the benchmark of issue 6 (tracker/bench.py), every section in one run."""

from __future__ import annotations

from pathlib import Path

import click

from tracker import bench
from tracker.cli import main


def _int_list(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        out = tuple(int(v.replace("_", "")) for v in value.split(",") if v.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r}: expected numbers separated by commas, e.g. 1000000,10000000") from None
    if not out or min(out) < 1:
        raise click.BadParameter("expected at least one positive number")
    return out


def _sections(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    out = tuple(v.strip() for v in value.split(",") if v.strip())
    unknown = sorted(set(out) - set(bench.SECTIONS))
    if unknown:
        raise click.BadParameter(f"unknown section {', '.join(unknown)}; known: {', '.join(bench.SECTIONS)}")
    return out


@main.command("bench")
@click.option("--articles", type=click.IntRange(1), default=bench.DEFAULT_ARTICLES, show_default=True,
              help="Articles (~4 KB each) in the corpus of the passes and of the ingest runs.")
@click.option("--repeat", type=click.IntRange(1), default=bench.DEFAULT_REPEAT, show_default=True,
              help="Timed runs of each pass, ingest and bulk load (median, min, max reported).")
@click.option("--claims", default=",".join(map(str, bench.DEFAULT_CLAIMS)), show_default=True,
              callback=_int_list, help="Claim counts to generate for the dashboard queries, comma-separated.")
@click.option("--query-repeat", type=click.IntRange(1), default=bench.DEFAULT_QUERY_REPEAT, show_default=True,
              help="Calls of each dashboard query (p50, p95 reported).")
@click.option("--bulk-rows", type=click.IntRange(1), default=bench.DEFAULT_BULK_ROWS, show_default=True,
              help="Claim rows written through the store's write path in the bulk-load section.")
@click.option("--memory-articles", type=click.IntRange(1), default=bench.DEFAULT_MEMORY_ARTICLES, show_default=True,
              help="Articles ingested while the peak memory is measured.")
@click.option("--memory-workers", type=click.IntRange(1), default=2, show_default=True,
              help="--workers of the ingest whose memory is measured (RSS summed over its processes).")
@click.option("--skip", default="", callback=_sections, metavar="SECTION,...",
              help=f"Sections to leave out: {', '.join(bench.SECTIONS)}.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              default=bench.ROOT / "bench" / "results" / "tracker_bench.json", show_default=True,
              help="Write the results here as JSON (written after each section).")
@click.option("--workdir", type=click.Path(file_okay=False), default=None,
              help="Keep the generated corpus and databases here (default: a temporary folder, removed).")
@click.option("--corpus", "corpus", type=click.Path(exists=True, dir_okay=False), default=None,
              help="A JSONL of real articles (one object with a \"text\" per line) to measure in the "
                   "passes and ingest sections, instead of the generated corpus (--articles is then ignored).")
@click.option("--seed", type=int, default=2024, show_default=True, help="Seed of the generated corpus.")
@click.option("--rules", "rules_dir", type=click.Path(exists=True, file_okay=False), default=None,
              help="Rule folder for extraction and ingest (default: rules/, or $TRACKER_RULES).")
def bench_cmd(articles: int, repeat: int, claims: tuple[int, ...], query_repeat: int, bulk_rows: int,
              memory_articles: int, memory_workers: int, skip: tuple[str, ...], json_path: Path,
              workdir: str | None, corpus: str | None, seed: int, rules_dir: str | None) -> None:
    """Measure the tracker on a generated corpus (or a JSONL of your own articles), in one run, and
    write the results as JSON.

    \b
    Sections, each printed as it finishes:
      1-2  a read+decode+\\d+ baseline, then normalize, find_numbers and full
           extraction alone, as MB/s, articles/s and ratios to the baseline;
           and a floor: each claim's rule pattern run once at its match
      3    `tracker ingest` into a fresh DuckDB file, 1 and 2 workers ("ingest")
           and bulk loading of claim rows through the store ("bulk")
      4    the dashboard's queries on generated claims, p50 and p95 ("queries")
      5    peak memory of `tracker ingest` over many articles ("memory")
    Not a test: it asserts nothing; compare the JSON of two runs.

    \b
    Examples:
      tracker bench
      tracker bench --articles 200 --claims 100000 --memory-articles 2000 --json quick.json
      tracker bench --skip queries,memory
      tracker bench --corpus news.jsonl --skip bulk,queries,memory
    """
    cfg = bench.Config(articles=articles, repeat=repeat, claims=claims, memory_articles=memory_articles,
                       memory_workers=memory_workers, query_repeat=query_repeat, bulk_rows=bulk_rows, skip=skip,
                       seed=seed, workdir=workdir, rules=rules_dir, corpus=corpus)
    try:
        bench.run(cfg, json_path)
    except bench.CorpusError as exc:  # read once, when the run starts
        raise click.BadParameter(str(exc), param_hint="--corpus") from None
