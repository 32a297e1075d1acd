"""The values a decision table is made of and gives back: rules, hit policies, results."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Final, TypeAlias

import attrs

from cxrecovery.tables._cells import Condition
from cxrecovery.tables._literals import Scalar, literal_text, show
from cxrecovery.tables.vocabulary import FrozenMapping

__all__ = [
    "Aggregation",
    "HitPolicy",
    "Rule",
    "RuleTrace",
    "TableExplanation",
    "TableResult",
]


class HitPolicy(enum.StrEnum):
    """How a table combines the rules that match, as DMN defines it.

    - ``UNIQUE``: at most one rule may match; two matching is an error.
    - ``FIRST``: the first matching rule, in rule order.
    - ``PRIORITY``: the matching rule with the highest ``priority`` (ties: rule order).
    - ``ANY``: rules may overlap only if they give the same outputs.
    - ``COLLECT``: every matching rule, or an :class:`Aggregation` of their outputs.
    - ``RULE_ORDER``: every matching rule, in rule order.

    .. versionadded:: 0.1.0
    """

    UNIQUE = "unique"
    FIRST = "first"
    PRIORITY = "priority"
    ANY = "any"
    COLLECT = "collect"
    RULE_ORDER = "rule_order"


class Aggregation(enum.StrEnum):
    """How a ``COLLECT`` table folds the outputs of the matching rules.

    ``SUM`` adds integer or decimal outputs; ``MIN`` and ``MAX`` also order ordinal
    outputs by their values' order; ``COUNT`` counts the matching rules.

    .. versionadded:: 0.1.0
    """

    SUM = "sum"
    MIN = "min"
    MAX = "max"
    COUNT = "count"


def _show_output(value: Scalar) -> str:
    return literal_text(value) if isinstance(value, bool | int) else str(value)


@attrs.frozen
class Rule:
    """One row of a decision table.

    Args:
        id: the rule's id, given in the document or ``r1``, ``r2``… by position.
        index: the rule's position in the table, from 0.
        conditions: one :class:`Condition` per input column, in column order (``any``
            where the document left the column out).
        outputs: the output values, by output name.
        priority: the rule's weight under the ``PRIORITY`` hit policy (highest wins).
        source: free text for operations staff: where a number comes from.

    .. versionadded:: 0.1.0
    """

    id: str
    index: int
    conditions: tuple[Condition, ...]
    outputs: Mapping[str, Scalar] = attrs.field(converter=FrozenMapping)
    priority: int = attrs.field(default=0, kw_only=True)
    source: str = attrs.field(default="", kw_only=True)

    def __str__(self) -> str:
        tests = " & ".join(str(c) for c in self.conditions if not c.is_any) or "any"
        then = ", ".join(f"{k}={_show_output(v)}" for k, v in self.outputs.items())
        return f"{tests} -> {then}"


_Outputs: TypeAlias = Mapping[str, object] | tuple[Mapping[str, object], ...] | None
_Core: TypeAlias = tuple[str, _Outputs, tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_new = object.__new__
_set = object.__setattr__


class TableResult:
    """What a table gave for some facts, with the cheap trace that always comes with it.

    Immutable: setting an attribute raises :class:`attrs.exceptions.FrozenInstanceError`.

    Args:
        table: the table's name.
        outputs: single-hit policies (``UNIQUE``, ``FIRST``, ``PRIORITY``, ``ANY``):
            the chosen rule's outputs, or ``None`` when no rule matched. ``COLLECT``
            without aggregation and ``RULE_ORDER``: a tuple of every matching rule's
            outputs, in rule order. ``COLLECT`` with an aggregation: the aggregated
            value by output name (``None`` for ``MIN``/``MAX`` when nothing matched).
        matched: ids of the rules that matched, in rule order.
        chosen: ids of the rules whose outputs were used.
        shadowed: ids of the rules that matched but were not used (``FIRST``,
            ``PRIORITY``, ``ANY``).
        inputs: the fact values the table read, by input column.

    .. versionadded:: 0.1.0
    """

    # Not an attrs class: a frozen attrs __init__ sets six slots through
    # object.__setattr__ (0.7 µs here, more than the table lookup itself). The part
    # shared by every evaluation that matches the same rules is one cached tuple, so a
    # result is two slot writes.
    __slots__ = ("_core", "inputs")

    _core: _Core
    inputs: Mapping[str, object]

    def __init__(
        self,
        table: str,
        outputs: _Outputs,
        matched: tuple[str, ...],
        chosen: tuple[str, ...],
        shadowed: tuple[str, ...],
        inputs: Mapping[str, object],
    ) -> None:
        _set(self, "_core", (table, outputs, tuple(matched), tuple(chosen), tuple(shadowed)))
        _set(self, "inputs", inputs)

    @property
    def table(self) -> str:
        """The table's name."""
        return self._core[0]

    @property
    def outputs(self) -> _Outputs:
        """The outputs (see the class docstring for their shape per hit policy)."""
        return self._core[1]

    @property
    def matched(self) -> tuple[str, ...]:
        """Ids of the rules that matched, in rule order."""
        return self._core[2]

    @property
    def chosen(self) -> tuple[str, ...]:
        """Ids of the rules whose outputs were used."""
        return self._core[3]

    @property
    def shadowed(self) -> tuple[str, ...]:
        """Ids of the rules that matched but were not used."""
        return self._core[4]

    def __setattr__(self, name: str, value: object) -> None:
        raise attrs.exceptions.FrozenInstanceError

    def __delattr__(self, name: str) -> None:
        raise attrs.exceptions.FrozenInstanceError

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, TableResult)  # for mypy: the class was just checked
        return self._core == other._core and dict(self.inputs) == dict(other.inputs)

    __hash__ = None  # type: ignore[assignment]  # inputs is a mutable mapping

    def __repr__(self) -> str:
        table, outputs, matched, chosen, shadowed = self._core
        return (
            f"TableResult(table={table!r}, outputs={outputs!r}, matched={matched!r}, "
            f"chosen={chosen!r}, shadowed={shadowed!r}, inputs={self.inputs!r})"
        )

    def __str__(self) -> str:
        if not self.matched:
            return f"{self.table}: no rule matched"
        text = f"{self.table}: {', '.join(self.chosen)} chosen"
        if self.shadowed:
            text += f" ({', '.join(self.shadowed)} also matched)"
        return text


