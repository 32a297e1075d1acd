"""The generated readers: the same cases, and the same errors, as the plain reading.

Each attrs class is read by code generated from its fields
(:mod:`cxrecovery.formats._generate`); ``Codecs.plain()`` reads the same types field by
field through their constructors. These tests hold the two to the same outcome, case or
error message, on generated cases, corrupted documents, the fuzz tests' hostile values
and every refusal the constructors make.
"""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from cxrecovery import Case, DocumentError, dump, load_case
from cxrecovery.documents import _LIMITS, CODECS, _load_case
from cxrecovery.formats._generate import generated_reader
from cxrecovery.formats.fields import field_plans
from cxrecovery.replay import synthetic_cases
from cxrecovery.testing.strategies import cases
from test_documents import CASE_TYPES, EXAMPLES, corrupted, read
from test_fuzz_documents import CASES, HOSTILE, _corrupt

PLAIN = CODECS.plain()


def _outcome(load: Callable[[Any], Case], document: Any) -> str:
    try:
        return "case " + repr(load(document))
    except DocumentError as error:
        return f"error {error}"


def _same(document: Any) -> str:
    """The outcome of ``load_case`` on ``document``, checked to be the plain one's."""
    # The same document both ways (load_case does not change a mapping it is given): a
    # copy of a host's object would show another address in the message.
    generated = _outcome(load_case, document)
    plain = _outcome(lambda d: _load_case(PLAIN, d, None, _LIMITS), document)
    assert plain == generated
    return generated


def test_every_type_in_a_case_has_a_generated_reader() -> None:
    # A class without one is still read (by the plain reader), only slowly.
    for cls in CASE_TYPES:
        assert generated_reader(cls, field_plans(cls, lambda tp: CODECS(tp).load)) is not None, cls


def test_valid_documents_build_the_same_case_both_ways() -> None:
    documents = [read(path) for path in EXAMPLES]
    documents.extend(dump(case) for case in synthetic_cases(150, seed=3))
    for document in documents:
        generated = load_case(copy.deepcopy(document))
        plain = _load_case(PLAIN, copy.deepcopy(document), None, _LIMITS)
        assert repr(plain) == repr(generated)
        assert dump(plain) == dump(generated) == document


@given(cases())
def test_generated_cases_load_the_same_both_ways(case: Case) -> None:
    assert _same(json.dumps(dump(case))).startswith("case ")


@given(corrupted())
def test_corrupted_documents_fail_the_same_both_ways(document: Any) -> None:
    note(repr(document))
    _same(document)
    if isinstance(document, dict):
        _same(json.dumps(document, default=str))


@given(
    index=st.integers(0, len(CASES) - 1),
    pick=st.integers(0, 10**6),
    value=st.sampled_from(HOSTILE),
    delete=st.booleans(),
)
def test_hostile_values_fail_the_same_both_ways(
    index: int, pick: int, value: Any, delete: bool
) -> None:
    from _corruption import places

    spots = places(CASES[index])
    document = _corrupt(CASES[index], spots[pick % len(spots)], value, delete)
    _same(document)  # (no note: repr refuses the 5,000-digit number among the values)


def _laptop() -> dict[str, Any]:
    return read(next(p for p in EXAMPLES if p.stem == "laptop-repair"))


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value

    return change


def _drop(path: tuple[Any, ...]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        parent = document
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]

    return change


