"""Sweep: what is due now across many open cases, most urgent first."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple, Protocol, cast

import attrs

from cxrecovery._validation import (
    aware_arg,
    duration_arg,
    items_of,
    optional_aware_arg,
    settable_maker,
)
from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.engine._clocks import SUMMARIES as clock_summaries
from cxrecovery.engine._decision import DecisionContext
from cxrecovery.engine._notify import SUMMARIES as notify_summaries
from cxrecovery.engine._pending import DueShown, Pending, _due_field
from cxrecovery.engine._shown import due_shown, last_warning
from cxrecovery.engine._support import _EPOCH, instant_arg
from cxrecovery.errors import InvalidValueError
from cxrecovery.limits import check_instant
from cxrecovery.model import Case, CaseStatus
from cxrecovery.plan import (
    Action,
    ActionKind,
    ClockState,
    ClockStatus,
    DecidedAction,
    RecoveryPlan,
    decided_actions,
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
            or ``None``, or a horizon is not a ``timedelta`` of zero or more, or
            reaches past the last datetime from ``at``.

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


# A decision of a case its caller took as of the instant given, with that instant in
# microseconds since the epoch (``Engine._decide_known``).
DecideKnown = Callable[[Case, datetime, int], RecoveryPlan]


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
    until = _ahead(at, horizon, "horizon")
    soon = _ahead(at, promise_horizon, "promise_horizon")
    if next_reviews is not None and not isinstance(next_reviews, Mapping):
        raise InvalidValueError.at(
            "next_reviews", f"{next_reviews!r:.60} is not a mapping of case ids to times"
        )
    known = next_reviews or {}
    # Times since the epoch are the instants they name, whatever epochs they are read
    # with.
    until_since = _since(until, _UTC_EPOCHS)
    at_us = _since(at, _UTC_EPOCHS) // _ONE_US
    now = _Now(at, at_us, until, until_since, until_since // _ONE_US, soon, {})
    found: _Lists = [[] for _ in _URGENCY]
    reviews: dict[str, datetime | None] = {}
    decided = skipped = 0
    # What an engine's decisions are given of ``at`` (``Engine._decide_known``): its
    # microseconds, once it is checked as each decision would check it (on the first
    # decision, as each would); 0 for an ``at`` that is not its own instant (a zone with
    # DST), which each decision takes as ``decide()`` does.
    known_us = -1
    for case in items_of(open_cases, Case, "open_cases"):
        if case.opened_at > at:  # not open yet: nothing is due on it
            continue
        case = case._as_of_aware(at)  # ``case.as_of(at)``: ``at`` is checked above
        if case.status is _CLOSED:  # ``case.is_closed``
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
        if decide_known is None:
            plan = engine.decide(case, at=at)
        else:
            if known_us < 0:
                known_us = at_us if instant_arg(at) is at else 0
                if known_us:
                    check_instant(at, "at")
            plan = decide_known(case, at, known_us)
        decided += 1
        reviews[case.id] = plan.next_review_at
        _list(found, case, plan, now)
    # By urgency (a list each), then due instant and case, then in the order found
    # (each entry's place in its list): the item itself is never compared.
    items: list[DueItem] = []
    for entries in found:
        entries.sort()
        items.extend([entry[3] for entry in entries])
    return SweepResult(tuple(items), reviews, decided, skipped)


def _ahead(at: datetime, horizon: object, name: str) -> datetime:
    """``at`` plus the horizon called ``name``, a ``timedelta`` of zero or more."""
    duration = duration_arg(horizon, name)
    try:
        return at + duration
    except OverflowError:
        what = f"{duration!r} from {at.isoformat()} is past the last datetime"
        raise InvalidValueError.at(name, what) from None


# An item found, with what orders it among the items of its kind: its due time as an
# instant (its time since the epoch, :func:`_since`: two datetimes in one zone compare by
# wall clock in a DST fold), its case's id and its place in the list when found.
_Found = tuple[timedelta, str, int, DueItem]
# The items found, a list for each kind, by urgency (DueKind's order).
_Lists = list[list[_Found]]
# DueItem's fields have no validator: an item is its four fields, set as the reader sets
# a case's (a frozen class's __init__ sets each through object.__setattr__, 4x the cost).
_due_item: Final[Callable[[str, DueKind, datetime, str], DueItem]] = settable_maker(
    DueItem, "being listed"
)
# The epochs a plan not made by an engine is read with: UTC's alone (an engine's hold
# its calendars' zones of one offset too).
_UTC_EPOCHS: Final[Mapping[object, datetime]] = {UTC: _EPOCH}
_ONE_US: Final = timedelta(microseconds=1)


def _since(when: datetime, epochs: Mapping[object, datetime]) -> timedelta:
    """``when``'s time since the epoch, the instant it names (ordered as
    ``instant(when)``): as ``earliest`` reads it, in a zone of the engine's ``epochs``
    (one offset for all time) a subtraction within that zone (wall times), several times
    cheaper than a conversion; in any other (a zone with DST), an aware subtraction."""
    return when - epochs.get(when.tzinfo, _EPOCH)


def _list(
    found: _Lists,
    case: Case,
    plan: RecoveryPlan,
    now: _Now,
) -> None:
    """Add what is due on ``case`` by ``plan`` to ``found``: a breach, a warning or a
    broken promise only when it happened since the case was last acted on (its latest
    recorded event), so a case whose plan was carried out is not listed again until
    something new falls due. A time is compared with ``at`` or a horizon as datetimes
    compare (in one zone by wall clock, as shown), an item's due time with the latest
    event as an instant."""
    case_id = case.id
    # A plan an engine made, its explanation still waiting, is read from its decision:
    # the actions as decided (only those listed are worded, each alone) and each
    # clock's due instant (shown as its state shows it). Any other plan is read as it
    # is.
    d = source(plan)
    actions: Sequence[DecidedAction]
    epochs: Mapping[object, datetime]
    if type(d) is DecisionContext:
        # As the decision took them, not in the plan's order (by kind): the items are
        # sorted by urgency, due time and case, then in the order found, and each kind
        # listed is an item of its own urgency, so only actions of one kind keep the
        # order they are found in, which is the plan's.
        actions = d.pending
        dues = d.clock_dues
        epochs = d.engine._compiled.epochs
    else:
        actions = decided_actions(plan)
        dues = None
        d = None
        epochs = _UTC_EPOCHS
    # The latest instant the case records someone acting on it: worked out when a
    # breach, a warning or a broken promise is found (_acted_since), if it has events.
    acted: list[timedelta | None] = [None] if case.events else [_NEVER]
    # A resolved case is escalated no more: its clocks call for nothing.
    if case.status is _OPEN:
        _list_clocks(found, case, plan.clocks, dues, epochs, now, acted)
    for promise in case.promises:
        if not promise.is_pending:
            continue
        due = promise.due
        if due < now.at:
            due_since = _since(due, epochs)
            if due_since > _acted_since(acted, case, epochs):
                _add(found, _BROKEN, case_id, due, due_since, f"overdue: {promise.what}")
        elif due <= now.soon:
            _add(found, _DUE_SOON, case_id, due, _since(due, epochs), f"due soon: {promise.what}")
    for action in actions:
        kind = action.kind
        if kind is _ESCALATE:
            due = action.due or now.at
            what = _summary(action) if d is None else _words(d, action)
            _add(found, _ESCALATION, case_id, due, _since(due, epochs), what)
        elif kind is _NOTIFY or kind is _FOLLOW_UP:
            if type(action) is DueShown and _held_later(action, now):
                continue
            when = action.due
            if when is None:
                continue
            # ``when <= until``: in another zone, as instants (the times since the
            # epoch, one of them kept for the item).
            due_since = _since(when, epochs)
            if (
                when <= now.until
                if when.tzinfo is now.until.tzinfo
                else due_since <= now.until_since
            ):
                what = _summary(action) if d is None else _words(d, action)
                listed = _UPDATE if kind is _NOTIFY else _FOLLOWED_UP
                _add(found, listed, case_id, when, due_since, what)


class _Now(NamedTuple):
    """The sweep's instant and horizons: ``at`` (also in microseconds since the epoch),
    the horizon of updates and follow-ups (also as its time since the epoch, and in
    microseconds since the epoch), and that of promises."""

    at: datetime
    us: int
    until: datetime
    until_since: timedelta
    until_us: int
    soon: datetime
    #: Each breached clock's due instant shown (by the calendar that showed it last),
    #: and its time since the epoch.
    shown: dict[int, tuple[BusinessCalendar, datetime, timedelta]]


def _held_later(action: DueShown, now: _Now) -> bool:
    """Whether an action whose due time is held as its instant (and the calendar it is
    shown in, on each read) falls due after the horizon, told by the instant when the
    calendar's zone is not the horizon's (the shown time compares with it as the
    instant then): such an action is not listed, and its time not shown. ``False``
    when its time is to be shown and compared."""
    due_us, calendar = _due_field(action)
    return calendar.zone is not now.until.tzinfo and due_us > now.until_us


def _list_clocks(
    found: _Lists,
    case: Case,
    clocks: Sequence[ClockState],
    dues: Sequence[tuple[int | None, BusinessCalendar]] | None,
    epochs: Mapping[object, datetime],
    now: _Now,
    acted: list[timedelta | None],
) -> None:
    """Add each breached clock's breach, and each running clock's last warning fired,
    to ``found``; ``dues``: the clocks' due instants, when the decision is read."""
    i = -1
    for clock in clocks:
        i += 1
        status = clock.status
        if status is _BREACHED:
            if dues is None:
                due_at = clock.due_at
                if due_at is None:
                    continue
                due_since = _since(due_at, epochs)
            else:
                # Shown once a sweep for each instant and calendar (many clocks of many
                # cases fall due at one opening): the time its state shows, since the
                # epoch.
                due = dues[i]
                due_us = due[0]
                if due_us is None:
                    continue
                shown = now.shown.get(due_us)
                if shown is None or shown[0] is not due[1]:
                    due_at = cast("datetime", due_shown(due))
                    shown = now.shown[due_us] = (due[1], due_at, _since(due_at, epochs))
                _, due_at, due_since = shown
            if due_since > _acted_since(acted, case, epochs):
                what = f"{clock.name} clock breached"
                _add(found, _BREACH, case.id, due_at, due_since, what)
        elif status is _RUNNING:
            # The last warning fired: from the instants, when the state's shown values
            # wait (only that one shown); else as the state shows them.
            fill = source(clock)
            if type(fill) is tuple:
                last = last_warning(fill, now.at, now.us)
            else:
                last = None
                for warning in clock.warnings:
                    if warning.at <= now.at:
                        last = (warning.name, warning.at)
            if last is not None:
                last_since = _since(last[1], epochs)
                if last_since > _acted_since(acted, case, epochs):
                    what = f"{clock.name} clock at {last[0]}"
                    _add(found, _WARNING, case.id, last[1], last_since, what)


