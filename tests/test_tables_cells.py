"""The cell grammar's edges: quoting, escapes, white space, and what a cell admits.

Each test here pins a behaviour a mutation run showed no test noticed (see
``docs/test-quality.md``): a check that could be removed, or a loop step that could be
dropped, with the whole suite still passing.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from cxrecovery.errors import InvalidValueError, PolicyError
from cxrecovery.tables import (
    Condition,
    DecisionTable,
    FactKind,
    FactSpec,
    FrozenMapping,
    Interval,
    OutputSpec,
)

FACTS = {
    spec.name: spec
    for spec in (
        FactSpec("severity", FactKind.ORDINAL, ("low", "medium", "high", "critical")),
        FactSpec("fault", FactKind.ENUM, ("company", "customer", "third_party")),
        FactSpec("usable", FactKind.BOOLEAN),
        FactSpec("contacts", FactKind.INTEGER),
        FactSpec("value", FactKind.DECIMAL),
        FactSpec("segment", FactKind.STRING),
    )
}


def _data(column: str, raw: object) -> dict[str, object]:
    return {
        "hit_policy": "first",
        "inputs": [column],
        "outputs": {"x": "boolean"},
        "rules": [{"when": {column: raw}, "then": {"x": True}}],
    }


def cell(column: str, raw: object) -> Condition:
    table = DecisionTable.from_dict("c", _data(column, raw), facts=FACTS)
    return table.rules[0].conditions[0]


def cell_error(column: str, raw: object) -> str:
    """The one problem a cell gives, checked to sit at the cell's path."""
    with pytest.raises(PolicyError) as info:
        DecisionTable.from_dict("t", _data(column, raw), facts=FACTS, path="tables.t")
    problems = info.value.problems
    assert [f"tables.t.rules[0].when.{column}"] == [p.path for p in problems]
    return problems[0].message


# --- quoting ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw", ['"a"b', '"a" b', '"a""b"', 'x, "a"b', '"a"b, x', '"a" "b"', 'not "a"b']
)
def test_text_after_a_quoted_value_is_refused(raw: str) -> None:
    assert "has text after a quoted value" in cell_error("segment", raw)


@pytest.mark.parametrize(
    ("raw", "admitted"),
    [
        ('"a" , b', {"a", "b"}),
        ('"a"  ,  "b"', {"a", "b"}),
        ('"a",b', {"a", "b"}),
        ('b , "a" ', {"a", "b"}),
        ('"a, b" , c', {"a, b", "c"}),
        ('  "a"\t,\t"b"  ', {"a", "b"}),
    ],
)
def test_white_space_around_a_quoted_value_and_its_comma(raw: str, admitted: set[str]) -> None:
    condition = cell("segment", raw)
    assert admitted == set(condition.literals)
    assert all(condition.admits(v) for v in admitted)
    assert not condition.admits(" a")


def test_white_space_inside_quotes_is_kept() -> None:
    condition = cell("segment", '" a ", b')
    assert {" a ", "b"} == set(condition.literals)
    assert condition.admits(" a ")
    assert not condition.admits("a")


def test_quoted_range_bounds_may_have_space_before_the_dots() -> None:
    assert {"medium", "high"} == cell("severity", '["medium" .. "high"]').values()
    assert {"medium", "high"} == cell("severity", '[ "medium"..high ]').values()


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        (r'"a\"b"', 'a"b'),
        (r'"a\\"', "a\\"),
        (r'"\\\""', '\\"'),
        (r'"a\b"', "ab"),  # a backslash takes the next character as it is
        ('""', ""),
    ],
)
def test_a_backslash_escapes_the_next_character_in_quotes(raw: str, value: str) -> None:
    condition = cell("segment", raw)
    assert {value} == set(condition.literals)
    assert condition.admits(value)


@pytest.mark.parametrize(
    "raw",
    [
        '"open',
        '"a\\',  # the backslash is the last character
        '"\\',
        '"a\\"',  # the closing quote is escaped
        'x, "a\\',
        '"a", "b\\',
        'not "a\\',
    ],
)
def test_an_unclosed_quote_is_a_cell_error(raw: str) -> None:
    assert "has an unclosed quote" in cell_error("segment", raw)


