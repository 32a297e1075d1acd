"""The apology and the remedy with its promise."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

from cxrecovery.engine._context import DecisionContext
from cxrecovery.engine._pending import NO_VALUES as _NO_VALUES
from cxrecovery.engine._pending import Explained, Pending, new_pending
from cxrecovery.engine._support import (
    _customer_time,
    _duration_text,
    _Margin,
    _scaled,
    instant,
)
from cxrecovery.limits import check_duration, check_instant
from cxrecovery.model import (
    Attributes,
    CaseEventKind,
    Fault,
    Outcome,
    PromiseStatus,
    TouchpointKind,
)
from cxrecovery.plan import (
    ActionKind,
)

# A quoted wait: when the remedy is possible, why, and the margin on that wait.
_Quote = tuple[datetime, str, timedelta]
_PROGRESSED: Final = frozenset({Outcome.RESOLVED, Outcome.PROGRESSED})
_PENDING: Final = PromiseStatus.PENDING
# Enum members looked up once (an enum class's attribute costs a lookup through its
# metaclass on every read).
_APOLOGIZE: Final = ActionKind.APOLOGIZE
_REMEDY: Final = ActionKind.REMEDY
_MAKE_PROMISE: Final = ActionKind.MAKE_PROMISE
# What follows a promise's due time: nothing granted, no channel (sliced once).
_AFTER_DUE: Final = _NO_VALUES[1:]
_REMEDIED: Final = CaseEventKind.REMEDIED
_FAILED: Final = Outcome.FAILED
_VISIT: Final = TouchpointKind.VISIT
# Promised due times an engine keeps (see _promised): a sweep asks for a few.
_PROMISES_KEPT: Final = 4096


def apologize(d: DecisionContext, recovery: Mapping[str, object], rule: str, owner: str) -> None:
    """Apologise in the recovery row's style, owning the problem and acknowledging
    what went wrong on the way."""
    d.pending.append(
        # A tuple joined to the kept one (RUF005): it costs less than unpacking that one.
        new_pending(Pending, (_APOLOGIZE, _apology_text, (recovery, rule), owner) + _NO_VALUES)  # noqa: RUF005
    )


def _apology_text(d: DecisionContext, recovery: Mapping[str, object], rule: str) -> Explained:
    style = str(recovery["apology"])
    facts = d.facts
    own = (
        "say plainly that we got it wrong"
        if facts["fault"] == Fault.COMPANY
        else "own the problem even though the cause was not ours; do not blame"
    )
    acknowledge = []
    if facts["history"] == "repeat":
        acknowledge.append("that it happened again")
    if facts["fix_failed"] and fix_failed(d):
        acknowledge.append("the failure and the failed fix")
    elif int(facts["channel_failures"]) > 0:  # type: ignore[call-overload]
        acknowledge.append("that we failed them when they got in touch")
    broken = int(facts["promises_broken"])  # type: ignore[call-overload]
    if broken > 1:
        acknowledge.append("the promises we broke")
    elif broken:
        acknowledge.append("the promise we broke")
    if int(facts["repeated_information"]) > 0:  # type: ignore[call-overload]
        acknowledge.append("that they had to explain again")
    listen = facts["relationship_health"] in ("at_risk", "fragile")
    summary = f"Apologise ({style}): {own}"
    if acknowledge:
        summary += "; acknowledge " + ", ".join(acknowledge)
    # Plain values, keys in sorted order: as Attributes keep them.
    details = Attributes._from_sorted(
        (
            ("acknowledge", "; ".join(acknowledge)),
            ("human", bool(recovery["human"])),
            ("listen_first", listen),
            ("own", own),
            ("style", style),
        )
    )
    reasons = [
        d.reason(rule, "the recovery row sets the apology's style", "severity", "history"),
        d.reason(
            "principles.ownership",
            "apologise and own it whatever the fault; fault shapes compensation only",
            "fault",
        ),
    ]
    if listen:
        reasons.append(
            d.reason(
                "principles.listen_first",
                "the relationship is strained: listen before explaining",
                "relationship_health",
            )
        )
    return summary, details, tuple(reasons)


def fix_failed(d: DecisionContext) -> bool:
    """Whether a fix itself failed: a visit (the item handed back, a technician's
    call-out) that failed after the case had moved forward. A dropped call or a
    failing web page is a channel that failed, not a fix."""
    progressed = False
    for tp in d.case.touchpoints:
        if tp.at > d.at:
            break
        if tp.outcome in _PROGRESSED:
            progressed = True
        elif progressed and tp.outcome is _FAILED and tp.kind is _VISIT:
            return True
    return False


def remedy(d: DecisionContext, owner: str) -> datetime | None:
    """The remedy the remedy table gives and its promise; the promise's due time (or
    the pending promise's that covers it), None when the policy cannot decide it."""
    policy = d.policy
    path = f"tables.{policy.remedy_table}"
    found = d.decided(
        policy.remedy_table,
        d.engine._compiled.tables[policy.remedy_table],
        path,
        "the remedy and its promise",
    )
    if found is None:
        return None
    out, row = found
    action, estimate_text, calendar_name, margin = _outputs(d, out)
    d.remedy_action = action
    # A remedy under way since the last setback is not asked for again (its
    # promise is tracked below).
    remedied = bool(d.case.events) and d.done_since_setback(_REMEDIED)
    if not remedied:
        d.pending.append(
            new_pending(
                Pending,
                (_REMEDY, _remedy_text, (action, calendar_name, estimate_text, path, row), owner)  # noqa: RUF005
                + _NO_VALUES,
            )
        )
    # Promise the remedy unless a pending promise already covers it.
    at = d.at
    covering: datetime | None = None  # the earliest due (the first of equal instants)
    for p in d.case.promises:
        if (
            p.status is _PENDING
            and p.settled_at is None
            and p.made_at <= at
            and p.due >= at
            and (covering is None or instant(p.due) < instant(covering))
        ):
            covering = p.due
    if covering is not None:
        return covering
    start, quote = remedy_start(d)
    due = _promised(d, calendar_name, start, margin[1])
    d.pending.append(
        new_pending(
            Pending,
            (  # noqa: RUF005
                _MAKE_PROMISE,
                _promise_text,
                (action, calendar_name, estimate_text, margin, path, row, quote, due),
                owner,
                due,
            )
            + _AFTER_DUE,
        )
    )
    return due