def _add(
    found: _Lists,
    kind: tuple[int, DueKind],
    case_id: str,
    due: datetime,
    due_since: timedelta,
    what: str,
) -> None:
    """Add ``DueItem(case_id, kind, due, what)`` to ``found``, due at ``due_since``;
    ``kind``: the item's urgency and kind."""
    urgency, listed = kind
    entries = found[urgency]
    entries.append((due_since, case_id, len(entries), _due_item(case_id, listed, due, what)))


# The time since the epoch of a case without events: nothing is left out as acted on.
_NEVER: Final = timedelta.min


def _acted_since(
    acted: list[timedelta | None], case: Case, epochs: Mapping[object, datetime]
) -> timedelta:
    """The latest instant (as its time since the epoch) the case records someone acting
    on it (an event), kept in ``acted`` once worked out."""
    found = acted[0]
    if found is None:
        found = acted[0] = max(
            [_since(e.at, epochs) for e in case.events]
            + [_since(e.acknowledged_at, epochs) for e in case.events if e.acknowledged_at]
        )
    return found


def _words(d: DecisionContext, action: DecidedAction) -> str:
    """A decided action's summary, as its action says it: its explainer's summary part
    alone where the explainer has one (the same function the explainer words it with),
    else the explainer's first part. The test ``test_engine_deferred.py`` holds a sweep
    to one over plans explained when made."""
    pending: Pending = action  # type: ignore[assignment]  # a decision's: Pending
    explain = pending.explain
    summary = _SUMMARIES.get(explain)
    if summary is None:
        return explain(d, *pending.args)[0]
    return summary(d, *pending.args)


