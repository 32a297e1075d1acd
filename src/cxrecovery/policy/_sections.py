"""Reading the sections of a policy document that describe people and promises: roles,
compensation, clocks, escalation and promises. Each reader records every problem it
finds on the :class:`~cxrecovery.formats.reader.Reader` and returns what it could read.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from cxrecovery.businesstime import ClockWarning
from cxrecovery.errors import InvalidValueError
from cxrecovery.formats.reader import MISSING, Missing, Reader, join
from cxrecovery.model import CompensationForm
from cxrecovery.policy._model import (
    ClockPolicy,
    ClockStart,
    ClockStop,
    CompensationPolicy,
    EscalationLevel,
    EscalationPolicy,
    PromisePolicy,
    RolePolicy,
    Tier,
)

__all__ = [
    "names_of",
    "read_clocks",
    "read_compensation",
    "read_escalation",
    "read_promises",
    "read_roles",
]


def names_of(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none defined"


_ROLE_KEYS = (
    "name",
    "rank",
    "title",
    "forms",
    "max_ratio",
    "max_per_case",
    "max_per_period",
    "period",
    "max_per_customer",
    "customer_window",
    "max_forms",
    "handles_critical",
)


def read_roles(r: Reader, value: object) -> list[RolePolicy]:
    roles: list[RolePolicy] = []
    if value is None:
        r.fail("roles", "missing (required): define the empowerment ladder")
        return roles
    seen_names: dict[str, int] = {}
    seen_ranks: dict[int, int] = {}
    for i, item in enumerate(r.items(value, "roles")):
        path = join("roles", i)
        data = r.mapping(item, path, _ROLE_KEYS)
        default = RolePolicy("x", 0)
        fields: dict[str, Any] = {
            "name": r.field(data, "name", path, r.name),
            "rank": r.field(data, "rank", path, r.integer),
            "title": r.field(data, "title", path, r.text, ""),
            "forms": r.field(data, "forms", path, r.listed(r.member(CompensationForm)), ()),
            "max_ratio": r.field(data, "max_ratio", path, r.ratio, None),
            "max_per_case": r.field(data, "max_per_case", path, r.money_map, {}),
            "max_per_period": r.field(data, "max_per_period", path, r.money_map, {}),
            "period": r.field(data, "period", path, r.duration, default.period),
            "max_per_customer": r.field(data, "max_per_customer", path, r.money_map, {}),
            "customer_window": r.field(
                data, "customer_window", path, r.duration, default.customer_window
            ),
            "max_forms": r.field(data, "max_forms", path, r.integer, None),
            "handles_critical": r.field(data, "handles_critical", path, r.boolean, False),
        }
        if any(isinstance(v, Missing) for v in fields.values()):
            continue
        fields["forms"] = frozenset(fields["forms"])
        if fields["name"] in seen_names:
            r.fail(
                join(path, "name"),
                f"{fields['name']!r} is also roles[{seen_names[fields['name']]}]",
            )
            continue
        if fields["rank"] in seen_ranks:
            r.fail(
                join(path, "rank"),
                f"{fields['rank']} is also the rank of roles[{seen_ranks[fields['rank']]}]",
            )
            continue
        if fields["rank"] < 0:
            r.fail(join(path, "rank"), "must be 0 or more")
            continue
        seen_names[fields["name"]] = i
        seen_ranks[fields["rank"]] = i
        roles.append(RolePolicy(**fields))
    if isinstance(value, list) and not value:
        r.fail("roles", "define at least one role")
    return roles


def read_compensation(r: Reader, value: object) -> CompensationPolicy | Missing:
    keys = (
        "table",
        "tiers",
        "hard_cap_ratio",
        "approval_above_ratio",
        "fault_step",
        "delight_forms",
        "effort_point",
        "restored_scale",
        "refund_remedies",
        "harm",
    )
    if value is None:
        return r.fail("compensation", "missing (required)")
    data = r.mapping(value, "compensation", keys)
    path = "compensation"
    tiers = _tiers(r, data, path)
    points = _effort_points(r, data, path)
    steps = _harm_steps(r, data, path)
    fields2: dict[str, Any] = {
        "restored_scale": r.field(data, "restored_scale", path, r.ratio, Decimal(1)),
        "refund_remedies": r.field(data, "refund_remedies", path, r.listed(r.text), ()),
        "table": r.field(data, "table", path, r.text),
        "hard_cap_ratio": r.field(data, "hard_cap_ratio", path, r.ratio),
        "approval_above_ratio": r.field(data, "approval_above_ratio", path, r.ratio),
        "fault_step": r.field(data, "fault_step", path, r.integer, -1),
        "delight_forms": r.field(
            data, "delight_forms", path, r.listed(r.member(CompensationForm)), ()
        ),
    }
    if any(isinstance(v, Missing) for v in fields2.values()) or not isinstance(points, Mapping):
        return MISSING
    policy = CompensationPolicy(
        tiers=tuple(tiers),
        effort_point=dict(points),
        lateness_steps=steps["lateness"],
        downtime_steps=steps["downtime"],
        **{
            **fields2,
            "delight_forms": frozenset(fields2["delight_forms"]),
            "refund_remedies": frozenset(fields2["refund_remedies"]),
        },
    )
    if policy.approval_above_ratio > policy.hard_cap_ratio:
        r.fail(
            join(path, "approval_above_ratio"),
            "is above hard_cap_ratio: no approval could ever be asked",
        )
    for i, tier in enumerate(policy.tiers):
        if tier.min > policy.hard_cap_ratio:
            r.fail(
                join(join(path, "tiers"), i),
                f"tier {tier.name} starts above the hard cap {policy.hard_cap_ratio}",
            )
    return policy


def _tiers(r: Reader, data: Mapping[str, Any], path: str) -> list[Tier]:
    tiers: list[Tier] = []
    for i, item in enumerate(r.items(data.get("tiers", []), join(path, "tiers"))):
        tpath = join(join(path, "tiers"), i)
        t = r.mapping(item, tpath, ("name", "min", "max", "floor", "ceiling", "source", "refund"))
        fields: dict[str, Any] = {
            "name": r.field(t, "name", tpath, r.text),
            "min": r.field(t, "min", tpath, r.ratio),
            "max": r.field(t, "max", tpath, r.ratio),
            "floor": r.field(t, "floor", tpath, r.money_map, {}),
            "ceiling": r.field(t, "ceiling", tpath, r.money_map, {}),
            "source": r.field(t, "source", tpath, r.text, ""),
            "refund": r.field(t, "refund", tpath, r.ratio, Decimal(0)),
        }
        if any(isinstance(v, Missing) for v in fields.values()):
            continue
        tier = Tier(**fields)
        if tier.max < tier.min:
            r.fail(join(tpath, "max"), f"{tier.max} is below min {tier.min}")
            continue
        if tier.name in {t.name for t in tiers}:
            r.fail(join(tpath, "name"), f"{tier.name!r} is defined twice")
            continue
        tiers.append(tier)
    if "tiers" not in data:
        r.fail(join(path, "tiers"), "missing (required)")
    return tiers


def _effort_points(r: Reader, data: Mapping[str, Any], path: str) -> Any:
    points: Any = r.field(
        data, "effort_point", path, lambda v, p: r.mapping(v, p, ("low", "medium", "high")), {}
    )
    if isinstance(points, Mapping):
        for level, point in points.items():
            if point not in ("min", "mid", "max"):
                r.fail(
                    join(join(path, "effort_point"), str(level)),
                    f"{point!r} is not one of min, mid, max",
                )
    return points


def _harm_steps(r: Reader, data: Mapping[str, Any], path: str) -> dict[str, tuple[Any, ...]]:
    harm: Any = r.field(
        data, "harm", path, lambda v, p: r.mapping(v, p, ("lateness", "downtime")), {}
    )
    steps: dict[str, tuple[Any, ...]] = {}
    for name in ("lateness", "downtime"):
        hpath = join(join(path, "harm"), name)
        found = (
            r.field(harm, name, join(path, "harm"), r.listed(r.duration), ())
            if isinstance(harm, Mapping)
            else ()
        )
        found = tuple(found) if not isinstance(found, Missing) else ()
        if list(found) != sorted(found) or len(set(found)) != len(found):
            r.fail(hpath, "steps must rise, each longer than the one before")
        steps[name] = found
    return steps


_CLOCK_KEYS = (
    "calendar",
    "start",
    "stop",
    "targets",
    "warnings",
    "pauses",
    "max_pause",
    "escalate",
)


def _warning(r: Reader) -> Any:
    def parse(value: object, path: str) -> ClockWarning | Missing:
        if isinstance(value, str) and value.endswith("%"):
            # Read as a bounded decimal first: a fraction of '1E-999999999' would make
            # a ten-to-the-billion.
            share = r.decimal(value[:-1].strip(), path)
            if isinstance(share, Missing):
                return share
            if not 0 < share < 100:
                return r.fail(path, f"{value!r}: a warning comes after 0% and before 100%")
            try:
                return ClockWarning(fraction=value, name=value)
            except InvalidValueError as error:
                return r.absorb(error, path)
        duration = r.duration(value, path)
        if isinstance(duration, Missing):
            return duration
        return ClockWarning(before=duration, name=str(value))

    return parse


def read_clocks(r: Reader, value: object, calendar_name: Any) -> list[ClockPolicy]:
    clocks: list[ClockPolicy] = []
    for key, item in r.mapping(value, "clocks").items():
        path = join("clocks", str(key))
        if isinstance(r.name(key, path), Missing):
            continue
        data = r.mapping(item, path, _CLOCK_KEYS)
        fields: dict[str, Any] = {
            "calendar": r.field(data, "calendar", path, calendar_name),
            "start": r.field(data, "start", path, r.member(ClockStart)),
            "stop": r.field(data, "stop", path, r.member(ClockStop)),
            "targets": r.field(data, "targets", path, lambda v, p: r.mapping(v, p) or MISSING),
            "warnings": r.field(data, "warnings", path, r.listed(_warning(r)), ()),
            "pauses": r.field(data, "pauses", path, r.listed(r.name), ()),
            "max_pause": r.field(data, "max_pause", path, r.duration, None),
            "escalate": r.field(data, "escalate", path, lambda v, p: r.mapping(v, p), {}),
        }
        if any(isinstance(v, Missing) for v in fields.values()):
            continue
        points = {"breach"} | {w.name for w in fields["warnings"]}
        escalate: dict[str, int] = {}
        for point, level in fields["escalate"].items():
            epath = join(join(path, "escalate"), str(point))
            if point not in points:
                r.fail(
                    epath, f"{point!r} is not a point of this clock ({', '.join(sorted(points))})"
                )
            elif not isinstance(level, int) or isinstance(level, bool) or level < 1:
                r.fail(epath, f"{level!r} is not an escalation level (1 or more)")
            else:
                escalate[point] = level
        fields["escalate"] = escalate
        fields["pauses"] = frozenset(fields["pauses"])
        clocks.append(ClockPolicy(name=key, **fields))
    return clocks


def read_escalation(
    r: Reader, value: object, roles: set[str], tables: Mapping[str, Any]
) -> EscalationPolicy | Missing:
    if value is None:
        return EscalationPolicy(levels=())
    data = r.mapping(value, "escalation", ("levels", "table"))
    levels: list[EscalationLevel] = []
    for i, item in enumerate(r.items(data.get("levels", []), "escalation.levels")):
        path = join("escalation.levels", i)
        d = r.mapping(item, path, ("level", "role", "name", "respond_within"))
        fields: dict[str, Any] = {
            "level": r.field(d, "level", path, r.integer),
            "role": r.field(d, "role", path, r.text),
            "name": r.field(d, "name", path, r.text, ""),
            "respond_within": r.field(
                d, "respond_within", path, r.duration, EscalationLevel(1, "x").respond_within
            ),
        }
        if any(isinstance(v, Missing) for v in fields.values()):
            continue
        if fields["role"] not in roles:
            r.fail(
                join(path, "role"),
                f"{fields['role']!r} is not a role of this policy ({names_of(roles)})",
            )
            continue
        if levels and fields["level"] <= levels[-1].level:
            r.fail(join(path, "level"), "levels must climb: each above the one before")
            continue
        if fields["level"] < 1:
            r.fail(join(path, "level"), "levels start at 1")
            continue
        levels.append(EscalationLevel(**fields))
    table = r.field(data, "table", "escalation", r.text, None)
    if isinstance(table, str) and table not in tables:
        r.fail("escalation.table", f"{table!r} is not a table of this policy")
    if isinstance(table, Missing):
        return MISSING
    return EscalationPolicy(levels=tuple(levels), table=table)


def read_promises(
    r: Reader, value: object, calendar_name: Any, tables: Mapping[str, Any]
) -> PromisePolicy | Missing:
    if value is None:
        return r.fail("promises", "missing (required)")
    data = r.mapping(value, "promises", ("table", "calendar", "margin_ratio", "min_margin"))
    d = PromisePolicy("x", "x")
    fields: dict[str, Any] = {
        "table": r.field(data, "table", "promises", r.text),
        "calendar": r.field(data, "calendar", "promises", calendar_name),
        "margin_ratio": r.field(data, "margin_ratio", "promises", r.ratio, d.margin_ratio),
        "min_margin": r.field(data, "min_margin", "promises", r.duration, d.min_margin),
    }
    if any(isinstance(v, Missing) for v in fields.values()):
        return MISSING
    if fields["table"] not in tables:
        return r.fail("promises.table", f"{fields['table']!r} is not a table of this policy")
    return PromisePolicy(**fields)
