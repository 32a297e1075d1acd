"""Decision tables: cells, hit policies, errors with paths, traces, the document form."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from decimal import Decimal

import attrs
import pytest

from cxrecovery.errors import InvalidValueError, PolicyError, Problem
from cxrecovery.tables import (
    Aggregation,
    CellMemo,
    Condition,
    DecisionTable,
    FactKind,
    FactSpec,
    HitPolicy,
    Interval,
    OutputSpec,
    TableResult,
)

FACTS = {
    spec.name: spec
    for spec in (
        FactSpec("severity", FactKind.ORDINAL, ("low", "medium", "high", "critical")),
        FactSpec("history", FactKind.ORDINAL, ("first", "repeat", "double_deviation")),
        FactSpec("fault", FactKind.ENUM, ("company", "customer", "third_party")),
        FactSpec("usable", FactKind.BOOLEAN),
        FactSpec("contacts", FactKind.INTEGER),
        FactSpec("value", FactKind.DECIMAL),
        FactSpec("segment", FactKind.STRING),
    )
}


class Severity(enum.StrEnum):
    LOW = "low"
    HIGH = "high"


def table(rules: Sequence[object], hit_policy: str = "first", **extra: object) -> DecisionTable:
    data: dict[str, object] = {
        "hit_policy": hit_policy,
        "inputs": ["severity", "history", "usable"],
        "outputs": {"tier": "ordinal:T0,T1,T2,T3,T4", "fraction": "decimal"},
        "rules": rules,
        **extra,
    }
    return DecisionTable.from_dict("comp", data, facts=FACTS, path="tables.comp")


def problems_of(data: dict[str, object]) -> list[Problem]:
    with pytest.raises(PolicyError) as info:
        DecisionTable.from_dict("t", data, facts=FACTS, path="tables.t")
    return list(info.value.problems)


def cell(column: str, raw: object) -> Condition:
    t = DecisionTable.from_dict(
        "c",
        {
            "hit_policy": "first",
            "inputs": [column],
            "outputs": {"x": "boolean"},
            "rules": [{"when": {column: raw}, "then": {"x": True}}],
        },
        facts=FACTS,
    )
    return t.rules[0].conditions[0]


FACTS_HIGH = {"severity": "high", "history": "double_deviation", "usable": True}

# --- cells ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "raw", "admitted", "text", "data"),
    [
        ("severity", "-", {"low", "medium", "high", "critical"}, "severity: any", "-"),
        ("severity", "any", {"low", "medium", "high", "critical"}, "severity: any", "-"),
        ("severity", "high", {"high"}, "severity=high", "high"),
        ("severity", "= high", {"high"}, "severity=high", "high"),
        ("severity", "!= high", {"low", "medium", "critical"}, "severity!=high", "!= high"),
        ("severity", ">= high", {"high", "critical"}, "severity>=high", ">= high"),
        ("severity", "> medium", {"high", "critical"}, "severity>medium", "> medium"),
        ("severity", "< medium", {"low"}, "severity<medium", "< medium"),
        ("severity", "<= medium", {"low", "medium"}, "severity<=medium", "<= medium"),
        ("severity", "low, medium", {"low", "medium"}, "severity in {low, medium}", "low, medium"),
        ("severity", ["low", "high"], {"low", "high"}, "severity in {low, high}", "low, high"),
        ("severity", ["high"], {"high"}, "severity=high", "high"),
        (
            "severity",
            "not low, medium",
            {"high", "critical"},
            "severity not in {low, medium}",
            "not low, medium",
        ),
        (
            "severity",
            "[medium..high]",
            {"medium", "high"},
            "severity in [medium..high]",
            "[medium..high]",
        ),
        (
            "severity",
            "medium..high",
            {"medium", "high"},
            "severity in [medium..high]",
            "[medium..high]",
        ),
        (
            "severity",
            "(low..critical)",
            {"medium", "high"},
            "severity in (low..critical)",
            "(low..critical)",
        ),
        (
            "severity",
            "not [medium..high]",
            {"low", "critical"},
            "severity not in [medium..high]",
            "not [medium..high]",
        ),
        ("severity", "not >= high", {"low", "medium"}, "not severity>=high", "not >= high"),
        ("fault", "!= customer", {"company", "third_party"}, "fault!=customer", "!= customer"),
        ("fault", "not customer", {"company", "third_party"}, "fault!=customer", "!= customer"),
        ("usable", True, {True}, "usable=true", True),
        ("usable", "false", {False}, "usable=false", False),
        ("usable", "not true", {False}, "usable!=true", "!= true"),
    ],
)
def test_finite_cell_parses_admits_and_prints(
    column: str, raw: object, admitted: set[object], text: str, data: object
) -> None:
    condition = cell(column, raw)
    assert frozenset(admitted) == condition.values()
    assert text == str(condition)
    assert data == condition.to_data()
    domain = (False, True) if column == "usable" else FACTS[column].values
    assert {v for v in domain if condition.admits(v)} == admitted


@pytest.mark.parametrize(
    ("raw", "inside", "outside", "intervals"),
    [
        (3, [3], [2, 4], [Interval(3, 3)]),
        ("< 3", [2, -10], [3, 4], [Interval(None, 3, low_closed=False, high_closed=False)]),
        ("[2..5]", [2, 5], [1, 6], [Interval(2, 5)]),
        ("2..5", [2, 5], [1, 6], [Interval(2, 5)]),
        ("(2..5]", [3, 5], [2, 6], [Interval(2, 5, low_closed=False)]),
        ("[2..5)", [2, 4], [5], [Interval(2, 5, high_closed=False)]),
        ("1, 3", [1, 3], [2], [Interval(1, 1), Interval(3, 3)]),
        (
            "not [2..5]",
            [1, 6],
            [2, 5],
            [
                Interval(None, 2, low_closed=False, high_closed=False),
                Interval(5, None, low_closed=False, high_closed=False),
            ],
        ),
        (
            "!= 0",
            [1, -1],
            [0],
            [
                Interval(None, 0, low_closed=False, high_closed=False),
                Interval(0, None, low_closed=False, high_closed=False),
            ],
        ),
    ],
)
def test_integer_cell_admits_its_intervals(
    raw: object, inside: list[int], outside: list[int], intervals: list[Interval]
) -> None:
    condition = cell("contacts", raw)
    assert tuple(intervals) == condition.intervals()
    assert all(condition.admits(v) for v in inside)
    assert not any(condition.admits(v) for v in outside)


def test_decimal_cell_compares_exactly() -> None:
    condition = cell("value", "(0.1..0.3]")
    assert condition.admits(Decimal("0.3"))
    assert condition.admits(Decimal("0.1000001"))
    assert not condition.admits(Decimal("0.1"))
    assert not condition.admits(0)
    assert "(0.1..0.3]" == condition.to_data()


def test_decimal_cell_takes_an_integer() -> None:
    assert cell("value", 2) == cell("value", "2")
    assert cell("value", 2).admits(2)


def test_string_cell_admits_a_set_or_its_complement() -> None:
    positive = cell("segment", "gold, silver")
    negative = cell("segment", "not gold, silver")
    assert positive.admits("gold")
    assert not positive.admits("bronze")
    assert negative.admits("bronze")
    assert not negative.admits("gold")
    assert not positive.admits(3)


def test_quoted_string_keeps_commas_and_round_trips() -> None:
    condition = cell("segment", '"a, b", c')
    assert frozenset({"a, b", "c"}) == condition.literals
    assert '"a, b", c' == condition.to_data()
    assert condition == cell("segment", ["a, b", "c"])


def test_string_that_looks_like_grammar_is_quoted_when_written() -> None:
    condition = cell("segment", ["-", "not x", ">= 3"])
    assert condition.admits("-")
    assert '"-", "not x", ">= 3"' == condition.to_data()
    assert condition == cell("segment", condition.to_data())


def test_values_refuses_numeric_column_and_intervals_refuses_enum() -> None:
    with pytest.raises(InvalidValueError):
        cell("contacts", 3).values()
    with pytest.raises(InvalidValueError):
        cell("severity", "high").intervals()


@pytest.mark.parametrize(
    ("column", "raw", "message"),
    [
        (
            "severity",
            "hgih",
            "'hgih' is not one of low, medium, high, critical; did you mean 'high'?",
        ),
        ("fault", ">= customer", "comparisons apply to ordinal, integer and decimal columns"),
        ("segment", "< b", "comparisons apply to ordinal, integer and decimal columns"),
        ("fault", "[company..customer]", "ranges apply to ordinal, integer and decimal"),
        ("contacts", "[5..2]", "is inverted"),
        ("severity", "[high..low]", "is inverted"),
        ("contacts", "(2..3)", "admits no value"),
        ("severity", "< low", "admits no value"),
        ("usable", "not true, false", "admits no value"),
        ("contacts", 2.5, "is a float"),
        ("value", 0.25, "is a float"),
        ("value", "1e3", "is not a decimal number"),
        ("contacts", "2.5", "is not an integer"),
        ("usable", "yes", "is not true or false"),
        ("severity", True, "true is not one of"),
        ("severity", "", "an empty cell; write '-' for any"),
        ("severity", [], "an empty list admits no value"),
        ("severity", "low, low", "is listed twice"),
        ("severity", "low,", "has an empty value"),
        ("segment", '"open', "unclosed quote"),
        ("severity", "not", "write 'not' before"),
        ("severity", ">= high, low", "write one value after"),
        ("severity", "[low..]", "is not a range"),
        ("severity", {"a": 1}, "is not one of"),
    ],
)
def test_bad_cell_reports_its_path_and_reason(column: str, raw: object, message: str) -> None:
    problems = problems_of(
        {
            "hit_policy": "first",
            "inputs": [column],
            "outputs": {"x": "boolean"},
            "rules": [{"when": {column: raw}, "then": {"x": True}}],
        }
    )
    assert [f"tables.t.rules[0].when.{column}"] == [p.path for p in problems]
    assert message in problems[0].message


# --- hit policies -------------------------------------------------------------------------

RULES = [
    {
        "id": "dd",
        "when": {"severity": ">= high", "history": "double_deviation"},
        "then": {"tier": "T4", "fraction": "1.00"},
    },
    {"id": "severe", "when": {"severity": ">= high"}, "then": {"tier": "T3", "fraction": "0.75"}},
    {"id": "usable", "when": {"usable": True}, "then": {"tier": "T1", "fraction": "0.10"}},
]


def test_first_takes_the_first_match_and_shadows_the_rest() -> None:
    result = table(RULES).evaluate(FACTS_HIGH)
    assert {"tier": "T4", "fraction": Decimal("1.00")} == result.outputs
    assert ("dd", "severe", "usable") == result.matched
    assert ("dd",) == result.chosen
    assert ("severe", "usable") == result.shadowed
    assert FACTS_HIGH == result.inputs


def test_no_match_gives_none() -> None:
    result = table(RULES).evaluate({"severity": "low", "history": "first", "usable": False})
    assert TableResult("comp", None, (), (), (), result.inputs) == result


def test_priority_takes_the_highest_and_breaks_ties_by_order() -> None:
    rules = [
        {
            "id": "a",
            "priority": 1,
            "when": {"severity": ">= high"},
            "then": {"tier": "T3", "fraction": "0.75"},
        },
        {
            "id": "b",
            "priority": 5,
            "when": {"usable": True},
            "then": {"tier": "T1", "fraction": "0.10"},
        },
        {"id": "c", "priority": 5, "then": {"tier": "T0", "fraction": "0"}},
    ]
    result = table(rules, "priority").evaluate(FACTS_HIGH)
    assert ("b",) == result.chosen
    assert ("a", "c") == result.shadowed


def test_priority_table_needs_a_priority_per_rule() -> None:
    rules = [{"id": "a", "then": {"tier": "T0", "fraction": "0"}}]
    with pytest.raises(PolicyError) as info:
        table(rules, "priority")
    assert ["tables.comp.rules[0].priority"] == [p.path for p in info.value.problems]


def test_unique_raises_naming_the_overlapping_rules_and_facts() -> None:
    t = table(RULES, "unique")
    with pytest.raises(PolicyError) as info:
        t.evaluate(FACTS_HIGH)
    (problem,) = info.value.problems
    assert "tables.comp" == problem.path
    assert "rules dd, severe, usable all match severity='high'" in problem.message


def test_unique_with_one_match_returns_it() -> None:
    result = table(RULES, "unique").evaluate({**FACTS_HIGH, "history": "first", "usable": False})
    assert ("severe",) == result.chosen
    assert () == result.shadowed


def test_any_accepts_agreeing_rules_and_refuses_disagreeing_ones() -> None:
    rules = [
        {"id": "a", "when": {"severity": "high"}, "then": {"tier": "T3", "fraction": "0.5"}},
        {"id": "b", "when": {"usable": True}, "then": {"tier": "T3", "fraction": "0.50"}},
        {"id": "c", "when": {"history": "repeat"}, "then": {"tier": "T2", "fraction": "0.5"}},
    ]
    t = table(rules, "any")
    result = t.evaluate(FACTS_HIGH)
    assert ("a",) == result.chosen
    assert ("b",) == result.shadowed
    with pytest.raises(PolicyError, match="disagree"):
        t.evaluate({**FACTS_HIGH, "history": "repeat"})


def test_collect_and_rule_order_give_every_match_in_order() -> None:
    for policy in ("collect", "rule_order"):
        result = table(RULES, policy).evaluate(FACTS_HIGH)
        assert ("T4", "T3", "T1") == tuple(o["tier"] for o in result.outputs)  # type: ignore[index,union-attr]
        assert ("dd", "severe", "usable") == result.chosen
        assert () == result.shadowed


def test_collect_without_match_gives_an_empty_tuple() -> None:
    result = table(RULES, "collect").evaluate(
        {"severity": "low", "history": "first", "usable": False}
    )
    assert () == result.outputs


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [
        ("sum", {"tier_rank": 8, "fraction": Decimal("1.85")}),
        ("min", {"tier_rank": 1, "fraction": Decimal("0.10")}),
        ("max", {"tier_rank": 4, "fraction": Decimal("1.00")}),
        ("count", {"tier_rank": 3, "fraction": 3}),
    ],
)
def test_collect_aggregates(aggregation: str, expected: dict[str, object]) -> None:
    data = {
        "hit_policy": "collect",
        "aggregation": aggregation,
        "inputs": ["severity", "history", "usable"],
        "outputs": {"tier_rank": "integer", "fraction": "decimal"},
        "rules": [
            {
                "when": r["when"],
                "then": {
                    "tier_rank": int(r["then"]["tier"][1]),  # type: ignore[index]
                    "fraction": r["then"]["fraction"],
                },
            }  # type: ignore[index]
            for r in RULES
        ],
    }
    t = DecisionTable.from_dict("agg", data, facts=FACTS)
    assert expected == t.evaluate(FACTS_HIGH).outputs


def test_collect_max_over_ordinal_output() -> None:
    rules = [{"when": r["when"], "then": {"tier": r["then"]["tier"]}} for r in RULES]  # type: ignore[index]
    data = {
        "hit_policy": "collect",
        "aggregation": "min",
        "inputs": ["severity", "history", "usable"],
        "outputs": {"tier": "ordinal:T4,T0,T1,T3"},
        "rules": rules,
    }
    t = DecisionTable.from_dict("agg", data, facts=FACTS)
    assert {"tier": "T4"} == t.evaluate(FACTS_HIGH).outputs


def test_collect_min_without_match_gives_none_and_sum_gives_zero() -> None:
    nothing = {"severity": "low", "history": "first", "usable": False}
    data = {
        "hit_policy": "collect",
        "inputs": ["usable"],
        "outputs": {"fraction": "decimal"},
        "rules": [{"when": {"usable": True}, "then": {"fraction": "0.5"}}],
    }
    low = DecisionTable.from_dict("t", {**data, "aggregation": "min"}, facts=FACTS)
    total = DecisionTable.from_dict("t", {**data, "aggregation": "sum"}, facts=FACTS)
    assert low.evaluate(nothing).outputs is None
    assert {"fraction": Decimal(0)} == total.evaluate(nothing).outputs


def test_sum_refuses_enum_outputs() -> None:
    problems = problems_of(
        {
            "hit_policy": "collect",
            "aggregation": "sum",
            "inputs": [],
            "outputs": {"tier": "enum:a,b"},
            "rules": [{"then": {"tier": "a"}}],
        }
    )
    assert ["tables.t.outputs.tier"] == [p.path for p in problems]


# --- facts at evaluation ------------------------------------------------------------------


def test_facts_may_be_str_enum_members_and_decimals_ints() -> None:
    data = {
        "hit_policy": "first",
        "inputs": ["severity", "value"],
        "outputs": {"x": "boolean"},
        "rules": [{"when": {"severity": ">= high", "value": "> 1.5"}, "then": {"x": True}}],
    }
    t = DecisionTable.from_dict("t", data, facts=FACTS)
    assert ("r1",) == t.evaluate({"severity": Severity.HIGH, "value": 2}).chosen
    assert () == t.evaluate({"severity": Severity.LOW, "value": Decimal("9")}).chosen


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"history": "first", "usable": True}, "input 'severity': the fact is missing"),
        ({**FACTS_HIGH, "severity": "hgih"}, "'hgih' is not one of low, medium, high, critical"),
        ({**FACTS_HIGH, "severity": ["high"]}, "['high'] is not a string"),
        ({**FACTS_HIGH, "usable": 1}, "1 is not true or false"),
    ],
)
def test_bad_facts_raise_policy_error_naming_table_column_and_value(
    facts: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyError) as info:
        table(RULES).evaluate(facts)
    (problem,) = info.value.problems
    assert "tables.comp" == problem.path
    assert message in problem.message


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("contacts", True),
        ("contacts", Decimal("2")),
        ("contacts", 2.0),
        ("value", 2.0),
        ("value", Decimal("NaN")),
        ("segment", 3),
        ("fault", "nobody"),
    ],
)
def test_wrong_kind_of_fact_is_refused(column: str, value: object) -> None:
    data = {
        "hit_policy": "first",
        "inputs": [column],
        "outputs": {"x": "boolean"},
        "rules": [{"then": {"x": True}}],
    }
    t = DecisionTable.from_dict("t", data, facts=FACTS)
    with pytest.raises(PolicyError, match=f"input '{column}'"):
        t.evaluate({column: value})


# --- compile-time errors ------------------------------------------------------------------


def test_five_mistakes_give_five_problems_with_exact_paths() -> None:
    problems = problems_of(
        {
            "hit_policy": "first",
            "inputs": ["severity", "sevrity"],
            "outputs": {"tier": "enum:T0,T1", "fraction": "decimal"},
            "rules": [
                {"when": {"severity": "hgih"}, "then": {"tier": "T1", "fraction": "0.5"}},
                {"id": "x", "then": {"tier": "T1", "fraction": 0.5}},
                {"id": "x", "then": {"tier": "T1", "fraction": "1"}, "sorce": "typo"},
            ],
        }
    )
    expected = [
        ("tables.t.inputs[1]", "'sevrity' is not a known fact; did you mean 'severity'?"),
        (
            "tables.t.rules[0].when.severity",
            "'hgih' is not one of low, medium, high, critical; did you mean 'high'?",
        ),
        ("tables.t.rules[1].then.fraction", "0.5 is a float"),
        ("tables.t.rules[2].id", "duplicate id 'x' (also rules[1])"),
        ("tables.t.rules[2].sorce", "unknown key; did you mean 'source'?"),
    ]
    assert len(expected) == len(problems)
    for (path, start), problem in zip(expected, problems, strict=True):
        assert path == problem.path
        assert problem.message.startswith(start), problem.message


@pytest.mark.parametrize(
    ("data", "paths"),
    [
        (
            {"inputs": [], "outputs": {"x": "boolean"}, "rules": [{"then": {"x": True}}]},
            ["tables.t.hit_policy"],
        ),
        (
            {
                "hit_policy": "frist",
                "inputs": [],
                "outputs": {"x": "boolean"},
                "rules": [{"then": {"x": True}}],
            },
            ["tables.t.hit_policy"],
        ),
        (
            {
                "hit_policy": "first",
                "aggregation": "max",
                "inputs": [],
                "outputs": {"x": "integer"},
                "rules": [{"then": {"x": 1}}],
            },
            ["tables.t.aggregation"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": [],
                "outputs": {"x": "boolean"},
                "rules": [{"then": {"x": True}, "priority": 1}],
            },
            ["tables.t.rules[0].priority"],
        ),
        (
            {"hit_policy": "first", "inputs": [], "outputs": {"x": "boolean"}, "rules": [{}]},
            ["tables.t.rules[0].then"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": [],
                "outputs": {"x": "boolean", "y": "integer"},
                "rules": [{"then": {"x": True}}],
            },
            ["tables.t.rules[0].then"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": [],
                "outputs": {"x": "boolean"},
                "rules": [{"then": {"x": True, "z": 1}}],
            },
            ["tables.t.rules[0].then.z"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": [],
                "outputs": {"x": "integer"},
                "rules": [{"then": {"x": "3"}}],
            },
            ["tables.t.rules[0].then.x"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": ["fault"],
                "outputs": {"x": "boolean"},
                "rules": [{"when": {"severity": "high"}, "then": {"x": True}}],
            },
            ["tables.t.rules[0].when.severity"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": ["fault", "fault"],
                "outputs": {"x": "boolean"},
                "rules": [{"then": {"x": True}}],
            },
            ["tables.t.inputs[1]"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": [],
                "outputs": {"x": "enum"},
                "rules": [{"then": {"x": "a"}}],
            },
            ["tables.t.outputs.x"],
        ),
        (
            {"hit_policy": "first", "inputs": [], "outputs": {}, "rules": [{"then": {}}]},
            ["tables.t.outputs"],
        ),
        (
            {"hit_policy": "first", "inputs": [], "outputs": {"x": "boolean"}, "rules": []},
            ["tables.t.rules"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": ["severity"],
                "outputs": {"x": "boolean"},
                "rules": [["high"]],
            },
            ["tables.t.rules[0]"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": ["severity"],
                "outputs": {"x": "boolean"},
                "rules": [["hgih", True]],
            },
            ["tables.t.rules[0][0]"],
        ),
        (
            {
                "hit_policy": "first",
                "inputs": [],
                "outputs": {"x": "boolean"},
                "rules": [{"then": {"x": True}}],
                "hitpolicy": "x",
            },
            ["tables.t.hitpolicy"],
        ),
        ({"hit_policy": "first"}, ["tables.t.inputs", "tables.t.outputs", "tables.t.rules"]),
    ],
)
def test_each_mistake_is_reported_at_its_path(data: dict[str, object], paths: list[str]) -> None:
    assert paths == [p.path for p in problems_of(data)]


def test_not_a_mapping_is_one_problem() -> None:
    assert ["tables.t"] == [p.path for p in problems_of(["no"])]  # type: ignore[arg-type]


# --- document form ------------------------------------------------------------------------


def test_positional_rows_read_inputs_then_outputs() -> None:
    t = table([[">= high", "double_deviation", "-", "T4", "1.00"], ["-", "-", "-", "T0", 0]])
    assert "severity>=high & history=double_deviation -> tier=T4, fraction=1.00" == str(t.rules[0])
    assert ("r1", "r2") == tuple(r.id for r in t.rules)
    assert {"tier": "T0", "fraction": Decimal(0)} == t.rules[1].outputs


def test_to_dict_round_trips_and_is_canonical() -> None:
    t = table([*RULES, {"then": {"tier": "T0", "fraction": 0}, "source": "default"}])
    data = t.to_dict()
    again = DecisionTable.from_dict("comp", data, facts=FACTS)
    assert t == again
    assert data == again.to_dict()
    assert {
        "id": "r4",
        "when": {},
        "then": {"tier": "T0", "fraction": "0"},
        "source": "default",
    } == data["rules"][3]  # type: ignore[index]
    assert {"tier": "ordinal:T0,T1,T2,T3,T4", "fraction": "decimal"} == data["outputs"]


def test_output_list_form_with_descriptions_round_trips() -> None:
    data = {
        "hit_policy": "first",
        "inputs": [],
        "outputs": [
            {"name": "tier", "kind": "enum", "values": ["a,b", "c"], "description": "odd"}
        ],
        "rules": [{"then": {"tier": "a,b"}}],
    }
    t = DecisionTable.from_dict("t", data, facts=FACTS)
    assert (OutputSpec("tier", "enum", ("a,b", "c"), description="odd"),) == t.outputs  # type: ignore[arg-type]
    assert t == DecisionTable.from_dict("t", t.to_dict(), facts=FACTS)


def test_priority_round_trips() -> None:
    rules = [{"id": "a", "priority": 2, "then": {"tier": "T0", "fraction": "0"}}]
    t = table(rules, "priority")
    assert 2 == t.to_dict()["rules"][0]["priority"]  # type: ignore[index]
    assert t == DecisionTable.from_dict("comp", t.to_dict(), facts=FACTS)


def test_table_and_result_are_immutable() -> None:
    t = table(RULES)
    result = t.evaluate(FACTS_HIGH)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.name = "x"  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        result.outputs = None  # type: ignore[misc]


def test_hit_policy_and_aggregation_are_public() -> None:
    t = table(RULES, "collect", aggregation="max")
    assert HitPolicy.COLLECT is t.hit_policy
    assert Aggregation.MAX is t.aggregation
    assert ("severity", "history", "usable") == t.inputs


# --- explain ------------------------------------------------------------------------------


def test_explain_names_the_first_failing_column_of_every_rule() -> None:
    t = table(RULES)
    facts = {"severity": "high", "history": "first", "usable": False}
    explanation = t.explain(facts)
    dd, severe, usable = explanation.rules
    assert (False, "history", "first") == (dd.matched, dd.column, dd.value)
    assert "history is 'first', which fails history=double_deviation" == dd.reason
    assert (True, True, "matched and chosen") == (severe.matched, severe.chosen, severe.reason)
    assert ("usable", False) == (usable.column, usable.value)
    assert t.evaluate(facts) == explanation.result
    assert explanation.rule("nope") is None


def test_explain_says_who_shadowed_a_matching_rule() -> None:
    explanation = table(RULES).explain(FACTS_HIGH)
    assert "matched, but dd comes first" == explanation.rule("severe").reason  # type: ignore[union-attr]
    assert "dd: matched and chosen" in str(explanation)


def test_fact_spec_validates_itself() -> None:
    with pytest.raises(InvalidValueError, match="values"):
        FactSpec("x", FactKind.ENUM)
    with pytest.raises(InvalidValueError, match="kind"):
        FactSpec("x", "colour")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="listed twice"):
        FactSpec("x", FactKind.ORDINAL, ("a", "a"))
    assert FactKind.INTEGER is FactSpec("x", "integer").kind  # type: ignore[arg-type]


def test_row_set_memo_is_part_of_the_compiled_index_and_changes_no_answer() -> None:
    # The outcome for a set of matching rules is kept in the table's index, filled as the
    # table is evaluated; a table answers the same with it full, emptied or bounded.
    built = table(RULES)
    memo = built._index.outcomes
    assert {} == memo
    first = built.evaluate(FACTS_HIGH)
    assert 1 == len(memo)
    assert first == built.evaluate(FACTS_HIGH)
    assert 1 == len(memo)  # the same rows matched: the one outcome was reused
    memo.clear()
    assert first == built.evaluate(FACTS_HIGH)
    # Equal tables compare equal whatever their memos hold.
    assert table(RULES) == built
    assert hash(table(RULES)) == hash(built)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built._index = built._index  # type: ignore[misc]


def test_row_set_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import cxrecovery.tables as tables_module

    monkeypatch.setattr(tables_module, "_MEMO_LIMIT", 1)
    built = table(RULES)
    low = {"severity": "low", "history": "first", "usable": False}
    expected_low = table(RULES).evaluate(low)
    built.evaluate(FACTS_HIGH)
    assert expected_low == built.evaluate(low)  # computed, not kept: the memo is full
    assert 1 == len(built._index.outcomes)


def test_a_cell_memo_shares_a_cell_among_the_tables_read_with_it() -> None:
    def table(
        name: str, memo: CellMemo | None, facts: Mapping[str, FactSpec] = FACTS
    ) -> DecisionTable:
        data = {
            "hit_policy": "first",
            "inputs": ["severity"],
            "outputs": {"n": "integer"},
            "rules": [{"when": {"severity": ">= high"}, "then": {"n": 1}}],
        }
        return DecisionTable.from_dict(name, data, facts=facts, cells=memo)

    def cell(t: DecisionTable) -> Condition:
        return t.rules[0].conditions[0]

    memo = CellMemo()
    one, two = table("a", memo), table("b", memo)
    assert cell(one) is cell(two)
    assert cell(table("c", None)) is not cell(one)
    assert cell(table("c", None)) == cell(one)
    # Read against other facts (a severity of three grades), the memo is left alone: the
    # cell is that table's own, admitting that fact's values.
    other = {"severity": FactSpec("severity", FactKind.ORDINAL, ("low", "high", "top"))}
    three = table("d", memo, other)
    assert cell(three) is not cell(one)
    assert cell(three).fact is other["severity"]
    assert cell(three).values() == frozenset({"high", "top"})
    assert cell(table("e", memo)) is cell(one)


@pytest.mark.parametrize(
    "cells",
    [
        ["< 2", "[2..5]", "> 7", "-"],  # close boundaries: masks by the value's offset
        ["< 0", "[2..5]", ">= 200", "-"],  # spread out: looked up among the boundaries
    ],
)
def test_an_integer_column_gives_each_rule_its_cell_verdict(cells: list[str]) -> None:
    data = {
        "hit_policy": "collect",
        "inputs": ["contacts"],
        "outputs": {"n": "integer"},
        "rules": [{"when": {"contacts": c}, "then": {"n": i}} for i, c in enumerate(cells)],
    }
    table = DecisionTable.from_dict("t", data, facts=FACTS)

    class Count(enum.IntEnum):
        TWO = 2
        NINE = 9

    for value in [*range(-5, 12), 199, 200, 10**30, -(10**30), Count.TWO, Count.NINE]:
        want = tuple(r.id for r in table.rules if r.conditions[0].admits(value))
        assert want == table.evaluate({"contacts": value}).matched, value
    for wrong in (True, Decimal(3), 2.0, "2"):
        with pytest.raises(PolicyError, match="contacts"):
            table.evaluate({"contacts": wrong})
