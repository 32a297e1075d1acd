from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given

from cxrecovery import (
    Case,
    CaseStatus,
    Channel,
    CompensationForm,
    Customer,
    Failure,
    Grant,
    Money,
    Promise,
    PromiseStatus,
    Touchpoint,
    TouchpointKind,
    TransitionError,
    assign,
    close,
    make_promise,
    pause,
    record_grant,
    record_touchpoint,
    resolve,
    resume,
    settle_promise,
)
from cxrecovery.model import SurveyAnswer, SurveyMetric
from cxrecovery.testing.strategies import cases

T0 = datetime(2026, 5, 11, 15, 0, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


@pytest.fixture
def case() -> Case:
    return Case(
        "case-1",
        Customer("c-1"),
        Failure("missed_call", "medium", "company", service_usable=True),  # type: ignore[arg-type]
        T0,
    )


def contact(hours: float, **kw: object) -> Touchpoint:
    return Touchpoint(at(hours), Channel.PHONE, TouchpointKind.CONTACT, **kw)  # type: ignore[arg-type]


def test_record_touchpoint_returns_a_new_case_in_time_order(case: Case) -> None:
    one = record_touchpoint(case, contact(2))
    two = record_touchpoint(one, contact(1))
    assert () == case.touchpoints
    assert [at(1), at(2)] == [tp.at for tp in two.touchpoints]


def test_touchpoint_before_the_case_opened_is_refused(case: Case) -> None:
    with pytest.raises(TransitionError, match="before case 'case-1' opened"):
        record_touchpoint(case, contact(-1))


def test_duplicate_touchpoint_id_is_refused(case: Case) -> None:
    once = record_touchpoint(case, contact(1, id="t1"))
    with pytest.raises(TransitionError, match="'t1' is already recorded"):
        record_touchpoint(once, contact(2, id="t1"))


def test_closed_case_takes_survey_answers_but_not_contacts(case: Case) -> None:
    closed = close(case, at(5))
    with pytest.raises(TransitionError, match="closed"):
        record_touchpoint(closed, contact(6))
    survey = Touchpoint(
        at(30),
        Channel.EMAIL,
        TouchpointKind.SURVEY_ANSWER,
        survey=SurveyAnswer(SurveyMetric.CSAT, 4),
    )
    assert 1 == len(record_touchpoint(closed, survey).touchpoints)


def test_settle_promise_once(case: Case) -> None:
    promised = make_promise(case, Promise("p1", "call back", at(0), at(1)))
    kept = settle_promise(promised, "p1", PromiseStatus.KEPT, at(0.5))
    assert PromiseStatus.KEPT is kept.promises[0].status
    assert at(0.5) == kept.promises[0].settled_at
    with pytest.raises(TransitionError, match="already settled as kept"):
        settle_promise(kept, "p1", "broken", at(2))


@pytest.mark.parametrize(
    ("promise_id", "status", "hours", "message"),
    [
        ("nope", "kept", 1, "'nope' is not a promise of this case"),
        ("p1", "pending", 1, "settle a promise as kept, broken or withdrawn"),
        ("p1", "forgotten", 1, "'forgotten' is not one of kept, broken, withdrawn"),
        ("p1", "kept", -0.5, "before promise 'p1' was made"),
    ],
)
def test_settle_promise_refuses_impossible_moves(
    case: Case, promise_id: str, status: str, hours: float, message: str
) -> None:
    promised = make_promise(case, Promise("p1", "call back", at(0), at(1)))
    with pytest.raises(TransitionError, match=message):
        settle_promise(promised, promise_id, status, at(hours))


def test_make_promise_refuses_duplicates_and_early_promises(case: Case) -> None:
    promised = make_promise(case, Promise("p1", "x", at(0), at(1)))
    with pytest.raises(TransitionError, match="already a promise"):
        make_promise(promised, Promise("p1", "y", at(0), at(1)))
    with pytest.raises(TransitionError, match="before case"):
        make_promise(case, Promise("p2", "y", at(-1), at(1)))


def test_pause_and_resume(case: Case) -> None:
    paused = pause(case, "waiting_on_customer", at(1))
    assert 1 == len(paused.open_pauses())
    with pytest.raises(TransitionError, match="already paused"):
        pause(paused, "waiting_on_customer", at(2))
    resumed = resume(paused, "waiting_on_customer", at(3))
    assert () == resumed.open_pauses()
    assert at(3) == resumed.pauses[0].ended_at
    with pytest.raises(TransitionError, match="inside an earlier pause"):
        pause(resumed, "waiting_on_customer", at(2))
    with pytest.raises(TransitionError, match="not paused for 'waiting_on_customer'"):
        resume(resumed, "waiting_on_customer", at(4))


def test_resume_before_the_pause_started_is_refused(case: Case) -> None:
    paused = pause(case, "waiting_on_customer", at(2))
    with pytest.raises(TransitionError, match="before the pause"):
        resume(paused, "waiting_on_customer", at(1))


def test_close_ends_open_pauses_and_cannot_repeat(case: Case) -> None:
    closed = close(pause(case, "waiting_on_third_party", at(1)), at(4))
    assert CaseStatus.CLOSED is closed.status
    assert at(4) == closed.pauses[0].ended_at
    with pytest.raises(TransitionError, match="closed"):
        close(closed, at(5))


def test_resolve_then_close(case: Case) -> None:
    resolved = resolve(case, at(2))
    with pytest.raises(TransitionError, match="already resolved"):
        resolve(resolved, at(3))
    closed = close(resolved, at(3))
    assert at(2) == closed.resolved_at


def test_record_grant_and_assign(case: Case) -> None:
    grant = Grant("g1", CompensationForm.CREDIT, at(1), amount=Money("10", "EUR"))
    granted = record_grant(assign(case, "agent-7"), grant)
    assert "agent-7" == granted.owner
    assert (grant,) == granted.grants
    with pytest.raises(TransitionError, match="already recorded"):
        record_grant(granted, grant)


def test_naive_times_and_wrong_types_are_transition_errors(case: Case) -> None:
    with pytest.raises(TransitionError, match="naive"):
        pause(case, "waiting_on_customer", datetime(2026, 5, 12))
    with pytest.raises(TransitionError, match="not a datetime"):
        resolve(case, "tomorrow")  # type: ignore[arg-type]
    with pytest.raises(TransitionError, match="not a Touchpoint"):
        record_touchpoint(case, "hello")  # type: ignore[arg-type]
    with pytest.raises(TransitionError, match="reason"):
        pause(case, "Waiting On Customer", at(1))


@pytest.mark.slow
@given(cases())
def test_transitions_never_change_their_argument(case: Case) -> None:
    snapshot = hash(case)
    later = max([case.opened_at, *(tp.at for tp in case.touchpoints)]) + timedelta(days=1)
    try:
        record_touchpoint(case, Touchpoint(later, Channel.CHAT, TouchpointKind.CONTACT))
    except TransitionError:
        assert case.is_closed
    assert snapshot == hash(case)
