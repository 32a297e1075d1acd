"""Exact sweeps over a decision table's input space.

Each input column's domain is cut into cells on which every row's cell is constant:
the listed values of a boolean, enum or ordinal column; for numbers, every boundary a
row names and every stretch between two; for free strings, each literal a row names and
"any other string".  The product of the columns' cells covers the whole input space, so
a question answered on one representative per cell is answered for every input.

The product is walked column by column, keeping the mask of rows still alive; cells of
a column that leave the same rows alive lead to the same subtree and are walked once,
and a walk stops as soon as no live row constrains a later column.  Random sampling
would miss a one-value gap; this does not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from typing import Final

import attrs

from cxrecovery.facts import BUILTIN_FACTS
from cxrecovery.tables import Condition, DecisionTable, FactKind, FactSpec, Scalar

__all__ = ["Cell", "Region", "column_cells", "regions"]

# Built-in facts that can never be negative (counts, hours, amounts), or that live in a
# band: a gap below zero is not a gap a case can fall into.
_COUNTS: Final = frozenset(
    name for name, spec in BUILTIN_FACTS.items() if spec.kind is FactKind.INTEGER
)
_BANDS: Final[Mapping[str, tuple[int, int | None]]] = {
    **dict.fromkeys(_COUNTS, (0, None)),
    "value_at_stake": (0, None),
    "lifetime_value": (0, None),
    "limbo_hours": (0, None),
    "recent_goodwill": (0, None),
    "granted_so_far": (0, None),
    "expectation_ratio": (0, None),
    "relationship_score": (-2, 2),
}


@attrs.frozen
class Cell:
    """One piece of a column's domain on which every row's cell gives one answer.

    ``value`` is a representative inside the piece; ``label`` describes the piece
    (``'high'``, ``[2..5)``, ``any other string``).
    """

    value: Scalar
    label: str


@attrs.frozen
class Region:
    """A part of a table's input space in which the same rows match.

    ``cells`` has one entry per input column: the cell the region lies in, or ``None``
    when the region spans the whole column.
    """

    mask: int
    cells: tuple[Cell | None, ...]

    def rows(self, table: DecisionTable) -> tuple[int, ...]:
        """Positions of the rows that match in this region."""
        return tuple(i for i in range(len(table.rules)) if self.mask >> i & 1)


def _band(spec: FactSpec) -> tuple[int, int | None] | None:
    if BUILTIN_FACTS.get(spec.name) == spec:
        return _BANDS.get(spec.name)
    return None


def _mid(low: int | Decimal, high: int | Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 80  # exact: the sum of two decimals halved needs one more digit
        return (Decimal(low) + Decimal(high)) / 2


def _bound_text(value: int | Decimal | None, closed: bool, low: bool) -> str:
    if value is None:
        return "(-inf" if low else "inf)"
    if low:
        return f"{'[' if closed else '('}{value}"
    return f"{value}{']' if closed else ')'}"


def _numeric_cells(spec: FactSpec, conditions: Sequence[Condition]) -> list[Cell]:
    integer = spec.kind is FactKind.INTEGER
    band = _band(spec)
    points: set[int | Decimal] = set()
    for condition in conditions:
        for interval in condition.intervals():
            points.update(b for b in (interval.low, interval.high) if b is not None)
    if band is not None:
        points.update(b for b in band if b is not None)
    ordered = sorted(points)
    cells: list[Cell] = []
    edges: list[int | Decimal | None] = [None, *ordered, None]
    for i in range(len(edges) - 1):
        low, high = edges[i], edges[i + 1]
        value: int | Decimal | None
        if low is None and high is None:
            value = 0
        elif low is None:
            value = high - 1  # type: ignore[operator]
        elif high is None:
            value = low + 1
        elif integer:
            value = low + 1 if high - low >= 2 else None
        else:
            value = _mid(low, high)
        if value is not None:
            if integer:
                value = int(value)
            elif not isinstance(value, Decimal):
                value = Decimal(value)
            label = f"{_bound_text(low, False, True)}..{_bound_text(high, False, False)}"
            cells.append(Cell(value, label))
        if high is not None:
            cells.append(Cell(high if integer else Decimal(high), str(high)))
    if band is not None:
        low_band, high_band = band
        cells = [
            c
            for c in cells
            if c.value >= low_band  # type: ignore[operator]
            and (high_band is None or c.value <= high_band)  # type: ignore[operator]
        ]
    return cells


def column_cells(spec: FactSpec, conditions: Sequence[Condition]) -> list[Cell]:
    """Cut a column's domain into cells on which every one of ``conditions`` is constant.

    Args:
        spec: the column's fact.
        conditions: the column's cell in every row.

    Returns:
        The cells, each with a representative value, covering the whole domain.
    """
    kind = spec.kind
    if kind is FactKind.BOOLEAN:
        return [Cell(False, "false"), Cell(True, "true")]
    if kind in (FactKind.ENUM, FactKind.ORDINAL):
        return [Cell(v, repr(v)) for v in spec.values]
    if kind is FactKind.STRING:
        literals = sorted({str(v) for c in conditions if not c.is_any for v in c.literals})
        other = "other"
        while other in literals:
            other = f"{other}_"
        return [*(Cell(v, repr(v)) for v in literals), Cell(other, "any other string")]
    return _numeric_cells(spec, conditions)


def _masks(table: DecisionTable) -> list[list[tuple[Cell, int]]]:
    columns: list[list[tuple[Cell, int]]] = []
    for index, spec in enumerate(table.input_facts):
        conditions = [rule.conditions[index] for rule in table.rules]
        cells = column_cells(spec, conditions)
        columns.append(
            [
                (cell, sum(1 << i for i, c in enumerate(conditions) if c.admits(cell.value)))
                for cell in cells
            ]
        )
    return columns


def regions(table: DecisionTable) -> list[Region]:
    """Split a table's input space into regions, each with the mask of rows matching.

    Every input lies in exactly one region; every region holds at least one input.
    Regions with the same mask may repeat (they come from different branches).
    """
    columns = _masks(table)
    n = len(columns)
    full = (1 << len(table.rules)) - 1
    # Rows that still constrain column c or a later one: past that, the walk can stop.
    tail = [0] * (n + 1)
    for c in range(n - 1, -1, -1):
        constrains = 0
        for _, mask in columns[c]:
            constrains |= full & ~mask
        tail[c] = tail[c + 1] | constrains
    found: list[Region] = []
    chosen: list[Cell | None] = [None] * n

    def walk(column: int, alive: int) -> None:
        if alive == 0 or column == n or alive & tail[column] == 0:
            found.append(Region(alive, tuple(chosen)))
            return
        groups: dict[int, Cell] = {}
        for cell, mask in columns[column]:
            groups.setdefault(alive & mask, cell)
        for mask, cell in groups.items():
            chosen[column] = cell
            walk(column + 1, mask)
        chosen[column] = None

    walk(0, full)
    return found


def example(table: DecisionTable, region: Region) -> dict[str, Scalar]:
    """Fact values of one input in ``region``, by column name."""
    out: dict[str, Scalar] = {}
    for index, spec in enumerate(table.input_facts):
        cell = region.cells[index]
        if cell is None:
            conditions = [rule.conditions[index] for rule in table.rules]
            cell = column_cells(spec, conditions)[0]
        out[spec.name] = cell.value
    return out
