"""The loader's fast path: the same cases, and the same errors, as the full loader.

:func:`cxrecovery.documents.load` first tries a fast reader that skips the checks
reading already made; anything unusual goes to the full loader. These tests pin that
the fast path is taken for valid documents, builds exactly what the full loader builds,
and never lets through anything the full loader (and the public constructors) refuse.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest
from hypothesis import given, note

from cxrecovery import Case, DocumentError, dump, load_case
from cxrecovery import documents as documents_module
from cxrecovery.replay import synthetic_cases
from cxrecovery.testing.strategies import cases
from test_documents import CASE_TYPES, EXAMPLES, corrupted, read


def _outcome(load: Callable[[Any], Case], document: Any) -> str:
    try:
        return "case " + repr(load(document))
    except DocumentError as error:
        return f"error {error}"


def _full_load_case(monkeypatch: pytest.MonkeyPatch, document: Any) -> str:
    """``load_case`` with the fast path switched off."""
    with monkeypatch.context() as patch:
        patch.setattr(
            documents_module,
            "load",
            lambda cls, data, *, path="": documents_module._load_full(cls, data, path),
        )
        return _outcome(load_case, document)


def _same(monkeypatch: pytest.MonkeyPatch, document: Any) -> str:
    fast = _outcome(load_case, copy.deepcopy(document))
    assert _full_load_case(monkeypatch, copy.deepcopy(document)) == fast
    return fast


def _documents() -> list[dict[str, Any]]:
    found = [read(path) for path in EXAMPLES]
    found.extend(dump(case) for case in synthetic_cases(150, seed=3))
    return found


def test_every_type_in_a_case_has_a_fast_plan() -> None:
    # A class without one still loads (through its full loader), only slowly.
    for cls in CASE_TYPES:
        attrs.resolve_types(cls)
        plan = documents_module._fast_plan(
            cls, lambda name, cls=cls: documents_module._codec(attrs.fields_dict(cls)[name].type)
        )
        assert plan is not None, cls


def test_valid_documents_take_the_fast_path_and_build_the_same_case() -> None:
    reader = documents_module._codec(Case).fast
    for document in _documents():
        data = {k: v for k, v in document.items() if k != "format"}
        fast = reader(copy.deepcopy(data))  # raises if the fast path gave up
        full = documents_module._load_full(Case, copy.deepcopy(data), "")
        assert repr(full) == repr(fast)
        assert dump(full) == dump(fast) == document


@given(cases())
def test_generated_cases_load_the_same_both_ways(case: Case) -> None:
    text = json.dumps(dump(case))
    with pytest.MonkeyPatch.context() as patch:
        assert _same(patch, text).startswith("case ")


@given(corrupted())
def test_corrupted_documents_fail_the_same_both_ways(document: Any) -> None:
    note(repr(document))
    with pytest.MonkeyPatch.context() as patch:
        _same(patch, document)
        if isinstance(document, dict):
            _same(patch, json.dumps(document, default=str))


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
def test_what_the_constructors_refuse_the_loader_refuses(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    change, path = REFUSED[name]
    document = _laptop()
    change(document)
    with pytest.raises(DocumentError) as caught:
        load_case(copy.deepcopy(document))
    assert path in [p.path for p in caught.value.problems], caught.value
    assert _same(monkeypatch, document) == f"error {caught.value}"
    _same(monkeypatch, json.dumps(document, default=str))  # (a float is exact in JSON text)
