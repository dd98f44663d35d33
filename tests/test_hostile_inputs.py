"""Hostile articles and rule files (issue 7): every bad input gives a clear message naming its file
and line, every good record next to it is stored, nothing in YAML is ever run, and a runaway or
malformed rule file is stopped and named.

The article corpus is written by fixtures/bad/build_hostile.py (binary and 50 MB files are not
stored in git); fixtures/bad/*.md|jsonl|csv|txt are covered by tests/test_ingest.py.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import textwrap
from pathlib import Path

import pytest

from store_helpers import ROOT, query, real_extractor
from tracker.articles import read_file
from tracker.ingest import ingest, reextract
from tracker.ruleset import check_rules

_spec = importlib.util.spec_from_file_location("build_hostile", ROOT / "fixtures" / "bad" / "build_hostile.py")
assert _spec and _spec.loader
build_hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_hostile)

# ---- the article corpus --------------------------------------------------------------------------

# Every message, in the order ingest reports them (files in name order, lines in order).
HOSTILE_ERRORS = [
    "big/fifty_mb.txt:1: file is 50.0 MB, above the 10 MB limit",
    "empty/empty.jsonl:1: no records in the file",
    "empty/empty.txt:1: empty text",
    "empty/header_only.csv:1: no records in the file",
    "empty/whitespace.txt:1: empty text",
    "empty/whitespace_body.md:5: empty text",
    "enc/utf16_records.jsonl:2: invalid UTF-16 at character 28 of the line",
    "enc/utf16_truncated.txt:3: invalid UTF-16",
    "html/scripts_only.html:1: no main text found in the page",
    "junk/junk.jsonl:2: invalid UTF-8 at byte 1 of the line",
    "junk/junk.jsonl:3: not JSON: Expecting value (column 1)",
    "junk/junk.jsonl:4: invalid UTF-8 at byte 1 of the line",
    "junk/junk.jsonl:5: field 'text' holds a NUL character at character 2: binary data, not text",
    "junk/nul.txt:3: field 'text' holds a NUL character at character 58: binary data, not text",
    "junk/png.txt:1: invalid UTF-8",
    "records/dates.csv:2: field 'published_at': '2024-13-45' is not a date",
    "records/dates.jsonl:1: field 'published_at': '2024-13-45' is not a date",
    "records/dates.jsonl:2: field 'published_at': '2024-02-30' is not a date",
    "records/dates.jsonl:3: field 'published_at': '0000-00-00' is not a date",
    "records/dates.jsonl:4: field 'published_at': '2024-01-01T25:00' is not a date",
    "records/dates.jsonl:5: field 'published_at': '1066-10-14' is not a plausible publication date (year 1066)",
    "records/dates.jsonl:6: field 'published_at': 'yesterday' is not a date",
    "records/dates.md:4: field 'published_at': '2024-13-45' is not a date",
    "records/not_json.jsonl:2: not JSON: Unterminated string starting at (column 28)",
    "records/not_json.jsonl:3: not JSON: Expecting property name enclosed in double quotes (column 32)",
    "records/not_json.jsonl:4: not JSON: Expecting property name enclosed in double quotes (column 2)",
    "records/not_json.jsonl:5: not JSON: NaN is not a JSON value",
    "records/not_json.jsonl:6: nested more than 64 levels deep",  # 100,000 brackets: no RecursionError
    "records/not_json.jsonl:7: nested more than 64 levels deep",
    "records/not_json.jsonl:8: not JSON: Expecting value (column 1)",
    "records/typed.jsonl:2: field 'published_at': 12 is not a date",
    "records/typed.jsonl:3: field 'text' must be a string, not list",
    "records/typed.jsonl:4: field 'url' must be text, not dict",
    "records/typed.jsonl:5: field 'id' must be text or a number, not dict",
    "records/typed.jsonl:6: field 'title' must be text, not bool",
    "records/typed.jsonl:7: field 'publisher' must be text, not list",
    "records/typed.jsonl:8: missing field 'text'",
    "records/typed.jsonl:9: missing field 'text'",
    "records/typed.jsonl:10: field 'text' must be a string, not float",
    "records/typed.jsonl:11: field 'published_at': {'day': 1} is not a date",
    "yaml/alias_bomb.md:4: bad front matter: YAML aliases (*name) are not allowed in front matter",
    "yaml/python_tag.md:3: bad front matter: could not determine a constructor for the tag "
    "'tag:yaml.org,2002:python/object/apply:os.system'",
]

# Every good record, with where it was read from.
HOSTILE_GOOD = {
    "h-after-long-line": "big/one_mb_line.jsonl:2",
    "h-bom-csv": "enc/utf8_bom_excel.csv:2",
    "h-cdate-2": "records/dates.csv:3",
    "h-date-7": "records/dates.jsonl:7",
    "h-json-1": "records/not_json.jsonl:1",
    "h-json-9": "records/not_json.jsonl:9",
    "h-junk-1": "junk/junk.jsonl:1",
    "h-junk-6": "junk/junk.jsonl:6",
    "h-long-line": "big/one_mb_line.jsonl:1",
    "h-typed-1": "records/typed.jsonl:1",
    "h-typed-12": "records/typed.jsonl:12",
    "h-u16-1": "enc/utf16_records.jsonl:1",
    "h-u16-3": "enc/utf16_records.jsonl:3",
    "h-u16-csv-1": "enc/utf16_table.csv:2",
    "h-u16-csv-2": "enc/utf16_table.csv:3",
    "h-utf16be": "enc/utf16be_bom.md:1",
    "h-utf16le": "enc/utf16le_bom.txt:1",
    "h-utf8-bom": "enc/utf8_bom.md:1",
    "h-yaml-good": "yaml/good_front_matter.md:1",
    "rec-*": "html/scripts.html:1",  # no id: named by its content
}


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str], object]:
    tmp = tmp_path_factory.mktemp("hostile")
    corpus = build_hostile.build(tmp / "in", big=True)
    assert (corpus / "big" / "fifty_mb.txt").stat().st_size >= 50 * 2**20
    (line,) = [json.loads(r)["text"] for r in (corpus / "big" / "one_mb_line.jsonl").read_text(encoding="utf-8")
               .splitlines()[:1]]
    assert len(line) == 2**20 and not any(c.isspace() for c in line)
    errors: list[str] = []
    db = tmp / "t.duckdb"
    summary = ingest([str(corpus)], db, extractor_factory=real_extractor, report=errors.append)
    return corpus, db, errors, summary


def test_each_bad_article_is_named_by_file_and_line(hostile_db) -> None:
    corpus, _, errors, summary = hostile_db
    assert [e.removeprefix(f"{corpus}/") for e in errors] == HOSTILE_ERRORS
    assert summary.failed == len(HOSTILE_ERRORS) == 42


def test_every_good_record_next_to_them_is_stored(hostile_db) -> None:
    corpus, db, _, summary = hostile_db
    rows = query(db, "SELECT article_id, read_from FROM articles ORDER BY read_from")
    assert summary.new == len(rows) == len(HOSTILE_GOOD) == 20
    named = {aid: where.removeprefix(f"{corpus}/") for aid, where in rows}
    assert {a: w for a, w in named.items() if not a.startswith("rec-")} == \
        {a: w for a, w in HOSTILE_GOOD.items() if not a.startswith("rec-")}
    assert sorted(w for a, w in named.items() if a.startswith("rec-")) == ["html/scripts.html:1"]
    # byte order marks: the text is the text, the mark is gone
    good = build_hostile.GOOD
    assert query(db, "SELECT DISTINCT text FROM articles WHERE article_id LIKE 'h-u%' OR article_id = 'h-bom-csv' "
                     "ORDER BY 1") == [(good,), (good + "\n",)]
    # every stored claim slices its article
    claims = query(db, "SELECT a.article_id, a.text, c.span_start, c.span_end, c.quote FROM claims c "
                       "JOIN articles a USING (article_id)")
    assert claims and all(text[a:b] == quote for _, text, a, b, quote in claims)
    # each good record states "ما زال 130 محتجزا": one claim; the page two; 1 MB of glued words none
    per_article = dict(query(db, "SELECT read_from, count(*) FROM claims JOIN articles USING (article_id) GROUP BY 1"))
    expected = {f"{corpus}/{w}": 1 for a, w in HOSTILE_GOOD.items() if a not in ("h-long-line", "rec-*")}
    assert per_article == {**expected, f"{corpus}/html/scripts.html:1": 2}


def test_scripts_and_styles_never_reach_the_text(hostile_db) -> None:
    corpus, db, _, _ = hostile_db
    ((title, text),) = query(db, "SELECT title, text FROM articles WHERE read_from LIKE '%scripts.html:1'")
    assert title == "خبر"  # the article's heading
    assert "ارتفع إلى 30035 شهيدا" in text and "نقص الوقود والدواء" in text
    for leak in ("LEAK", "alert", "document.write", "color:red", "<", "onerror"):
        assert leak not in text, leak


def test_yaml_tags_in_front_matter_never_run(hostile_db) -> None:
    corpus, _, _, _ = hostile_db
    assert not (corpus / "PWNED").exists()


def test_utf16_and_utf32_with_a_bom_read_like_utf8(tmp_path: Path) -> None:
    text = "ما زال ١٣٠ محتجزًا\nفي غزة"
    for codec, bom in (("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-32-le", b"\xff\xfe\x00\x00"),
                       ("utf-32-be", b"\x00\x00\xfe\xff"), ("utf-8", b"\xef\xbb\xbf")):
        for name, data in (("a.txt", f"---\nid: x\n---\n{text}"), ("a.jsonl", json.dumps({"id": "x", "text": text}) + "\n"),
                           ("a.csv", f'id,text\nx,"{text}"\n')):
            path = tmp_path / codec / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(bom + data.encode(codec))
            (article,) = read_file(path)
            assert (article.article_id, article.text) == ("x", text), (codec, name, article)


def test_utf16_line_reader_keeps_long_lines_whole_and_limits_them(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    lines = [json.dumps({"id": f"r{i}", "text": "غ" * (70_000 + i)}, ensure_ascii=False) for i in range(3)]
    path.write_bytes(b"\xff\xfe" + ("\n".join(lines) + "\n").encode("utf-16-le"))
    assert [a.article_id for a in read_file(path)] == ["r0", "r1", "r2"]  # lines span the 64K decode chunks
    over = list(read_file(path, max_bytes=2**17))
    assert [str(e).removeprefix(f"{path}:") for e in over] == [
        "1: line is 0.1 MB, above the 0.125 MB limit", "2: line is 0.1 MB, above the 0.125 MB limit",
        "3: line is 0.1 MB, above the 0.125 MB limit"]


# ---- rule files ----------------------------------------------------------------------------------

COMMON = ROOT / "rules" / "common.yaml"
EXAMPLES = """\
    examples:
      - {text: "5 رهائن", claims: [{value: 5}]}
      - {text: "6 رهائن", claims: [{value: 6}]}
      - {text: "لا شيء", claims: []}
