"""Deriving the built-in facts of a case at an instant (:func:`derive_facts`)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from operator import attrgetter
from typing import Final

from cxrecovery._validation import settable_maker
from cxrecovery.facts._builtin import BUILTIN_FACTS, FactSettings, Timeline
from cxrecovery.facts._score import _recency_score
from cxrecovery.model import (
    Case,
    CaseStatus,
    Channel,
    Direction,
    Fault,
    Outcome,
    PromiseStatus,
    Sentiment,
    Severity,
    Touchpoint,
    TouchpointKind,
)

__all__ = ["derive_facts", "derive_facts_but_limbo", "limbo_hours"]

_HOUR: Final = Decimal(3600)
_CENT_HOUR: Final = Decimal("0.01")
_ONE_US: Final = timedelta(microseconds=1)
_HOUR_US: Final = Decimal(3_600_000_000)


_CONTACT_KINDS: Final = frozenset(
    {TouchpointKind.CONTACT, TouchpointKind.VISIT, TouchpointKind.MESSAGE, TouchpointKind.CALLBACK}
)
# Relationship health by score: at_risk below -0.75, fragile below 0.25, stable below
# 1.25, strong from there.
_AT_RISK_BELOW: Final = Decimal("-0.75")
_FRAGILE_BELOW: Final = Decimal("0.25")
_STABLE_BELOW: Final = Decimal("1.25")


# Sentiment.score and ">= POSITIVE" are properties and rich comparisons, read for every
# touchpoint: looked up here instead.
_SCORES: Final = {s: s.score for s in Sentiment}
_POSITIVE: Final = frozenset(s for s in Sentiment if s >= Sentiment.POSITIVE)
# Each member's plain value (an enum's .value is a property too). Members are keys as
# the strings they are; two equal ones would have equal values, so one table will do.
_VALUES: Final[dict[str, str]] = {
    m: m.value for kind in (Severity, Fault, Channel, CaseStatus) for m in kind
}
# The members derive_facts compares against, read off their enums once: reading a member
# off its class (``Outcome.FAILED``) goes through the enum's metaclass, several times
# dearer than reading a global, and the touchpoint loop would make a handful per
# touchpoint.
_INBOUND: Final = Direction.INBOUND
_TRANSFER: Final = TouchpointKind.TRANSFER
_FEEDBACK: Final = TouchpointKind.FEEDBACK
_SOCIAL: Final = Channel.SOCIAL
_OTHER: Final = Channel.OTHER
_PROGRESS: Final = frozenset({Outcome.RESOLVED, Outcome.PROGRESSED})
_CHANNEL_FAILURES: Final = frozenset({Outcome.FAILED, Outcome.MISSED})
_ABANDONED: Final = Outcome.ABANDONED
_KEPT: Final = PromiseStatus.KEPT
_BROKEN: Final = PromiseStatus.BROKEN
_PENDING: Final = PromiseStatus.PENDING
_CRITICAL: Final = Severity.CRITICAL
_COMPANY: Final = Fault.COMPANY
_OPEN: Final = CaseStatus.OPEN
_ZERO: Final = Decimal(0)
_NO_WAIT: Final = timedelta(0)
# The counts and flags of the case and of its touchpoints as they are when nothing was
# counted (and the commonest fault, service and status): _case_facts and
# _touchpoint_facts write into a dict that holds these, each only when it is not so
# (most are not, and writing a key costs more than a test).
_UNCOUNTED: Final[dict[str, object]] = {
    "fault": _VALUES[_COMPANY],
    "service_usable": True,
    "status": _VALUES[_OPEN],
    "critical": False,
    "lifetime_value": _ZERO,
    "contacts": 0,
    "channels_used": 0,
    "channel_switches": 0,
    "transfers": 0,
    "repeated_information": 0,
    "channel_failures": 0,
    "abandoned": 0,
    "wait_minutes": 0,
    "fix_failed": False,
    "escalation_requested": False,
    "public_channel": False,
    "positive_feedback": False,
}
# The facts derive_facts returns, in order: the facts of the promises and of the
# customer's history as they are for a case without any (most cases: each group is
# worked out only when the case has something for it), those of the relationship as
# they are without events (its health set below), the uncounted ones, every other one
# not set yet (derive_facts sets it).
_BLANK_FACTS: Final[dict[str, object]] = dict.fromkeys(BUILTIN_FACTS)
_BLANK_FACTS.update(
    _UNCOUNTED,
    double_deviation=False,
    history="first",
    relationship_score=_ZERO,
    promises_broken=0,
    promises_pending=0,
    promises_kept=0,
    sentiment_drop_after_broken_promise=False,
    prior_failures=0,
    same_type_repeat=False,
    recent_goodwill=_ZERO,
    granted_so_far=_ZERO,
)
# The events that sway relationship health: their times and their scores (-2 to 2), in
# time order, in two lists of one length.
Events = tuple[list[datetime], list[int]]
_AT: Final = attrgetter("at")


def derive_facts(
    case: Case, at: datetime, settings: FactSettings
) -> tuple[dict[str, object], Timeline]:
    """Derive the built-in facts of ``case`` as seen at ``at``.

    Only what happened at or before ``at`` counts: a touchpoint recorded for a later
    time is not known yet. Returns the facts and the instants at which the
    time-dependent ones will change.

    .. versionadded:: 0.1.0
    """
    facts, timeline = derive_facts_but_limbo(case, at, settings)
    facts["limbo_hours"] = limbo_hours(timeline, at, settings)
    return facts, timeline


def derive_facts_but_limbo(
    case: Case, at: datetime, settings: FactSettings
) -> tuple[dict[str, object], Timeline]:
    """:func:`derive_facts` with ``limbo_hours`` left ``None`` (its place kept), for a
    caller that works it out only if it reads it: :func:`limbo_hours` gives it from the
    timeline returned (the business time on the facts' calendar is most of what
    deriving the facts costs).

    .. versionadded:: 0.2.0
    """
    # Each group of facts is written straight into one dict, a copy of a blank one
    # (cheaper than building a dict of this size); a group hands the next only what
    # the dict does not hold.
    facts = _BLANK_FACTS.copy()
    _case_facts(facts, case)
    # Touchpoints are kept in time order: the ones known at ``at`` are those before the
    # first later one.
    touchpoints = case.touchpoints
    if touchpoints and touchpoints[-1].at > at:
        touchpoints = touchpoints[: bisect_right(touchpoints, at, key=_AT)]
    progress_at, moods = _touchpoint_facts(facts, touchpoints, case, settings)
    if case.promises:
        events, due_ahead = _promise_facts(facts, case, at, moods)
        due_ahead.sort()
        promise_due = tuple(due_ahead)
    else:  # no promise: none broken, so a double deviation is a failed fix
        if facts["fix_failed"]:
            facts["double_deviation"] = True
        events, promise_due = moods, ()
    if case.prior_cases or case.grants:
        exits = _history_facts(facts, case, at, settings)
        window_exits = tuple(sorted([t for t in exits if t >= at])) if exits else ()
    else:  # no earlier failure, no grant: the blank facts' history but this one
        if facts["double_deviation"]:
            facts["history"] = "double_deviation"
        window_exits = ()
    values = events[1]
    if values:
        score = facts["relationship_score"] = _recency_score(values, settings.recency_decay)
        facts["relationship_health"] = _health(score, values)
    # (else nothing sways it: the blank's score of no events and its band)
    return facts, _timeline(promise_due, window_exits, progress_at)


# ``Timeline(promise_due, window_exits, last_progress)`` at less cost: its fields set as
# plain attributes (a frozen class's __init__ sets each through its slot's setter,
# called as a function); see settable_maker.
_timeline: Final[Callable[[tuple[datetime, ...], tuple[datetime, ...], datetime], Timeline]] = (
    settable_maker(Timeline, "being made")
)


def limbo_hours(timeline: Timeline, at: datetime, settings: FactSettings) -> Decimal:
    """The ``limbo_hours`` fact at ``at``, from the ``timeline`` that
    :func:`derive_facts_but_limbo` returned for that instant: business hours on the
    facts' calendar since the case last moved forward, rounded down to hundredths.

    .. versionadded:: 0.2.0
    """
    progress_at = timeline.last_progress
    limbo_us = settings.calendar.between(progress_at if progress_at <= at else at, at) // _ONE_US
    return (limbo_us / _HOUR_US).quantize(_CENT_HOUR, rounding=ROUND_FLOOR)


def _case_facts(facts: dict[str, object], case: Case) -> None:
    """The facts the case states outright: the failure, the customer, the status."""
    failure = case.failure
    customer = case.customer
    severity = failure.severity
    facts["severity"] = _VALUES[severity]
    if severity is _CRITICAL:
        facts["critical"] = True
    fault = failure.fault
    if fault is not _COMPANY:
        facts["fault"] = _VALUES[fault]
    facts["category"] = failure.category
    facts["segment"] = customer.segment
    if not failure.service_usable:
        facts["service_usable"] = False
    value_at_stake = failure.value_at_stake
    facts["value_at_stake"] = value_at_stake.amount if value_at_stake is not None else _ZERO
    lifetime_value = customer.lifetime_value
    if lifetime_value is not None:
        facts["lifetime_value"] = lifetime_value.amount
    facts["expectation_ratio"] = customer.expectation.compensation_ratio
    status = case.status
    if status is not _OPEN:
        facts["status"] = _VALUES[status]


def _touchpoint_facts(
    facts: dict[str, object],
    touchpoints: Sequence[Touchpoint],
    case: Case,
    settings: FactSettings,
) -> tuple[datetime, Events]:
    """The facts of the touchpoints known (effort, channels, escalation…); returns
    when the case last moved forward and the sentiments' times and scores, in order."""
    contacts = transfers = repeated = failures = abandoned = switches = 0
    wait = _NO_WAIT
    channels: set[Channel] = set()  # members: one per value
    last_channel: Channel | None = None  # of the customer's last contact
    progress_at, progressed = case.opened_at, False
    mood_times: list[datetime] = []
    mood_values: list[int] = []
    for tp in touchpoints:
        kind = tp.kind
        if tp.direction is _INBOUND:
            channel = tp.channel
            if kind in _CONTACT_KINDS:
                contacts += 1
                channels.add(channel)
                if last_channel is not None and channel is not last_channel:
                    switches += 1
                last_channel = channel
            if channel is _SOCIAL:
                facts["public_channel"] = True
        if kind is _TRANSFER:
            transfers += 1
        if tp.repeated_information:
            repeated += 1
        outcome = tp.outcome
        if outcome is not None:
            if outcome in _PROGRESS:
                progressed = True
                progress_at = tp.at
            elif outcome in _CHANNEL_FAILURES:
                failures += 1
                if progressed:
                    facts["fix_failed"] = True
            elif outcome is _ABANDONED:
                abandoned += 1
        waited = tp.wait
        if waited is not None:
            wait += waited
        if tp.escalation_requested:
            facts["escalation_requested"] = True
        sentiment = tp.sentiment
        if sentiment is not None:
            mood_times.append(tp.at)
            mood_values.append(_SCORES[sentiment])
            if kind is _FEEDBACK and sentiment in _POSITIVE:
                facts["positive_feedback"] = True
    facts["channel"] = _VALUES[last_channel or case.channel or _OTHER]
    effort = 0  # (a count the dict holds as 0 is set only when it is not: _UNCOUNTED)
    if wait:  # (its seconds as a float cost more than the rest: most cases wait none)
        wait_minutes = facts["wait_minutes"] = int(wait.total_seconds() // 60)
        effort = wait_minutes // settings.wait_unit_minutes
    if contacts:
        facts["contacts"] = contacts
        facts["channels_used"] = len(channels)
        effort += contacts - 1
        if switches:
            facts["channel_switches"] = switches
            effort += switches
    if transfers:
        facts["transfers"] = transfers
        effort += transfers
    if repeated:
        facts["repeated_information"] = repeated
        effort += repeated
    if failures:
        facts["channel_failures"] = failures
        effort += failures
    if abandoned:
        facts["abandoned"] = abandoned
        effort += abandoned
    high, medium = settings.effort_high_at, settings.effort_medium_at
    facts["effort"] = "high" if effort >= high else "medium" if effort >= medium else "low"
    return progress_at, (mood_times, mood_values)


def _promise_facts(
    facts: dict[str, object], case: Case, at: datetime, moods: Events
) -> tuple[Events, list[datetime]]:
    """The facts of the promises made by ``at`` (kept, broken, pending, double
    deviation, a mood that fell after a break); returns every event that sways
    relationship health, their times and scores in time order, and the pending promises'
    due times.

    The events are the sentiments, and each promise settled (or broken by going
    overdue) by ``at``, put after the events of its instant so far.
    """
    pending = kept = broken = 0
    first_break: datetime | None = None  # what min() makes of the break times, kept as found
    due_ahead: list[datetime] = []
    times = moods[0].copy()
    values = moods[1].copy()
    for promise in case.promises:
        if promise.made_at > at:
            continue
        settled_at = promise.settled_at
        status = promise.status if settled_at is not None and settled_at <= at else _PENDING
        if status is _KEPT:
            kept += 1
            _place(times, values, settled_at, 1)  # type: ignore[arg-type]
            continue
        if status is _BROKEN:
            broke: datetime = settled_at  # type: ignore[assignment]
        elif status is _PENDING:
            broke = promise.due
            if at <= broke:
                pending += 1
                due_ahead.append(broke)
                continue
        else:
            continue
        broken += 1
        if first_break is None or broke < first_break:
            first_break = broke
        _place(times, values, broke, -2)
    facts["promises_broken"] = broken
    facts["promises_pending"] = pending
    facts["promises_kept"] = kept
    facts["double_deviation"] = bool(broken) or facts["fix_failed"]
    facts["sentiment_drop_after_broken_promise"] = (
        _drop_after_break(first_break, times, values, moods) if first_break is not None else False
    )
    return (times, values), due_ahead


def _place(times: list[datetime], values: list[int], when: datetime, value: int) -> None:
    """Put an event of ``value`` at ``when`` after the events of its instant so far."""
    i = bisect_right(times, when)
    times.insert(i, when)
    values.insert(i, value)


def _drop_after_break(
    first_break: datetime, times: list[datetime], values: list[int], moods: Events
) -> bool:
    """Whether a sentiment at or after ``first_break`` fell below the mood just before
    it (the events' ``times`` and ``values``, the sentiments' ``moods``)."""
    i = bisect_left(times, first_break)  # times[:i] came before it
    if not i:
        return False
    # The mood just before the first break: that of the latest event before it (the
    # first of them if several share that instant).
    mood_at = times[i - 1]
    while i > 1 and times[i - 2] == mood_at:
        i -= 1
    mood = values[i - 1]
    mood_times, mood_values = moods
    i = len(mood_times)
    while i:  # the sentiments from the latest back
        i -= 1
        if mood_times[i] < first_break:
            return False
        if mood_values[i] < mood:
            return True
    return False


def _history_facts(
    facts: dict[str, object], case: Case, at: datetime, settings: FactSettings
) -> list[datetime]:
    """The facts of the customer's history (earlier failures, goodwill in the window,
    grants on this case); returns when each grant counted leaves the goodwill window."""
    exits: list[datetime] = []
    prior, same_type, goodwill, granted = _history(case, at, settings, exits)
    facts["prior_failures"] = prior
    facts["same_type_repeat"] = same_type
    facts["history"] = (
        "double_deviation" if facts["double_deviation"] else "repeat" if prior else "first"
    )
    facts["recent_goodwill"] = goodwill
    facts["granted_so_far"] = granted
    return exits


def _history(
    case: Case, at: datetime, settings: FactSettings, exits: list[datetime]
) -> tuple[int, bool, Decimal, Decimal]:
    """The earlier failures in the history window, whether one was of the same
    category, the goodwill in the goodwill window and what this case was granted;
    appends to ``exits`` when each grant counted leaves the goodwill window."""
    value_at_stake = case.failure.value_at_stake
    currency = value_at_stake.currency if value_at_stake else None
    history_start = case.opened_at - settings.history_window
    goodwill_window = settings.goodwill_window
    goodwill_start = at - goodwill_window
    category = case.failure.category
    prior = 0
    same_type = False
    goodwill = _ZERO
    for earlier in case.prior_cases:
        opened_at = earlier.opened_at
        if opened_at >= history_start:
            prior += 1
            if earlier.category == category:
                same_type = True
        comp = earlier.compensation
        if comp is not None and comp and comp.currency == currency:
            when = earlier.closed_at or opened_at
            if when >= goodwill_start:
                goodwill += comp.amount
                exits.append(when + goodwill_window)
    granted = _ZERO
    for grant in case.grants:
        given = grant.amount
        if not given or given.currency != currency:
            continue
        when = grant.at
        if when > at:
            continue
        granted += given.amount
        if when >= goodwill_start:
            goodwill += given.amount
            exits.append(when + goodwill_window)
    return prior, same_type, goodwill, granted


def _health(score: Decimal, values: list[int]) -> str:
    """Relationship health: the score's band, but never better than fragile when the
    last word was negative (one bad moment is not averaged away): ``values`` are the
    events' scores in time order."""
    if score < _AT_RISK_BELOW:
        return "at_risk"
    if score < _FRAGILE_BELOW or (values and values[-1] < 0):
        return "fragile"
    return "stable" if score < _STABLE_BELOW else "strong"


# The health of a relationship no event has swayed (its score is 0).
_NO_EVENTS_HEALTH: Final = _health(_ZERO, [])
_BLANK_FACTS["relationship_health"] = _NO_EVENTS_HEALTH  # (its place kept)
