"""Version discipline: a rule whose content changes must bump its version; the editor schema is fresh."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tracker.rulelock import stale_rules, write_lock
from tracker.ruleschema import json_schema
from tracker.ruleset import default_rules_dir, load_rules

RULES_DIR = default_rules_dir()


def test_lock_matches_the_rules() -> None:
    assert stale_rules(load_rules(), RULES_DIR / "rules.lock") == []


def test_change_without_version_bump_is_caught(tmp_path: Path) -> None:
    shutil.copytree(RULES_DIR, tmp_path, dirs_exist_ok=True)
    write_lock(load_rules(tmp_path), tmp_path / "rules.lock")
    path = tmp_path / "hostages.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("{{number}} \\s+", "{{number}} \\s*", 1), encoding="utf-8")
    changed = load_rules(tmp_path)
    problems = stale_rules(changed, tmp_path / "rules.lock")
    assert len(problems) == 1 and problems[0].startswith("rule hostages.")
    rule_id = problems[0].split()[1]
    assert f"bump version to {changed.get(rule_id).version + 1} " in problems[0]


def test_editor_schema_is_fresh() -> None:
    on_disk = json.loads((RULES_DIR / "_schema.json").read_text(encoding="utf-8"))
    assert on_disk == json_schema(), "run `tracker rules schema`"
