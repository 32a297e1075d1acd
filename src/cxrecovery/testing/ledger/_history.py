"""The conformance checks of corrections (voids, approvals' lifetimes) and of reads
(pages of grants and events, the hash chain)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from cxrecovery.errors import CxRecoveryError
from cxrecovery.ledger import (
    ApprovalStatus,
    EventKind,
    LimitExceededError,
    RequestConflictError,
    verify,
)
from cxrecovery.model import (
    Agent,
)
from cxrecovery.testing.ledger._kit import (
    CONTRACT_NOW,
    ContractBase,
    a_case,
    eur,
    raises,
    spend_most_of_the_period_budget,
)


class HistoryChecks(ContractBase):
    """Voids, approvals that expire or are withdrawn, paginated reads, the event chain."""

    # --- corrections --------------------------------------------------------------------

    def test_a_voided_grant_frees_its_limits_and_keeps_its_row(self) -> None:
        desk = self.desk()
        agent = Agent("a1", "front_line")
        spend_most_of_the_period_budget(desk, agent)
        with raises(LimitExceededError, "max_per_period"):
            desk.grant(
                a_case("case-9", "c9"),
                eur("40.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=agent,
                request_id="r9",
            )
        with raises(CxRecoveryError, "may not void"):
            desk.void("r0", at=CONTRACT_NOW, agent=Agent("a2", "front_line"), reason="typo")
        voided = desk.void("r0", at=CONTRACT_NOW, agent=agent, reason="entered twice")
        assert voided.is_voided
        assert ("a1", "entered twice") == (voided.voided_by, voided.void_reason)
        assert voided == desk.void("r0", at=CONTRACT_NOW, agent=agent, reason="entered twice")
        with raises(RequestConflictError, "already voided"):
            desk.void("r0", at=CONTRACT_NOW, agent=agent, reason="another reason")
        desk.grant(
            a_case("case-9", "c9"),
            eur("40.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=agent,
            request_id="r9",
        )
        with self.ledger.read() as view:
            found = view.grant("r0")
            assert found is not None
            assert found.is_voided
            assert eur("49.00") == found.amount
            assert ["r0"] == [g.request_id for g in view.grants(voided=True)]
            assert 5 == len(view.grants(voided=False))
            kinds = [e.kind for e in view.events(case_id="case-0")]
        assert EventKind.GRANT_VOIDED == kinds[-1]
        assert verify(self.ledger).ok

    def test_a_voided_grant_frees_the_case_limit(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        agent = Agent("a1", "front_line")
        desk.grant(case, eur("40.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        desk.void("r1", at=CONTRACT_NOW, agent=Agent("s1", "supervisor"), reason="wrong case")
        desk.grant(case, eur("40.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r2")
        assert ["r2"] == [g.id for g in desk.current(case).grants]

    def test_an_approval_expires(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        front = Agent("a1", "front_line")
        asked = desk.request_approval(
            case,
            eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            approval_id="ap1",
            expires_at=CONTRACT_NOW + timedelta(hours=1),
        )
        assert CONTRACT_NOW + timedelta(hours=1) == asked.expires_at
        with raises(CxRecoveryError, "expired"):
            desk.approve(
                "ap1", at=CONTRACT_NOW + timedelta(hours=2), approver=Agent("s1", "supervisor")
            )
        desk.request_approval(
            case,
            eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            approval_id="ap2",
            expires_at=CONTRACT_NOW + timedelta(hours=1),
        )
        desk.approve("ap2", at=CONTRACT_NOW, approver=Agent("s1", "supervisor"))
        with raises(CxRecoveryError, "expired"):
            desk.grant(
                case,
                eur("80.00"),
                "credit",
                at=CONTRACT_NOW + timedelta(hours=2),
                agent=front,
                request_id="r1",
                approval="ap2",
            )
        assert 0 == self._counts()[0]

    def test_a_withdrawn_approval_can_be_neither_decided_nor_used(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        front = Agent("a1", "front_line")
        supervisor = Agent("s1", "supervisor")
        for approval_id in ("ap1", "ap2", "ap3"):
            desk.request_approval(
                case,
                eur("80.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=front,
                approval_id=approval_id,
            )
        withdrawn = desk.withdraw_approval("ap1", at=CONTRACT_NOW, agent=front, reason="dup")
        assert ApprovalStatus.WITHDRAWN == withdrawn.status
        assert ("a1", "dup") == (withdrawn.withdrawn_by, withdrawn.withdraw_reason)
        with raises(CxRecoveryError, "withdrawn"):
            desk.approve("ap1", at=CONTRACT_NOW, approver=supervisor)
        desk.approve("ap2", at=CONTRACT_NOW, approver=supervisor)
        desk.withdraw_approval("ap2", at=CONTRACT_NOW, agent=supervisor, reason="policy")
        with raises(CxRecoveryError, "withdrawn"):
            desk.grant(
                case,
                eur("80.00"),
                "credit",
                at=CONTRACT_NOW,
                agent=front,
                request_id="r1",
                approval="ap2",
            )
        desk.approve("ap3", at=CONTRACT_NOW, approver=supervisor)
        desk.grant(
            case,
            eur("80.00"),
            "credit",
            at=CONTRACT_NOW,
            agent=front,
            request_id="r3",
            approval="ap3",
        )
        with raises(CxRecoveryError, "used by grant"):
            desk.withdraw_approval("ap3", at=CONTRACT_NOW, agent=front, reason="late")

    # --- reads --------------------------------------------------------------------------

    def test_grants_and_events_page_through_every_record_once(self) -> None:
        desk = self.desk()
        for k in range(7):
            desk.grant(
                a_case(f"case-{k % 3}", f"c{k % 3}"),
                eur("1.00"),
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
            with raises(CxRecoveryError), self.ledger.read() as view:
                read(view)
        with raises(CxRecoveryError, "reason"):
            desk.void("r1", at=CONTRACT_NOW, agent=Agent("a1", "front_line"), reason=" ")

    # --- history --------------------------------------------------------------------------

    def test_events_are_dense_in_order_and_chained(self) -> None:
        desk = self.desk()
        case = a_case("case-1", "c1")
        agent = Agent("a1", "front_line")
        desk.decide(case, at=CONTRACT_NOW, agent=agent)
        desk.grant(case, eur("10.00"), "credit", at=CONTRACT_NOW, agent=agent, request_id="r1")
        desk.grant(
            a_case("case-2", "c2"),
            eur("5.00"),
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
