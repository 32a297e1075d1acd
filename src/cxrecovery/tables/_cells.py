"""The cells of a decision table: the closed cell grammar, and conditions.

A cell is data, never code: it is parsed once against its column's :class:`FactSpec`
into a :class:`Condition` that knows the values it admits, as a finite set (booleans,
enums, ordinals), a union of intervals (integers, decimals) or a set or co-set of
literals (free strings).  Evaluation and the linter work from those, not from the text.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Final, TypeAlias

import attrs

from cxrecovery._validation import settable_maker, suggest
from cxrecovery.errors import InvalidValueError
from cxrecovery.tables._intervals import Interval, complement, interval, is_empty, union
from cxrecovery.tables._literals import (
    CellError,
    Scalar,
    allowed,
    float_message,
    literal_text,
    parse_native,
    parse_text_literal,
    split,
)
from cxrecovery.tables.vocabulary import (
    _BOOLEAN,
    _DECIMAL,
    _FINITE,
    _INTEGER,
    _NUMERIC,
    _ORDINAL,
    _STRING,
    FactKind,
    FactSpec,
)

__all__ = [
    "CellMemo",
    "Condition",
    "Interval",
    "Scalar",
    "condition",
    "fact_problem",
    "parse_cell",
]

_Number: TypeAlias = int | Decimal | Fraction


ANY: Final = "any"
EQ: Final = "="
IN: Final = "in"
RANGE: Final = "range"
_COMPARISONS: Final = ("<", "<=", ">", ">=")
_OPERATORS: Final = ("<=", ">=", "!=", "==", "<", ">", "=")
_OPERATOR_STARTS: Final = frozenset(op[0] for op in _OPERATORS)
# How a cell that is not a plain value or list starts: "-", "any", "not", "<", "[", ...
_SPECIAL_STARTS: Final = _OPERATOR_STARTS | frozenset("-an[(")
# What a cell that admits any number admits (an Interval is immutable: one for all).
_EVERY_NUMBER: Final = (Interval(None, None, low_closed=False, high_closed=False),)
# What a cell that names no value names (a frozenset is immutable: one for all).
_NOTHING: Final[frozenset[Scalar]] = frozenset()


@attrs.frozen(repr=False)
class Condition:
    """One cell of a rule: the test a rule puts on one input column.

    ``op`` is ``"any"``, ``"="`` (one value), ``"in"`` (a set), ``"<"``, ``"<="``,
    ``">"``, ``">="`` or ``"range"`` (``operands`` are its two bounds and ``bounds`` says
    which are closed); ``negated`` turns it around (``!= x``, ``not a, b``,
    ``not [2..5]``).  ``str()`` reads like the rule: ``severity>=high``.

    .. versionadded:: 0.1.0
    """

    column: str
    fact: FactSpec
    op: str = ANY
    operands: tuple[Scalar, ...] = ()
    negated: bool = False
    bounds: tuple[bool, bool] = (True, True)
    _set: frozenset[Scalar] = attrs.field(init=False, eq=False, hash=False)
    _intervals: tuple[Interval, ...] = attrs.field(init=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        found = _admitted(self.fact, self.op, self.operands, self.negated, self.bounds)
        admitted, intervals = found
        object.__setattr__(self, "_set", admitted)
        object.__setattr__(self, "_intervals", intervals)

    @property
    def kind(self) -> FactKind:
        """The kind of the column's fact."""
        return self.fact.kind

    @property
    def is_any(self) -> bool:
        """Whether the cell admits every value (``-``)."""
        return self.op == ANY

    def admits(self, value: object) -> bool:
        """Whether a fact ``value`` satisfies this cell (``False`` for a value of the
        wrong kind)."""
        kind = self.fact.kind
        if kind is _BOOLEAN:
            return (value is True or value is False) and value in self._set
        if kind is _INTEGER or kind is _DECIMAL:
            if isinstance(value, bool) or not isinstance(value, int | Decimal | Fraction):
                return False
            if isinstance(value, Decimal) and not value.is_finite():
                return False
            if kind is _INTEGER and not isinstance(value, int):
                return False
            return any(iv.admits(value) for iv in self._intervals)
        if not isinstance(value, str):
            return False
        if kind is _STRING:
            return self.op == ANY or ((value in self._set) != self.negated)
        return value in self._set

    def values(self) -> frozenset[Scalar]:
        """The values admitted, for a boolean, enum or ordinal column.

        Booleans give ``True``/``False``; enums and ordinals their string values.

        Raises:
            InvalidValueError: the column is an integer, decimal or string column.
        """
        if self.fact.kind not in _FINITE:
            raise InvalidValueError.at(
                self.column, f"a {self.fact.kind} column has no finite set of values"
            )
        return self._set

    def intervals(self) -> tuple[Interval, ...]:
        """The numbers admitted, for an integer or decimal column, as sorted disjoint
        intervals.

        Raises:
            InvalidValueError: the column is not an integer or decimal column.
        """
        if self.fact.kind not in _NUMERIC:
            raise InvalidValueError.at(
                self.column, f"a {self.fact.kind} column has no intervals; use values()"
            )
        return self._intervals

    @property
    def literals(self) -> frozenset[Scalar]:
        """The literal values the cell names (for a string column: admitted, or
        refused when :attr:`negated`)."""
        return frozenset(self.operands)

    @property
    def cell(self) -> str:
        """The cell as a policy document writes it: ``">= high"``, ``"low, medium"``."""
        return _cell_text(self.op, self.operands, self.negated, self.bounds)

    def to_data(self) -> object:
        """The cell in the canonical document form (a native boolean or integer for a
        single exact value, else its text)."""
        if self.op == EQ and not self.negated and isinstance(self.operands[0], bool | int):
            return self.operands[0]
        return self.cell

    def __str__(self) -> str:
        col, ops = self.column, self.operands
        if self.op == ANY:
            return f"{col}: any"
        if self.op == EQ:
            return f"{col}{'!=' if self.negated else '='}{literal_text(ops[0])}"
        if self.op in _COMPARISONS:
            text = f"{col}{self.op}{literal_text(ops[0])}"
            return f"not {text}" if self.negated else text
        if self.op == IN:
            body = "{" + ", ".join(literal_text(v) for v in ops) + "}"
        else:
            body = _range_text(ops, self.bounds)
        return f"{col} {'not in' if self.negated else 'in'} {body}"

    def __repr__(self) -> str:
        return f"Condition({str(self)!r})"