# What the public constructors refuse beyond a field's type: the fast path skips only
# the checks reading implies, so each of these must still fail, with its path.
REFUSED = {
    "identifier with white space": (_set(("id",), " case-1"), "id"),
    "empty identifier": (_set(("customer", "id"), ""), "customer.id"),
    "optional identifier": (_set(("touchpoints", 0, "agent"), "a "), "touchpoints[0].agent"),
    "slug": (_set(("failure", "category"), "Not A Slug"), "failure.category"),
    "segment slug": (_set(("customer", "segment"), "VIP"), "customer.segment"),
    "time zone": (_set(("customer", "time_zone"), "Mars/Olympus"), "customer.time_zone"),
    "negative wait": (_set(("touchpoints", 1, "wait"), "-PT1M"), "touchpoints[1].wait"),
    "negative value at stake": (
        _set(("failure", "value_at_stake", "amount"), "-1.00"),
        "failure.value_at_stake",
    ),
    "too precise money": (
        _set(("failure", "value_at_stake", "amount"), "1.001"),
        "failure.value_at_stake.amount",
    ),
    "negative expectation": (
        _set(("customer", "expectation"), {"compensation_ratio": "-0.5"}),
        "customer.expectation.compensation_ratio",
    ),
    "survey score off the scale": (
        _set(
            ("touchpoints", 0),
            {
                "at": "2026-03-02T10:15:00+00:00",
                "channel": "email",
                "kind": "survey_answer",
                "survey": {"metric": "csat", "score": 9},
            },
        ),
        "touchpoints[0].survey.score",
    ),
    "survey answer without its answer": (
        _set(("touchpoints", 0, "kind"), "survey_answer"),
        "touchpoints[0].survey",
    ),
    "touchpoints out of order": (
        _set(("touchpoints", 2, "at"), "2026-03-10T10:00:00+00:00"),
        "touchpoints[2].at",
    ),
    "touchpoint before the case": (
        _set(("touchpoints", 0, "at"), "2026-03-01T10:15:00+00:00"),
        "touchpoints[0].at",
    ),
    "duplicate touchpoint id": (_set(("touchpoints", 1, "id"), "tp-1"), "touchpoints[1].id"),
    "promise due before made": (
        _set(("promises", 0, "due"), "2026-03-01T10:15:00+00:00"),
        "promises[0].due",
    ),
    "pending promise settled": (
        _set(("promises", 0, "status"), "pending"),
        "promises[0].settled_at",
    ),
    "pause ending before it starts": (
        _set(
            ("pauses",),
            [
                {
                    "reason": "waiting_on_customer",
                    "started_at": "2026-03-05T10:00:00+00:00",
                    "ended_at": "2026-03-04T10:00:00+00:00",
                }
            ],
        ),
        "pauses[0].ended_at",
    ),
    "open case with closed_at": (
        _set(("closed_at",), "2026-04-01T10:00:00+00:00"),
        "status",
    ),
    "grant before the case": (
        _set(
            ("grants",),
            [{"id": "g-1", "form": "voucher", "at": "2026-03-01T10:00:00+00:00"}],
        ),
        "grants[0].at",
    ),
    "duplicate grant id": (
        _set(
            ("grants",),
            [
                {"id": "g-1", "form": "voucher", "at": "2026-03-03T10:00:00+00:00"},
                {"id": "g-1", "form": "credit", "at": "2026-03-04T10:00:00+00:00"},
            ],
        ),
        "grants[1].id",
    ),
    "promise made before the case": (
        _set(("promises", 0, "made_at"), "2026-03-01T10:15:00+00:00"),
        "promises[0].made_at",
    ),
    "prior case after this one": (
        _set(
            ("prior_cases",),
            [
                {
                    "id": "old-1",
                    "opened_at": "2026-03-05T10:00:00+00:00",
                    "category": "late_delivery",
                    "severity": "low",
                }
            ],
        ),
        "prior_cases[0].opened_at",
    ),
    "resolved case without resolved_at": (_set(("status",), "resolved"), "resolved_at"),
    "closed case without closed_at": (_set(("status",), "closed"), "closed_at"),
    "naive time": (_set(("opened_at",), "2026-03-02T10:15:00"), "opened_at"),
    "unknown field": (_set(("customer", "nmae"), "Sam"), "customer.nmae"),
    "missing field": (_drop(("failure", "severity")), "failure.severity"),
    "bool for a whole number": (
        _set(
            ("touchpoints", 0),
            {
                "at": "2026-03-02T10:15:00+00:00",
                "channel": "email",
                "kind": "survey_answer",
                "survey": {"metric": "nps", "score": True},
            },
        ),
        "touchpoints[0].survey.score",
    ),
    "float money": (
        _set(("failure", "value_at_stake", "amount"), 1.5),
        "failure.value_at_stake.amount",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_the_constructors_refuse_the_loader_refuses(name: str) -> None:
    change, path = REFUSED[name]
    document = _laptop()
    change(document)
    with pytest.raises(DocumentError) as caught:
        load_case(copy.deepcopy(document))
    assert path in [p.path for p in caught.value.problems], caught.value
    assert _same(document) == f"error {caught.value}"
    _same(json.dumps(document, default=str))  # (a float is exact in JSON text)


def test_a_read_object_is_of_its_own_class_and_frozen() -> None:
    # The generated reader sets slots on a twin of each class, then gives the object the
    # class itself: nothing of the twin may show.
    case = load_case(_laptop())
    objects: list[Any] = [case, case.customer, case.failure, *case.touchpoints, *case.promises]
    for item in objects:
        cls = type(item)
        assert cls.__module__.startswith("cxrecovery.model"), cls
        assert cls in CASE_TYPES, cls
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            item.id = "changed"
        assert item == attrs.evolve(item)
        assert pickle.loads(pickle.dumps(item)) == item
