"""A case document's history, read before its fields: promises settled by events,
what format 1 lacks, the roles and levels a policy has, and the size of each list."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final, Protocol

from cxrecovery._validation import suggest
from cxrecovery.errors import DocumentError, Problem
from cxrecovery.formats.values import Problems, join, show
from cxrecovery.limits import Limits

__all__ = [
    "SETTLED",
    "SETTLED_STATUSES",
    "PolicyLike",
    "check_sizes",
    "fold_settlements",
    "format_2_only",
    "is_settled",
    "policy_problems",
    "renumbered",
]


class _Ladder(Protocol):
    @property
    def levels(self) -> Any: ...


class PolicyLike(Protocol):
    """What :func:`~cxrecovery.documents.load_case` reads of a policy to check a case's
    history against it: its roles' names and its escalation levels (a
    :class:`~cxrecovery.policy.Policy`)."""

    @property
    def roles(self) -> Any: ...

    @property
    def escalation(self) -> _Ladder: ...


# A promise settled by an event: a format 2 document may say so in its history
# (``{"kind": "settled", "at": ..., "by": ..., "promise": "p-1", "status": "kept"}``)
# instead of in the promise; it reads into the promise, and dump writes it there.
SETTLED: Final = "settled"
_SETTLED_FIELDS: Final = frozenset({"kind", "at", "by", "promise", "status", "note"})
SETTLED_STATUSES: Final = ("kept", "broken", "withdrawn")
_EVENT_PATH: Final = re.compile(r"events\[(\d+)\]")


def is_settled(event: object) -> bool:
    return isinstance(event, Mapping) and event.get("kind") == SETTLED


def fold_settlements(
    data: Mapping[str, Any], problems: Problems
) -> tuple[dict[str, Any], list[int]]:
    """``data`` with each ``settled`` event read into its promise (every problem added to
    ``problems``), and where each remaining event was in the document's list."""
    events: list[Any] = data["events"]
    promises = data.get("promises")
    records = list(promises) if isinstance(promises, list) else []
    by_id = {r["id"]: i for i, r in enumerate(records) if isinstance(r, Mapping) and "id" in r}
    kept: list[Any] = []
    where: list[int] = []
    settled: dict[str, int] = {}
    previous: datetime | None = None
    for i, event in enumerate(events):
        at = event.get("at") if isinstance(event, Mapping) else None
        try:
            when = datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            when = None
        if when is not None and when.tzinfo is not None:
            if previous is not None and when < previous and is_settled(event):
                problems.append(
                    Problem(
                        f"events[{i}].at",
                        f"{at} is earlier than events[{i - 1}]; list events in time order",
                    )
                )
            previous = when if previous is None or when > previous else previous
        if not is_settled(event):
            kept.append(event)
            where.append(i)
            continue
        _settle(i, event, records, by_id, settled, problems)
    folded_data = {**data, "events": kept, "promises": records}
    if not isinstance(promises, list):
        folded_data.pop("promises")
        if promises is not None:
            folded_data["promises"] = promises
    return folded_data, where