@pytest.mark.parametrize(
    ("column", "raw"),
    [
        ("severity", '["low\\'),
        ("severity", '"low\\'),
        ("severity", '>= "low\\'),
        ("contacts", '"1\\'),
        ("value", '< "0.5\\'),
    ],
)
def test_an_unclosed_quote_ending_in_a_backslash_in_any_column(column: str, raw: str) -> None:
    message = cell_error(column, raw)
    assert "unclosed quote" in message or "is not a range" in message


def test_a_quote_inside_an_unquoted_value_is_refused() -> None:
    assert "has a quote inside a value" in cell_error("segment", 'a"b')
    assert "has a quote inside a value" in cell_error("segment", 'x, a"b"')


# --- admits() -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["-", ">= 0", "<= 0", "not 1"])
@pytest.mark.parametrize(
    "value", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity")]
)
def test_a_decimal_cell_admits_no_non_finite_decimal(raw: str, value: Decimal) -> None:
    assert not cell("value", raw).admits(value)


def test_a_decimal_cell_admits_integers_fractions_and_finite_decimals() -> None:
    condition = cell("value", "[0.25..2]")
    assert condition.admits(Decimal("0.25"))
    assert condition.admits(2)
    assert condition.admits(Fraction(1, 3))
    assert not condition.admits(Fraction(1, 5))
    assert not condition.admits(True)
    assert not condition.admits("1")


@pytest.mark.parametrize("raw", ["3", "-", "[1..5]", ">= 0"])
def test_an_integer_cell_admits_only_integers(raw: str) -> None:
    condition = cell("contacts", raw)
    assert condition.admits(3)
    assert not condition.admits(Decimal(3))
    assert not condition.admits(Decimal("3.0"))
    assert not condition.admits(Fraction(3))
    assert not condition.admits(True)
    assert not condition.admits("3")
    assert not condition.admits(None)


def test_a_boolean_cell_admits_only_booleans() -> None:
    assert cell("usable", "true").admits(True)
    assert not cell("usable", "true").admits(1)
    assert cell("usable", "false").admits(False)
    assert not cell("usable", "false").admits(0)
    assert not cell("usable", "-").admits("true")


# --- blank and padded enum values ---------------------------------------------------------


@pytest.mark.parametrize("kind", [FactKind.ENUM, FactKind.ORDINAL])
@pytest.mark.parametrize("values", [("",), ("a", ""), (" a",), ("a ",), ("a", "\tb")])
def test_blank_or_padded_allowed_values_are_refused(kind: FactKind, values: tuple[str]) -> None:
    with pytest.raises(InvalidValueError, match="empty or has white space around it"):
        FactSpec("f", kind, values)
    with pytest.raises(InvalidValueError, match="empty or has white space around it"):
        OutputSpec("f", kind, values)


@pytest.mark.parametrize("column", ["fault", "severity"])
@pytest.mark.parametrize("raw", ['""', '" company"', '"company "', '" low"', '"low "', [""]])
def test_a_blank_or_padded_value_in_an_enum_cell_is_refused(column: str, raw: object) -> None:
    assert "is not one of" in cell_error(column, raw)


@pytest.mark.parametrize("value", ["", " company", "company ", " low", "low "])
def test_an_enum_cell_does_not_admit_a_blank_or_padded_fact(value: str) -> None:
    assert not cell("fault", "-").admits(value)
    assert not cell("severity", "-").admits(value)
    assert not cell("fault", "not customer").admits(value)


def test_an_unquoted_enum_value_may_have_space_around_it() -> None:
    assert {"company", "customer"} == cell("fault", "  company ,customer  ").values()


# --- specs, native values, messages -------------------------------------------------------


@pytest.mark.parametrize("kind", [["enum"], None, 3, "Enum"])
def test_a_fact_kind_that_is_not_one_is_refused(kind: object) -> None:
    with pytest.raises(InvalidValueError, match=r"kind: .* is not one of boolean, integer"):
        FactSpec("f", kind)  # type: ignore[arg-type]


