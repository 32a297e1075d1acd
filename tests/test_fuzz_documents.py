"""Fuzzing: the bundled examples and the default policy, corrupted at any place with a
hostile value, load and decide or are refused with a ``CxRecoveryError`` — in bounded
CPU time, never with a builtin error from inside.

Hypothesis draws the place and the value; the default profile tries a few dozen
documents of each kind, the ``thorough`` profile CI uses ten times as many.
"""

from __future__ import annotations

import copy
import json
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from _corruption import places
from cxrecovery import CxRecoveryError, Engine, default_policy, load_case, load_policy

EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "cases").glob("*.json"))
CASES = [json.loads(path.read_text("utf-8")) for path in EXAMPLES]
POLICY = default_policy().document
ENGINE = Engine(default_policy())
SECONDS = 2.0  # CPU time one document may take, refused or decided


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: list[Any] = [
    None,
    True,
    -1,
    0,
    10**5000,
    2**63,
    "",
    "x" * 10_000,
    "9" * 5000,
    "P" + "9" * 20_000,
    "PT" + "9" * 5000 + "S",
    "P99999999W",
    "P999999999D",
    "1E+999999999",
    "1E-999999999",
    "1E-999999999%",
    "99999999999999999999%",
    ">= " + "9" * 5000,
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59.999999-14:00",
    "2400-01-01T00:00:00+00:00",
    "DTSTART;TZID=/etc/passwd:20260101T000000",
    "\x00",
    "default\x00.toml",
    Decimal("sNaN"),
    Decimal("NaN"),
    Decimal("1E+999999"),
    float("nan"),
    1e308,
    {"": 1},
    {"a": {"b": {"c": {}}}},
    [],
    [[[[[]]]]],
    _deep(990),
    {1, 2},
    b"bytes",
    object(),
]

hostile = st.sampled_from(HOSTILE)


def _corrupt(document: Any, where: tuple[Any, ...], value: Any, delete: bool) -> Any:
    if not where:
        return value
    data = copy.deepcopy(document)
    node = data
    for step in where[:-1]:
        node = node[step]
    if delete and isinstance(node, dict):
        del node[where[-1]]
    else:
        node[where[-1]] = value
    return data


def _refused_properly(error: CxRecoveryError) -> None:
    problems = getattr(error, "problems", ())
    assert problems, f"{error!r} names no problem"
    assert all(problem.message for problem in problems)


@given(
    index=st.integers(0, len(CASES) - 1),
    pick=st.integers(0, 10**6),
    value=hostile,
    delete=st.booleans(),
)
def test_a_corrupted_case_loads_and_decides_or_is_refused(
    index: int, pick: int, value: Any, delete: bool
) -> None:
    base = CASES[index]
    spots = places(base)
    document = _corrupt(base, spots[pick % len(spots)], value, delete)
    start = time.process_time()
    try:
        case = load_case(document)
        ENGINE.decide(case, at=case.last_event_at()).to_json()  # the explanation too
    except CxRecoveryError as error:
        _refused_properly(error)
    spent = time.process_time() - start
    assert spent < SECONDS, f"{spent:.2f} s of CPU"


@given(pick=st.integers(0, 10**6), value=hostile, delete=st.booleans())
def test_a_corrupted_policy_loads_and_decides_or_is_refused(
    pick: int, value: Any, delete: bool
) -> None:
    spots = [p for p in places(POLICY) if p]
    document = _corrupt(POLICY, spots[pick % len(spots)], value, delete)
    case = load_case(CASES[0])
    start = time.process_time()
    try:
        engine = Engine(load_policy(document))
        engine.decide(case, at=case.last_event_at()).to_json()  # the explanation too
    except CxRecoveryError as error:
        _refused_properly(error)
    spent = time.process_time() - start
    assert spent < SECONDS, f"{spent:.2f} s of CPU"


@pytest.mark.parametrize("text", [json.dumps(c) for c in CASES[:1]])
def test_corrupted_json_text_is_refused_or_read(text: str) -> None:
    for cut in range(0, len(text), max(1, len(text) // 50)):
        try:
            load_case(text[:cut] + "\x00" + text[cut + 1 :])
        except CxRecoveryError as error:
            _refused_properly(error)


# Times a host passes in code (not read from a document, so not range-checked there).
FAR_TIMES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1899, 12, 31, tzinfo=UTC),
    datetime(2200, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime.max.replace(tzinfo=UTC),
    datetime(2026, 1, 1),  # naive
]
FAR_SPANS = [timedelta(days=999_999_999), timedelta(days=-5), timedelta(days=3652)]


@given(
    index=st.integers(0, len(CASES) - 1),
    field=st.sampled_from(["remedy_ready_at", "remedy_lead_time", "argument", "at"]),
    when=st.sampled_from(FAR_TIMES),
    span=st.sampled_from(FAR_SPANS),
)
def test_hostile_times_given_in_code_are_decided_or_refused(
    index: int, field: str, when: datetime, span: timedelta
) -> None:
    # Found by fuzzing: a remedy in year 9999 raised OverflowError from decide().
    case = load_case(CASES[index])
    at = case.last_event_at()
    try:
        if field == "remedy_lead_time":
            case = attrs.evolve(case, remedy_lead_time=span)
        elif field == "remedy_ready_at":
            case = attrs.evolve(case, remedy_ready_at=when)
        if field == "argument":
            plan = ENGINE.decide(case, at=at, remedy_ready_at=when)
        else:
            plan = ENGINE.decide(case, at=when if field == "at" else at)
        plan.to_json()
    except CxRecoveryError as error:
        _refused_properly(error)
