"""A compiled table's index: one per input column, and the memo of outcomes by row set.

For each value of a boolean, enum or ordinal column, and each literal of a string
column (plus one entry for "any other string"), the bitmask of the rules whose cell
admits it; for an integer or decimal column, the sorted cell boundaries and a bitmask
for each boundary and each gap between two.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Final

from cxrecovery.tables._cells import Condition
from cxrecovery.tables._literals import Scalar
from cxrecovery.tables._model import Rule
from cxrecovery.tables.vocabulary import _BOOLEAN as _BOOLEAN_KIND
from cxrecovery.tables.vocabulary import _ENUM, _ORDINAL, FactKind, FactSpec
from cxrecovery.tables.vocabulary import _INTEGER as _INTEGER_KIND
from cxrecovery.tables.vocabulary import _STRING as _STRING_KIND

__all__ = ["TableIndex"]

# Column codes for the evaluation loop: one branch per way of finding a value's mask.
_HASHED: Final = 0  # enum, ordinal: value -> mask; an unknown value is not in the dict
_STRING: Final = 1  # literal -> mask, and one mask for every other string
_BOOLEAN: Final = 2  # (mask if false, mask if true); 1 and 0 are not booleans here
_INTEGER: Final = 3  # sorted cell boundaries; a mask per point and per gap between
_DECIMAL: Final = 4

# Outcomes are memoised by the set of matching rules. Bounded so that a table whose rules
# overlap in very many ways cannot grow without limit: past it, outcomes are recomputed.
_MEMO_LIMIT: Final = 4096


_Column = tuple[str, int, Any, Any]
_Entry = tuple[str, Any, tuple[str, ...], tuple[str, ...], tuple[str, ...]]


class TableIndex:
    """What compiling a table builds: one index per input column and the row-set memo.

    ``columns`` holds, per input column in order, how a fact value finds the bitmask of
    the rules whose cell admits it; ``full`` is the mask of every rule. ``outcomes`` is
    the memo of the combined outcome (outputs, matched, chosen, shadowed) by the set of
    matching rules, as a bitmask: filled as the table is evaluated, bounded to
    ``_MEMO_LIMIT`` entries (past it, outcomes are recomputed), never compared, and
    never changing what an evaluation returns. It is the one part of a compiled
    :class:`DecisionTable` that changes after it is built.
    """

    __slots__ = ("columns", "full", "outcomes")

    def __init__(self, input_facts: tuple[FactSpec, ...], rules: tuple[Rule, ...]) -> None:
        self.columns: tuple[_Column, ...] = tuple(
            _compile_column(i, spec, rules) for i, spec in enumerate(input_facts)
        )
        self.full = (1 << len(rules)) - 1
        self.outcomes: dict[int, _Entry] = {}


def _cells(rules: tuple[Rule, ...], column: int) -> list[tuple[Condition, int]]:
    """The distinct cells of a column (rules whose cells read the same share one
    Condition, see the reader), each with the mask of the rules that hold it."""
    masks: dict[int, int] = {}
    found: dict[int, Condition] = {}
    bit = 1
    for rule in rules:
        condition = rule.conditions[column]
        key = id(condition)
        if key in masks:
            masks[key] |= bit
        else:
            masks[key] = bit
            found[key] = condition
        bit <<= 1
    return [(condition, masks[key]) for key, condition in found.items()]


def _mask(cells: list[tuple[Condition, int]], value: object) -> int:
    """The mask of the rules whose cell admits ``value``: each distinct cell asked once."""
    mask = 0
    for condition, rules in cells:
        if condition.admits(value):
            mask |= rules
    return mask


def _finite_masks(cells: list[tuple[Condition, int]], values: tuple[Scalar, ...]) -> list[int]:
    """``[_mask(cells, v) for v in values]`` for the values of a boolean, enum or ordinal
    column (each of them a value of the column's kind): a cell admits such a value
    exactly when the value is in its admitted set (``Condition.admits``), so each cell's
    set is walked once instead of each cell being asked about each value."""
    position = {value: i for i, value in enumerate(values)}
    masks = [0] * len(values)
    for condition, rules in cells:
        for value in condition._set:
            i = position.get(value)
            if i is not None:
                masks[i] |= rules
    return masks


def _number_masks(cells: list[tuple[Condition, int]], numbers: list[Any]) -> list[int]:
    """``[_mask(cells, n) for n in numbers]`` for numbers of an integer or decimal
    column's kind (its cell boundaries and the numbers between them): a cell admits such
    a number exactly when one of its intervals does (``Condition.admits``)."""
    spans = [(condition._intervals, rules) for condition, rules in cells]
    masks = []
    for number in numbers:
        mask = 0
        for intervals, rules in spans:
            for interval in intervals:
                if interval.admits(number):
                    mask |= rules
                    break
        masks.append(mask)
    return masks


def _compile_column(column: int, spec: FactSpec, rules: tuple[Rule, ...]) -> _Column:
    kind = spec.kind
    cells = _cells(rules, column)
    if kind is _BOOLEAN_KIND:
        if_false, if_true = _finite_masks(cells, (False, True))
        return (spec.name, _BOOLEAN, (if_false, if_true), None)
    if kind is _ENUM or kind is _ORDINAL:
        index = dict(zip(spec.values, _finite_masks(cells, spec.values), strict=True))
        return (spec.name, _HASHED, index, None)
    if kind is _STRING_KIND:
        literals = {v for condition, _ in cells for v in condition.operands}
        other = "\x00"
        while other in literals:
            other += "\x00"
        strings = {v: _mask(cells, v) for v in literals}
        return (spec.name, _STRING, strings, _mask(cells, other))
    points = sorted(
        {
            bound
            for condition, _ in cells
            for iv in condition.intervals()
            for bound in (iv.low, iv.high)
            if bound is not None
        }
    )
    # A number in each gap (none in a gap of no integer) and each point, in order.
    numbers: list[Any] = []
    for i in range(len(points) + 1):
        numbers.append(
            _between(points[i - 1] if i else None, points[i] if i < len(points) else None, kind)
        )
        if i < len(points):
            numbers.append(points[i])
    found = iter(_number_masks(cells, [n for n in numbers if n is not None]))
    masks = [0 if n is None else next(found) for n in numbers]
    code = _INTEGER if kind is _INTEGER_KIND else _DECIMAL
    return (spec.name, code, points, masks)


def _between(
    low: int | Decimal | None, high: int | Decimal | None, kind: FactKind
) -> int | Fraction | None:
    """A number strictly between two cell boundaries (``None``: unbounded), if any.

    Fractions, not Decimals: a decimal midpoint in the default 28-digit context can
    round onto a boundary, and then the gap would get the boundary's mask.
    """
    if low is None and high is None:
        return 0
    if kind is _INTEGER_KIND:
        if low is None or high is None:
            return int(high) - 1 if low is None else int(low) + 1  # type: ignore[arg-type]
        return int(low) + 1 if high - low >= 2 else None
    if low is None or high is None:
        return Fraction(high) - 1 if low is None else Fraction(low) + 1  # type: ignore[arg-type]
    return (Fraction(low) + Fraction(high)) / 2
