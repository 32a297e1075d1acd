"""The case rules, folded into one pass: the same problems as the rules they replaced.

``Case`` once had a quick yes/no test beside the full rules; now one function
(``_case_problems``) serves every case. The oracle below is the earlier full rules as
they were written (generators, each rule on its own), kept here so that the one-pass
rewrite is checked against them on generated cases with rules broken behind the
constructor's back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery import Case, CaseStatus, InvalidValueError, model
from cxrecovery.errors import Problem
from cxrecovery.model._case import _case_problems
from cxrecovery.model._events import StatusAt, history_problems
from cxrecovery.testing.strategies import cases

# --- the oracle: the rules as they were written before they were folded into one pass ---


def _old_before(what: str, when: datetime, opened: datetime) -> str:
    return f"{what} {when.isoformat()} is before the case opened at {opened.isoformat()}"


def _old_duplicates(name: str, ids: list[str | None]) -> Iterator[Problem]:
    seen: set[str] = set()
    for i, ident in enumerate(ids):
        if ident is None:
            continue
        if ident in seen:
            yield Problem(f"{name}[{i}].id", f"{ident!r} is used twice")
        seen.add(ident)


def _old_case_problems(case: Case) -> Iterator[Problem]:
    opened = case.opened_at
    previous: datetime | None = None
    for i, tp in enumerate(case.touchpoints):
        if tp.at < opened:
            yield Problem(f"touchpoints[{i}].at", _old_before("touchpoint", tp.at, opened))
        if previous is not None and tp.at < previous:
            yield Problem(
                f"touchpoints[{i}].at",
                f"{tp.at.isoformat()} is earlier than touchpoints[{i - 1}]; list "
                "touchpoints in time order",
            )
        previous = tp.at
    yield from _old_duplicates("touchpoints", [tp.id for tp in case.touchpoints])
    for i, promise in enumerate(case.promises):
        if promise.made_at < opened:
            yield Problem(
                f"promises[{i}].made_at", _old_before("promise", promise.made_at, opened)
            )
    yield from _old_duplicates("promises", [p.id for p in case.promises])
    for i, grant in enumerate(case.grants):
        if grant.at < opened:
            yield Problem(f"grants[{i}].at", _old_before("grant", grant.at, opened))
    yield from _old_duplicates("grants", [g.id for g in case.grants])
    yield from _old_pause_problems(case)
    for i, prior in enumerate(case.prior_cases):
        if prior.opened_at > opened:
            yield Problem(
                f"prior_cases[{i}].opened_at",
                f"{prior.opened_at.isoformat()} is after this case opened",
            )
    yield from _old_status_problems(case)
    yield from history_problems(
        case.events,
        opened,
        StatusAt(case.status, case.resolved_at, case.closed_at),
        case.owner,
    )


def _old_pause_problems(case: Case) -> Iterator[Problem]:
    last_end: dict[str, tuple[int, datetime | None]] = {}
    for i, pause in enumerate(case.pauses):
        if pause.started_at < case.opened_at:
            yield Problem(
                f"pauses[{i}].started_at", _old_before("pause", pause.started_at, case.opened_at)
            )
        earlier = last_end.get(pause.reason)
        if earlier is not None:
            j, end = earlier
            if end is None or pause.started_at < end:
                yield Problem(
                    f"pauses[{i}].started_at",
                    f"overlaps pauses[{j}] for the same reason {pause.reason!r}; list each "
                    "reason's pauses in time order, one at a time",
                )
        last_end[pause.reason] = (i, pause.ended_at)


def _old_status_problems(case: Case) -> Iterator[Problem]:
    for name in ("resolved_at", "closed_at"):
        when: datetime | None = getattr(case, name)
        if when is not None and when < case.opened_at:
            yield Problem(name, _old_before(name.replace("_", " "), when, case.opened_at))
    if case.status is CaseStatus.OPEN and (case.resolved_at or case.closed_at):
        yield Problem("status", "an open case has no resolved_at or closed_at")
    if case.status is CaseStatus.RESOLVED:
        if case.resolved_at is None:
            yield Problem("resolved_at", "a resolved case needs resolved_at")
        if case.closed_at is not None:
            yield Problem("closed_at", "a resolved case is not closed yet")
    if case.status is CaseStatus.CLOSED:
        if case.closed_at is None:
            yield Problem("closed_at", "a closed case needs closed_at")
        for i, pause in enumerate(case.pauses):
            if pause.ended_at is None:
                yield Problem(f"pauses[{i}].ended_at", "a closed case has no open pause")


# --- the tests ----------------------------------------------------------------------------

_RULE_BREAKERS: list[Callable[[Case], dict[str, Any]]] = [
    lambda c: {"opened_at": c.opened_at + timedelta(days=400)},
    lambda c: {"opened_at": c.opened_at + timedelta(hours=1)},
    lambda c: {"touchpoints": c.touchpoints[::-1]},
    lambda c: {"touchpoints": c.touchpoints + c.touchpoints[:1]},
    lambda c: {"promises": c.promises + c.promises[:1]},
    lambda c: {"grants": c.grants + c.grants[:1]},
    lambda c: {"status": CaseStatus.OPEN},
    lambda c: {"status": CaseStatus.RESOLVED},
    lambda c: {"status": CaseStatus.CLOSED},
    lambda c: {"resolved_at": c.opened_at - timedelta(seconds=1)},
    lambda c: {"closed_at": c.opened_at + timedelta(days=1), "resolved_at": None},
    lambda c: {"closed_at": c.opened_at - timedelta(days=1)},
    lambda c: {"pauses": c.pauses[::-1]},
    lambda c: {"pauses": c.pauses + c.pauses[:1]},
    lambda c: {"pauses": (*c.pauses, model.Pause("waiting_on_customer", c.opened_at))},
    lambda c: {"pauses": (model.Pause("waiting_on_customer", c.opened_at - timedelta(1)),)},
    lambda c: {
        "pauses": (
            model.Pause("waiting_on_customer", c.opened_at),
            model.Pause("waiting_on_customer", c.opened_at + timedelta(hours=1)),
        )
    },
    lambda c: {"prior_cases": c.prior_cases[::-1], "opened_at": c.opened_at - timedelta(800)},
    lambda c: {"events": c.events[::-1]},
    lambda c: {"owner": "someone-else"},
]


def _broken(case: Case, which: int) -> Case:
    """``case`` with one rule (or none) broken, behind the constructor's back."""
    broken = copy.copy(case)
    for name, value in _RULE_BREAKERS[which](case).items():
        object.__setattr__(broken, name, value)
    return broken


@given(cases(), st.sampled_from(range(len(_RULE_BREAKERS))))
def test_the_one_pass_finds_what_the_separate_rules_found(case: Case, which: int) -> None:
    broken = _broken(case, which)
    assert _case_problems(broken) == list(_old_case_problems(broken))


@given(cases())
def test_a_generated_case_breaks_no_rule(case: Case) -> None:
    assert _case_problems(case) == []


def test_touchpoints_before_the_opening_are_each_named_even_in_order() -> None:
    opened = datetime.fromisoformat("2026-03-02T10:00:00+00:00")
    early = [opened - timedelta(hours=2), opened - timedelta(hours=1)]
    with pytest.raises(InvalidValueError) as caught:
        Case(
            "c-1",
            model.Customer("cu-1"),
            model.Failure("late_delivery", "low", "company", service_usable=True),
            opened,
            touchpoints=[model.Touchpoint(at, "email", "contact") for at in early],
        )
    assert [p.path for p in caught.value.problems] == ["touchpoints[0].at", "touchpoints[1].at"]
    assert all("before the case opened" in p.message for p in caught.value.problems)
