"""The recovery plan: what to do, who does it, by when, and why.

A plan is a frozen value. It carries the policy's name, version and fingerprint, the
facts it read, the decision-table rows that matched (and the rows they shadowed), and
``next_review_at``: the instant at which the decision would change if nothing else
happened, so a host schedules one job instead of polling.
"""

from __future__ import annotations

from cxrecovery.plan._deferred import FieldParts, Parts, early, source
from cxrecovery.plan._parts import (
    Action,
    ActionKind,
    Approval,
    Authority,
    Authorization,
    ClockState,
    ClockStatus,
    LimitCheck,
    Reason,
    TableTrace,
    WarningTime,
)
from cxrecovery.plan._plan import DecidedAction, RecoveryPlan, decided_actions
from cxrecovery.plan._record import record

__all__ = [
    "Action",
    "ActionKind",
    "Approval",
    "Authority",
    "Authorization",
    "ClockState",
    "ClockStatus",
    "DecidedAction",
    "FieldParts",
    "LimitCheck",
    "Parts",
    "Reason",
    "RecoveryPlan",
    "TableTrace",
    "WarningTime",
    "decided_actions",
    "early",
    "record",
    "source",
]
