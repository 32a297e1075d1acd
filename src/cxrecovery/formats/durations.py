"""ISO 8601 durations, the one way every document and table writes a span of time.

Weeks, days, hours, minutes and seconds (``P1DT2H``, ``PT90S``, ``-PT5M``); years and
months are refused, having no fixed length.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta

from cxrecovery.errors import InvalidValueError
from cxrecovery.limits import LONGEST

__all__ = ["format_duration", "parse_duration"]

_DURATION = re.compile(
    r"(?P<sign>-)?P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)(?:[.,](?P<frac>\d{1,6}))?S)?)?\Z"
)


# No duration cxrecovery handles takes more characters than this ('-P3652DT23H59M59.999999S'
# is 25): anything longer is refused before a regular expression or ``int`` reads it.
_LONGEST_TEXT = 40


@functools.lru_cache(maxsize=512)
def parse_duration(text: str) -> timedelta:
    """Read an ISO 8601 duration in weeks, days, hours, minutes and seconds.

    Years and months are refused: they have no fixed length. So is a duration longer,
    either way, than :data:`cxrecovery.limits.LONGEST` (ten years).

    Raises:
        InvalidValueError: ``text`` is not such a duration.
    """
    if not isinstance(text, str):
        raise InvalidValueError(f"{text!r} is not an ISO 8601 duration such as 'PT4H'")
    shown = repr(text) if len(text) <= 40 else repr(text[:30]) + "..."
    if len(text) > _LONGEST_TEXT:
        raise InvalidValueError(
            f"{shown} ({len(text)} characters) {_TOO_LONG}; a duration is written in at "
            f"most {_LONGEST_TEXT}"
        )
    match = _DURATION.match(text)
    if match is None or text.rstrip("-").endswith(("P", "T")):
        hint = ""
        if re.search(r"\dY", text) or re.search(r"\dM", text.partition("T")[0]):
            hint = "; years and months have no fixed length, give days instead"
        raise InvalidValueError(f"{shown} is not an ISO 8601 duration such as 'PT4H'{hint}")
    parts = match.groupdict()
    micro = int((parts["frac"] or "").ljust(6, "0") or 0)
    try:
        result = timedelta(
            weeks=int(parts["weeks"] or 0),
            days=int(parts["days"] or 0),
            hours=int(parts["hours"] or 0),
            minutes=int(parts["minutes"] or 0),
            seconds=int(parts["seconds"] or 0),
            microseconds=micro,
        )
    except OverflowError:
        raise InvalidValueError(f"{shown} {_TOO_LONG}") from None
    if result > LONGEST:
        raise InvalidValueError(f"{shown} {_TOO_LONG}")
    return -result if parts["sign"] else result


_ZERO = timedelta(0)
_TOO_LONG = f"is above the longest duration cxrecovery handles (P{LONGEST.days}D, ten years)"


def format_duration(value: timedelta) -> str:
    """Write a timedelta as a canonical ISO 8601 duration (``P1DT2H30M``, ``PT0S``)."""
    sign = "-" if value < _ZERO else ""
    value = abs(value)
    days = value.days
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or value.microseconds:
        frac = f".{value.microseconds:06d}".rstrip("0") if value.microseconds else ""
        clock += f"{seconds}{frac}S"
    if clock:
        text += "T" + clock
    elif not days:
        text += "T0S"
    return sign + text
