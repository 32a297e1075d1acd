"""The physical floor under a serial replay and a cold sweep, by hand, in plain Python.

``floor_replay(path)`` does a replay's work for the cases ``floor.floor_decision`` was
written for: each line of a JSON Lines file read and decoded (``json.loads``), the case
read by hand (``floor_read.read_case``: the fields the decision needs, with the checks a
library reading untrusted input makes), decided at its last event (``floor_decision``)
and added up as ``simulate``'s ``Summary`` counts it (costs, money owed, costs by
segment and tier, tiers, the compensation ratios binned, approvals, escalations by
level and month, breaches per clock, promises made and at risk within 24 hours).

``floor_sweep(cases, at)`` does a cold sweep's work for the same kind of case: each
case (a ``cx.Case``, as ``Engine.sweep`` is given) skipped if not opened yet, decided
at ``at`` by ``floor_decision`` (which reads the case as known at ``at`` itself: the
touchpoints and promises up to ``at``, a promise settled later as pending, the status
from ``resolved_at``/``closed_at``; a case closed by then is skipped), and what
``sweep`` lists made with the same texts: breached clocks, the latest fired warning of
a running clock, promises overdue or due within 4 hours, the escalation, the customer
update and follow-ups due by ``at``; then sorted by urgency, due time and case id. It
returns the items as tuples and each case's ``next_review_at``.

``bench/floor_ab.py`` checks both against the library and measures them.
"""

from __future__ import annotations

import json
import sys
from bisect import bisect_left
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import OutOfScope, floor_decision, status_at
from floor_read import BadDocument, last_event_at, read_case

import cxrecovery as cx

_ZERO = Decimal(0)
_RATIO_BINS = tuple(Decimal(b) for b in ("0", "0.25", "0.5", "0.75", "1.0", "1.2", "1.5"))
_RISK = timedelta(hours=24)
_OPEN = cx.CaseStatus.OPEN
_BREACHES = frozenset({"breached", "missed"})


class Tally:
    """What a replay adds up, as plain dicts and counters."""

    __slots__ = (
        "approvals",
        "bad_lines",
        "breaches",
        "cases",
        "cost",
        "cost_by_segment",
        "cost_by_tier",
        "errors",
        "escalations",
        "escalations_by_month",
        "out_of_scope",
        "owed",
        "promises_at_risk",
        "promises_made",
        "ratios",
        "tiers",
    )

    def __init__(self) -> None:
        self.cases = self.errors = self.out_of_scope = 0
        self.promises_made = self.promises_at_risk = 0
        self.bad_lines: list[tuple[int, str]] = []
        self.cost: dict[str, Decimal] = {}
        self.owed: dict[str, Decimal] = {}
        self.cost_by_segment: dict[tuple[str, str], Decimal] = {}
        self.cost_by_tier: dict[tuple[str, str], Decimal] = {}
        self.tiers: dict[str, int] = {}
        self.ratios: list[Decimal] = []
        self.approvals: dict[str, int] = {}
        self.escalations: dict[int, int] = {}
        self.escalations_by_month: dict[str, int] = {}
        self.breaches: dict[str, int] = {}

    def add(self, case: Any, d: dict[str, Any], at: datetime) -> None:
        self.cases += 1
        kinds = d["kinds"]
        value = case.failure.value_at_stake
        comp = d["compensation"]
        if comp is not None:
            amount, share, _form, tier, approver = comp
            currency = value.currency
            self.tiers[tier] = self.tiers.get(tier, 0) + 1
            self.cost[currency] = self.cost.get(currency, _ZERO) + amount
            key = (case.customer.segment, currency)
            self.cost_by_segment[key] = self.cost_by_segment.get(key, _ZERO) + amount
            key = (tier, currency)
            self.cost_by_tier[key] = self.cost_by_tier.get(key, _ZERO) + amount
            self.ratios.append(share)
            if approver is not None:
                self.approvals[approver] = self.approvals.get(approver, 0) + 1
        if "repay" in kinds:
            for money in _repaid(case, d):
                cur = money.currency
                self.owed[cur] = self.owed.get(cur, _ZERO) + money.amount
        soon = at + _RISK
        due = d["promise_due"]
        if due is not None:
            self.promises_made += 1
            if due <= soon:
                self.promises_at_risk += 1
        level = d["escalation"][0]
        if level:
            self.escalations[level] = self.escalations.get(level, 0) + 1
            month = f"{at.year}-{at.month:02d}"
            self.escalations_by_month[month] = self.escalations_by_month.get(month, 0) + 1
        for name, status, _, _ in d["clocks"]:
            if status in _BREACHES:
                self.breaches[name] = self.breaches.get(name, 0) + 1
        for p in case.promises:
            if p.settled_at is None and p.made_at <= at and p.due <= soon:
                self.promises_at_risk += 1

    def freeze(self) -> dict[str, Any]:
        """The totals as ``Summary.to_dict`` gives them (its policy, timing and ratio
        shares left out)."""
        counts = [0] * (len(_RATIO_BINS) + 1)
        above_1_2 = above_1_5 = 0
        for ratio in self.ratios:
            counts[bisect_left(_RATIO_BINS, ratio)] += 1
            if ratio > _RATIO_BINS[-2]:
                above_1_2 += 1
                if ratio > _RATIO_BINS[-1]:
                    above_1_5 += 1
        return {
            "cases": self.cases,
            "decisions": self.cases,
            "errors": self.errors,
            "cost": {k: str(v) for k, v in sorted(self.cost.items())},
            "owed": {k: str(v) for k, v in sorted(self.owed.items())},
            "cost_by_segment": {
                f"{s} {c}": str(v) for (s, c), v in sorted(self.cost_by_segment.items())
            },
            "cost_by_tier": {
                f"{t} {c}": str(v) for (t, c), v in sorted(self.cost_by_tier.items())
            },
            "tiers": dict(sorted(self.tiers.items())),
            "ratio_bins": counts,
            "above_1_2": above_1_2,
            "above_1_5": above_1_5,
            "approvals": dict(sorted(self.approvals.items())),
            "escalations": {str(k): v for k, v in sorted(self.escalations.items())},
            "escalations_by_month": dict(sorted(self.escalations_by_month.items())),
            "breaches": dict(sorted(self.breaches.items())),
            "promises_made": self.promises_made,
            "promises_at_risk": self.promises_at_risk,
        }


