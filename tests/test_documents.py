from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from _corruption import places
from cxrecovery import (
    Case,
    CxRecoveryError,
    DocumentError,
    case_schema,
    dump,
    load_case,
    model,
)
from cxrecovery.formats.durations import format_duration, parse_duration
from cxrecovery.testing.strategies import cases

CASES = Path(__file__).parent.parent / "examples" / "cases"

# Every class a case document is made of.
CASE_TYPES: tuple[type, ...] = (
    model.Case,
    model.Customer,
    model.ExpectationBaseline,
    model.Failure,
    model.Touchpoint,
    model.SurveyAnswer,
    model.Promise,
    model.Pause,
    model.Grant,
    model.PriorCase,
    model.CaseEvent,
)

EXAMPLES = sorted(CASES.glob("*.json"))
LAPTOP = CASES / "laptop-repair.json"


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def test_the_five_stories_are_there() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {
        "laptop-repair",
        "coffee-order",
        "dropped-call",
        "flat-battery",
        "laptop-cover",
    } == names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_canonical_documents(path: Path) -> None:
    assert read(path) == dump(load_case(path))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_validate_against_the_published_schema(path: Path) -> None:
    jsonschema.Draft202012Validator(case_schema()).validate(read(path))


def test_load_case_takes_a_mapping_json_text_or_a_path() -> None:
    path = LAPTOP
    text = path.read_text(encoding="utf-8")
    assert load_case(path) == load_case(text) == load_case(json.loads(text))
    assert load_case(str(path)) == load_case(text.encode())


@given(cases())
def test_every_valid_document_round_trips_exactly(case: Case) -> None:
    document = dump(case)
    text = json.dumps(document)
    loaded = load_case(text)
    assert case == loaded
    assert document == dump(loaded)
    assert text == json.dumps(dump(loaded))


@given(cases())
def test_dumped_documents_satisfy_the_schema(case: Case) -> None:
    jsonschema.Draft202012Validator(case_schema()).validate(dump(case))


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(case_schema())
    document = read(LAPTOP)
    document["failure"]["severity"] = "hgih"
    assert not validator.is_valid(document)
    document = read(LAPTOP)
    document["failure"]["value_at_stake"]["amount"] = 12.5
    assert not validator.is_valid(document)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("touchpoints", 0, "at"), "2026-03-20T10:00:00"),  # naive
        (("opened_at",), "2026-03-20 10:00"),  # naive, with a space
        (("failure", "value_at_stake", "amount"), "649.001"),  # GBP has 2 minor units
        (("customer", "time_zone"), "Berlin"),  # not an IANA name
    ],
)
def test_schema_is_as_strict_as_the_loader(where: tuple[str | int, ...], value: str) -> None:
    validator = jsonschema.Draft202012Validator(case_schema())
    document = read(LAPTOP)
    parent: Any = document
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    with pytest.raises(DocumentError):
        load_case(document)
    assert not validator.is_valid(document)


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("opened_at",), "{date}T{time}:00.000+00:00"),
        (("opened_at",), "{date}T{time}Z"),
        (("opened_at",), "{date} {time}+0000"),
        (("failure", "value_at_stake", "amount"), "649.100"),  # trailing zeros are fine
        (("failure", "value_at_stake", "amount"), "649.1"),
        (("customer", "time_zone"), "Europe/Berlin"),
        (("customer", "time_zone"), "UTC"),
    ],
)
def test_schema_accepts_what_the_loader_accepts(where: tuple[str | int, ...], value: str) -> None:
    validator = jsonschema.Draft202012Validator(case_schema())
    document = read(LAPTOP)
    opened = datetime.fromisoformat(document["opened_at"]).astimezone(UTC)
    assert 0 == opened.second
    value = value.format(date=opened.date().isoformat(), time=opened.strftime("%H:%M"))
    parent: Any = document
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = value
    load_case(document)
    validator.validate(document)


