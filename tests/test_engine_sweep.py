"""sweep: only what is due, most urgent first, skipping cases with nothing due."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from cxrecovery.engine import Engine
from cxrecovery.errors import InvalidValueError
from cxrecovery.model import CaseStatus
from cxrecovery.policy import default_policy
from cxrecovery.replay import DueItem, DueKind, sweep, synthetic_cases

ENGINE = Engine(default_policy())
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
OPEN = [c for c in synthetic_cases(300, seed=12) if c.status is CaseStatus.OPEN]


def test_items_are_in_urgency_order_then_due_time() -> None:
    items = sweep(ENGINE, OPEN, AT).items
    assert items
    keys = [(i.kind.urgency, i.due, i.case_id) for i in items]
    assert sorted(keys) == keys


def test_items_are_the_due_items_their_fields_make() -> None:
    # The sweep sets an item's four fields itself: it is the value DueItem(...) makes.
    items = sweep(ENGINE, OPEN, AT, horizon=timedelta(days=3)).items
    assert {i.kind for i in items} >= {DueKind.BREACH, DueKind.ESCALATION, DueKind.CUSTOMER_UPDATE}
    for item in items:
        made = DueItem(item.case_id, item.kind, item.due, item.summary)
        assert type(item) is DueItem
        assert (item, hash(item), repr(item)) == (made, hash(made), repr(made))
        assert pickle.loads(pickle.dumps(item)) == made
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            item.summary = "changed"  # type: ignore[misc]


def test_only_due_items_are_returned() -> None:
    result = sweep(ENGINE, OPEN, AT)
    # What was known at AT: cases opened by then, as they were then.
    by_id = {c.id: c.as_of(AT) for c in OPEN if c.opened_at <= AT}
    assert {i.case_id for i in result.items} <= by_id.keys()
    for item in result.items:
        if item.kind in (DueKind.CUSTOMER_UPDATE, DueKind.FOLLOW_UP, DueKind.WARNING):
            assert item.due <= AT
        if item.kind is DueKind.PROMISE_BROKEN:
            assert any(
                p.is_pending and p.due == item.due < AT for p in by_id[item.case_id].promises
            )
        if item.kind is DueKind.PROMISE_DUE:
            assert AT <= item.due <= AT + timedelta(hours=4)
    plans = {c.id: ENGINE.decide(c, at=AT) for c in by_id.values()}
    escalated = {i.case_id for i in result.items if i.kind is DueKind.ESCALATION}
    assert {k for k, p in plans.items() if p.escalation_level > 0} == escalated


def test_closed_cases_are_left_out() -> None:
    closed = [c for c in synthetic_cases(100, seed=12) if c.status is CaseStatus.CLOSED]
    assert 0 == sweep(ENGINE, closed, AT).decided


def test_next_reviews_skip_cases_with_nothing_due_yet() -> None:
    first = sweep(ENGINE, OPEN, AT)
    opened = [c for c in OPEN if c.opened_at <= AT]  # a case not open yet is not decided
    assert len(opened) == first.decided < len(OPEN)
    again = sweep(ENGINE, OPEN, AT, next_reviews=first.next_reviews)
    later_or_never = [r for r in first.next_reviews.values() if r is None or r > AT]
    assert len(later_or_never) == again.skipped
    assert len(opened) - again.skipped == again.decided
    assert again.skipped > 0


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(InvalidValueError, match="at"):
        sweep(ENGINE, OPEN, datetime(2025, 3, 1))
