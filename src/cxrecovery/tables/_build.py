"""Reading a decision table from its document form.

Every problem is collected with its path relative to the table, so a table with five
mistakes reports five problems at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

from cxrecovery._validation import settable_maker, suggest
from cxrecovery.errors import Problem
from cxrecovery.tables._cells import CellMemo, Condition, condition, parse_cell
from cxrecovery.tables._literals import CellError, Scalar, float_message, parse_native
from cxrecovery.tables._model import Aggregation, HitPolicy, Rule
from cxrecovery.tables._parts import TABLE_KEYS, Checks, _at, _is_mapping, check_aggregation
from cxrecovery.tables.vocabulary import (
    _BOOLEAN,
    _INTEGER,
    _STRING,
    FactSpec,
    FrozenMapping,
    OutputSpec,
)

__all__ = ["Parts", "read"]

RULE_KEYS: Final = ("id", "priority", "when", "then", "source")
_RULE_KEYS: Final = frozenset(RULE_KEYS)
_TABLE_KEYS: Final = frozenset(TABLE_KEYS)
_PRIORITY: Final = HitPolicy.PRIORITY  # looked up once (see vocabulary._BOOLEAN)
_NO_CELLS: Final[dict[str, object]] = {}
# The classes of a cell or an output value read once per table and column: a document's
# scalars (a bool is kept apart from the int it equals by its class in the key).
_SHARED: Final = frozenset({str, int, bool})
_ANY: Final = object()  # a cell the rule leaves out
# The class of an output value that reads as itself (parse_native gives it back), by
# the output's kind: a string output's text, a boolean output's boolean.
_PLAIN: Final = {_STRING: str, _BOOLEAN: bool}


# A rule the reader has checked, made without Rule's __init__ (its one converter, to a
# FrozenMapping, applied here); the tests hold a table read so equal to one built
# through the constructors.
_rule: Final[Callable[..., Rule]] = settable_maker(Rule, "being read")
_frozen: Final = FrozenMapping._of  # a rule's outputs: a dict of the reader's own


@attrs.frozen
class Parts:
    """The checked parts of a table, ready for :class:`DecisionTable` (internal)."""

    hit_policy: HitPolicy
    aggregation: Aggregation | None
    description: str
    inputs: tuple[str, ...]
    input_facts: tuple[FactSpec, ...]
    outputs: tuple[OutputSpec, ...]
    rules: tuple[Rule, ...]


class _Reader(Checks):
    # What a rule is checked against, set by rules (before a rule is read): the input
    # names, the facts of those of a known fact and the output names, and each output
    # with the class of a value that reads as itself for its kind.
    names: list[str]
    input_facts: list[FactSpec]
    inputs_known: frozenset[str]
    known: set[str]
    out_plan: list[tuple[str, OutputSpec, type | None]]
    # Each column of a known fact by name: its place among those columns, its place in
    # the table and its fact; and each one's condition for a rule that leaves it out,
    # in order.
    plan: dict[str, tuple[int, int, FactSpec]]
    left_out: list[Condition]

    def __init__(self, facts: Mapping[str, FactSpec], memo: CellMemo | None) -> None:
        self.facts = facts
        self.problems: list[Problem] = []
        self.declared: set[str] = set()  # output names, including those with a bad kind
        # Each distinct cell of a column (per table, or per CellMemo), and each distinct
        # value of an output, read once: a Condition and a scalar are immutable, so the
        # rules that write the same share one (by column, the value's class and value).
        self.cells = {} if memo is None else memo.cells_for(facts)
        self.values: dict[tuple[str, type, object], Scalar] = {}

    def rules(
        self,
        value: object,
        columns: list[tuple[str, FactSpec | None]],
        outputs: list[OutputSpec],
        policy: HitPolicy | None,
    ) -> list[Rule]:
        if not isinstance(value, list):
            self.fail("rules", f"{value!r} is not a list of rules")
            return []
        if not value:
            self.fail("rules", "a table needs at least one rule")
        # What every rule is checked against, worked out once for the table: the
        # inputs' names and the outputs' (each output read is declared, see outputs).
        self.known = self.declared
        # Each output, and the class of a value that reads as itself for its kind.
        self.out_plan = [(o.name, o, _PLAIN.get(o.kind)) for o in outputs]
        # Each column of a known fact: its place among them, its place in the table and
        # its fact, by name; its fact; and its condition for a rule that leaves it out
        # (read once).
        names: list[str] = []
        facts: list[FactSpec] = []
        plan: dict[str, tuple[int, int, FactSpec]] = {}
        left_out: list[Condition] = []
        self.names, self.input_facts, self.plan, self.left_out = names, facts, plan, left_out
        cells = self.cells
        for i, (name, spec) in enumerate(columns):
            names.append(name)
            if spec is not None:
                plan[name] = (len(left_out), i, spec)
                facts.append(spec)
                key = (name, object, _ANY)
                found = cells.get(key)
                if found is None:
                    found = cells[key] = condition(name, spec)
                left_out.append(found)
        self.inputs_known = frozenset(names)
        rules: list[Rule] = []
        first: dict[str, int] = {}  # each rule id, by the index of its first rule
        # A rule's path (rules[i]) is written only for a problem found in it.
        for i, item in enumerate(value):
            mapping = item.__class__ is dict or isinstance(item, Mapping)  # _is_mapping
            rule_id = item["id"] if mapping and "id" in item else f"r{i + 1}"
            duplicate = False
            if isinstance(rule_id, str):
                if rule_id in first:
                    duplicate = True
                    also = f"(also rules[{first[rule_id]}])"
                    self.fail(f"rules[{i}].id", f"duplicate id {rule_id!r} {also}")
                else:
                    first[rule_id] = i
            if mapping:
                rule = self.rule(i, item, rule_id, columns, outputs, policy)
            elif isinstance(item, list):
                rule = self.row(i, item, columns, outputs, policy)
            else:
                self.fail(
                    f"rules[{i}]", f"{item!r} is not a rule (a mapping with when/then, or a row)"
                )
                continue
            if rule is not None and not duplicate:
                rules.append(rule)
        return rules

    def rule(
        self,
        index: int,
        data: Mapping[Any, object],
        rule_id: object,
        columns: list[tuple[str, FactSpec | None]],
        outputs: list[OutputSpec],
        policy: HitPolicy | None,
    ) -> Rule | None:
        # A rule the usual way (a dict of known keys, a dict of inputs, a dict of the
        # outputs): each part is tested as a whole first, and looked at key by key (for
        # the problem and its path) only when that test fails.
        before = len(self.problems)
        if not _RULE_KEYS.issuperset(data):
            self.keys(data, RULE_KEYS, f"rules[{index}]")
        if not isinstance(rule_id, str) or not rule_id or rule_id != rule_id.strip():
            self.fail(f"rules[{index}].id", f"{rule_id!r} is not a rule id (a non-empty string)")
        if "priority" in data or policy is _PRIORITY:
            priority = self.priority(data, f"rules[{index}]", policy)
        else:
            priority = 0
        when = data.get("when", _NO_CELLS)
        cells: Mapping[Any, object]
        if when.__class__ is dict and self.inputs_known.issuperset(when):
            cells = when
        else:
            cells = self.when(when, f"rules[{index}]")
        conditions = self.conditions(cells, index, ".")
        then = data.get("then")
        values: dict[str, Scalar] = {}
        if then.__class__ is dict or _is_mapping(then):
            if not self.known.issuperset(then):
                self.unknown_outputs(then, f"rules[{index}].then")
            values = self.then_values(then, index)
        else:
            self.fail(f"rules[{index}].then", f"{then!r} is not a mapping of outputs to values")
        source = data.get("source", "")
        if source.__class__ is not str:
            source = self.text(data, "source", f"rules[{index}]")
        if len(self.problems) > before or not isinstance(rule_id, str):
            return None
        return _rule(rule_id, index, conditions, _frozen(values), priority, source)

    def when(self, when: object, path: str) -> dict[str, object]:
        """The cells of a rule's ``when`` that name inputs (each other key a problem)."""
        cells: dict[str, object] = {}
        if _is_mapping(when):
            names = self.names
            for name, cell in when.items():
                if name in names:
                    cells[name] = cell
                else:
                    self.fail(
                        _at(_at(path, "when"), str(name)),
                        f"{name!r} is not an input of this table{suggest(name, names)}"
                        f" (inputs: {', '.join(names)})",
                    )
        else:
            self.fail(_at(path, "when"), f"{when!r} is not a mapping of inputs to cells")
        return cells

    def unknown_outputs(self, then: Mapping[Any, object], then_path: str) -> None:
        """A problem for each key of a rule's ``then`` that is not an output."""
        for name in then:
            if name not in self.known:
                self.fail(
                    _at(then_path, str(name)),
                    f"{name!r} is not an output of this table{suggest(name, self.known)}",
                )

    def row(
        self,
        index: int,
        data: list[object],
        columns: list[tuple[str, FactSpec | None]],
        outputs: list[OutputSpec],
        policy: HitPolicy | None,
    ) -> Rule | None:
        before = len(self.problems)
        path = f"rules[{index}]"
        width = len(columns) + len(outputs)
        if len(data) != width:
            self.fail(
                path,
                f"a row has {len(data)} cells but the table has {len(columns)} inputs and "
                f"{len(outputs)} outputs",
            )
            return None
        if policy is HitPolicy.PRIORITY:
            self.fail(path, "a priority table needs rules as mappings with a 'priority' key")
        cells = {name: data[i] for i, (name, _) in enumerate(columns)}
        conditions = self.conditions(cells, index, "")
        values: dict[str, Scalar] = {}
        for j, spec in enumerate(outputs):
            out = self.output_value(spec, data[len(columns) + j], index, len(columns) + j)
            if out is not None:
                values[spec.name] = out
        if len(self.problems) > before:
            return None
        return _rule(f"r{index + 1}", index, conditions, _frozen(values), 0, "")

    def priority(self, data: Mapping[Any, object], path: str, policy: HitPolicy | None) -> int:
        if "priority" not in data:
            if policy is HitPolicy.PRIORITY:
                self.fail(_at(path, "priority"), "missing: a priority table needs one per rule")
            return 0
        value = data["priority"]
        where = _at(path, "priority")
        if policy is not HitPolicy.PRIORITY and policy is not None:
            self.fail(where, f"only a priority table takes a priority, and this one is {policy}")
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            shown = float_message(value) if isinstance(value, float) else f"{value!r}"
            self.fail(where, f"{shown} is not an integer")
            return 0
        return value

    def conditions(
        self, cells: Mapping[Any, object], index: int, style: str
    ) -> tuple[Condition, ...]:
        """Each column's condition, from ``cells`` (rule ``index``'s ``when`` when
        ``style`` is ``"."``; a row's cells, at ``rules[index][i]``, when it is ``""``).

        A column the cells leave out has its left-out condition: only the cells written
        are looked at (most rules write a few of their table's columns)."""
        out = self.left_out.copy()
        known = self.cells
        plan = self.plan
        failed: list[tuple[int, str, str]] = []
        for name, raw in cells.items():
            place = plan.get(name)
            if place is None:  # a column of an unknown fact (a problem of the inputs)
                continue
            kind = raw.__class__
            if kind in _SHARED:
                found = known.get((name, kind, raw))
                if found is not None:  # read before, for this column or another table's
                    out[place[0]] = found
                    continue
            j, i, spec = place
            try:
                found = parse_cell(name, spec, raw)
            except CellError as error:
                where = f"rules[{index}].when.{name}" if style else f"rules[{index}][{i}]"
                failed.append((i, where, str(error)))
                continue
            if kind in _SHARED:
                known[(name, kind, raw)] = found
            out[j] = found
        if failed:
            for _, where, message in sorted(failed):  # each problem in column order
                self.fail(where, message)
        return tuple(out)

    def then_values(self, then: Mapping[Any, Any], index: int) -> dict[str, Scalar]:
        """The value of each output in rule ``index``'s ``then`` (a problem for each
        one missing or bad, which is left out)."""
        values: dict[str, Scalar] = {}
        found = self.values
        for name, spec, plain in self.out_plan:
            if name not in then:
                self.fail(f"rules[{index}].then", f"the output {name!r} is missing")
                continue
            value = then[name]
            kind = value.__class__
            if kind is plain:  # a string's text, a boolean: the value read is itself
                values[name] = value
                continue
            out = found.get((name, kind, value)) if kind in _SHARED else None
            if out is None:  # not read before in this table (see output_value)
                out = self.output_value(spec, value, index)
            if out is not None:
                values[name] = out
        return values

    def output_value(
        self, spec: OutputSpec, value: object, index: int, cell: int | None = None
    ) -> Scalar | None:
        """The value of output ``spec``, or ``None`` with its problem: in rule
        ``index``'s ``then``, or in the ``cell`` of the row ``index``."""
        shared = value.__class__ in _SHARED
        key = (spec.name, value.__class__, value)
        found = self.values.get(key) if shared else None
        if found is None:
            kind = spec.kind
            try:
                if kind is _INTEGER and isinstance(value, str):
                    raise CellError(f"{value!r} is not an integer (write it without quotes)")
                if kind is _BOOLEAN and isinstance(value, str):
                    raise CellError(f"{value!r} is not true or false (write it without quotes)")
                found = parse_native(kind, spec.values, value)
            except CellError as error:
                where = (
                    f"rules[{index}].then.{spec.name}"
                    if cell is None
                    else f"rules[{index}][{cell}]"
                )
                self.fail(where, str(error))
                return None
            if shared:
                self.values[key] = found
        return found


