"""What the tests of a case's times share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from cxrecovery import Case


def recorded_times(case: Case) -> list[datetime]:
    """Every time ``Case.last_event_at`` reads, in the order it reads them (its
    docstring's rule is the max() of this list: the first of the latest when several
    are equal)."""
    times = [case.opened_at, *(tp.at for tp in case.touchpoints)]
    for promise in case.promises:
        times += [promise.made_at] + ([promise.settled_at] if promise.settled_at else [])
    times += [g.at for g in case.grants]
    times += [p.ended_at or p.started_at for p in case.pauses]
    times += [t for t in (case.resolved_at, case.closed_at) if t is not None]
    for event in case.events:
        times += [event.at] + ([event.acknowledged_at] if event.acknowledged_at else [])
    return times


def instants_of(case: Case) -> list[datetime]:
    """Every distinct time the case records (promises' due times and pauses' starts
    included), in instant order: where an as-of view can cut."""
    times = {case.opened_at, *(tp.at for tp in case.touchpoints), *(g.at for g in case.grants)}
    for promise in case.promises:
        times.update(t for t in (promise.made_at, promise.settled_at, promise.due) if t)
    for pause in case.pauses:
        times.update(t for t in (pause.started_at, pause.ended_at) if t)
    for event in case.events:
        times.update(t for t in (event.at, event.acknowledged_at) if t)
    return sorted(times, key=lambda t: t.astimezone(UTC))


# Around 2026-11-01 05:00 UTC: New York's fold (01:00-02:00 twice), where times in its
# zone compare by wall clock and times across zones by instant (PEP 495).
NEW_YORK = ZoneInfo("America/New_York")
FOLD = datetime(2026, 11, 1, 4, 30, tzinfo=UTC)


def in_fold(minutes: int, zone: tzinfo | None) -> datetime:
    """``minutes`` after FOLD, in ``zone`` (New York's for ``None``)."""
    return (FOLD + timedelta(minutes=minutes)).astimezone(NEW_YORK if zone is None else zone)


def fold_case_times(
    times: list[tuple[int, tzinfo | None]],
) -> tuple[datetime, list[datetime]]:
    """A case's opening and its touchpoints' times from drawn ``(minutes, zone)`` pairs
    around the fold: the first is the opening, the rest kept where they are in time
    order as the case checks it (by ``>=``, which in a fold is by wall clock)."""
    opened, *rest = [in_fold(m, zone) for m, zone in times]
    touchpoints: list[datetime] = []
    for when in rest:
        if when >= opened and (not touchpoints or when >= touchpoints[-1]):
            touchpoints.append(when)
    return opened, touchpoints