def _outputs(d: DecisionContext, out: Mapping[str, object]) -> tuple[str, str, str, _Margin]:
    """The remedy row's action, estimate (its text), calendar and the promise's margin on
    the estimate; kept by the engine by the row's identity (a table's rows are its own,
    fixed objects). An estimate that cannot be read raises each time it is asked."""
    remedies = d.engine._remedies
    found = remedies.get(id(out))
    if found is None or found[0] is not out:
        # Read in the order a decision reads them (the first missing one raises).
        action = str(out["action"])
        estimate_text = str(out["estimate"])
        compiled = d.engine._compiled
        estimate = compiled.duration(estimate_text)
        calendar_name = str(out["calendar"])
        margin = compiled.margin(estimate_text, estimate)
        found = (out, action, estimate_text, calendar_name, margin)
        if len(remedies) < _PROMISES_KEPT:
            remedies[id(out)] = found
    return found[1:]  # type: ignore[return-value]


def _promised(
    d: DecisionContext, calendar_name: str, start: datetime, total: timedelta
) -> datetime:
    """``total`` of business time from ``start`` on the calendar ``calendar_name``: kept
    by the engine (a sum on a calendar is a fixed value of the start's instant and the
    duration, and a sweep asks it for few of them; an equal start with another fold is
    another instant, so the fold is part of the key)."""
    key = (calendar_name, start, start.fold, total)
    promised = d.engine._promised
    due = promised.get(key)
    if due is None:
        due = d.policy.calendars[calendar_name].add(start, total)
        if len(promised) < _PROMISES_KEPT:
            promised[key] = due
    return due


