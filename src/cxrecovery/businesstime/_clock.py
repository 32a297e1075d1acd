"""SLA clocks: a target business duration on a calendar, with pauses kept as history."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from cxrecovery.businesstime._calendar import BusinessCalendar
from cxrecovery.businesstime._engine import Engine
from cxrecovery.businesstime._time import duration_us, instant_us
from cxrecovery.businesstime._timing import Span, elapsed, known_pauses, paused, reach
from cxrecovery.errors import CalendarError, InvalidValueError
from cxrecovery.limits import check_decimal

__all__ = ["Clock", "ClockSpec", "ClockWarning", "Pause", "PauseRule"]


def _name(path: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        del instance, attribute
        if not isinstance(value, str) or not value:
            raise CalendarError.at(path, f"expected a non-empty name, got {value!r}")

    return check


def _aware(path: str, *, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        del instance, attribute
        if value is None and optional:
            return
        instant_us(value, path)

    return check


def _non_negative(path: str, *, optional: bool = False) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        del instance, attribute
        if value is None and optional:
            return
        if duration_us(value, path) < 0:
            raise CalendarError.at(path, f"expected a duration of zero or more, got {value!r}")

    return check


def _to_fraction(value: Any) -> Fraction | None:
    if value is None or isinstance(value, Fraction):
        return value
    try:
        if isinstance(value, str):
            text = value.strip()
            percent = text.endswith("%")
            body = text[:-1].strip() if percent else text
            try:
                exact = Decimal(body)
            except ArithmeticError:  # not a decimal: '1/3' (no exponent, so cheap)
                number = Fraction(body)
            else:
                # The policy loader's range, so that '1E-999999999' (a fraction of
                # ten-to-the-billion) is refused before it is made.
                check_decimal(exact, "fraction")
                number = Fraction(exact)
            return number / 100 if percent else number
        if isinstance(value, float):
            return Fraction(repr(value))  # 0.1 means one tenth, not its binary neighbour
        if isinstance(value, int) and not isinstance(value, bool):
            return Fraction(value)
    except (ValueError, ZeroDivisionError, ArithmeticError):
        pass
    except InvalidValueError as error:
        raise CalendarError(error.problems) from None
    raise CalendarError.at(
        "fraction", f"expected a fraction of the target like '75%' or 0.75, got {value!r}"
    )


def _check_warning(instance: ClockWarning, attribute: object, value: Any) -> None:
    del attribute, value
    if (instance.fraction is None) == (instance.before is None):
        raise CalendarError.at("fraction", "give exactly one of fraction, before")
    if instance.fraction is not None and instance.fraction <= 0:
        raise CalendarError.at(
            "fraction", f"expected a fraction above zero, got {instance.fraction!r}"
        )
    if instance.before is not None and duration_us(instance.before, "before") < 0:
        raise CalendarError.at("before", f"expected a lead time >= 0, got {instance.before!r}")


@attrs.frozen
class ClockWarning:
    """When to warn before a clock's due time: a fraction of its target, or a lead time.

    ``ClockWarning(fraction="75%")`` fires once 75% of the target has elapsed;
    ``ClockWarning(before=timedelta(hours=1))`` fires one *business* hour before due.

    .. versionadded:: 0.1.0
    """

    fraction: Fraction | None = attrs.field(
        default=None, kw_only=True, converter=_to_fraction, validator=_check_warning
    )
    before: timedelta | None = attrs.field(default=None, kw_only=True)
    name: str = attrs.field(default="", kw_only=True)

    def threshold(self, target: timedelta) -> timedelta:
        """The elapsed business time at which this warning fires, for ``target``."""
        return timedelta(microseconds=self.threshold_us(duration_us(target, "target")))

    def threshold_us(self, target: int) -> int:
        """:meth:`threshold` in microseconds, for a target of ``target`` microseconds
        (``duration_us`` of a target): the same arithmetic, without a timedelta made
        and read again.

        Raises:
            CalendarError: ``target`` is not a whole number of microseconds, zero or more.

        .. versionadded:: 0.2.0
        """
        if target.__class__ is not int or target < 0:
            raise CalendarError.at(
                "target", f"expected microseconds (an int) of zero or more, got {target!r}"
            )
        fraction = self.fraction
        if fraction is not None:
            return -(-target * fraction.numerator // fraction.denominator)
        return max(target - duration_us(self.before, "before"), 0)


def _reasons(value: Any) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise CalendarError.at("clocks", f"expected a collection of clock names, got {value!r}")
    names = frozenset(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise CalendarError.at("clocks", f"expected clock names, got {name!r}")
    return names


@attrs.frozen
class PauseRule:
    """Which clocks a pause reason stops: ``PauseRule("waiting_on_customer", {"resolution"})``.

    A reason no rule names (``waiting_on_third_party``, say) pauses nothing: its time
    counts.

    .. versionadded:: 0.1.0
    """

    reason: str = attrs.field(validator=_name("reason"))
    clocks: frozenset[str] = attrs.field(converter=_reasons)


def _check_calendar(instance: object, attribute: object, value: Any) -> None:
    del instance, attribute
    if not isinstance(value, BusinessCalendar):
        raise CalendarError.at("calendar", f"expected a BusinessCalendar, got {value!r}")


def _warnings(value: Any) -> tuple[ClockWarning, ...]:
    items: tuple[ClockWarning, ...] = value
    if value.__class__ is not tuple:  # (a tuple is iterable and its own tuple)
        if not isinstance(value, Iterable) or isinstance(value, str):
            raise CalendarError.at("warnings", f"expected a list of ClockWarning, got {value!r}")
        items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, ClockWarning):
            raise CalendarError.at(f"warnings[{i}]", f"expected a ClockWarning, got {item!r}")
    return items


@attrs.frozen
class ClockSpec:
    """A named clock a policy defines: first response, next update, resolution, limbo…

    Args:
        name: the clock's name, which pause rules refer to.
        target: the business time allowed.
        calendar: the business calendar the clock runs on.
        max_pause: cap on the business time pauses may take off the clock in total;
            past it the clock runs even while paused.  ``None``: no cap.
        warnings: when to warn before the due time.

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=_name("name"))
    target: timedelta = attrs.field(validator=_non_negative("target"))
    calendar: BusinessCalendar = attrs.field(kw_only=True, validator=_check_calendar)
    max_pause: timedelta | None = attrs.field(
        default=None, kw_only=True, validator=_non_negative("max_pause", optional=True)
    )
    warnings: tuple[ClockWarning, ...] = attrs.field(default=(), kw_only=True, converter=_warnings)


