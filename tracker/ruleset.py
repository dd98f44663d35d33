"""Load, validate, expand, compile and lint every rule file of a folder, collecting all problems.

Each file is checked on its own (YAML, schema), then across files (ids, shared names), then each
rule is expanded (``{{number}}``, ``{{fragment}}``, ``\\L<vocab>``) and compiled. Nothing stops at
the first problem: ``check_rules`` returns them all; ``load_rules`` raises them all at once.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
from pydantic import ValidationError

from tracker.errors import RuleError, RuleSetError
from tracker.models import Kind
from tracker.ruleschema import Emit, Example, Metric, Rule, RuleFile
from tracker.textnorm import normalize_char, normalize_literal
from tracker.yamlpos import Located, YamlProblem, load_yaml

# Count numbers are masked with this character before rules run, so ``{{number}}`` is a run of
# it: the number grammar lives in one place (tracker.numbers), rules only say where numbers sit.
NUMBER_MASK = "\ue000"
# A number is a whole masked run: it cannot start or end inside one, so the engine never retries
# a rule on every shorter part of a long number (a match through part of a run had no claim).
NUMBER_GROUP = "(?<!\ue000)(?P<{group}>\ue000++)"
# The form rule hashes were first computed with; kept so that an engine change to NUMBER_GROUP
# does not read as a change of every rule.
_HASHED_NUMBER_GROUP = "(?P<{group}>\ue000+)"
_MACRO_RE = regex.compile(r"\{\{\s*([a-z_][a-z0-9_]*)(?::([a-z_][a-z0-9_]*))?\s*\}\}")
_VOCAB_REF_RE = regex.compile(r"\\L<([^>]*)>")
_MAX_FRAGMENT_DEPTH = 8
FLAGS = regex.VERBOSE
# Matches start at a word start or right after a proclitic; saying so first in the compiled
# pattern lets the regex engine skip mid-word positions at once (~30% less search time).
WORD_START_GUARD = (
    r"(?:(?<![^\W\d_])|(?<=(?<![^\W\d_])(?:و|ف|ب|ل|ك|ال|لل|وال|بال|فال|كال|ولل|فلل|وب|ول|فب|فل|وك|فك|وبال|فبال|وكال)))"
)


def default_rules_dir() -> Path:
    """The project's ``rules/`` folder (or ``$TRACKER_RULES``)."""
    env = os.environ.get("TRACKER_RULES")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "rules"


@dataclass(frozen=True)
class CompiledRule:
    """A rule ready to run: its full id, compiled pattern and what it emits."""

    full_id: str
    rule: Rule
    kind: Kind
    compiled: regex.Pattern[str]
    expanded: str
    number_groups: tuple[str, ...]
    keywords: tuple[str, ...]  # normalised vocab words it uses, for `rules explain`
    requires: tuple[str, ...]  # normalised words, one of which must be present for a match
    path: str
    line: int
    content_hash: str

    @property
    def version(self) -> int:
        return self.rule.version

    @property
    def metric(self) -> str:
        return self.rule.metric

    @property
    def emits(self) -> list[Emit]:
        return self.rule.emit

    @property
    def examples(self) -> list[Example]:
        return self.rule.examples


@dataclass
class RuleSet:
    """Every active rule, the metrics they feed, and a hash of the files they came from."""

    rules: list[CompiledRule]
    metrics: dict[str, Metric]
    hash: str
    files: list[str]
    warnings: list[RuleError] = field(default_factory=list)
    # Indexes derived from the rules (built on first use by the engine), kept with them.
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def get(self, full_id: str) -> CompiledRule:
        for r in self.rules:
            if r.full_id == full_id:
                return r
        raise KeyError(full_id)


@dataclass
class _File:
    path: Path
    text: str
    located: Located
    model: RuleFile
    rules: list[tuple[int, Rule]]  # the rules that passed the schema, with their index
    raw_ids: list[tuple[int, str]]  # every rule's id as written, valid or not


def _pydantic_errors(exc: ValidationError, path: str, doc: Located, data: dict[str, Any],
                     prefix: tuple[str | int, ...] = ()) -> list[RuleError]:
    errors = []
    for err in exc.errors():
        loc = prefix + tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "list["))))
        loc = tuple("schema" if p == "schema_" else p for p in loc)
        rule_id = None
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):
            rules = data.get("rules") or []
            if loc[1] < len(rules) and isinstance(rules[loc[1]], dict):
                rule_id = f"{data.get('namespace', '?')}.{rules[loc[1]].get('id', '?')}"
        code = "E201" if err["type"] == "extra_forbidden" else ("E203" if "example" in err["msg"] else "E202")
        where = " › ".join(str(p) for p in loc[2 if rule_id else 0:]) or "file"
        msg = "unknown key (misspelt?)" if code == "E201" else err["msg"]
        if code == "E202" and "input" in err and not isinstance(err["input"], (dict, list)):
            msg += f" (got {err['input']!r})"
        line, col = doc.locate(loc, value=code != "E201")
        errors.append(RuleError(code, path, line, col, f"{where}: {msg}", rule_id))
    return errors


