"""One decision's context: the working state of :meth:`Engine.decide` and the helpers
every step uses (tables through the memo, reasons, judgement), thrown away afterwards."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from cxrecovery._validation import settable_maker
from cxrecovery.engine._clocks import _ClockSteps
from cxrecovery.engine._pending import Explained, Pending, ReasonSpec, reasons_of
from cxrecovery.engine._slots import Entry, Row, TableSlot, Traced, _memo_safe, plain, remember
from cxrecovery.engine._support import (
    EMPTY_ATTRIBUTES,
    _plain_facts,
    _why_not,
    instant,
)
from cxrecovery.facts import Timeline, limbo_hours
from cxrecovery.model import (
    Agent,
    Attributes,
    Case,
    CaseEventKind,
    CaseStatus,
    CompensationForm,
    Outcome,
    PromiseStatus,
)
from cxrecovery.money import Money
from cxrecovery.plan import (
    ActionKind,
    Approval,
    Authority,
    Reason,
    TableTrace,
)
from cxrecovery.policy import RolePolicy
from cxrecovery.tables import DecisionTable, table_outcome

if TYPE_CHECKING:
    from cxrecovery.engine.compile import CompiledPolicy

# What went wrong in an interaction: an apology or a remedy is owed again after it.
_SETBACKS: Final = frozenset({Outcome.FAILED, Outcome.MISSED, Outcome.ABANDONED})
_ZERO: Final = Decimal(0)
# What a decision has repaid until money owed is paid back (``DecisionContext.repaid``).
NOTHING_REPAID: Final = _ZERO
_OPEN: Final = CaseStatus.OPEN


# ``TableTrace(...)`` without its ``__init__`` (its fields have no validator or
# converter): made once for each memo entry of a table's result that a plan's trace shows.
_trace: Final = settable_maker(TableTrace, "being traced")


def _made_trace(trace: Traced, why_not: tuple[str, ...]) -> TableTrace:
    """A table's part in the plan: the facts it read (each one the decision's value)
    and the rows it matched, chose and shadowed."""
    slot = trace[1]
    outcome = trace[2]
    return _trace(  # table, inputs, matched, chosen, shadowed, why_not
        slot.path, slot.picked(trace[3]), outcome[2], outcome[3], outcome[4], why_not
    )


def traced(trace: Traced) -> TableTrace:
    """The trace a memo entry stands for, made on its first read and kept in it (the
    entries of a table's memo are shared by the decisions that read the same facts)."""
    made: TableTrace | None = trace[0]
    if made is None:
        made = trace[0] = _made_trace(trace, ())
    return made


class DecisionContext(_ClockSteps):
    """One call of :meth:`Engine.decide`: the working state, thrown away afterwards.

    Slotted: a decision's state is a fixed set of fields (no dictionary of its own, which
    a plan not yet read would keep alive with it)."""

    __slots__ = (
        "_changed_at",
        "_slots",
        "agent",
        "approvals",
        "at",
        "at_us",
        "case",
        "engine",
        "explain",
        "facts",
        "is_open",
        "judgement",
        "limbo_later",
        "memo_ok",
        "pending",
        "policy",
        "ready_at",
        "remedy_action",
        "repaid",
        "reviews",
        "role",
        "spent",
        "timeline",
        "trace",
    )

    def __init__(
        self,
        engine: CompiledPolicy,
        case: Case,
        at: datetime,
        role: RolePolicy,
        agent: Agent | None,
        spent: Money | None,
        facts: dict[str, object],
        timeline: Timeline,
        explain: bool,
    ) -> None:
        self.engine = engine
        self.policy = engine.policy
        self.case = case
        self.at = at
        self.role = role
        self.agent = agent
        self.spent = spent
        self.facts = facts
        # No table reads limbo_hours: it is worked out when the plan's facts are read.
        self.limbo_later = facts["limbo_hours"] is None
        self.timeline = timeline
        self.explain = explain
        # The memo keys a table's result by the plain values of the facts it reads: a
        # host fact of another class (not a built-in one) leaves it out.
        self.memo_ok = not explain and (not engine._providers or _memo_safe(facts))
        self._slots = engine._compiled.slots
        # Each table's trace, as its memo entry holds it (see ``traced``).
        self.trace: list[Traced] = []
        self.reviews: list[datetime] = []
        # Each action as decided, explained when the plan is read.
        self.pending: list[Pending] = []
        self.approvals: list[Approval] = []
        self.is_open = case.status is _OPEN
        # What every decision starts with and few change.
        self.judgement = False
        self.remedy_action: str | None = None
        # The earliest the remedy can be done, as the host said at decision time.
        self.ready_at: datetime | None = None
        self.repaid = NOTHING_REPAID
        self._changed_at: datetime | None = None
        # The decision time in microseconds since the epoch, when the caller knows it (a
        # sweep's); 0 until a clock needs it (see ``clocks``).
        self.at_us = 0

    # --- helpers -------------------------------------------------------------------------

    def _entry(self, table: DecisionTable, slot: TableSlot) -> Entry:
        """The table's outcome, its trace (kept for the plan) and the row it decides
        with: one memo entry (see ``Entry``)."""
        if self.memo_ok:
            # A table's outcome depends only on the facts it reads: decisions that read
            # the same values share it (see ``memo_key``). Without why-not traces only:
            # explain is the slow path.
            try:
                key = slot.key(self.facts)
            except KeyError:  # a fact is missing: evaluating says so
                pass
            else:
                memo = slot.memo
                found = memo.get(key)
                if found is None:
                    found = remember(memo, key, self._evaluate(table, slot))
                self.trace.append(found)
                return found
        found = self._evaluate(table, slot)
        self.trace.append(found)
        return found

    def _evaluate(self, table: DecisionTable, slot: TableSlot) -> Entry:
        facts = self.facts
        seen: dict[str, object] = {}
        # The outcome and the values read, as a result would hold them: the trace is made
        # when the plan's trace is read (``traced``); with ``explain``, now, with the
        # why-not of every row.
        outcome = table_outcome(table, facts, seen)
        # A table's outputs are a row's (a mapping), every row's (a tuple) or None: the
        # tuple and None told by their classes, cheaper than the Mapping ABC's test.
        outputs = outcome[1]
        chosen = outcome[3]
        row: Row | None = (
            None
            if outputs is None or isinstance(outputs, tuple) or not chosen
            else (outputs, chosen[0])
        )
        found: Entry = [None, slot, outcome, seen, row]
        if self.explain:
            found[0] = _made_trace(found, _why_not(table.explain(facts)))
        return found

    def decided(self, name: str, table: DecisionTable, path: str, what: str) -> Row | None:
        """The row ``table`` chooses, or None when the policy cannot decide ``what``: no
        row fits (a gap `cxrecovery check` reports) or a host fact it reads has no value.
        A person then decides it (:meth:`judge`), never a plan that leaves it out."""
        slot = self._slots[path]
        if slot.hosts and self.lacking(path, what):
            return None
        found = self._entry(table, slot)
        row: Row | None = found[4]
        if row is None:
            shown = ", ".join(f"{k}={v}" for k, v in found[3].items())
            self.gap(path, what, f"no row of {path} fits this case ({shown})")
        return row

    def lacking(self, path: str, what: str) -> bool:
        """Whether a host fact the table at ``path`` reads has no value (its provider
        returned none): then a person decides ``what``."""
        hosts = self._slots[path].hosts
        if not hosts:  # built-in facts only: they always have values
            return False
        facts = self.facts
        names = [n for n in hosts if facts.get(n) is None]
        if names:
            self.gap(path, what, f"the host gave no value for {', '.join(names)}")
        return bool(names)

    def gap(self, path: str, what: str, problem: str) -> None:
        """Leave ``what`` to the lowest role that can decide it: ``problem`` at ``path``."""
        names = self._slots[path].inputs
        self.judge(f"{what}: {problem}", self.deciding_role(), ((path, problem, *names),))

    def row_reason(self, table: DecisionTable, path: str, row: str, text: str) -> Reason:
        """A reason citing a table row, with the facts that row's cells test."""
        rule, names = self._slots[path].row(row)
        return self.reason(rule, text, *names)

    def reason(self, rule: str, text: str, *names: str) -> Reason:
        """A reason citing ``rule``, with the facts called ``names``.

        A reason is a frozen value fixed by its rule, text and the plain fact values it
        cites (with their classes, as True == 1): decisions share equal ones.
        """
        if self.limbo_later and "limbo_hours" in names:
            self.limbo()
        facts = self.facts
        key: tuple[object, ...]
        try:
            if not names:
                key = (rule, text)
            elif len(names) == 1:  # the common case: the key without a tuple per part
                value = plain(facts[names[0]])
                key = (rule, text, names[0], value, value.__class__)
            else:
                values = tuple(map(plain, map(facts.__getitem__, names)))
                key = (rule, text, names, values, tuple(map(type, values)))
        except KeyError:  # a fact that is not there is left out
            return self._reason(rule, text, names)
        memo = self.engine._reason_memo
        found = memo.get(key)
        if found is None:
            found = remember(memo, key, self._reason(rule, text, names))
        return found

    def _reason(self, rule: str, text: str, names: tuple[str, ...]) -> Reason:
        if not names:
            return Reason(rule, text, EMPTY_ATTRIBUTES)
        facts = self.facts
        if len(names) == 1:  # the common case: nothing to sort
            name = names[0]
            pairs = ((name, plain(facts[name])),) if name in facts else ()
            return Reason(rule, text, Attributes._from_sorted(pairs))
        picked = {n: plain(facts[n]) for n in names if n in facts}
        return Reason(rule, text, Attributes._from_sorted(tuple(sorted(picked.items()))))

    def limbo(self) -> None:
        """Work out ``limbo_hours``, left for when a plan's explanation reads it (no
        table reads it: the decision does not depend on it)."""
        if self.limbo_later:
            self.facts["limbo_hours"] = limbo_hours(self.timeline, self.at, self.engine._settings)
            self.limbo_later = False

    def all_facts(self) -> Attributes:
        """Every fact, as the plan keeps them: sorted by name."""
        self.limbo()
        scalars = _plain_facts(self.facts, self.engine._compiled.decimal_facts)
        # The engine knows every fact's name in sorted order: when those are the facts,
        # the pairs come in C. A host fact it was not told about (a provider returning
        # more than it declared) falls back to a sort.
        order = self.engine._compiled.fact_order
        if len(order) == len(scalars):
            try:
                return Attributes._from_sorted(
                    tuple(zip(order, map(scalars.__getitem__, order), strict=True))
                )
            except KeyError:
                pass
        return Attributes._from_sorted(tuple(sorted(scalars.items())))

    def future(self, when: datetime | None) -> None:
        if when is not None and when > self.at:
            self.reviews.append(when)

    def deciding_role(self, form: CompensationForm | None = None, *, above: bool = False) -> str:
        """The lowest role that can decide what the policy could not: from the acting
        role up (strictly above it when ``above``), one that may grant ``form`` at all
        and, on a critical case, handles critical cases; the top of the ladder if none."""
        ladder = sorted(self.policy.roles, key=lambda r: r.rank)
        critical = bool(self.facts["critical"])
        for role in ladder:
            if role.rank < self.role.rank or (above and role.rank == self.role.rank):
                continue
            if form is not None and form not in role.forms:
                continue
            if critical and not role.handles_critical:
                continue
            return role.name
        return ladder[-1].name if ladder else self.role.name

    def judge(self, what: str, role: str, reasons: tuple[ReasonSpec, ...], **fields: Any) -> None:
        """Leave ``what`` to a person: a ``needs_judgement`` action owned by ``role``
        (unless the case records that a person judged it already)."""
        summary = f"Needs judgement: {what}"
        if self.case.events and any(
            e.subject == summary for e in self.case.done(CaseEventKind.JUDGED)
        ):
            return
        self.judgement = True
        self.pending.append(
            Pending(
                ActionKind.NEEDS_JUDGEMENT,
                _judgement,
                (summary, role, reasons),
                role,
                authority=Authority.NEEDS_APPROVAL,
                **fields,
            )
        )

    # --- the case's history ------------------------------------------------------------

    def facts_changed_at(self) -> datetime:
        """The clock steps' answer, worked out once per decision (the escalation and
        both harm steps of compensation ask)."""
        found = self._changed_at
        if found is None:
            found = self._changed_at = super().facts_changed_at()
        return found

    def done_since_setback(self, kind: CaseEventKind, subject: str | None = None) -> bool:
        """Whether the case records ``kind`` done (about ``subject``, when given) at or
        after the last setback: a promise broken, a channel failed or missed, a
        customer who gave up. An apology or a remedy is owed again after one."""
        done = [
            e.at
            for e in self.case.events
            if e.kind is kind and (subject is None or e.subject == subject)
        ]
        if not done:
            return False
        return max(done, key=instant) >= self.setback_at()

    def setback_at(self) -> datetime:
        """The last instant, at or before the decision, at which something went wrong."""
        case = self.case
        at = self.at
        times = [case.opened_at]
        times.extend(tp.at for tp in case.touchpoints if tp.at <= at and tp.outcome in _SETBACKS)
        for promise in case.promises:
            if promise.is_broken(at):
                when = promise.settled_at if promise.status is PromiseStatus.BROKEN else None
                times.append(when or promise.due)
        return max(times, key=instant)


def _judgement(
    d: DecisionContext, summary: str, role: str, reasons: tuple[ReasonSpec, ...]
) -> Explained:
    return summary, Attributes._from_sorted((("decides", role),)), reasons_of(d, reasons)
