"""A stated figure as an interval: the value, its bounds and the qualifier that set them."""

from __future__ import annotations

import math
from typing import Literal, NamedTuple

Qualifier = Literal["exact", "approx", "more_than", "at_least", "less_than", "at_most", "range", "vague"]
QUALIFIERS: tuple[Qualifier, ...] = ("exact", "approx", "more_than", "at_least", "less_than", "at_most", "range", "vague")

# "نحو 50" grants 10% either way, at least 1: [45, 55]; "حوالي 40 ألف" is [36000, 44000].
APPROX_TOLERANCE = 0.10

Number = int | float


def as_number(x: float) -> Number:
    """An int when the value is whole (40000, not 40000.0), else the float."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 2**63:
        return int(x)
    return x


# A NamedTuple, not a pydantic model: millions are built per corpus and construction cost
# dominates number scanning. pydantic models that hold one (Claim) validate it as a tuple.
class Quantity(NamedTuple):
    """A number as an interval. ``low``/``high`` are None where unbounded.

    ``more_than`` and ``less_than`` bounds are exclusive, every other bound inclusive:
    "أكثر من 40 ألف" is low=40000 (excluded), high=None.
    """

    value: Number
    low: Number | None
    high: Number | None
    qualifier: Qualifier

    @classmethod
    def of(cls, value: float, qualifier: Qualifier = "exact", high: float | None = None) -> "Quantity":
        """Build the interval that ``qualifier`` gives ``value`` (``high`` for ranges and vague)."""
        v = as_number(value)
        if qualifier == "exact":
            return cls(v, v, v, qualifier)
        if qualifier == "approx":
            if not math.isfinite(value):  # no interval around an overflowed figure; callers drop it
                return cls(v, v, v, qualifier)
            tol = max(1.0, abs(value) * APPROX_TOLERANCE)
            return cls(v, as_number(math.floor(value - tol)), as_number(math.ceil(value + tol)), qualifier)
        if qualifier in ("more_than", "at_least"):
            return cls(v, v, None, qualifier)
        if qualifier in ("less_than", "at_most"):
            return cls(v, None, v, qualifier)
        if high is None:
            raise ValueError(f"{qualifier} needs a high bound")
        lo, hi = sorted((value, high))
        return cls(as_number(lo), as_number(lo), as_number(hi), qualifier)

    def admits(self, x: float) -> bool:
        """True when the figure ``x`` is consistent with this interval."""
        if self.low is not None and (x < self.low or (x == self.low and self.qualifier == "more_than")):
            return False
        if self.high is not None and (x > self.high or (x == self.high and self.qualifier == "less_than")):
            return False
        return True