def _read_files(folder: Path, errors: list[RuleError]) -> list[_File]:
    files = []
    paths = sorted(p for p in folder.glob("*.yaml") if not p.name.startswith("."))
    if not paths:
        errors.append(RuleError("E101", str(folder), 1, 1, "no rule files (*.yaml) found"))
    for path in paths:
        shown = os.path.relpath(path) if not path.is_absolute() or str(path).startswith(os.getcwd()) else str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(RuleError("E101", shown, 1, 1, f"cannot read: {exc}"))
            continue
        try:
            doc = load_yaml(text)
        except YamlProblem as p:
            errors.append(RuleError(p.code, shown, p.line, p.col, p.message))
            continue
        if not isinstance(doc.value, dict):
            errors.append(RuleError("E202", shown, 1, 1, "a rule file must be a mapping"))
            continue
        # The file head and each rule are validated apart, so one bad rule hides no other problem.
        head = {k: v for k, v in doc.value.items() if k != "rules"}
        raw_rules = doc.value.get("rules", [])
        try:
            model = RuleFile.model_validate(head)
        except ValidationError as exc:
            errors.extend(_pydantic_errors(exc, shown, doc, doc.value))
            continue
        if not isinstance(raw_rules, list):
            line, col = doc.locate(("rules",))
            errors.append(RuleError("E202", shown, line, col, "rules: must be a list of rules"))
            raw_rules = []
        rules: list[tuple[int, Rule]] = []
        for i, raw in enumerate(raw_rules):
            try:
                rules.append((i, Rule.model_validate(raw)))
            except ValidationError as exc:
                errors.extend(_pydantic_errors(exc, shown, doc, doc.value, prefix=("rules", i)))
        if model.namespace != path.stem:
            line, col = doc.locate(("namespace",), value=True)
            errors.append(RuleError("E402", shown, line, col,
                                    f"namespace {model.namespace!r} must equal the file name {path.stem!r}"))
        raw_ids = [(i, str(r.get("id"))) for i, r in enumerate(raw_rules) if isinstance(r, dict) and "id" in r]
        files.append(_File(Path(shown), text, doc, model, rules, raw_ids))
    return files


def _collect_shared(files: list[_File], errors: list[RuleError]) -> tuple[dict[str, Metric], dict[str, list[str]], dict[str, str]]:
    metrics: dict[str, Metric] = {}
    vocab: dict[str, list[str]] = {}
    fragments: dict[str, str] = {}
    for f in files:
        for table, name_kind, target in ((f.model.metrics, "metric", metrics), (f.model.vocab, "vocab", vocab),
                                         (f.model.fragments, "fragment", fragments)):
            for name, value in table.items():
                key = {"metric": "metrics", "vocab": "vocab", "fragment": "fragments"}[name_kind]
                if name in target:
                    line, col = f.located.locate((key, name))
                    errors.append(RuleError("E403", str(f.path), line, col, f"{name_kind} {name!r} is defined twice"))
                    continue
                if name_kind == "vocab":
                    words = [normalize_literal(w) for w in value]  # type: ignore[union-attr]
                    seen: set[str] = set()
                    for i, w in enumerate(words):
                        if w in seen:
                            line, col = f.located.locate((key, name, i))
                            errors.append(RuleError("W502", str(f.path), line, col,
                                                    f"vocab {name!r}: {value[i]!r} repeats an entry after normalisation"))  # type: ignore[index]
                        seen.add(w)
                    target[name] = sorted(seen, key=lambda w: (-len(w), w))  # longest first, deterministic  # type: ignore[assignment]
                else:
                    target[name] = value  # type: ignore[assignment]
    return metrics, vocab, fragments


def _expand(pattern: str, fragments: dict[str, str], depth: int = 0) -> tuple[str, list[str], list[str]]:
    """Expand macros. Returns (pattern, number groups, unknown names)."""
    groups: list[str] = []
    unknown: list[str] = []

    def repl(m: regex.Match[str]) -> str:
        name, arg = m.group(1), m.group(2)
        if name == "number":
            group = arg or "number"
            groups.append(group)
            return NUMBER_GROUP.format(group=group)
        if name in fragments and arg is None and depth < _MAX_FRAGMENT_DEPTH:
            inner, g, u = _expand(fragments[name], fragments, depth + 1)
            groups.extend(g)
            unknown.extend(u)
            return f"(?:{inner})"
        unknown.append(name if arg is None else f"{name}:{arg}")
        return m.group(0)

    return _MACRO_RE.sub(repl, pattern), groups, unknown


