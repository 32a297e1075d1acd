"""A case's history: events, the case as of an instant, format 2, decisions over time."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

from cxrecovery import (
    ActionKind,
    Case,
    CaseStatus,
    DocumentError,
    Engine,
    InvalidValueError,
    PromiseStatus,
    default_policy,
    dump,
    load_case,
)
from cxrecovery.model import CaseEvent, CaseEventKind

CASES = Path(__file__).parent.parent / "examples" / "cases"
ENGINE = Engine(default_policy())


def story(name: str) -> Case:
    return load_case(CASES / f"{name}.json")


def document(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    return data


# --- the case as of an instant ---------------------------------------------------------


def test_the_flat_battery_when_the_customer_was_stranded_is_open_and_gets_a_plan() -> None:
    case = story("flat-battery")
    stranded = case.opened_at + timedelta(minutes=1)
    then = case.as_of(stranded)
    assert then.status is CaseStatus.OPEN
    assert then.resolved_at is None
    assert [tp.id for tp in then.touchpoints] == ["r1"]
    assert then.promises == ()  # the promise was made a minute later
    plan = ENGINE.decide(case, at=stranded)
    assert plan.action(ActionKind.APOLOGIZE) is not None
    assert plan.action(ActionKind.REMEDY) is not None
    assert plan == ENGINE.decide(then, at=stranded)


def test_a_promise_settled_later_is_pending_as_of_before_and_not_made_again() -> None:
    case = story("flat-battery")
    promise = case.promises[0]
    between = promise.made_at + timedelta(minutes=5)
    then = case.as_of(between)
    assert then.promises[0].status is PromiseStatus.PENDING
    assert then.promises[0].settled_at is None
    plan = ENGINE.decide(case, at=between)
    assert plan.action(ActionKind.MAKE_PROMISE) is None  # the pending one covers it


def test_as_of_an_instant_after_everything_is_the_case_itself() -> None:
    case = story("laptop-repair")
    assert case.as_of(case.last_event_at()) is case


def test_as_of_before_the_case_opened_names_at() -> None:
    case = story("coffee-order")
    with pytest.raises(InvalidValueError) as caught:
        case.as_of(case.opened_at - timedelta(seconds=1))
    assert caught.value.problems[0].path == "at"
    with pytest.raises(InvalidValueError) as caught:
        ENGINE.decide(case, at=case.opened_at - timedelta(seconds=1))
    assert caught.value.problems[0].path == "at"


def test_as_of_a_naive_instant_is_refused() -> None:
    case = story("coffee-order")
    with pytest.raises(InvalidValueError):
        case.as_of(case.opened_at.replace(tzinfo=None))


def test_status_and_owner_follow_the_events() -> None:
    case = story("coffee-order")
    t = case.opened_at
    events = (
        CaseEvent(CaseEventKind.ASSIGNED, t, by="lead", owner="barista-1", role="front_line"),
        CaseEvent(CaseEventKind.RESOLVED, t + timedelta(minutes=5), by="barista-1"),
        CaseEvent(CaseEventKind.REOPENED, t + timedelta(minutes=9), by="barista-2"),
        CaseEvent(
            CaseEventKind.ASSIGNED, t + timedelta(minutes=10), owner="sup-1", role="supervisor"
        ),
        CaseEvent(CaseEventKind.CLOSED, t + timedelta(minutes=30), by="sup-1"),
    )
    closed = attrs.evolve(
        case,
        status=CaseStatus.CLOSED,
        resolved_at=None,
        closed_at=t + timedelta(minutes=30),
        owner="sup-1",
        events=events,
        pauses=(),
    )
    assert closed.owner_role == "supervisor"
    at6 = closed.as_of(t + timedelta(minutes=6))
    assert (at6.status, at6.resolved_at, at6.owner) == (
        CaseStatus.RESOLVED,
        t + timedelta(minutes=5),
        "barista-1",
    )
    assert at6.owner_role == "front_line"
    at9 = closed.as_of(t + timedelta(minutes=9))
    assert (at9.status, at9.resolved_at) == (CaseStatus.OPEN, None)
    assert closed.as_of(t + timedelta(minutes=29)).owner == "sup-1"
    assert closed.as_of(t + timedelta(minutes=30)).status is CaseStatus.CLOSED


def test_an_acknowledgement_after_the_instant_is_not_known_yet() -> None:
    case = story("dropped-call")
    t = case.last_event_at()
    taken = CaseEvent(
        CaseEventKind.ESCALATED,
        t,
        by="agent-1",
        level=1,
        role="supervisor",
        acknowledged_by="sup-1",
        acknowledged_at=t + timedelta(hours=1),
    )
    later = attrs.evolve(case, events=(taken,))
    assert later.as_of(t).escalations()[0].acknowledged_by is None
    assert later.as_of(t + timedelta(hours=1)).escalations()[0].acknowledged_by == "sup-1"


# --- bad histories ---------------------------------------------------------------------


def test_every_problem_of_a_history_is_listed_with_its_path() -> None:
    data = document("coffee-order")
    opened = data["opened_at"]
    data["events"] = [
        {"kind": "resolved", "at": "2030-01-01T10:00:00+00:00"},
        {"kind": "assigned", "at": opened},  # no owner, and out of order
        {"kind": "escalated", "at": "2030-01-02T10:00:00+00:00", "level": 0},
        {"kind": "closed", "at": "2030-01-03T10:00:00+00:00"},
        {"kind": "closed", "at": "2030-01-04T10:00:00+00:00"},
    ]
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    paths = {p.path for p in caught.value.problems}
    assert "events[1].owner" in paths
    assert "events[2].level" in paths


def test_events_out_of_order_and_moves_that_are_not_moves_are_refused_together() -> None:
    data = document("coffee-order")
    data["status"] = "closed"
    data["closed_at"] = "2030-01-05T10:00:00+00:00"
    data.pop("resolved_at", None)
    data["events"] = [
        {"kind": "resolved", "at": "2030-01-02T10:00:00+00:00"},
        {"kind": "reopened", "at": "2030-01-01T10:00:00+00:00"},
        {"kind": "closed", "at": "2030-01-03T10:00:00+00:00"},
        {"kind": "closed", "at": "2030-01-04T10:00:00+00:00"},
    ]
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    messages = {p.path: p.message for p in caught.value.problems}
    assert "time order" in messages["events[1].at"]
    assert "closed" in messages["events[3].kind"]
    assert "closed_at" in messages  # the events close it at another time


def test_a_flat_owner_that_disagrees_with_the_last_assigned_event_is_refused() -> None:
    case = story("coffee-order")
    with pytest.raises(InvalidValueError) as caught:
        attrs.evolve(
            case,
            owner="someone-else",
            events=(CaseEvent(CaseEventKind.ASSIGNED, case.opened_at, owner="barista-1"),),
        )
    assert [p.path for p in caught.value.problems] == ["owner"]


# --- format 2 --------------------------------------------------------------------------


def test_dump_writes_format_2_and_events_round_trip() -> None:
    case = story("coffee-order")
    t = case.opened_at
    with_events = attrs.evolve(
        case,
        events=(
            CaseEvent(CaseEventKind.APOLOGIZED, t, by="barista-1"),
            CaseEvent(CaseEventKind.ESCALATED, t, by="barista-1", level=1, role="supervisor"),
        ),
    )
    data = dump(with_events)
    assert data["format"] == 2
    assert data["events"][1] == {
        "kind": "escalated",
        "at": t.isoformat(),
        "by": "barista-1",
        "role": "supervisor",
        "level": 1,
    }
    assert load_case(data) == with_events


FORMAT_1 = Path(__file__).parent / "documents" / "format-1"


@pytest.mark.parametrize(
    "name", ["coffee-order", "dropped-call", "flat-battery", "laptop-cover", "laptop-repair"]
)
def test_format_1_documents_still_load_and_decide_as_they_did(name: str) -> None:
    # The five examples as format 1 wrote them.
    old = FORMAT_1 / f"{name}.json"
    assert json.loads(old.read_text(encoding="utf-8"))["format"] == 1
    case = load_case(old)
    assert case.history() == story(name).history()
    again = dump(case)
    assert again["format"] == 2
    assert load_case(again) == case
    at = case.last_event_at()
    assert ENGINE.decide(case, at=at) == ENGINE.decide(story(name), at=at)


def test_a_format_1_document_has_no_events() -> None:
    data = json.loads((FORMAT_1 / "coffee-order.json").read_text(encoding="utf-8"))
    data["events"] = []
    data["promises"] = [
        {
            "id": "p",
            "what": "x",
            "made_at": data["opened_at"],
            "due": data["opened_at"],
            "status": "kept",
            "settled_at": data["opened_at"],
            "settled_by": "a",
        }
    ]
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    paths = [p.path for p in caught.value.problems]
    assert paths == ["events", "promises[0].settled_by"]
    assert "format 2" in caught.value.problems[0].message


def test_the_schema_is_format_2_and_describes_events() -> None:
    from cxrecovery import case_schema

    schema = case_schema()
    assert schema["properties"]["format"] == {"const": 2}
    assert "events" in schema["properties"]
    event = schema["$defs"]["CaseEvent"]
    assert set(event["required"]) == {"kind", "at"}
    assert "escalated" in event["properties"]["kind"]["enum"]


# --- stable re-decisions ---------------------------------------------------------------


def test_a_supervisor_who_took_the_case_keeps_it_and_is_not_escalated_to_again() -> None:
    from cxrecovery.plan import record
    from cxrecovery.transitions import assign

    case = story("laptop-repair")
    at = case.last_event_at()
    plan = ENGINE.decide(case, at=at)
    escalate = plan.action(ActionKind.ESCALATE)
    assert escalate is not None
    assert escalate.level == 1
    assert plan.owner == "supervisor"  # a role: nobody holds it on this case yet
    taken = record(case, escalate, by="agent-leeds-07", at=at)
    assert taken.escalation_taken() == 1
    later = at + timedelta(minutes=10)
    owned = assign(taken, "sup-ruth", at=later, by="sup-ruth", role="supervisor")
    again = ENGINE.decide(owned, at=later)
    assert again.action(ActionKind.ESCALATE) is None
    assert again.escalation_level == 1
    assert again.owner == "sup-ruth"  # the person, not the role's name


def test_a_named_owner_gives_way_when_the_policy_needs_a_higher_role() -> None:
    from cxrecovery.transitions import assign

    case = story("dropped-call")  # level 2: a manager
    at = case.last_event_at()
    owned = assign(case, "sup-1", at=at, role="supervisor")
    assert ENGINE.decide(owned, at=at).owner == "manager"
    managed = assign(case, "mgr-1", at=at, role="manager")
    assert ENGINE.decide(managed, at=at).owner == "mgr-1"


def test_whoever_acknowledged_the_escalation_owns_the_case_at_its_level() -> None:
    from cxrecovery.transitions import record_event

    case = story("laptop-repair")
    at = case.last_event_at()
    taken = record_event(
        case,
        CaseEvent(
            CaseEventKind.ESCALATED,
            at,
            by="agent-leeds-07",
            level=1,
            role="supervisor",
            acknowledged_by="sup-ruth",
            acknowledged_at=at + timedelta(minutes=5),
        ),
    )
    assert ENGINE.decide(taken, at=at).owner == "supervisor"  # not acknowledged yet
    assert ENGINE.decide(taken, at=at + timedelta(minutes=5)).owner == "sup-ruth"


def test_a_customer_told_is_not_told_again_before_the_next_update_is_due() -> None:
    from cxrecovery.plan import record

    case = story("coffee-order")
    at = case.last_event_at()
    plan = ENGINE.decide(case, at=at)
    notify = plan.action(ActionKind.NOTIFY)
    assert notify is not None
    assert notify.due == at  # the remake is promised now: the customer hears it now
    told = record(case, notify, by="barista-ana", at=at)
    assert told.touchpoints[-1].direction.value == "outbound"
    # The plan promises a remake now, so the customer is to hear it now: until the
    # promise is made, the update stays due.
    update = ENGINE.decide(told, at=at).action(ActionKind.NOTIFY)
    assert update is not None
    assert update.due == at
    promise = plan.action(ActionKind.MAKE_PROMISE)
    assert promise is not None
    done = record(told, promise, by="barista-ana", at=at)
    update = ENGINE.decide(done, at=at).action(ActionKind.NOTIFY)
    assert update is None or update.due is None or update.due > at


def test_a_promise_made_is_tracked_not_made_again() -> None:
    from cxrecovery.plan import record

    case = story("coffee-order")
    at = case.last_event_at()
    promise = ENGINE.decide(case, at=at).action(ActionKind.MAKE_PROMISE)
    assert promise is not None
    promised = record(case, promise, by="barista-ana", at=at, id="remake")
    assert promised.promise("remake") is not None
    assert promised.promise("remake").due == promise.due  # type: ignore[union-attr]
    assert ENGINE.decide(promised, at=at).action(ActionKind.MAKE_PROMISE) is None


def test_a_grant_given_counts_toward_the_case() -> None:
    from cxrecovery.plan import record

    case = story("laptop-repair")
    at = case.last_event_at()
    compensate = ENGINE.decide(case, at=at).action(ActionKind.COMPENSATE)
    assert compensate is not None
    assert compensate.amount is not None
    granted = record(case, compensate, by="sup-ruth", at=at, approved_by="mgr-1")
    assert granted.grants[-1].amount == compensate.amount
    assert granted.grants[-1].approved_by == "mgr-1"
    assert ENGINE.decide(granted, at=at).action(ActionKind.COMPENSATE) is None


def test_recording_a_plan_action_names_what_is_wrong() -> None:
    from cxrecovery import TransitionError
    from cxrecovery.plan import record

    case = story("coffee-order")
    with pytest.raises(TransitionError) as caught:
        record(case, "apologize", by="x", at=case.opened_at)  # type: ignore[arg-type]
    assert caught.value.problems[0].path == "action"
    apology = ENGINE.decide(case, at=case.last_event_at()).action(ActionKind.APOLOGIZE)
    assert apology is not None
    with pytest.raises(TransitionError) as caught:
        record(case, apology, by="x", at=case.opened_at - timedelta(seconds=1))
    assert caught.value.problems[0].path == "at"


def test_deciding_a_closed_case_after_it_closed_plans_nothing_for_an_open_case() -> None:
    from cxrecovery.transitions import close

    case = story("coffee-order")
    at = case.last_event_at()
    closed = close(case, at + timedelta(minutes=30), by="barista-ana")
    plan = ENGINE.decide(closed, at=at + timedelta(hours=1))
    assert {a.kind for a in plan.actions} <= {ActionKind.COMPENSATE, ActionKind.RECOGNISE}
    assert plan.escalation_level == 0
    # ... and before it closed, the case as it was then.
    before = at + timedelta(minutes=10)
    assert ENGINE.decide(closed, at=before) == ENGINE.decide(case, at=before)


# --- a settlement in the history -------------------------------------------------------


def test_a_promise_settled_in_the_history_reads_into_the_promise() -> None:
    import jsonschema

    from cxrecovery import case_schema

    data = document("dropped-call")
    data["events"] = [
        {
            "kind": "settled",
            "at": "2026-05-12T14:40:00-05:00",
            "by": "agent-7",
            "promise": "p-callback",
            "status": "broken",
        },
        {"kind": "apologized", "at": "2026-05-12T14:41:00-05:00", "by": "agent-7"},
    ]
    jsonschema.Draft202012Validator(case_schema()).validate(data)
    case = load_case(data)
    promise = case.promise("p-callback")
    assert promise is not None
    assert promise.status is PromiseStatus.BROKEN
    assert promise.settled_by == "agent-7"
    assert [e.kind for e in case.events] == [CaseEventKind.APOLOGIZED]
    written = dump(case)  # the canonical form: the settlement in the promise
    assert all(e["kind"] != "settled" for e in written["events"])
    assert load_case(written) == case


def test_every_problem_of_a_history_at_once_with_a_policy() -> None:
    data = document("dropped-call")
    data["events"] = [
        {"kind": "apologized", "at": "2026-05-12T17:00:00-05:00"},
        {"kind": "escalated", "at": "2026-05-12T16:00:00-05:00", "level": 7},
        {"kind": "assigned", "at": "2026-05-12T17:01:00-05:00", "owner": "x", "role": "boss"},
        {"kind": "settled", "at": "2026-05-12T17:02:00-05:00", "promise": "p-x", "status": "kept"},
    ]
    data["owner"] = "x"
    with pytest.raises(DocumentError) as caught:
        load_case(data, policy=default_policy())
    messages = {p.path: p.message for p in caught.value.problems}
    assert "time order" in messages["events[1].at"]  # out of order
    assert "not an escalation level" in messages["events[1].level"]  # a level it lacks
    assert "not a role" in messages["events[2].role"]  # an unknown role
    assert "never made" in messages["events[3].promise"]  # a settled promise never made
    assert len(caught.value.problems) == 4


def test_a_settlement_in_two_places_or_twice_is_refused() -> None:
    data = document("dropped-call")  # p-appointment is settled in its record
    data["events"] = [
        {
            "kind": "settled",
            "at": "2026-05-12T17:00:00-05:00",
            "promise": "p-appointment",
            "status": "kept",
        },
        {
            "kind": "settled",
            "at": "2026-05-12T17:01:00-05:00",
            "promise": "p-callback",
            "status": "kept",
        },
        {
            "kind": "settled",
            "at": "2026-05-12T17:02:00-05:00",
            "promise": "p-callback",
            "status": "maybe",
        },
    ]
    with pytest.raises(DocumentError) as caught:
        load_case(data)
    paths = sorted(p.path for p in caught.value.problems)
    assert paths == ["events[0].promise", "events[2].promise", "events[2].status"]
