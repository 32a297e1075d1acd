"""SLA clocks: pauses by reason, caps, due and warning times, recomputed from history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxrecovery.businesstime import (
    BusinessCalendar,
    Clock,
    ClockSpec,
    ClockWarning,
    Pause,
    PauseRule,
    clock_times_us,
    duration_us,
    instant_us,
    reach_us,
)
from cxrecovery.errors import CalendarError

NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
OFFICE = BusinessCalendar("America/New_York", hours={"mon-fri": ["09:00-17:00"]})
RULES = (
    PauseRule("waiting_on_customer", {"resolution"}),
    PauseRule("on_hold", {"resolution", "first_response"}),
)


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def resolution(target: timedelta = 8 * H, **kwargs) -> ClockSpec:
    return ClockSpec("resolution", target, calendar=OFFICE, **kwargs)


def test_a_running_clock() -> None:
    clock = Clock(resolution(), ny(2026, 3, 2, 13))
    at = ny(2026, 3, 2, 15)
    assert 2 * H == clock.elapsed(at)
    assert 6 * H == clock.remaining(at)
    assert ny(2026, 3, 3, 13) == clock.due_at(at)
    assert not clock.is_breached(at)
    assert not clock.is_breached(ny(2026, 3, 3, 13))  # due exactly is on time
    assert clock.is_breached(ny(2026, 3, 3, 13, 0, 1))


def test_a_reason_pauses_only_the_clocks_its_rule_names() -> None:
    start = ny(2026, 3, 2, 9)
    pauses = (Pause("waiting_on_customer", ny(2026, 3, 2, 10), ny(2026, 3, 2, 12)),)
    res = Clock(resolution(), start, pause_rules=RULES, pauses=pauses)
    first = Clock(
        ClockSpec("first_response", 4 * H, calendar=OFFICE),
        start,
        pause_rules=RULES,
        pauses=pauses,
    )
    at = ny(2026, 3, 2, 13)
    assert 2 * H == res.elapsed(at)
    assert 4 * H == first.elapsed(at)
    assert res.paused_by == {"waiting_on_customer", "on_hold"}
    assert first.paused_by == {"on_hold"}


def test_an_unlisted_reason_counts() -> None:
    clock = Clock(resolution(), ny(2026, 3, 2, 9), pause_rules=RULES)
    clock = clock.pause("waiting_on_third_party", ny(2026, 3, 2, 10))
    assert 3 * H == clock.elapsed(ny(2026, 3, 2, 12))
    assert not clock.is_paused(ny(2026, 3, 2, 12))


def test_an_open_pause_without_cap_has_no_due_time() -> None:
    clock = Clock(resolution(), ny(2026, 3, 2, 9), pause_rules=RULES)
    clock = clock.pause("waiting_on_customer", ny(2026, 3, 2, 10))
    at = ny(2026, 3, 4, 10)
    assert H == clock.elapsed(at)
    assert clock.is_paused(at)
    assert clock.due_at(at) is None
    assert not clock.is_breached(at)
    resumed = clock.resume("waiting_on_customer", ny(2026, 3, 4, 10))
    assert ny(2026, 3, 4, 17) == resumed.due_at(ny(2026, 3, 4, 10))


def test_the_pause_cap_lets_the_clock_run_again() -> None:
    spec = resolution(max_pause=2 * H)
    clock = Clock(spec, ny(2026, 3, 2, 9), pause_rules=RULES).pause(
        "waiting_on_customer", ny(2026, 3, 2, 10)
    )
    at = ny(2026, 3, 2, 15)
    assert 4 * H == clock.elapsed(at)  # 1 h, then 2 h paused (the cap), then 3 h counted
    assert not clock.is_paused(at)
    assert clock.is_paused(ny(2026, 3, 2, 11))
    assert ny(2026, 3, 3, 11) == clock.due_at(at)


def test_a_stopped_clock_freezes() -> None:
    clock = Clock(resolution(), ny(2026, 3, 2, 9)).stop(ny(2026, 3, 2, 11))
    assert 2 * H == clock.elapsed(ny(2026, 3, 9, 9))
    assert clock.due_at(ny(2026, 3, 9, 9)) is None
    assert not clock.is_breached(ny(2026, 3, 9, 9))
    late = Clock(resolution(H), ny(2026, 3, 2, 9)).stop(ny(2026, 3, 2, 11))
    assert late.is_breached(ny(2026, 3, 9, 9))
    # Before the stop is known the clock still runs.
    assert H == clock.elapsed(ny(2026, 3, 2, 10))


def test_the_future_is_not_known_yet() -> None:
    pauses = (Pause("waiting_on_customer", ny(2026, 3, 2, 14), ny(2026, 3, 2, 16)),)
    clock = Clock(resolution(), ny(2026, 3, 2, 9), pause_rules=RULES, pauses=pauses)
    assert ny(2026, 3, 2, 17) == clock.due_at(ny(2026, 3, 2, 13))
    assert ny(2026, 3, 3, 11) == clock.due_at(ny(2026, 3, 2, 17))


def test_warning_instants() -> None:
    spec = resolution(
        warnings=[
            ClockWarning(fraction="50%"),
            ClockWarning(fraction=0.75),
            ClockWarning(before=H, name="last hour"),
            ClockWarning(fraction=1),
        ]
    )
    clock = Clock(spec, ny(2026, 3, 2, 13))
    times = [t for _, t in clock.warning_times(ny(2026, 3, 2, 13))]
    assert [
        ny(2026, 3, 2, 17),
        ny(2026, 3, 3, 11),
        ny(2026, 3, 3, 12),
        ny(2026, 3, 3, 13),
    ] == times


def test_clock_bad_input() -> None:
    with pytest.raises(CalendarError, match="target"):
        resolution(-H)
    with pytest.raises(CalendarError, match="calendar"):
        ClockSpec("x", H, calendar="office")  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="started_at"):
        Clock(resolution(), datetime(2026, 3, 2, 9))
    with pytest.raises(CalendarError, match="end"):
        Pause("on_hold", ny(2026, 3, 2, 10), ny(2026, 3, 2, 9))
    with pytest.raises(CalendarError, match="clocks"):
        PauseRule("on_hold", "resolution")
    with pytest.raises(CalendarError, match="fraction"):
        ClockWarning(fraction="lots")
    with pytest.raises(CalendarError, match="fraction"):
        ClockWarning()
    clock = Clock(resolution(), ny(2026, 3, 2, 9)).pause("on_hold", ny(2026, 3, 2, 10))
    with pytest.raises(CalendarError, match="already open"):
        clock.pause("on_hold", ny(2026, 3, 2, 11))
    with pytest.raises(CalendarError, match="no pause"):
        clock.resume("waiting_on_customer", ny(2026, 3, 2, 11))
    with pytest.raises(CalendarError, match="at"):
        clock.elapsed("now")  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="pauses"):
        Clock(resolution(), ny(2026, 3, 2, 9), pauses=["on_hold"])  # type: ignore[list-item]


# --- properties against a minute walk ----------------------------------------------------

BASE = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday; the span crosses New York's DST change
SPAN = 10 * 24 * 60
REASONS = ("waiting_on_customer", "on_hold", "waiting_on_third_party")


@st.composite
def histories(draw: st.DrawFn):
    start = draw(st.integers(0, 3 * 24 * 60))
    pauses = []
    for _ in range(draw(st.integers(0, 5))):
        s = draw(st.integers(0, SPAN - 1))
        e = draw(st.none() | st.integers(s, SPAN))
        pauses.append((draw(st.sampled_from(REASONS)), s, e))
    cap = draw(st.none() | st.integers(0, 20 * 60))
    target = draw(st.integers(0, 40 * 60))
    stop = draw(st.none() | st.integers(start, SPAN))
    return start, pauses, cap, target, stop


def at_minute(m: int) -> datetime:
    return BASE + timedelta(minutes=m)


def build(history) -> Clock:
    start, pauses, cap, target, stop = history
    spec = resolution(
        timedelta(minutes=target), max_pause=None if cap is None else timedelta(minutes=cap)
    )
    return Clock(
        spec,
        at_minute(start),
        pause_rules=RULES,
        pauses=[Pause(r, at_minute(s), None if e is None else at_minute(e)) for r, s, e in pauses],
        stopped_at=None if stop is None else at_minute(stop),
    )


def walk(history, now: int) -> int:
    """Elapsed minutes at ``now`` by walking every minute."""
    start, pauses, cap, _target, stop = history
    end = now if stop is None or stop > now else stop
    elapsed = credit = 0
    for m in range(start, end):
        if not OFFICE.is_open(at_minute(m)):
            continue
        paused = any(
            r != "waiting_on_third_party" and s <= m < (now if e is None or e > now else e)
            for r, s, e in pauses
            if s <= now
        )
        if paused and (cap is None or credit < cap):
            credit += 1
        else:
            elapsed += 1
    return elapsed


@given(history=histories(), now=st.integers(0, SPAN))
def test_elapsed_matches_the_minute_walk(history, now) -> None:
    clock = build(history)
    assert timedelta(minutes=walk(history, now)) == clock.elapsed(at_minute(now))


@given(history=histories(), now=st.integers(0, SPAN))
def test_pauses_never_make_elapsed_negative_or_exceed_the_cap(history, now) -> None:
    clock = build(history)
    at = at_minute(now)
    elapsed = clock.elapsed(at)
    assert elapsed >= timedelta(0)
    start, _pauses, cap, _target, stop = history
    end = at if stop is None or stop > now else at_minute(stop)
    business = OFFICE.between(at_minute(start), end) if end > at_minute(start) else timedelta(0)
    assert elapsed <= business
    if cap is not None:
        assert elapsed >= business - timedelta(minutes=cap)


@given(history=histories(), now=st.integers(0, SPAN))
def test_overlapping_pauses_count_once(history, now) -> None:
    clock = build(history)
    doubled = Clock(
        clock.spec,
        clock.started_at,
        pause_rules=clock.pause_rules,
        pauses=clock.pauses + clock.pauses,
        stopped_at=clock.stopped_at,
    )
    at = at_minute(now)
    assert clock.elapsed(at) == doubled.elapsed(at)
    assert clock.due_at(at) == doubled.due_at(at)


@given(history=histories())
def test_a_clock_replayed_from_events_matches_its_history(history) -> None:
    start, pauses, cap, target, _stop = history
    events = []
    for r, s, e in pauses:
        events.append((s, 1, "pause", r))
        if e is not None:
            events.append((e, 0, "resume", r))
    clock = build((start, [], cap, target, None))
    kept = []
    open_reasons: dict[str, int] = {}
    for when, _order, kind, reason in sorted(events):
        if kind == "pause" and reason not in open_reasons:
            clock = clock.pause(reason, at_minute(when))
            open_reasons[reason] = when
        elif kind == "resume" and reason in open_reasons:
            clock = clock.resume(reason, at_minute(when))
            kept.append((reason, open_reasons.pop(reason), when))
    kept.extend((r, s, None) for r, s in open_reasons.items())
    rebuilt = build((start, kept, cap, target, None))
    for now in (0, SPAN // 3, SPAN):
        at = at_minute(now)
        assert rebuilt.elapsed(at) == clock.elapsed(at)
        assert rebuilt.due_at(at) == clock.due_at(at)


@given(history=histories(), now=st.integers(0, SPAN))
def test_due_and_warning_times_are_when_elapsed_reaches_them(history, now) -> None:
    start, pauses, cap, target, stop = history
    clock = build((start, pauses, cap, target, stop))
    spec = ClockSpec(
        "resolution",
        clock.spec.target,
        calendar=OFFICE,
        max_pause=clock.spec.max_pause,
        warnings=[ClockWarning(fraction="50%"), ClockWarning(before=30 * MIN)],
    )
    clock = Clock(
        spec, clock.started_at, pause_rules=RULES, pauses=clock.pauses, stopped_at=clock.stopped_at
    )
    at = at_minute(now)
    due = clock.due_at(at)
    if due is not None and due <= at:
        assert clock.spec.target == clock.elapsed(due)
    # Asked after every event, the due time is when elapsed reaches the target, and
    # the clock is breached exactly when it ran (or stopped) past it.
    end = at_minute(SPAN + 24 * 60)
    due = clock.due_at(end)
    if due is not None:
        assert clock.spec.target == clock.elapsed(due)
        finish = end if clock.stopped_at is None else clock.stopped_at
        assert clock.is_breached(end) == (due < finish)
    else:
        assert not clock.is_breached(end)
    for warning, t in clock.warning_times(end):
        if t is not None:
            assert warning.threshold(spec.target) == clock.elapsed(t)


@pytest.mark.parametrize("fraction", ["1E-999999999%", "1E+999999999", "1E-999999999", "NaN%"])
def test_a_warning_fraction_out_of_the_document_range_is_refused_at_once(fraction: str) -> None:
    import time

    started = time.process_time()
    with pytest.raises(CalendarError) as caught:
        ClockWarning(fraction=fraction)
    assert time.process_time() - started < 0.5
    assert caught.value.problems[0].path == "fraction"


@pytest.mark.parametrize(
    ("fraction", "expected"), [("75%", "3/4"), ("0.5", "1/2"), ("1/3", "1/3"), ("1E-2", "1/100")]
)
def test_a_warning_fraction_in_range_reads_exactly(fraction: str, expected: str) -> None:
    from fractions import Fraction

    assert ClockWarning(fraction=fraction).fraction == Fraction(expected)


# --- the instant-level clock against Clock and against plain calendar arithmetic ---------


def _us(moment: datetime) -> int:
    return instant_us(moment, "at")


@given(history=histories(), now=st.integers(0, SPAN), lead=st.integers(0, 30 * 60))
def test_clock_times_us_answers_what_the_clock_answers(history, now, lead) -> None:
    start, pauses, cap, target, stop = history
    if stop is not None and stop > now:
        stop = None  # the engine asks about a stop it knows of
    spec = ClockSpec(
        "resolution",
        timedelta(minutes=target),
        calendar=OFFICE,
        max_pause=None if cap is None else timedelta(minutes=cap),
        warnings=[ClockWarning(fraction="50%"), ClockWarning(before=timedelta(minutes=lead))],
    )
    clock = Clock(
        spec,
        at_minute(start),
        pause_rules=RULES,
        pauses=[Pause(r, at_minute(s), None if e is None else at_minute(e)) for r, s, e in pauses],
    )
    at = at_minute(now)
    thresholds = [duration_us(spec.target, "t")] + [
        duration_us(w.threshold(spec.target), "t") for w in spec.warnings
    ]
    times = clock_times_us(
        OFFICE,
        _us(at_minute(start)),
        thresholds,
        at=_us(at),
        pauses=[
            (_us(at_minute(s)), None if e is None else _us(at_minute(e)))
            for r, s, e in pauses
            if r != "waiting_on_third_party"  # the reasons RULES apply to this clock
        ],
        max_pause=None if cap is None else cap * 60_000_000,
        stopped=None if stop is None else _us(at_minute(stop)),
    )
    # The clock running on (its stop left out): the instants do not depend on a stop.
    due = clock.due_at(at)
    assert times.reached[0] == (None if due is None else _us(due))
    warned = [None if t is None else _us(t) for _, t in clock.warning_times(at)]
    assert times.reached[1:] == warned
    if stop is None:
        assert times.elapsed_at_stop is None
        assert times.paused == clock.is_paused(at)
    else:
        stopped = attrs.evolve(clock, stopped_at=at_minute(stop))
        assert times.elapsed_at_stop == duration_us(stopped.elapsed(at_minute(stop)), "e")
        assert times.paused is False
        assert not stopped.is_paused(at)
        # Clock.due_at is the same instant, or None when the clock stopped first.
        stopped_due = stopped.due_at(at)
        if due is not None and _us(due) <= _us(at_minute(stop)):
            assert stopped_due == due
        else:
            assert stopped_due is None


@given(
    case=st.tuples(st.integers(0, SPAN), st.none() | st.integers(0, SPAN)),
    thresholds=st.lists(st.integers(0, 60 * 60_000_000), max_size=4),
)
def test_a_clock_without_pauses_is_additions_from_its_start(case, thresholds) -> None:
    start_m, stop_m = case
    start = _us(at_minute(start_m))
    now = _us(at_minute(SPAN))
    stop = None if stop_m is None else _us(at_minute(max(stop_m, start_m)))
    times = clock_times_us(OFFICE, start, thresholds, at=now, stopped=stop)
    assert times.reached == [OFFICE.add_us(start, d) for d in thresholds]
    assert reach_us(OFFICE, start, thresholds) == times.reached
    expected = None if stop is None else OFFICE.between_us(start, stop)
    assert times.elapsed_at_stop == expected
    assert times.paused is False
    # A pause that starts after the decision time is not known yet: nothing changes.
    later = clock_times_us(
        OFFICE, start, thresholds, at=now, pauses=[(now + 1, None)], stopped=stop
    )
    assert later == times


def test_clock_times_us_checks_its_start() -> None:
    with pytest.raises(CalendarError, match="start"):
        clock_times_us(OFFICE, 1.5, [0], at=0)  # type: ignore[arg-type]
    with pytest.raises(CalendarError, match="start"):
        clock_times_us(OFFICE, -(10**18), [0], at=0)
    with pytest.raises(CalendarError, match="start"):
        reach_us(OFFICE, -(10**18), [0])
    with pytest.raises(CalendarError, match="target"):  # a result beyond the years computed
        reach_us(OFFICE, _us(at_minute(0)), [10**18])


def test_an_open_pause_without_cap_holds_every_threshold_past_it() -> None:
    start = _us(ny(2026, 3, 2, 9))
    pause = _us(ny(2026, 3, 2, 10))
    at = _us(ny(2026, 3, 2, 12))
    times = clock_times_us(
        OFFICE, start, [0, 30 * 60_000_000, 2 * 3600_000_000], at=at, pauses=[(pause, None)]
    )
    # Zero is reached at the start, 30 min before the pause, two hours never.
    assert times.reached == [start, start + 30 * 60_000_000, None]
    assert times.paused is True
    capped = clock_times_us(
        OFFICE,
        start,
        [2 * 3600_000_000],
        at=at,
        pauses=[(pause, None)],
        max_pause=3600_000_000,
    )
    # An hour of the pause counts off; then the clock runs: 09-10 and 11-12 make two hours.
    assert capped.reached == [_us(ny(2026, 3, 2, 12))]
    assert capped.paused is False  # at noon the hour's cap is used up


@given(
    target=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
    fraction=st.fractions(min_value=Fraction(1, 10_000), max_value=Fraction(3)),
    before=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3650)),
)
def test_a_threshold_in_microseconds_is_the_threshold(target, fraction, before) -> None:
    """``threshold_us`` of a target's microseconds is ``threshold`` in microseconds, for a
    fraction and a lead time alike (what an engine's compiled clock targets add)."""
    for warning in (ClockWarning(fraction=fraction), ClockWarning(before=before)):
        assert warning.threshold_us(duration_us(target, "t")) == duration_us(
            warning.threshold(target), "t"
        )


@pytest.mark.parametrize("target", [-1, 1.5, "3600", True, None, timedelta(hours=1)])
def test_a_threshold_in_microseconds_refuses_what_is_not_microseconds(target) -> None:
    with pytest.raises(CalendarError, match="target"):
        ClockWarning(fraction=Fraction(1, 2)).threshold_us(target)


class _Span(timedelta):
    """A timedelta subclass: read through ``//``, as any subclass is."""


@given(st.timedeltas())
def test_duration_us_reads_a_timedelta_and_a_subclass_alike(value) -> None:
    us = value // timedelta(microseconds=1)
    assert duration_us(value, "d") == us
    assert duration_us(_Span(microseconds=us), "d") == us
