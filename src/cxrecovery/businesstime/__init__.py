"""Business calendars and SLA clocks: exact, fast and DST-proof business-time arithmetic.

A :class:`BusinessCalendar` says when a team is open (weekly hours in an IANA time zone,
holidays, extra openings, and combinations of calendars).  It adds and measures business
time in integer microseconds, in time independent of the span.  A :class:`Clock` runs
a target business duration on a calendar and pauses for the reasons a policy names.
:func:`instant_us`, :func:`duration_us`, the calendar's ``*_us`` methods and
:func:`clock_times_us` (and :func:`reach_us`, its additions alone) are the same
arithmetic on integer microseconds, for callers that compute and compare many times.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

from cxrecovery.businesstime._calendar import BusinessCalendar, in_zone
from cxrecovery.businesstime._clock import Clock, ClockSpec, ClockWarning, Pause, PauseRule
from cxrecovery.businesstime._holidays import country_holidays
from cxrecovery.businesstime._model import ExtraOpening, Holiday, Window
from cxrecovery.businesstime._time import duration_us, instant_us
from cxrecovery.businesstime._timing import ClockTimes, clock_times_us, reach_us

__all__ = [
    "BusinessCalendar",
    "Clock",
    "ClockSpec",
    "ClockTimes",
    "ClockWarning",
    "ExtraOpening",
    "Holiday",
    "Pause",
    "PauseRule",
    "Window",
    "clock_times_us",
    "country_holidays",
    "duration_us",
    "in_zone",
    "instant_us",
    "reach_us",
]
