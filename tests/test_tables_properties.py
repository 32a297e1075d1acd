"""Properties of decision tables: the index agrees with a naive scan, documents round trip,
and no corrupted document raises anything but PolicyError."""

from __future__ import annotations

import copy
import pickle
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from cxrecovery.errors import PolicyError
from cxrecovery.tables import (
    CellMemo,
    Condition,
    DecisionTable,
    FactKind,
    FactSpec,
    FrozenMapping,
    HitPolicy,
    Rule,
)
from cxrecovery.tables._cells import _to_intervals, parse_cell
from cxrecovery.tables._intervals import complement
from cxrecovery.tables._literals import CellError, _split_quoted, split

SEVERITY = ("low", "medium", "high", "critical")
FAULT = ("company", "customer", "third_party")
FACTS = {
    "severity": FactSpec("severity", FactKind.ORDINAL, SEVERITY),
    "fault": FactSpec("fault", FactKind.ENUM, FAULT),
    "usable": FactSpec("usable", FactKind.BOOLEAN),
    "contacts": FactSpec("contacts", FactKind.INTEGER),
    "value": FactSpec("value", FactKind.DECIMAL),
    "segment": FactSpec("segment", FactKind.STRING),
}
SEGMENTS = ("gold", "silver", "a, b", "-", "not x")
DECIMALS = ("0", "0.5", "1.25", "2", "-1.5")


def _ordered(values: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    return st.one_of(
        values,
        st.builds(
            lambda op, v: f"{op} {v}", st.sampled_from(["<", "<=", ">", ">=", "!="]), values
        ),
        st.builds(
            lambda a, b, lo, hi: (
                f"{'[' if lo else '('}{min(a, b, key=_key)}..{max(a, b, key=_key)}"
                f"{']' if hi else ')'}"
            ),
            values,
            values,
            st.booleans(),
            st.booleans(),
        ),
        st.builds(lambda v: f"not {v}", values),
    )


def _key(text: str) -> Any:
    return SEVERITY.index(text) if text in SEVERITY else Decimal(text)


CELLS: dict[str, st.SearchStrategy[object]] = {
    "severity": st.one_of(
        _ordered(st.sampled_from(SEVERITY)),
        st.lists(st.sampled_from(SEVERITY), min_size=1, max_size=3, unique=True),
    ),
    "fault": st.one_of(
        st.sampled_from(FAULT),
        st.builds(lambda v: f"!= {v}", st.sampled_from(FAULT)),
        st.lists(st.sampled_from(FAULT), min_size=1, max_size=2, unique=True).map(", ".join),
    ),
    "usable": st.one_of(st.booleans(), st.sampled_from(["true", "false", "not true"])),
    "contacts": st.one_of(st.integers(-2, 6), _ordered(st.integers(-2, 6).map(str))),
    "value": _ordered(st.sampled_from(DECIMALS)),
    "segment": st.one_of(
        st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3, unique=True),
        st.sampled_from(["gold", "gold, silver", "not gold", "!= silver"]),
    ),
}
FACT_VALUES: dict[str, st.SearchStrategy[object]] = {
    "severity": st.sampled_from(SEVERITY),
    "fault": st.sampled_from(FAULT),
    "usable": st.booleans(),
    "contacts": st.integers(-4, 8),
    "value": st.one_of(
        st.sampled_from(DECIMALS).map(Decimal),
        st.decimals(min_value=-3, max_value=3, places=2),
        st.integers(-3, 3),
    ),
    "segment": st.one_of(st.sampled_from(SEGMENTS), st.text(max_size=3)),
}


@st.composite
def tables(draw: st.DrawFn) -> dict[str, Any]:
    inputs = draw(st.lists(st.sampled_from(sorted(FACTS)), min_size=1, max_size=4, unique=True))
    policy = draw(st.sampled_from([p.value for p in HitPolicy]))
    rules = []
    for i in range(draw(st.integers(1, 8))):
        when = {c: draw(CELLS[c]) for c in inputs if draw(st.booleans())}
        rule: dict[str, object] = {
            "id": f"row{i}",
            "when": when,
            "then": {"n": draw(st.integers(0, 3))},
        }
        if policy == "priority":
            rule["priority"] = draw(st.integers(0, 3))
        rules.append(rule)
    data: dict[str, Any] = {
        "hit_policy": policy,
        "inputs": inputs,
        "outputs": {"n": "integer"},
        "rules": rules,
    }
    if policy == "collect" and draw(st.booleans()):
        data["aggregation"] = draw(st.sampled_from(["sum", "min", "max", "count"]))
    return data


def compiled(data: dict[str, Any]) -> DecisionTable:
    try:
        return DecisionTable.from_dict("t", data, facts=FACTS)
    except PolicyError as error:
        # Generated cells may admit nothing ("< low", "(2..3)"): those are refused.
        assume(not all("admits no value" in p.message for p in error.problems))
        raise AssertionError(error) from None


