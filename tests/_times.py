"""What the tests of a case's times share."""

from __future__ import annotations

from datetime import UTC, datetime

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
