"""Hypothesis strategies that draw valid cxrecovery values.

Every strategy draws values that construct without error, so a host's property test can
assume validity and test its own logic. Bounds are keyword-only.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.engine import Engine
from cxrecovery.model import (
    Case,
    CaseEvent,
    CaseEventKind,
    CaseStatus,
    Grant,
    Pause,
    PriorCase,
)
from cxrecovery.policy import Policy, default_policy, load_policy
from cxrecovery.tables import FactKind
from cxrecovery.testing._values import (
    _WINDOW,
    _forms,
    _ids,
    _maybe_channels,
    _maybe_ids,
    _maybe_money,
    _maybe_slugs,
    _offsets,
    _promise,
    _promise_rest,
    _seconds_in_a_day,
    _severities,
    _slugs,
    _some_money,
    _touchpoint,
    _touchpoint_rest,
    aware_datetimes,
    currencies,
    customers,
    failures,
    money,
    promises,
    touchpoints,
)

__all__ = [
    "aware_datetimes",
    "business_calendars",
    "cases",
    "currencies",
    "customers",
    "failures",
    "money",
    "policies",
    "promises",
    "touchpoints",
]


# A case's events are drawn as offsets from its opening, so the strategies stay fixed
# while the opening varies: (offset, zone) pairs applied in _cases.
_event_times = st.tuples(st.integers(0, int(_WINDOW.total_seconds())), _offsets)
_case_touchpoints = st.tuples(_event_times, *_touchpoint_rest)
_case_promises = st.tuples(_event_times, *_promise_rest)
_case_grants = st.tuples(_event_times, _ids, _forms, _maybe_money, _maybe_ids, _maybe_slugs)
_case_priors = st.tuples(
    st.integers(0, 5 * 365 * 86400),  # how long before the opening
    _offsets,
    _ids,
    _slugs,
    _severities,
    st.booleans(),
    st.booleans(),
    _maybe_money,
)


# Events of a case's history other than status changes: (time, kind, by, level, role,
# acknowledged by, acknowledged after) and owner changes: (time, owner, role).
_ROLES = ("front_line", "supervisor", "manager", "duty_manager")
_DONE_KINDS = (
    CaseEventKind.ESCALATED,
    CaseEventKind.APOLOGIZED,
    CaseEventKind.REMEDIED,
    CaseEventKind.COMPENSATED,
    CaseEventKind.FOLLOWED_UP,
    CaseEventKind.RECOGNISED,
)
_case_events = st.tuples(
    _event_times,
    st.sampled_from(_DONE_KINDS),
    _maybe_ids,
    st.integers(1, 3),
    st.none() | st.sampled_from(_ROLES),
    _maybe_ids,
    st.integers(0, 86400),
)
_case_owners = st.tuples(_event_times, _ids, st.none() | st.sampled_from(_ROLES))
_event_lists = st.lists(_case_events, max_size=3)
_owner_lists = st.lists(_case_owners, max_size=2)


def _done_event(
    opened: datetime,
    when: tuple[int, timezone],
    kind: CaseEventKind,
    by: str | None,
    level: int,
    role: str | None,
    acknowledged_by: str | None,
    acknowledged_after: int,
) -> CaseEvent:
    at = _at(opened, when)
    if kind is CaseEventKind.ESCALATED:
        return CaseEvent(
            kind,
            at,
            by=by,
            level=level,
            role=role,
            acknowledged_by=acknowledged_by,
            acknowledged_at=None
            if acknowledged_by is None
            else at + timedelta(seconds=acknowledged_after),
        )
    subject = (by or "staff-1") if kind is CaseEventKind.RECOGNISED else None
    return CaseEvent(kind, at, by=by, subject=subject)


def _history(
    draw: st.DrawFn,
    opened: datetime,
    status: CaseStatus,
    resolved: datetime | None,
    closed: datetime | None,
    end_at: datetime,
) -> tuple[tuple[CaseEvent, ...], str | None, bool]:
    """A drawn history: events in time order, the owner they leave (if they name
    one), and whether they name one."""
    chain: list[CaseEvent] = []
    if draw(st.booleans()):  # the status history written out, perhaps with a reopening
        if draw(st.booleans()):
            span = int((end_at - opened).total_seconds()) if status is not CaseStatus.OPEN else 0
            span = span or int(_WINDOW.total_seconds())
            first = opened + timedelta(seconds=draw(st.integers(0, span)))
            again = first + timedelta(seconds=draw(st.integers(0, span)))
            if status is not CaseStatus.OPEN:
                first, again = min(first, end_at), min(again, end_at)
            chain += [
                CaseEvent(CaseEventKind.RESOLVED, first),
                CaseEvent(CaseEventKind.REOPENED, again),
            ]
        if resolved is not None and status is not CaseStatus.OPEN:
            chain.append(CaseEvent(CaseEventKind.RESOLVED, resolved, by=draw(_maybe_ids)))
        if closed is not None and status is CaseStatus.CLOSED:
            chain.append(CaseEvent(CaseEventKind.CLOSED, closed, by=draw(_maybe_ids)))
    others = [_done_event(opened, *drawn) for drawn in draw(_event_lists)]
    owners = [
        CaseEvent(CaseEventKind.ASSIGNED, _at(opened, when), owner=owner, role=role)
        for when, owner, role in draw(_owner_lists)
    ]
    events = sorted([*chain, *owners, *others], key=lambda e: e.at)  # stable: chains keep order
    last = [e.owner for e in events if e.kind is CaseEventKind.ASSIGNED]
    return tuple(events), (last[-1] if last else None), bool(last)


def _at(opened: datetime, when: tuple[int, timezone]) -> datetime:
    seconds, tz = when
    return (opened + timedelta(seconds=seconds)).astimezone(tz)


def cases(*, max_size: int = 6, policy: Policy | None = None) -> st.SearchStrategy[Case]:
    """Draw a consistent case: events in order, after the case opened, ids unique.

    A case's history is drawn too: status changes (sometimes a resolution and a
    reopening before the status it ends in), owner changes with their roles,
    escalations taken (sometimes acknowledged) and plan actions done.

    Args:
        max_size: the most touchpoints and promises a case holds.
        policy: draw cases that exercise this policy's tables: every category a table
            names is drawn as often as a random one, the value at stake is always known,
            and earlier cases make repeats and double deviations common. The policy is
            read once, when the strategy is made, not at every draw.

    Raises:
        hypothesis.errors.InvalidArgument: ``max_size`` is negative or ``policy`` is not a
            :class:`~cxrecovery.policy.Policy`.

    .. versionchanged:: 0.1.0 the ``policy`` keyword.
    .. versionchanged:: 0.2.0 cases carry a history of events.
    """

    def build() -> st.SearchStrategy[Case]:
        # Deferred, as hypothesis's own strategies do: bad arguments raise at the first
        # draw, and the policy's tables are read once for every draw after it.
        if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 0:
            raise InvalidArgument(f"max_size={max_size!r} must be a whole number, 0 or more")
        if policy is None:
            return _cases(max_size)
        if not isinstance(policy, Policy):
            raise InvalidArgument(f"policy={policy!r} is not a Policy")
        return _policy_cases(max_size, tuple(_literals(policy, "category")))

    return st.deferred(build)


def _policy_cases(max_size: int, categories: tuple[str, ...]) -> st.SearchStrategy[Case]:
    base = _cases(max_size)
    named = st.sampled_from(categories) if categories else None

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        case = draw(base)
        failure = case.failure
        if named is not None and draw(st.booleans()):
            failure = attrs.evolve(failure, category=draw(named))
        if failure.value_at_stake is None or not failure.value_at_stake:
            failure = attrs.evolve(failure, value_at_stake=draw(_some_money))
        priors = case.prior_cases
        if draw(st.booleans()):
            prior = PriorCase(
                id="prior-1",
                opened_at=case.opened_at - timedelta(days=draw(st.integers(1, 300))),
                category=failure.category,
                severity=draw(_severities),
                recovered=draw(st.booleans()),
                double_deviation=draw(st.booleans()),
            )
            priors = (prior,)
        return attrs.evolve(case, failure=failure, prior_cases=priors)

    return draw_case()


def _literals(policy: Policy, fact: str) -> list[str]:
    """Every literal the policy's tables name for a string fact (the table boundaries)."""
    compiled = Engine(policy)._compiled
    found: set[str] = set()
    for table in [*compiled.tables.values(), *compiled.clock_tables.values()]:
        if fact in table.inputs:
            column = table.inputs.index(fact)
            if table.input_facts[column].kind is FactKind.STRING:
                for rule in table.rules:
                    found.update(str(v) for v in rule.conditions[column].literals)
    return sorted(found)