def _settle(
    i: int,
    event: Mapping[str, Any],
    records: list[Any],
    by_id: dict[Any, int],
    settled: dict[Any, int],
    problems: Problems,
) -> None:
    """Read the ``settled`` event ``events[i]`` into its promise's record in ``records``
    (``settled``: the promises settled so far, by the event that did)."""
    path = f"events[{i}]"
    for key in event:
        if key not in _SETTLED_FIELDS:
            problems.append(Problem(join(path, str(key)), "unknown field of a settled event"))
    for key in ("at", "promise", "status"):
        if key not in event:
            problems.append(Problem(f"{path}.{key}", "missing (required)"))
    ident = event.get("promise")
    status = event.get("status")
    if "status" in event and status not in SETTLED_STATUSES:
        names = ", ".join(SETTLED_STATUSES)
        problems.append(Problem(f"{path}.status", f"{show(status)} is not one of {names}"))
    if "promise" not in event:
        return
    if ident not in by_id:
        known = ", ".join(repr(k) for k in by_id) or "none"
        problems.append(
            Problem(
                f"{path}.promise",
                f"{show(ident)} was never made: no promise has that id (promises: {known})",
            )
        )
        return
    j = by_id[ident]
    if ident in settled:
        problems.append(
            Problem(f"{path}.promise", f"{ident!r} is settled already by events[{settled[ident]}]")
        )
        return
    record = records[j]
    if record.get("status", "pending") != "pending" or "settled_at" in record:
        problems.append(
            Problem(
                f"{path}.promise",
                f"promises[{j}] ({ident!r}) is settled in its own record already; "
                "settle it in one place",
            )
        )
        return
    settled[ident] = i
    folded = {**record, "status": status, "settled_at": event.get("at")}
    if event.get("by") is not None:
        folded["settled_by"] = event["by"]
    records[j] = folded


def renumbered(problem: Problem, where: list[int]) -> Problem:
    """``problem`` with each ``events[k]`` (in its path and its message) pointing at
    the document's own list."""

    def place(match: re.Match[str]) -> str:
        k = int(match.group(1))
        return f"events[{where[k]}]" if k < len(where) else match.group(0)

    return Problem(_EVENT_PATH.sub(place, problem.path), _EVENT_PATH.sub(place, problem.message))


def format_2_only(data: Mapping[str, Any]) -> list[Problem]:
    """The fields of format 2 that a format 1 document does not have."""
    found = []
    if "events" in data:
        found.append(
            Problem("events", "a format 1 document has no events; write format 2 for them")
        )
    promises = data.get("promises")
    if isinstance(promises, list):
        for i, promise in enumerate(promises):
            if isinstance(promise, Mapping) and "settled_by" in promise:
                found.append(
                    Problem(
                        f"promises[{i}].settled_by",
                        "a format 1 document has no settled_by; write format 2 for it",
                    )
                )
    return found


def policy_problems(events: object, policy: PolicyLike) -> Iterator[Problem]:
    """An event naming a level or a role ``policy`` does not have."""
    if not isinstance(events, list):
        return
    roles = [str(r.name) for r in policy.roles]
    levels = sorted({int(rung.level) for rung in policy.escalation.levels})
    for i, event in enumerate(events):
        if not isinstance(event, Mapping):
            continue
        level = event.get("level")
        if event.get("kind") == "escalated" and type(level) is int and level not in levels:
            known = ", ".join(map(str, levels)) or "none"
            yield Problem(
                f"events[{i}].level", f"{level} is not an escalation level of the policy ({known})"
            )
        role = event.get("role")
        if isinstance(role, str) and role not in roles:
            yield Problem(
                f"events[{i}].role",
                f"{role!r} is not a role of the policy ({', '.join(roles)}){suggest(role, roles)}",
            )


# The lists of a case, and the list in each of its items, that a document may make long.
_SIZED: Final = (list, dict, tuple)
_LISTS: Final = ("touchpoints", "promises", "pauses", "grants", "prior_cases", "events")


def check_sizes(data: Mapping[str, Any], limits: Limits) -> None:
    """Refuse a case whose lists (or attributes) are longer than ``limits.max_items``,
    before any of it is read: a mapping from a host has no byte size to stop it."""
    most = limits.max_items
    places: list[tuple[str, object]] = [(key, data.get(key)) for key in _LISTS]
    places.append(("attributes", data.get("attributes")))
    customer = data.get("customer")
    if type(customer) is dict or isinstance(customer, Mapping):
        places.append(("customer.attributes", customer.get("attributes")))
    for path, value in places:
        if value is None or (type(value) in _SIZED and len(value) <= most):  # type: ignore[arg-type]
            continue
        if isinstance(value, list | tuple | Mapping) and len(value) > most:
            raise DocumentError.at(
                path, f"{len(value)} items, more than {most} (Limits.max_items)"
            )
