"""Telling the customer, following up, recognising staff, and when to look again."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Final

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.engine._context import DecisionContext
from cxrecovery.engine._pending import NOTHING_GRANTED, DueShown, Explained, Pending, new_pending
from cxrecovery.engine._support import (
    _TICK,
    channel_words,
    instant,
)
from cxrecovery.model import (
    Attributes,
    CaseEventKind,
    CaseStatus,
    Channel,
    Direction,
    Outcome,
    Sentiment,
    TouchpointKind,
)
from cxrecovery.money import Money
from cxrecovery.plan import (
    ActionKind,
    ClockState,
    ClockStatus,
)

# A customer whose own contact on a live channel came this recently is with us now.
_HERE_FOR: Final = timedelta(minutes=30)
_LIVE: Final = frozenset({Channel.IN_PERSON, Channel.PHONE, Channel.CHAT, Channel.VIDEO})
# The clocks whose due time is when the customer next hears from us, while they run
# or once they are breached.
_UPDATE_CLOCKS: Final = frozenset({"first_response", "next_update"})
_UPDATE_STATUSES: Final = (ClockStatus.RUNNING, ClockStatus.BREACHED)
_BREACHED: Final = ClockStatus.BREACHED
_MAKE_PROMISE: Final = ActionKind.MAKE_PROMISE
# Enum members looked up once (an enum class's attribute costs a lookup through its
# metaclass on every read).
_REPAY: Final = ActionKind.REPAY
_NOTIFY: Final = ActionKind.NOTIFY
_FOLLOW_UP: Final = ActionKind.FOLLOW_UP
_INBOUND: Final = Direction.INBOUND
_OUTBOUND: Final = Direction.OUTBOUND
_CLOSED: Final = CaseStatus.CLOSED
_FOLLOWED_UP: Final = CaseEventKind.FOLLOWED_UP
_NONE_DONE: Final[frozenset[str | None]] = frozenset()
_NONE_REPAID: Final[tuple[Money, ...]] = ()
# Outcomes after which the customer is not on the line any more.
_GONE: Final = frozenset({Outcome.FAILED, Outcome.MISSED, Outcome.ABANDONED})


def channel_now(d: DecisionContext) -> tuple[Channel | None, bool]:
    """Where to tell the customer: where they are with us right now (their own
    contact in the last :data:`_HERE_FOR` on a live channel, a shop counter
    included), else their preferred channel, else the case's. The flag says
    whether they are here now."""
    at = d.at
    for tp in reversed(d.case.touchpoints):
        if tp.at > at:
            continue
        if at - tp.at > _HERE_FOR:
            break
        if tp.direction is _INBOUND and tp.channel in _LIVE and tp.outcome not in _GONE:
            # They are here until the window closes: the plan changes then.
            d.future(tp.at + _HERE_FOR + _TICK)
            return tp.channel, True
        break
    return d.case.customer.preferred_channel or d.case.channel, False


def notify(
    d: DecisionContext,
    clocks: list[ClockState],
    promise_due: datetime | None,
    compensation: Money | None,
) -> None:
    """Tell the customer what the plan does for them: when (the next update due,
    now when a promise is made or the case is put right) and where."""
    channel, here = channel_now(d)
    # The next update's due instant and its calendar: the action shows it in the
    # calendar's zone when it is read (:class:`DueShown`).
    dues = d.clock_dues
    first = _update_due(clocks, dues)
    update = dues[first] if first is not None else None
    due: datetime | None = None
    # Put right already: tell them now, unless they were told since it was put right
    # (and since the last setback).
    told_now = update is None and not d.is_open and not told_since_put_right(d)
    if told_now:
        due = d.at
    # One pass over the actions so far: whether the plan makes a promise, and the
    # money it pays back.
    promised = False
    # (Nothing paid back: the one empty tuple, not a list kept per notification.)
    repaid: Sequence[Money] = _NONE_REPAID
    for item in d.pending:
        kind = item.kind
        if kind is _MAKE_PROMISE:
            promised = True
        elif kind is _REPAY and item.amount is not None:
            repaid = [*repaid, item.amount]
    promised_now = False
    if promised:
        # The plan makes a promise now: the customer hears it now, not when the next
        # update falls due (a remake promised in 20 minutes, told by tomorrow); unless
        # that update is overdue already (its clock breached: due before the decision
        # time), when it is due then.
        if first is not None and clocks[first].status is _BREACHED:
            due_us, calendar = dues[first]  # (an instant: _update_due's is never None)
            due = calendar.datetime_at(due_us)  # type: ignore[arg-type]
        else:
            promised_now = True
            due = d.at
        update = None
    d.pending.append(
        new_pending(  # every field, in order (see Pending): nothing granted
            Pending if update is None else DueShown,
            (
                _NOTIFY,
                _notify_text,
                (channel, here, told_now, promised_now, promise_due, repaid, compensation),
                None,
                due if update is None else update,
                *NOTHING_GRANTED,
                channel,
            ),
        )
    )


def _notify_text(
    d: DecisionContext,
    channel: Channel | None,
    here: bool,
    told_now: bool,
    promised_now: bool,
    promise_due: datetime | None,
    repaid: Sequence[Money],
    compensation: Money | None,
) -> Explained:
    told = _told(promise_due, repaid, compensation)
    reasons = [
        d.reason(
            "principles.keep_informed",
            "set expectations up front and keep the customer informed",
        ),
    ]
    if promised_now:
        reasons.append(
            d.reason(
                "principles.promise_when_told",
                "a promise is made when the customer hears it: tell them now",
            )
        )
    if told_now:
        reasons.append(
            d.reason(
                "principles.tell_now",
                "the case is put right: the apology and what it brings are told now",
            )
        )
    if here and channel is not None:
        reasons.append(
            d.reason(
                "principles.where_the_customer_is",
                f"the customer is with us {channel_words(channel)} now: tell them there",
                "channel",
            )
        )
    elif channel is not None:
        reasons.append(
            d.reason(
                "customer.preferred_channel",
                f"the customer prefers {channel_words(channel)}",
            )
        )
    return (
        _tell(channel, told),
        Attributes._from_sorted((("states", told),)),
        tuple(reasons),
    )


def _notify_summary(
    d: DecisionContext,
    channel: Channel | None,
    here: bool,
    told_now: bool,
    promised_now: bool,
    promise_due: datetime | None,
    repaid: Sequence[Money],
    compensation: Money | None,
) -> str:
    """:func:`_notify_text`'s summary alone (the same words, without its reasons)."""
    return _tell(channel, _told(promise_due, repaid, compensation))


