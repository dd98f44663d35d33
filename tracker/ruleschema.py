"""The shape of a rule file, as pydantic models: what authors may write, and nothing else."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tracker.models import Kind
from tracker.quantity import Qualifier

_Strict = ConfigDict(extra="forbid", frozen=True)
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Metric(BaseModel):
    """A figure the tracker follows. ``kinds`` lists the kinds its rules may give it."""

    model_config = _Strict
    kinds: list[Kind] = Field(min_length=1)
    label: str
    label_ar: str
    description: str = ""


class Emit(BaseModel):
    """How one match becomes one claim.

    ``value`` names a ``{{number:NAME}}`` (default ``number``); ``dual`` names a group holding a
    dual noun (``جنديين``) worth 2. ``when`` emits only if that group took part. ``parent``
    links the claim to the claim emitted from another number group of the same match, or to
    ``previous``: the nearest earlier claim in the article (``من بينهم سبعة ...``), whose metric
    and kind are inherited when ``metric`` is ``$parent``. ``qualifier`` maps a qualifier to a
    group that sets it when it took part (``على الأقل`` after the noun).
    """

    model_config = _Strict
    value: str | None = None
    dual: str | None = None
    when: str | None = None
    metric: str | None = None
    kind: Kind | None = None
    subgroup: str | None = None
    subgroup_from: str | None = None
    subgroups: dict[str, str] = Field(default_factory=dict)
    planned: bool | str = False
    parent: str | None = None
    attributed_to: str | None = None
    qualifier: dict[Qualifier, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> "Emit":
        if self.value is not None and self.dual is not None:
            raise ValueError("give either value or dual, not both")
        return self


class ExpectedClaim(BaseModel):
    """A claim an example must yield; unlisted fields are not checked."""

    model_config = _Strict
    value: float
    metric: str | None = None
    qualifier: Qualifier | None = None
    high: float | None = None
    subgroup: str | None = None
    planned: bool | None = None
    attributed_to: str | None = None
    parent: float | None = None  # the value of the parent claim


class Example(BaseModel):
    """Raw text and exactly the claims this rule must yield on it (``[]``: none)."""

    model_config = _Strict
    text: str = Field(min_length=1)
    claims: list[ExpectedClaim]
    match: str | None = None
    todo: str | None = None


class Rule(BaseModel):
    """One rule: a pattern over normalised text and how its matches become claims."""

    model_config = _Strict
    id: Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
    version: int = Field(ge=1)
    status: Literal["experimental", "stable", "deprecated"]
    metric: str
    kind: Kind | None = None
    description: str = Field(min_length=1)
    pattern: str = Field(min_length=1)
    emit: list[Emit] = Field(default_factory=lambda: [Emit()])
    priority: int = 0
    # Words of which at least one must appear in the text searched (normalised on load): a
    # cheap test that skips the regex search where the rule cannot match.
    requires: list[Annotated[str, Field(min_length=1)]] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    falsepositives: list[str] = Field(default_factory=list)
    examples: list[Example]

    @field_validator("emit", mode="before")
    @classmethod
    def _emit_list(cls, v: object) -> object:
        return [v] if isinstance(v, dict) else v

    @field_validator("examples")
    @classmethod
    def _enough_examples(cls, examples: list[Example]) -> list[Example]:
        positive = sum(1 for e in examples if e.claims and not e.todo)
        negative = sum(1 for e in examples if not e.claims and not e.todo)
        if positive < 2 or negative < 1:
            raise ValueError(
                f"needs at least 2 positive and 1 negative example (has {positive} and {negative})"
            )
        return examples


class RuleFile(BaseModel):
    """A whole rule file. ``namespace`` must equal the file name; ids are ``namespace.id``."""

    model_config = _Strict
    schema_: Literal[1] = Field(alias="schema")
    namespace: Name
    description: str = ""
    metrics: dict[Name, Metric] = Field(default_factory=dict)
    vocab: dict[Name, list[Annotated[str, Field(min_length=1)]]] = Field(default_factory=dict)
    fragments: dict[Name, str] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)


def json_schema() -> dict[str, object]:
    """The JSON Schema of rule files, for editors."""
    return RuleFile.model_json_schema(by_alias=True)
