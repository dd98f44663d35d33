"""The command line: exit codes, output formats, help everywhere, and the README naming every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracker.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_numbers_prints_span_value_interval_qualifier_kind() -> None:
    code, out, _ = _run("numbers", "استشهد أكثر من 40 ألف فلسطيني منذ السابع من أكتوبر")
    assert code == 0
    assert out.splitlines() == [
        "7:21\tأكثر من 40 ألف\t40000\t[40000, inf]\tmore_than\tcount",
        "36:40\tسابع\t7\t[7, 7]\texact\tordinal",
    ]


def test_numbers_json() -> None:
    code, out, _ = _run("numbers", "--json", "بين 10 و15 أسيرا")
    assert code == 0
    assert [json.loads(line) for line in out.splitlines()] == [
        {"start": 0, "end": 10, "text": "بين 10 و15", "value": 10, "low": 10, "high": 15, "qualifier": "range", "kind": "count"}
    ]


def test_extract_stdin_json() -> None:
    code, out, _ = _run("extract", "-", "--json", stdin="ما زال 101 محتجز لدى حماس في غزة")
    assert code == 0
    (claim,) = [json.loads(line) for line in out.splitlines()]
    assert (claim["metric"], claim["value"], claim["quote"]) == ("hostages_held", 101, "ما زال 101 محتجز")


def test_extract_reports_unreadable_file() -> None:
    code, _, err = _run("extract", "no/such/file.txt")
    assert code == 1 and "no/such/file.txt: cannot read" in err


def test_rules_check_exit_codes(tmp_path: Path) -> None:
    code, out, _ = _run("rules", "check")
    assert code == 0 and out.splitlines()[-1].startswith("0 errors")
    (tmp_path / "x.yaml").write_text("schema: 1\nnamespace: y\n", encoding="utf-8")
    code, out, _ = _run("rules", "check", "--rules", str(tmp_path))
    assert code == 1
    assert "x.yaml:2:12: E402 namespace 'y' must equal the file name 'x'" in out


def test_rules_explain_shows_the_match() -> None:
    code, out, _ = _run("rules", "explain", "ما زال 101 محتجز لدى حماس")
    assert code == 0
    assert "hostages.still-held@" in out and "«ما زال 101 محتجز» -> kept" in out


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    names = []
    for name, cmd in group.commands.items():
        names.append(f"{prefix}{name}")
        if isinstance(cmd, click.Group):
            names.extend(_commands(cmd, f"{prefix}{name} "))
    return names


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_has_help_and_is_in_the_readme(command: str) -> None:
    code, out, _ = _run(*command.split(), "--help")
    assert code == 0 and "Usage:" in out
    assert f"tracker {command}" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_python_dash_m() -> None:
    out = subprocess.run([sys.executable, "-m", "tracker", "--help"], capture_output=True, text=True, check=True).stdout
    assert "numbers" in out and "rules" in out