def _tell(channel: Channel | None, told: str) -> str:
    """A notification's summary: where, and what the customer is told."""
    where = " " + channel_words(channel) if channel else ""
    return f"Tell the customer{where}: {told}"


def _update_due(
    clocks: list[ClockState], dues: list[tuple[int | None, BusinessCalendar]]
) -> int | None:
    """Which of ``clocks`` is the next update's: the running or breached first-response
    or next-update clock due earliest (the first of equal instants), by its place; its
    due instant and the calendar its state's ``due_at`` is shown in are ``dues``' at that
    place. Worked out from the instants, so that reading it does not fill the states'
    shown values."""
    found: int | None = None
    least = 0
    if len(clocks) != len(dues):  # pragma: no cover - the clock steps make one of each
        raise AssertionError("a due instant for each clock")
    i = -1
    for due_us, _calendar in dues:
        i += 1
        # A state's name and status read only for a due instant earlier than any found
        # (each read of a deferred state's field costs a lookup).
        if due_us is not None and (found is None or due_us < least):
            state = clocks[i]
            if state.name in _UPDATE_CLOCKS and state.status in _UPDATE_STATUSES:
                found, least = i, due_us
    return found


def _told(
    promise_due: datetime | None, repaid: Sequence[Money], compensation: Money | None
) -> str:
    """What the customer hears: the apology, the promise, money owed back and
    compensation, and who owns the case."""
    states = ["an apology and what we will do"]
    if promise_due is not None:
        states.append("the fix and the time it will be done by (the promise)")
    if repaid:
        states.extend([f"the money we owe back ({amount})" for amount in repaid])
    if compensation is not None:
        states.append(f"the compensation ({compensation})")
    states.append("who owns the case now")
    return "; ".join(states)


def told_since_put_right(d: DecisionContext) -> bool:
    """Whether someone wrote or spoke to the customer (an outbound touchpoint) at or
    after the case was resolved and its last setback."""
    case = d.case
    if not case.events:  # no recorded history: decided as before
        return False
    since = max((t for t in (case.resolved_at, d.setback_at()) if t is not None), key=instant)
    return any(tp.direction is _OUTBOUND and since <= tp.at <= d.at for tp in case.touchpoints)


