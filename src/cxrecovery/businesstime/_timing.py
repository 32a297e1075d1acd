"""A clock's arithmetic on instants: elapsed time, when thresholds are reached, pauses.

One implementation for every clock, paused or not: :class:`~cxrecovery.businesstime.Clock`
answers through it, and so does the engine (through :func:`clock_times_us`), on integer
microseconds. A clock without pauses is the same walk with nothing to walk over: its
thresholds are plain business-time additions from its start.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import NamedTuple

from cxrecovery.businesstime._calendar import BusinessCalendar
from cxrecovery.businesstime._engine import Engine
from cxrecovery.businesstime._time import (
    HIGHEST_US,
    LOWEST_US,
    MAX_US,
    MIN_US,
    check_duration,
    check_instant,
    check_start,
)
from cxrecovery.errors import CalendarError

__all__ = [
    "ClockTimes",
    "Span",
    "clock_times_us",
    "elapsed",
    "known_pauses",
    "paused",
    "reach",
    "reach_us",
]

# A pause as instants: its start, and its end (None while it lasts).
Span = tuple[int, int | None]


def known_pauses(start: int, now: int, spans: Iterable[Span]) -> list[Span]:
    """The pauses as known at ``now``, merged, sorted, none before ``start``.

    A pause that starts after ``now`` is not known yet; one that ends after ``now`` is
    still open at ``now``. Overlapping and touching pauses become one; a pause that
    ends by ``start`` is left out.
    """
    clipped: list[Span] = []
    for s, e in spans:
        if s > now:
            continue
        if e is not None and e > now:
            e = None
        clipped.append((max(s, start), None if e is None else max(e, start)))
    if len(clipped) > 1:  # (one pause, most often: nothing to sort or merge)
        clipped.sort(key=_span_start)
    merged: list[Span] = []
    for s, e in clipped:
        if merged:
            last_s, last_e = merged[-1]
            if last_e is None:
                continue
            if s <= last_e:
                merged[-1] = (last_s, None if e is None else max(last_e, e))
                continue
        merged.append((s, e))
    return [(s, e) for s, e in merged if e is None or e > s]


_span_start = itemgetter(0)


def elapsed(engine: Engine, start: int, end: int, pauses: Sequence[Span], cap: int | None) -> int:
    """Business time run from ``start`` to ``end``, less the pauses (at most ``cap``)."""
    if end <= start:
        return 0
    total = engine.between(start, end, "at")
    if not pauses:
        return total
    taken = sum(
        engine.between(s, end if e is None else min(end, e), "at") for s, e in pauses if s < end
    )
    return total - (taken if cap is None else min(taken, cap))


def _resume(
    engine: Engine,
    start: int,
    threshold: int,
    pauses: Sequence[Span],
    cap: int | None,
    known: dict[tuple[int, int], int],
) -> tuple[int, int] | None:
    """Where the run that reaches ``threshold`` resumes after the pauses before it: the
    instant and the business time still to run from there. ``None`` when a pause with no
    end and no cap holds the clock first. ``known`` keeps each business time measured
    (by its two instants) for the thresholds of one clock, which walk the same pauses
    from the same start."""
    cursor, remaining = start, threshold
    for s, e in pauses:
        if s > cursor:
            run = known.get((cursor, s))
            if run is None:
                run = known[cursor, s] = engine.between(cursor, s, "at")
            if run >= remaining:
                break
            remaining -= run
            cursor = s
        if cap is None:
            if e is None:
                return None
            cursor = e
            continue
        if e is not None:
            taken = known.get((cursor, e))
            if taken is None:  # (worked out once: a walk of the index)
                taken = known[cursor, e] = engine.between(cursor, e, "at")
            if taken <= cap:
                cap -= taken
                cursor = e
                continue
        cursor = engine.add(cursor, cap, "max_pause")  # the cap runs out here
        break
    return cursor, remaining


def reach(
    engine: Engine, start: int, thresholds: Sequence[int], pauses: Sequence[Span], cap: int | None
) -> list[int | None]:
    """The earliest instant at which elapsed time reaches each threshold, in order.

    ``None`` for a threshold a pause with no end (and no cap) holds the clock from
    reaching. A threshold of zero is reached at ``start``. The thresholds share the
    business times measured on the way over the pauses, and the runs that resume at one
    instant are added from it together, so the start is located in the index once.
    """
    if not pauses:  # nothing to walk over: each threshold is an addition from the start
        return list(engine.add_each(start, thresholds, "target"))
    found: list[int | None] = []
    groups: dict[int, list[tuple[int, int]]] = {}
    known: dict[tuple[int, int], int] = {}
    for i, threshold in enumerate(thresholds):
        if threshold <= 0:
            found.append(start)
            continue
        resumed = _resume(engine, start, threshold, pauses, cap, known)
        found.append(None)
        if resumed is not None:
            groups.setdefault(resumed[0], []).append((i, resumed[1]))
    for cursor, runs in groups.items():
        added = engine.add_each(cursor, [run for _, run in runs], "target")
        for (i, _), when in zip(runs, added, strict=True):
            found[i] = when
    return found


def paused(engine: Engine, start: int, now: int, pauses: Sequence[Span], cap: int | None) -> bool:
    """Whether a pause holds the clock at ``now`` (and the cap has room): the clock runs."""
    if now < start:
        return False
    for s, e in pauses:  # (a loop: any() of a generator costs more for a pause or two)
        if s <= now and (e is None or now < e):
            break
    else:
        return False
    if cap is None:
        return True
    used = 0  # (what sum() of a generator adds, in the same order, without one)
    for s, e in pauses:
        used += engine.between(s, now if e is None else min(now, e), "at")
    return used < cap


class ClockTimes(NamedTuple):
    """What :func:`clock_times_us` answers, as instants and business microseconds.

    .. versionadded:: 0.2.0
    """

    #: When elapsed time reaches each threshold (``None``: a pause without end holds it).
    reached: Sequence[int | None]
    #: Business time the clock ran until it stopped (as known then); ``None`` if running.
    elapsed_at_stop: int | None
    #: Whether a pause holds the clock at ``at`` (never once it stopped).
    paused: bool


# A ClockTimes from a tuple of its three fields, without NamedTuple's own __new__.
_new = tuple.__new__


def clock_times_us(
    calendar: BusinessCalendar,
    start: int,
    thresholds: Sequence[int],
    *,
    at: int,
    pauses: Iterable[Span] = (),
    max_pause: int | None = None,
    stopped: int | None = None,
) -> ClockTimes:
    """A clock's times on instants, as known at ``at``: the same answers as
    :class:`~cxrecovery.businesstime.Clock`, for a caller that already has instants.

    Args:
        calendar: the calendar the clock runs on.
        start: the instant the clock started (microseconds since the epoch, UTC).
        thresholds: elapsed business times to reach (a target, warning thresholds), in
            microseconds.
        at: the instant the answers are for; pauses starting later are not known.
        pauses: the pauses that stop this clock, ``(start, end or None)`` as instants.
        max_pause: the cap on the business time pauses take off, or ``None``.
        stopped: the instant the clock stopped (at or before ``at``), or ``None``.

    The instants ``reached`` do not depend on ``stopped``: they are when each threshold
    is (or was) reached by a clock that kept running, which :meth:`Clock.due_at` turns
    into ``None`` when the clock stopped first.

    Raises:
        CalendarError: ``calendar`` is not a calendar, ``start`` is not an instant
            within the years 1801 to 2998, ``at``, ``stopped`` or a pause's ends are
            not instants, a threshold or ``max_pause`` is not an ``int`` of zero or
            more, or a result lies too far away.

    .. versionadded:: 0.2.0
    """
    check_instant(at, "at")
    if stopped is not None:
        check_instant(stopped, "stopped")
    if max_pause is not None:
        check_duration(max_pause, "max_pause")
    if not pauses:  # nothing to walk over or take off: additions from the start
        reached = reach_us(calendar, start, thresholds)
        if stopped is None:
            return _new(ClockTimes, (reached, None, False))
        engine = calendar._engine or calendar._index
        return _new(ClockTimes, (reached, elapsed(engine, start, stopped, (), max_pause), False))
    if start.__class__ is not int or not LOWEST_US <= start < HIGHEST_US:
        check_start(start, "start")
    check_thresholds(calendar, thresholds)
    engine = calendar._engine or calendar._index
    spans = list(pauses)
    for i, span in enumerate(spans):
        if span.__class__ is not tuple or len(span) != 2:
            raise CalendarError.at(
                f"pauses[{i}]", f"expected (start, end or None) as instants, got {span!r}"
            )
        # (Each end's path written only for an end that fails: check_instant's test.)
        s, e = span
        if s.__class__ is not int or not MIN_US <= s < MAX_US:
            check_instant(s, f"pauses[{i}][0]")
        if e is not None and (e.__class__ is not int or not MIN_US <= e < MAX_US):
            check_instant(e, f"pauses[{i}][1]")
    known = known_pauses(start, at, spans)
    ran = None
    if stopped is not None:
        ran = elapsed(engine, start, stopped, known_pauses(start, stopped, spans), max_pause)
    return _new(
        ClockTimes,
        (
            reach(engine, start, thresholds, known, max_pause),
            ran,
            stopped is None and paused(engine, start, at, known, max_pause),
        ),
    )


def reach_us(calendar: BusinessCalendar, start: int, thresholds: Sequence[int]) -> list[int]:
    """When a clock that no pause touches, started at ``start`` on ``calendar``, reaches
    each threshold: :func:`clock_times_us`'s ``reached`` for such a clock (which it
    answers through this), without the rest of its answer.

    Args:
        calendar: the calendar the clock runs on.
        start: the instant the clock started (microseconds since the epoch, UTC).
        thresholds: elapsed business times to reach, in microseconds, zero or more.

    The start is located in the calendar's index once for all the thresholds.

    Raises:
        CalendarError: ``calendar`` is not a calendar, ``start`` is not an instant
            within the years 1801 to 2998, a threshold is not an ``int`` of zero or
            more, or a result lies too far away.

    .. versionadded:: 0.2.0
    """
    if start.__class__ is not int or not LOWEST_US <= start < HIGHEST_US:
        check_start(start, "start")
    try:  # (the additions refuse a threshold that is not an int of zero or more)
        return (calendar._engine or calendar._index).add_each(start, thresholds, "target")
    except (AttributeError, TypeError, CalendarError):
        check_thresholds(calendar, thresholds)  # a bad argument: named
        raise  # a good one: the additions' own error


def check_thresholds(calendar: object, thresholds: object) -> None:
    """Raise unless ``calendar`` is a calendar and ``thresholds`` a tuple or list of
    ``int`` durations of zero or more (what :func:`reach_us` and
    :func:`clock_times_us` add to a start)."""
    if not isinstance(calendar, BusinessCalendar):
        raise CalendarError.at("calendar", f"expected a BusinessCalendar, got {calendar!r}")
    if thresholds.__class__ is not tuple and thresholds.__class__ is not list:
        raise CalendarError.at(
            "thresholds", f"expected a tuple or list of durations, got {thresholds!r}"
        )
    for d in thresholds:
        if d.__class__ is not int or d < 0:
            for i, value in enumerate(thresholds):
                check_duration(value, f"thresholds[{i}]")