def _remedy_text(
    d: DecisionContext,
    action: str,
    calendar_name: str,
    estimate_text: str,
    path: str,
    row: str,
) -> Explained:
    details = Attributes._from_sorted(
        (("action", action), ("calendar", calendar_name), ("estimate", estimate_text))
    )
    reason = d.reason(
        _rule(path, row),
        "the remedy row for this failure",
        "category",
        "service_usable",
        "double_deviation",
    )
    return f"Remedy: {action.replace('_', ' ')}", details, (reason,)


def _promise_text(
    d: DecisionContext,
    action: str,
    calendar_name: str,
    estimate: str,
    margin: _Margin,
    path: str,
    row: str,
    quote: _Quote | None,
    due: datetime,
) -> Explained:
    """The promise of the remedy by ``due``, in business time on its calendar."""
    margin_text, _, promised_text = margin
    reasons = [
        d.reason(_rule(path, row), f"estimate {estimate} on the {calendar_name} calendar"),
        d.reason(
            "promises.margin_ratio",
            f"plus a safety margin of {margin_text}: never promise what the policy cannot meet",
        ),
    ]
    if quote is not None:
        ready, what, quoted_margin = quote
        reasons.append(
            d.reason(
                "promises.quote",
                f"the remedy is possible from {d.shown(ready)} ({what}); plus a margin of "
                f"{_duration_text(quoted_margin)} on that wait",
            )
        )
    if int(d.facts["promises_broken"]) > 0:  # type: ignore[call-overload]
        reasons.append(
            d.reason(
                "principles.double_deviation",
                "a promise was broken: the new one must hold",
                "promises_broken",
            )
        )
    details = Attributes._from_sorted(
        (
            ("business_time", promised_text),
            ("calendar", calendar_name),
            ("customer_time", _customer_time(due, d.case.customer.time_zone)),
            ("what", action),
        )
    )
    return f"Promise: {action.replace('_', ' ')} by {d.shown(due)}", details, tuple(reasons)


def _rule(path: str, row: str) -> str:
    """The remedy row's rule (written on first read): its table's path and the row."""
    return f"{path}[{row}]"


def remedy_start(d: DecisionContext) -> tuple[datetime, _Quote | None]:
    """When the remedy's work can start: now, or later when the case or the host
    gives its lead time or the time it is possible (parts on order, a technician's
    slot), with the wait quoted (when it is possible, why, and the margin on it). A
    quoted wait gets the policy's margin on top (a share of it, as the estimate does):
    a promise is never earlier than what the host says is possible.
    """
    at = d.at
    candidates: list[tuple[datetime, str]] = []
    lead = d.case.remedy_lead_time
    if lead:
        check_duration(lead, "case.remedy_lead_time")
        candidates.append((at + lead, f"case.remedy_lead_time ({_duration_text(lead)})"))
    if d.case.remedy_ready_at is not None:
        check_instant(d.case.remedy_ready_at, "case.remedy_ready_at")
        candidates.append((d.case.remedy_ready_at, "case.remedy_ready_at"))
    if d.ready_at is not None:
        check_instant(d.ready_at, "remedy_ready_at")
        candidates.append((d.ready_at, "remedy_ready_at (the host, at decision time)"))
    if not candidates:  # nothing to wait for: the work starts now
        return at, None
    later = [(when, what) for when, what in candidates if instant(when) > instant(at)]
    if not later:
        return at, None
    ready, what = max(later, key=lambda c: instant(c[0]))
    wait = instant(ready) - instant(at)
    margin = _scaled(wait, d.policy.promises.margin_ratio)
    return ready + margin, (ready, what, margin)