def _admitted(
    fact: FactSpec, op: str, operands: tuple[Scalar, ...], negated: bool, bounds: tuple[bool, bool]
) -> tuple[frozenset[Scalar], tuple[Interval, ...]]:
    """What a condition admits: its set of values (a finite kind's, or a string cell's
    literals) and its intervals (an integer or decimal column's). An ordinal cell's
    values are those whose ranks it admits (its intervals of ranks are not kept)."""
    kind = fact.kind
    admitted: frozenset[Scalar] = frozenset(operands) if operands else _NOTHING
    intervals: tuple[Interval, ...] = ()
    if kind is _INTEGER or kind is _DECIMAL:
        if op == ANY and not negated and not operands:
            intervals = _EVERY_NUMBER
        else:
            intervals = _to_intervals(op, list(operands), bounds)  # type: ignore[arg-type]
            if negated:
                intervals = complement(intervals)
    elif kind is _ORDINAL:
        values = fact.values
        if op == ANY and not negated and not operands:
            admitted = frozenset(values)
        elif op in (EQ, IN) and not negated and admitted.issubset(values):
            pass  # the values named, each at its own rank (what the spans below give)
        else:
            rank = fact.rank
            numbers = [rank(v) if isinstance(v, str) else v for v in operands]
            if op in (EQ, IN) and not negated:  # the values at these ranks
                spans = [_span(n, n, True, True, len(values)) for n in numbers]
            else:
                ranks = _to_intervals(op, numbers, bounds)
                if negated:
                    ranks = complement(ranks)
                spans = [
                    _span(iv.low, iv.high, iv.low_closed, iv.high_closed, len(values))
                    for iv in ranks
                ]
            admitted = frozenset([v for span in spans for v in values[span]])
    elif kind is not _STRING:  # boolean, enum
        domain: tuple[Scalar, ...] = (False, True) if kind is _BOOLEAN else fact.values
        if op == ANY:
            admitted = frozenset(domain)
        elif negated:
            admitted = frozenset(v for v in domain if v not in admitted)
    return admitted, intervals


def _span(
    low: _Number | None, high: _Number | None, low_in: bool, high_in: bool, count: int
) -> slice:
    """The ranks ``0 .. count - 1`` (an ordinal's values, low to high) between ``low``
    and ``high`` (``None``: unbounded; each bound in the span when ``low_in`` or
    ``high_in``), as a slice of them: from the first rank at or above ``low`` (above,
    when open) through the last at or below ``high`` (below, when open)."""
    start = 0 if low is None else ceil(low) if low_in else floor(low) + 1
    stop = count if high is None else floor(high) + 1 if high_in else ceil(high)
    return slice(max(start, 0), max(stop, 0))


# A condition made without Condition's __init__ (it has no validator or converter: the
# attrs one sets each field through object.__setattr__), what it admits worked out by
# the one function __attrs_post_init__ calls (tests hold the two equal).
_made: Final = settable_maker(Condition, "being parsed")