def summary_dict(summary: Any) -> dict[str, Any]:
    """The same values read off a library ``Summary``."""
    full = summary.to_dict()
    ratios = full.pop("compensation_ratio")
    for key in ("policy", "bad_lines", "timing"):
        full.pop(key)
    full["ratio_bins"] = list(ratios["bins"].values())
    full["above_1_2"] = ratios["above_1_2"]
    full["above_1_5"] = ratios["above_1_5"]
    return {key: full[key] for key in Tally().freeze()}


def _repaid(case: Any, d: dict[str, Any]) -> list[Any]:
    """The money a plan pays back, one amount per currency: a wrong charge, then the
    value at stake when the remedy is a refund."""
    failure = case.failure
    parts = []
    if failure.wrongly_charged:
        parts.append(failure.wrongly_charged)
    if d["remedy"] == "refund":
        parts.append(failure.value_at_stake)
    if len(parts) == 2 and parts[0].currency == parts[1].currency:
        return [_Owed(parts[0].amount + parts[1].amount, parts[0].currency)]
    return parts


class _Owed:
    __slots__ = ("amount", "currency")

    def __init__(self, amount: Decimal, currency: str) -> None:
        self.amount = amount
        self.currency = currency

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


def floor_replay(path: str | Path, *, skip_out_of_scope: bool = False) -> dict[str, Any]:
    """A serial replay of a JSON Lines file, each case decided at its last event."""
    tally = Tally()
    with open(path, "rb") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                case = read_case(json.loads(line))
                at = last_event_at(case)
                decision = floor_decision(case, at)
            except (BadDocument, ValueError) as error:
                tally.errors += 1
                if len(tally.bad_lines) < 100:
                    tally.bad_lines.append((number, f"line {number}: {error}"))
                continue
            except OutOfScope:
                if not skip_out_of_scope:
                    raise
                tally.out_of_scope += 1
                continue
            tally.add(case, decision, at)
    return tally.freeze()


