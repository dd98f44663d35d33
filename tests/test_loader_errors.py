"""Bad rule files: every problem of every file in one run, as `path:line:col: CODE message`."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tracker.errors import RuleSetError
from tracker.extract import extract_text
from tracker.ruleset import check_rules, load_rules

COMMON = Path(__file__).resolve().parent.parent / "rules" / "common.yaml"
EXAMPLES = """\
    examples:
      - {text: "5 رهائن", claims: [{value: 5}]}
      - {text: "6 رهائن", claims: [{value: 6}]}
      - {text: "لا شيء", claims: []}
"""


def _folder(tmp_path: Path, **files: str) -> Path:
    shutil.copy(COMMON, tmp_path / "common.yaml")
    for name, body in files.items():
        (tmp_path / f"{name}.yaml").write_text(textwrap.dedent(body), encoding="utf-8")
    return tmp_path


def _rule(rule_id: str, pattern: str, extra: str = "") -> str:
    return (f"  - id: {rule_id}\n    version: 1\n    status: stable\n    metric: hostages_held\n"
            f"    description: test\n    pattern: '{pattern}'\n{extra}" + EXAMPLES)


def _lines(folder: Path) -> list[str]:
    _, errors = check_rules(folder)
    return [str(e).replace(str(folder) + "/", "") for e in errors]


def test_misspelt_key_names_line_column_and_rule(tmp_path: Path) -> None:
    body = "schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}}", "    priorty: 2\n")
    assert _lines(_folder(tmp_path, t=body)) == ["t.yaml:10:5: E201 t.a: priorty: unknown key (misspelt?)"]


def test_wrong_type(tmp_path: Path) -> None:
    body = "schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}}").replace("version: 1", "version: one")
    assert _lines(_folder(tmp_path, t=body)) == [
        "t.yaml:5:14: E202 t.a: version: Input should be a valid integer, unable to parse string as an integer (got 'one')"
    ]


def test_broken_regex_is_located_inside_the_pattern_block(tmp_path: Path) -> None:
    body = ("schema: 1\nnamespace: t\nrules:\n  - id: a\n    version: 1\n    status: stable\n"
            "    metric: hostages_held\n    description: test\n    pattern: |\n      {{number}} \\s+\n"
            "      رهائن (?<=[)\n" + EXAMPLES)
    (line,) = _lines(_folder(tmp_path, t=body))
    assert line.startswith("t.yaml:11:") and " E301 t.a: bad regex: " in line


def test_unknown_vocab_and_fragment(tmp_path: Path) -> None:
    body = "schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}} \\L<nothing> {{nofrag}}")
    assert _lines(_folder(tmp_path, t=body)) == [
        "t.yaml:9:26: E302 t.a: unknown vocab \\L<nothing>",
        "t.yaml:9:38: E302 t.a: unknown fragment {{nofrag}}",
    ]


def test_emitted_group_missing_from_pattern(tmp_path: Path) -> None:
    body = "schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}}", "    emit: {subgroup_from: who}\n")
    assert _lines(_folder(tmp_path, t=body)) == ["t.yaml:10:5: E303 t.a: emit subgroup_from: group 'who' is not in the pattern"]


def test_duplicate_id_and_duplicate_key(tmp_path: Path) -> None:
    body = "schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}}") + _rule("a", "{{number}} رهائن")
    dup_key = "schema: 1\nnamespace: u\nnamespace: u\n"
    assert _lines(_folder(tmp_path, t=body, u=dup_key)) == [
        "t.yaml:14:5: E401 t.a: duplicate rule id (first at t.yaml:4)",
        "u.yaml:3:1: E102 duplicate key 'namespace'",
    ]


def test_pattern_with_characters_normalisation_removes_warns(tmp_path: Path) -> None:
    body = "schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}} \\s+ أسرى")
    ruleset, errors = check_rules(_folder(tmp_path, t=body))
    assert ruleset is not None  # a warning does not stop loading
    assert [str(e).replace(str(tmp_path) + "/", "") for e in errors] == [
        "t.yaml:9:30: W501 t.a: pattern holds 'أ' (U+0623), which normalisation turns into 'ا': it can never match",
        "t.yaml:9:33: W501 t.a: pattern holds 'ى' (U+0649), which normalisation turns into 'ي': it can never match",
    ]


def test_python_tag_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    body = f'schema: 1\nnamespace: t\nvocab: !!python/object/apply:os.system ["touch {marker}"]\n'
    assert _lines(_folder(tmp_path, t=body)) == [
        "t.yaml:3:8: E101 YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed in rule files"
    ]
    assert not marker.exists()


def test_all_files_reported_in_one_run_and_load_raises_them_all(tmp_path: Path) -> None:
    folder = _folder(tmp_path, s="schema: 1\nnamespace: s\nrules: [\n",
                     t="schema: 1\nnamespace: t\nrules:\n" + _rule("a", "{{number}}", "    priorty: 2\n"),
                     u="schema: 1\nnamespace: wrong\n")
    assert [line.split(": ")[1].split()[0] for line in _lines(folder)] == ["E101", "E201", "E402"]
    with pytest.raises(RuleSetError) as info:
        load_rules(folder)
    assert len(info.value.errors) == 3


def test_runaway_pattern_is_stopped_named_and_others_still_run(tmp_path: Path) -> None:
    runaway = (_rule("runaway", "(?:[^\\W\\d_]+)+ \\s (?P<d>رهينتين) \\s X", "    emit: {dual: d}\n")
               .replace("5 رهائن", "5 رهينتين X").replace("6 رهائن", "6 رهينتين X"))
    good = _rule("good", "{{number}} \\s+ رهائن")
    ruleset = load_rules(_folder(tmp_path, t="schema: 1\nnamespace: t\nrules:\n" + runaway + good))
    # its words ("رهينتين X") are in the sentence, so the engine must search it, but not where it runs away
    text = "ك" * 3000 + " رهينتين و5 رهائن، رهينتين X"
    result = extract_text(text, ruleset, timeout=0.05)
    assert [t.rule_id for t in result.timeouts] == ["t.runaway"]
    assert [(c.rule_id, c.value, c.quote) for c in result.claims] == [("t.good", 5, "5 رهائن")]
    # without its words the rule cannot match, so it is not searched and cannot run away
    result = extract_text("ك" * 3000 + " رهينتين و5 رهائن", ruleset, timeout=0.05)
    assert result.timeouts == []
    assert [(c.rule_id, c.value) for c in result.claims] == [("t.good", 5)]


def test_aliases_that_expand_to_too_many_values_are_refused() -> None:
    """One level of aliases is allowed (the rule files share subgroup tables that way), but a
    file whose aliases stand for more than MAX_VALUES values is refused where they run over."""
    from tracker.yamlpos import MAX_VALUES, YamlProblem, load_yaml

    items = ", ".join(["x"] * 600)
    text = f"a: &a [{items}]\n" + "".join(f"k{i}: *a\n" for i in range(400))  # 240,600 values
    with pytest.raises(YamlProblem) as caught:
        load_yaml(text)
    assert (caught.value.code, caught.value.message) == ("E101", f"YAML expands to more than {MAX_VALUES} values")
    assert caught.value.line == 1  # inside the anchored list, which the aliases repeat
    shared = load_yaml("a: &a {x: 1}\nb: *a\nc: [*a, *a]\n").value
    assert shared == {"a": {"x": 1}, "b": {"x": 1}, "c": [{"x": 1}, {"x": 1}]}
