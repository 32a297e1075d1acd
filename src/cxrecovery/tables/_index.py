"""A compiled table's index: one per input column, and the memo of outcomes by row set.

For each value of a boolean, enum or ordinal column, and each literal of a string
column (plus one entry for "any other string"), the bitmask of the rules whose cell
admits it; for an integer or decimal column, the sorted cell boundaries and a bitmask
for each boundary and each gap between two.
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any, Final

from cxrecovery.tables._cells import ANY, Condition
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
# An integer column whose cell boundaries lie close together: a mask per integer from
# just below the lowest boundary to just above the highest, read by the value's offset
# (a plain int's; any other number is looked up as in an integer column).
_DENSE: Final = 5
# How many integers a dense column's masks may cover at most.
_DENSE_SPAN: Final = 64

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
        # Each column's cells, in rule order (the rules' conditions turned around).
        by_column = zip(*[rule.conditions for rule in rules], strict=True) if rules else None
        self.columns: tuple[_Column, ...] = tuple(
            [
                _compile_column(spec, next(by_column) if by_column is not None else ())
                for spec in input_facts
            ]
        )
        self.full = (1 << len(rules)) - 1
        self.outcomes: dict[int, _Entry] = {}


def _cells(column: tuple[Condition, ...]) -> list[list[Any]]:
    """The distinct cells of a column (rules whose cells read the same share one
    Condition, see the reader), each with the mask of the rules that hold it: a
    ``[condition, mask]`` pair, in the order of its first rule."""
    cells: list[list[Any]] = []
    by_id: dict[int, list[Any]] = {}  # each distinct cell's pair, by its identity
    bit = 1
    last: Condition | None = None
    pair: list[Any] = []
    for condition in column:
        if condition is not last:  # the cell of the rule before is the usual one
            last = condition
            found = by_id.get(id(condition))
            if found is None:
                found = by_id[id(condition)] = [condition, 0]
                cells.append(found)
            pair = found
        pair[1] |= bit
        bit <<= 1
    return cells


def _finite_masks(cells: list[list[Any]], values: tuple[Scalar, ...]) -> dict[Any, int]:
    """Each of ``values`` (a boolean, enum or ordinal column's, each of the column's
    kind) with the mask of the rules whose cell admits it: a cell admits such a value
    exactly when the value is in its admitted set (``Condition.admits``), so each
    cell's set is walked once instead of each cell being asked about each value."""
    masks = dict.fromkeys(values, 0)
    for condition, rules in cells:
        for value in condition._set:
            if value in masks:
                masks[value] |= rules
    return masks


def _string_masks(cells: list[list[Any]], other: str) -> dict[str, int]:
    """Each literal of a string column's cells, and ``other`` (a string none of them
    names), with the mask of the rules whose cell admits it: a string cell admits a
    string exactly when it admits any (``-``) or the string is in its literals, or not
    in them for a negated cell (``Condition.admits``)."""
    literals = [v for condition, _ in cells for v in condition.operands]
    masks: dict[Any, int] = dict.fromkeys(literals, 0)
    masks[other] = 0
    for condition, rules in cells:
        admitted = condition._set
        if condition.op == ANY:
            for value in masks:
                masks[value] |= rules
        elif condition.negated:
            for value in masks:
                if value not in admitted:
                    masks[value] |= rules
        else:
            for value in admitted:
                masks[value] |= rules
    return masks


def _number_masks(cells: list[list[Any]], points: list[Any], kind: FactKind) -> list[int]:
    """The mask of the rules whose cell admits a number of each stretch of an integer or
    decimal column: the numbers below ``points[0]`` (its cells' bounds, sorted), the
    point itself, the numbers between it and the next, and so on. Each interval of a
    cell spans whole stretches, from its low bound (the point, or the stretch after it
    when open) to its high bound: the stretches it admits a number of (``admits``).
    A stretch between two integer points next to each other holds no integer: 0."""
    last = 2 * len(points)
    masks = [0] * (last + 1)
    for condition, rules in cells:
        for iv in condition._intervals:
            low, high = iv.low, iv.high
            start = 0 if low is None else 2 * bisect_left(points, low) + 2 - iv.low_closed
            stop = last if high is None else 2 * bisect_left(points, high) + iv.high_closed
            for stretch in range(start, stop + 1):
                masks[stretch] |= rules
    if kind is _INTEGER_KIND:
        for i in range(1, len(points)):
            if points[i] - points[i - 1] < 2:
                masks[2 * i] = 0
    return masks


def _compile_column(spec: FactSpec, column: tuple[Condition, ...]) -> _Column:
    kind = spec.kind
    cells = _cells(column)
    if kind is _BOOLEAN_KIND:
        masks = _finite_masks(cells, (False, True))
        return (spec.name, _BOOLEAN, (masks[False], masks[True]), None)
    if kind is _ENUM or kind is _ORDINAL:
        return (spec.name, _HASHED, _finite_masks(cells, spec.values), None)
    if kind is _STRING_KIND:
        literals = {v for condition, _ in cells for v in condition.operands}
        other = "\x00"
        while other in literals:
            other += "\x00"
        strings = _string_masks(cells, other)
        return (spec.name, _STRING, strings, strings.pop(other))
    points = sorted(
        {
            bound
            for condition, _ in cells
            for iv in condition._intervals
            for bound in (iv.low, iv.high)
            if bound is not None
        }
    )
    stretches = _number_masks(cells, points, kind)
    if kind is not _INTEGER_KIND:
        return (spec.name, _DECIMAL, points, stretches)
    if not points or points[-1] - points[0] > _DENSE_SPAN:
        return (spec.name, _INTEGER, points, stretches)
    low, high = int(points[0]) - 1, int(points[-1]) + 1  # an integer column's bounds: ints
    dense = tuple([stretch(points, stretches, n) for n in range(low, high + 1)])
    return (spec.name, _DENSE, dense, (low, points, stretches))


def stretch(points: list[Any], masks: list[int], value: object) -> int:
    """The mask of the rules whose cell admits ``value``, a number, in an integer or
    decimal column with cell boundaries ``points`` and a mask per stretch ``masks``."""
    i = bisect_left(points, value)
    return masks[2 * i + 1] if i < len(points) and points[i] == value else masks[2 * i]
