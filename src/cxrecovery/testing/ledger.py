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
import re
import shutil
import signal
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from typing import Any, Final

from cxrecovery.errors import CxRecoveryError
from cxrecovery.ledger import (
    ApprovalStatus,
    CaseRecord,
    Desk,
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
    Case,
    Customer,
    Failure,
    Fault,
    Severity,
)
from cxrecovery.money import Money

__all__ = ["CONTRACT_NOW", "LedgerContract", "contract_clock"]

CONTRACT_NOW: Final = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
"""What the stores' clocks say during the checks."""

_OPENED: Final = CONTRACT_NOW - timedelta(days=1)
_TOLERANCE: Final = timedelta(days=2)


def contract_clock() -> datetime:
    """The clock to give a store under test: always :data:`CONTRACT_NOW`."""
    return CONTRACT_NOW


def _engine() -> Any:
    from cxrecovery.engine import Engine
    from cxrecovery.policy import default_policy

    return Engine(default_policy())


def _case(case_id: str, customer_id: str, value: str = "100.00") -> Case:
    return Case(
        case_id,
        Customer(customer_id),
        Failure(
            "late_delivery",
            Severity.MEDIUM,
            Fault.COMPANY,
            value_at_stake=Money(value, "EUR"),
            service_usable=True,
        ),
        _OPENED,
    )


def _eur(amount: str) -> Money:
    return Money(amount, "EUR")


@contextmanager
def _raises(kind: type[BaseException], match: str = "") -> Iterator[list[BaseException]]:
    caught: list[BaseException] = []
    try:
        yield caught
    except kind as error:
        if not re.search(match, str(error)):
            raise AssertionError(f"{error!s} does not match {match!r}") from error
        caught.append(error)
        return
    raise AssertionError(f"did not raise {kind.__name__}")


# --- the writers of the concurrency and crash checks (top level: other processes) ------

# Agent "a" grants to customers c1-c4 (400 of customer room: its 250 budget binds);
# agent "b" grants to customer c5 only (its 100 of goodwill binds before b's budget);
# every case has a 50.00 limit (front line, a case worth 100.00).
_AGENT_CUSTOMERS: Final = {"a": ("c1", "c2", "c3", "c4"), "b": ("c5",)}
_CASES_PER_CUSTOMER: Final = 4
AGENT_LIMIT_MINOR: Final = 25000
CUSTOMER_LIMIT_MINOR: Final = 10000
CASE_LIMIT_MINOR: Final = 5000


def _attempts(
    ledger: Ledger, worker: str, attempts: int, seed: int, start_at: float
) -> list[tuple[str, ...]]:
    """Try ``attempts`` grants; report each as accepted, refused, retried or an error."""
    desk = Desk(_engine(), ledger, clock_tolerance=_TOLERANCE)
    rng = random.Random(seed)
    results: list[tuple[str, ...]] = []
    while time.time() < start_at:
        time.sleep(0.005)
    for i in range(attempts):
        agent_id = rng.choice(sorted(_AGENT_CUSTOMERS))
        customer = rng.choice(_AGENT_CUSTOMERS[agent_id])
        case = _case(f"{customer}-case{rng.randrange(_CASES_PER_CUSTOMER)}", customer)
        amount = Money.from_minor(rng.randrange(50, 501), "EUR")
        at = CONTRACT_NOW + timedelta(seconds=rng.randrange(3600))
        request_id = f"{worker}-{i}"
        agent = Agent(agent_id, "front_line")
        try:
            record = desk.grant(case, amount, "credit", at=at, agent=agent, request_id=request_id)
        except LimitExceededError as error:
            results.append(("refused", request_id, *sorted(c.rule for c in error.failed)))
            continue
        except Exception as error:  # reported to the check, which fails
            results.append(("error", request_id, repr(error)))
            continue
        results.append(("accepted", request_id, agent_id, customer, case.id, str(amount.minor)))
        if rng.random() < 0.2:
            try:
                again = desk.grant(
                    case, amount, "credit", at=at, agent=agent, request_id=request_id
                )
            except Exception as error:
                results.append(("error", request_id, repr(error)))
                continue
            results.append(("retried", request_id, str(again == record)))
    return results