def condition(
    column: str,
    fact: FactSpec,
    op: str = ANY,
    operands: tuple[Scalar, ...] = (),
    negated: bool = False,
    bounds: tuple[bool, bool] = (True, True),
) -> Condition:
    """``Condition(column, fact, op, operands, negated, bounds)``, made the cheap way."""
    admitted, intervals = _admitted(fact, op, operands, negated, bounds)
    made: Condition = _made(column, fact, op, operands, negated, bounds, admitted, intervals)
    return made


# Conditions by column, the cell's class and the cell (as the table reader keys them).
_Cells: TypeAlias = "dict[tuple[str, type, object], Condition]"


class CellMemo:
    """Cells read once for several tables: give one memo to the
    :meth:`~cxrecovery.tables.DecisionTable.from_dict` calls that read tables against the
    same facts, and each distinct cell of a column is parsed once for all of them (a
    :class:`Condition` is immutable: the tables share it). A memo keeps the cells of the
    first ``facts`` mapping it is used with; read against another, a table parses its
    own.

    .. versionadded:: 0.2.0
    """

    __slots__ = ("_cells", "_facts")

    def __init__(self) -> None:
        self._facts: Mapping[str, FactSpec] | None = None
        self._cells: _Cells = {}

    def cells_for(self, facts: Mapping[str, FactSpec]) -> _Cells:
        """The memo's cells for tables read against ``facts`` (a new, empty one for a
        mapping other than its own)."""
        if self._facts is None:
            self._facts = facts
        return self._cells if self._facts is facts else {}


def _to_intervals(
    op: str, numbers: list[int | Decimal], bounds: tuple[bool, bool]
) -> tuple[Interval, ...]:
    if op == ANY:
        return _EVERY_NUMBER
    if op in (EQ, IN):
        return union([interval(n, n, True, True) for n in numbers])
    if op == RANGE:
        return (interval(numbers[0], numbers[1], bounds[0], bounds[1]),)
    n = numbers[0]
    if op[0] == "<":
        return (interval(None, n, False, op == "<="),)
    return (interval(n, None, op == ">=", False),)


def _range_text(ops: tuple[Scalar, ...], bounds: tuple[bool, bool]) -> str:
    opening = "[" if bounds[0] else "("
    closing = "]" if bounds[1] else ")"
    return f"{opening}{literal_text(ops[0])}..{literal_text(ops[1])}{closing}"


def _cell_text(op: str, ops: tuple[Scalar, ...], negated: bool, bounds: tuple[bool, bool]) -> str:
    if op == ANY:
        return "-"
    if op == EQ:
        return f"!= {literal_text(ops[0])}" if negated else literal_text(ops[0])
    if op in _COMPARISONS:
        text = f"{op} {literal_text(ops[0])}"
    elif op == IN:
        text = ", ".join(literal_text(v) for v in ops)
    else:
        text = _range_text(ops, bounds)
    return f"not {text}" if negated else text


def _ordered(kind: FactKind) -> bool:
    """``kind in _ORDERED``, by identity (an enum's hash is a Python call)."""
    return kind is _ORDINAL or kind is _INTEGER or kind is _DECIMAL


def parse_cell(column: str, fact: FactSpec, raw: object) -> Condition:
    """Parse a cell written for ``column`` into a :class:`Condition`.

    Raises:
        CellError: the cell does not parse or admits no value; the message says why.
    """
    kind, values = fact.kind, fact.values
    if isinstance(raw, list):
        if not raw:
            raise CellError("an empty list admits no value; write '-' for any")
        items = [parse_native(kind, values, item) for item in raw]
        return _checked(column, fact, IN if len(items) > 1 else EQ, items, False, (True, True))
    if not isinstance(raw, str):
        item = parse_native(kind, values, raw)
        return condition(column, fact, EQ, (item,))
    text = raw.strip()
    if not text:
        raise CellError("an empty cell; write '-' for any (or '\"\"' for the empty string)")
    negated = False
    if text[0] in _SPECIAL_STARTS:  # "-", "any", "not", an operator or a range
        if text in ("-", "any"):
            return condition(column, fact)
        if text == "not" or text.startswith(("not ", 'not"', "not[", "not(")):
            negated, text = True, text[3:].strip()
            if not text or text in ("-", "any") or text == "not" or text.startswith("not "):
                raise CellError(f"{raw!r}: write 'not' before a value, a list or a range")
        if text[0] in _OPERATOR_STARTS:
            for op in _OPERATORS:
                if text.startswith(op):
                    return _comparison(column, fact, raw, op, text[len(op) :].strip(), negated)
        if text[:1] in ("[", "("):
            if text[-1:] not in ("]", ")"):
                raise CellError(f"{raw!r} is not a range like [2..5], (2..5] or [low..high]")
            closed = (text[0] == "[", text[-1] == "]")
            return _range(column, fact, raw, text[1:-1], closed, negated)
    if "," not in text and '"' not in text and ".." not in text:  # one plain value
        item = parse_text_literal(kind, values, text)
        return _checked(column, fact, EQ, [item], negated, (True, True))
    parts = split(text, ",")
    if _ordered(kind) and len(parts) == 1 and not parts[0][1] and ".." in parts[0][0]:
        return _range(column, fact, raw, text, (True, True), negated)
    if ("", False) in parts:
        raise CellError(f"{raw!r} has an empty value in its list")
    items = [parse_text_literal(kind, values, item) for item, _ in parts]
    return _checked(column, fact, IN if len(items) > 1 else EQ, items, negated, (True, True))


