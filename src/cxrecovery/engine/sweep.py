"""Sweep: what is due now across many open cases, most urgent first."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import Final, Protocol, cast

import attrs

from cxrecovery._validation import (
    aware_arg,
    duration_arg,
    items_of,
    optional_aware_arg,
    settable_maker,
)
from cxrecovery.engine._clocks import SUMMARIES as clock_summaries
from cxrecovery.engine._decision import DecisionContext
from cxrecovery.engine._notify import SUMMARIES as notify_summaries
from cxrecovery.engine._pending import Pending
from cxrecovery.engine._shown import due_shown
from cxrecovery.engine._support import instant
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import Case, CaseStatus
from cxrecovery.plan import (
    Action,
    ActionKind,
    ClockStatus,
    DecidedAction,
    RecoveryPlan,
    decided_actions,
    early,
    source,
)

__all__ = ["Decider", "DueItem", "DueKind", "SweepResult", "sweep", "swept"]


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
    return swept(
        engine,
        None,
        open_cases,
        at,
        next_reviews=next_reviews,
        horizon=horizon,
        promise_horizon=promise_horizon,
    )


# A decision of a case its caller took as of the instant given (``Engine._decide_known``).
DecideKnown = Callable[[Case, datetime], RecoveryPlan]


def swept(
    engine: Decider,
    decide_known: DecideKnown | None,
    open_cases: Iterable[Case],
    at: datetime,
    *,
    next_reviews: Mapping[str, datetime | None] | None = None,
    horizon: timedelta = timedelta(0),
    promise_horizon: timedelta = timedelta(hours=4),
) -> SweepResult:
    """:func:`sweep`, each case taken as of ``at`` decided by ``decide_known`` when
    given (an engine's, which does not take it as of ``at`` again), else by
    ``engine.decide``."""
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
    found: list[_Found] = []
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
        plan = engine.decide(case, at=at) if decide_known is None else decide_known(case, at)
        decided += 1
        reviews[case.id] = plan.next_review_at
        found.extend(_due(case, plan, at, until, promise_horizon))
    found.sort(key=_ORDER)  # stable: items of one key stay in the order found
    return SweepResult(tuple([entry[3] for entry in found]), reviews, decided, skipped)


# An item found, with what orders the result: its kind's urgency, its due time as an
# instant (two in one zone compare by wall clock in a DST fold) and its case's id.
_Found = tuple[int, datetime, str, DueItem]
_ORDER: Final = itemgetter(0, 1, 2)
# DueItem's fields have no validator: an item is its four fields, set as the reader sets
# a case's (a frozen class's __init__ sets each through object.__setattr__, 4x the cost).
_due_item: Final[Callable[[str, DueKind, datetime, str], DueItem]] = settable_maker(
    DueItem, "being listed"
)


def _item(kind: DueKind, case_id: str, due: datetime, summary: str) -> _Found:
    """``DueItem(case_id, kind, due, summary)``, with its sort key."""
    item = _due_item(case_id, kind, due, summary)
    return (_URGENCY[kind], instant(due), case_id, item)


def _due(
    case: Case, plan: RecoveryPlan, at: datetime, until: datetime, promise_horizon: timedelta
) -> list[_Found]:
    found = _found(case, plan, at, until, promise_horizon)
    if not found or not case.events:
        return found
    acted: datetime | None = None
    due: list[_Found] = []
    for entry in found:
        if entry[3].kind in _HANDLED_KINDS:
            if acted is None:
                acted = _acted_at(case)
            if entry[1] <= acted:
                continue  # it fell due before the case was last acted on
        due.append(entry)
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
) -> list[_Found]:
    found: list[_Found] = []
    case_id = case.id
    # A plan an engine made, its explanation still waiting, is read from its decision:
    # the actions as decided (only those listed are worded, each alone) and each
    # clock's due instant (shown as its state shows it). Any other plan is read as it
    # is. A running clock's warnings are read alone (``early``: the part of the state's
    # fill that shows them, not the whole state).
    d = source(plan)
    actions: Sequence[DecidedAction]
    words: Callable[[DecidedAction], str]
    if type(d) is DecisionContext:
        # As the decision took them, not in the plan's order (by kind): the items are
        # sorted by urgency, due time and case, stably, and each kind listed is an
        # item of its own urgency, so only actions of one kind keep the order they
        # are found in, which is the plan's.
        actions = d.pending
        words = partial(_words, d)
        dues = d.clock_dues
    else:
        actions = decided_actions(plan)
        words = _summary
        dues = None
    # A resolved case is escalated no more: its clocks call for nothing.
    clocks = plan.clocks if case.status is CaseStatus.OPEN else ()
    i = -1
    for clock in clocks:
        i += 1
        status = clock.status
        if status is _BREACHED:
            due_at = clock.due_at if dues is None else due_shown(dues[i])
            if due_at is not None:
                found.append(_item(_BREACH, case_id, due_at, f"{clock.name} clock breached"))
        elif status is _RUNNING:
            fired = [w for w in early(clock, "warnings") if w.at <= at]
            if fired:
                last = fired[-1]
                what = f"{clock.name} clock at {last.name}"
                found.append(_item(_WARNING, case_id, last.at, what))
    soon = at + promise_horizon
    for promise in case.promises:
        if not promise.is_pending:
            continue
        if promise.due < at:
            found.append(_item(_BROKEN, case_id, promise.due, f"overdue: {promise.what}"))
        elif promise.due <= soon:
            found.append(_item(_DUE_SOON, case_id, promise.due, f"due soon: {promise.what}"))
    for action in actions:
        kind = action.kind
        if kind is _ESCALATE:
            found.append(_item(_ESCALATION, case_id, action.due or at, words(action)))
        elif kind is _NOTIFY or kind is _FOLLOW_UP:
            due = action.due
            if due is not None and due <= until:
                found.append(_item(_LISTED_WHEN_DUE[kind], case_id, due, words(action)))
    return found


def _words(d: DecisionContext, action: DecidedAction) -> str:
    """A decided action's summary, as its action says it: its explainer's summary part
    alone where the explainer has one (the same function the explainer words it with),
    else the explainer's first part. The test ``test_engine_deferred.py`` holds a sweep
    to one over plans explained when made."""
    pending = cast("Pending", action)
    explain = pending.explain
    summary = _SUMMARIES.get(explain)
    if summary is None:
        return explain(d, *pending.args)[0]
    return summary(d, *pending.args)


# The explainers whose summary is worded alone, and the function that words it.
_SUMMARIES: Final = {**notify_summaries, **clock_summaries}


def _summary(action: DecidedAction) -> str:
    return cast("Action", action).summary


# The actions listed when due by the sweep's horizon, and the item each is listed as.
_LISTED_WHEN_DUE: Final = {
    ActionKind.NOTIFY: DueKind.CUSTOMER_UPDATE,
    ActionKind.FOLLOW_UP: DueKind.FOLLOW_UP,
}
# Looked up once: the kinds _found lists and reads.
_BREACHED, _RUNNING, _ESCALATE = ClockStatus.BREACHED, ClockStatus.RUNNING, ActionKind.ESCALATE
_NOTIFY, _FOLLOW_UP = ActionKind.NOTIFY, ActionKind.FOLLOW_UP
_BREACH, _WARNING, _ESCALATION = DueKind.BREACH, DueKind.WARNING, DueKind.ESCALATION
_BROKEN, _DUE_SOON = DueKind.PROMISE_BROKEN, DueKind.PROMISE_DUE
