"""Public-API usages type-checked in CI (``mypy --strict tests/typing_api.py``).

Not a test module: it pins the signatures host code relies on.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import cxrecovery as cx

opened = datetime(2026, 3, 2, 10, tzinfo=UTC)
value: cx.Money = cx.Money("649.00", "GBP")
credit: cx.Money = value.fraction(Decimal("0.25")) + cx.Money.of("0.004", "GBP")
parts: tuple[cx.Money, ...] = credit.allocate([1, 2])
customer = cx.Customer("c-1", segment="gold", preferred_channel=cx.Channel.SMS)
failure = cx.Failure(
    "repair_failed", cx.Severity.HIGH, cx.Fault.COMPANY, value_at_stake=value, service_usable=False
)
case: cx.Case = cx.Case("case-1", customer, failure, opened)
case = cx.record_touchpoint(
    case, cx.Touchpoint(opened, cx.Channel.PHONE, cx.TouchpointKind.CONTACT)
)
case = cx.make_promise(case, cx.Promise("p1", "call back", opened, opened + timedelta(hours=1)))
case = cx.settle_promise(case, "p1", cx.PromiseStatus.KEPT, opened + timedelta(minutes=30))
document: dict[str, object] = cx.dump(case)
again: cx.Case = cx.load_case(document)
schema: dict[str, object] = cx.case_schema()
try:
    cx.load_case("{}")
except cx.DocumentError as error:
    problems: tuple[cx.Problem, ...] = error.problems
