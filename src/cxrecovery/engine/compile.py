"""Compile a policy once: everything a decision needs that depends on the policy alone.

:func:`compile_policy` checks the policy's tables against the facts they read and works
out what every decision would otherwise repeat: the tables with their indexes, each
clock's target rows with their specs, the role ladder, the fact settings, the bounds
where a numeric fact changes a row. :class:`~cxrecovery.Engine` is a compiled policy
with the public verbs (``decide``, ``authorize``, ``facts``, ``sweep``); the analysis
reads a compiled policy's :attr:`~CompiledPolicy.tables` and never an engine's inside.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from cxrecovery.businesstime import ClockSpec, ClockWarning, PauseRule, duration_us
from cxrecovery.engine import authority as _authority
from cxrecovery.engine._support import _Compiled, _duration_text
from cxrecovery.engine.goodwill import GoodwillRule
from cxrecovery.errors import CxRecoveryError, InvalidValueError, PolicyError, Problem
from cxrecovery.facts import (
    BUILTIN_FACTS,
    FactProvider,
    FactSettings,
    Timeline,
    derive_facts,
    derive_facts_but_limbo,
)
from cxrecovery.formats.durations import parse_duration
from cxrecovery.model import Agent, Case
from cxrecovery.money import Money
from cxrecovery.plan import Reason
from cxrecovery.policy import ClockPolicy, Policy, RolePolicy
from cxrecovery.tables import DecisionTable, FactSpec

__all__ = ["CompiledPolicy", "compile_policy"]


def compile_policy(policy: Policy, *, facts: Sequence[FactProvider] = ()) -> CompiledPolicy:
    """Compile ``policy`` (with the host facts its tables may read) once.

    Raises:
        PolicyError: as :class:`~cxrecovery.Engine` does — every problem at once.

    .. versionadded:: 0.2.0
    """
    return CompiledPolicy(policy, facts=facts)


class CompiledPolicy:
    """A policy compiled against the facts it reads: the ground every decision stands on.

    Build it with :func:`compile_policy` (or as an :class:`~cxrecovery.Engine`, which is
    one). The memos inside fill as decisions are made; everything else is fixed when
    it is built.

    .. versionadded:: 0.2.0
    """

    def __init__(self, policy: Policy, *, facts: Sequence[FactProvider] = ()) -> None:
        if not isinstance(policy, Policy):
            raise PolicyError.at(
                "policy", f"{policy!r} is not a Policy; load one with load_policy"
            )
        specs: dict[str, FactSpec] = dict(BUILTIN_FACTS)
        problems: list[Problem] = []
        for i, provider in enumerate(facts):
            if not isinstance(provider, FactProvider):
                problems.append(Problem(f"facts[{i}]", f"{provider!r} is not a FactProvider"))
                continue
            for name, spec in provider.specs().items():
                if name in specs:
                    problems.append(
                        Problem(f"facts[{i}].{name}", "clashes with a fact already defined")
                    )
                specs[name] = spec
        if problems:
            raise PolicyError(problems)
        self.policy = policy
        self._providers = tuple(facts)
        try:
            self._compiled = _Compiled(policy, specs)
        except PolicyError as error:
            if not policy.layers:
                raise
            # A policy read from files: each problem names its file and its path there.
            raise PolicyError(policy.locate(error.problems)) from None
        calendars = policy.calendars
        self._settings = FactSettings(
            calendar=calendars[policy.facts.calendar],
            history_window=policy.facts.history_window,
            goodwill_window=policy.facts.goodwill_window,
            effort_medium_at=policy.facts.effort_medium_at,
            effort_high_at=policy.facts.effort_high_at,
            wait_unit_minutes=max(1, int(policy.facts.wait_unit.total_seconds() // 60)),
            recency_decay=policy.facts.recency_decay,
        )
        self._front = policy.roles[0]
        self._roles: dict[str, RolePolicy] = {}
        for role in policy.roles:
            self._roles.setdefault(role.name, role)  # the first of a name, as policy.role
        self._ladder = _authority.Ladder(policy)
        self._goodwill = GoodwillRule(policy.compensation)
        # The remedy's promised due times by calendar, start (and its fold) and duration
        # (see engine._remedy.remedy): a business-time sum is dear, and a sweep asks few.
        self._promised: dict[tuple[str, datetime, int, timedelta], datetime] = {}
        # The remedy rows' outputs as a decision reads them, by the row's identity.
        self._remedies: dict[int, tuple[object, ...]] = {}
        for clock in policy.clocks:
            # Each pause reason a name, as a PauseRule needs (nothing reads the rules: a
            # clock's pauses are read off its policy): one that is not raises as it would.
            for reason in sorted(clock.pauses):
                if reason.__class__ is not str or not reason:
                    PauseRule(reason, {clock.name})
        self._specs: dict[tuple[str, timedelta], ClockSpec] = {}
        self._targets = compile_targets(self)
        self._limbo_bounds = self._numeric_bounds("limbo_hours")
        # A reason by its rule, text and the facts it cites: a frozen value, shared by
        # plans (see DecisionContext.reason; each table's results have a memo of their
        # own, in its TableSlot).
        self._reason_memo: dict[tuple[object, ...], Reason] = {}

    def _numeric_bounds(self, fact: str) -> tuple[Decimal, ...]:
        """Every bound a table puts on a numeric fact: where its value changes a row."""
        bounds: set[Decimal] = set()
        for table in [*self._compiled.tables.values(), *self._compiled.clock_tables.values()]:
            if fact not in table.inputs:
                continue
            column = table.inputs.index(fact)
            for rule in table.rules:
                for interval in rule.conditions[column].intervals():
                    bounds.update(
                        Decimal(b) for b in (interval.low, interval.high) if b is not None
                    )
        return tuple(sorted(bounds))

    def _clock_spec(self, clock: ClockPolicy, target: timedelta) -> ClockSpec:
        """The clock's spec for a target, built once (targets come from a finite table)."""
        key = (clock.name, target)
        spec = self._specs.get(key)
        if spec is None:
            spec = ClockSpec(
                clock.name,
                target,
                calendar=self.policy.calendars[clock.calendar],
                max_pause=clock.max_pause,
                warnings=clock.warnings,
            )
            self._specs[key] = spec
        return spec

    @property
    def tables(self) -> Mapping[str, DecisionTable]:
        """The policy's decision tables by name, compiled."""
        return self._compiled.tables

    @property
    def clock_tables(self) -> Mapping[str, DecisionTable]:
        """Each clock's target table by clock name, compiled."""
        return self._compiled.clock_tables

    def _facts(
        self, case: Case, at: datetime, goodwill: Money | None = None, *, limbo: bool = True
    ) -> tuple[dict[str, object], Timeline]:
        """The facts of ``case`` (a Case, as the engine's callers give it after
        ``_known``) at ``at``, with the host's and a ledger's ``goodwill``."""
        derive = derive_facts if limbo else derive_facts_but_limbo  # see DecisionContext
        facts, timeline = derive(case, at, self._settings)
        if goodwill is not None:
            goodwill = _money_arg(goodwill, "goodwill", optional=False)
            assert goodwill is not None  # not optional: Money or raised
            # A ledger knows the customer's goodwill better than the case document does.
            value = case.failure.value_at_stake
            if value is not None and goodwill.currency != value.currency:
                raise InvalidValueError.at(
                    "goodwill", f"{goodwill} is not in {value.currency}, the case's currency"
                )
            facts["recent_goodwill"] = goodwill.amount
        for provider in self._providers:
            facts.update(provider.compute(case, at))
        return facts, timeline

    def _role(self, agent: Agent | None) -> RolePolicy:
        if agent is None:
            return self._front
        if not isinstance(agent, Agent):
            raise InvalidValueError.at("agent", f"{agent!r} is not an Agent")
        role = self._roles.get(agent.role)
        if role is None:
            names = ", ".join(r.name for r in self.policy.roles)
            raise InvalidValueError.at(
                "agent.role", f"{agent.role!r} is not a role of this policy ({names})"
            )
        return role


