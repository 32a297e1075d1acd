"""The clocks and the escalation ladder of one decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Final

from cxrecovery.businesstime import (
    BusinessCalendar,
    clock_times_us,
    instant_us,
    reach_us,
)
from cxrecovery.engine._history import changed_at
from cxrecovery.engine._pending import NOTHING_GRANTED, Explained, Pending, new_pending
from cxrecovery.engine._shown import SHOWN
from cxrecovery.engine._support import (
    _TICK,
    EMPTY_ATTRIBUTES,
)
from cxrecovery.engine.compile import clock_target
from cxrecovery.facts import Timeline
from cxrecovery.model import (
    Case,
    Direction,
    Pause,
)
from cxrecovery.plan import (
    ActionKind,
    ClockState,
    ClockStatus,
    Reason,
)
from cxrecovery.policy import ClockPolicy, ClockStart, ClockStop, EscalationLevel, Policy
from cxrecovery.tables import DecisionTable

if TYPE_CHECKING:
    from cxrecovery.engine._slots import Entry, TableSlot
    from cxrecovery.engine.compile import CompiledPolicy, _Target

# A pause as instants: its start, and its end (None while it lasts).
Span = tuple[int, int | None]
# A clock's escalation: level, reason, and the time it was reached (an instant) with
# the calendar it is shown in.
_Level = tuple[int, str, BusinessCalendar, int]
# A time the decision is to be reviewed at: its instant, the calendar it is shown in,
# and the datetime itself when it is not that instant shown (a breach in a zone with DST).
_Review = tuple[int, BusinessCalendar, datetime | None]
# Why a level is due, for its reason: the escalation table (None for a clock's level),
# its path and row, the level, and the reason's text (a row's: its outputs, which hold
# it, read when the plan's actions are).
_Why = tuple[DecisionTable | None, str, str, int, object]
# The members compared against, read off their enums once: reading a member off its
# class goes through the enum's metaclass, several times dearer than a global.
_OPENED: Final = ClockStart.OPENED
_LAST_UPDATE: Final = ClockStart.LAST_UPDATE
_LAST_PROGRESS: Final = ClockStart.LAST_PROGRESS
_LAST_CUSTOMER_CONTACT: Final = ClockStart.LAST_CUSTOMER_CONTACT
_FIRST_RESPONSE: Final = ClockStop.FIRST_RESPONSE
_RESOLVED: Final = ClockStop.RESOLVED
_CLOSED: Final = ClockStop.CLOSED
_OUTBOUND: Final = Direction.OUTBOUND
_INBOUND: Final = Direction.INBOUND
_MET: Final = ClockStatus.MET
_MISSED: Final = ClockStatus.MISSED
_BREACHED: Final = ClockStatus.BREACHED
_PAUSED: Final = ClockStatus.PAUSED
_RUNNING: Final = ClockStatus.RUNNING
_ESCALATE: Final = ActionKind.ESCALATE
# An escalation's fields between its due time and its level (it grants nothing; its
# level is the last of those NOTHING_GRANTED leaves unset).
_NO_GRANT: Final = NOTHING_GRANTED[:-1]
# A clock state's maker, by position: the fields the decision sets (the due time and
# the warnings are shown on first read).
_STATE: Final = ClockState._deferring(
    "name", "status", "target", "started_at", "stopped_at", "calendar", "rule"
)


class _ClockSteps:
    """The clock and escalation steps of :class:`~cxrecovery.engine._decision._Decision`."""

    __slots__ = ("clock_dues", "instants")

    engine: CompiledPolicy
    policy: Policy
    case: Case
    at: datetime
    #: ``at`` in microseconds since the epoch when the caller gave it (a sweep), else 0.
    at_us: int
    timeline: Timeline
    is_open: bool
    pending: list[Pending]
    reviews: list[datetime]
    _slots: Mapping[str, TableSlot]
    #: Each clock state's due time as an instant with the calendar that shows it (in the
    #: order of ``clocks()``'s states), for steps that need a due time without the state's
    #: shown values (which are filled on first read).
    clock_dues: list[tuple[int | None, BusinessCalendar]]
    #: The case's times ``clocks()`` made instants, by the identity of the datetime (the
    #: case's own, alive for the decision): the escalation's anchor is often one of them.
    instants: Mapping[int, int]

    def future(self, when: datetime | None) -> None:
        raise NotImplementedError

    def shown(self, when: datetime) -> str:
        """``when`` as a plan's text shows it: in the customer's zone, else the case's
        (the offset it opened with), so that one plan never mixes zones. The plan's
        fields keep the exact instant."""
        return self.case.local_time(when).isoformat()

    def _entry(self, table: DecisionTable, slot: TableSlot) -> Entry:
        raise NotImplementedError

    def decided(
        self, name: str, table: DecisionTable, path: str, what: str
    ) -> tuple[Mapping[str, object], str] | None:
        raise NotImplementedError

    def lacking(self, path: str, what: str) -> bool:
        raise NotImplementedError

    def row_reason(self, table: DecisionTable, path: str, row: str, text: str) -> Reason:
        raise NotImplementedError

    def reason(self, rule: str, text: str, *names: str) -> Reason:
        raise NotImplementedError

    # --- clocks and escalation -----------------------------------------------------------

    def clocks(self) -> tuple[list[ClockState], list[_Level]]:
        """Each clock's state, and the escalation levels its warnings and breach reached,
        worked out on instants: a state's due time and warnings are shown in its zone when
        read (:func:`_shown`; an add's result is within the years a calendar shows, so
        that cannot fail). Only the earliest of the clocks' reviews joins the decision's
        (the first of equal instants: ``earliest()`` of them all is the same)."""
        states: list[ClockState] = []
        self.clock_dues = dues = []
        levels: list[_Level] = []
        # Due and warning times are compared with the decision time as instants, in
        # integer microseconds: comparing a calendar's datetimes (in its zone) with
        # ``at`` (a fixed offset) converts both on every comparison. The caller's (a
        # sweep works it out once for all its cases), else made when a clock first needs
        # it (0 until then): a stopped clock no pause touches does not (its verdict is
        # its due time against its stop), and in a closed case only the first response
        # runs.
        at_us = self.at_us
        # The earliest review: its instant, and the calendar and instant it is shown
        # from (or the datetime itself, a breach's in a zone with DST).
        review: _Review | None = None
        # The case's times as instants, each converted once (clocks share starts).
        known: dict[int, int] = {}
        self.instants = known
        engine = self.engine
        tables = engine._targets
        is_open = self.is_open
        for clock in self.policy.clocks:
            if clock.stop is not _FIRST_RESPONSE and not is_open:
                continue
            table = tables[clock.name]
            found = self.decided(table.name, table.table, table.path, table.what)
            if found is None:  # a person decides this clock's target; the rest stands
                continue
            out, row = found
            compiled = table.rows[row]
            # (The row's own outputs, as a first-hit table gives them: its target.)
            if compiled is None or (
                out is not compiled.outputs and compiled.text != out["target"]
            ):
                # A row whose spec failed when the engine was built (this raises again),
                # or a target that is not the row's own (an aggregating table).
                compiled = clock_target(engine, clock, row, out["target"])
            reached, start, start_us, stopped, met, paused, at_us = self.clock_times(
                clock, compiled, at_us, known
            )
            calendar = compiled.calendar
            due_us = reached[0] if reached else None
            if met is not None:
                status = _MET if met else _MISSED
            elif due_us is not None and due_us < at_us:
                status = _BREACHED
            elif paused:
                status = _PAUSED
            else:
                status = _RUNNING
            if stopped is None:
                review = self.running(compiled, reached, at_us, levels, review)
            dues.append((due_us, calendar))
            states.append(
                _STATE(  # due_at and warnings shown on first read, a part each
                    partial(SHOWN, calendar, reached, compiled, start_us),
                    clock.name,
                    status,
                    compiled.target,
                    start,
                    stopped,
                    clock.calendar,
                    compiled.rule,
                )
            )
        if review is not None:
            shown = review[2]
            self.reviews.append(shown if shown is not None else review[1].datetime_at(review[0]))
        return states, levels

    def running(
        self,
        compiled: _Target,
        reached: Sequence[int | None],
        at_us: int,
        levels: list[_Level],
        review: _Review | None,
    ) -> _Review | None:
        """A running clock's warnings and breach: the earliest review so far (a warning
        ahead, or a microsecond after the due time), and the levels reached by now."""
        calendar = compiled.calendar
        due_us = reached[0]
        i = 0
        for _name, level, text in compiled.points:
            i += 1
            when_us = reached[i]
            if when_us is None:
                continue
            if when_us > at_us:
                if review is None or when_us < review[0]:
                    review = (when_us, calendar, None)
            elif level is not None:
                levels.append((level, text, calendar, when_us))
        if due_us is None:
            return review
        # Being due exactly is on time: the breach begins a microsecond later. (In a
        # zone with DST, a microsecond later on the wall clock, which in a fold is not
        # the next instant: worked out as a datetime, as it is.)
        if compiled.fixed:
            if due_us >= at_us and (review is None or due_us + 1 < review[0]):
                review = (due_us + 1, calendar, None)
        else:
            after = calendar.datetime_at(due_us) + _TICK
            if after > self.at:
                after_us = instant_us(after, "due")
                if review is None or after_us < review[0]:
                    review = (after_us, calendar, after)
        level, text = compiled.breach
        if level is not None and due_us < at_us:
            levels.append((level, text, calendar, due_us))
        return review

    def clock_times(
        self, clock: ClockPolicy, compiled: _Target, at_us: int, known: dict[int, int]
    ) -> tuple[Sequence[int | None], datetime, int, datetime | None, bool | None, bool, int]:
        """A clock's due time and warning times (as instants), when it started (and as an
        instant), when it stopped (``None`` while it runs), whether it met its target
        (``None`` while it runs), whether it is paused at the decision time, and the
        decision time as an instant (``at_us``: 0 until a clock needs it, made then).

        One computation for every clock (``clock_times_us``, the arithmetic of ``Clock``):
        a clock no pause touches is additions from its start (``reach_us``). The due and
        warning times are those of a clock that kept running; a stopped clock gives its
        due time alone (its warnings are worked out when its state is shown, from the
        same start). ``known`` keeps the case's times as instants, by identity (the
        case's own datetimes, alive for the decision): clocks often share a start.
        """
        case = self.case
        at = self.at
        kind = clock.start
        if kind is _OPENED:
            start = case.opened_at
        elif kind is _LAST_PROGRESS:
            start = self.timeline.last_progress
        else:
            start = case.opened_at
            if kind is _LAST_UPDATE:
                for tp in case.touchpoints:
                    if tp.at > at:
                        break
                    if tp.direction is _OUTBOUND or tp.agent:
                        start = tp.at
            elif kind is _LAST_CUSTOMER_CONTACT:
                for tp in case.touchpoints:
                    if tp.at > at:
                        break
                    if tp.direction is _INBOUND:
                        start = tp.at
        stop = clock.stop
        stopped = None
        if stop is _FIRST_RESPONSE:
            for tp in case.touchpoints:
                if tp.at > at:
                    break
                if tp.at >= start and (tp.direction is _OUTBOUND or tp.agent):
                    stopped = tp.at
                    break
        elif stop is _RESOLVED or stop is _CLOSED:
            when = case.closed_at if stop is _CLOSED else case.resolved_at or case.closed_at
            if when is not None and when <= at:
                stopped = when
        case_pauses = case.pauses
        if not at_us and (stopped is None or case_pauses):
            at_us = instant_us(at, "at")
        # (Between the opening and the decision time, which decide() holds to the years
        # 1900 to 2200: within those a calendar computes from.)
        start_us = known.get(id(start))
        if start_us is None:
            start_us = known[id(start)] = instant_us(start, "start")
        spans = _spans(case_pauses, clock.pauses, known) if case_pauses else None
        stop_us = None
        if stopped is not None:
            stop_us = known.get(id(stopped))
            if stop_us is None:
                stop_us = known[id(stopped)] = instant_us(stopped, "end")
        if spans:
            reached, met, paused = _paused(compiled, start_us, spans, stop_us, at_us)
            return reached, start, start_us, stopped, met, paused, at_us
        if stop_us is not None:
            reached = reach_us(compiled.calendar, start_us, compiled.due_only)
            met = met_by(compiled.calendar, reached[0], stop_us)
            return reached, start, start_us, stopped, met, False, at_us
        reached = reach_us(compiled.calendar, start_us, compiled.durations)
        return reached, start, start_us, stopped, None, False, at_us

    def escalation(self, clock_levels: list[_Level]) -> tuple[int, list[_Why], datetime]:
        """The escalation level due, why (its reasons, made when the plan's actions are
        read) and the instant it counts from: the latest of the facts' last change (when
        a row of the escalation table applies) and each level's clock time."""
        policy = self.policy
        why: list[_Why] = []
        level = 0
        anchor = self.case.opened_at
        if not self.is_open:
            return 0, why, anchor
        name = policy.escalation.table
        if name is not None:
            path = f"tables.{name}"
            table = self.engine._compiled.tables[name]
            slot = self._slots[path]
            # A host fact it reads without a value: a person decides the level.
            if not (slot.hosts and self.lacking(path, "the escalation level")):
                # The table's outputs and chosen rows, as its result would hold them.
                outcome = self._entry(table, slot)[2]
                outputs = outcome[1]
                if isinstance(outputs, tuple):  # each row's reason is read with the plan's
                    for row, out in zip(outcome[3], outputs, strict=False):
                        row_level = int(out["level"])
                        if row_level > level:
                            level = row_level
                        why.append((table, path, row, row_level, out))
            if why:  # the facts' last change: never before the opening, the first of equals
                anchor = self.facts_changed_at()
        if clock_levels:
            # The latest as instants, the first of equals: max(..., key=instant), with
            # the instants the clocks computed; shown in its calendar's zone once.
            anchor_us = self.instants.get(id(anchor))
            if anchor_us is None:
                anchor_us = instant_us(anchor, "anchor")
            clock_anchor = None
            for clock_level, text, calendar, when_us in clock_levels:
                if clock_level > level:
                    level = clock_level
                why.append((None, "clocks", "", clock_level, text))
                if when_us > anchor_us:
                    anchor_us = when_us
                    clock_anchor = calendar
            if clock_anchor is not None:
                anchor = clock_anchor.datetime_at(anchor_us)
        return level, why, anchor

    def facts_changed_at(self) -> datetime:
        """The last instant at or before the decision at which an event changed the facts."""
        return changed_at(self.case, self.at, own_acts=True)

    def escalate(self, level: int, why: list[_Why], anchor: datetime) -> None:
        rung = self.policy.escalation.level(level)
        if rung is None:
            return
        due = anchor + rung.respond_within
        self.pending.append(
            new_pending(  # every field, in order: see Pending
                Pending,
                (
                    _ESCALATE,
                    _escalation_words,
                    (level, rung, due, why),
                    rung.role,
                    due,
                    *_NO_GRANT,
                    level,
                    None,  # channel
                ),
            )
        )