@pytest.mark.parametrize("values", ["low", ("low", 2), 3])
def test_allowed_values_must_be_a_list_of_strings(values: object) -> None:
    with pytest.raises(InvalidValueError, match=r"values: .* is not a list of strings"):
        FactSpec("f", FactKind.ENUM, values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("column", "raw", "message"),
    [
        ("contacts", Decimal("3"), "Decimal('3') is not an integer"),
        ("value", Decimal("NaN"), "Decimal('NaN') is not a decimal"),
        ("value", Decimal("-Infinity"), "is not a decimal"),
        ("segment", Decimal("1"), "Decimal('1') is not a string"),
        ("usable", 3, "3 is not true or false"),
        ("value", True, "true is not a decimal (written as a string, e.g. '0.25')"),
        ("contacts", False, "false is not an integer"),
        ("segment", True, "true is not a string"),
        ("fault", 3, "3 is not one of company, customer, third_party"),
        ("contacts", None, "None is not an integer"),
    ],
)
def test_a_native_value_of_the_wrong_kind_names_the_kind(
    column: str, raw: object, message: str
) -> None:
    assert message in cell_error(column, raw)


def test_native_values_of_the_right_kind() -> None:
    assert {Decimal("0.5")} == set(cell("value", Decimal("0.5")).literals)
    assert {Decimal(2)} == set(cell("value", 2).literals)
    assert {7} == set(cell("contacts", [7]).literals)
    assert {False} == cell("usable", False).values()


@pytest.mark.parametrize("raw", [",a", "a,", "a,,b", ", a", "a, ,b"])
def test_an_empty_item_in_a_list_is_refused_wherever_it_is(raw: str) -> None:
    assert "has an empty value in its list" in cell_error("segment", raw)


def test_frozen_mapping_reads_compares_and_hashes_like_a_value() -> None:
    a = FrozenMapping({"tier": "T1", "fraction": Decimal("0.1")})
    b = FrozenMapping([("fraction", Decimal("0.1")), ("tier", "T1")])
    assert "tier" in a
    assert "other" not in a
    assert a == b
    assert a == {"tier": "T1", "fraction": Decimal("0.1")}
    assert a != {"tier": "T2", "fraction": Decimal("0.1")}
    assert a != FrozenMapping({"tier": "T2"})
    assert hash(a) == hash(b) == hash(a)
    assert 1 == len({a, b})
    assert "T1" == a.get("tier")
    assert None is a.get("other")
    assert 2 == len(a)
    assert {"tier", "fraction"} == set(a)


def test_a_cell_knows_its_column_kind() -> None:
    assert FactKind.ORDINAL is cell("severity", ">= high").kind
    assert FactKind.DECIMAL is cell("value", "-").kind
    assert cell("value", "-").is_any
    assert not cell("value", "1").is_any


def test_an_unbounded_side_is_always_open() -> None:
    # One set of numbers, one form: "any" and a complement compare equal to what they are.
    everything = (Interval(None, None, low_closed=False, high_closed=False),)
    assert everything == cell("contacts", "-").intervals()
    assert everything == cell("value", "any").intervals()
    below = (Interval(None, 3, low_closed=False, high_closed=False),)
    assert below == cell("contacts", "not >= 3").intervals()
    assert below == cell("contacts", "< 3").intervals()
    assert "(-inf..inf)" == str(everything[0])


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("contacts", 2.0, "2.0 is a float, which is not exact"),
        ("value", 0.5, "0.5 is a float, which is not exact"),
        ("contacts", Decimal("2"), "Decimal('2') is not an integer"),
        ("contacts", True, "True is not an integer"),
        ("value", Decimal("NaN"), "Decimal('NaN') is not a finite decimal"),
        ("value", Decimal("Infinity"), "Decimal('Infinity') is not a finite decimal"),
        ("value", "0.5", "'0.5' is not a Decimal or an integer"),
        ("value", False, "False is not a Decimal or an integer"),
        ("usable", 1, "1 is not true or false"),
        ("segment", 3, "3 is not a string"),
        ("fault", " company", "' company' is not one of company, customer, third_party"),
    ],
)
def test_a_fact_of_the_wrong_kind_is_named_with_why(
    column: str, value: object, message: str
) -> None:
    data = {
        "hit_policy": "first",
        "inputs": [column],
        "outputs": {"x": "boolean"},
        "rules": [{"then": {"x": True}}],
    }
    table = DecisionTable.from_dict("t", data, facts=FACTS)
    with pytest.raises(PolicyError) as info:
        table.evaluate({column: value})
    (problem,) = info.value.problems
    assert f"input {column!r}" in problem.message
    assert message in problem.message


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("value", Decimal("0.5")),
        ("value", 3),
        ("contacts", -2),
        ("segment", ""),
        ("usable", False),
    ],
)
def test_a_fact_of_the_right_kind_is_read(column: str, value: object) -> None:
    data = {
        "hit_policy": "first",
        "inputs": [column],
        "outputs": {"x": "boolean"},
        "rules": [{"then": {"x": True}}],
    }
    assert DecisionTable.from_dict("t", data, facts=FACTS).evaluate({column: value})


