"""`tracker extract` and `tracker rules ...`: read claims, and check, test and explain the rules."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from tracker.cli import main
from tracker.errors import RuleSetError, summary
from tracker.ruleset import RuleSet, check_rules, default_rules_dir, load_rules

RULES_OPTION = click.option(
    "--rules", "rules_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Folder of rule files (default: the project's rules/).",
)
LOCK_NAME = "rules.lock"


def _load(rules_dir: Path | None) -> RuleSet:
    try:
        return load_rules(rules_dir)
    except RuleSetError as exc:
        for err in exc.errors:
            click.echo(str(err), err=True)
        raise click.ClickException("the rules do not load; run `tracker rules check` for details") from None


def _read_inputs(source: str) -> list[tuple[str, str]]:
    """(label, text) pairs from a file, a JSONL file of articles, or `-` (stdin)."""
    if source == "-":
        data = sys.stdin.read()
        label = "stdin"
    else:
        path = Path(source)
        try:
            data = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{source}: cannot read: {exc}") from None
        label = path.name
    if source.endswith(".jsonl"):
        items = []
        for n, line in enumerate(data.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                items.append((str(rec.get("id") or f"{label}:{n}"), str(rec["text"])))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                click.echo(f"{source}:{n}: skipped: not an article record ({exc})", err=True)
        return items
    return [(label, data)]


@main.command("extract")
@click.argument("source", metavar="FILE|-")
@RULES_OPTION
@click.option("--json", "as_json", is_flag=True, help="One JSON object per claim.")
def extract_cmd(source: str, rules_dir: Path | None, as_json: bool) -> None:
    """Print the claims in an article file, a JSONL file of articles, or stdin (`-`).

    \b
    Examples:
      tracker extract fixtures/seeds/003_c51d769e648d5aa3.txt
      echo "ما زال 101 محتجز لدى حماس في غزة" | tracker extract - --json
    """
    from tracker.extract import extract_text

    ruleset = _load(rules_dir)
    for label, text in _read_inputs(source):
        result = extract_text(text, ruleset)
        for t in result.timeouts:
            click.echo(f"{label}: {t.message}; other rules went on", err=True)
        for c in result.claims:
            if as_json:
                click.echo(json.dumps({"article": label, **c.model_dump()}, ensure_ascii=False))
            else:
                bound = "" if c.qualifier == "exact" else f" {c.qualifier} [{c.value_low}, {c.value_high}]"
                extra = f" ({c.subgroup})" if c.subgroup else ""
                who = f"  — {c.attributed_to}" if c.attributed_to else ""
                click.echo(f"{label}:{c.span_start}-{c.span_end}\t{c.metric}={c.value}{bound}{extra}\t"
                           f"{c.rule_id}@{c.rule_version}\t«{c.quote}»{who}")


@main.group("rules")
def rules_group() -> None:
    """Check, test and explain the rule files."""


@rules_group.command("check")
@RULES_OPTION
def rules_check(rules_dir: Path | None) -> None:
    """Validate every rule file; print all problems as `path:line:col: CODE message`.

    Exits 1 when there is any error (warnings alone exit 0).

    \b
    Example:
      tracker rules check --rules rules/
    """
    ruleset, errors = check_rules(rules_dir)
    for err in errors:
        click.echo(str(err))
    n_files = len(ruleset.files) if ruleset else len(list((rules_dir or default_rules_dir()).glob("*.yaml")))
    click.echo(summary(errors, n_files))
    if ruleset is None:
        sys.exit(1)


@rules_group.command("test")
@RULES_OPTION
@click.option("-k", "select", default=None, help="Only rules whose id contains this text.")
def rules_test(rules_dir: Path | None, select: str | None) -> None:
    """Run every rule example; print a diff of expected and got for each failure.

    Examples marked `todo` must fail (known gaps); one that passes is reported so the `todo`
    can be removed. Exits 1 on any failure.

    \b
    Example:
      tracker rules test -k hostages
    """
    from tracker.checks import iter_examples, run_example

    ruleset = _load(rules_dir)
    failed = passed = xfailed = 0
    for case in iter_examples(ruleset):
        if select and select not in case.rule.full_id:
            continue
        result = run_example(case, ruleset)
        if case.example.todo:
            if result.passed:
                failed += 1
                click.echo(f"XPASS {case.id}: todo example now passes; remove `todo: {case.example.todo}`")
            else:
                xfailed += 1
            continue
        if result.passed:
            passed += 1
            continue
        failed += 1
        click.echo(f"FAIL {case.id} ({case.rule.path}:{case.rule.line})\n  text: {case.example.text}")
        for p in result.problems:
            click.echo(f"  {p}")
    click.echo(f"{passed} passed, {failed} failed, {xfailed} known gaps (todo)")
    if failed:
        sys.exit(1)


@rules_group.command("explain")
@click.argument("text")
@RULES_OPTION
def rules_explain(text: str, rules_dir: Path | None) -> None:
    """Show which rules matched which span of TEXT, and which had their words present but did not match.

    \b
    Example:
      tracker rules explain "وتشير التقديرات إلى أنه ما زال 101 محتجز لدى حماس"
    """
    from tracker.explain import explain

    ruleset = _load(rules_dir)
    for line in explain(text, ruleset):
        click.echo(line)


@rules_group.command("profile")
@click.argument("source", metavar="FILE|-")
@RULES_OPTION
@click.option("--top", default=15, show_default=True, help="How many rules to show.")
def rules_profile(source: str, rules_dir: Path | None, top: int) -> None:
    """Time every rule over the articles in FILE (text or JSONL) and list the slowest.

    \b
    Example:
      tracker rules profile articles.jsonl --top 10
    """
    from tracker.profile import profile_rules

    ruleset = _load(rules_dir)
    texts = [text for _, text in _read_inputs(source)]
    timings = profile_rules(texts, ruleset)
    total = sum(t.seconds for t in timings)
    click.echo(f"{len(texts)} articles, {len(timings)} rules, {total:.2f} s searching")
    for t in timings[:top]:
        click.echo(f"{t.seconds:8.3f} s  {t.us_per_kb:9.0f} us/KB  {t.matches:5d} matches  {t.rule_id}")


@rules_group.command("lock")
@RULES_OPTION
def rules_lock(rules_dir: Path | None) -> None:
    """Record each rule's version and content hash in rules/rules.lock (after bumping versions)."""
    from tracker.rulelock import write_lock

    ruleset = _load(rules_dir)
    path = write_lock(ruleset, (rules_dir or default_rules_dir()) / LOCK_NAME)
    click.echo(f"wrote {path} ({len(ruleset.rules)} rules)")


@rules_group.command("schema")
@RULES_OPTION
def rules_schema(rules_dir: Path | None) -> None:
    """Write the JSON Schema of rule files to rules/_schema.json (for editors)."""
    from tracker.ruleschema import json_schema

    path = (rules_dir or default_rules_dir()) / "_schema.json"
    path.write_text(json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"wrote {path}")