def naive(table: DecisionTable, facts: Mapping[str, object]) -> tuple[object, tuple[str, ...]]:
    """The outcome by checking every rule's cells in order: (outputs, chosen)."""
    matched: list[Rule] = [
        r for r in table.rules if all(c.admits(facts[c.column]) for c in r.conditions)
    ]
    policy = table.hit_policy
    if policy in (HitPolicy.COLLECT, HitPolicy.RULE_ORDER):
        values = [r.outputs["n"] for r in matched]
        how = table.aggregation
        if how is None:
            return tuple(dict(r.outputs) for r in matched), tuple(r.id for r in matched)
        if how.value == "count":
            folded: object = {"n": len(values)}
        elif how.value == "sum":
            folded = {"n": sum(values)}  # type: ignore[arg-type]
        else:
            folded = {"n": (min if how.value == "min" else max)(values)} if values else None  # type: ignore[type-var]
        return folded, tuple(r.id for r in matched)
    if not matched:
        return None, ()
    if policy is HitPolicy.UNIQUE and len(matched) > 1:
        return "error", ()
    if policy is HitPolicy.ANY and len({r.outputs["n"] for r in matched}) > 1:
        return "error", ()
    best = matched[0]
    if policy is HitPolicy.PRIORITY:
        best = max(matched, key=lambda r: (r.priority, -r.index))
    return dict(best.outputs), (best.id,)