# The slots' own setters (their member descriptors' ``__set__``): a slot written with
# no look-up of the attribute by name, about 40 ns less each than object.__setattr__.
_set_core: Final = TableResult.__dict__["_core"].__set__
_set_inputs: Final = TableResult.__dict__["inputs"].__set__


def made_result(core: _Core, inputs: Mapping[str, object]) -> TableResult:
    """``TableResult(*core, inputs)`` without its ``__init__``, for a ``core`` a table
    settled (its parts tuples already) and shares between results."""
    result: TableResult = _new(TableResult)
    _set_core(result, core)
    _set_inputs(result, inputs)
    return result


@attrs.frozen
class RuleTrace:
    """Why one rule matched or not, for :meth:`DecisionTable.explain`.

    ``column``, ``value`` and ``condition`` name the first input column (in column
    order) whose cell refused the fact value; they are ``None`` for a rule that matched.

    .. versionadded:: 0.1.0
    """

    rule_id: str
    index: int
    matched: bool
    chosen: bool
    reason: str
    column: str | None = None
    value: object = None
    condition: Condition | None = None

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.reason}"


@attrs.frozen
class TableExplanation:
    """The full "why and why not" of one evaluation: a trace for every rule.

    .. versionadded:: 0.1.0
    """

    table: str
    result: TableResult
    rules: tuple[RuleTrace, ...]

    def rule(self, rule_id: str) -> RuleTrace | None:
        """The trace of the rule with ``rule_id``, or ``None`` if no rule has that id."""
        for trace in self.rules:
            if trace.rule_id == rule_id:
                return trace
        return None

    def __str__(self) -> str:
        lines = [str(self.result)]
        lines.extend(f"  {trace}" for trace in self.rules)
        return "\n".join(lines)


def failure_reason(condition: Condition, value: object) -> str:
    """The sentence for a rule that failed on ``condition`` with fact ``value``."""
    return f"{condition.column} is {show(value)}, which fails {condition}"