def _escalation_words(
    d: _ClockSteps, level: int, rung: EscalationLevel, due: datetime, why: list[_Why]
) -> Explained:
    """What an escalation says: to whom, by when, and why (each reason through the
    decision's memo, as made when the plan is read)."""
    reasons = tuple(
        [
            d.reason("clocks", f"level {at}: {text}")
            if table is None
            else d.row_reason(table, path, row, f"level {at}: {text['reason']}")  # type: ignore[index]
            for table, path, row, at, text in why
        ]
    )
    return _escalation_summary(d, level, rung, due, why), EMPTY_ATTRIBUTES, reasons


def _escalation_summary(
    d: _ClockSteps, level: int, rung: EscalationLevel, due: datetime, why: list[_Why]
) -> str:
    """:func:`_escalation_words`' summary alone (the same words, without its reasons)."""
    return (
        f"Escalate to level {level} ({rung.name or rung.role}): {rung.role} acts by {d.shown(due)}"
    )


# Each explainer here whose summary can be worded alone, and the function that does
# (the explainer's own): for a reader that shows an action's summary only (a sweep).
SUMMARIES: Final[Mapping[object, Callable[..., str]]] = {_escalation_words: _escalation_summary}


def met_by(calendar: BusinessCalendar, due_us: int | None, stop_us: int) -> bool:
    """Whether a clock no pause touches, due at ``due_us``, met its target by stopping at
    ``stop_us``: whether the business time from its start to its stop is no more than
    its target (the plain rule, ``between_us(start, stop) <= target``), read off its due
    time. Business time reaches the target at the due time and grows only while the
    calendar is open: the clock met it when it stopped by its due time, or when the
    calendar stayed closed from its due time to its stop. One addition (the due time,
    which the clock shows anyway) instead of a measure, for a clock that met its target.
    """
    assert due_us is not None  # no pause: every threshold is reached
    return stop_us <= due_us or calendar.between_us(due_us, stop_us) == 0


