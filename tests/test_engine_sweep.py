"""sweep: only what is due, most urgent first, skipping cases with nothing due."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import attrs
import pytest

from cxrecovery.engine import Engine
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import (
    Case,
    CaseStatus,
    Channel,
    Customer,
    Failure,
    Fault,
    Promise,
    Severity,
)
from cxrecovery.money import Money
from cxrecovery.plan import RecoveryPlan
from cxrecovery.policy import default_policy, load_policy
from cxrecovery.replay import DueItem, DueKind, sweep, synthetic_cases

ENGINE = Engine(default_policy())
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OPEN = [c for c in synthetic_cases(300, seed=12) if c.status is CaseStatus.OPEN]


def test_items_are_in_urgency_order_then_due_time() -> None:
    items = sweep(ENGINE, OPEN, AT).items
    assert items
    keys = [(i.kind.urgency, i.due, i.case_id) for i in items]
    assert sorted(keys) == keys


def test_items_are_the_due_items_their_fields_make() -> None:
    # The sweep sets an item's four fields itself: it is the value DueItem(...) makes.
    items = sweep(ENGINE, OPEN, AT, horizon=timedelta(days=3)).items
    assert {i.kind for i in items} >= {DueKind.BREACH, DueKind.ESCALATION, DueKind.CUSTOMER_UPDATE}
    for item in items:
        made = DueItem(item.case_id, item.kind, item.due, item.summary)
        assert type(item) is DueItem
        assert (item, hash(item), repr(item)) == (made, hash(made), repr(made))
        assert pickle.loads(pickle.dumps(item)) == made
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            item.summary = "changed"  # type: ignore[misc]


def test_only_due_items_are_returned() -> None:
    result = sweep(ENGINE, OPEN, AT)
    # What was known at AT: cases opened by then, as they were then.
    by_id = {c.id: c.as_of(AT) for c in OPEN if c.opened_at <= AT}
    assert {i.case_id for i in result.items} <= by_id.keys()
    for item in result.items:
        if item.kind in (DueKind.CUSTOMER_UPDATE, DueKind.FOLLOW_UP, DueKind.WARNING):
            assert item.due <= AT
        if item.kind is DueKind.PROMISE_BROKEN:
            assert any(
                p.is_pending and p.due == item.due < AT for p in by_id[item.case_id].promises
            )
        if item.kind is DueKind.PROMISE_DUE:
            assert AT <= item.due <= AT + timedelta(hours=4)
    plans = {c.id: ENGINE.decide(c, at=AT) for c in by_id.values()}
    escalated = {i.case_id for i in result.items if i.kind is DueKind.ESCALATION}
    assert {k for k, p in plans.items() if p.escalation_level > 0} == escalated


def test_closed_cases_are_left_out() -> None:
    closed = [c for c in synthetic_cases(100, seed=12) if c.status is CaseStatus.CLOSED]
    assert 0 == sweep(ENGINE, closed, AT).decided


def test_next_reviews_skip_cases_with_nothing_due_yet() -> None:
    first = sweep(ENGINE, OPEN, AT)
    opened = [c for c in OPEN if c.opened_at <= AT]  # a case not open yet is not decided
    assert len(opened) == first.decided < len(OPEN)
    again = sweep(ENGINE, OPEN, AT, next_reviews=first.next_reviews)
    later_or_never = [r for r in first.next_reviews.values() if r is None or r > AT]
    assert len(later_or_never) == again.skipped
    assert len(opened) - again.skipped == again.decided
    assert again.skipped > 0


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="at"):
        sweep(ENGINE, OPEN, datetime(2025, 3, 1))


@pytest.mark.parametrize("engine_sweep", [True, False])
def test_a_time_outside_the_years_handled_is_refused_when_a_case_is_decided(
    engine_sweep: bool,
) -> None:
    """As each decision refuses it (the engine's sweep checks it once for them all): a
    sweep that decides no case refuses nothing."""
    late = datetime(2300, 1, 1, tzinfo=UTC)
    run = ENGINE.sweep if engine_sweep else (lambda *a, **k: sweep(ENGINE, *a, **k))
    with pytest.raises(InvalidValueError, match="outside the instants") as raised:
        run(OPEN, late)
    assert raised.value.problems[0].path == "at"
    reviews = {c.id: None for c in OPEN}
    skipped = run(OPEN, late, next_reviews=reviews)
    assert (skipped.decided, skipped.items) == (0, ())


class _Explained:
    """A decider whose plans are explained when made (``explain=True``), their clock
    states shown (each state's due time and warnings read)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def decide(self, case: Case, *, at: datetime) -> RecoveryPlan:
        plan = self.engine.decide(case, at=at, explain=True)
        for clock in plan.clocks:
            assert clock.warnings is not None
        return plan


_NEW_YORK_ALL_DAY = {"time_zone": "America/New_York", "hours": {"mon-sun": ["00:00-24:00"]}}
# The default policy on New York's calendars, and cases opened on the night its clocks
# go back (2026-11-01, 01:00-02:00 twice): warnings on both sides of the fold.
FOLD_ENGINE = Engine(
    load_policy(
        {
            "policy": {"name": "new-york", "version": "1", "extends": "default"},
            "calendars": {"support": _NEW_YORK_ALL_DAY, "always": _NEW_YORK_ALL_DAY},
        }
    )
)
FOLD_NIGHT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("engine", "start", "zone"),
    [
        (ENGINE, None, UTC),
        (FOLD_ENGINE, FOLD_NIGHT, UTC),
        (FOLD_ENGINE, FOLD_NIGHT, ZoneInfo("America/New_York")),
    ],
)
def test_fired_warnings_are_listed_as_the_clock_states_show_them(
    engine: Engine, start: datetime | None, zone: tzinfo
) -> None:
    # A running clock's warnings read from the decision's instants (the state's shown
    # times waiting) are those the state shows: the last fired one of several, its
    # time in the calendar's zone; in a fold too, where ``at`` in the calendar's own
    # zone compares by wall clock (the state's warnings are read then).
    explained = _Explained(engine)
    hours = timedelta(hours=8)
    warnings = 0
    stream = (
        synthetic_cases(200, seed=5)
        if start is None
        else synthetic_cases(60, seed=5, start=start, span=timedelta(hours=6))
    )
    for case in stream:
        for after in (3, 8, 13, 20, 30):
            at = (case.opened_at + timedelta(hours=after)).astimezone(zone)
            swept = engine.sweep([case], at, horizon=hours)
            assert swept == sweep(explained, [case], at, horizon=hours)
            warnings += sum(1 for i in swept.items if i.kind is DueKind.WARNING)
    assert warnings >= 5


@pytest.mark.parametrize(
    ("severity", "promised"),
    [
        (Severity.MEDIUM, False),
        (Severity.HIGH, False),
        (Severity.CRITICAL, False),
        (Severity.HIGH, True),
    ],
)
def test_warnings_and_updates_in_a_fold_are_listed_as_their_shown_times_compare(
    severity: Severity, promised: bool
) -> None:
    # Cases opened around New York's fold, swept every few minutes with ``at`` in New
    # York's zone: a warning's time (or an update's due time: a case with a promise
    # pending gets an update due when a clock is) and ``at`` in one zone compare by
    # wall clock, which in the repeated hour is not their instants' order; the shown
    # times are compared then, not the decision's instants.
    failure = Failure(
        "late_delivery",
        severity,
        Fault.COMPANY,
        value_at_stake=Money("80", "USD"),
        service_usable=True,
    )
    explained = _Explained(FOLD_ENGINE)
    listed = 0
    for opened_after in range(0, 180, 20):
        opened = datetime(2026, 11, 1, 3, 0, tzinfo=UTC) + timedelta(minutes=opened_after)
        promises = (Promise("p-1", "call back", opened, opened + timedelta(days=2)),)
        case = Case(
            f"f-{opened_after}",
            Customer("u-1"),
            failure,
            opened,
            channel=Channel.EMAIL if promised else Channel.CHAT,
            promises=promises if promised else (),
        )
        for after in range(0, 240, 10):
            at = (opened + timedelta(minutes=after)).astimezone(ZoneInfo("America/New_York"))
            for horizon in (timedelta(0), timedelta(minutes=30)):
                swept = FOLD_ENGINE.sweep([case], at, horizon=horizon)
                assert swept == sweep(explained, [case], at, horizon=horizon)
                listed += sum(1 for i in swept.items if i.kind in LISTED_IN_A_FOLD)
    assert listed > 20


LISTED_IN_A_FOLD = {DueKind.WARNING, DueKind.CUSTOMER_UPDATE}


def _as_documented(engine: Engine, case: Case, at: datetime, until: datetime) -> list[DueItem]:
    """The warnings and updates a sweep lists for ``case`` (no events), as sweep()
    words the rule, each time compared with ``at`` or the horizon as datetimes compare:
    a running clock's last warning fired, an update due by the horizon."""
    plan = engine.decide(case, at=at, explain=True)
    found = []
    for clock in plan.clocks:
        fired = [w for w in clock.warnings if w.at <= at]
        if clock.status.value == "running" and fired:
            what = f"{clock.name} clock at {fired[-1].name}"
            found.append(DueItem(case.id, DueKind.WARNING, fired[-1].at, what))
    for action in plan.actions_of("notify"):
        if action.due is not None and action.due <= until:
            found.append(DueItem(case.id, DueKind.CUSTOMER_UPDATE, action.due, action.summary))
    return found


def test_warnings_and_updates_are_compared_with_the_sweeps_time_as_datetimes_compare() -> None:
    # Around New York's fold, ``at`` in New York's zone: a warning's time, or an
    # update's due time, shown in that zone compares with ``at`` by wall clock (not
    # as the instants): the sweep lists what the rule, written plainly, lists.
    failure = Failure(
        "late_delivery",
        Severity.HIGH,
        Fault.COMPANY,
        value_at_stake=Money("80", "USD"),
        service_usable=True,
    )
    zone = ZoneInfo("America/New_York")
    listed = 0
    for opened_after in range(0, 180, 20):
        opened = datetime(2026, 11, 1, 3, 0, tzinfo=UTC) + timedelta(minutes=opened_after)
        promises = (Promise("p-1", "call back", opened, opened + timedelta(days=2)),)
        for channel, made in ((Channel.CHAT, ()), (Channel.EMAIL, promises)):
            case = Case(f"f-{opened_after}", Customer("u-1"), failure, opened, channel=channel)
            case = attrs.evolve(case, promises=made)
            for after in range(0, 240, 10):
                at = (opened + timedelta(minutes=after)).astimezone(zone)
                horizon = timedelta(minutes=30)
                kinds = {DueKind.WARNING, DueKind.CUSTOMER_UPDATE}
                swept = FOLD_ENGINE.sweep([case], at, horizon=horizon)
                items = [i for i in swept.items if i.kind in kinds]
                expected = _as_documented(FOLD_ENGINE, case, at, at + horizon)
                assert sorted(items, key=repr) == sorted(expected, key=repr)
                listed += len(items)
    assert listed > 20


@pytest.mark.parametrize("name", ["horizon", "promise_horizon"])
def test_a_horizon_past_the_last_datetime_is_refused_naming_it(name: str) -> None:
    with pytest.raises(InvalidValueError, match=name):
        ENGINE.sweep([], AT, **{name: timedelta.max})  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match=name):
        ENGINE.sweep(OPEN[:3], AT, **{name: timedelta.max})  # type: ignore[arg-type]