_opened = aware_datetimes(max_value=datetime(2029, 1, 1, tzinfo=UTC))
_customers = customers()
_failures = failures()
_case_statuses = st.sampled_from(CaseStatus)


def _cases(max_size: int) -> st.SearchStrategy[Case]:
    touchpoint_lists = st.lists(_case_touchpoints, max_size=max_size)
    promise_lists = st.lists(_case_promises, max_size=max_size, unique_by=lambda p: p[4])
    grant_lists = st.lists(_case_grants, max_size=3, unique_by=lambda g: g[1])
    prior_lists = st.lists(_case_priors, max_size=3)

    @st.composite
    def draw_case(draw: st.DrawFn) -> Case:
        opened = draw(_opened)
        tps = [_touchpoint(_at(opened, when), *rest) for when, *rest in draw(touchpoint_lists)]
        tps.sort(key=lambda tp: tp.at)
        tp_ids = draw(st.lists(_maybe_ids, min_size=len(tps), max_size=len(tps)))
        seen: set[str] = set()
        for i, ident in enumerate(tp_ids):
            if ident is not None and ident not in seen:
                seen.add(ident)
                tps[i] = attrs.evolve(tps[i], id=ident)
        proms = [_promise(_at(opened, when), *rest) for when, *rest in draw(promise_lists)]
        grants = [
            Grant(
                id=ident,
                form=form,
                at=_at(opened, when),
                amount=amount,
                granted_by=granted_by,
                role=role,
            )
            for when, ident, form, amount, granted_by, role in draw(grant_lists)
        ]
        status = draw(_case_statuses)
        pauses = []
        cursor = opened
        for _ in range(draw(st.integers(0, 3))):
            start = cursor + timedelta(seconds=draw(_seconds_in_a_day))
            end = start + timedelta(seconds=draw(_seconds_in_a_day))
            pauses.append(Pause(draw(_slugs), start, ended_at=end))
            cursor = end
        if status is not CaseStatus.CLOSED and draw(st.booleans()):
            pauses.append(Pause("waiting_on_customer_open", cursor))
        priors = [
            PriorCase(
                id=ident,
                opened_at=(opened - timedelta(seconds=before)).astimezone(tz),
                category=category,
                severity=severity,
                recovered=recovered,
                double_deviation=double,
                compensation=compensation,
            )
            for before, tz, ident, category, severity, recovered, double, compensation in draw(
                prior_lists
            )
        ]
        end_at = max([opened, cursor, *(tp.at for tp in tps)])
        resolved = end_at if status is not CaseStatus.OPEN else None
        closed = end_at if status is CaseStatus.CLOSED else None
        if status is not CaseStatus.RESOLVED and not draw(st.booleans()):
            resolved = None
        events, last_owner, owned = _history(draw, opened, status, resolved, closed, end_at)
        return Case(
            draw(_ids),
            draw(_customers),
            draw(_failures),
            opened,
            status=status,
            owner=last_owner if owned else draw(_maybe_ids),
            channel=draw(_maybe_channels),
            touchpoints=tuple(tps),
            promises=tuple(proms),
            pauses=tuple(pauses),
            grants=tuple(grants),
            prior_cases=tuple(priors),
            events=events,
            resolved_at=resolved,
            closed_at=closed,
        )

    return draw_case()


_ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@st.composite
def business_calendars(draw: st.DrawFn, *, max_size: int = 3) -> BusinessCalendar:
    """Draw business calendars with open time: weekly hours in a real time zone, and
    up to ``max_size`` holidays.

    Raises:
        hypothesis.errors.InvalidArgument: ``max_size`` is negative.

    .. versionadded:: 0.1.0
    """
    if max_size < 0:
        raise InvalidArgument(f"max_size={max_size!r} must be 0 or more")
    days = draw(st.lists(st.sampled_from(_DAYS), min_size=1, max_size=7, unique=True))
    hours: dict[str, list[str]] = {}
    for day in days:
        start = draw(st.integers(0, 22))
        end = draw(st.integers(start + 1, 24))
        hours[day] = [f"{start:02d}:00-{end:02d}:00"]
    holidays = draw(
        st.lists(
            st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)).map(date.isoformat),
            max_size=max_size,
            unique=True,
        )
    )
    return BusinessCalendar.from_dict(
        {"time_zone": draw(st.sampled_from(_ZONES)), "hours": hours, "holidays": holidays}
    )


def _scaled(limits: Mapping[str, str], factor: int) -> dict[str, str]:
    return {k: str(Decimal(v) * factor) for k, v in limits.items()}


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    """Draw valid variations of the default policy, consistent by construction.

    The hard cap, the approval line, the front line's share, every role's money limits
    (scaled together, so the ladder still climbs), the fault step and the effort points
    vary; the tables stay the default's.

    .. versionadded:: 0.1.0
    """
    document: dict[str, Any] = copy.deepcopy(dict(default_policy().document))
    cap = draw(st.sampled_from(["1.50", "1.60", "1.75", "2.00"]))
    line = draw(st.sampled_from(["1.00", "1.10", "1.20"]))
    comp = document["compensation"]
    comp["hard_cap_ratio"] = cap
    comp["approval_above_ratio"] = line
    comp["fault_step"] = draw(st.sampled_from([0, -1]))
    comp["effort_point"] = {
        level: draw(st.sampled_from(["min", "mid", "max"])) for level in ("low", "medium", "high")
    }
    factor = draw(st.integers(1, 3))
    front = draw(st.sampled_from(["0.25", "0.50"]))
    for role in document["roles"]:
        for key in ("max_per_case", "max_per_period", "max_per_customer"):
            if key in role:
                role[key] = _scaled(role[key], factor)
        if role["rank"] == 0:
            role["max_ratio"] = front
        elif role["rank"] == 1:
            role["max_ratio"] = line
        else:
            role["max_ratio"] = cap
    document["policy"]["version"] = f"variant-{cap}-{line}-{factor}"
    return load_policy(document)