def _spans(pauses: Sequence[Pause], reasons: frozenset[str], known: dict[int, int]) -> list[Span]:
    """The pauses for ``reasons`` as instants, each time converted once a decision
    (``known``, as :meth:`_ClockSteps.clock_times` keeps the case's times: the clocks a
    pause stops share it)."""
    spans: list[Span] = []
    for p in pauses:
        if p.reason in reasons:
            began = p.started_at
            start_us = known.get(id(began))
            if start_us is None:
                start_us = known[id(began)] = instant_us(began, "pauses.started_at")
            ended = p.ended_at
            end_us = None
            if ended is not None:
                end_us = known.get(id(ended))
                if end_us is None:
                    end_us = known[id(ended)] = instant_us(ended, "pauses.ended_at")
            spans.append((start_us, end_us))
    return spans


def _paused(
    compiled: _Target, start_us: int, spans: list[Span], stop_us: int | None, at_us: int
) -> tuple[Sequence[int | None], bool | None, bool]:
    """:meth:`_ClockSteps.clock_times` of a clock that pauses touch (``spans``)."""
    times = clock_times_us(
        compiled.calendar,
        start_us,
        compiled.durations,
        at=at_us,
        pauses=spans,
        max_pause=compiled.max_pause_us,
        stopped=stop_us,
    )
    ran = times.elapsed_at_stop
    met = None if ran is None else ran <= compiled.target_us
    return times.reached, met, times.paused