# The explainers whose summary is worded alone, and the function that words it.
_SUMMARIES: Final = {**notify_summaries, **clock_summaries}


def _summary(action: DecidedAction) -> str:
    return cast("Action", action).summary


# Looked up once (reading an enum's member from its class costs about as much as a
# call): the kinds swept and _list read.
_OPEN, _CLOSED = CaseStatus.OPEN, CaseStatus.CLOSED
_BREACHED, _RUNNING, _ESCALATE = ClockStatus.BREACHED, ClockStatus.RUNNING, ActionKind.ESCALATE
_NOTIFY, _FOLLOW_UP = ActionKind.NOTIFY, ActionKind.FOLLOW_UP
# Each kind of item _list lists, with its urgency (_add). Updates (notifications) and
# follow-ups are listed when due by the sweep's horizon.
_BREACH, _WARNING, _ESCALATION, _BROKEN, _DUE_SOON, _UPDATE, _FOLLOWED_UP = [
    (_URGENCY[kind], kind)
    for kind in (
        DueKind.BREACH,
        DueKind.WARNING,
        DueKind.ESCALATION,
        DueKind.PROMISE_BROKEN,
        DueKind.PROMISE_DUE,
        DueKind.CUSTOMER_UPDATE,
        DueKind.FOLLOW_UP,
    )
]
