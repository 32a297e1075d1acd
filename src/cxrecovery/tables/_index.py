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
from cxrecovery.tables._model import Rule
from cxrecovery.tables.vocabulary import FactKind, FactSpec

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
    found: list[Condition] = []
    for bit, rule in enumerate(rules):
        condition = rule.conditions[column]
        key = id(condition)
        if key in masks:
            masks[key] |= 1 << bit
        else:
            masks[key] = 1 << bit
            found.append(condition)
    return [(condition, masks[id(condition)]) for condition in found]


def _mask(cells: list[tuple[Condition, int]], value: object) -> int:
    """The mask of the rules whose cell admits ``value``: each distinct cell asked once."""
    mask = 0
    for condition, rules in cells:
        if condition.admits(value):
            mask |= rules
    return mask


def _compile_column(column: int, spec: FactSpec, rules: tuple[Rule, ...]) -> _Column:
    kind = spec.kind
    cells = _cells(rules, column)
    if kind is FactKind.BOOLEAN:
        return (spec.name, _BOOLEAN, (_mask(cells, False), _mask(cells, True)), None)
    if kind in (FactKind.ENUM, FactKind.ORDINAL):
        index = {v: _mask(cells, v) for v in spec.values}
        return (spec.name, _HASHED, index, None)
    if kind is FactKind.STRING:
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
    masks: list[int] = []
    for i in range(len(points) + 1):
        gap = _between(points[i - 1] if i else None, points[i] if i < len(points) else None, kind)
        masks.append(0 if gap is None else _mask(cells, gap))
        if i < len(points):
            masks.append(_mask(cells, points[i]))
    code = _INTEGER if kind is FactKind.INTEGER else _DECIMAL
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
    if kind is FactKind.INTEGER:
        if low is None or high is None:
            return int(high) - 1 if low is None else int(low) + 1  # type: ignore[arg-type]
        return int(low) + 1 if high - low >= 2 else None
    if low is None or high is None:
        return Fraction(high) - 1 if low is None else Fraction(low) + 1  # type: ignore[arg-type]
    return (Fraction(low) + Fraction(high)) / 2
