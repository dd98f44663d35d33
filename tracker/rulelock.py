"""rules.lock: each rule's version and content hash, so a change without a version bump is caught."""

from __future__ import annotations

import json
from pathlib import Path

from tracker.ruleset import RuleSet


def lock_entries(ruleset: RuleSet) -> dict[str, dict[str, object]]:
    """{full id: {version, hash}} for every active rule."""
    return {r.full_id: {"version": r.version, "hash": r.content_hash} for r in sorted(ruleset.rules, key=lambda r: r.full_id)}


def write_lock(ruleset: RuleSet, path: Path) -> Path:
    """Write the lock file and return its path."""
    path.write_text(json.dumps(lock_entries(ruleset), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def stale_rules(ruleset: RuleSet, path: Path) -> list[str]:
    """Messages for rules whose content changed while their version did not."""
    try:
        locked = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{path} is missing: run `tracker rules lock`"]
    problems = []
    for full_id, entry in lock_entries(ruleset).items():
        old = locked.get(full_id)
        if old is None:
            problems.append(f"rule {full_id} is not in {path.name}: run `tracker rules lock`")
        elif old["hash"] != entry["hash"] and old["version"] == entry["version"]:
            problems.append(f"rule {full_id} changed; bump version to {entry['version'] + 1} and run `tracker rules lock`")
        elif old["hash"] != entry["hash"] or old["version"] != entry["version"]:
            problems.append(f"rule {full_id} is at version {entry['version']} but {path.name} records {old['version']}: run `tracker rules lock`")
    return problems
