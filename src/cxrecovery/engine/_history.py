"""The case's history as times: when something last happened on it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timezone
from typing import Final

from cxrecovery.model import Case, Direction, PromiseStatus

__all__ = ["changed_at", "latest"]

_OUTBOUND: Final = Direction.OUTBOUND
_PENDING: Final = PromiseStatus.PENDING
_FIXED: Final = timezone


def comparable(when: datetime) -> datetime:
    """``when``, or the same instant in UTC: a datetime that compares with any other as
    the instant it names. Two datetimes that share a zone with DST compare by wall clock
    with ``fold`` ignored (PEP 495); one in a fixed offset (``timezone``) compares with
    one in the same offset by wall clock, which is its instant, and with any other
    through both offsets, as instants. Only a zone with DST needs converting."""
    return when if when.tzinfo.__class__ is _FIXED else when.astimezone(UTC)


def latest(times: Iterable[datetime]) -> datetime:
    """``max(times, key=instant)``: the first of the latest instants, with one
    comparison a time and a conversion only for a later time in a zone with DST
    (see :func:`comparable`)."""
    found = iter(times)
    best = next(found)
    key = comparable(best)
    for when in found:
        if when > key:
            best = when
            key = comparable(when)
    return best


def changed_at(case: Case, at: datetime, *, own_acts: bool) -> datetime:
    """The last instant at or before ``at`` (a fixed offset, as the engine's decision
    time is) at which something happened on the case: its opening, a touchpoint, a
    promise falling due or settled, and — with ``own_acts`` — the company's own acts too
    (a message it sent, a promise it made, a grant). The first of equal instants, in
    that order: :func:`latest` of them, in one pass that compares each time with the
    latest so far before it compares it with ``at``. (``comparable`` is written out in
    the loops: a call for each later time costs more than the test.)"""
    best = case.opened_at
    key = best if best.tzinfo.__class__ is _FIXED else best.astimezone(UTC)
    if own_acts:  # (a loop each: the test of own_acts is not made for every touchpoint)
        for tp in case.touchpoints:
            when = tp.at
            if when > key and when <= at:
                best = when
                key = when if when.tzinfo.__class__ is _FIXED else when.astimezone(UTC)
    else:
        for tp in case.touchpoints:
            when = tp.at
            if when > key and when <= at and tp.direction is not _OUTBOUND:
                best = when
                key = when if when.tzinfo.__class__ is _FIXED else when.astimezone(UTC)
    for promise in case.promises:
        if own_acts:
            when = promise.made_at
            if when > key and when <= at:
                best = when
                key = when if when.tzinfo.__class__ is _FIXED else when.astimezone(UTC)
        settled = promise.settled_at
        if settled is not None and settled <= at:
            when = settled
        elif promise.status is _PENDING and promise.due < at:
            when = promise.due
        else:
            continue
        if when > key:
            best = when
            key = when if when.tzinfo.__class__ is _FIXED else when.astimezone(UTC)
    if own_acts and case.grants:
        for grant in case.grants:
            when = grant.at
            if when > key and when <= at:
                best = when
                key = when if when.tzinfo.__class__ is _FIXED else when.astimezone(UTC)
    return best
