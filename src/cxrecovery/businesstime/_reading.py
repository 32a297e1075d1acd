"""Reading the parts of a business calendar's plain-data form, every problem with its path.

Each reader returns what it could read and the problems it found, so that a document
with several mistakes is reported at once (``hours.mon[1]``, ``holidays[2].closed``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from cxrecovery.businesstime._model import (
    ExtraOpening,
    Holiday,
    Window,
    parse_weekly_hours,
    weekly_overlaps,
)
from cxrecovery.businesstime._rules import parse_rule
from cxrecovery.businesstime._time import load_zone
from cxrecovery.errors import CalendarError, Problem

__all__ = [
    "Hours",
    "convert_holidays",
    "convert_hours",
    "convert_openings",
    "raise_problems",
    "read_document",
    "read_holiday",
    "read_hours",
    "read_list",
    "read_opening",
]

Hours = tuple[tuple[Window, ...], ...]
# A reader: a value and its path in, what it read (or None) and the problems out.
Reader = Callable[[Any, str], tuple[Any, list[Problem]]]
_KEYS = ("time_zone", "hours", "all_of", "any_of", "none_of", "holidays", "extra_openings")


def raise_problems(problems: list[Problem], prefix: str = "") -> None:
    if problems:
        raise CalendarError(p.under(prefix) for p in problems)


# --- reading the parts -------------------------------------------------------------------


def read_hours(value: object, path: str) -> tuple[Hours | None, list[Problem]]:
    if value is None:
        return None, []
    if (
        isinstance(value, tuple)
        and len(value) == 7
        and all(isinstance(d, tuple) and all(isinstance(w, Window) for w in d) for d in value)
    ):
        hours: Hours = tuple(tuple(sorted(d, key=lambda w: (w.start, w.end))) for d in value)
        return hours, weekly_overlaps(hours, path)
    hours, problems = parse_weekly_hours(value, path)
    if not problems:
        problems = weekly_overlaps(hours, path)
    return hours, problems


def _read_date(value: object, path: str) -> tuple[date | None, list[Problem]]:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, []
    if isinstance(value, str):
        try:
            return date.fromisoformat(value), []
        except ValueError:
            pass
    return None, [Problem(path, f"expected a date like '2026-12-25', got {value!r}")]


def read_holiday(value: object, path: str) -> tuple[Holiday | None, list[Problem]]:
    if isinstance(value, Holiday):
        return value, []
    if not isinstance(value, Mapping):
        on, problems = _read_date(value, path)
        return (None if on is None else Holiday(on)), problems
    problems = [
        Problem(
            f"{path}.{key}", f"unknown key {key!r}; expected date, yearly, rrule, closed, name"
        )
        for key in value
        if key not in ("date", "yearly", "rrule", "closed", "name")
    ]
    kinds = [k for k in ("date", "yearly", "rrule") if k in value]
    if len(kinds) != 1:
        problems.append(
            Problem(path, f"give exactly one of 'date', 'yearly', 'rrule'; got {kinds or 'none'}")
        )
        return None, problems
    fields: dict[str, Any] = {}
    kind = kinds[0]
    raw = value[kind]
    if kind == "date":
        fields["on"], found = _read_date(raw, f"{path}.date")
        problems.extend(found)
    elif kind == "yearly":
        month_day = _month_day(raw)
        if month_day is None:
            problems.append(Problem(f"{path}.yearly", f"expected 'MM-DD', got {raw!r}"))
        fields["yearly"] = month_day
    else:
        try:
            parse_rule(raw, f"{path}.rrule")
        except CalendarError as exc:
            problems.extend(exc.problems)
        fields["rule"] = raw
    if value.get("closed") is not None:
        try:
            fields["closed"] = Window.parse(value["closed"], f"{path}.closed")
        except CalendarError as exc:
            problems.extend(exc.problems)
    if "name" in value:
        fields["name"] = value["name"]
    if problems:
        return None, problems
    try:
        return Holiday(**fields), []
    except CalendarError as exc:
        return None, [p.under(path) for p in exc.problems]


def _month_day(raw: object) -> tuple[int, int] | None:
    if not isinstance(raw, str) or len(raw) != 5 or raw[2] != "-":
        return None
    try:
        month_day = (int(raw[:2]), int(raw[3:]))
        date(2000, *month_day)
    except ValueError:
        return None
    return month_day


def read_opening(value: object, path: str) -> tuple[ExtraOpening | None, list[Problem]]:
    if isinstance(value, ExtraOpening):
        return value, []
    if not isinstance(value, Mapping):
        return None, [
            Problem(
                path, f"expected {{'date': 'YYYY-MM-DD', 'open': 'HH:MM-HH:MM'}}, got {value!r}"
            )
        ]
    problems = [
        Problem(f"{path}.{key}", f"unknown key {key!r}; expected date, open")
        for key in value
        if key not in ("date", "open")
    ]
    on, found = _read_date(value.get("date"), f"{path}.date")
    problems.extend(found)
    window = None
    try:
        window = Window.parse(value.get("open"), f"{path}.open")
    except CalendarError as exc:
        problems.extend(exc.problems)
    if problems or on is None or window is None:
        return None, problems
    return ExtraOpening(on, window), []


def read_list(value: object, path: str, reader: Reader) -> tuple[tuple[Any, ...], list[Problem]]:
    if value is None:
        return (), []
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        return (), [Problem(path, f"expected a list, got {value!r}")]
    items: list[Any] = []
    problems: list[Problem] = []
    for i, item in enumerate(value):
        parsed, found = reader(item, f"{path}[{i}]")
        problems.extend(found)
        if parsed is not None:
            items.append(parsed)
    return tuple(items), problems


def convert_hours(value: Any) -> Hours | None:
    parsed, problems = read_hours(value, "hours")
    raise_problems(problems)
    return parsed


def convert_holidays(value: Any) -> tuple[Holiday, ...]:
    parsed, problems = read_list(value, "holidays", read_holiday)
    raise_problems(problems)
    return parsed


def convert_openings(value: Any) -> tuple[ExtraOpening, ...]:
    parsed, problems = read_list(value, "extra_openings", read_opening)
    raise_problems(problems)
    return parsed


def read_document(data: object, read_calendar: Reader) -> tuple[str, dict[str, Any]]:
    """The zone name and the fields of a calendar's plain-data form (see
    ``BusinessCalendar.from_dict``); ``read_calendar`` reads a part of a combination.

    Raises:
        CalendarError: with every problem found, each with its path.
    """
    if not isinstance(data, Mapping):
        raise CalendarError.at("", f"expected a calendar mapping, got {data!r}")
    problems = [
        Problem(str(key), f"unknown key {key!r}; expected one of {', '.join(_KEYS)}")
        for key in data
        if key not in _KEYS
    ]
    zone_name = data.get("time_zone")
    if zone_name is None:
        problems.append(Problem("time_zone", "missing; give an IANA name like 'Europe/Paris'"))
    else:
        try:
            load_zone(zone_name)
        except CalendarError as exc:
            problems.extend(exc.problems)
    hours, found = read_hours(data.get("hours"), "hours")
    problems.extend(found)
    fields: dict[str, Any] = {"hours": hours}
    for key, reader in (
        ("holidays", read_holiday),
        ("extra_openings", read_opening),
        ("all_of", read_calendar),
        ("any_of", read_calendar),
        ("none_of", read_calendar),
    ):
        fields[key], found = read_list(data.get(key), key, reader)
        problems.extend(found)
    raise_problems(problems)
    return str(zone_name), fields
