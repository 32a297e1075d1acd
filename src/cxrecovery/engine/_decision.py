"""One decision, step by step: the order :meth:`Engine.decide` takes its steps in.

Each step is a function over the decision's context (:mod:`._context`): the recovery
row, the clocks and the escalation level, the owner, the apology and the remedy with its
promise, compensation and money owed, escalating, telling the customer, following up,
recognising staff. :func:`plan` runs them in order and assembles the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from cxrecovery.engine._compensation import compensate, owed, repay
from cxrecovery.engine._context import DecisionContext, traced
from cxrecovery.engine._notify import follow_up, future_windows, notify, recognise
from cxrecovery.engine._owner import owner as owner_of
from cxrecovery.engine._pending import Pending
from cxrecovery.engine._remedy import apologize, remedy
from cxrecovery.engine._support import earliest
from cxrecovery.model import CaseEventKind, CaseStatus, ExpectationBaseline
from cxrecovery.money import Money
from cxrecovery.plan import (
    Action,
    ActionKind,
    ClockState,
    DecidedAction,
    FieldParts,
    RecoveryPlan,
    TableTrace,
    decided_actions,
    source,
)

__all__ = ["DecisionContext", "decided", "decided_as_taken", "ordered", "plan"]

# Where each kind of action goes in a plan: the order ActionKind lists them in.
_KIND_ORDER: Final = {kind: i for i, kind in enumerate(ActionKind)}
# Looked up once (an enum class's attribute costs a lookup through its metaclass).
_RESOLVED: Final = CaseStatus.RESOLVED


def _recovery(d: DecisionContext) -> tuple[Mapping[str, object] | None, str]:
    """The recovery row (the apology's style, the goodwill, the follow-up) and its rule."""
    name = d.policy.compensation.table
    compiled = d.engine._compiled
    path = compiled.recovery_path
    found = d.decided(name, compiled.tables[name], path, _RECOVERY_WHAT)
    if found is None:
        return None, ""
    return found[0], d._slots[path].rule(found[1])


_RECOVERY_WHAT: Final = "the apology's style, the goodwill and the follow-up"


def _unapologised(d: DecisionContext) -> bool:
    """Whether an apology is owed: none is recorded since the last setback."""
    return not (d.case.events and d.done_since_setback(CaseEventKind.APOLOGIZED))


def plan(d: DecisionContext, decided_at: datetime | None = None) -> RecoveryPlan:
    """The plan; ``decided_at`` is the decision time as the host gave it (``d.at`` is
    the same instant, as the engine compares it)."""
    recovery, recovery_rule = _recovery(d)
    case = d.case
    is_open = d.is_open
    clocks, clock_levels = d.clocks()
    level, level_reasons, level_anchor = d.escalation(clock_levels)
    # An escalation already taken to a level is not raised to it again: the case is
    # at the higher of the level due and the level taken.
    taken = case.escalation_taken() if is_open and case.events else 0
    at_level = level if level >= taken else taken
    owner, owner_reason = owner_of(d, at_level)

    if is_open:
        if recovery is not None and _unapologised(d):
            apologize(d, recovery, recovery_rule, owner)
        promise_due = remedy(d, owner)
    else:
        promise_due = None
    compensation: Money | None = None
    over, expectation = False, None
    if recovery is not None:
        compensation, over, expectation = compensate(d, recovery, recovery_rule, owner)
    else:  # money owed is paid back whatever a person decides about goodwill
        repay(d, case.failure.value_at_stake, owed(d), owner)
    # A case put right after a broken promise, or one that now pays the customer,
    # still owes them an apology and a word: money is not a substitute for either
    # (Wirtz & Mattila 2004; Joireman et al. 2013).
    aftercare = case.status is _RESOLVED and (
        compensation is not None or int(d.facts["promises_broken"]) > 0  # type: ignore[call-overload]
    )
    if aftercare and recovery is not None and _unapologised(d):
        apologize(d, recovery, recovery_rule, owner)
    if is_open and level > taken:
        d.escalate(level, level_reasons, level_anchor)
    if is_open or aftercare:
        notify(d, clocks, promise_due, compensation)
    if recovery is not None:
        follow_up(d, recovery, recovery_rule, owner)
    recognise(d)
    future_windows(d)
    return _assemble(d, decided_at, owner, owner_reason, clocks, at_level, over, expectation)


def _assemble(
    d: DecisionContext,
    decided_at: datetime | None,
    owner: str,
    owner_reason: str,
    clocks: list[ClockState],
    at_level: int,
    over: bool,
    expectation: ExpectationBaseline | None,
) -> RecoveryPlan:
    """The plan of the steps taken: the decision's own fields now; its actions, facts
    and trace on the first read of any of them (each action's words, details and
    reasons on the first read of those); everything now with ``explain``."""
    policy = d.policy
    reviews = d.reviews
    made = _PLAN(
        FieldParts(d, _EXPLANATION),
        d.case.id,
        d.at if decided_at is None else decided_at,
        d.role.name,
        d.agent.id if d.agent is not None else None,
        owner,
        owner_reason,
        policy.name,
        policy.version,
        policy.fingerprint,
        tuple(d.approvals) if d.approvals else (),
        tuple(clocks),
        at_level,
        str(d.facts["relationship_health"]),
        # The earliest review (one alone is compared with nothing).
        earliest(reviews, d.engine._compiled.epochs)
        if len(reviews) > 1
        else (reviews[0] if reviews else None),
        over,
        expectation,
        d.judgement,
    )
    if d.explain or not d.memo_ok:
        # The first read fills the rest: explained now, and so when a host fact's value
        # is of a class of its own (``memo_ok``), whose plain form (its ``str``) the
        # facts and the trace show as it was when decided, and fails in ``decide()``.
        made.actions  # noqa: B018
    return made


# The plan's maker, by position: the decision's fields, in this order (the explanation,
# ``_EXPLANATION``'s fields, on first read).
_PLAN: Final = RecoveryPlan._deferring(
    "case_id",
    "decided_at",
    "role",
    "agent",
    "owner",
    "owner_reason",
    "policy_name",
    "policy_version",
    "policy_fingerprint",
    "approvals",
    "clocks",
    "escalation_level",
    "relationship_health",
    "next_review_at",
    "over_delivery",
    "expectation",
    "needs_judgement",
)


def _actions(d: DecisionContext) -> tuple[Action, ...]:
    """The plan's actions in kind order (overdue ones marked). Each action is the one
    its step decided; its words wait for their first read unless the decision explains
    everything (``explain``). Nothing here, nor in the facts or the trace, decides or
    can fail: it only formats what the steps settled (a host fact of a class of its
    own is formatted in ``decide()``: see ``_assemble``)."""
    # ``d.at`` is in a fixed offset (``comparable``): a due time compares with it as the
    # instant it is, in any zone (and by wall clock in that same offset).
    at = d.at
    explain = d.explain
    actions: list[Action] = []
    for item in ordered(d):
        due = item.due
        overdue = due is not None and due < at
        if explain:
            actions.append(item.action(d, overdue))
        else:
            actions.append(item.deferred(d, overdue))
    return tuple(actions)


def _trace(d: DecisionContext) -> tuple[TableTrace, ...]:
    return tuple([traced(t) for t in d.trace])


# The explanation, a part per field: the actions can be read alone (``decided_actions``).
_EXPLANATION: Final = {"actions": _actions, "facts": DecisionContext.all_facts, "trace": _trace}


def ordered(d: DecisionContext) -> list[Pending]:
    """The plan's actions as decided, in the plan's order (by kind, as taken)."""
    return sorted(d.pending, key=_kind_order)


def _kind_order(item: Pending) -> int:
    return _KIND_ORDER[item.kind]


def decided(plan: RecoveryPlan) -> Sequence[DecidedAction]:
    """What ``plan``'s actions decide, in plan order, without making them: for a plan an
    engine made whose explanation waits, the decision's own values (no action made, no
    word written); otherwise its actions (:func:`~cxrecovery.plan.decided_actions`).

    The two are the same values: an action is made of its decision's (the test
    ``test_replay_decision_half`` holds them side by side).
    """
    d = source(plan)
    if type(d) is DecisionContext:
        return ordered(d)
    return decided_actions(plan)


def decided_as_taken(plan: RecoveryPlan) -> Sequence[DecidedAction]:
    """:func:`decided`, in the order the decision's steps took the actions rather than
    the plan's (by kind; actions of one kind are in the same order in both): for a
    reader that only counts and sums them per kind, which the order cannot change."""
    d = source(plan)
    if type(d) is DecisionContext:
        return d.pending
    return decided_actions(plan)