def read(
    data: object, facts: Mapping[str, FactSpec], memo: CellMemo | None = None
) -> tuple[Parts | None, list[Problem]]:
    """Check a table's document form against ``facts``: its parts, or the problems."""
    r = _Reader(facts, memo)
    if data.__class__ is not dict and not isinstance(data, Mapping):
        r.fail("", f"{data!r} is not a table (a mapping with hit_policy, inputs, outputs, rules)")
        return None, r.problems
    if data.__class__ is not dict or not data.keys() <= _TABLE_KEYS:
        r.keys(data, TABLE_KEYS, "")
    policy: HitPolicy | None = None
    if "hit_policy" in data:
        policy = r.choice(data["hit_policy"], HitPolicy, "hit_policy")
    else:
        names = ", ".join(p.value for p in HitPolicy)
        r.fail("hit_policy", f"missing: say how rules combine ({names})")
    aggregation: Aggregation | None = None
    if "aggregation" in data:
        aggregation = r.choice(data["aggregation"], Aggregation, "aggregation")
        if policy is not None and policy is not HitPolicy.COLLECT:
            r.fail("aggregation", f"only a collect table aggregates, and this one is {policy}")
    description = r.text(data, "description", "")
    for key in ("inputs", "outputs", "rules"):
        if key not in data:
            r.fail(key, "missing")
    columns = r.inputs(data["inputs"]) if "inputs" in data else []
    outputs = r.outputs(data["outputs"]) if "outputs" in data else []
    if aggregation is not None:
        check_aggregation(r, aggregation, outputs)
    rules = r.rules(data["rules"], columns, outputs, policy) if "rules" in data else []
    if r.problems or policy is None:
        return None, r.problems
    parts = _parts(
        policy,
        aggregation,
        description,
        tuple(r.names),  # (each one's fact known: no problem)
        tuple(r.input_facts),
        tuple(outputs),
        tuple(rules),
    )
    return parts, []


# Parts made without their attrs __init__ (no validator or converter), as a rule is.
_parts: Final[Callable[..., Parts]] = settable_maker(Parts, "being read")