class _Target:
    """One row of a clock's target table, worked out when the engine is built.

    A decision only looks the row up: the target is parsed, the spec built, each
    warning's threshold computed and the texts the plan shows written once.
    """

    __slots__ = (
        "breach",
        "calendar",
        "due_only",
        "durations",
        "fixed",
        "max_pause_us",
        "outputs",
        "points",
        "rule",
        "spec",
        "target",
        "target_us",
        "text",
        "warnings",
    )

    def again(self, rule: str, text: object) -> _Target:
        """This target for another row of its clock's table with the same duration: the
        same spec and times, made without working them out again."""
        made = _Target.__new__(_Target)
        made.text = text
        made.outputs = None
        made.spec = self.spec
        made.calendar = self.calendar
        made.fixed = self.fixed
        made.target = self.target
        made.rule = rule
        made.warnings = self.warnings
        made.target_us = self.target_us
        made.durations = self.durations
        made.due_only = self.due_only
        made.max_pause_us = self.max_pause_us
        made.points = self.points
        made.breach = self.breach
        return made

    def __init__(
        self, spec: ClockSpec, rule: str, text: object, escalate: Mapping[str, int]
    ) -> None:
        target = spec.target
        self.text = text  # the row's then.target, as the table gives it
        # The outputs of the row it was made from, when made from a row (see _Rows).
        self.outputs: Mapping[str, object] | None = None
        self.spec = spec
        # The calendar it runs on, and whether its zone has one UTC offset for all time.
        self.calendar = calendar = spec.calendar
        self.fixed = calendar.fixed_offset
        self.target = target
        self.rule = rule
        self.warnings: tuple[ClockWarning, ...] = spec.warnings
        # The due time's duration first, then each warning's threshold, in microseconds.
        self.target_us = target_us = duration_us(target, "target")
        self.durations = (target_us, *[w.threshold_us(target_us) for w in spec.warnings])
        self.due_only = (target_us,)  # the due time's alone (a stopped clock's)
        cap = spec.max_pause  # the cap on the time pauses take off, in microseconds
        self.max_pause_us = None if cap is None else duration_us(cap, "max_pause")
        name = spec.name
        # Per warning: its name, the level it escalates to (if any) and the reason text.
        self.points: tuple[tuple[str, int | None, str], ...] = tuple(
            [
                (w.name, escalate.get(w.name), f"{name} clock passed {w.name} of its target")
                for w in spec.warnings
            ]
        )
        self.breach: tuple[int | None, str] = (
            escalate.get("breach"),
            f"{name} clock breached its {_duration_text(target)} target",
        )


