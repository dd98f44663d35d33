"""Rule files are read with libyaml when it is present (tracker/yamlpos.py): the values and every
position it gives must be those of the pure-Python loader, whose wording errors keep."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tracker import yamlpos

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("rules/*.yaml"), *ROOT.glob("fixtures/**/*.yaml")])


@pytest.mark.skipif(getattr(yaml, "CSafeLoader", None) is None, reason="PyYAML built without libyaml")
@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_libyaml_and_pure_python_give_the_same_values_and_positions(path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text(encoding="utf-8")
    fast = yamlpos.load_yaml(text)
    monkeypatch.setattr(yamlpos, "_FAST_LOADER", None)
    pure = yamlpos.load_yaml(text)
    assert fast.value == pure.value
    assert fast.positions == pure.positions and fast.value_positions == pure.value_positions
    assert fast.block_starts == pure.block_starts
    assert len(pure.positions) > 50  # a real rule file, located


def test_a_syntax_error_is_worded_by_the_pure_python_loader() -> None:
    with pytest.raises(yamlpos.YamlProblem) as err:
        yamlpos.load_yaml("rules:\n  - id: a\n    pattern: [unclosed\n")
    assert (err.value.code, err.value.line, err.value.col) == ("E101", 4, 1)
    assert err.value.message == "YAML syntax: expected ',' or ']', but got '<stream end>'"
