"""The case's history as times: when something last happened on it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Final

from cxrecovery.engine._support import instant
from cxrecovery.model import Case, Direction, PromiseStatus

__all__ = ["changed_at", "latest"]

_OUTBOUND: Final = Direction.OUTBOUND
_PENDING: Final = PromiseStatus.PENDING


def changed_at(case: Case, at: datetime, *, own_acts: bool) -> datetime:
    """The last instant at or before ``at`` at which something happened on the case: its
    opening, a touchpoint, a promise falling due or settled, and — with ``own_acts`` — the
    company's own acts too (a message it sent, a promise it made, a grant). The first
    of equal instants, in that order."""
    times = [case.opened_at]
    if own_acts:
        times += [tp.at for tp in case.touchpoints if tp.at <= at]
    else:
        times += [
            tp.at for tp in case.touchpoints if tp.at <= at and tp.direction is not _OUTBOUND
        ]
    for promise in case.promises:
        if own_acts and promise.made_at <= at:
            times.append(promise.made_at)
        settled = promise.settled_at
        if settled is not None and settled <= at:
            times.append(settled)
        elif promise.status is _PENDING and promise.due < at:
            times.append(promise.due)
    if own_acts and case.grants:
        times += [g.at for g in case.grants if g.at <= at]
    return latest(times)


def latest(times: list[datetime]) -> datetime:
    """``max(times, key=instant)``: the first of the latest instants.

    Datetimes whose zones are all fixed offsets (``timezone``) compare as the instants
    they name, so ``max`` needs no key then (one conversion per time saved); a time in
    a zone with DST (a fold) takes the keyed path.
    """
    fixed = timezone
    for when in times:
        if when.tzinfo.__class__ is not fixed:
            return max(times, key=instant)
    return max(times)