# --- the sweep ----------------------------------------------------------------------------
_URGENCY = {
    kind: i
    for i, kind in enumerate(
        (
            "breach",
            "promise_broken",
            "escalation",
            "promise_due",
            "warning",
            "customer_update",
            "follow_up",
        )
    )
}
_LEVELS = {1: "Supervisor takes ownership", 2: "Service manager", 3: "Duty manager"}
_WORDS = {
    "phone": "by phone",
    "email": "by email",
    "chat": "in chat",
    "sms": "by text message",
    "messaging": "by message",
    "social": "on social media",
    "web": "on the website",
    "app": "in the app",
    "in_person": "in person",
    "video": "by video call",
    "mail": "by post",
    "other": "on their usual channel",
}
_APOLOGY = "an apology and what we will do"
_PROMISE = "the fix and the time it will be done by (the promise)"
_OWNS = "who owns the case now"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _shown(case: Any, when: datetime) -> str:
    """``when`` as a plan's text shows it: in the customer's zone, else the opening's."""
    zone = case.customer.time_zone
    return when.astimezone(_zone(zone) if zone else case.opened_at.tzinfo).isoformat()


Item = tuple[str, str, datetime, str]  # case id, kind, due, summary


def floor_sweep(
    cases: Iterable[Any],
    at: datetime,
    horizon: timedelta = timedelta(0),
    promise_horizon: timedelta = timedelta(hours=4),
) -> tuple[list[Item], dict[str, datetime | None]]:
    """What a cold sweep lists at ``at`` (urgency, due time, case order) and each case's
    next review."""
    until = at + horizon
    soon = at + promise_horizon
    found: list[tuple[int, datetime, str, Item]] = []
    reviews: dict[str, datetime | None] = {}
    for case in cases:
        if case.opened_at > at:
            continue
        closed = case.closed_at
        if closed is not None and closed <= at:
            continue
        d = floor_decision(case, at)
        case_id = case.id
        reviews[case_id] = d["next_review_at"]
        found.extend(_listed(case, d, at, until, soon))
    found.sort(key=lambda entry: entry[:3])
    return [entry[3] for entry in found], reviews


def _item(kind: str, case_id: str, due: datetime, summary: str) -> tuple[int, datetime, str, Item]:
    return (_URGENCY[kind], due, case_id, (case_id, kind, due, summary))


def _listed(
    case: Any, d: dict[str, Any], at: datetime, until: datetime, soon: datetime
) -> list[tuple[int, datetime, str, Item]]:
    case_id = case.id
    found = []
    # A case put right is escalated no more: its clocks call for nothing.
    clocks = d["clocks"] if status_at(case, at) is _OPEN else ()
    for name, status, due, warnings in clocks:
        if status == "breached":
            found.append(_item("breach", case_id, due, f"{name} clock breached"))
        elif status == "running":
            fired = [w for w in warnings if w[1] <= at]
            if fired:
                wname, wat = fired[-1]
                found.append(_item("warning", case_id, wat, f"{name} clock at {wname}"))
    for p in case.promises:
        if p.made_at > at or (p.settled_at is not None and p.settled_at <= at):
            continue  # not made yet, or settled by then
        if p.due < at:
            found.append(_item("promise_broken", case_id, p.due, f"overdue: {p.what}"))
        elif p.due <= soon:
            found.append(_item("promise_due", case_id, p.due, f"due soon: {p.what}"))
    level, due = d["escalation"]
    if level:
        text = f"Escalate to level {level} ({_LEVELS[level]}): {d['owner']} acts by "
        found.append(_item("escalation", case_id, due, text + _shown(case, due)))
    due, channel = d["notify"] or (None, None)
    if due is not None and due <= until:
        states = [_APOLOGY]
        if d["remedy"] is not None:  # its promise, made now or pending already
            states.append(_PROMISE)
        if "repay" in d["kinds"]:
            states += [f"the money we owe back ({m})" for m in _repaid(case, d)]
        comp = d["compensation"]
        if comp is not None:
            states.append(f"the compensation ({comp[0]} {case.failure.value_at_stake.currency})")
        states.append(_OWNS)
        where = " " + _WORDS[channel.value] if channel else ""
        text = f"Tell the customer{where}: " + "; ".join(states)
        found.append(_item("customer_update", case_id, due, text))
    for _, due in d["follow_ups"]:  # (an open case's wait for the fix: no due time yet)
        if due is not None and due <= until:
            text = (
                f"Follow up {_shown(case, due)}: check the customer is satisfied and the fix held"
            )
            found.append(_item("follow_up", case_id, due, text))
    return found
