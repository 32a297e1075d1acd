"""Reading a policy document, section by section, into a :class:`Policy`: every problem
found, each with its path, raised together."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from cxrecovery.businesstime import BusinessCalendar
from cxrecovery.errors import InvalidValueError, PolicyError
from cxrecovery.formats.reader import MISSING, Missing, Reader, join
from cxrecovery.policy._fingerprint import canonical, fingerprint
from cxrecovery.policy._model import (
    CompensationPolicy,
    EscalationPolicy,
    FactPolicy,
    Policy,
    PromisePolicy,
    RolePolicy,
)
from cxrecovery.policy._sections import (
    names_of,
    read_clocks,
    read_compensation,
    read_escalation,
    read_promises,
    read_roles,
)

__all__ = ["facts_calendar", "parse"]

_TOP = (
    "policy",
    "calendars",
    "facts",
    "roles",
    "compensation",
    "tables",
    "promises",
    "clocks",
    "escalation",
    "follow_up",
)


def parse(data: Mapping[str, Any]) -> Policy:
    r = Reader()
    r.mapping(data, "", _TOP)
    header = r.mapping(data.get("policy", {}), "policy", ("name", "version", "description"))
    name = r.field(header, "name", "policy", r.text)
    version = r.field(header, "version", "policy", r.text)
    description = r.field(header, "description", "policy", r.text, "")

    calendars = _calendars(r, data.get("calendars"))
    calendar_name = _calendar_name(r, set(calendars), data.get("calendars"))
    facts = _facts(r, data.get("facts", {}), calendar_name)
    roles = read_roles(r, data.get("roles"))
    role_names = _role_names(roles, data.get("roles"))
    compensation = read_compensation(r, data.get("compensation"))
    tables = _tables(r, data.get("tables", {}))
    clocks = read_clocks(r, data.get("clocks", {}), calendar_name)
    escalation = read_escalation(r, data.get("escalation"), role_names, tables)
    promises = read_promises(r, data.get("promises"), calendar_name, tables)
    follow = r.mapping(data.get("follow_up", {}), "follow_up", ("calendar", "recognise_staff"))
    follow_calendar = r.field(
        follow, "calendar", "follow_up", calendar_name, facts_calendar(facts)
    )
    recognise = r.field(follow, "recognise_staff", "follow_up", r.boolean, True)

    if isinstance(compensation, CompensationPolicy) and compensation.table not in tables:
        r.fail("compensation.table", f"{compensation.table!r} is not a table of this policy")
    if r.problems:
        raise PolicyError(r.problems)
    # With no problem recorded every part was read; the asserts only narrow types.
    assert isinstance(name, str)
    assert isinstance(version, str)
    assert isinstance(description, str)
    assert isinstance(facts, FactPolicy)
    assert isinstance(compensation, CompensationPolicy)
    assert isinstance(escalation, EscalationPolicy)
    assert isinstance(promises, PromisePolicy)
    assert isinstance(follow_calendar, str)
    assert isinstance(recognise, bool)
    document = canonical(data)
    return Policy(
        name=name,
        version=version,
        description=description,
        calendars=calendars,
        facts=facts,
        roles=tuple(sorted(roles, key=lambda role: role.rank)),
        compensation=compensation,
        tables=tables,
        clocks=tuple(clocks),
        escalation=escalation,
        promises=promises,
        remedy_table=promises.table,
        follow_up_calendar=follow_calendar,
        recognise_staff=recognise,
        document=document,
        fingerprint=fingerprint(document, is_canonical=True),
    )


def _calendar_name(
    r: Reader, known: set[str], raw: object
) -> Callable[[object, str], str | Missing]:
    """A reader of a calendar's name, failing on a name the policy does not define."""
    # A calendar with problems of its own is still a calendar: one mistake, one problem.
    broken = (
        {name for name in raw if isinstance(name, str)} - known
        if isinstance(raw, Mapping)
        else set()
    )

    def calendar_name(value: object, path: str) -> str | Missing:
        text = r.text(value, path)
        if isinstance(text, str) and text in broken:
            return MISSING
        if isinstance(text, str) and text not in known:
            return r.fail(path, f"{text!r} is not a calendar of this policy ({names_of(known)})")
        return text

    return calendar_name


def _role_names(roles: list[RolePolicy], raw: object) -> set[str]:
    # Names of roles that had other problems still count: one mistake, one problem.
    return {role.name for role in roles} | {
        item["name"]
        for item in (raw if isinstance(raw, list) else [])
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    }


def facts_calendar(facts: FactPolicy | Missing) -> str | Missing:
    return facts.calendar if isinstance(facts, FactPolicy) else MISSING


def _calendars(r: Reader, value: object) -> dict[str, BusinessCalendar]:
    result: dict[str, BusinessCalendar] = {}
    if value is None:
        r.fail("calendars", "missing (required): define at least one business calendar")
        return result
    for key, spec in r.mapping(value, "calendars").items():
        path = join("calendars", str(key))
        if isinstance(r.name(key, path), Missing):
            continue
        if not isinstance(spec, Mapping):
            r.fail(path, "expected a calendar table")
            continue
        try:
            result[key] = BusinessCalendar.from_dict(spec)
        except InvalidValueError as error:
            r.absorb(error, path)
    return result


def _facts(r: Reader, value: object, calendar_name: Any) -> FactPolicy | Missing:
    keys = (
        "calendar",
        "history_window",
        "goodwill_window",
        "effort_medium_at",
        "effort_high_at",
        "wait_unit",
        "recency_decay",
    )
    data = r.mapping(value, "facts", keys)
    d = FactPolicy(calendar="")
    fields = {
        "calendar": r.field(data, "calendar", "facts", calendar_name),
        "history_window": r.field(data, "history_window", "facts", r.duration, d.history_window),
        "goodwill_window": r.field(
            data, "goodwill_window", "facts", r.duration, d.goodwill_window
        ),
        "effort_medium_at": r.field(
            data, "effort_medium_at", "facts", r.integer, d.effort_medium_at
        ),
        "effort_high_at": r.field(data, "effort_high_at", "facts", r.integer, d.effort_high_at),
        "wait_unit": r.field(data, "wait_unit", "facts", r.duration, d.wait_unit),
        "recency_decay": r.field(data, "recency_decay", "facts", r.ratio, d.recency_decay),
    }
    if any(isinstance(v, Missing) for v in fields.values()):
        return MISSING
    facts = FactPolicy(**fields)
    if facts.effort_high_at < facts.effort_medium_at:
        return r.fail("facts.effort_high_at", "is below effort_medium_at")
    if facts.wait_unit.total_seconds() < 60:
        return r.fail("facts.wait_unit", "must be at least a minute")
    if not Decimal(0) < facts.recency_decay <= 1:
        return r.fail("facts.recency_decay", "must be above 0 and at most 1")
    return facts


def _tables(r: Reader, value: object) -> dict[str, Mapping[str, Any]]:
    tables: dict[str, Mapping[str, Any]] = {}
    for key, table in r.mapping(value, "tables").items():
        path = join("tables", str(key))
        if isinstance(r.name(key, path), Missing):
            continue
        if not isinstance(table, Mapping):
            r.fail(path, "expected a decision table")
            continue
        tables[key] = table
    return tables
