"""Intervals of numbers, and the union and complement a numeric cell needs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from typing import TypeAlias

import attrs

from cxrecovery._validation import settable_maker

__all__ = ["Interval", "complement", "interval", "is_empty", "union"]

_Number: TypeAlias = int | Decimal | Fraction
_Bound: TypeAlias = int | Decimal | None


@attrs.frozen
class Interval:
    """A set of numbers between two bounds; ``None`` is an unbounded side.

    ``Interval(2, 5)`` is ``[2..5]``; ``Interval(None, 3, high_closed=False)`` is
    ``< 3``.

    .. versionadded:: 0.1.0
    """

    low: int | Decimal | None
    high: int | Decimal | None
    low_closed: bool = attrs.field(default=True, kw_only=True)
    high_closed: bool = attrs.field(default=True, kw_only=True)

    def admits(self, value: _Number) -> bool:
        """Whether ``value`` lies in the interval."""
        low, high = self.low, self.high
        if low is not None and (value < low or (value == low and not self.low_closed)):
            return False
        return not (
            high is not None and (value > high or (value == high and not self.high_closed))
        )

    def __str__(self) -> str:
        low = "-inf" if self.low is None else str(self.low)
        high = "inf" if self.high is None else str(self.high)
        opening = "[" if self.low_closed and self.low is not None else "("
        closing = "]" if self.high_closed and self.high is not None else ")"
        return f"{opening}{low}..{high}{closing}"


# An interval made without Interval's __init__ (it has no validator or converter: the
# attrs one sets each field through object.__setattr__): interval(low, high,
# low_closed, high_closed), every argument given.
interval: Callable[[_Bound, _Bound, bool, bool], Interval] = settable_maker(Interval, "being made")


def _low_key(iv: Interval) -> tuple[int, _Number, int]:
    if iv.low is None:
        return (0, 0, 0)
    return (1, iv.low, 0 if iv.low_closed else 1)


def union(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    given = list(intervals)
    if len(given) < 2:  # one interval (a cell of one value): nothing to sort or merge
        return tuple(given)
    merged: list[Interval] = []
    for iv in sorted(given, key=_low_key):
        if merged:
            last = merged[-1]
            touches = (
                last.high is None
                or iv.low is None
                or last.high > iv.low
                or (last.high == iv.low and (last.high_closed or iv.low_closed))
            )
            if touches:
                if last.high is None or (iv.high is not None and last.high > iv.high):
                    continue
                if iv.high is not None and last.high == iv.high:
                    closed = last.high_closed or iv.high_closed
                    merged[-1] = interval(last.low, last.high, last.low_closed, closed)
                    continue
                merged[-1] = interval(last.low, iv.high, last.low_closed, iv.high_closed)
                continue
        merged.append(iv)
    return tuple(merged)


def complement(intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    low: int | Decimal | None = None
    low_closed = False
    for iv in intervals:
        if iv.low is not None:
            gap = interval(low, iv.low, low_closed, not iv.low_closed)
            if not is_empty(gap, exact=False):
                out.append(gap)
        if iv.high is None:
            return tuple(out)
        low, low_closed = iv.high, not iv.high_closed
    out.append(interval(low, None, low_closed, False))
    return tuple(out)


def is_empty(iv: Interval, *, exact: bool) -> bool:
    """Whether ``iv`` holds no number (``exact=True``: no integer)."""
    if iv.low is None or iv.high is None:
        return False
    if not exact:
        return iv.low > iv.high or (iv.low == iv.high and not (iv.low_closed and iv.high_closed))
    low = iv.low if iv.low_closed else iv.low + 1
    high = iv.high if iv.high_closed else iv.high - 1
    return low > high
