"""Located problems in rule files, and how they are printed (`path:line:col: CODE message`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class RuleError:
    """One problem found while loading rules. Lines and columns are 1-based.

    Codes: E1xx YAML (E101 syntax or tag, E102 duplicate key); E2xx schema (E201 unknown key,
    E202 wrong type or value, E203 too few examples); E3xx compile (E301 bad regex, E302 unknown
    vocab or fragment, E303 emitted group missing from the pattern); E4xx across files
    (E401 duplicate id, E402 namespace differs from the file name, E403 duplicate vocab/fragment/
    metric name, E404 unknown metric); W5xx lints (W501 characters normalisation removes).
    """

    code: str
    path: str
    line: int
    col: int
    message: str
    rule_id: str | None = None

    @property
    def severity(self) -> Severity:
        return "warning" if self.code.startswith("W") else "error"

    def __str__(self) -> str:
        who = f"{self.rule_id}: " if self.rule_id else ""
        return f"{self.path}:{self.line}:{self.col}: {self.code} {who}{self.message}"


class RuleSetError(Exception):
    """Raised when rule files hold errors; carries every problem found, not just the first."""

    def __init__(self, errors: list[RuleError]) -> None:
        self.errors = errors
        n_err = sum(e.severity == "error" for e in errors)
        super().__init__(f"{n_err} error(s) in rule files:\n" + "\n".join(map(str, errors)))


def summary(errors: list[RuleError], n_files: int) -> str:
    """`3 errors, 2 warnings in 2 files`."""
    n_err = sum(e.severity == "error" for e in errors)
    n_warn = len(errors) - n_err
    return f"{n_err} error{'s' * (n_err != 1)}, {n_warn} warning{'s' * (n_warn != 1)} in {n_files} file{'s' * (n_files != 1)}"