def follow_up(d: DecisionContext, recovery: Mapping[str, object], rule: str, owner: str) -> None:
    """Follow up after the fix at the recovery row's offsets, on the follow-up calendar."""
    case = d.case
    if case.status is _CLOSED:
        return
    compiled = d.engine._compiled
    parts = compiled.follow_ups(recovery.get("follow_up"))
    if not parts:
        return
    # The fix's time, when the case is put right: the follow-ups fall due after it.
    base = case.resolved_at
    if base is not None and base > d.at:
        base = None
    calendar = d.policy.calendars[d.policy.follow_up_calendar] if base is not None else None
    channel = case.customer.preferred_channel or case.channel
    done = (
        {e.subject for e in case.done(_FOLLOWED_UP) if base is None or e.at >= base}
        if case.events
        else _NONE_DONE
    )
    for part in parts:
        if part in done:  # carried out since the fix: not asked for again
            continue
        # The calendar's next opening at the offset after the fix, as its instant and
        # the calendar (calendar.next_open's value, shown in the calendar's zone when
        # the action is read: DueShown); the instant is one the calendar shows.
        due = (
            (
                calendar.next_open_us(calendar.instant(base + compiled.duration(part), "at")),
                calendar,
            )
            if base is not None and calendar is not None
            else None
        )
        d.pending.append(
            new_pending(  # every field, in order (see Pending): nothing granted
                Pending if due is None else DueShown,
                (
                    _FOLLOW_UP,
                    _follow_up_text,
                    (part, rule, due),
                    owner,
                    due,
                    *NOTHING_GRANTED,
                    channel,
                ),
            )
        )


def _follow_up_text(
    d: DecisionContext, part: str, rule: str, due: tuple[int, BusinessCalendar] | None
) -> Explained:
    return (
        _follow_up_summary(d, part, rule, due),
        Attributes._from_sorted((("after", part),)),
        (d.reason(rule, "close the loop after the fix", "severity", "history"),),
    )


def _follow_up_summary(
    d: DecisionContext, part: str, rule: str, due: tuple[int, BusinessCalendar] | None
) -> str:
    """:func:`_follow_up_text`'s summary alone (the same words, without its reason)."""
    if due is not None:
        when = d.shown(due[1].datetime_at(due[0]))
    else:
        when = f"{d.engine._compiled.duration_text(part)} after the fix"
    return f"Follow up {when}: check the customer is satisfied and the fix held"


# Each explainer here whose summary can be worded alone, and the function that does
# (the explainer's own): for a reader that shows an action's summary only (a sweep).
SUMMARIES: Final[Mapping[object, Callable[..., str]]] = {
    _notify_text: _notify_summary,
    _follow_up_text: _follow_up_summary,
}


def recognise(d: DecisionContext) -> None:
    """Recognise the staff the customer's positive feedback names."""
    if not d.policy.recognise_staff or not d.facts["positive_feedback"]:
        return
    seen = [tp for tp in d.case.touchpoints if tp.at <= d.at]
    praised = [
        i
        for i, tp in enumerate(seen)
        if tp.kind is TouchpointKind.FEEDBACK
        and tp.sentiment is not None
        and tp.sentiment >= Sentiment.POSITIVE
    ]
    agents: list[str] = []
    # The staff who served the customer well before the praise came in.
    for tp in seen[: praised[-1]] if praised else ():
        if (
            tp.agent
            and tp.sentiment is not None
            and tp.sentiment >= Sentiment.POSITIVE
            and tp.agent not in agents
        ):
            agents.append(tp.agent)
    recognised = {e.subject for e in d.case.done(CaseEventKind.RECOGNISED)}
    for agent in agents:
        if agent in recognised:
            continue
        d.pending.append(Pending(ActionKind.RECOGNISE, _recognise_text, (agent,), d.case.owner))


def _recognise_text(d: DecisionContext, agent: str) -> Explained:
    reason = d.reason(
        "follow_up.recognise_staff", "close the loop on positive feedback", "positive_feedback"
    )
    return (
        f"Recognise {agent}: the customer's positive feedback names their work",
        Attributes._from_sorted((("agent", agent),)),
        (reason,),
    )


def future_windows(d: DecisionContext) -> None:
    """Look again when a promise falls overdue, a grant leaves the goodwill window, or
    a case in limbo crosses a bound a table tests."""
    # A promise is overdue, and a grant leaves the goodwill window, just after.
    timeline = d.timeline
    for when in timeline.promise_due:
        d.future(when + _TICK)
    for when in timeline.window_exits:
        d.future(when + _TICK)
    for bound in d.engine._limbo_bounds:
        hours = timedelta(microseconds=int(bound * 3_600_000_000))
        d.future(d.engine._settings.calendar.add(timeline.last_progress, hours))