class _ClockTable:
    """A clock's target table, its names and its compiled rows, for the decision."""

    __slots__ = ("name", "path", "rows", "table", "what")

    def __init__(self, engine: CompiledPolicy, clock: ClockPolicy, table: DecisionTable) -> None:
        self.table = table
        self.name = f"{clock.name}_targets"
        self.path = f"clocks.{clock.name}.targets"
        self.what = f"the {clock.name} clock's target"  # what a person decides without it
        self.rows = _Rows(engine, clock, table)


class _Rows(dict[str, "_Target | None"]):
    """A clock's compiled target rows by rule id, each compiled on its first use (a
    decision looks up the one row its table chose): ``rows[row]`` is the row (a dict's
    look-up once compiled), or ``None`` for a row whose spec fails (deciding with it
    raises that again, where it is used) or that the table does not have. A row made
    here keeps its rule's outputs (``_Target.outputs``): a decision that chose the row
    by them needs no look at their target."""

    __slots__ = ("_clock", "_engine", "_made", "_table")

    def __init__(self, engine: CompiledPolicy, clock: ClockPolicy, table: DecisionTable) -> None:
        # (Empty as made: dict.__init__ would add nothing.)
        self._engine = engine
        self._clock = clock
        self._table = table
        # The rows made, by their spec's identity: rows of one duration share their times.
        self._made: dict[int, _Target] = {}

    def __missing__(self, row: str) -> _Target | None:
        found: _Target | None = None
        for rule in self._table.rules:  # the first of the id (ids are unique)
            if rule.id == row:
                outputs = rule.outputs
                try:
                    found = clock_target(
                        self._engine, self._clock, row, outputs["target"], self._made
                    )
                except CxRecoveryError:  # bad input: decide() raises it if the row is used
                    found = None
                else:
                    found.outputs = outputs
                break
        self[row] = found
        return found


def clock_target(
    engine: CompiledPolicy,
    clock: ClockPolicy,
    row: str,
    target: object,
    made: dict[int, _Target] | None = None,
) -> _Target:
    """The compiled target row ``row`` of ``clock``, whose ``then.target`` is ``target``
    (a copy of a row ``made`` holds for the same spec, when there is one; the row is
    kept there).

    Raises what the clock's spec raises for this target (a negative duration, say).
    """
    spec = engine._clock_spec(clock, parse_duration(str(target)))
    rule = f"clocks.{clock.name}.targets[{row}]"
    if made is None:
        return _Target(spec, rule, target, clock.escalate)
    like = made.get(id(spec))
    if like is not None:
        return like.again(rule, target)
    found = made[id(spec)] = _Target(spec, rule, target, clock.escalate)
    return found


def compile_targets(engine: CompiledPolicy) -> dict[str, _ClockTable]:
    """Every clock's target table, its rows compiled on first use (see :class:`_Rows`)."""
    return {
        clock.name: _ClockTable(engine, clock, engine._compiled.clock_tables[clock.name])
        for clock in engine.policy.clocks
    }


def _money_arg(value: object, name: str, *, optional: bool = True) -> Money | None:
    """``value`` if it is Money (or ``None``, when optional); else InvalidValueError."""
    if isinstance(value, Money) or (optional and value is None):
        return value
    raise InvalidValueError.at(name, f"{value!r} is not Money")