def _process_writer(
    opener: Callable[[], Ledger], worker: str, threads: int, attempts: int, start_at: float
) -> list[tuple[str, ...]]:
    ledger = opener()
    results: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        found = _attempts(ledger, f"{worker}t{n}", attempts, hash((worker, n)) & 0xFFFF, start_at)
        with lock:
            results.extend(found)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ledger.close()
    return results


def _crash_writer(opener: Callable[[], Ledger], report: str, prefix: str, seed: int) -> None:
    """Grant until killed; after each call returns, append its request id to ``report``."""
    desk = Desk(_engine(), opener(), clock_tolerance=_TOLERANCE)
    rng = random.Random(seed)
    fd = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    i = 0
    while True:
        customer = f"k{rng.randrange(50)}"
        request_id = f"{prefix}-{i}"
        i += 1
        try:
            desk.grant(
                _case(f"{customer}-case{rng.randrange(3)}", customer),
                Money.from_minor(rng.randrange(1, 10), "EUR"),
                "credit",
                at=CONTRACT_NOW + timedelta(seconds=i % 3600),
                agent=Agent(f"agent-{rng.randrange(20)}", "front_line"),
                request_id=request_id,
            )
        except LimitExceededError:
            continue
        os.write(fd, f"{request_id}\n".encode())


def _check_exact(ledger: Ledger, results: list[tuple[str, ...]], attempts: int) -> None:
    outcomes = Counter(r[0] for r in results)
    assert [] == [r for r in results if r[0] == "error"]
    assert {"True"} >= {r[2] for r in results if r[0] == "retried"}
    assert attempts == outcomes["accepted"] + outcomes["refused"]
    accepted = {r[1] for r in results if r[0] == "accepted"}
    refused = {r[1] for r in results if r[0] == "refused"}
    with ledger.read() as view:
        rows = view.grants()
        events = Counter(e.ref for e in view.events() if e.kind is EventKind.GRANT_RECORDED)
    ids = [g.request_id for g in rows]
    assert len(ids) == len(set(ids)), "a grant is recorded twice"
    assert accepted == set(ids), "accepted and recorded grants differ (lost or extra)"
    assert {1} >= set(events.values()), "a grant has more than one event"
    assert accepted == set(events)
    assert set() == refused & set(events)
    per: dict[str, int] = defaultdict(int)
    for g in rows:
        per[f"agent:{g.agent_id}"] += g.amount.minor
        per[f"customer:{g.customer_id}"] += g.amount.minor
        per[f"case:{g.case_id}"] += g.amount.minor
    over = {
        k: v
        for k, v in per.items()
        if v
        > {"agent": AGENT_LIMIT_MINOR, "customer": CUSTOMER_LIMIT_MINOR, "case": CASE_LIMIT_MINOR}[
            k.split(":")[0]
        ]
    }
    assert {} == over, f"limits overrun: {over}"
    # The limits were reached, not merely respected: within one grant of each.
    assert per["agent:a"] > AGENT_LIMIT_MINOR - 500
    assert per["customer:c5"] > CUSTOMER_LIMIT_MINOR - 500
    assert verify(ledger).ok


