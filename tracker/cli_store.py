"""`tracker ingest`, `reextract`, `disagreements` and `migrate`: the database commands."""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Any

import click

from tracker import store
from tracker.articles import DEFAULT_MAX_BYTES
from tracker.cli import main
from tracker.ingest import COMMIT_CLAIMS, COMMIT_SECONDS, DEFAULT_BATCH, Summary, ingest, reextract

DB_OPTION = click.option(
    "--db", default=store.DEFAULT_DB, show_default=True, envvar="TRACKER_DB",
    type=click.Path(dir_okay=False), help="DuckDB database file (or set TRACKER_DB).",
)
WORKERS_OPTION = click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
                              help="Extract in N parallel processes.")
BATCH_OPTION = click.option("--batch-size", type=click.IntRange(1), default=DEFAULT_BATCH, show_default=True,
                            help=f"Articles per transaction at most; a transaction is also committed once it "
                                 f"holds {COMMIT_CLAIMS:,} claims or {COMMIT_SECONDS:g} s after the previous one.")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")


def _finish(summary: Summary, as_json: bool, strict: bool = False) -> None:
    click.echo(summary.as_json() if as_json else summary.line())
    if summary.interrupted:
        sys.exit(130)
    if strict and summary.failed:
        sys.exit(1)


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@DB_OPTION
@WORKERS_OPTION
@BATCH_OPTION
@click.option("--max-mb", type=click.FloatRange(min=0, min_open=True), default=DEFAULT_MAX_BYTES / 2**20,
              show_default=True, help="Skip articles larger than this many MB.")
@click.option("--strict", is_flag=True, help="Exit with status 1 when any record was skipped.")
@JSON_OPTION
def ingest_cmd(paths: tuple[str, ...], db: str, workers: int, batch_size: int, max_mb: float,
               strict: bool, as_json: bool) -> None:
    """Read articles into the database and extract their claims.

    PATH is a JSONL file (one article a line: id, publisher, url, published_at, title, text;
    other keys kept as metadata), a .txt/.md file with optional YAML front matter, a CSV file
    with those columns, an HTML page, a folder (read recursively), or - for JSONL on stdin.
    Articles already stored unchanged are skipped; a changed text under the same id replaces
    the article and its claims. Bad records are reported as path:line and skipped.

    \b
    Examples:
      tracker ingest fixtures/seeds/articles.jsonl
      tracker ingest corpus/ --workers 4 --db news.duckdb
      cat new.jsonl | tracker ingest -
    """
    try:
        summary = ingest(paths, db, workers=workers, batch_size=batch_size, max_bytes=int(max_mb * 2**20))
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    _finish(summary, as_json, strict)


@main.command("reextract")
@DB_OPTION
@WORKERS_OPTION
@BATCH_OPTION
@click.option("--force", is_flag=True, help="Also re-run articles already extracted with the current rules.")
@JSON_OPTION
def reextract_cmd(db: str, workers: int, batch_size: int, force: bool, as_json: bool) -> None:
    """Re-run the current rules over the stored articles, without the input files.

    Claims that change move to claims_history (with the run that superseded them), so old and
    new rule versions stay traceable.

    \b
    Example:
      tracker reextract --db tracker.duckdb
    """
    try:
        summary = reextract(db, workers=workers, batch_size=batch_size, force=force)
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    _finish(summary, as_json)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.4g}"
    if isinstance(value, list):
        return ",".join(_cell(v) for v in value)
    return str(value)


@main.command("disagreements")
@DB_OPTION
@click.option("--metric", help="Only this metric (e.g. killed, hostages_held).")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), help="Only conflicts reaching this day or later.")
@click.option("--window-days", type=click.IntRange(0), default=1, show_default=True,
              help="Compare claims whose as-of days are at most N days apart.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per conflict group.")
def disagreements_cmd(db: str, metric: str | None, since: Any, window_days: int, as_json: bool) -> None:
    """Print the disagreements view: conflicting figures from independent sources.

    One row per conflict group (metric, subgroup, first day): the number of sources, the
    lowest and highest figures, the relative spread, and the claim ids on the low and high
    sides. Tab-separated with a header, or JSON lines with --json.

    \b
    Examples:
      tracker disagreements --metric killed --since 2024-01-01
      tracker disagreements --window-days 0 --json
    """
    since_day: date | None = since.date() if since else None
    try:
        con = store.connect(db, read_only=True)
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        cur = con.execute(
            "SELECT * FROM disagreements_within($window) "
            "WHERE ($metric IS NULL OR metric = $metric) AND ($since IS NULL OR last_day >= $since) "
            "ORDER BY first_day, metric, subgroup NULLS FIRST, kind, planned",
            {"window": window_days, "metric": metric, "since": since_day})
        columns = [d[0] for d in cur.description]
        rows = cur.fetchall()
    finally:
        con.close()
    if as_json:
        for row in rows:
            click.echo(json.dumps(dict(zip(columns, row)), ensure_ascii=False, default=str))
        return
    click.echo("\t".join(columns))
    for row in rows:
        click.echo("\t".join(_cell(v) for v in row))
    click.echo(f"{len(rows)} disagreement groups", err=True)


@main.command("migrate")
@DB_OPTION
def migrate_cmd(db: str) -> None:
    """Create the database, or upgrade an older one to the current schema.

    Any write command (ingest, reextract) does this too; readers such as the dashboard open
    the file read-only and need it done first.

    \b
    Example:
      tracker migrate --db tracker.duckdb
    """
    try:
        con = store.connect(db)
    except store.StoreError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        click.echo(f"{db}: schema version {store.schema_version(con)}")
    finally:
        con.close()
