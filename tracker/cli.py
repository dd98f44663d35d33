"""The `tracker` command line: thin wrappers over the library, one subcommand each."""

from __future__ import annotations

import json
import sys

import click

from tracker.numbers import find_numbers


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tracker")
def main() -> None:
    """Track the figures of the Gaza war and its hostage and prisoner negotiations in Arabic news.

    \b
    Example:
      tracker numbers "أطلقت حماس سراح 69 أسيرًا"
    """


@main.command("numbers")
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per number.")
def numbers_cmd(text: str, as_json: bool) -> None:
    """Print every number expression in TEXT: span, text, value, interval, qualifier, kind.

    \b
    Example:
      tracker numbers "استشهد أكثر من 40 ألف فلسطيني منذ السابع من أكتوبر"
    """
    for n in find_numbers(text):
        q = n.quantity
        if as_json:
            click.echo(json.dumps({"start": n.start, "end": n.end, "text": n.text, "value": q.value,
                                   "low": q.low, "high": q.high, "qualifier": q.qualifier, "kind": n.kind},
                                  ensure_ascii=False))
        else:
            low = "-inf" if q.low is None else q.low
            high = "inf" if q.high is None else q.high
            click.echo(f"{n.start}:{n.end}\t{n.text}\t{q.value}\t[{low}, {high}]\t{q.qualifier}\t{n.kind}")


def _register_subcommands() -> None:
    """Attach the command groups that live in their own modules."""
    from tracker import cli_rules  # noqa: F401  (registers extract, rules)
    from tracker import cli_store  # noqa: F401  (registers ingest, reextract, disagreements, migrate)
    from tracker import cli_bench  # noqa: F401  (registers bench)
    from tracker import cli_dashboard  # noqa: F401  (registers dashboard)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