@given(tables(), st.data())
def test_indexed_evaluation_agrees_with_a_naive_scan(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    table = compiled(data)
    for _ in range(5):
        facts = {c: draw.draw(FACT_VALUES[c]) for c in table.inputs}
        expected_outputs, expected_chosen = naive(table, facts)
        try:
            result = table.evaluate(facts)
        except PolicyError:
            assert "error" == expected_outputs
            continue
        assert expected_outputs == result.outputs
        assert expected_chosen == result.chosen
        matched = tuple(
            r.id for r in table.rules if all(c.admits(facts[c.column]) for c in r.conditions)
        )
        assert matched == result.matched
        assert set(matched) == set(result.chosen) | set(result.shadowed)


@given(tables())
def test_document_round_trips(data: dict[str, Any]) -> None:
    table = compiled(data)
    again = DecisionTable.from_dict("t", table.to_dict(), facts=FACTS)
    assert table == again
    assert table.to_dict() == again.to_dict()


@given(tables(), st.data())
def test_explain_names_a_failing_column_for_every_rule_that_did_not_match(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    table = compiled(data)
    facts = {c: draw.draw(FACT_VALUES[c]) for c in table.inputs}
    try:
        explanation = table.explain(facts)
    except PolicyError:
        return
    for rule, trace in zip(table.rules, explanation.rules, strict=True):
        if trace.matched:
            assert rule.id in explanation.result.matched
            continue
        assert trace.condition is not None
        assert trace.column is not None
        assert not trace.condition.admits(facts[trace.column])
        before = rule.conditions[: table.inputs.index(trace.column)]
        assert all(c.admits(facts[c.column]) for c in before)


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(["-", "not", "[", "(1..", "..", '"', "first", ">=", "enum:", "r1"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_paths(v, (*prefix, i)))
    return out


@given(tables(), st.data())
def test_corrupted_documents_raise_only_policy_error(
    data: dict[str, Any], draw: st.DataObject
) -> None:
    corrupted = copy.deepcopy(data)
    for _ in range(draw.draw(st.integers(1, 3))):
        path = draw.draw(st.sampled_from(_paths(corrupted)))
        junk = draw.draw(JUNK)
        if not path:
            corrupted = junk
            break
        parent: Any = corrupted
        for step in path[:-1]:
            parent = parent[step]
        if draw.draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = junk
    try:
        table = DecisionTable.from_dict("t", corrupted, facts=FACTS, path="tables.t")
    except PolicyError as error:
        assert error.problems
        assert all(p.path.startswith("tables.t") for p in error.problems)
        return
    facts = {c: draw.draw(st.one_of(FACT_VALUES[c], JUNK)) for c in table.inputs}
    try:
        table.evaluate(facts)
        table.explain(facts)
    except PolicyError:
        pass


@given(
    st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
    st.decimals(min_value=-5, max_value=5, places=2),
    st.decimals(min_value=-6, max_value=6, places=3),
)
def test_decimal_comparison_admits_what_python_compares(
    op: str, bound: Decimal, value: Decimal
) -> None:
    table = DecisionTable.from_dict(
        "t",
        {
            "hit_policy": "first",
            "inputs": ["value"],
            "outputs": {"n": "integer"},
            "rules": [{"when": {"value": f"{op} {bound}"}, "then": {"n": 1}}],
        },
        facts=FACTS,
    )
    expected = {
        "<": value < bound,
        "<=": value <= bound,
        ">": value > bound,
        ">=": value >= bound,
        "=": value == bound,
        "!=": value != bound,
    }[op]
    assert expected == table.rules[0].conditions[0].admits(value)
    assert expected == bool(table.evaluate({"value": value}).matched)


def _admitted(condition: Condition) -> object:
    """What a condition admits, as its public accessors give it."""
    if condition.kind in (FactKind.INTEGER, FactKind.DECIMAL):
        return condition.intervals()
    if condition.kind is FactKind.STRING:
        return condition.literals
    return condition.values()


@given(tables())
def test_a_table_read_is_the_table_built_cell_by_cell_and_checked(data: dict[str, Any]) -> None:
    """The reader parses each distinct cell of a column once (rules that write the same
    cell share its Condition) and makes the table without the constructor's checks,
    which it implies: the same table, index included, as every cell parsed on its own
    and the checked constructor."""
    table = compiled(data)
    rules = []
    for rule, written in zip(table.rules, data["rules"], strict=True):
        when = written["when"]
        plain = tuple(
            parse_cell(c, FACTS[c], when[c]) if c in when else Condition(c, FACTS[c])
            for c in table.inputs
        )
        assert plain == rule.conditions
        assert [_admitted(c) for c in plain] == [_admitted(c) for c in rule.conditions]
        assert dict(rule.outputs) == written["then"]
        assert type(rule.outputs) is FrozenMapping
        assert hash(rule) == hash(
            Rule(rule.id, rule.index, plain, written["then"], priority=rule.priority)
        )
        rules.append(Rule(rule.id, rule.index, plain, written["then"], priority=rule.priority))
    checked = DecisionTable(
        name="t",
        hit_policy=table.hit_policy,
        aggregation=table.aggregation,
        inputs=table.inputs,
        input_facts=table.input_facts,
        outputs=table.outputs,
        rules=tuple(rules),
    )
    assert type(table) is DecisionTable
    assert checked == table
    assert checked._index.columns == table._index.columns
    assert checked._index.full == table._index.full
    assert pickle.loads(pickle.dumps(table)) == table
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        table.name = "u"  # type: ignore[misc]


@given(
    st.text(alphabet=st.sampled_from(list(' ,.a\\-\t"\u00a0')), max_size=12),
    st.sampled_from([",", ".."]),
)
def test_splitting_a_cell_without_quotes_agrees_with_the_walk(text: str, separator: str) -> None:
    # split() takes text without a quote apart with str.split: the character walk it
    # keeps for quoted text gives the same items, or the same refusal, on any text.
    try:
        expected = _split_quoted(text, separator)
    except CellError:
        assert '"' in text
        with pytest.raises(CellError):
            split(text, separator)
        return
    assert split(text, separator) == expected


@given(st.lists(tables(), min_size=1, max_size=3))
def test_tables_read_with_one_cell_memo_are_the_tables_read_alone(
    documents: list[dict[str, Any]],
) -> None:
    # A CellMemo shares each distinct cell among the tables read with it: each table is
    # equal to the one read on its own, index and what each condition admits included.
    memo = CellMemo()
    alone = [compiled(data) for data in documents]
    shared = [DecisionTable.from_dict("t", data, facts=FACTS, cells=memo) for data in documents]
    for one, other in zip(alone, shared, strict=True):
        assert one == other
        assert one._index.columns == other._index.columns
        assert [[_admitted(c) for c in r.conditions] for r in one.rules] == [
            [_admitted(c) for c in r.conditions] for r in other.rules
        ]


@given(st.data())
def test_a_cell_parsed_is_the_condition_its_constructor_makes(draw: st.DataObject) -> None:
    """parse_cell makes its Condition without the attrs __init__ (condition()): it is the
    one the constructor makes of the same fields, admitting the same; an ordinal cell
    admits the values whose ranks its intervals of ranks admit."""
    column = draw.draw(st.sampled_from(sorted(CELLS)))
    spec = FACTS[column]
    try:
        parsed = parse_cell(column, spec, draw.draw(CELLS[column]))
    except CellError:
        return
    built = Condition(
        parsed.column, spec, parsed.op, parsed.operands, parsed.negated, parsed.bounds
    )
    assert type(parsed) is Condition
    assert built == parsed
    assert _admitted(built) == _admitted(parsed)
    assert built._intervals == parsed._intervals
    if spec.kind is FactKind.ORDINAL:
        ranks = [spec.rank(v) for v in parsed.operands]  # type: ignore[arg-type]
        spans = _to_intervals(parsed.op, ranks, parsed.bounds)  # type: ignore[arg-type]
        if parsed.negated:
            spans = complement(spans)
        admitted = {v for i, v in enumerate(spec.values) if any(s.admits(i) for s in spans)}
        assert admitted == parsed.values()