def test_every_problem_is_reported_with_its_path() -> None:
    document = read(CASES / "dropped-call.json")
    document["touchpoints"][2]["at"] = "2026-01-05T10:00"
    document["touchpoints"][1]["chanel"] = "phone"
    document["failure"]["severity"] = "hgih"
    document["customer"]["lifetime_value"] = {"amount": 12.5, "currency": "USD"}
    del document["opened_at"]
    with pytest.raises(DocumentError) as caught:
        load_case(document)
    messages = [str(p) for p in caught.value.problems]
    assert [
        "customer.lifetime_value.amount: 12.5 is a float; give amounts as Decimal, int or a"
        " string such as '12.50' (floats lose cents)",
        "failure.severity: 'hgih' is not one of low, medium, high, critical; did you mean 'high'?",
        "opened_at: missing (required)",
        "touchpoints[1].chanel: unknown field; did you mean 'channel'?",
        "touchpoints[2].at: naive datetime '2026-01-05T10:00'; give an offset or zone",
    ] == sorted(messages)


def test_cross_field_problems_carry_paths_too() -> None:
    document = read(LAPTOP)
    document["touchpoints"][0]["at"] = "2020-01-01T00:00:00+00:00"
    with pytest.raises(DocumentError, match=r"touchpoints\[0\]\.at: touchpoint .* before"):
        load_case(document)


def test_json_numbers_for_money_are_read_exactly() -> None:
    text = LAPTOP.read_text(encoding="utf-8").replace('"649.00"', "649.10")
    assert "649.10" == str(load_case(text).failure.value_at_stake.amount)  # type: ignore[union-attr]


def test_json_text_reads_with_white_space_around_it_and_not_with_more_after_it() -> None:
    text = LAPTOP.read_text(encoding="utf-8").strip()
    case = load_case(text)
    for spaced in (text + "\n", text + " \r\n\t ", "\n " + text + "\n"):
        assert load_case(spaced) == case
    for extra in (text + " {}", text + "\n\x0b", text + "\u2003"):
        with pytest.raises(DocumentError, match="not valid JSON: Extra data"):
            load_case(extra)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("{", "not valid JSON"),
        ('{"id": NaN}', "NaN is not a number JSON allows"),
        ("[]", "expected an object"),
        (b"\xff\xfe", "not UTF-8"),
        ("no/such/file.json", "cannot read"),
        ("\x00", "cannot read"),
        (12, "expected a mapping, JSON text or a path"),
        ('{"format": 3}', "format: 3 is not a case format"),
    ],
)
def test_unreadable_sources_raise_document_error(source: object, message: str) -> None:
    with pytest.raises(DocumentError, match=message):
        load_case(source)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PT4H", "PT4H"),
        ("P1DT2H30M", "P1DT2H30M"),
        ("PT0S", "PT0S"),
        ("P2W", "P14D"),
        ("PT1.5S", "PT1.5S"),
        ("-PT30M", "-PT30M"),
        ("P0D", "PT0S"),
    ],
)
def test_durations(text: str, expected: str) -> None:
    assert expected == format_duration(parse_duration(text))


@pytest.mark.parametrize("text", ["P1M", "P1Y", "PT", "P", "4h", "PT4.1234567S", ""])
def test_bad_durations(text: str) -> None:
    with pytest.raises(CxRecoveryError, match="ISO 8601 duration"):
        parse_duration(text)


# --- corrupted documents: only our errors, always with a path ---------------------------

_JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.sampled_from(["2026-01-05T10:00", "hgih", "XXX", "P1M", "", "nope", "-1"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


@st.composite
def corrupted(draw: st.DrawFn) -> Any:
    document = copy.deepcopy(read(draw(st.sampled_from(EXAMPLES))))
    for _ in range(draw(st.integers(1, 4))):
        spots = places(document)
        where = draw(st.sampled_from(spots))
        if not where:
            return draw(_JUNK)
        parent = document
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[where[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=6))] = draw(_JUNK)
        else:
            parent[where[-1]] = draw(_JUNK)
    return document


@given(corrupted())
def test_corrupted_documents_raise_only_document_errors_with_paths(document: Any) -> None:
    note(repr(document))
    try:
        load_case(document)
    except DocumentError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message
        if isinstance(document, dict):
            assert all(problem.path for problem in error.problems)


@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: "{" + t))
def test_garbage_bytes_and_text_raise_document_error(garbage: bytes | str) -> None:
    with pytest.raises(DocumentError):
        load_case(garbage)


def test_the_format_reference_names_every_field() -> None:
    import attrs

    page = (Path(__file__).parent.parent / "docs" / "case-format.md").read_text()
    for cls in CASE_TYPES:
        section = page.split(f"## {cls.__name__}\n", 1)[1].split("\n## ", 1)[0]
        for field in attrs.fields(cls):
            assert f"| `{field.name}` |" in section, (cls.__name__, field.name)