def _check_pause(instance: Pause, attribute: object, value: Any) -> None:
    del attribute, value
    start = instant_us(instance.start, "start")
    if instance.end is not None and instant_us(instance.end, "end") < start:
        raise CalendarError.at(
            "end", f"pause ends at {instance.end!r}, before it starts at {instance.start!r}"
        )


@attrs.frozen
class Pause:
    """One stretch of a case waiting for a reason: ``end`` is ``None`` while it lasts.

    .. versionadded:: 0.1.0
    """

    reason: str = attrs.field(validator=_name("reason"))
    start: datetime = attrs.field(validator=_check_pause)
    end: datetime | None = attrs.field(default=None, validator=_check_pause)


def _check_spec(instance: object, attribute: object, value: Any) -> None:
    del instance, attribute
    if not isinstance(value, ClockSpec):
        raise CalendarError.at("spec", f"expected a ClockSpec, got {value!r}")


def _typed_tuple(value: Any, kind: type, path: str) -> tuple[Any, ...]:
    if not isinstance(value, Iterable) or isinstance(value, str):
        raise CalendarError.at(path, f"expected a list of {kind.__name__}, got {value!r}")
    items = tuple(value)
    for i, item in enumerate(items):
        if not isinstance(item, kind):
            raise CalendarError.at(f"{path}[{i}]", f"expected a {kind.__name__}, got {item!r}")
    return items


def _pause_rules(value: Any) -> tuple[PauseRule, ...]:
    return _typed_tuple(value, PauseRule, "pause_rules")


def _pauses(value: Any) -> tuple[Pause, ...]:
    return _typed_tuple(value, Pause, "pauses")


def _check_clock(instance: Clock, attribute: object, value: Any) -> None:
    del attribute, value
    start = instant_us(instance.started_at, "started_at")
    if instance.stopped_at is not None and instant_us(instance.stopped_at, "stopped_at") < start:
        raise CalendarError.at(
            "stopped_at", f"{instance.stopped_at!r} is before started_at {instance.started_at!r}"
        )


