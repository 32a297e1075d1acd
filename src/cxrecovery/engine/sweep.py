"""Sweep: what is due now across many open cases, most urgent first."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Final, Protocol

import attrs

from cxrecovery._validation import aware_arg, duration_arg, items_of, optional_aware_arg
from cxrecovery.engine._support import instant
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import Case, CaseStatus
from cxrecovery.plan import ActionKind, ClockStatus, RecoveryPlan, decided_actions

__all__ = ["Decider", "DueItem", "DueKind", "SweepResult", "sweep"]


class Decider(Protocol):
    """What a sweep needs of an engine: a decision for a case at an instant.

    :class:`~cxrecovery.Engine` is one; naming the protocol here keeps the sweep below
    the engine that offers it as :meth:`~cxrecovery.Engine.sweep`.
    """

    def decide(self, case: Case, *, at: datetime) -> RecoveryPlan: ...  # pragma: no cover


class DueKind(enum.StrEnum):
    """What is due, most urgent first (the order of :func:`sweep`'s result).

    .. versionadded:: 0.1.0
    """

    BREACH = "breach"
    PROMISE_BROKEN = "promise_broken"
    ESCALATION = "escalation"
    PROMISE_DUE = "promise_due"
    WARNING = "warning"
    CUSTOMER_UPDATE = "customer_update"
    FOLLOW_UP = "follow_up"

    @property
    def urgency(self) -> int:
        """0 for the most urgent kind."""
        return _URGENCY[self]


_URGENCY: Final = {kind: i for i, kind in enumerate(DueKind)}


@attrs.frozen
class DueItem:
    """One thing due on one case: what, since (or by) when, and a line to show.

    .. versionadded:: 0.1.0
    """

    case_id: str
    kind: DueKind
    due: datetime
    summary: str


@attrs.frozen
class SweepResult:
    """What a sweep found: the due items in urgency order, and when to look again.

    ``next_reviews`` maps every case decided to its plan's ``next_review_at``: store
    it and pass it to the next sweep, which skips the cases with nothing due.
    ``skipped`` counts the cases not decided because their review time had not come.

    .. versionadded:: 0.1.0
    """

    items: tuple[DueItem, ...]
    next_reviews: Mapping[str, datetime | None]
    decided: int
    skipped: int


def sweep(
    engine: Decider,
    open_cases: Iterable[Case],
    at: datetime,
    *,
    next_reviews: Mapping[str, datetime | None] | None = None,
    horizon: timedelta = timedelta(0),
    promise_horizon: timedelta = timedelta(hours=4),
) -> SweepResult:
    """Everything due at ``at`` across many open cases, ordered by urgency.

    Each case is decided at ``at`` unless ``next_reviews`` (from the previous sweep)
    says its plan cannot change before a later time, or never (``None``). Due are:
    breached clocks; broken or overdue promises; escalations; promises due within
    ``promise_horizon`` (about to break); clock warnings that have fired; customer
    updates and follow-ups due by ``at + horizon``. Items are ordered by urgency (the
    order of :class:`DueKind`), then by due time, then by case id.

    Each case is taken as it was known at ``at`` (:meth:`Case.as_of`): cases closed by
    then, and cases not yet opened, are skipped; a resolved case's clocks call for
    nothing (it is escalated no more), so no breach or warning is listed for it. A
    breach, a warning or a broken promise is listed when it happened since the case was
    last acted on (its latest recorded event), so a case whose plan was carried out is
    not listed again until something new falls due.

    Raises:
        InvalidValueError: ``at`` is naive, ``engine`` is not an engine, an open case
            is not a :class:`~cxrecovery.Case`, a review time is not an aware datetime
            or ``None``, or a horizon is not a ``timedelta`` of zero or more.

    .. versionadded:: 0.1.0
    """
    if not callable(getattr(engine, "decide", None)):
        raise InvalidValueError.at("engine", f"{engine!r} is not an Engine")
    at = aware_arg(at, "at")
    until = at + duration_arg(horizon, "horizon")
    promise_horizon = duration_arg(promise_horizon, "promise_horizon")
    if next_reviews is not None and not isinstance(next_reviews, Mapping):
        raise InvalidValueError.at(
            "next_reviews", f"{next_reviews!r:.60} is not a mapping of case ids to times"
        )
    known = next_reviews or {}
    items: list[DueItem] = []
    reviews: dict[str, datetime | None] = {}
    decided = skipped = 0
    for case in items_of(open_cases, Case, "open_cases"):
        if case.opened_at > at:  # not open yet: nothing is due on it
            continue
        case = case.as_of(at)
        if case.is_closed:
            continue
        if case.id in known:
            review = known[case.id]
            try:
                later = review is None or review > at
            except TypeError:  # not a time, or a naive one: say which
                optional_aware_arg(review, f"next_reviews[{case.id!r}]")
                raise
            if later:
                skipped += 1
                reviews[case.id] = review
                continue
        plan = engine.decide(case, at=at)
        decided += 1
        reviews[case.id] = plan.next_review_at
        items.extend(_due(case, plan, at, until, promise_horizon))
    items.sort(key=_order)
    return SweepResult(tuple(items), reviews, decided, skipped)


def _order(item: DueItem) -> tuple[int, datetime, str]:
    # Due times as instants: two in one zone compare by wall clock in a DST fold.
    return (_URGENCY[item.kind], instant(item.due), item.case_id)


def _due(
    case: Case, plan: RecoveryPlan, at: datetime, until: datetime, promise_horizon: timedelta
) -> list[DueItem]:
    found = _found(case, plan, at, until, promise_horizon)
    if not found or not case.events:
        return found
    acted: datetime | None = None
    due: list[DueItem] = []
    for item in found:
        if item.kind in _HANDLED_KINDS:
            if acted is None:
                acted = _acted_at(case)
            if instant(item.due) <= acted:
                continue  # it fell due before the case was last acted on
        due.append(item)
    return due


# What the plan of a case acted on since does not repeat: a breach, a clock warning or
# a broken promise is listed when it happened since the case's latest recorded event.
_HANDLED_KINDS = frozenset({DueKind.BREACH, DueKind.WARNING, DueKind.PROMISE_BROKEN})


def _acted_at(case: Case) -> datetime:
    """The latest instant (in UTC) the case records someone acting on it (an event)."""
    times = [instant(e.at) for e in case.events]
    times.extend(instant(e.acknowledged_at) for e in case.events if e.acknowledged_at)
    return max(times)


def _found(
    case: Case, plan: RecoveryPlan, at: datetime, until: datetime, promise_horizon: timedelta
) -> list[DueItem]:
    found: list[DueItem] = []
    case_id = case.id
    # A resolved case is escalated no more: its clocks call for nothing.
    clocks = plan.clocks if case.status is CaseStatus.OPEN else ()
    for clock in clocks:
        if clock.status is ClockStatus.BREACHED and clock.due_at is not None:
            found.append(
                DueItem(case_id, DueKind.BREACH, clock.due_at, f"{clock.name} clock breached")
            )
        elif clock.status is ClockStatus.RUNNING:
            fired = [w for w in clock.warnings if w.at <= at]
            if fired:
                last = fired[-1]
                what = f"{clock.name} clock at {last.name}"
                found.append(DueItem(case_id, DueKind.WARNING, last.at, what))
    soon = at + promise_horizon
    for promise in case.promises:
        if not promise.is_pending:
            continue
        if promise.due < at:
            found.append(
                DueItem(case_id, DueKind.PROMISE_BROKEN, promise.due, f"overdue: {promise.what}")
            )
        elif promise.due <= soon:
            found.append(
                DueItem(case_id, DueKind.PROMISE_DUE, promise.due, f"due soon: {promise.what}")
            )
    for action in decided_actions(plan):
        kind = action.kind
        if kind is ActionKind.ESCALATE:
            found.append(DueItem(case_id, DueKind.ESCALATION, action.due or at, action.summary))
        elif kind in _LISTED_WHEN_DUE and action.due is not None and action.due <= until:
            found.append(DueItem(case_id, _LISTED_WHEN_DUE[kind], action.due, action.summary))
    return found


# The actions listed when due by the sweep's horizon, and the item each is listed as.
_LISTED_WHEN_DUE: Final = {
    ActionKind.NOTIFY: DueKind.CUSTOMER_UPDATE,
    ActionKind.FOLLOW_UP: DueKind.FOLLOW_UP,
}