def _comparison(
    column: str, fact: FactSpec, raw: str, op: str, rest: str, negated: bool
) -> Condition:
    if op not in ("=", "==", "!=") and not _ordered(fact.kind):
        raise CellError(
            f"{raw!r}: comparisons apply to ordinal, integer and decimal columns, "
            f"and {column!r} is {fact.kind}"
        )
    if "," in rest or '"' in rest:
        parts = split(rest, ",")
        if len(parts) != 1:
            raise CellError(f"{raw!r}: write one value after {op!r} (a list reads 'not a, b')")
        text, quoted = parts[0]
    else:  # one plain value (what split gives for it: rest is stripped)
        text, quoted = rest, False
    if not text and not quoted:
        raise CellError(f"{raw!r} needs a value after {op!r}")
    item = parse_text_literal(fact.kind, fact.values, text)
    if op in ("=", "==", "!="):
        return _checked(column, fact, EQ, [item], negated != (op == "!="), (True, True))
    return _checked(column, fact, op, [item], negated, (True, True))


def _range(
    column: str,
    fact: FactSpec,
    raw: str,
    inner: str,
    bounds: tuple[bool, bool],
    negated: bool,
) -> Condition:
    if not _ordered(fact.kind):
        raise CellError(
            f"{raw!r}: ranges apply to ordinal, integer and decimal columns, "
            f"and {column!r} is {fact.kind}"
        )
    parts = split(inner, "..")
    if len(parts) != 2 or not all(p or q for p, q in parts):
        raise CellError(f"{raw!r} is not a range like [2..5], (2..5] or [low..high]")
    low, high = (parse_text_literal(fact.kind, fact.values, p) for p, _ in parts)
    key = fact.rank if fact.kind is _ORDINAL else None
    lo = key(low) if key and isinstance(low, str) else low
    hi = key(high) if key and isinstance(high, str) else high
    if lo > hi:  # type: ignore[operator]
        raise CellError(f"{raw!r} is inverted: its low end is above its high end")
    return _checked(column, fact, RANGE, [low, high], negated, bounds)


def _checked(
    column: str,
    fact: FactSpec,
    op: str,
    items: list[Scalar],
    negated: bool,
    bounds: tuple[bool, bool],
) -> Condition:
    if op == IN:
        seen: set[Scalar] = set()
        for item in items:
            if item in seen:
                raise CellError(f"{literal_text(item)!r} is listed twice")
            seen.add(item)
    made = condition(column, fact, op, tuple(items), negated, bounds)
    kind = fact.kind
    if kind is _INTEGER or kind is _DECIMAL:
        exact = kind is _INTEGER
        empty = True
        for iv in made._intervals:
            if not is_empty(iv, exact=exact):
                empty = False
                break
    else:  # a finite kind's values; a string column admits some string
        empty = kind is not _STRING and not made._set
    if empty:
        raise CellError(f"{made.cell!r} admits no value of {column!r}")
    return made


def fact_problem(spec: FactSpec, value: object) -> str | None:
    """Say what is wrong with ``value`` as the value of the fact ``spec``, if anything."""
    kind = spec.kind
    if kind is _BOOLEAN:
        return None if isinstance(value, bool) else f"{value!r} is not true or false"
    if isinstance(value, float):
        return float_message(value)
    if kind is _INTEGER:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{value!r} is not an integer"
    if kind is _DECIMAL:
        if isinstance(value, Decimal):
            return None if value.is_finite() else f"{value!r} is not a finite decimal"
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{value!r} is not a Decimal or an integer"
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    if kind is _STRING or value in spec.values:
        return None
    return f"{value!r} is not one of {allowed(spec.values)}{suggest(str(value), spec.values)}"