@attrs.frozen
class Clock:
    """A running SLA clock: a :class:`ClockSpec`, its start, and its pause history.

    A clock is a pure value.  Every answer is recomputed from the history for the
    instant ``at`` the caller gives: pauses that start after ``at`` are not known yet,
    and a pause still open at ``at`` lasts until ``at`` (for elapsed time) or for ever
    (for due and warning times).  Overlapping pauses count once.  Elapsed time is
    business time since ``started_at``, less the business time the clock was paused
    by a reason that a rule applies to this clock, at most ``spec.max_pause``.

    .. versionadded:: 0.1.0
    """

    spec: ClockSpec = attrs.field(validator=_check_spec)
    started_at: datetime = attrs.field(validator=_check_clock)
    pause_rules: tuple[PauseRule, ...] = attrs.field(
        default=(), kw_only=True, converter=_pause_rules
    )
    pauses: tuple[Pause, ...] = attrs.field(default=(), kw_only=True, converter=_pauses)
    stopped_at: datetime | None = attrs.field(default=None, kw_only=True, validator=_check_clock)

    # --- history -------------------------------------------------------------------------

    @property
    def paused_by(self) -> frozenset[str]:
        """The pause reasons that stop this clock."""
        return frozenset(r.reason for r in self.pause_rules if self.spec.name in r.clocks)

    def pause(self, reason: str, at: datetime) -> Clock:
        """Return the clock with a pause for ``reason`` opened at ``at``.

        Raises:
            CalendarError: a pause for ``reason`` is already open.
        """
        if any(p.reason == reason and p.end is None for p in self.pauses):
            raise CalendarError.at("reason", f"a pause for {reason!r} is already open")
        return attrs.evolve(self, pauses=(*self.pauses, Pause(reason, at)))

    def resume(self, reason: str, at: datetime) -> Clock:
        """Return the clock with the open pause for ``reason`` closed at ``at``.

        Raises:
            CalendarError: no pause for ``reason`` is open, or ``at`` is before it began.
        """
        for i, p in enumerate(self.pauses):
            if p.reason == reason and p.end is None:
                closed = Pause(reason, p.start, at)
                return attrs.evolve(self, pauses=(*self.pauses[:i], closed, *self.pauses[i + 1 :]))
        raise CalendarError.at("reason", f"no pause for {reason!r} is open")

    def stop(self, at: datetime) -> Clock:
        """Return the clock stopped at ``at`` (the response was sent, the case solved).

        Raises:
            CalendarError: the clock is already stopped.
        """
        if self.stopped_at is not None:
            raise CalendarError.at("at", f"the clock already stopped at {self.stopped_at!r}")
        return attrs.evolve(self, stopped_at=at)

    # --- answers -------------------------------------------------------------------------

    def _state(self, at: datetime) -> tuple[Engine, int, int, int | None, list[Span]]:
        """Engine, start, ``at``, stop known at ``at``, merged relevant pauses."""
        now = instant_us(at, "at")
        start = instant_us(self.started_at, "started_at")
        stop = None if self.stopped_at is None else instant_us(self.stopped_at, "stopped_at")
        if stop is not None and stop > now:
            stop = None
        reasons = self.paused_by
        spans = [
            (
                instant_us(p.start, "pauses.start"),
                None if p.end is None else instant_us(p.end, "pauses.end"),
            )
            for p in self.pauses
            if p.reason in reasons
        ]
        return self.spec.calendar._index, start, now, stop, known_pauses(start, now, spans)

    def _cap(self) -> int | None:
        cap = self.spec.max_pause
        return None if cap is None else duration_us(cap, "max_pause")

    def _elapsed_us(self, at: datetime) -> int:
        engine, start, now, stop, pauses = self._state(at)
        return elapsed(engine, start, now if stop is None else stop, pauses, self._cap())

    def _reach(self, at: datetime, thresholds: list[int]) -> list[int | None]:
        """Earliest instant at which elapsed time reaches each threshold, as known at ``at``
        (``None`` where the clock stopped first)."""
        engine, start, _now, stop, pauses = self._state(at)
        found = reach(engine, start, thresholds, pauses, self._cap())
        if stop is None:
            return found
        return [None if f is None or f > stop else f for f in found]

    def elapsed(self, at: datetime) -> timedelta:
        """Business time the clock has run from ``started_at`` to ``at`` (never negative).

        .. versionadded:: 0.1.0
        """
        return timedelta(microseconds=self._elapsed_us(at))

    def remaining(self, at: datetime) -> timedelta:
        """Business time left before the target at ``at``; zero once it is reached.

        .. versionadded:: 0.1.0
        """
        target = duration_us(self.spec.target, "target")
        return timedelta(microseconds=max(target - self._elapsed_us(at), 0))

    def due_at(self, at: datetime) -> datetime | None:
        """The instant the target is reached, as known at ``at``.

        ``None`` when it will never be reached: the clock stopped first, or it is paused
        with no end in sight and no cap.

        .. versionadded:: 0.1.0
        """
        found = self._reach(at, [duration_us(self.spec.target, "target")])[0]
        return None if found is None else self.spec.calendar.datetime_at(found)

    def is_breached(self, at: datetime) -> bool:
        """Whether the clock passed its due time by ``at`` (being due exactly is on time).

        A stopped clock is breached if it stopped after its due time.

        .. versionadded:: 0.1.0
        """
        now = instant_us(at, "at")
        found = self._reach(at, [duration_us(self.spec.target, "target")])[0]
        if found is None:
            return False
        stop = None if self.stopped_at is None else instant_us(self.stopped_at, "stopped_at")
        end = now if stop is None or stop > now else stop
        return found < end

    def is_paused(self, at: datetime) -> bool:
        """Whether a relevant pause holds the clock at ``at`` (and the cap has room).

        .. versionadded:: 0.1.0
        """
        engine, start, now, stop, pauses = self._state(at)
        return stop is None and paused(engine, start, now, pauses, self._cap())

    def warning_times(self, at: datetime) -> tuple[tuple[ClockWarning, datetime | None], ...]:
        """Each of the spec's warnings with the instant it fires, as known at ``at``.

        .. versionadded:: 0.1.0
        """
        convert = self.spec.calendar.datetime_at
        target = self.spec.target
        warnings = self.spec.warnings
        found = self._reach(at, [duration_us(w.threshold(target), "target") for w in warnings])
        return tuple(
            (warning, None if when is None else convert(when))
            for warning, when in zip(warnings, found, strict=True)
        )