def _same_length_stub(pattern: str) -> str:
    """The pattern with each macro replaced by a group of the same length (to map regex errors)."""
    def repl(m: regex.Match[str]) -> str:
        n = len(m.group(0))
        return "(?:" + "x" * (n - 4) + ")" if n >= 4 else "x" * n
    return _MACRO_RE.sub(repl, pattern)


def _pattern_position(f: _File, path: tuple[str | int, ...], offset: int, pattern: str) -> tuple[int, int]:
    """File line and column of character ``offset`` of a pattern value at ``path``."""
    base_line, base_col, style = f.located.block_starts.get(path, (*f.located.locate(path), ""))
    offset = min(offset, max(0, len(pattern.rstrip()) - 1))  # an error "at the end" points at the last character
    line_in = pattern.count("\n", 0, offset)
    col_in = offset - (pattern.rfind("\n", 0, offset) + 1)
    if style in ("|", ">"):
        lines = f.text.splitlines()
        idx = base_line - 1 + line_in
        indent = len(lines[idx]) - len(lines[idx].lstrip(" ")) if idx < len(lines) else 0
        return base_line + line_in, indent + col_in + 1
    return base_line, base_col + col_in + (1 if style in ("'", '"') else 0)


def _lint_pattern(f: _File, path: tuple[str | int, ...], pattern: str, rule_id: str, errors: list[RuleError]) -> None:
    """W501: characters normalisation removes or rewrites can never match."""
    for i, ch in enumerate(pattern):
        if ord(ch) < 0x80:
            continue
        rep = normalize_char(ch)
        if rep != ch:
            line, col = _pattern_position(f, path, i, pattern)
            shown = f"{rep!r}" if rep else "nothing"
            errors.append(RuleError("W501", str(f.path), line, col,
                                    f"pattern holds {ch!r} (U+{ord(ch):04X}), which normalisation turns into {shown}: it can never match",
                                    rule_id))


def _rule_hash(rule: Rule, expanded: str, number_groups: list[str], vocab_used: dict[str, list[str]]) -> str:
    payload = rule.model_dump(mode="json", exclude={"examples", "description", "references", "falsepositives", "version", "status"})
    if not payload.get("requires"):
        payload.pop("requires", None)  # keeps the hashes of rules written before the key existed
    for group in set(number_groups):
        expanded = expanded.replace(NUMBER_GROUP.format(group=group), _HASHED_NUMBER_GROUP.format(group=group))
    payload["expanded"] = expanded
    payload["vocab"] = vocab_used
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def _compile_rule(f: _File, index: int, rule: Rule, metrics: dict[str, Metric], vocab: dict[str, list[str]],
                  fragments: dict[str, str], errors: list[RuleError]) -> CompiledRule | None:
    full_id = f"{f.model.namespace}.{rule.id}"
    path = ("rules", index, "pattern")
    ok = True
    if rule.metric not in metrics:
        line, col = f.located.locate(("rules", index, "metric"))
        errors.append(RuleError("E404", str(f.path), line, col, f"unknown metric {rule.metric!r}", full_id))
        return None
    kinds = metrics[rule.metric].kinds
    kind = rule.kind or (kinds[0] if len(kinds) == 1 else None)
    if kind is None or kind not in kinds:
        line, col = f.located.locate(("rules", index, "kind" if rule.kind else "metric"))
        errors.append(RuleError("E202", str(f.path), line, col,
                                f"kind must be one of {kinds} for metric {rule.metric!r}", full_id))
        return None
    _lint_pattern(f, path, rule.pattern, full_id, errors)
    for m in _MACRO_RE.finditer(rule.pattern):
        name = m.group(1)
        if name != "number" and name not in fragments:
            line, col = _pattern_position(f, path, m.start(), rule.pattern)
            errors.append(RuleError("E302", str(f.path), line, col, f"unknown fragment {{{{{name}}}}}", full_id))
            ok = False
    expanded, groups, unknown = _expand(rule.pattern, fragments)
    if "{{" in expanded and ok:
        line, col = _pattern_position(f, path, rule.pattern.find("{{"), rule.pattern)
        errors.append(RuleError("E302", str(f.path), line, col, f"unknown macro {unknown[:1]}", full_id))
        ok = False
    used = []
    for m in _VOCAB_REF_RE.finditer(expanded):
        if m.group(1) not in vocab:
            pos = rule.pattern.find(m.group(0))
            line, col = _pattern_position(f, path, max(pos, 0), rule.pattern) if pos >= 0 else f.located.locate(path)
            errors.append(RuleError("E302", str(f.path), line, col, f"unknown vocab \\L<{m.group(1)}>", full_id))
            ok = False
        else:
            used.append(m.group(1))
    if not ok:
        return None
    try:
        compiled = regex.compile(f"{WORD_START_GUARD}(?:{expanded})", FLAGS, **{v: vocab[v] for v in set(used)})
    except regex.error as exc:
        # Compile the author's own text (macros stubbed to the same length) to point at the line.
        stub = _same_length_stub(rule.pattern)
        try:
            regex.compile(stub, FLAGS, **{v: vocab[v] for v in set(_VOCAB_REF_RE.findall(stub)) if v in vocab})
        except regex.error as own:
            line, col = _pattern_position(f, path, own.pos or 0, rule.pattern)
            errors.append(RuleError("E301", str(f.path), line, col, f"bad regex: {own.msg}", full_id))
            return None
        except (TypeError, ValueError):
            pass
        line, col = f.located.locate(path)
        errors.append(RuleError("E301", str(f.path), line, col, f"bad regex (in a fragment): {exc.msg}", full_id))
        return None
    names = set(compiled.groupindex)
    for j, emit in enumerate(rule.emit):
        for key in ("value", "dual", "when", "subgroup_from", "attributed_to"):
            group = getattr(emit, key)
            if group is not None and group not in names:
                line, col = f.located.locate(("rules", index, "emit", j, key) if len(rule.emit) > 1 else ("rules", index, "emit"))
                errors.append(RuleError("E303", str(f.path), line, col,
                                        f"emit {key}: group {group!r} is not in the pattern", full_id))
                ok = False
        value_group = emit.value or ("number" if emit.dual is None else None)
        if value_group is not None and value_group not in groups:
            line, col = f.located.locate(("rules", index, "emit"))
            errors.append(RuleError("E303", str(f.path), line, col,
                                    f"emit value: {value_group!r} is not a {{{{number}}}} group of the pattern", full_id))
            ok = False
        for q, group in emit.qualifier.items():
            if group not in names:
                line, col = f.located.locate(("rules", index, "emit"))
                errors.append(RuleError("E303", str(f.path), line, col, f"emit qualifier {q}: group {group!r} is not in the pattern", full_id))
                ok = False
        if emit.metric not in (None, "$parent") and emit.metric not in metrics:
            line, col = f.located.locate(("rules", index, "emit"))
            errors.append(RuleError("E404", str(f.path), line, col, f"unknown metric {emit.metric!r}", full_id))
            ok = False
    if not ok:
        return None
    vocab_used = {v: vocab[v] for v in sorted(set(used))}
    keywords = tuple(w for v in vocab_used.values() for w in v)
    line, _ = f.located.locate(("rules", index, "id"))
    requires = tuple(normalize_literal(w) for w in rule.requires)
    return CompiledRule(full_id, rule, kind, compiled, expanded, tuple(groups), keywords, requires, str(f.path),
                        line, _rule_hash(rule, expanded, groups, vocab_used))


