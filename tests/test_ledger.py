"""The desk and the ledger protocol, run against both stores."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cxrecovery as cx
from cxrecovery.ledger import (
    ApprovalError,
    ApprovalStatus,
    CaseRecord,
    Desk,
    EventKind,
    GrantRecord,
    Ledger,
    LedgerError,
    LimitExceededError,
    MemoryLedger,
    RequestConflictError,
    SQLiteLedger,
)
from ledger_workers import OPENED, T0, TOLERANCE, clock, make_case

ENGINE = cx.Engine(cx.default_policy())
FRONT = cx.Agent("a1", "front_line")
SUPERVISOR = cx.Agent("s1", "supervisor")


def eur(amount: str) -> cx.Money:
    return cx.Money(amount, "EUR")


def _stores(tmp: Path) -> dict[str, Callable[[], Ledger]]:
    return {
        "memory": lambda: MemoryLedger(clock=clock),
        "sqlite": lambda: SQLiteLedger(tmp / "ledger.db", clock=clock),
    }


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    store = _stores(tmp_path)[request.param]()
    yield store
    store.close()


@pytest.fixture
def desk(ledger: Ledger) -> Desk:
    return Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)


def counts(ledger: Ledger) -> tuple[int, ...]:
    with ledger.read() as view:
        return (
            len(view.grants()),
            len(view.events()),
            len(view.promises()),
            len(view.cases("c1")),
        )


# --- the protocol ---------------------------------------------------------------------------


def test_both_stores_implement_the_protocol(ledger: Ledger) -> None:
    assert isinstance(ledger, Ledger)


def test_a_grant_is_recorded_with_exact_money_and_utc_time(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    at = datetime.fromisoformat("2026-06-01T11:00:00.123456+02:00")
    desk.grant(case, eur("12.34"), "credit", at=at, agent=FRONT, request_id="r1")
    with desk.ledger.read() as view:
        found = view.grant("r1")
    assert found is not None
    assert eur("12.34") == found.amount
    assert at == found.at
    assert timedelta(0) == found.at.utcoffset()


def test_spent_and_goodwill_are_sums_over_a_half_open_window(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.grant(case, eur("10.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    desk.grant(
        make_case("case-2", "c1"),
        eur("5.00"),
        "credit",
        at=T0 + timedelta(hours=1),
        agent=FRONT,
        request_id="r2",
    )
    with desk.ledger.read() as view:
        assert eur("15.00") == view.spent(
            "a1", "EUR", after=T0 - timedelta(1), before=T0 + timedelta(1)
        )
        assert eur("5.00") == view.spent("a1", "EUR", after=T0, before=T0 + timedelta(1))
        assert eur("10.00") == view.goodwill("c1", "EUR", after=T0 - timedelta(1), before=T0)
        assert cx.Money.zero("USD") == view.goodwill("c1", "USD", after=OPENED, before=T0)


def test_a_failed_session_leaves_nothing(ledger: Ledger) -> None:
    before = counts(ledger)

    def fail_midway() -> None:
        with ledger.write() as session:
            session.add_case(CaseRecord("case-9", "c1", T0, "late", cx.Severity.LOW))
            session.add_event(
                EventKind.CASE_OPENED, "case-9", at=T0, ref="case-9", body=cx.Attributes()
            )
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        fail_midway()
    assert before == counts(ledger)


def test_history_lists_every_change_in_order(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.decide(case, at=T0, agent=FRONT)
    desk.grant(case, eur("10.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    promise = cx.Promise("p1", "call back", T0, T0 + timedelta(hours=2))
    desk.make_promise(case, promise)
    desk.settle_promise(case, "p1", "broken", at=T0 + timedelta(hours=3))
    kinds = [e.kind for e in desk.history("case-1")]
    assert [
        EventKind.CASE_OPENED,
        EventKind.PLAN_DECIDED,
        EventKind.GRANT_RECORDED,
        EventKind.PROMISE_MADE,
        EventKind.PROMISE_SETTLED,
    ] == kinds
    seqs = [e.seq for e in desk.history("case-1")]
    assert sorted(seqs) == seqs


# --- decide -----------------------------------------------------------------------------


def test_decide_feeds_the_ledgers_goodwill_and_records_the_plan(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.grant(
        make_case("case-0", "c1"), eur("30.00"), "credit", at=T0, agent=FRONT, request_id="r0"
    )
    plan = desk.decide(case, at=T0 + timedelta(hours=1), agent=FRONT)
    assert "30.00" == plan.facts["recent_goodwill"]
    with desk.ledger.read() as view:
        (recorded,) = view.plans("case-1")
    assert plan.policy_fingerprint == recorded.policy_fingerprint


def test_decide_sees_earlier_cases_as_prior_failures(desk: Desk) -> None:
    desk.decide(make_case("case-0", "c1"), at=T0, agent=FRONT)
    later = cx.Case(
        "case-1",
        cx.Customer("c1"),
        make_case("x", "c1").failure,
        T0 + timedelta(days=2),
    )
    plan = desk.decide(later, at=T0 + timedelta(days=2), agent=FRONT)
    assert 1 == plan.facts["prior_failures"]


def test_current_merges_the_ledgers_grants_and_settlements(desk: Desk) -> None:
    promise = cx.Promise("p1", "call back", T0, T0 + timedelta(hours=2))
    case = cx.Case(
        "case-1", cx.Customer("c1"), make_case("x", "c1").failure, OPENED, promises=(promise,)
    )
    desk.grant(case, eur("10.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    desk.settle_promise(case, "p1", "kept", at=T0 + timedelta(hours=1))
    current = desk.current(case)
    assert ["r1"] == [g.id for g in current.grants]
    assert cx.PromiseStatus.KEPT == current.promises[0].status


# --- grant --------------------------------------------------------------------------------


def test_a_retried_request_is_recorded_once(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    first = desk.grant(case, eur("10.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    again = desk.grant(
        case, eur("10.00"), "credit", at=T0 + timedelta(seconds=5), agent=FRONT, request_id="r1"
    )
    assert first == again
    assert 1 == counts(desk.ledger)[0]


def test_a_reused_request_id_for_another_grant_is_a_conflict(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.grant(case, eur("10.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    before = counts(desk.ledger)
    with pytest.raises(RequestConflictError, match="request_id: 'r1' already granted"):
        desk.grant(case, eur("11.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    assert before == counts(desk.ledger)


def test_a_grant_over_the_period_budget_names_the_limit_and_the_room(desk: Desk) -> None:
    for i in range(5):
        desk.grant(
            make_case(f"case-{i}", f"c{i}"),
            eur("48.00"),
            "credit",
            at=T0,
            agent=FRONT,
            request_id=f"r{i}",
        )
    before = counts(desk.ledger)
    with pytest.raises(LimitExceededError) as caught:
        desk.grant(
            make_case("case-9", "c9"), eur("20.00"), "credit", at=T0, agent=FRONT, request_id="r9"
        )
    assert "roles[front_line].max_per_period" in str(caught.value)
    assert {"roles[front_line].max_per_period": eur("10.00")} == caught.value.room
    assert "10.00 EUR was left" in str(caught.value)
    assert before == counts(desk.ledger)


def test_a_grant_over_the_customers_window_is_refused(desk: Desk) -> None:
    desk.grant(
        make_case("case-1", "c1"), eur("50.00"), "credit", at=T0, agent=FRONT, request_id="r1"
    )
    other = cx.Agent("a2", "front_line")
    desk.grant(
        make_case("case-2", "c1"), eur("45.00"), "credit", at=T0, agent=other, request_id="r2"
    )
    with pytest.raises(LimitExceededError) as caught:
        desk.grant(
            make_case("case-3", "c1"), eur("6.00"), "credit", at=T0, agent=other, request_id="r3"
        )
    assert {"roles[front_line].max_per_customer": eur("5.00")} == caught.value.room


def test_a_later_grant_counts_against_an_earlier_one_in_the_same_window(desk: Desk) -> None:
    desk.grant(
        make_case("case-1", "c1"), eur("50.00"), "credit", at=T0, agent=FRONT, request_id="r1"
    )
    desk.grant(
        make_case("case-2", "c1"), eur("50.00"), "credit", at=T0, agent=FRONT, request_id="r2"
    )
    with pytest.raises(LimitExceededError, match="max_per_customer"):
        desk.grant(
            make_case("case-3", "c1"),
            eur("1.00"),
            "credit",
            at=T0 - timedelta(hours=1),
            agent=FRONT,
            request_id="r3",
        )


def test_the_case_limit_counts_grants_the_document_does_not_carry(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.grant(case, eur("40.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    with pytest.raises(LimitExceededError, match=r"max_per_case|max_ratio"):
        desk.grant(
            case,
            eur("20.00"),
            "credit",
            at=T0,
            agent=cx.Agent("a2", "front_line"),
            request_id="r2",
        )


def test_a_grant_can_take_the_plans_compensate_action(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    plan = desk.decide(case, at=T0, agent=SUPERVISOR)
    action = plan.action("compensate")
    assert action is not None
    assert action.amount is not None
    record = desk.grant(case, action, at=T0, agent=SUPERVISOR, request_id="r1")
    assert action.amount == record.amount


# --- approvals ---------------------------------------------------------------------------


def _asked(desk: Desk) -> cx.Case:
    case = make_case("case-1", "c1")
    desk.request_approval(case, eur("80.00"), "credit", at=T0, agent=FRONT, approval_id="ap1")
    return case


def test_a_backdated_grant_counts_the_grants_dated_after_it(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.grant(case, eur("40.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    with pytest.raises(LimitExceededError, match="max_per_case") as caught:
        desk.grant(
            case,
            eur("40.00"),
            "credit",
            at=T0 - timedelta(hours=1),
            agent=FRONT,
            request_id="r2",
        )
    assert eur("10.00") == caught.value.room["roles[front_line].max_per_case"]
    with desk.ledger.read() as view:
        assert ["r1"] == [g.request_id for g in view.grants(case_id="case-1")]


def test_backdated_manager_grants_cannot_pass_the_hard_cap(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    manager = cx.Agent("m1", "manager")
    accepted = []
    for k in range(3):
        try:
            desk.grant(
                case,
                eur("120.00"),
                "credit",
                at=T0 - timedelta(hours=k),
                agent=manager,
                request_id=f"r{k}",
            )
        except LimitExceededError:
            continue
        accepted.append(k)
    assert [0] == accepted
    with desk.ledger.read() as view:
        total = cx.Money.sum((g.amount for g in view.grants(case_id="case-1")), "EUR")
    assert total <= eur("150.00")


@pytest.mark.parametrize("offset", [timedelta(minutes=6), -timedelta(minutes=6)])
def test_a_grant_far_from_the_stores_clock_is_refused(ledger: Ledger, offset: timedelta) -> None:
    desk = Desk(ENGINE, ledger, clock_tolerance=timedelta(minutes=5))
    case = make_case("case-1", "c1")
    side = "ahead of" if offset > timedelta(0) else "behind"
    with pytest.raises(LedgerError, match=f"{side} the ledger's clock"):
        desk.grant(case, eur("5.00"), "credit", at=T0 + offset, agent=FRONT, request_id="r1")
    assert (0, 0, 0, 0) == counts(ledger)
    within = T0 + offset * 5 / 6
    record = desk.grant(case, eur("5.00"), "credit", at=within, agent=FRONT, request_id="r1")
    assert within == record.at


def test_a_retried_approval_request_returns_the_original_after_its_grant(desk: Desk) -> None:
    case = _asked(desk)
    desk.approve("ap1", at=T0, approver=SUPERVISOR)
    desk.grant(case, eur("80.00"), "credit", at=T0, agent=FRONT, request_id="r1", approval="ap1")
    again = desk.request_approval(
        case, eur("80.00"), "credit", at=T0, agent=FRONT, approval_id="ap1"
    )
    assert ApprovalStatus.GRANTED == again.status
    assert eur("80.00") == again.amount
    with pytest.raises(RequestConflictError):
        desk.request_approval(case, eur("70.00"), "credit", at=T0, agent=FRONT, approval_id="ap1")


def test_an_approved_grant_over_the_agents_limits_is_recorded(desk: Desk) -> None:
    case = _asked(desk)
    decided = desk.approve("ap1", at=T0, approver=SUPERVISOR)
    assert ApprovalStatus.GRANTED == decided.status
    record = desk.grant(
        case, eur("80.00"), "credit", at=T0, agent=FRONT, request_id="r1", approval="ap1"
    )
    assert "ap1" == record.approval_id
    with desk.ledger.read() as view:
        assert cx.Money.zero("EUR") == view.spent("a1", "EUR", after=OPENED, before=T0)


def test_an_approval_is_used_once(desk: Desk) -> None:
    case = _asked(desk)
    desk.approve("ap1", at=T0, approver=SUPERVISOR)
    desk.grant(case, eur("80.00"), "credit", at=T0, agent=FRONT, request_id="r1", approval="ap1")
    with pytest.raises(ApprovalError, match="already used by grant 'r1'"):
        desk.grant(
            case, eur("80.00"), "credit", at=T0, agent=FRONT, request_id="r2", approval="ap1"
        )


def test_a_pending_or_refused_approval_does_not_cover_a_grant(desk: Desk) -> None:
    case = _asked(desk)
    with pytest.raises(ApprovalError, match="waiting for a decision"):
        desk.grant(
            case, eur("80.00"), "credit", at=T0, agent=FRONT, request_id="r1", approval="ap1"
        )
    desk.approve("ap1", at=T0, approver=SUPERVISOR, granted=False)
    with pytest.raises(ApprovalError, match="refused by 's1'"):
        desk.grant(
            case, eur("80.00"), "credit", at=T0, agent=FRONT, request_id="r1", approval="ap1"
        )


def test_nobody_approves_their_own_request_or_above_their_rank(desk: Desk) -> None:
    _asked(desk)
    with pytest.raises(ApprovalError, match="own request"):
        desk.approve("ap1", at=T0, approver=FRONT)
    with pytest.raises(ApprovalError, match="needs a supervisor or above"):
        desk.approve("ap1", at=T0, approver=cx.Agent("a2", "front_line"))


def test_an_approval_must_fit_the_grant(desk: Desk) -> None:
    case = _asked(desk)
    desk.approve("ap1", at=T0, approver=SUPERVISOR)
    with pytest.raises(ApprovalError, match=r"not by 'a1' for 90\.00 EUR"):
        desk.grant(
            case, eur("90.00"), "credit", at=T0, agent=FRONT, request_id="r1", approval="ap1"
        )


# --- promises -----------------------------------------------------------------------------


def test_settling_twice_the_same_way_is_a_retry_and_another_way_an_error(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.make_promise(case, cx.Promise("p1", "call back", T0, T0 + timedelta(hours=2)))
    first = desk.settle_promise(case, "p1", "kept", at=T0 + timedelta(hours=1))
    assert first == desk.settle_promise(case, "p1", "kept", at=T0 + timedelta(hours=1))
    with pytest.raises(LedgerError, match="already settled as kept"):
        desk.settle_promise(case, "p1", "broken", at=T0 + timedelta(hours=3))


def test_open_and_broken_promises_of_a_customer(desk: Desk) -> None:
    case = make_case("case-1", "c1")
    desk.make_promise(case, cx.Promise("p1", "call back", T0, T0 + timedelta(hours=2)))
    desk.make_promise(case, cx.Promise("p2", "refund", T0, T0 + timedelta(days=5)))
    with desk.ledger.read() as view:
        promises = view.promises(customer_id="c1")
    at = T0 + timedelta(hours=3)
    assert ["p1", "p2"] == [p.promise_id for p in promises if p.is_open]
    assert ["p1"] == [p.promise_id for p in promises if p.is_broken(at)]


def test_settling_an_unknown_promise_is_an_error(desk: Desk) -> None:
    with pytest.raises(LedgerError, match="promise_id: 'nope' is not a promise"):
        desk.settle_promise(make_case("case-1", "c1"), "nope", "kept", at=T0)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "path", "error"),
    [
        (
            lambda d: d.grant(
                make_case("k", "c1"),
                cx.Money("5.00", "USD"),
                "credit",
                at=T0,
                agent=FRONT,
                request_id="r",
            ),
            "amount",
            cx.InvalidValueError,
        ),
        (
            lambda d: d.grant(
                make_case("k", "c1", currency="SEK"),
                cx.Money("5.00", "SEK"),
                "credit",
                at=T0,
                agent=FRONT,
                request_id="r",
            ),
            "roles[front_line].max_per_case",
            LimitExceededError,
        ),
        (
            lambda d: d.grant(
                make_case("k", "c1"),
                eur("5.00"),
                "credit",
                at=T0.replace(tzinfo=None),
                agent=FRONT,
                request_id="r",
            ),
            "at",
            cx.InvalidValueError,
        ),
        (
            lambda d: d.grant(
                make_case("k", "c1"),
                eur("5.00"),
                "credit",
                at=T0,
                agent=cx.Agent("z", "janitor"),
                request_id="r",
            ),
            "agent.role",
            cx.InvalidValueError,
        ),
        (
            lambda d: d.grant(
                make_case("k", "c1"), eur("5.00"), "gold", at=T0, agent=FRONT, request_id="r"
            ),
            "form",
            cx.InvalidValueError,
        ),
        (
            lambda d: d.grant(
                make_case("k", "c1"), eur("5.00"), "credit", at=T0, agent=FRONT, request_id=" "
            ),
            "request_id",
            cx.InvalidValueError,
        ),
        (
            lambda d: d.grant(
                make_case("k", "c1"),
                eur("5.00"),
                "credit",
                at=OPENED - timedelta(1),
                agent=FRONT,
                request_id="r",
            ),
            "at",
            cx.InvalidValueError,
        ),
        (lambda d: d.approve("nope", at=T0, approver=SUPERVISOR), "approval_id", ApprovalError),
        (
            lambda d: d.decide(make_case("k", "c1"), at=T0.replace(tzinfo=None)),
            "at",
            cx.InvalidValueError,
        ),
        # Found by fuzzing: year 1 reached the goodwill window's arithmetic first and
        # raised OverflowError.
        (
            lambda d: d.decide(make_case("k", "c1"), at=datetime(1, 1, 1, tzinfo=UTC)),
            "at",
            cx.InvalidValueError,
        ),
    ],
)
def test_bad_input_is_a_clear_error_and_writes_nothing(
    desk: Desk, call: Callable[[Desk], object], path: str, error: type[Exception]
) -> None:
    desk.grant(
        make_case("case-0", "c1"), eur("1.00"), "credit", at=T0, agent=FRONT, request_id="r0"
    )
    before = counts(desk.ledger)
    with pytest.raises(error) as caught:
        call(desk)
    assert isinstance(caught.value, cx.CxRecoveryError)
    assert path in [p.path for p in caught.value.problems]  # type: ignore[attr-defined]
    assert before == counts(desk.ledger)


def test_an_agent_off_the_roster_is_refused(ledger: Ledger) -> None:
    desk = Desk(ENGINE, ledger, agents=[FRONT], clock_tolerance=TOLERANCE)
    with pytest.raises(cx.InvalidValueError, match=r"agent\.id: 'a2' is not on the desk's roster"):
        desk.grant(
            make_case("k", "c1"),
            eur("1.00"),
            "credit",
            at=T0,
            agent=cx.Agent("a2", "front_line"),
            request_id="r",
        )
    with pytest.raises(
        cx.InvalidValueError, match=r"agent\.role: 'a1' holds the role 'front_line'"
    ):
        desk.grant(
            make_case("k", "c1"),
            eur("1.00"),
            "credit",
            at=T0,
            agent=cx.Agent("a1", "manager"),
            request_id="r",
        )
    assert (0, 0, 0, 0) == counts(ledger)


def test_a_case_id_cannot_change_customer(desk: Desk) -> None:
    desk.grant(make_case("k", "c1"), eur("1.00"), "credit", at=T0, agent=FRONT, request_id="r1")
    with pytest.raises(RequestConflictError, match="recorded for customer 'c1'"):
        desk.grant(
            make_case("k", "c2"), eur("1.00"), "credit", at=T0, agent=FRONT, request_id="r2"
        )


# --- the property -------------------------------------------------------------------------

_calls = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from(["10.00", "30.00", "45.00"]), st.integers(0, 1)),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@given(calls=_calls)
def test_a_retried_request_id_never_double_grants(
    store: str, calls: list[tuple[int, str, int]]
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = _stores(Path(tmp))[store]()
        desk = Desk(ENGINE, ledger, clock_tolerance=TOLERANCE)
        accepted: dict[str, GrantRecord] = {}
        for n, amount, who in calls:
            rid = f"r{n}"
            case = make_case(f"case-{n % 2}", "c1")
            agent = cx.Agent(f"a{who}", "front_line")
            try:
                record = desk.grant(
                    case, eur(amount), "credit", at=T0, agent=agent, request_id=rid
                )
            except (LimitExceededError, RequestConflictError) as error:
                if isinstance(error, RequestConflictError):
                    assert rid in accepted
                continue
            if rid in accepted:
                assert accepted[rid] == record
            accepted[rid] = record
        with ledger.read() as view:
            rows = {g.request_id: g for g in view.grants()}
            goodwill = view.goodwill("c1", "EUR", after=OPENED, before=T0)
            recorded = [e.ref for e in view.events() if e.kind is EventKind.GRANT_RECORDED]
        ledger.close()
    assert accepted == rows
    assert sorted(accepted) == sorted(recorded)
    assert cx.Money.sum((r.amount for r in accepted.values()), "EUR") == goodwill
