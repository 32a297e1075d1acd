"""The apology and the remedy with its promise."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from cxrecovery.engine._context import DecisionContext
from cxrecovery.engine._support import (
    _customer_time,
    _duration_text,
    _scaled,
    instant,
)
from cxrecovery.model import (
    Attributes,
    CaseEventKind,
    Fault,
    Outcome,
    TouchpointKind,
)
from cxrecovery.plan import (
    Action,
    ActionKind,
    Reason,
)

_PROGRESSED: Final = frozenset({Outcome.RESOLVED, Outcome.PROGRESSED})


def apologize(d: DecisionContext, recovery: Mapping[str, object], rule: str, owner: str) -> None:
    """Apologise in the recovery row's style, owning the problem and acknowledging
    what went wrong on the way."""
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
    d.actions.append(
        Action(
            ActionKind.APOLOGIZE,
            summary,
            owner=owner,
            details=details,
            reasons=tuple(reasons),
        )
    )


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
        elif progressed and tp.outcome is Outcome.FAILED and tp.kind is TouchpointKind.VISIT:
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
    action = str(out["action"])
    d.remedy_action = action
    estimate_text = str(out["estimate"])
    estimate = d.engine._compiled.duration(estimate_text)
    calendar_name = str(out["calendar"])
    calendar = policy.calendars[calendar_name]
    margin_text, promised, promised_text = d.engine._compiled.margin(estimate_text, estimate)
    rule = f"{path}[{row}]"
    # A remedy under way since the last setback is not asked for again (its
    # promise is tracked below).
    remedied = bool(d.case.events) and d.done_since_setback(CaseEventKind.REMEDIED)
    if not remedied:
        _ask_remedy(d, action, calendar_name, estimate_text, rule, owner)
    # Promise the remedy unless a pending promise already covers it.
    pending = [
        p
        for p in d.case.promises
        if p.made_at <= d.at and p.is_pending and p.due >= d.at and (p.settled_at is None)
    ]
    if pending:
        return min((p.due for p in pending), key=instant)
    start, quoted = remedy_start(d)
    due = calendar.add(start, promised)
    reasons = [
        d.reason(rule, f"estimate {out['estimate']} on the {calendar_name} calendar"),
        d.reason(
            "promises.margin_ratio",
            f"plus a safety margin of {margin_text}: never promise what the policy cannot meet",
        ),
        *quoted,
    ]
    _promise(d, action, calendar_name, promised_text, due, reasons, owner)
    return due


def _ask_remedy(
    d: DecisionContext, action: str, calendar_name: str, estimate_text: str, rule: str, owner: str
) -> None:
    """The remedy's action: what the recovery row says to do."""
    d.actions.append(
        Action(
            ActionKind.REMEDY,
            f"Remedy: {action.replace('_', ' ')}",
            owner=owner,
            details=Attributes._from_sorted(
                (
                    ("action", action),
                    ("calendar", calendar_name),
                    ("estimate", estimate_text),
                )
            ),
            reasons=(
                d.reason(
                    rule,
                    "the remedy row for this failure",
                    "category",
                    "service_usable",
                    "double_deviation",
                ),
            ),
        )
    )


def _promise(
    d: DecisionContext,
    action: str,
    calendar_name: str,
    promised_text: str,
    due: datetime,
    reasons: list[Reason],
    owner: str,
) -> None:
    """The promise of the remedy by ``due``, in business time on its calendar."""
    if int(d.facts["promises_broken"]) > 0:  # type: ignore[call-overload]
        reasons.append(
            d.reason(
                "principles.double_deviation",
                "a promise was broken: the new one must hold",
                "promises_broken",
            )
        )
    d.actions.append(
        Action(
            ActionKind.MAKE_PROMISE,
            f"Promise: {action.replace('_', ' ')} by {d.shown(due)}",
            owner=owner,
            due=due,
            details=Attributes._from_sorted(
                (
                    ("business_time", promised_text),
                    ("calendar", calendar_name),
                    ("customer_time", _customer_time(due, d.case.customer.time_zone)),
                    ("what", action),
                )
            ),
            reasons=tuple(reasons),
        )
    )


def remedy_start(d: DecisionContext) -> tuple[datetime, list[Reason]]:
    """When the remedy's work can start: now, or later when the case or the host
    gives its lead time or the time it is possible (parts on order, a technician's
    slot). A quoted wait gets the policy's margin on top (a share of it, as the
    estimate does): a promise is never earlier than what the host says is possible.
    """
    at = d.at
    candidates: list[tuple[datetime, str]] = []
    lead = d.case.remedy_lead_time
    if lead:
        candidates.append((at + lead, f"case.remedy_lead_time ({_duration_text(lead)})"))
    if d.case.remedy_ready_at is not None:
        candidates.append((d.case.remedy_ready_at, "case.remedy_ready_at"))
    if d.ready_at is not None:
        candidates.append((d.ready_at, "remedy_ready_at (the host, at decision time)"))
    later = [(when, what) for when, what in candidates if instant(when) > instant(at)]
    if not later:
        return at, []
    ready, what = max(later, key=lambda c: instant(c[0]))
    wait = instant(ready) - instant(at)
    margin = _scaled(wait, d.policy.promises.margin_ratio)
    start = ready + margin
    reason = d.reason(
        "promises.quote",
        f"the remedy is possible from {d.shown(ready)} ({what}); plus a margin of "
        f"{_duration_text(margin)} on that wait",
    )
    return start, [reason]
