"""Findings across a whole policy: the ladder, escalation, clocks, calendars and unused
definitions (compensation's are in ``_compensation``)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from cxrecovery.analysis._findings import Finding, FindingSeverity
from cxrecovery.analysis._sweep import column_cells
from cxrecovery.errors import InvalidValueError
from cxrecovery.formats.durations import parse_duration
from cxrecovery.money import Money
from cxrecovery.policy import ClockPolicy, ClockStop, Policy, RolePolicy
from cxrecovery.tables import DecisionTable, FactSpec, Scalar

__all__ = [
    "calendar_findings",
    "clock_findings",
    "escalation_findings",
    "ladder_findings",
    "role_findings",
    "unused_findings",
]

_E, _W = FindingSeverity.ERROR, FindingSeverity.WARNING
# A first-response target is compared with a resolution target for a case opened at
# each hour of a reference fortnight (a Monday, so weekends and both ends of the week
# are in it).
_REFERENCE: Final = datetime(2026, 1, 5, tzinfo=UTC)
_STARTS: Final = tuple(_REFERENCE + timedelta(hours=h) for h in range(14 * 24))


# --- the ladder and escalation -----------------------------------------------------------


def _money_falls(lower: Mapping[str, Money], higher: Mapping[str, Money]) -> list[str]:
    if not higher:
        return []  # no limit binds the higher role
    if not lower:
        return ["is limited where the role below is not"]
    out: list[str] = []
    for currency, amount in sorted(lower.items()):
        if currency not in higher:
            continue  # a currency without limits: see ladder_findings
        if higher[currency].amount < amount.amount:
            out.append(f"{higher[currency]} is below the role below's {amount}")
    return out


def _falls(lower: RolePolicy, higher: RolePolicy) -> list[str]:
    """Every limit in which ``higher`` allows less than ``lower``."""
    out: list[str] = []
    for name in ("max_ratio", "max_forms"):
        low, high = getattr(lower, name), getattr(higher, name)
        if high is not None and (low is None or high < low):
            out.append(f"{name} {high} is below the role below's {low or 'no limit'}")
    for name in ("max_per_case", "max_per_period", "max_per_customer"):
        out.extend(
            f"{name}: {text}" for text in _money_falls(getattr(lower, name), getattr(higher, name))
        )
    missing = lower.forms - higher.forms
    if missing:
        out.append(f"forms: may not grant {', '.join(sorted(f.value for f in missing))}")
    return out


def _allows_more(lower: RolePolicy, higher: RolePolicy) -> bool:
    """Whether ``higher`` may approve something ``lower`` may not."""
    if higher.handles_critical and not lower.handles_critical:
        return True
    if higher.forms - lower.forms:
        return True
    for name in ("max_ratio", "max_forms"):
        low, high = getattr(lower, name), getattr(higher, name)
        if low is not None and (high is None or high > low):
            return True
    for name in ("max_per_case", "max_per_customer"):
        low_map, high_map = getattr(lower, name), getattr(higher, name)
        if low_map and not high_map:
            return True
        for currency, amount in high_map.items():
            if low_map and (currency not in low_map or amount.amount > low_map[currency].amount):
                return True
    return False


def role_findings(policy: Policy) -> list[Finding]:
    """Limits that fall as the rank rises."""
    findings: list[Finding] = []
    for lower, higher in itertools.pairwise(policy.roles):
        problems = _falls(lower, higher)
        if problems:
            findings.append(
                Finding(
                    "roles.not_increasing",
                    _W,
                    f"roles[{higher.name}]",
                    f"ranks above {lower.name} but allows less: " + "; ".join(problems),
                )
            )
    return findings


_MONEY_LIMITS: Final = ("max_per_case", "max_per_period", "max_per_customer")


def ladder_findings(policy: Policy) -> list[Finding]:
    """Currencies some limits leave out, and amounts up to the hard cap nobody may grant.

    A currency named in any role's money limits is one the policy accepts. A role whose
    money limit of some kind names other currencies but not this one may not grant in
    it at all: for the engine that is a missing limit, never an unlimited one, so it is
    reported. And for each accepted currency some role must be unbounded in money (it
    gives no limit of that kind), or amounts above the highest limit have no approver
    however small a share of the value they are.
    """
    findings: list[Finding] = []
    accepted: set[str] = set()
    for role in policy.roles:
        for name in _MONEY_LIMITS:
            accepted.update(getattr(role, name))
    for role in policy.roles:
        for name in _MONEY_LIMITS:
            limits: Mapping[str, Money] = getattr(role, name)
            missing = sorted(accepted - set(limits)) if limits else []
            if missing:
                findings.append(
                    Finding(
                        "roles.currency_without_limits",
                        _W,
                        f"roles[{role.name}].{name}",
                        f"no limit in {', '.join(missing)}, which other limits of the "
                        f"policy accept: {role.name} may never grant in "
                        f"{'it' if len(missing) == 1 else 'them'}; give a limit, or leave "
                        "the currency out everywhere (it then goes to a person's judgement)",
                    )
                )
    holes: list[str] = []
    for currency in sorted(accepted):
        highest: Money | None = None
        for role in policy.roles:
            bound: Money | None = None
            for name in ("max_per_case", "max_per_customer"):
                limits = getattr(role, name)
                if not limits:
                    continue
                found = limits.get(currency)
                if found is None:
                    bound = Money.zero(currency)  # may not grant in it at all
                    break
                bound = found if bound is None or found < bound else bound
            if bound is None:
                break  # a role unbounded in money: every amount has an approver
            highest = bound if highest is None or bound > highest else highest
        else:
            if highest is not None:
                holes.append(f"above {highest}")
    if holes:
        findings.append(
            Finding(
                "ladder.hole",
                _E,
                "roles",
                f"no role may grant compensation {', '.join(holes)} in one case, though "
                f"it may be under the hard cap of {policy.compensation.hard_cap_ratio} of "
                "the value at stake: such amounts have no approver; leave the top role "
                "without a money limit",
            )
        )
    return findings


def escalation_findings(policy: Policy) -> list[Finding]:
    """Escalation levels whose roles do not climb the ladder."""
    findings: list[Finding] = []
    levels = policy.escalation.levels
    for before, after in itertools.pairwise(levels):
        first, second = policy.role(before.role), policy.role(after.role)
        if first is not None and second is not None and second.rank < first.rank:
            findings.append(
                Finding(
                    "escalation.role_order",
                    _W,
                    f"escalation.levels[{levels.index(after)}].role",
                    f"level {after.level} hands the case to {second.name} (rank {second.rank}), "
                    f"below level {before.level}'s {first.name} (rank {first.rank})",
                )
            )
    return findings


# --- clocks and calendars ----------------------------------------------------------------


def _open_time(policy: Policy, name: str, as_of: datetime) -> timedelta:
    return policy.calendars[name].between(as_of, as_of + timedelta(days=366))


def calendar_findings(policy: Policy, as_of: datetime) -> tuple[list[Finding], set[str]]:
    """Calendars with no open time in the year from ``as_of``; and their names."""
    findings: list[Finding] = []
    never: set[str] = set()
    for name in sorted(policy.calendars):
        if _open_time(policy, name, as_of) == timedelta(0):
            never.add(name)
            findings.append(
                Finding(
                    "calendar.never_open",
                    _E,
                    f"calendars.{name}",
                    f"has no open time in the year from {as_of.date().isoformat()}: every "
                    "deadline counted on it is never reached",
                )
            )
    return findings, never


def _target_pairs(
    first: DecisionTable, second: DecisionTable
) -> dict[tuple[str, str], dict[str, Scalar]]:
    specs: dict[str, FactSpec] = {}
    conditions: dict[str, list[object]] = {}
    for table in (first, second):
        for index, (name, spec) in enumerate(zip(table.inputs, table.input_facts, strict=True)):
            specs[name] = spec
            conditions.setdefault(name, []).extend(r.conditions[index] for r in table.rules)
    names = sorted(specs)
    cells = [column_cells(specs[n], conditions[n]) for n in names]  # type: ignore[arg-type]
    pairs: dict[tuple[str, str], dict[str, Scalar]] = {}
    for combo in itertools.product(*cells):
        facts = {n: c.value for n, c in zip(names, combo, strict=True)}
        try:
            a, b = first.evaluate(facts).outputs, second.evaluate(facts).outputs
        except InvalidValueError:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            pairs.setdefault((str(a["target"]), str(b["target"])), facts)
    return pairs


def clock_findings(
    policy: Policy, clock_tables: Mapping[str, DecisionTable], never_open: set[str]
) -> list[Finding]:
    """First-response targets due after the resolution target, whenever a case opens."""
    findings: list[Finding] = []
    responses = [c for c in policy.clocks if c.stop is ClockStop.FIRST_RESPONSE]
    ends = [c for c in policy.clocks if c.stop in (ClockStop.RESOLVED, ClockStop.CLOSED)]
    for response, end in itertools.product(responses, ends):
        if response.start != end.start or {response.calendar, end.calendar} & never_open:
            continue
        first, second = clock_tables.get(response.name), clock_tables.get(end.name)
        if first is None or second is None:
            continue
        for (early, late), facts in _target_pairs(first, second).items():
            if _always_later(policy, response, early, end, late):
                findings.append(
                    Finding(
                        "clock.inconsistent_targets",
                        _E,
                        f"clocks.{response.name}.targets",
                        f"the first response ({early} on {response.calendar!r}) is due after "
                        f"the {end.name} target ({late} on {end.calendar!r}) whenever the case "
                        "opens",
                        example=facts,
                    )
                )
                break
    return findings


def _always_later(
    policy: Policy, response: ClockPolicy, early: str, end: ClockPolicy, late: str
) -> bool:
    try:
        first, second = parse_duration(early), parse_duration(late)
    except InvalidValueError:
        return False  # reported by the engine when it compiles the table
    a, b = policy.calendars[response.calendar], policy.calendars[end.calendar]
    return all(a.add(start, first) > b.add(start, second) for start in _STARTS)


# --- unused definitions ------------------------------------------------------------------


def unused_findings(policy: Policy, tables: Mapping[str, DecisionTable]) -> list[Finding]:
    """Tables, calendars, tiers, roles and escalation levels nothing refers to."""
    findings: list[Finding] = []
    used_tables = {policy.compensation.table, policy.promises.table, policy.escalation.table}
    findings.extend(
        Finding("unused.table", _W, f"tables.{name}", "no part of the policy reads this table")
        for name in sorted(policy.tables)
        if name not in used_tables
    )
    calendars = {
        policy.facts.calendar,
        policy.promises.calendar,
        policy.follow_up_calendar,
        *(c.calendar for c in policy.clocks),
    }
    remedy = tables.get(policy.promises.table)
    if remedy is not None:
        calendars.update(str(r.outputs.get("calendar")) for r in remedy.rules)
    findings.extend(
        Finding("unused.calendar", _W, f"calendars.{name}", "nothing is counted on this calendar")
        for name in sorted(policy.calendars)
        if name not in calendars
    )
    comp = policy.compensation
    recovery = tables.get(comp.table)
    if recovery is not None:
        named = {str(r.outputs.get("tier")) for r in recovery.rules}
        reached = set(named)
        if comp.fault_step:
            reached.update(
                comp.step(n, comp.fault_step).name for n in named if _is_tier(policy, n)
            )
        findings.extend(
            Finding(
                "unused.tier",
                _W,
                f"compensation.tiers[{i}]",
                f"tier {tier.name} is never chosen: no row of {comp.table} names it, nor does "
                "the fault step reach it",
            )
            for i, tier in enumerate(comp.tiers)
            if tier.name not in reached
        )
    escalated = {lv.role for lv in policy.escalation.levels}
    for lower, higher in itertools.pairwise(policy.roles):
        if higher.name not in escalated and not _allows_more(lower, higher):
            findings.append(
                Finding(
                    "unused.role",
                    _W,
                    f"roles[{higher.name}]",
                    "owns no escalation level and may approve nothing the role below "
                    f"({lower.name}) may not: it is never needed",
                )
            )
    levels = {c for clock in policy.clocks for c in clock.escalate.values()}
    escalation = tables.get(policy.escalation.table) if policy.escalation.table else None
    if escalation is not None:
        levels.update(r.outputs.get("level") for r in escalation.rules)  # type: ignore[misc]
    findings.extend(
        Finding(
            "unused.escalation_level",
            _W,
            f"escalation.levels[{i}]",
            f"level {level.level} is reached by no row of the escalation table and no clock",
        )
        for i, level in enumerate(policy.escalation.levels)
        if level.level not in levels
    )
    return findings


def _is_tier(policy: Policy, name: str) -> bool:
    return any(t.name == name for t in policy.compensation.tiers)
