"""Public holidays from the optional ``holidays`` package, as calendar closures."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from datetime import date

from cxrecovery.businesstime._model import Holiday
from cxrecovery.errors import CalendarError

__all__ = ["country_holidays"]


def country_holidays(
    country: str, *, subdiv: str | None = None, years: Iterable[int]
) -> tuple[Holiday, ...]:
    """Return the public holidays of a country (and subdivision) as whole-day closures.

    Uses the ``holidays`` package, an optional extra: ``pip install cxrecovery[holidays]``.
    The result is plain data (dated :class:`Holiday` values with their names), so a
    calendar built from it serializes and compares like any other.

    Args:
        country: ISO 3166-1 code, such as ``"US"`` or ``"FR"``.
        subdiv: ISO 3166-2 subdivision within the country, such as ``"CA"``.
        years: the years to list.

    Raises:
        CalendarError: ``holidays`` is not installed, or the country, subdivision or
            years are not ones it knows.

    .. versionadded:: 0.1.0
    """
    try:
        holidays = importlib.import_module("holidays")  # an optional extra
    except ImportError:
        raise CalendarError.at(
            "country",
            "the 'holidays' package is not installed; install cxrecovery[holidays]",
        ) from None
    try:
        wanted = sorted({int(y) for y in years})
    except (TypeError, ValueError):
        raise CalendarError.at("years", f"expected whole years, got {years!r}") from None
    if not isinstance(country, str):
        raise CalendarError.at("country", f"expected an ISO 3166 code, got {country!r}")
    try:
        found = holidays.country_holidays(country, subdiv=subdiv, years=wanted)
    except NotImplementedError:
        raise CalendarError.at(
            "country", f"the holidays package has no calendar for country {country!r}"
        ) from None
    except Exception as exc:  # unknown subdivision and the like
        raise CalendarError.at(
            "subdiv", f"the holidays package rejects {country!r}/{subdiv!r}: {exc}"
        ) from None
    days: list[tuple[date, str]] = sorted(found.items())
    return tuple(Holiday(day, name=str(name)) for day, name in days)
