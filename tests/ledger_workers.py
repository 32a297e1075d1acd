"""Top-level workers for the ledger's concurrency and crash tests (spawned processes)."""

from __future__ import annotations

import os
import random
import time
from datetime import UTC, datetime, timedelta

import cxrecovery as cx
from cxrecovery.ledger import Desk, LimitExceededError, SQLiteLedger

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
OPENED = T0 - timedelta(days=1)
# The tests' stores tell the time T0, and their desks accept times two days either side.
TOLERANCE = timedelta(days=2)


def clock() -> datetime:
    return T0


# Agent "a" grants to customers c1-c4 (400 of customer room: its 250 budget binds);
# agent "b" grants to customer c5 only (its 100 of goodwill binds before b's budget).
AGENT_CUSTOMERS = {"a": ("c1", "c2", "c3", "c4"), "b": ("c5",)}
CASES_PER_CUSTOMER = 4


def make_case(
    case_id: str, customer_id: str, value: str = "100.00", currency: str = "EUR"
) -> cx.Case:
    return cx.Case(
        case_id,
        cx.Customer(customer_id),
        cx.Failure(
            "late_delivery",
            cx.Severity.MEDIUM,
            cx.Fault.COMPANY,
            value_at_stake=cx.Money(value, currency),
            service_usable=True,
        ),
        OPENED,
    )


_CASES = {
    (customer, k): make_case(f"{customer}-case{k}", customer)
    for customers in AGENT_CUSTOMERS.values()
    for customer in customers
    for k in range(CASES_PER_CUSTOMER)
}


def grant_attempts(
    path: str,
    worker: str,
    attempts: int,
    seed: int,
    start_at: float,
    ledger: SQLiteLedger | None = None,
) -> list[tuple[str, ...]]:
    """Try ``attempts`` grants; report each as accepted, refused, retried or an error."""
    own = ledger is None
    store = SQLiteLedger(path, clock=clock) if ledger is None else ledger
    desk = Desk(cx.Engine(cx.default_policy()), store, clock_tolerance=TOLERANCE)
    rng = random.Random(seed)
    results: list[tuple[str, ...]] = []
    while time.time() < start_at:
        time.sleep(0.005)
    for i in range(attempts):
        agent_id = rng.choice(sorted(AGENT_CUSTOMERS))
        customer = rng.choice(AGENT_CUSTOMERS[agent_id])
        case = _CASES[customer, rng.randrange(CASES_PER_CUSTOMER)]
        amount = cx.Money.from_minor(rng.randrange(50, 501), "EUR")
        at = T0 + timedelta(seconds=rng.randrange(3600))
        request_id = f"{worker}-{i}"
        agent = cx.Agent(agent_id, "front_line")
        try:
            record = desk.grant(case, amount, "credit", at=at, agent=agent, request_id=request_id)
        except LimitExceededError as error:
            results.append(("refused", request_id, *sorted(c.rule for c in error.failed)))
            continue
        except Exception as error:  # reported to the parent, which fails the test
            results.append(("error", request_id, repr(error)))
            continue
        results.append(("accepted", request_id, agent_id, customer, case.id, str(amount.minor)))
        if rng.random() < 0.2:
            again = desk.grant(case, amount, "credit", at=at, agent=agent, request_id=request_id)
            results.append(("retried", request_id, str(again == record)))
    if own:
        store.close()
    return results


def crash_worker(path: str, report: str, prefix: str, seed: int) -> None:
    """Grant until killed; after each call returns, append its request id to ``report``."""
    desk = Desk(
        cx.Engine(cx.default_policy()),
        SQLiteLedger(path, clock=clock),
        clock_tolerance=TOLERANCE,
    )
    rng = random.Random(seed)
    fd = os.open(report, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    i = 0
    while True:
        customer = f"k{rng.randrange(50)}"
        case = make_case(f"{customer}-case{rng.randrange(3)}", customer)
        agent = cx.Agent(f"agent-{rng.randrange(20)}", "front_line")
        request_id = f"{prefix}-{i}"
        i += 1
        try:
            desk.grant(
                case,
                cx.Money.from_minor(rng.randrange(1, 10), "EUR"),
                "credit",
                at=T0 + timedelta(seconds=i),
                agent=agent,
                request_id=request_id,
            )
        except LimitExceededError:
            continue
        os.write(fd, f"{request_id}\n".encode())
