"""The clocks and the escalation ladder of one decision."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from cxrecovery._engine_support import (
    _TICK,
    EMPTY_ATTRIBUTES,
    _duration_text,
    instant,
)
from cxrecovery.businesstime import Clock, ClockSpec, ClockWarning
from cxrecovery.businesstime import Pause as ClockPause
from cxrecovery.businesstime._time import duration_us
from cxrecovery.documents import parse_duration
from cxrecovery.errors import CxRecoveryError
from cxrecovery.facts import Timeline
from cxrecovery.model import (
    Case,
    Direction,
)
from cxrecovery.plan import (
    Action,
    ActionKind,
    ClockState,
    ClockStatus,
    Reason,
    WarningTime,
)
from cxrecovery.policy import ClockPolicy, ClockStart, ClockStop, Policy
from cxrecovery.tables import DecisionTable, TableResult

if TYPE_CHECKING:
    from cxrecovery.engine import Engine


class _Target:
    """One row of a clock's target table, worked out when the engine is built.

    A decision only looks the row up: the target is parsed, the spec built, each
    warning's threshold computed and the texts the plan shows written once.
    """

    __slots__ = (
        "breach_text",
        "durations",
        "passed",
        "rule",
        "spec",
        "target",
        "text",
        "warnings",
    )

    def __init__(self, spec: ClockSpec, rule: str, text: object) -> None:
        target = spec.target
        self.text = text  # the row's then.target, as the table gives it
        self.spec = spec
        self.target = target
        self.rule = rule
        self.warnings: tuple[ClockWarning, ...] = spec.warnings
        # The due time's duration first, then each warning's threshold, in microseconds.
        self.durations = (
            duration_us(target, "target"),
            *(duration_us(w.threshold(target), "target") for w in spec.warnings),
        )
        name = spec.name
        self.passed = {
            w.name: f"{name} clock passed {w.name} of its target" for w in spec.warnings
        }
        self.breach_text = f"{name} clock breached its {_duration_text(target)} target"


def clock_target(engine: Engine, clock: ClockPolicy, row: str, target: object) -> _Target:
    """The compiled target row ``row`` of ``clock``, whose ``then.target`` is ``target``.

    Raises what the clock's spec raises for this target (a negative duration, say).
    """
    spec = engine._clock_spec(clock, parse_duration(str(target)))
    return _Target(spec, f"clocks.{clock.name}.targets[{row}]", target)


def compile_targets(engine: Engine) -> dict[str, dict[str, _Target]]:
    """Every clock's target rows, compiled; a row whose spec fails is left out, so
    that deciding with it fails as it always did, when the row is used."""
    compiled: dict[str, dict[str, _Target]] = {}
    for clock in engine.policy.clocks:
        rows = compiled[clock.name] = {}
        for rule in engine._compiled.clock_tables[clock.name].rules:
            try:
                rows[rule.id] = clock_target(engine, clock, rule.id, rule.outputs["target"])
            except CxRecoveryError:  # bad input: decide() raises it again if the row is used
                continue
    return compiled


class _ClockSteps:
    """The clock and escalation steps of :class:`~cxrecovery._decision._Decision`."""

    engine: Engine
    policy: Policy
    case: Case
    at: datetime
    timeline: Timeline
    is_open: bool
    actions: list[Action]

    def future(self, when: datetime | None) -> None:
        raise NotImplementedError

    def evaluate(self, name: str, table: DecisionTable, path: str) -> TableResult:
        raise NotImplementedError

    def single(
        self, name: str, table: DecisionTable, path: str
    ) -> tuple[Mapping[str, object], str]:
        raise NotImplementedError

    def row_reason(self, table: DecisionTable, path: str, row: str, text: str) -> Reason:
        raise NotImplementedError

    def reason(self, rule: str, text: str, *names: str) -> Reason:
        raise NotImplementedError

    # --- clocks and escalation -----------------------------------------------------------

    def clock_start(self, clock: ClockPolicy) -> datetime:
        case = self.case
        at = self.at
        if clock.start is ClockStart.OPENED:
            return case.opened_at
        if clock.start is ClockStart.LAST_PROGRESS:
            return self.timeline.last_progress
        latest = case.opened_at
        if clock.start is ClockStart.LAST_UPDATE:
            for tp in case.touchpoints:
                if tp.at > at:
                    break
                if tp.direction is Direction.OUTBOUND or tp.agent:
                    latest = tp.at
        elif clock.start is ClockStart.LAST_CUSTOMER_CONTACT:
            for tp in case.touchpoints:
                if tp.at > at:
                    break
                if tp.direction is Direction.INBOUND:
                    latest = tp.at
        return latest

    def clock_stop(self, clock: ClockPolicy, start: datetime) -> datetime | None:
        case = self.case
        at = self.at
        if clock.stop is ClockStop.FIRST_RESPONSE:
            for tp in case.touchpoints:
                if tp.at > at:
                    break
                if tp.at >= start and (tp.direction is Direction.OUTBOUND or tp.agent):
                    return tp.at
            return None
        if clock.stop is ClockStop.RESOLVED:
            when = case.resolved_at or case.closed_at
            return when if when is not None and when <= at else None
        if clock.stop is ClockStop.CLOSED:
            return case.closed_at if case.closed_at is not None and case.closed_at <= at else None
        return None

    def clocks(self) -> tuple[list[ClockState], list[tuple[int, str, datetime]]]:
        states: list[ClockState] = []
        levels: list[tuple[int, str, datetime]] = []
        policy = self.policy
        at = self.at
        engine = self.engine
        for clock in policy.clocks:
            if clock.stop is not ClockStop.FIRST_RESPONSE and not self.is_open:
                continue
            out, row = self.single(
                f"{clock.name}_targets",
                engine._compiled.clock_tables[clock.name],
                f"clocks.{clock.name}.targets",
            )
            compiled = engine._targets[clock.name].get(row)
            if compiled is None or compiled.text != out["target"]:
                # A row whose spec failed when the engine was built (this raises again),
                # or a target that is not the row's own (an aggregating table).
                compiled = clock_target(engine, clock, row, out["target"])
            target = compiled.target
            start = self.clock_start(clock)
            stopped = self.clock_stop(clock, start)
            spec = compiled.spec
            pauses = (
                tuple(
                    ClockPause(
                        p.reason,
                        max(p.started_at, start),
                        min(p.ended_at, at) if p.ended_at and p.ended_at <= at else None,
                    )
                    for p in self.case.pauses
                    if p.reason in clock.pauses
                    and p.started_at <= at
                    and (p.ended_at is None or p.ended_at > start)
                )
                if self.case.pauses
                else ()
            )
            calendar = spec.calendar
            fired: Iterable[tuple[ClockWarning, datetime | None]]
            if pauses:
                running = Clock(
                    spec,
                    start,
                    pause_rules=engine._pause_rules[clock.name],
                    pauses=pauses,
                    stopped_at=stopped,
                )
                due = running.due_at(at)
                elapsed_at_stop = running.elapsed(stopped) if stopped is not None else None
                paused = running.is_paused(at)
                fired = running.warning_times(at)
            else:
                # No pause touches this clock: it is plain business-time arithmetic, the
                # due time and every warning counted from the one start.
                due, *warned = calendar._add_each(start, compiled.durations)
                elapsed_at_stop = calendar.between(start, stopped) if stopped is not None else None
                paused = False
                fired = zip(compiled.warnings, warned, strict=True)
            if elapsed_at_stop is not None:
                met_in_time = elapsed_at_stop <= target
                status = ClockStatus.MET if met_in_time else ClockStatus.MISSED
            elif due is not None and due < at:
                status = ClockStatus.BREACHED
            elif paused:
                status = ClockStatus.PAUSED
            else:
                status = ClockStatus.RUNNING
            warnings: list[WarningTime] = []
            for warning, when in fired:
                if when is None:
                    continue
                warnings.append(WarningTime(warning.name, when))
                if stopped is None:
                    self.future(when)
                    level = clock.escalate.get(warning.name)
                    if level is not None and when <= at:
                        levels.append((level, compiled.passed[warning.name], when))
            if stopped is None and due is not None:
                # Being due exactly is on time: the breach begins a microsecond later.
                self.future(due + _TICK)
                level = clock.escalate.get("breach")
                if level is not None and due < at:
                    levels.append((level, compiled.breach_text, due))
            states.append(
                ClockState(
                    name=clock.name,
                    status=status,
                    target=target,
                    started_at=start,
                    due_at=due,
                    stopped_at=stopped,
                    calendar=clock.calendar,
                    warnings=tuple(warnings),
                    rule=compiled.rule,
                )
            )
        return states, levels

    def escalation(
        self, clock_levels: list[tuple[int, str, datetime]]
    ) -> tuple[int, list[Reason], datetime]:
        policy = self.policy
        reasons: list[Reason] = []
        level = 0
        anchor = self.case.opened_at
        if not self.is_open:
            return 0, reasons, anchor
        name = policy.escalation.table
        if name is not None:
            result = self.evaluate(name, self.engine._compiled.tables[name], f"tables.{name}")
            outputs = result.outputs if isinstance(result.outputs, tuple) else ()
            table = self.engine._compiled.tables[name]
            for row, out in zip(result.chosen, outputs, strict=False):
                row_level = int(out["level"])  # type: ignore[call-overload]
                level = max(level, row_level)
                text = f"level {row_level}: {out['reason']}"
                reasons.append(self.row_reason(table, f"tables.{name}", row, text))
            if reasons:
                anchor = max(anchor, self.facts_changed_at(), key=instant)
        for clock_level, text, when in clock_levels:
            level = max(level, clock_level)
            reasons.append(self.reason("clocks", f"level {clock_level}: {text}"))
            anchor = max(anchor, when, key=instant)
        return level, reasons, anchor

    def facts_changed_at(self) -> datetime:
        """The last instant at or before the decision at which an event changed the facts."""
        times = [self.case.opened_at]
        times.extend(tp.at for tp in self.case.touchpoints if tp.at <= self.at)
        for promise in self.case.promises:
            if promise.made_at <= self.at:
                times.append(promise.made_at)
            if promise.settled_at is not None and promise.settled_at <= self.at:
                times.append(promise.settled_at)
            elif promise.is_pending and promise.due < self.at:
                times.append(promise.due)
        times.extend(g.at for g in self.case.grants if g.at <= self.at)
        return max(times, key=instant)

    def escalate(self, level: int, reasons: list[Reason], anchor: datetime) -> None:
        rung = self.policy.escalation.level(level)
        if rung is None:
            return
        due = anchor + rung.respond_within
        self.actions.append(
            Action(
                ActionKind.ESCALATE,
                f"Escalate to level {level} ({rung.name or rung.role}): {rung.role} acts by "
                f"{due.isoformat()}",
                owner=rung.role,
                due=due,
                level=level,
                details=EMPTY_ATTRIBUTES,
                reasons=tuple(reasons),
            )
        )
