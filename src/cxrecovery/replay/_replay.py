"""Replay: decide many cases under a policy (or two) and add up what the plans would do.

Input streams: a JSON Lines file is read line by line, cases go to the deciders in
chunks, and only a bounded number of chunks is in flight, so memory does not grow with
the number of cases. With an executor, each chunk carries the policy *document* and its
fingerprint (never a pickled engine); a worker compiles each policy once and keeps it in
a per-process cache keyed by fingerprint.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, Final, Literal

import attrs

from cxrecovery._validation import aware_arg, duration_arg
from cxrecovery.documents import load_case
from cxrecovery.engine import Engine, decide_as_of
from cxrecovery.errors import CxRecoveryError, DocumentError, InvalidValueError
from cxrecovery.limits import Limits, too_big
from cxrecovery.model import Case
from cxrecovery.plan import RecoveryPlan
from cxrecovery.policy import Policy, load_policy
from cxrecovery.replay._tally import Summary, _Tally

__all__ = ["DecisionTimes", "OnError", "read_cases", "simulate", "walk_instants"]

OnError = Literal["skip", "fail"]
DecisionTimes = datetime | Callable[[Case], datetime | Iterable[datetime]] | Literal["walk"] | None
# The decision times of a walk: every instant at which the case records something.
WALK: Final = "walk"
CaseSource = str | os.PathLike[str] | Iterable[Case | Mapping[str, Any] | str]
_Item = tuple[int, Case | Mapping[str, Any] | str | bytes]

# Per-process cache of compiled policies, keyed by fingerprint: a worker compiles a
# policy on its first chunk and reuses it for every later one.
_ENGINES: dict[str, Engine] = {}
_CACHE_SIZE = 8


def _engine_for(document: Mapping[str, Any], fingerprint: str) -> Engine:
    engine = _ENGINES.get(fingerprint)
    if engine is None:
        if len(_ENGINES) >= _CACHE_SIZE:
            _ENGINES.pop(next(iter(_ENGINES)))
        engine = _ENGINES[fingerprint] = Engine(load_policy(document))
    return engine


def _check_on_error(on_error: str) -> None:
    if on_error not in ("skip", "fail"):
        raise InvalidValueError.at("on_error", f"{on_error!r} is not 'skip' or 'fail'")


_LIMITS = Limits()


def _items(cases: CaseSource) -> Iterator[_Item]:
    """Number the inputs: a file's lines (blank lines skipped), or an iterable's items.

    Checks ``cases`` now (a file that cannot be opened, something not iterable); the
    items are read as they are asked for.
    """
    if isinstance(cases, str | os.PathLike):
        lines = _open(cases)
        lines.close()  # it can be read: _lines opens it again, as it is asked for lines
        return _lines(cases)
    if isinstance(cases, Case | Mapping | bytes):
        raise InvalidValueError.at(
            "cases", "give an iterable of cases or the path of a JSON Lines file, not one case"
        )
    try:
        return enumerate(cases, 1)
    except TypeError:
        raise InvalidValueError.at(
            "cases", f"{cases!r:.60} is not an iterable of cases nor the path of a file"
        ) from None


def _open(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as error:
        where = os.fspath(path)
        raise DocumentError.at("cases", f"cannot read {where!r}: {error.strerror}") from None


# The white space bytes.strip() takes off: a line starting with none of them is not blank.
_BLANK: Final = frozenset(b" \t\n\r\x0b\x0c")


def _lines(path: str | os.PathLike[str], limits: Limits = _LIMITS) -> Iterator[_Item]:
    # Bytes, decoded line by line: a line that is not UTF-8 is one bad line, by number.
    # No line is read past the byte limit of a document: a file with no line end (a
    # device such as /dev/zero) stops the replay instead of filling the memory.
    most = limits.max_document_bytes
    with _open(path) as lines:
        number = 0
        while line := lines.readline(most + 1):
            number += 1
            if len(line) > most and not line.endswith(b"\n"):
                raise DocumentError.at(f"line {number}", too_big("case", limits))
            # (A line that opens a document is not blank: no stripped copy made of it.)
            if line[0] not in _BLANK or line.strip():
                yield number, line


def _case_of(item: Case | Mapping[str, Any] | str | bytes) -> Case:
    if isinstance(item, Case):
        return item
    if isinstance(item, bytes):
        try:
            item = item.decode()  # UTF-8
        except UnicodeDecodeError as error:
            raise DocumentError.at(
                "", f"not UTF-8 text ({error.reason} at byte {error.start})"
            ) from None
    if isinstance(item, str) and item[:1] != "{" and not item.lstrip().startswith("{"):
        raise DocumentError.at("", f"{item[:40]!r} is not a JSON object")
    return load_case(item)


def _line_error(number: int, error: Exception) -> str:
    text = str(error).replace("\n", "; ")
    return f"line {number}: {text}"


def read_cases(cases: CaseSource, *, on_error: OnError = "fail") -> Iterator[Case]:
    """Stream cases from a JSON Lines file (or an iterable of cases, documents or texts).

    One case document per line; blank lines are skipped. A bad line raises
    :class:`~cxrecovery.DocumentError` naming its line number with ``on_error="fail"``;
    with ``"skip"`` it is left out (use :func:`simulate` to have skipped lines counted
    and listed).

    .. versionadded:: 0.1.0
    """
    _check_on_error(on_error)
    for number, item in _items(cases):
        try:
            yield _case_of(item)
        except CxRecoveryError as error:
            if on_error == "fail":
                raise DocumentError.at(f"line {number}", str(error)) from error


def _times(case: Case, at: DecisionTimes) -> Iterable[datetime]:
    """The times ``at`` stands for on ``case``; ``None`` (its latest event) is taken by
    :func:`_run_chunk` itself."""
    if isinstance(at, datetime):
        return (at,)
    if at == WALK:
        return walk_instants(case)
    assert at is not None
    assert not isinstance(at, str)
    chosen = at(case)
    return (chosen,) if isinstance(chosen, datetime) else chosen


def walk_instants(case: Case) -> tuple[datetime, ...]:
    """Every instant at which ``case`` records something, in time order, each once:
    its opening, touchpoints, promises made and settled, grants, pauses started and
    ended, events and their acknowledgements, its resolution and close.

    .. versionadded:: 0.2.0
    """
    times = [case.opened_at, *(tp.at for tp in case.touchpoints), *(g.at for g in case.grants)]
    for promise in case.promises:
        times.append(promise.made_at)
        if promise.settled_at is not None:
            times.append(promise.settled_at)
    for pause in case.pauses:
        times.append(pause.started_at)
        if pause.ended_at is not None:
            times.append(pause.ended_at)
    for event in case.history():
        times.append(event.at)
        if event.acknowledged_at is not None:
            times.append(event.acknowledged_at)
    seen: dict[datetime, datetime] = {}
    for when in sorted(times, key=lambda t: t.astimezone(UTC)):
        seen.setdefault(when.astimezone(UTC), when)
    return tuple(seen.values())


@attrs.frozen
class _Job:
    """What a worker needs besides the cases: plain, picklable data."""

    documents: tuple[Mapping[str, Any], ...]
    fingerprints: tuple[str, ...]
    at: DecisionTimes
    risk_horizon: timedelta
    on_error: OnError
    keep_changes: int


Differ = Callable[[Case, RecoveryPlan, RecoveryPlan], tuple[str, ...]]


@attrs.define
class _ChunkResult:
    tallies: list[_Tally]
    changed: int = 0
    changes: list[tuple[str, str, tuple[str, ...]]] = attrs.field(factory=list)
    failure: str | None = None


def _run_chunk(job: _Job, items: list[_Item], differ: Differ | None) -> _ChunkResult:
    engines = [_engine_for(d, f) for d, f in zip(job.documents, job.fingerprints, strict=True)]
    tallies = [_Tally() for _ in engines]
    result = _ChunkResult(tallies)
    times, horizon, walk = job.at, job.risk_horizon, job.at == WALK
    for number, item in items:
        try:
            case = _case_of(item)
            if times is None:  # the usual: once, at the case's latest event
                decided = [_decided(engines, case, case.last_event_at())]
            else:
                decided = [_decided(engines, case, at) for at in _times(case, times)]
        except CxRecoveryError as error:
            if job.on_error == "fail":
                result.failure = _line_error(number, error)
                return result
            for tally in tallies:
                tally.bad(number, _line_error(number, error))
            continue
        for tally in tallies:
            tally.cases += 1
        for at, known, plans in decided:
            # One plan per engine, in the tallies' order.
            for i, plan in enumerate(plans):
                tallies[i].add(known, plan, horizon)
            if differ is not None:
                what = differ(case, plans[0], plans[1])
                if what:
                    result.changed += 1
                    if len(result.changes) < job.keep_changes:
                        result.changes.append((case.id, at.isoformat(), what))
        if walk:
            for i, tally in enumerate(tallies):
                tally.timed(case, [(at, plans[i]) for at, _, plans in decided])
    return result


def _decided(
    engines: list[Engine], case: Case, at: datetime
) -> tuple[datetime, Case, list[RecoveryPlan]]:
    """The case as known at ``at`` for the tally, and each engine's plan then.

    Deciding takes the case as of ``at`` first. When ``at`` is the instant ``decide``
    takes it as of (a fixed offset, as every time a document gives), the case is
    taken as of ``at`` once and each engine decides on that without taking it again
    (:func:`~cxrecovery.engine.decide_as_of`). At another ``at`` (a zone with DST),
    the tally reads of the case only its customer's segment, which is the same at
    every instant, and its promises: a case with promises is taken as of ``at`` here
    and each engine decides on that; a case without any is passed as it is. An
    instant ``as_of`` refuses is left to ``decide``, which raises its own error for it
    (the one a replay always reported).
    """
    found = decide_as_of(engines, case, at)
    if found is not None:
        return at, found[0], found[1]
    known = case
    if case.promises:
        with contextlib.suppress(CxRecoveryError):
            known = case.as_of(at)
    return at, known, [engine.decide(known, at=at) for engine in engines]


def _chunks(items: Iterator[_Item], size: int) -> Iterator[list[_Item]]:
    while True:
        chunk = list(itertools.islice(items, size))
        if not chunk:
            return
        yield chunk


def _drive(
    policies: tuple[Policy, ...],
    cases: CaseSource,
    *,
    at: DecisionTimes,
    executor: Executor | None,
    chunk_size: int,
    on_error: OnError,
    risk_horizon: timedelta,
    progress: Callable[[int], None] | None,
    differ: Differ | None,
    keep_changes: int,
) -> _ChunkResult:
    """Run the chunks (in order, a bounded number in flight) and merge their results."""
    _check_on_error(on_error)
    for i, policy in enumerate(policies):
        if not isinstance(policy, Policy):
            raise InvalidValueError.at(f"policies[{i}]", f"{policy!r} is not a Policy")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise InvalidValueError.at("chunk_size", f"{chunk_size!r} is not a positive whole number")
    if isinstance(at, datetime):
        aware_arg(at, "at")
    elif at is not None and at != WALK and not callable(at):
        raise InvalidValueError.at(
            "at", f"{at!r:.60} is not a datetime, a function of the case, 'walk' or None"
        )
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise InvalidValueError.at("executor", f"{executor!r:.60} is not an Executor")
    duration_arg(risk_horizon, "risk_horizon")
    if progress is not None and not callable(progress):
        raise InvalidValueError.at("progress", f"{progress!r:.60} is not callable")
    job = _Job(
        tuple(p.document for p in policies),
        tuple(p.fingerprint for p in policies),
        at,
        risk_horizon,
        on_error,
        keep_changes,
    )
    for policy in policies:  # compile here first: a bad policy fails before any work
        if policy.fingerprint not in _ENGINES:
            _ENGINES[policy.fingerprint] = Engine(policy)
    total = _ChunkResult([_Tally() for _ in policies])
    done = 0

    def merge(part: _ChunkResult, size: int) -> None:
        nonlocal done
        if part.failure is not None:
            raise DocumentError.at("cases", part.failure)
        for mine, theirs in zip(total.tallies, part.tallies, strict=True):
            mine.merge(theirs)
        total.changed += part.changed
        room = keep_changes - len(total.changes)
        total.changes.extend(part.changes[: max(room, 0)])
        done += size
        if progress is not None:
            progress(done)

    chunks = _chunks(_items(cases), chunk_size)
    if executor is None:
        for chunk in chunks:
            merge(_run_chunk(job, chunk, differ), len(chunk))
        return total
    window: deque[tuple[Future[_ChunkResult], int]] = deque()
    # Two chunks per worker in flight keeps every worker busy without reading ahead.
    limit = 2 * max(1, getattr(executor, "_max_workers", os.cpu_count() or 2))
    try:
        for chunk in chunks:
            window.append((executor.submit(_run_chunk, job, chunk, differ), len(chunk)))
            while len(window) >= limit:
                future, size = window.popleft()
                merge(future.result(), size)
        while window:
            future, size = window.popleft()
            merge(future.result(), size)
    finally:
        for future, _ in window:
            future.cancel()
    return total


def simulate(
    policy: Policy,
    cases: CaseSource,
    *,
    at: DecisionTimes = None,
    executor: Executor | None = None,
    chunk_size: int = 500,
    on_error: OnError = "skip",
    risk_horizon: timedelta = timedelta(hours=24),
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Decide every case under ``policy`` at its decision times and add up the plans.

    Args:
        policy: the policy to replay.
        cases: the path of a JSON Lines file (one case document a line), or any
            iterable of :class:`~cxrecovery.Case` values, case documents (mappings) or
            JSON texts. Read once, as a stream.
        at: the decision times: ``None`` for each case's latest event
            (:meth:`Case.last_event_at`), one instant for every case, a function of
            the case returning an instant or several (picklable, with an executor), or
            ``"walk"``: each of the case's own event instants (:func:`walk_instants`),
            each decision seeing the case as it was then. A walk also adds up, in the
            summary's ``timing``, how often the policy would have acted earlier or
            later than the case records it done.
        executor: any :class:`concurrent.futures.Executor` (a process pool, a Dask
            client's ``get_executor()``); ``None`` decides in this thread.
        chunk_size: cases per chunk sent to a worker.
        on_error: ``"skip"`` counts and lists a bad input (with its line number) and
            goes on; ``"fail"`` raises at the first one.
        risk_horizon: a pending promise due within this long of the decision time (or
            overdue) counts as at risk.
        progress: called with the number of inputs done after each chunk.

    Raises:
        DocumentError: a bad input with ``on_error="fail"``, naming its line.
        InvalidValueError: a bad argument.

    .. versionadded:: 0.1.0
    """
    result = _drive(
        (policy,),
        cases,
        at=at,
        executor=executor,
        chunk_size=chunk_size,
        on_error=on_error,
        risk_horizon=risk_horizon,
        progress=progress,
        differ=None,
        keep_changes=0,
    )
    return result.tallies[0].freeze(policy.name, policy.fingerprint)
