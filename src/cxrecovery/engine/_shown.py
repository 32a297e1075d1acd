"""A clock state's shown values: its due time and its warnings, in its calendar's zone.

A clock state's due time and warnings are shown from its calendar, the instants its
clock reached (``None``: a pause without end holds it; the due time first), its target's
compiled spec and its start: a part each (:data:`SHOWN`), so that a reader that needs one
(a sweep, the warnings of a running clock) works it out alone (``cxrecovery.plan.early``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from cxrecovery.businesstime import BusinessCalendar, reach_us
from cxrecovery.plan import Parts, WarningTime

if TYPE_CHECKING:
    from cxrecovery.engine.compile import _Target


def due_shown(due: tuple[int | None, BusinessCalendar]) -> datetime | None:
    """A clock's due instant shown in its calendar's zone, as its state's ``due_at``
    shows it (for a step or a reader that has the instant: ``clock_dues``)."""
    due_us, calendar = due
    return None if due_us is None else calendar.datetime_at(due_us)


def _due_shown(
    calendar: BusinessCalendar, reached: Sequence[int | None], compiled: _Target, start_us: int
) -> datetime | None:
    """A clock state's due time, shown in its calendar's zone."""
    return due_shown((reached[0], calendar))


def warning_instants(
    calendar: BusinessCalendar, reached: Sequence[int | None], compiled: _Target, start_us: int
) -> list[tuple[str, int]]:
    """A clock state's warnings, each its name and the instant it is reached at (a
    warning a pause without end holds is not listed). A clock no pause touches may have
    reached its due time alone (the warnings could not change the decision): its
    warnings are the same additions from its start, made now."""
    points = compiled.points
    if not points:
        return []
    if len(reached) <= len(points):
        reached = reach_us(calendar, start_us, compiled.durations)
    return [
        (point[0], us) for point, us in zip(points, reached[1:], strict=True) if us is not None
    ]


def _warnings_shown(
    calendar: BusinessCalendar, reached: Sequence[int | None], compiled: _Target, start_us: int
) -> tuple[WarningTime, ...]:
    """A clock state's warnings, each at its time shown in its calendar's zone."""
    return _shown(calendar, warning_instants(calendar, reached, compiled, start_us))


def _shown(calendar: BusinessCalendar, times: list[tuple[str, int]]) -> tuple[WarningTime, ...]:
    """Warnings given as their names and instants, each at its time shown in
    ``calendar``'s zone."""
    if not times:
        return ()
    shown = calendar.datetimes_at([us for _, us in times])
    return tuple([WarningTime(name, when) for (name, _), when in zip(times, shown, strict=True)])


def last_warning(shown: tuple[Any, ...], at: datetime, at_us: int) -> tuple[str, datetime] | None:
    """The last of a clock state's warnings (in its ``warnings``' order) at or before
    ``at`` (``at_us`` in microseconds since the epoch) as the shown times compare with
    it, its name and its time as ``warnings`` shows it, or ``None``; ``shown`` is what
    the state's shown values are worked out from (its fill's arguments,
    ``cxrecovery.plan.source``). A time in ``at``'s own zone compares with it by wall
    clock (in a DST fold, not as the instants): ``at`` in the calendar's zone, each
    warning is shown; in another, the instants are compared and one warning is shown."""
    times = warning_instants(*shown)
    if not times:
        return None
    calendar: BusinessCalendar = shown[0]
    found = None
    if at.tzinfo is calendar.zone:
        for warning in _shown(calendar, times):
            if warning.at <= at:
                found = (warning.name, warning.at)
        return found
    last = None
    for name, us in times:
        if us <= at_us:
            last = (name, us)
    return None if last is None else (last[0], calendar.datetimes_at([last[1]])[0])


# A clock state's shown values, a part each.
SHOWN: Final = Parts({"due_at": _due_shown, "warnings": _warnings_shown})