def _spend_most_of_the_period_budget(desk: Desk, agent: Agent) -> None:
    """Five grants of 49.00 EUR on five cases: 245.00 of the front line's 250.00 a period."""
    for k in range(5):
        desk.grant(
            _case(f"case-{k}", f"c{k}"),
            _eur("49.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=agent,
            request_id=f"r{k}",
        )


class LedgerContract:
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

    ledger: Ledger
    tmp: str

    # --- what a subclass provides ---------------------------------------------------------

    def make_ledger(self, clock: Callable[[], datetime]) -> Ledger:
        """A new, empty store whose :meth:`now` answers from ``clock``."""
        raise NotImplementedError("define make_ledger(clock) in your subclass")

    def ledger_opener(self, clock: Callable[[], datetime]) -> Callable[[], Ledger] | None:
        """A picklable callable that opens the same store in another process, or None."""
        return None

    # --- per check -------------------------------------------------------------------------

    def setup_method(self, method: object = None) -> None:
        self.tmp = tempfile.mkdtemp(prefix="cxrecovery-contract-")
        self.ledger = self.make_ledger(contract_clock)

    def teardown_method(self, method: object = None) -> None:
        self.ledger.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def desk(self, tolerance: timedelta = _TOLERANCE) -> Desk:
        return Desk(_engine(), self.ledger, clock_tolerance=tolerance)

    def _counts(self) -> tuple[int, int, int]:
        with self.ledger.read() as view:
            return len(view.grants()), len(view.events()), len(view.promises())

    # --- the protocol ---------------------------------------------------------------------

    def test_implements_the_protocol(self) -> None:
        assert isinstance(self.ledger, Ledger)
        with self.ledger.write() as session:
            assert CONTRACT_NOW == session.now()

    def test_a_grant_reads_back_exact_in_utc(self) -> None:
        at = datetime.fromisoformat("2026-06-01T11:00:00.123456+02:00")
        self.desk().grant(
            _case("case-1", "c1"),
            _eur("12.34"),
            "credit",
            at=at,
            agent=Agent("a1", "front_line"),
            request_id="r1",
        )
        with self.ledger.read() as view:
            found = view.grant("r1")
            assert found is not None
            assert _eur("12.34") == found.amount
            assert at == found.at
            assert timedelta(0) == found.at.utcoffset()
            assert _eur("12.34") == view.spent(
                "a1", "EUR", after=at - timedelta(seconds=1), before=at
            )
            assert Money.zero("EUR") == view.spent("a1", "EUR", after=at, before=at + _TOLERANCE)
            assert _eur("12.34") == view.goodwill("c1", "EUR", after=_OPENED, before=at)

    def test_a_failed_session_leaves_nothing(self) -> None:
        before = self._counts()
        with _raises(ZeroDivisionError), self.ledger.write() as session:
            session.add_case(CaseRecord("case-9", "c1", _OPENED, "late", Severity.LOW))
            session.add_event(
                EventKind.CASE_OPENED, "case-9", at=_OPENED, ref="case-9", body=Attributes()
            )
            _ = 1 / 0
        assert before == self._counts()
        with self.ledger.read() as view:
            assert view.case("case-9") is None

    # --- idempotency --------------------------------------------------------------------

    def test_a_retried_grant_is_recorded_once(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        agent = Agent("a1", "front_line")
        first = desk.grant(
            case, _eur("10.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1"
        )
        again = desk.grant(
            case, _eur("10.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1"
        )
        assert first == again
        with _raises(RequestConflictError, "r1"):
            desk.grant(
                case, _eur("11.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1"
            )
        assert (1, 2, 0) == self._counts()

    def test_a_retried_approval_request_returns_the_original(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        front = Agent("a1", "front_line")
        desk.request_approval(
            case, _eur("80.00"), "credit", at=CONTRACT_NOW, agent=front, approval_id="ap1"
        )
        desk.approve("ap1", at=CONTRACT_NOW, approver=Agent("s1", "supervisor"))
        desk.grant(
            case,
            _eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            request_id="r1",
            approval="ap1",
        )
        again = desk.request_approval(
            case, _eur("80.00"), "credit", at=CONTRACT_NOW, agent=front, approval_id="ap1"
        )
        assert ApprovalStatus.GRANTED == again.status

    # --- limits ---------------------------------------------------------------------------

    def test_a_grant_over_the_period_budget_is_refused_with_the_room_left(self) -> None:
        desk = self.desk()
        agent = Agent("a1", "front_line")
        _spend_most_of_the_period_budget(desk, agent)
        with _raises(LimitExceededError, "max_per_period") as caught:
            desk.grant(
                _case("case-9", "c9"),
                _eur("6.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=agent,
                request_id="r9",
            )
        error = caught[0]
        assert isinstance(error, LimitExceededError)
        assert _eur("5.00") == error.room["roles[front_line].max_per_period"]
        assert 5 == self._counts()[0]

    def test_a_backdated_grant_counts_the_grants_dated_after_it(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        agent = Agent("a1", "front_line")
        desk.grant(case, _eur("40.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        with _raises(LimitExceededError, "max_per_case"):
            desk.grant(
                case,
                _eur("40.00"),
                "credit",
                at=CONTRACT_NOW - timedelta(hours=1),
                agent=agent,
                request_id="r2",
            )
        assert 1 == self._counts()[0]

    def test_a_time_far_from_the_stores_clock_is_refused(self) -> None:
        desk = self.desk(timedelta(minutes=5))
        case = _case("case-1", "c1")
        agent = Agent("a1", "front_line")
        for offset in (timedelta(minutes=6), -timedelta(minutes=6)):
            with _raises(LedgerError, "the ledger's clock"):
                desk.grant(
                    case,
                    _eur("1.00"),
                    "credit",
                    at=CONTRACT_NOW + offset,
                    agent=agent,
                    request_id="r1",
                )
        assert (0, 0, 0) == self._counts()

    def test_bad_values_are_refused_and_write_nothing(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
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
                _eur("1.00"),
                "credit",
                at=CONTRACT_NOW.replace(tzinfo=None),
                agent=agent,
                request_id="x",
            ),
            lambda: desk.grant(
                case, _eur("1.00"), "hug", at=CONTRACT_NOW, agent=agent, request_id="x"
            ),
            lambda: desk.grant(
                case, _eur("1.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id=" "
            ),
            lambda: desk.grant(
                case,
                _eur("1.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=Agent("z", "wizard"),
                request_id="x",
            ),
            lambda: desk.approve("nope", at=CONTRACT_NOW, approver=Agent("s1", "supervisor")),
        ]
        for attempt in attempts:
            with _raises(CxRecoveryError):
                attempt()
        assert (0, 0, 0) == self._counts()

    # --- corrections --------------------------------------------------------------------

    def test_a_voided_grant_frees_its_limits_and_keeps_its_row(self) -> None:
        desk = self.desk()
        agent = Agent("a1", "front_line")
        _spend_most_of_the_period_budget(desk, agent)
        with _raises(LimitExceededError, "max_per_period"):
            desk.grant(
                _case("case-9", "c9"),
                _eur("40.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=agent,
                request_id="r9",
            )
        with _raises(CxRecoveryError, "may not void"):
            desk.void("r0", at=CONTRACT_NOW, agent=Agent("a2", "front_line"), reason="typo")
        voided = desk.void("r0", at=CONTRACT_NOW, agent=agent, reason="entered twice")
        assert voided.is_voided
        assert ("a1", "entered twice") == (voided.voided_by, voided.void_reason)
        assert voided == desk.void("r0", at=CONTRACT_NOW, agent=agent, reason="entered twice")
        with _raises(RequestConflictError, "already voided"):
            desk.void("r0", at=CONTRACT_NOW, agent=agent, reason="another reason")
        desk.grant(
            _case("case-9", "c9"),
            _eur("40.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=agent,
            request_id="r9",
        )
        with self.ledger.read() as view:
            found = view.grant("r0")
            assert found is not None
            assert found.is_voided
            assert _eur("49.00") == found.amount
            assert ["r0"] == [g.request_id for g in view.grants(voided=True)]
            assert 5 == len(view.grants(voided=False))
            kinds = [e.kind for e in view.events(case_id="case-0")]
        assert EventKind.GRANT_VOIDED == kinds[-1]
        assert verify(self.ledger).ok

    def test_a_voided_grant_frees_the_case_limit(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        agent = Agent("a1", "front_line")
        desk.grant(case, _eur("40.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        desk.void("r1", at=CONTRACT_NOW, agent=Agent("s1", "supervisor"), reason="wrong case")
        desk.grant(case, _eur("40.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r2")
        assert ["r2"] == [g.id for g in desk.current(case).grants]

    def test_an_approval_expires(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        front = Agent("a1", "front_line")
        asked = desk.request_approval(
            case,
            _eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            approval_id="ap1",
            expires_at=CONTRACT_NOW + timedelta(hours=1),
        )
        assert CONTRACT_NOW + timedelta(hours=1) == asked.expires_at
        with _raises(CxRecoveryError, "expired"):
            desk.approve(
                "ap1", at=CONTRACT_NOW + timedelta(hours=2), approver=Agent("s1", "supervisor")
            )
        desk.request_approval(
            case,
            _eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            approval_id="ap2",
            expires_at=CONTRACT_NOW + timedelta(hours=1),
        )
        desk.approve("ap2", at=CONTRACT_NOW, approver=Agent("s1", "supervisor"))
        with _raises(CxRecoveryError, "expired"):
            desk.grant(
                case,
                _eur("80.00"),
                "credit",
                at=CONTRACT_NOW + timedelta(hours=2),
                agent=front,
                request_id="r1",
                approval="ap2",
            )
        assert 0 == self._counts()[0]

    def test_a_withdrawn_approval_can_be_neither_decided_nor_used(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        front = Agent("a1", "front_line")
        supervisor = Agent("s1", "supervisor")
        for approval_id in ("ap1", "ap2", "ap3"):
            desk.request_approval(
                case,
                _eur("80.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=front,
                approval_id=approval_id,
            )
        withdrawn = desk.withdraw_approval("ap1", at=CONTRACT_NOW, agent=front, reason="dup")
        assert ApprovalStatus.WITHDRAWN == withdrawn.status
        assert ("a1", "dup") == (withdrawn.withdrawn_by, withdrawn.withdraw_reason)
        with _raises(CxRecoveryError, "withdrawn"):
            desk.approve("ap1", at=CONTRACT_NOW, approver=supervisor)
        desk.approve("ap2", at=CONTRACT_NOW, approver=supervisor)
        desk.withdraw_approval("ap2", at=CONTRACT_NOW, agent=supervisor, reason="policy")
        with _raises(CxRecoveryError, "withdrawn"):
            desk.grant(
                case,
                _eur("80.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=front,
                request_id="r1",
                approval="ap2",
            )
        desk.approve("ap3", at=CONTRACT_NOW, approver=supervisor)
        desk.grant(
            case,
            _eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            request_id="r3",
            approval="ap3",
        )
        with _raises(CxRecoveryError, "used by grant"):
            desk.withdraw_approval("ap3", at=CONTRACT_NOW, agent=front, reason="late")

    # --- reads --------------------------------------------------------------------------

    def test_grants_and_events_page_through_every_record_once(self) -> None:
        desk = self.desk()
        for k in range(7):
            desk.grant(
                _case(f"case-{k % 3}", f"c{k % 3}"),
                _eur("1.00"),
                "credit",
                at=CONTRACT_NOW + timedelta(minutes=k % 4),
                agent=Agent(f"a{k % 2}", "front_line"),
                request_id=f"r{k}",
            )
        desk.void("r3", at=CONTRACT_NOW, agent=Agent("a1", "front_line"), reason="test")
        with self.ledger.read() as view:
            every = view.grants()
            pages: list[str] = []
            last = None
            while True:
                page = view.grants(limit=3, after=last)
                if not page:
                    break
                pages += [g.request_id for g in page]
                last = page[-1]
            assert [g.request_id for g in every] == pages
            assert 7 == len(set(pages))
            assert {"r1", "r3", "r5"} == {g.request_id for g in view.grants(agent_id="a1")}
            window = view.grants(
                since=CONTRACT_NOW + timedelta(minutes=1),
                until=CONTRACT_NOW + timedelta(minutes=3),
            )
            assert {"r1", "r2", "r5", "r6"} == {g.request_id for g in window}
            assert ["r3"] == [g.request_id for g in view.grants(voided=True)]
            assert {"r0", "r3", "r6"} == {
                g.request_id for g in view.grants(case_id="case-0", customer_id="c0")
            }
            events = view.events()
            seen: list[int] = []
            after = 0
            while page_events := view.events(after_seq=after, limit=4):
                seen += [e.seq for e in page_events]
                after = page_events[-1].seq
            assert [e.seq for e in events] == seen
            granted = view.events(kinds=[EventKind.GRANT_RECORDED])
            assert 7 == len(granted)
            assert {EventKind.GRANT_RECORDED} == {e.kind for e in granted}
            assert () == view.events(kinds=[])
        bad_reads: list[Callable[[Any], object]] = [
            lambda view: view.grants(limit=0),
            lambda view: view.grants(after="r1"),
            lambda view: view.events(after_seq=-1),
            lambda view: view.events(kinds=["nope"]),
        ]
        for read in bad_reads:
            with _raises(CxRecoveryError), self.ledger.read() as view:
                read(view)
        with _raises(CxRecoveryError, "reason"):
            desk.void("r1", at=CONTRACT_NOW, agent=Agent("a1", "front_line"), reason=" ")

    # --- history --------------------------------------------------------------------------

    def test_events_are_dense_in_order_and_chained(self) -> None:
        desk = self.desk()
        case = _case("case-1", "c1")
        agent = Agent("a1", "front_line")
        desk.decide(case, at=CONTRACT_NOW, agent=agent)
        desk.grant(case, _eur("10.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        desk.grant(
            _case("case-2", "c2"),
            _eur("5.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=agent,
            request_id="r2",
        )
        with self.ledger.read() as view:
            events = view.events()
        assert list(range(1, len(events) + 1)) == [e.seq for e in events]
        assert [EventKind.CASE_OPENED, EventKind.PLAN_DECIDED, EventKind.GRANT_RECORDED] == [
            e.kind for e in desk.history("case-1")
        ]
        report = verify(self.ledger)
        assert report.ok
        assert len(events) == report.events

    # --- concurrency --------------------------------------------------------------------

    def test_concurrent_threads_keep_every_limit_exact(self) -> None:
        start_at = time.time() + 0.2
        results: list[tuple[str, ...]] = []
        lock = threading.Lock()

        def run(n: int) -> None:
            found = _attempts(self.ledger, f"t{n}", self.attempts, 100 + n, start_at)
            with lock:
                results.extend(found)

        pool = [threading.Thread(target=run, args=(n,)) for n in range(self.threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        _check_exact(self.ledger, results, self.threads * self.attempts)

    def test_concurrent_processes_keep_every_limit_exact(self) -> None:
        opener = self.ledger_opener(contract_clock)
        if opener is None:
            return  # a store that one process holds (MemoryLedger) has nothing to share
        start_at = time.time() + 4.0  # spawned interpreters start in time to race
        results: list[tuple[str, ...]] = []
        with ProcessPoolExecutor(self.processes, mp_context=get_context("spawn")) as pool:
            futures = [
                pool.submit(
                    _process_writer,
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
        _check_exact(self.ledger, results, total)

    def test_a_killed_writer_loses_no_returned_grant_and_leaves_no_half(self) -> None:
        opener = self.ledger_opener(contract_clock)
        if opener is None or self.crash_rounds == 0 or not hasattr(signal, "SIGKILL"):
            return
        report = os.path.join(self.tmp, "returned.txt")
        rng = random.Random(6)
        context = get_context("spawn")
        for round_no in range(self.crash_rounds):
            worker = context.Process(
                target=_crash_writer, args=(opener, report, f"round{round_no}", round_no)
            )
            worker.start()
            deadline = time.time() + 60
            lines = _lines(report)
            while time.time() < deadline and _lines(report) <= lines:
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


def _lines(path: str) -> int:
    try:
        with open(path) as file:
            return file.read().count("\n")
    except FileNotFoundError:
        return 0
