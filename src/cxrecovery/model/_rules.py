"""The rules a case's pauses and status keep with its times (parts of the case's
checks: :func:`cxrecovery.model._case._case_problems` calls them for every case)."""

from __future__ import annotations

from datetime import datetime

from cxrecovery.errors import Problem
from cxrecovery.model._items import Pause
from cxrecovery.model._kinds import CaseStatus

__all__ = ["before", "pause_problems", "status_problems"]

# Looked up once: every case is checked against them.
_OPEN, _RESOLVED, _CLOSED = CaseStatus.OPEN, CaseStatus.RESOLVED, CaseStatus.CLOSED


def before(what: str, when: datetime, opened: datetime) -> str:
    return f"{what} {when.isoformat()} is before the case opened at {opened.isoformat()}"


def pause_problems(pauses: tuple[Pause, ...], opened: datetime, problems: list[Problem]) -> None:
    last_end: dict[str, tuple[int, datetime | None]] = {}
    for i, pause in enumerate(pauses):
        if pause.started_at < opened:
            problems.append(
                Problem(f"pauses[{i}].started_at", before("pause", pause.started_at, opened))
            )
        earlier = last_end.get(pause.reason)
        if earlier is not None:
            j, end = earlier
            if end is None or pause.started_at < end:
                problems.append(
                    Problem(
                        f"pauses[{i}].started_at",
                        f"overlaps pauses[{j}] for the same reason {pause.reason!r}; list "
                        "each reason's pauses in time order, one at a time",
                    )
                )
        last_end[pause.reason] = (i, pause.ended_at)


def status_problems(
    status: CaseStatus,
    opened: datetime,
    resolved: datetime | None,
    closed: datetime | None,
    pauses: tuple[Pause, ...],
    problems: list[Problem],
) -> None:
    if resolved is not None and resolved < opened:
        problems.append(Problem("resolved_at", before("resolved at", resolved, opened)))
    if closed is not None and closed < opened:
        problems.append(Problem("closed_at", before("closed at", closed, opened)))
    if status is _OPEN:
        if resolved or closed:
            problems.append(Problem("status", "an open case has no resolved_at or closed_at"))
    elif status is _RESOLVED:
        if resolved is None:
            problems.append(Problem("resolved_at", "a resolved case needs resolved_at"))
        if closed is not None:
            problems.append(Problem("closed_at", "a resolved case is not closed yet"))
    elif status is _CLOSED:
        if closed is None:
            problems.append(Problem("closed_at", "a closed case needs closed_at"))
        for i, pause in enumerate(pauses):
            if pause.ended_at is None:
                problems.append(
                    Problem(f"pauses[{i}].ended_at", "a closed case has no open pause")
                )
