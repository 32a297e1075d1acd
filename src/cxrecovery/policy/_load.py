"""Loading a policy document: TOML, JSON or a mapping; ``extends``; every problem at once."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from cxrecovery.businesstime import BusinessCalendar, ClockWarning
from cxrecovery.errors import InvalidValueError, PolicyError, Problem
from cxrecovery.formats.reader import MISSING, Missing, Reader, join
from cxrecovery.limits import (
    Limits,
    document_problems,
    read_document_file,
    table_problems,
    too_big,
)
from cxrecovery.model import CompensationForm
from cxrecovery.policy._layers import DEFAULT_NAME, attribute, merge_documents, resolve
from cxrecovery.policy._model import (
    ClockPolicy,
    ClockStart,
    ClockStop,
    CompensationPolicy,
    EscalationLevel,
    EscalationPolicy,
    FactPolicy,
    Policy,
    PromisePolicy,
    RolePolicy,
    Tier,
)

__all__ = ["default_policy", "load_policy", "merge_documents", "read_document"]

_LIMITS = Limits()

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


def _read_text(
    source: str | bytes | os.PathLike[str], limits: Limits = _LIMITS
) -> tuple[Mapping[str, Any], str]:
    """Parse TOML or JSON from text, bytes or a path; name the source in errors.

    No more than ``limits.max_document_bytes`` is read (a file, a pipe, a device), and
    the document is held to ``limits`` before anything else reads it.
    """
    origin = "policy"
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".toml", ".json"))
    ):
        origin = os.fspath(source)
        text = read_document_file(source, limits, "policy", PolicyError)
    else:
        if isinstance(source, str):
            if len(source) > limits.max_document_bytes:
                source = source.encode("utf-8", "surrogatepass")
            else:
                text = source
        if isinstance(source, bytes):
            if len(source) > limits.max_document_bytes:
                raise PolicyError.at("", too_big("policy", limits))
            try:
                text = source.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PolicyError.at("", f"the policy is not UTF-8: {error}") from None
    data = parse_policy_text(text, origin, limits)
    return data, origin


def read_document(path: str | os.PathLike[str], *, limits: Limits = _LIMITS) -> Mapping[str, Any]:
    """Read the policy file at ``path`` (TOML, or JSON when it starts with ``{``) as plain
    data, whatever its name ends with, held to ``limits``.

    Raises:
        PolicyError: the file cannot be read, is not TOML or JSON, or goes past a limit.
    """
    return _read_text(Path(path), limits)[0]


def parse_policy_text(text: str, origin: str, limits: Limits = _LIMITS) -> Mapping[str, Any]:
    """Parse a policy's TOML or JSON ``text`` (JSON when it starts with ``{``), held to
    ``limits``; ``origin`` names it in errors.

    Raises:
        PolicyError: the text is not TOML or JSON, or goes past a limit.
    """
    try:
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text, parse_float=Decimal)
            except (json.JSONDecodeError, ValueError) as error:
                raise PolicyError.at("", f"{origin} is not valid JSON: {error}") from None
        else:
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise PolicyError.at("", f"{origin} is not valid TOML: {error}") from None
            except ValueError as error:  # a number Python will not read, such as 5,000 digits
                raise PolicyError.at("", f"{origin} is not usable TOML: {error}") from None
    except RecursionError:
        raise PolicyError.at(
            "", f"{origin} is nested more than {limits.max_depth} deep (Limits.max_depth)"
        ) from None
    if not isinstance(data, Mapping):
        raise PolicyError.at("", f"{origin} is not a table of sections")
    check_document(data, limits)
    return data


def check_document(data: Mapping[str, Any], limits: Limits) -> None:
    """Hold a policy document to ``limits`` (nesting, size, numbers, value types).

    Raises:
        PolicyError: with the first problems found, each with its path.
    """
    problems = document_problems(data, limits) or table_problems(data, limits)
    if problems:
        raise PolicyError(problems)


def _default_document() -> Mapping[str, Any]:
    text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def decision_content(document: Mapping[str, Any]) -> dict[str, Any]:
    """A policy document without what decides nothing: the policy's ``description`` and
    the ``source`` of each row and tier (free text for operations staff, like a comment).
    """

    def strip(value: Any, in_list: bool) -> Any:
        if isinstance(value, Mapping):
            return {
                k: strip(v, False) for k, v in value.items() if not (in_list and k == "source")
            }
        if isinstance(value, list | tuple):
            return [strip(v, True) for v in value]
        return value

    relevant: dict[str, Any] = strip(document, False)
    header = relevant.get("policy")
    if isinstance(header, Mapping):
        relevant["policy"] = {k: v for k, v in header.items() if k != "description"}
    return relevant


def fingerprint(document: Mapping[str, Any]) -> str:
    """The SHA-256 of a document's canonical JSON form (sorted keys, no spaces).

    Only what can change a decision counts (:func:`decision_content`): rewording the
    description or a row's source leaves every plan, and every golden file, as it was.
    """
    text = json.dumps(
        _canonical(decision_content(document)), sort_keys=True, separators=(",", ":")
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_policy(
    source: Mapping[str, Any] | str | bytes | os.PathLike[str],
    *,
    origin: str | os.PathLike[str] | None = None,
    limits: Limits = _LIMITS,
) -> Policy:
    """Read a policy: a mapping, TOML or JSON text, the path of a ``.toml``/``.json`` file,
    or ``"default"`` (the bundled default policy).

    ``extends`` in the ``[policy]`` section lays the document over ``"default"`` or over
    another policy file (a path relative to the extending file), which may extend a
    third; ``replace`` and ``remove`` there say what to replace whole and what to take
    away (``docs/policy-format.md``). The decision tables are checked when an
    :class:`~cxrecovery.Engine` compiles the policy (they may read host facts).

    Args:
        source: the policy.
        origin: the file a mapping or text was read from: its relative ``extends``
            are resolved against that file's folder, and errors name it.
        limits: how much of each document in the chain is read (size, nesting,
            values); see :class:`~cxrecovery.Limits`.

    Raises:
        PolicyError: with every problem in the document, each with its path; where a
            policy came from a file, the path is preceded by the file's name.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``extends`` takes a file; ``replace``, ``remove``,
       ``"default"`` and ``origin``.
    .. versionchanged:: 0.2.0 ``limits``.
    """
    is_file = origin is not None
    where = os.fspath(origin) if origin is not None else "policy"
    if isinstance(source, str) and source == DEFAULT_NAME:
        return default_policy()
    if not isinstance(limits, Limits):
        raise PolicyError.at("limits", f"expected Limits, got {type(limits).__name__}")
    if isinstance(source, Mapping):
        data: Mapping[str, Any] = source
        check_document(data, limits)
    elif isinstance(source, str | bytes | os.PathLike):
        data, read_from = _read_text(source, limits)
        if read_from != "policy":
            is_file, where = True, read_from
    else:
        raise PolicyError.at(
            "",
            f"expected a mapping, TOML or JSON text or a path, got {type(source).__name__}",
        )

    def read_file(path: Path) -> Mapping[str, Any]:
        return _read_text(path, limits)[0]

    merged, layers = resolve(
        data, origin=where, is_file=is_file, read_file=read_file, default=_default_document
    )
    merged_problems = table_problems(merged, limits)
    if merged_problems:
        raise PolicyError(merged_problems)
    if len(layers) == 1 and not is_file:
        return _parse(merged)
    try:
        policy = _parse(merged)
    except PolicyError as error:
        raise PolicyError(attribute(error.problems, merged, layers)) from None
    return attrs.evolve(policy, layers=layers)


def default_policy() -> Policy:
    """Return the bundled, evidence-based default policy.

    .. versionadded:: 0.1.0
    """
    return _parse(_default_document())


def _parse(data: Mapping[str, Any]) -> Policy:
    r = Reader()
    r.mapping(data, "", _TOP)
    header = r.mapping(data.get("policy", {}), "policy", ("name", "version", "description"))
    name = r.field(header, "name", "policy", r.text)
    version = r.field(header, "version", "policy", r.text)
    description = r.field(header, "description", "policy", r.text, "")

    calendars = _calendars(r, data.get("calendars"))
    known_calendars = set(calendars)
    # A calendar with problems of its own is still a calendar: one mistake, one problem.
    raw_calendars = data.get("calendars")
    broken_calendars = (
        {name for name in raw_calendars if isinstance(name, str)} - known_calendars
        if isinstance(raw_calendars, Mapping)
        else set()
    )

    def calendar_name(value: object, path: str) -> str | Missing:
        text = r.text(value, path)
        if isinstance(text, str) and text in broken_calendars:
            return MISSING
        if isinstance(text, str) and text not in known_calendars:
            return r.fail(
                path, f"{text!r} is not a calendar of this policy ({_names(known_calendars)})"
            )
        return text

    facts = _facts(r, data.get("facts", {}), calendar_name)
    roles = _roles(r, data.get("roles"))
    # Names of roles that had other problems still count: one mistake, one problem.
    raw_roles = data.get("roles")
    role_names = {role.name for role in roles} | {
        r["name"]
        for r in (raw_roles if isinstance(raw_roles, list) else [])
        if isinstance(r, Mapping) and isinstance(r.get("name"), str)
    }
    compensation = _compensation(r, data.get("compensation"))
    tables = _tables(r, data.get("tables", {}))
    clocks = _clocks(r, data.get("clocks", {}), calendar_name)
    escalation = _escalation(r, data.get("escalation"), role_names, tables)
    promises = _promises(r, data.get("promises"), calendar_name, tables)
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
    document = _canonical(data)
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
        fingerprint=fingerprint(document),
    )


def facts_calendar(facts: FactPolicy | Missing) -> str | Missing:
    return facts.calendar if isinstance(facts, FactPolicy) else MISSING


def _names(names: set[str]) -> str:
    return ", ".join(sorted(names)) or "none defined"


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


def _roles(r: Reader, value: object) -> list[RolePolicy]:
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


def _compensation(r: Reader, value: object) -> CompensationPolicy | Missing:
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


def _clocks(r: Reader, value: object, calendar_name: Any) -> list[ClockPolicy]:
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


def _escalation(
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
                f"{fields['role']!r} is not a role of this policy ({_names(roles)})",
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


def _promises(
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


def _problem(path: str, message: str) -> Problem:
    return Problem(path, message)