def check_rules(folder: Path | str | None = None) -> tuple[RuleSet | None, list[RuleError]]:
    """Validate every file in ``folder``; return the rule set (None on errors) and all problems."""
    folder = Path(folder) if folder is not None else default_rules_dir()
    errors: list[RuleError] = []
    files = _read_files(folder, errors)
    metrics, vocab, fragments = _collect_shared(files, errors)
    compiled: list[CompiledRule] = []
    seen: dict[str, str] = {}
    duplicates: set[tuple[str, int]] = set()
    for f in files:
        for i, rule_id in f.raw_ids:
            full_id = f"{f.model.namespace}.{rule_id}"
            line, col = f.located.locate(("rules", i, "id"))
            if full_id in seen:
                errors.append(RuleError("E401", str(f.path), line, col, f"duplicate rule id (first at {seen[full_id]})", full_id))
                duplicates.add((str(f.path), i))
            else:
                seen[full_id] = f"{f.path}:{line}"
    for f in files:
        for i, rule in f.rules:
            if (str(f.path), i) in duplicates:
                continue
            c = _compile_rule(f, i, rule, metrics, vocab, fragments, errors)
            if c is not None and rule.status != "deprecated":
                compiled.append(c)
    errors.sort(key=lambda e: (e.path, e.line, e.col))
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.path.name.encode() + b"\0" + f.text.encode() + b"\0")
    has_errors = any(e.severity == "error" for e in errors)
    ruleset = None if has_errors else RuleSet(
        compiled, metrics, digest.hexdigest()[:16], [str(f.path) for f in files],
        [e for e in errors if e.severity == "warning"],
    )
    return ruleset, errors


def load_rules(folder: Path | str | None = None) -> RuleSet:
    """Load and compile the rules in ``folder`` (default: the project's ``rules/``).

    Raises RuleSetError listing every error; warnings are kept on ``RuleSet.warnings``.
    """
    ruleset, errors = check_rules(folder)
    if ruleset is None:
        raise RuleSetError([e for e in errors if e.severity == "error"])
    return ruleset
