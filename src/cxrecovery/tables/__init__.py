"""Decision tables as data: read once, checked against the facts, compiled, evaluated fast.

A table reads some facts (its input columns), tests each rule's cells against them and
combines the rules that match by its hit policy.  Cells follow a closed grammar (see
``docs/decision-tables.md``): no ``eval``, no attribute access on host objects.

Compilation turns every input column into an index: for each value (booleans, enums,
ordinals, the literals of a string column) or each stretch between cell boundaries
(integers, decimals) a bitmask of the rules whose cell admits it.  Evaluating is then
one lookup per column and a bitwise AND, whatever the number of rules; the combined
outcome for a set of matching rules is computed once and reused.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from operator import attrgetter
from typing import Any, Final

import attrs

from cxrecovery._validation import settable_maker
from cxrecovery.errors import InvalidValueError, PolicyError, Problem
from cxrecovery.tables._build import _PRIORITY, Parts, read
from cxrecovery.tables._cells import CellMemo, Condition, Interval, fact_problem
from cxrecovery.tables._dump import dump
from cxrecovery.tables._index import (
    _BOOLEAN,
    _DECIMAL,
    _DENSE,
    _HASHED,
    _MEMO_LIMIT,
    _STRING,
    TableIndex,
    _Entry,
    stretch,
)
from cxrecovery.tables._literals import Scalar, show
from cxrecovery.tables._model import (
    Aggregation,
    HitPolicy,
    Rule,
    RuleTrace,
    TableExplanation,
    TableResult,
    failure_reason,
    made_result,
)
from cxrecovery.tables.vocabulary import FactKind, FactSpec, FrozenMapping, OutputSpec

__all__ = [
    "Aggregation",
    "CellMemo",
    "Condition",
    "DecisionTable",
    "FactKind",
    "FactSpec",
    "FrozenMapping",
    "HitPolicy",
    "Interval",
    "OutputSpec",
    "Rule",
    "RuleTrace",
    "Scalar",
    "TableExplanation",
    "TableResult",
]


# The hit policies and aggregations, looked up once: reading a member off its enum class
# is a Python-level lookup (some 800 instructions), and a table settles each new set of
# matching rules by them.
_COLLECT: Final = HitPolicy.COLLECT
_RULE_ORDER: Final = HitPolicy.RULE_ORDER
_UNIQUE: Final = HitPolicy.UNIQUE
_ANY: Final = HitPolicy.ANY
_AGG_COUNT: Final = Aggregation.COUNT
_AGG_SUM: Final = Aggregation.SUM
_AGG_MIN: Final = Aggregation.MIN
# A rule's outputs, read in C (``map`` over the rules matched).
_outputs_of: Final = attrgetter("outputs")


def _has_unique_ids(_: object, attribute: attrs.Attribute[Any], rules: tuple[Rule, ...]) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise PolicyError.at(attribute.name, f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)


@attrs.frozen(kw_only=True, repr=False)
class DecisionTable:
    """A decision table, compiled at construction; build it with :meth:`from_dict`.

    Equal tables have equal names, hit policies, aggregations, descriptions, columns and
    rules; ``path`` (where the table sits in its document, for error messages) and the
    compiled ``TableIndex`` (the column indexes and the row-set memo, built here
    once) do not take part.

    .. versionadded:: 0.1.0
    """

    name: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None = None
    description: str = ""
    inputs: tuple[str, ...]
    input_facts: tuple[FactSpec, ...]
    outputs: tuple[OutputSpec, ...]
    rules: tuple[Rule, ...] = attrs.field(validator=_has_unique_ids)
    path: str = attrs.field(default="", eq=False)
    _index: TableIndex = attrs.field(init=False, eq=False)

    def __attrs_post_init__(self) -> None:
        problems = self._inconsistencies()
        if problems:
            raise PolicyError(problems)
        # Set once, as attrs has a frozen class set a field derived from the others.
        object.__setattr__(self, "_index", TableIndex(self.input_facts, self.rules))

    def _inconsistencies(self) -> list[Problem]:
        problems: list[Problem] = []
        names = tuple(spec.name for spec in self.input_facts)
        if names != self.inputs:
            problems.append(Problem("input_facts", f"{names!r} do not match the inputs"))
        out_names = {spec.name for spec in self.outputs}
        for rule in self.rules:
            where = f"rules[{rule.index}]"
            if tuple(c.column for c in rule.conditions) != self.inputs:
                problems.append(Problem(where, "needs one condition per input, in order"))
            elif tuple(c.fact for c in rule.conditions) != self.input_facts:
                problems.append(Problem(where, "its conditions read other facts"))
            if set(rule.outputs) != out_names:
                problems.append(Problem(where, "needs a value for every output, and no other"))
        if self.aggregation is not None and self.hit_policy is not _COLLECT:
            problems.append(Problem("aggregation", "only a collect table aggregates"))
        return problems

    # --- reading and writing -----------------------------------------------------------

    @classmethod
    def from_dict(
        cls,
        name: str,
        data: Mapping[str, object],
        *,
        facts: Mapping[str, FactSpec],
        path: str = "",
        cells: CellMemo | None = None,
    ) -> DecisionTable:
        """Read a table from its document form (TOML, JSON or a dict) and compile it.

        Args:
            name: the table's name (its key under ``[tables]``).
            data: the document form: ``hit_policy``, ``inputs``, ``outputs``, ``rules``
                and optionally ``aggregation`` and ``description``.
            facts: the facts a table may read, by name.
            path: where the table sits in its document (``"tables.compensation"``);
                put in front of every problem's path.
            cells: a memo of the cells read, shared with the other tables read with it
                against the same ``facts`` (see :class:`CellMemo`).

        Returns:
            The compiled table.

        Raises:
            PolicyError: with every problem found, each at its path
                (``tables.compensation.rules[3].when.severity``).

        .. versionchanged:: 0.2.0 ``cells``.
        """
        parts, problems = read(data, facts, cells)
        if parts is None:
            raise PolicyError(p.under(path) for p in problems)
        if cls is not DecisionTable:  # a subclass: its own constructor
            return cls(
                name=name,
                hit_policy=parts.hit_policy,
                aggregation=parts.aggregation,
                description=parts.description,
                inputs=parts.inputs,
                input_facts=parts.input_facts,
                outputs=parts.outputs,
                rules=parts.rules,
                path=path,
            )
        return _read_table(name, parts, path)

    def to_dict(self) -> dict[str, object]:
        """The table in its canonical document form; ``from_dict`` gives it back equal.

        Returns:
            Plain data (strings, booleans, integers, lists, dicts) ready for JSON or TOML.
        """
        return dump(
            self.hit_policy,
            self.aggregation,
            self.description,
            self.inputs,
            self.outputs,
            self.rules,
        )

    # --- evaluating ---------------------------------------------------------------------

    def evaluate(self, facts: Mapping[str, object]) -> TableResult:
        """Evaluate the table over ``facts``, with the cheap trace (matched, chosen,
        shadowed rules and the inputs read).

        Args:
            facts: fact values by name; only the table's input columns are read. Enum and
                ordinal values may be strings or ``StrEnum`` members; decimals may be
                ``Decimal`` or ``int``.

        Returns:
            The outcome; see :class:`TableResult` for its shape under each hit policy.

        Raises:
            PolicyError: an input fact is missing or has a value of the wrong kind; or two
                rules of a ``UNIQUE`` table match; or the rules that match in an ``ANY``
                table disagree.
            InvalidValueError: ``facts`` is not a mapping.
        """
        seen: dict[str, object] = {}
        return made_result(self._outcome(facts, seen), seen)

    def _outcome(self, facts: Mapping[str, object], seen: dict[str, object]) -> _Entry:
        """:meth:`evaluate`'s work without its result: the outcome shared by every
        evaluation that matches the same rules (name, outputs, matched, chosen,
        shadowed), the fact values read written into ``seen`` (empty), by input column.
        The engine keeps the two as they are, and makes a result only when asked for one.
        """
        compiled = self._index
        mask = compiled.full
        try:
            for name, code, index, other in compiled.columns:
                value = seen[name] = facts[name]
                if code == _HASHED:
                    mask &= index[value]  # an unknown value: KeyError, as a missing fact
                    continue
                if code == _BOOLEAN:
                    found = index[1] if value is True else index[0] if value is False else None
                elif code == _DENSE:
                    if value.__class__ is int:
                        i = value - other[0]
                        found = (
                            index[i] if 0 <= i < len(index) else index[0] if i < 0 else index[-1]
                        )
                    else:
                        found = (
                            stretch(other[1], other[2], value) if _is_number(code, value) else None
                        )
                elif code == _STRING:
                    found = index.get(value, other) if isinstance(value, str) else None
                elif value.__class__ is int or _is_number(code, value):
                    found = stretch(index, other, value)
                else:
                    found = None
                if found is None:
                    raise self._fact_error(facts)
                mask &= found
        except (KeyError, TypeError):
            raise self._fact_error(facts) from None
        entry = compiled.outcomes.get(mask)
        if entry is None:
            entry = self._settle(mask, seen)
        return entry

    def explain(self, facts: Mapping[str, object]) -> TableExplanation:
        """Evaluate the table and say, for every rule, why it matched or which cell
        refused which fact value.

        Costlier than :meth:`evaluate`: every cell of every rule is tested in order.

        Raises:
            PolicyError: as :meth:`evaluate`.
        """
        result = self.evaluate(facts)
        values = result.inputs
        chosen = set(result.chosen)
        traces: list[RuleTrace] = []
        for rule in self.rules:
            failed = next((c for c in rule.conditions if not c.admits(values[c.column])), None)
            if failed is not None:
                value = values[failed.column]
                traces.append(
                    RuleTrace(
                        rule.id,
                        rule.index,
                        False,
                        False,
                        failure_reason(failed, value),
                        failed.column,
                        value,
                        failed,
                    )
                )
                continue
            is_chosen = rule.id in chosen
            traces.append(RuleTrace(rule.id, rule.index, True, is_chosen, self._why(rule, result)))
        return TableExplanation(self.name, result, tuple(traces))

    def _why(self, rule: Rule, result: TableResult) -> str:
        if rule.id in result.chosen:
            return "matched and chosen"
        winner = result.chosen[0] if result.chosen else "another rule"
        if self.hit_policy is _PRIORITY:
            return f"matched, but {winner} has a higher priority or comes first"
        if self.hit_policy is _ANY:
            return f"matched and agrees with {winner}"
        return f"matched, but {winner} comes first"

    # --- internals ----------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return self.path or f"tables.{self.name}"

    def _fact_error(self, facts: Mapping[str, object]) -> InvalidValueError:
        if not isinstance(facts, Mapping):
            return InvalidValueError.at(
                "facts", f"{facts!r:.60} is not a mapping of fact names to values"
            )
        problems: list[Problem] = []
        for spec in self.input_facts:
            try:
                value = facts[spec.name]
            except KeyError:
                problems.append(Problem(self._where, f"input {spec.name!r}: the fact is missing"))
                continue
            problem = fact_problem(spec, value)
            if problem:
                problems.append(
                    Problem(self._where, f"input {spec.name!r} ({spec.kind}): {problem}")
                )
        if not problems:  # pragma: no cover - a lookup failed on a value the checks accept
            problems.append(Problem(self._where, "the facts could not be read"))
        return PolicyError(problems)

    def _settle(self, mask: int, seen: Mapping[str, object]) -> _Entry:
        rules = self.rules
        picked: list[Rule] = []
        ids: list[str] = []  # (in the loop: a generator costs more in code run this rarely)
        rest = mask
        while rest:
            low = rest & -rest
            rule = rules[low.bit_length() - 1]
            picked.append(rule)
            ids.append(rule.id)
            rest ^= low
        matched = tuple(ids)
        policy = self.hit_policy
        outputs: object
        if policy is _COLLECT or policy is _RULE_ORDER:
            if self.aggregation is None:
                outputs = tuple(map(_outputs_of, picked))
            else:
                outputs = self._aggregate(picked)
            entry: _Entry = (self.name, outputs, matched, matched, ())
        elif not picked:
            entry = (self.name, None, (), (), ())
        elif policy is _UNIQUE and len(picked) > 1:
            raise PolicyError.at(
                self._where,
                f"rules {', '.join(matched)} all match {_facts_text(seen)}; "
                "a unique table allows one",
            )
        elif policy is _ANY and any(r.outputs != picked[0].outputs for r in picked):
            given = "; ".join(f"{r.id} gives {_outputs_text(r.outputs)}" for r in picked)
            raise PolicyError.at(
                self._where,
                f"rules {', '.join(matched)} match {_facts_text(seen)} but disagree ({given});"
                " an any table needs matching rules to agree",
            )
        else:
            best = picked[0]
            if policy is _PRIORITY:
                for r in picked:
                    if r.priority > best.priority:
                        best = r
            chosen = best.id
            # Ids are unique: the first rule chosen shadows the others matched.
            shadowed = matched[1:] if best is picked[0] else tuple([i for i in ids if i != chosen])
            entry = (self.name, best.outputs, matched, (chosen,), shadowed)
        outcomes = self._index.outcomes
        if len(outcomes) < _MEMO_LIMIT:
            outcomes[mask] = entry
        return entry

    def _aggregate(self, picked: list[Rule]) -> Mapping[str, object] | None:
        how = self.aggregation
        if how is _AGG_COUNT:
            return FrozenMapping((spec.name, len(picked)) for spec in self.outputs)
        if how is _AGG_SUM:
            return FrozenMapping(
                (spec.name, sum((r.outputs[spec.name] for r in picked), _zero(spec)))
                for spec in self.outputs
            )
        if not picked:
            return None
        pick = min if how is _AGG_MIN else max
        folded: dict[str, object] = {}
        for spec in self.outputs:
            column = [r.outputs[spec.name] for r in picked]
            if spec.kind is FactKind.ORDINAL:
                folded[spec.name] = pick(column, key=_ranker(spec))
            else:
                folded[spec.name] = pick(column, key=_number)
        return FrozenMapping(folded)

    def __repr__(self) -> str:
        return (
            f"<DecisionTable {self.name!r}: {self.hit_policy}, {len(self.inputs)} inputs, "
            f"{len(self.rules)} rules>"
        )

    def __str__(self) -> str:
        head = f"{self.name} ({self.hit_policy}"
        head += f", {self.aggregation})" if self.aggregation else ")"
        return "\n".join([head, *(f"  {r.id}: {r}" for r in self.rules)])


def table_outcome(
    table: DecisionTable, facts: Mapping[str, object], seen: dict[str, object]
) -> _Entry:
    """``table.evaluate(facts)``'s work without its result, for the engine: the outcome
    shared by the evaluations that match the same rules (name, outputs, matched, chosen,
    shadowed), the fact values read written into ``seen``. ``made_result(outcome,
    seen)`` is the result ``evaluate`` gives; the engine makes it only when asked for.
    Raises what ``evaluate`` raises."""
    return table._outcome(facts, seen)


# A table read from its document form is consistent by construction: the reader checks
# all that the constructor's checks do (one condition per input, in order, on its fact;
# every output and no other; unique rule ids; aggregation only in a collect table), and
# fails with each problem's path. So it is made without them (tests hold it equal to
# the checked construction, index included).
_made: Final[Callable[..., DecisionTable]] = settable_maker(DecisionTable, "being read")


def _read_table(name: str, parts: Parts, path: str) -> DecisionTable:
    """``DecisionTable(name=name, **parts, path=path)``, for parts the reader gave."""
    return _made(
        name,
        parts.hit_policy,
        parts.aggregation,
        parts.description,
        parts.inputs,
        parts.input_facts,
        parts.outputs,
        parts.rules,
        path,
        TableIndex(parts.input_facts, parts.rules),
    )


def _ranker(spec: OutputSpec) -> Callable[[object], int]:
    def rank(value: object) -> int:
        return spec.values.index(value)

    return rank


def _number(value: object) -> Decimal:
    return Decimal(value)  # type: ignore[arg-type]


def _zero(spec: OutputSpec) -> Scalar:
    return Decimal(0) if spec.kind is FactKind.DECIMAL else 0


def _facts_text(values: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in values.items()) or "any facts"


def _outputs_text(outputs: Mapping[str, object]) -> str:
    return ", ".join(f"{k}={show(v)}" for k, v in outputs.items())


def _is_number(code: int, value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return code == _DECIMAL and isinstance(value, Decimal) and value.is_finite()
