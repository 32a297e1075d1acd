"""The harm done, as shares of the policy's steps: how late a broken promise was kept,
how long the service was down."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from cxrecovery.engine._context import DecisionContext
from cxrecovery.engine._history import changed_at
from cxrecovery.engine.goodwill import harm_reached
from cxrecovery.model import PromiseStatus

__all__ = ["harm_changed_at", "harm_shares"]

_ZERO: Final = Decimal(0)
_NO_TIME: Final = timedelta(0)
_BROKEN: Final = PromiseStatus.BROKEN
_PENDING: Final = PromiseStatus.PENDING


def harm_changed_at(d: DecisionContext) -> datetime:
    """The last instant at or before the decision at which the harm could have grown:
    the company's own recovery acts (a grant, a message it sent, a promise it made) are
    left out, so carrying out a plan never makes its goodwill look too small and a
    decision taken again at the same instant never asks for more."""
    return changed_at(d.case, d.at, own_acts=False)


def harm_shares(
    d: DecisionContext,
) -> tuple[Decimal, timedelta | None, Decimal, timedelta | None]:
    """The shares of the policy's lateness and downtime steps passed, each with the step
    reached (None for none).

    Lateness: by the latest promise broken (how late it was kept, or how overdue it was
    at the customer's last event, see :func:`harm_changed_at`). Downtime: the time
    without the service, from the failure (or the case's opening) to its resolution, or
    to the customer's last event while it is open. Counted to events, not to the
    decision time: goodwill is sized when something happens, and a re-decision with
    nothing new repeats it."""
    comp = d.policy.compensation
    case = d.case
    at = d.at
    last = None  # worked out only when needed, once
    steps = comp.lateness_steps
    lateness, late_by = _ZERO, None
    if steps:
        late = None
        for promise in case.promises:
            if promise.made_at > at:
                continue
            settled = promise.settled_at
            if settled is not None and settled <= at:
                if promise.status is not _BROKEN:
                    continue
                by = settled - promise.due
            elif promise.status is _PENDING and promise.due < at:  # pending (is_pending)
                if last is None:
                    last = harm_changed_at(d)
                by = last - promise.due
            else:
                continue
            if by < _NO_TIME:
                by = _NO_TIME
            if late is None or by > late:
                late = by
        if late is not None:  # a promise broken
            lateness, reached = harm_reached(late, d.engine._goodwill.lateness_rising)
            late_by = steps[reached - 1] if reached else None
    steps = comp.downtime_steps
    failure = case.failure
    if not steps or failure.service_usable:
        return lateness, late_by, _ZERO, None
    start = failure.occurred_at or case.opened_at
    end = case.resolved_at or case.closed_at
    if end is None or end > at:
        end = last if last is not None else harm_changed_at(d)
    down = end - start
    downtime, reached = harm_reached(
        down if down > _NO_TIME else _NO_TIME, d.engine._goodwill.downtime_rising
    )
    return lateness, late_by, downtime, steps[reached - 1] if reached else None
