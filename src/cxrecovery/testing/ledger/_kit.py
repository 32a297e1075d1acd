"""The conformance suite's kit: the clock, cases and amounts, the writers that the
concurrency and crash checks run in other processes, and the base every check builds on."""

from __future__ import annotations

import os
import random
import re
import shutil
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from cxrecovery.ledger import (
    Desk,
    EventKind,
    Ledger,
    LimitExceededError,
    verify,
)
from cxrecovery.model import (
    Agent,
    Case,
    Customer,
    Failure,
    Fault,
    Severity,
)
from cxrecovery.money import Money

CONTRACT_NOW: Final = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
"""What the stores' clocks say during the checks."""

OPENED: Final = CONTRACT_NOW - timedelta(days=1)
TOLERANCE: Final = timedelta(days=2)


def contract_clock() -> datetime:
    """The clock to give a store under test: always :data:`CONTRACT_NOW`."""
    return CONTRACT_NOW


def engine() -> Any:
    from cxrecovery.engine import Engine
    from cxrecovery.policy import default_policy

    return Engine(default_policy())


def a_case(case_id: str, customer_id: str, value: str = "100.00") -> Case:
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
        OPENED,
    )


def eur(amount: str) -> Money:
    return Money(amount, "EUR")


@contextmanager
def raises(kind: type[BaseException], match: str = "") -> Iterator[list[BaseException]]:
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
AGENT_CUSTOMERS: Final = {"a": ("c1", "c2", "c3", "c4"), "b": ("c5",)}
CASES_PER_CUSTOMER: Final = 4
AGENT_LIMIT_MINOR: Final = 25000
CUSTOMER_LIMIT_MINOR: Final = 10000
CASE_LIMIT_MINOR: Final = 5000


def try_grants(
    ledger: Ledger, worker: str, attempts: int, seed: int, start_at: float
) -> list[tuple[str, ...]]:
    """Try ``attempts`` grants; report each as accepted, refused, retried or an error."""
    desk = Desk(engine(), ledger, clock_tolerance=TOLERANCE)
    rng = random.Random(seed)
    results: list[tuple[str, ...]] = []
    while time.time() < start_at:
        time.sleep(0.005)
    for i in range(attempts):
        agent_id = rng.choice(sorted(AGENT_CUSTOMERS))
        customer = rng.choice(AGENT_CUSTOMERS[agent_id])
        case = a_case(f"{customer}-case{rng.randrange(CASES_PER_CUSTOMER)}", customer)
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


def process_writer(
    opener: Callable[[], Ledger], worker: str, threads: int, attempts: int, start_at: float
) -> list[tuple[str, ...]]:
    ledger = opener()
    results: list[tuple[str, ...]] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        found = try_grants(ledger, f"{worker}t{n}", attempts, hash((worker, n)) & 0xFFFF, start_at)
        with lock:
            results.extend(found)

    pool = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    ledger.close()
    return results


def crash_writer(opener: Callable[[], Ledger], report: str, prefix: str, seed: int) -> None:
    """Grant until killed; after each call returns, append its request id to ``report``."""
    desk = Desk(engine(), opener(), clock_tolerance=TOLERANCE)
    rng = random.Random(seed)
    fd = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    i = 0
    while True:
        customer = f"k{rng.randrange(50)}"
        request_id = f"{prefix}-{i}"
        i += 1
        try:
            desk.grant(
                a_case(f"{customer}-case{rng.randrange(3)}", customer),
                Money.from_minor(rng.randrange(1, 10), "EUR"),
                "credit",
                at=CONTRACT_NOW + timedelta(seconds=i % 3600),
                agent=Agent(f"agent-{rng.randrange(20)}", "front_line"),
                request_id=request_id,
            )
        except LimitExceededError:
            continue
        os.write(fd, f"{request_id}\n".encode())


def check_exact(ledger: Ledger, results: list[tuple[str, ...]], attempts: int) -> None:
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


def spend_most_of_the_period_budget(desk: Desk, agent: Agent) -> None:
    """Five grants of 49.00 EUR on five cases: 245.00 of the front line's 250.00 a period."""
    for k in range(5):
        desk.grant(
            a_case(f"case-{k}", f"c{k}"),
            eur("49.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=agent,
            request_id=f"r{k}",
        )


def count_lines(path: str) -> int:
    try:
        with open(path) as file:
            return file.read().count("\n")
    except FileNotFoundError:
        return 0


class ContractBase:
    """What every check needs: a fresh store per check and a desk on it."""

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

    def desk(self, tolerance: timedelta = TOLERANCE) -> Desk:
        return Desk(engine(), self.ledger, clock_tolerance=tolerance)

    def _counts(self) -> tuple[int, int, int]:
        with self.ledger.read() as view:
            return len(view.grants()), len(view.events()), len(view.promises())