def test_not_written_against_a_quote_or_a_bracket() -> None:
    assert {"a"} == set(cell("segment", 'not"a"').literals)
    assert cell("segment", 'not"a"').negated
    assert {"low", "critical"} == cell("severity", "not[medium..high]").values()
    assert {"low", "critical"} == cell("severity", "not(low..critical)").values()


def test_an_empty_quoted_value_after_an_operator_is_a_value() -> None:
    condition = cell("segment", '= ""')
    assert condition.admits("")
    assert not condition.admits("a")
    assert cell("segment", '!= ""').admits("a")
    assert not cell("segment", '!= ""').admits("")
    assert "needs a value after '='" in cell_error("segment", "=")
    assert "needs a value after '!='" in cell_error("segment", "!=")


@pytest.mark.parametrize("raw", ["-", "not a", "!= a", "a"])
@pytest.mark.parametrize("value", [3, None, ["a"], b"a"])
def test_a_string_cell_admits_only_strings(raw: str, value: object) -> None:
    assert not cell("segment", raw).admits(value)


@pytest.mark.parametrize("value", [3, None, ["company"], {"company"}])
def test_an_enum_cell_admits_only_strings(value: object) -> None:
    assert not cell("fault", "-").admits(value)
    assert not cell("fault", "not customer").admits(value)
    assert not cell("severity", ">= low").admits(value)


@pytest.mark.parametrize("raw", ["[low..high", "[low..high)x", "(low..high"])
def test_a_range_without_its_closing_bracket_is_refused(raw: str) -> None:
    assert "is not a range like [2..5], (2..5] or [low..high]" in cell_error("severity", raw)


def test_one_value_written_two_ways_is_one_condition() -> None:
    assert cell("severity", "high") == cell("severity", "= high")
    assert cell("severity", "high") == cell("severity", "== high")
    assert cell("severity", "high") == cell("severity", ["high"])
    assert cell("contacts", 3) == cell("contacts", "= 3")
    assert cell("severity", "!= high") == cell("severity", "not high")


# --- literal limits (mutants of tables/_literals.py) --------------------------------------


def test_a_five_thousand_digit_integer_cell_is_refused_by_its_length() -> None:
    """Mutant 83d0c0a0: without the length check the text reached ``int()``, which Python
    refuses past 4,300 digits (a ValueError escaping the policy loader)."""
    message = cell_error("contacts", "1" * 5000)
    assert message.endswith("has more than 24 digits")
    assert len(message) < 120


def test_an_integer_cell_of_twenty_five_digits_is_refused_by_the_document_limit() -> None:
    """Mutant ff6eca05: 10**24 passes the length check (25 characters) and only the
    document limit on whole numbers refuses it."""
    message = cell_error("contacts", "1" + "0" * 24)
    assert "a whole number of more than 24 digits" in message


def test_a_forty_character_literal_is_quoted_whole_in_the_message() -> None:
    """Mutant d4cb833f: the message shortened a literal of exactly 40 characters."""
    text = "1.5" + "0" * 37
    assert len(text) == 40
    assert cell_error("contacts", text).startswith(repr(text))
