"""The ledger conformance suite: what any :class:`~cxrecovery.ledger.Ledger` must do.

A host that backs a desk with its own store runs the same checks as the bundled ones
(the in-memory, SQLite and PostgreSQL stores all pass them)::

    from cxrecovery.testing.ledger import LedgerContract

    class TestMyStore(LedgerContract):
        def make_ledger(self, clock):
            return MyStore(DSN, clock=clock)

        # Optional: a picklable callable that opens the same store in another
        # process (functools.partial of a top-level function or class); enables the
        # multi-process and crash checks.
        def ledger_opener(self, clock):
            return functools.partial(MyStore, DSN, clock=clock)

pytest collects the class's ``test_*`` methods; each gets a fresh, empty store from
``make_ledger`` (clear it there, or use a new database or schema each time) and closes
it afterwards. The store must answer :meth:`~cxrecovery.ledger.LedgerSession.now`
from the ``clock`` it is given: the checks date their grants around
:data:`CONTRACT_NOW`.

This module imports neither pytest nor hypothesis; plain ``assert`` statements, which
the cxrecovery pytest plugin has pytest rewrite for readable failures.

.. versionadded:: 0.2.0
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from multiprocessing import get_context

from cxrecovery.errors import CxRecoveryError
from cxrecovery.ledger import (
    ApprovalStatus,
    CaseRecord,
    EventKind,
    Ledger,
    LedgerError,
    LimitExceededError,
    RequestConflictError,
    verify,
)
from cxrecovery.model import (
    Agent,
    Attributes,
    Severity,
)
from cxrecovery.money import Money
from cxrecovery.testing.ledger._history import HistoryChecks
from cxrecovery.testing.ledger._kit import (
    CONTRACT_NOW,
    OPENED,
    TOLERANCE,
    a_case,
    check_exact,
    contract_clock,
    count_lines,
    crash_writer,
    eur,
    process_writer,
    raises,
    spend_most_of_the_period_budget,
    try_grants,
)

__all__ = ["CONTRACT_NOW", "LedgerContract", "contract_clock"]


class LedgerContract(HistoryChecks):
    """The checks every ledger store must pass; subclass it as ``Test<YourStore>``.

    Class attributes tune the concurrency checks: ``threads`` writers in one process,
    ``processes`` x ``threads_per_process`` writers across processes (with
    :meth:`ledger_opener`), ``attempts`` grants per writer, ``crash_rounds`` SIGKILLs
    (0 to skip; POSIX only).

    .. versionadded:: 0.2.0
    """

    threads: int = 8
    processes: int = 8
    threads_per_process: int = 2
    attempts: int = 40
    crash_rounds: int = 3

    # --- the protocol ---------------------------------------------------------------------

    def test_implements_the_protocol(self) -> None:
        assert isinstance(self.ledger, Ledger)
        with self.ledger.write() as session:
            assert CONTRACT_NOW == session.now()

    def test_a_grant_reads_back_exact_in_utc(self) -> None:
        at = datetime.fromisoformat("2026-06-01T11:00:00.123456+02:00")
        self.desk().grant(
            a_case("case-1", "c1"),
            eur("12.34"),
            "credit",
            at=at,
            agent=Agent("a1", "front_line"),
            request_id="r1",
        )
        with self.ledger.read() as view:
            found = view.grant("r1")
            assert found is not None
            assert eur("12.34") == found.amount
            assert at == found.at
            assert timedelta(0) == found.at.utcoffset()
            assert eur("12.34") == view.spent(
                "a1", "EUR", after=at - timedelta(seconds=1), before=at
            )
            assert Money.zero("EUR") == view.spent("a1", "EUR", after=at, before=at + TOLERANCE)
            assert eur("12.34") == view.goodwill("c1", "EUR", after=OPENED, before=at)

    def test_a_failed_session_leaves_nothing(self) -> None:
        before = self._counts()
        with raises(ZeroDivisionError), self.ledger.write() as session:
            session.add_case(CaseRecord("case-9", "c1", OPENED, "late", Severity.LOW))
            session.add_event(
                EventKind.CASE_OPENED, "case-9", at=OPENED, ref="case-9", body=Attributes()
            )
            _ = 1 / 0
        assert before == self._counts()
        with self.ledger.read() as view:
            assert view.case("case-9") is None

    # --- idempotency --------------------------------------------------------------------

    def test_a_retried_grant_is_recorded_once(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        agent = Agent("a1", "front_line")
        first = desk.grant(
            case, eur("10.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1"
        )
        again = desk.grant(
            case, eur("10.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1"
        )
        assert first == again
        with raises(RequestConflictError, "r1"):
            desk.grant(case, eur("11.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        assert (1, 2, 0) == self._counts()

    def test_a_retried_approval_request_returns_the_original(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        front = Agent("a1", "front_line")
        desk.request_approval(
            case, eur("80.00"), "credit", at=CONTRACT_NOW, agent=front, approval_id="ap1"
        )
        desk.approve("ap1", at=CONTRACT_NOW, approver=Agent("s1", "supervisor"))
        desk.grant(
            case,
            eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            request_id="r1",
            approval="ap1",
        )
        again = desk.request_approval(
            case, eur("80.00"), "credit", at=CONTRACT_NOW, agent=front, approval_id="ap1"
        )
        assert ApprovalStatus.GRANTED == again.status

    # --- limits ---------------------------------------------------------------------------

    def test_a_grant_over_the_period_budget_is_refused_with_the_room_left(self) -> None:
        desk = self.desk()
        agent = Agent("a1", "front_line")
        spend_most_of_the_period_budget(desk, agent)
        with raises(LimitExceededError, "max_per_period") as caught:
            desk.grant(
                a_case("case-9", "c9"),
                eur("6.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=agent,
                request_id="r9",
            )
        error = caught[0]
        assert isinstance(error, LimitExceededError)
        assert eur("5.00") == error.room["roles[front_line].max_per_period"]
        assert 5 == self._counts()[0]

    def test_a_backdated_grant_counts_the_grants_dated_after_it(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        agent = Agent("a1", "front_line")
        desk.grant(case, eur("40.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        with raises(LimitExceededError, "max_per_case"):
            desk.grant(
                case,
                eur("40.00"),
                "credit",
                at=CONTRACT_NOW - timedelta(hours=1),
                agent=agent,
                request_id="r2",
            )
        assert 1 == self._counts()[0]

    def test_a_time_far_from_the_stores_clock_is_refused(self) -> None:
        desk = self.desk(timedelta(minutes=5))
        case = a_case("case-1", "c1")
        agent = Agent("a1", "front_line")
        for offset in (timedelta(minutes=6), -timedelta(minutes=6)):
            with raises(LedgerError, "the ledger's clock"):
                desk.grant(
                    case,
                    eur("1.00"),
                    "credit",
                    at=CONTRACT_NOW + offset,
                    agent=agent,
                    request_id="r1",
                )
        assert (0, 0, 0) == self._counts()

    def test_bad_values_are_refused_and_write_nothing(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        agent = Agent("a1", "front_line")
        attempts: list[Callable[[], object]] = [
            lambda: desk.grant(
                case,
                5,  # type: ignore[arg-type]
                "credit",
                at=CONTRACT_NOW,
                agent=agent,
                request_id="x",
            ),
            lambda: desk.grant(
                case, Money("1.00", "USD"), "credit", at=CONTRACT_NOW, agent=agent, request_id="x"
            ),
            lambda: desk.grant(
                case,
                eur("1.00"),
                "credit",
                at=CONTRACT_NOW.replace(tzinfo=None),
                agent=agent,
                request_id="x",
            ),
            lambda: desk.grant(
                case, eur("1.00"), "hug", at=CONTRACT_NOW, agent=agent, request_id="x"
            ),
            lambda: desk.grant(
                case, eur("1.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id=" "
            ),
            lambda: desk.grant(
                case,
                eur("1.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=Agent("z", "wizard"),
                request_id="x",
            ),
            lambda: desk.approve("nope", at=CONTRACT_NOW, approver=Agent("s1", "supervisor")),
        ]
        for attempt in attempts:
            with raises(CxRecoveryError):
                attempt()
        assert (0, 0, 0) == self._counts()

    # --- concurrency --------------------------------------------------------------------

    def test_concurrent_threads_keep_every_limit_exact(self) -> None:
        start_at = time.time() + 0.2
        results: list[tuple[str, ...]] = []
        lock = threading.Lock()

        def run(n: int) -> None:
            found = try_grants(self.ledger, f"t{n}", self.attempts, 100 + n, start_at)
            with lock:
                results.extend(found)

        pool = [threading.Thread(target=run, args=(n,)) for n in range(self.threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        check_exact(self.ledger, results, self.threads * self.attempts)

    def test_concurrent_processes_keep_every_limit_exact(self) -> None:
        opener = self.ledger_opener(contract_clock)
        if opener is None:
            return  # a store that one process holds (MemoryLedger) has nothing to share
        start_at = time.time() + 4.0  # spawned interpreters start in time to race
        results: list[tuple[str, ...]] = []
        with ProcessPoolExecutor(self.processes, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(
                    process_writer,
                    opener,
                    f"p{n}",
                    self.threads_per_process,
                    self.attempts,
                    start_at,
                )
                for n in range(self.processes)
            ]
            for future in futures:
                results.extend(future.result())
        total = self.processes * self.threads_per_process * self.attempts
        check_exact(self.ledger, results, total)

    def test_a_killed_writer_loses_no_returned_grant_and_leaves_no_half(self) -> None:
        opener = self.ledger_opener(contract_clock)
        if opener is None or self.crash_rounds == 0 or not hasattr(signal, "SIGKILL"):
            return
        report = os.path.join(self.tmp, "returned.txt")
        rng = random.Random(6)
        context = get_context("spawn")
        for round_no in range(self.crash_rounds):
            worker = context.Process(
                target=crash_writer, args=(opener, report, f"round{round_no}", round_no)
            )
            worker.start()
            deadline = time.time() + 60
            lines = count_lines(report)
            while time.time() < deadline and count_lines(report) <= lines:
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.4))
            assert worker.pid is not None
            os.kill(worker.pid, signal.SIGKILL)
            worker.join()
            assert -signal.SIGKILL == worker.exitcode
            reopened = opener()
            try:
                with reopened.read() as view:
                    grants = {g.request_id: g for g in view.grants()}
                    events = Counter(
                        e.ref for e in view.events() if e.kind is EventKind.GRANT_RECORDED
                    )
                    missing_cases = [g for g in grants.values() if view.case(g.case_id) is None]
                chain = verify(reopened)
            finally:
                reopened.close()
            with open(report) as file:
                returned = set(file.read().split())
            assert returned, "the writer returned no grant before it was killed"
            assert set() == returned - set(grants), "a returned grant was lost"
            assert set(grants) == set(events), "a grant without its event, or the reverse"
            assert {1} == set(events.values())
            assert [] == missing_cases
            assert chain.ok, chain.reason