"""


def _rule(rule_id: str, pattern: str, extra: str = "") -> str:
    return (f"  - id: {rule_id}\n    version: 1\n    status: stable\n    metric: hostages_held\n"
            f"    description: test\n    pattern: '{pattern}'\n{extra}" + EXAMPLES)


def _check(tmp_path: Path, body: str | bytes) -> list[str]:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    shutil.copy(COMMON, folder / "common.yaml")
    (folder / "t.yaml").write_bytes(body if isinstance(body, bytes) else textwrap.dedent(body).encode())
    _, errors = check_rules(folder)
    return [str(e).replace(f"{folder}/", "") for e in errors]


HEAD = "schema: 1\nnamespace: t\n"

# (file body, the exact errors). Misspelt key, wrong type, broken regex, duplicate id, unknown vocab
# and os.system via !!python/object/apply are in tests/test_loader_errors.py; these are the others.
RULE_FILES = {
    "python-name-tag": (HEAD + "vocab: !!python/name:os.system\n",
                        ["t.yaml:3:8: E101 YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed in rule files"]),
    "python-new-tag": (HEAD + 'vocab: !!python/object/new:os.system ["touch PWNED"]\n',
                       ["t.yaml:3:8: E101 YAML tag 'tag:yaml.org,2002:python/object/new:os.system' is not allowed in rule files"]),
    "custom-tag": (HEAD + "vocab: !include /etc/passwd\n",
                   ["t.yaml:3:8: E101 YAML tag '!include' is not allowed in rule files"]),
    "merge-key": (HEAD + "base: &b {x: 1}\nother:\n  <<: *b\n",
                  ["t.yaml:5:3: E101 YAML tag 'tag:yaml.org,2002:merge' is not allowed in rule files"]),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00",
               ["t.yaml:1:1: E101 cannot read: 'utf-8' codec can't decode byte 0x89 in position 0: invalid start byte"]),
    "empty": ("", ["t.yaml:1:1: E202 schema: Field required", "t.yaml:1:1: E202 namespace: Field required"]),
    "top-level-list": ("- a\n- b\n", ["t.yaml:1:1: E202 a rule file must be a mapping"]),
    "rules-not-a-list": (HEAD + "rules: {a: 1}\n", ["t.yaml:3:1: E202 rules: must be a list of rules"]),
    "pattern-a-list": (HEAD + "rules:\n" + _rule("a", "x").replace("pattern: 'x'", "pattern: [1, 2]"),
                       ["t.yaml:9:14: E202 t.a: pattern: Input should be a valid string"]),
    "examples-a-string": (HEAD + "rules:\n" + _rule("a", "{{number}}").split("    examples:")[0] + "    examples: hello\n",
                          ["t.yaml:10:15: E202 t.a: examples: Input should be a valid list (got 'hello')"]),
    "id-with-a-path": (HEAD + "rules:\n" + _rule("A B/../x", "{{number}}"),
                       ["t.yaml:4:9: E202 t.A B/../x: id: String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$' "
                        "(got 'A B/../x')"]),
    "misspelt-top-key": (HEAD + "rulez: []\n", ["t.yaml:3:1: E201 rulez: unknown key (misspelt?)"]),
}


@pytest.mark.parametrize("name", RULE_FILES)
def test_hostile_rule_file_gives_its_precise_error(tmp_path: Path, name: str) -> None:
    body, expected = RULE_FILES[name]
    assert _check(tmp_path, body) == expected
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


def test_yaml_alias_bomb_in_a_rule_file_is_refused(tmp_path: Path) -> None:
    # 9 lines that stand for 9^9 = 387,420,489 strings (before the fix: 57 s at 6 levels, no end at 9)
    body = HEAD + "vocab:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"  {n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi"))
    errors = _check(tmp_path, body)
    assert len(errors) == 1 and errors[0].startswith("t.yaml:5:") and " E101 " in errors[0], errors[:3]


def test_deeply_nested_rule_file_is_an_error_not_a_crash(tmp_path: Path) -> None:
    errors = _check(tmp_path, HEAD + "x: " + "[" * 800 + "]" * 800 + "\n")  # 400 levels: E201 x: unknown key
    assert errors and all(e.startswith("t.yaml:3:") for e in errors)


# (ك|كك)+ before a failing tail: exponential backtracking (30 letters take a second, 60 forever)
# The runaway rule's words ("رهينتين X") are in the sentence, so the engine has to search it (a
# rule whose words are absent is skipped: tests/test_loader_errors.py), but not where it runs away.
RUNAWAY_TEXT = "ك" * 60 + " رهينتين و5 رهائن، رهينتين X"


def _runaway_rules(tmp_path: Path) -> Path:
    """A rule that runs away on RUNAWAY_TEXT, and a good one that finds its 5 hostages."""
    runaway = (_rule("runaway", "(?:ك|كك)+ \\s (?P<d>رهينتين) \\s X", "    emit: {dual: d}\n")
               .replace("5 رهائن", "5 رهينتين X").replace("6 رهائن", "6 رهينتين X"))
    folder = tmp_path / "rules"
    folder.mkdir()
    shutil.copy(COMMON, folder / "common.yaml")
    (folder / "t.yaml").write_text(HEAD + "rules:\n" + runaway + _rule("good", "{{number}} \\s+ رهائن"), encoding="utf-8")
    return folder


def test_runaway_rule_is_stopped_named_and_the_others_run_through_the_cli(tmp_path: Path) -> None:
    """`tracker extract` names the rule that timed out on stderr and still prints the other claims
    (extract_text itself: tests/test_loader_errors.py::test_runaway_pattern_is_stopped_named_and_others_still_run)."""
    from click.testing import CliRunner

    from tracker.cli import main

    folder = _runaway_rules(tmp_path)
    run = CliRunner().invoke(main, ["extract", "-", "--rules", str(folder), "--json"], input=RUNAWAY_TEXT)
    assert run.exit_code == 0, run.output
    assert run.stderr == "stdin: rule t.runaway timed out after 2.0s; other rules went on\n"
    assert [json.loads(line)["rule_id"] for line in run.stdout.splitlines()] == ["t.good"]


def test_ingest_names_the_rule_that_timed_out_and_stores_the_other_claims(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_RULES", str(_runaway_rules(tmp_path)))
    corpus = tmp_path / "a.jsonl"
    corpus.write_text(json.dumps({"id": "a1", "published_at": "2024-05-01", "text": RUNAWAY_TEXT},
                                 ensure_ascii=False) + "\n", encoding="utf-8")
    messages: list[str] = []
    summary = ingest([str(corpus)], tmp_path / "t.duckdb", report=messages.append)
    assert (summary.new, summary.failed, summary.claims_added) == (1, 0, 1)
    warning = (f"{corpus}:1: warning: rule t.runaway timed out after 2.0s; its claims in this article "
               "are missing, the other rules' are stored (`tracker reextract` tries it again)")
    assert messages == [warning]
    assert query(tmp_path / "t.duckdb", "SELECT rule_id, value, number_start, number_end FROM claims") == \
        [("t.good", 5.0, 70, 71)]
    assert RUNAWAY_TEXT[70:71] == "5"
    # the article is marked, so that reextract with the same rules tries it again (and not others)
    (marked, run_hash), = query(tmp_path / "t.duckdb", "SELECT a.rules_hash, r.rules_hash FROM articles a JOIN runs r USING (run_id)")
    assert marked == run_hash + " (incomplete)"
    again: list[str] = []
    redone = reextract(tmp_path / "t.duckdb", report=again.append)
    assert (redone.skipped, redone.unchanged, redone.replaced) == (0, 1, 0)
    assert again == [warning]
    assert query(tmp_path / "t.duckdb", "SELECT rules_hash FROM articles") == [(marked,)]
