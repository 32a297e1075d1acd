"""One decision: the working state of :meth:`Engine.decide`, thrown away afterwards."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Final

import attrs

from cxrecovery.engine._clocks import _ClockSteps
from cxrecovery.engine._support import (
    _TICK,
    EMPTY_ATTRIBUTES,
    _customer_time,
    _duration_text,
    _memo_safe,
    _picked,
    _plain_facts,
    _scaled,
    _why_not,
    channel_words,
    instant,
    remember,
)
from cxrecovery.engine.goodwill import goodwill, harm_step
from cxrecovery.facts import BUILTIN_FACTS, Timeline
from cxrecovery.model import (
    Agent,
    Attributes,
    Case,
    CaseEventKind,
    CaseStatus,
    Channel,
    CompensationForm,
    Direction,
    ExpectationBaseline,
    Fault,
    Outcome,
    PromiseStatus,
    Sentiment,
    TouchpointKind,
)
from cxrecovery.money import Money
from cxrecovery.plan import (
    Action,
    ActionKind,
    Approval,
    Authority,
    ClockState,
    ClockStatus,
    Reason,
    RecoveryPlan,
    TableTrace,
)
from cxrecovery.policy import RolePolicy
from cxrecovery.tables import DecisionTable, TableResult

if TYPE_CHECKING:
    from cxrecovery.engine.compile import CompiledPolicy

# Where each kind of action goes in a plan: the order ActionKind lists them in.
_KIND_ORDER: Final = {kind: i for i, kind in enumerate(ActionKind)}
_CENT: Final = Decimal("0.01")
_BASIS_POINT: Final = Decimal("0.0001")
# The forms by their values: a table's output names one (the enum's lookup is slower).
_FORMS: Final[dict[object, CompensationForm]] = {f.value: f for f in CompensationForm}
# What went wrong in an interaction: an apology or a remedy is owed again after it.
_SETBACKS: Final = frozenset({Outcome.FAILED, Outcome.MISSED, Outcome.ABANDONED})
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
# A customer whose own contact on a live channel came this recently is with us now.
_HERE_FOR: Final = timedelta(minutes=30)
_LIVE: Final = frozenset({Channel.IN_PERSON, Channel.PHONE, Channel.CHAT, Channel.VIDEO})
_PROGRESSED: Final = frozenset({Outcome.RESOLVED, Outcome.PROGRESSED})
# Outcomes after which the customer is not on the line any more.
_GONE: Final = frozenset({Outcome.FAILED, Outcome.MISSED, Outcome.ABANDONED})
# Forms that are a remedy in their own right: goodwill on top of a remedy is a credit.
_REMEDY_FORMS: Final = frozenset(
    {CompensationForm.REFUND, CompensationForm.REPLACEMENT, CompensationForm.REPERFORMANCE}
)
# Refunds pay back money owed before they count as goodwill.
_REFUND_FORMS: Final = frozenset({CompensationForm.REFUND, CompensationForm.REFUND_KEEP_ITEM})
# The facts each goodwill step reads, as its reason cites them.
_STEP_FACTS: Final[dict[str, tuple[str, ...]]] = {
    "principles.customers_own_fault": ("fault",),
    "compensation.fault_step": ("fault", "history"),
    "compensation.effort_point": ("effort",),
    "compensation.harm.lateness": ("promises_broken",),
    "compensation.harm.downtime": ("service_usable",),
}
_PREFER_IMMEDIATE: Final = Attributes(
    {"prefer": "immediate credit or refund over a delayed voucher"}
)


class _Decision(_ClockSteps):
    """One call of :meth:`Engine.decide`: the working state, thrown away afterwards."""

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
        # The facts as a plan shows them: reasons, the trace and the plan all cite them.
        self.scalars = _plain_facts(facts, engine._compiled.decimal_facts)
        self.timeline = timeline
        self.explain = explain
        self.memo_ok = not explain and _memo_safe(facts)
        self.trace: list[TableTrace] = []
        self.reviews: list[datetime] = []
        self.actions: list[Action] = []
        self.approvals: list[Approval] = []
        self.is_open = case.status is CaseStatus.OPEN
        self.judgement = False
        self.remedy_action: str | None = None
        # The earliest the remedy can be done, as the host said at decision time.
        self.ready_at: datetime | None = None
        self.repaid = _ZERO

    # --- helpers -------------------------------------------------------------------------

    def evaluate(self, name: str, table: DecisionTable, path: str) -> TableResult:
        if self.memo_ok:
            # A table's result and trace depend only on the facts it reads: decisions
            # that read the same values share them (the key has each value's class too,
            # as True == 1). Without why-not traces only: explain is the slow path.
            scalars = self.scalars
            facts = self.facts
            getter = self.engine._trace_getters.get(path)
            try:
                if getter is not None:  # the same key, its values fetched in one call
                    key = (path, *getter(scalars), *map(type, getter(facts)))
                else:
                    names = self.engine._compiled.trace_inputs[path]
                    key = (
                        path,
                        *map(scalars.__getitem__, names),
                        *map(type, map(facts.__getitem__, names)),
                    )
            except KeyError:  # a fact is missing: evaluate() says so
                pass
            else:
                memo = self.engine._table_memo
                found = memo.get(key)
                if found is None:
                    found = remember(memo, key, self._evaluate(table, path))
                self.trace.append(found[1])
                return found[0]
        result, trace = self._evaluate(table, path)
        self.trace.append(trace)
        return result

    def _evaluate(self, table: DecisionTable, path: str) -> tuple[TableResult, TableTrace]:
        result = table.evaluate(self.facts)
        why_not: tuple[str, ...] = ()
        if self.explain:
            explanation = table.explain(self.facts)
            why_not = _why_not(explanation)
        trace = TableTrace(  # table, inputs, matched, chosen, shadowed, why_not
            path,
            _picked(self.scalars, self.engine._compiled.trace_inputs[path]),
            result.matched,
            result.chosen,
            result.shadowed,
            why_not,
        )
        return result, trace

    def decided(
        self, name: str, table: DecisionTable, path: str, what: str
    ) -> tuple[Mapping[str, object], str] | None:
        """The row ``table`` chooses, or None when the policy cannot decide ``what``: no
        row fits (a gap `cxrecovery check` reports) or a host fact it reads has no value.
        A person then decides it (:meth:`judge`), never a plan that leaves it out."""
        if self.lacking(path, what):
            return None
        result = self.evaluate(name, table, path)
        outputs = result.outputs
        chosen = result.chosen
        if not isinstance(outputs, Mapping) or not chosen:
            shown = ", ".join(f"{k}={v}" for k, v in result.inputs.items())
            self.gap(path, what, f"no row of {path} fits this case ({shown})")
            return None
        return outputs, chosen[0]

    def lacking(self, path: str, what: str) -> bool:
        """Whether a host fact the table at ``path`` reads has no value (its provider
        returned none): then a person decides ``what``."""
        facts = self.facts
        names = [
            n
            for n in self.engine._compiled.trace_inputs[path]
            if n not in BUILTIN_FACTS and facts.get(n) is None
        ]
        if names:
            self.gap(path, what, f"the host gave no value for {', '.join(names)}")
        return bool(names)

    def gap(self, path: str, what: str, problem: str) -> None:
        """Leave ``what`` to the lowest role that can decide it: ``problem`` at ``path``."""
        names = self.engine._compiled.trace_inputs[path]
        self.judge(
            f"{what}: {problem}", self.deciding_role(), (self.reason(path, problem, *names),)
        )

    def row_reason(self, table: DecisionTable, path: str, row: str, text: str) -> Reason:
        """A reason citing a table row, with the facts that row's cells test."""
        names = self.engine._compiled.row_facts[path].get(row, ())
        return self.reason(f"{path}[{row}]", text, *names)

    def reason(self, rule: str, text: str, *names: str) -> Reason:
        """A reason citing ``rule``, with the facts called ``names``.

        A reason is a frozen value fixed by its rule, text and the plain fact values it
        cites (with their classes, as True == 1): decisions share equal ones.
        """
        scalars = self.scalars
        key: tuple[object, ...]
        try:
            if not names:
                key = (rule, text)
            elif len(names) == 1:  # the common case: the key without a tuple per part
                value = scalars[names[0]]
                key = (rule, text, names[0], value, value.__class__)
            else:
                values = tuple(map(scalars.__getitem__, names))
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
        scalars = self.scalars
        if len(names) == 1:  # the common case: nothing to sort
            name = names[0]
            pairs = ((name, scalars[name]),) if name in scalars else ()
            return Reason(rule, text, Attributes._from_sorted(pairs))
        picked = {n: scalars[n] for n in names if n in scalars}
        return Reason(rule, text, Attributes._from_sorted(tuple(sorted(picked.items()))))

    def all_facts(self) -> Attributes:
        """Every fact, as the plan keeps them: sorted by name."""
        scalars = self.scalars
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

    def judge(self, what: str, role: str, reasons: tuple[Reason, ...], **fields: object) -> None:
        """Leave ``what`` to a person: a ``needs_judgement`` action owned by ``role``
        (unless the case records that a person judged it already)."""
        summary = f"Needs judgement: {what}"
        if self.case.events and any(
            e.subject == summary for e in self.case.done(CaseEventKind.JUDGED)
        ):
            return
        self.judgement = True
        self.actions.append(
            Action(
                ActionKind.NEEDS_JUDGEMENT,
                summary,
                owner=role,
                authority=Authority.NEEDS_APPROVAL,
                details=Attributes._from_sorted((("decides", role),)),
                reasons=reasons,
                **fields,  # type: ignore[arg-type]
            )
        )

    # --- the plan ------------------------------------------------------------------------

    def plan(self, decided_at: datetime | None = None) -> RecoveryPlan:
        """The plan; ``decided_at`` is the decision time as the host gave it (``self.at``
        is the same instant, as the engine compares it)."""
        policy = self.policy
        compiled = self.engine._compiled
        recovery_path = f"tables.{policy.compensation.table}"
        found = self.decided(
            policy.compensation.table,
            compiled.tables[policy.compensation.table],
            recovery_path,
            "the apology's style, the goodwill and the follow-up",
        )
        recovery, recovery_rule = (
            (found[0], f"{recovery_path}[{found[1]}]") if found is not None else (None, "")
        )
        clocks, clock_levels = self.clocks()
        level, level_reasons, level_anchor = self.escalation(clock_levels)
        # An escalation already taken to a level is not raised to it again: the case is
        # at the higher of the level due and the level taken.
        taken = self.case.escalation_taken() if self.is_open and self.case.events else 0
        at_level = max(level, taken)
        owner, owner_reason = self.owner(at_level)

        if self.is_open:
            if recovery is not None and not (
                self.case.events and self.done_since_setback(CaseEventKind.APOLOGIZED)
            ):
                self.apologize(recovery, recovery_rule, owner)
            promise_due = self.remedy(owner)
        else:
            promise_due = None
        compensation: Money | None = None
        over, expectation = False, None
        if recovery is not None:
            compensation, over, expectation = self.compensate(recovery, recovery_rule, owner)
        else:  # money owed is paid back whatever a person decides about goodwill
            self.repay(self.case.failure.value_at_stake, self.owed_value(), owner)
        # A case put right after a broken promise, or one that now pays the customer,
        # still owes them an apology and a word: money is not a substitute for either
        # (Wirtz & Mattila 2004; Joireman et al. 2013).
        aftercare = self.case.status is CaseStatus.RESOLVED and (
            compensation is not None or int(self.facts["promises_broken"]) > 0  # type: ignore[call-overload]
        )
        if (
            aftercare
            and recovery is not None
            and not (self.case.events and self.done_since_setback(CaseEventKind.APOLOGIZED))
        ):
            self.apologize(recovery, recovery_rule, owner)
        if self.is_open and level > taken:
            self.escalate(level, level_reasons, level_anchor)
        if self.is_open or aftercare:
            self.notify(clocks, promise_due, compensation)
        if recovery is not None:
            self.follow_up(recovery, recovery_rule, owner)
        self.recognise()
        self.future_windows()
        self.actions.sort(key=lambda a: _KIND_ORDER[a.kind])
        now = instant(self.at)
        for i, action in enumerate(self.actions):
            if action.due is not None and instant(action.due) < now:
                self.actions[i] = attrs.evolve(action, overdue=True)
        return RecoveryPlan(
            case_id=self.case.id,
            decided_at=self.at if decided_at is None else decided_at,
            role=self.role.name,
            agent=self.agent.id if self.agent is not None else None,
            owner=owner,
            owner_reason=owner_reason,
            policy_name=policy.name,
            policy_version=policy.version,
            policy_fingerprint=policy.fingerprint,
            actions=tuple(self.actions),
            approvals=tuple(self.approvals),
            clocks=tuple(clocks),
            escalation_level=at_level,
            relationship_health=str(self.facts["relationship_health"]),
            next_review_at=min(self.reviews, key=instant) if self.reviews else None,
            over_delivery=over,
            expectation=expectation,
            needs_judgement=self.judgement,
            facts=self.all_facts(),
            trace=tuple(self.trace),
        )

    # --- owner ---------------------------------------------------------------------------

    def owner(self, level: int) -> tuple[str, str]:
        policy = self.policy
        if self.facts["critical"]:
            for role in policy.roles:
                if role.handles_critical:
                    return self.holder(
                        role.name, level, "critical failures always go to a human owner"
                    )
        if level:
            rung = policy.escalation.level(level)
            if rung is not None:
                return self.holder(
                    rung.role, level, f"escalation level {level}: {rung.name or rung.role}"
                )
        if self.case.owner:
            return self.case.owner, "the case's owner"
        if self.agent is not None:
            return self.agent.id, "the agent handling the case owns it"
        return self.role.name, "the front line owns the case"

    def holder(self, role: str, level: int, why: str) -> tuple[str, str]:
        """The owner when the policy needs ``role``: a person who holds it on this case
        (the case's owner, when their role ranks as high; else whoever acknowledged
        the escalation to ``level`` or above), or the role itself for the host to
        assign. A named owner stays unless the policy needs a higher role."""
        case = self.case
        if not case.events:
            return role, why
        ranks = self.engine._roles
        needed = ranks.get(role)
        if needed is None:  # pragma: no cover - a role the policy names is one of its roles
            return role, why

        def holds(name: str | None) -> bool:
            found = ranks.get(name) if name is not None else None
            return found is not None and found.rank >= needed.rank

        if case.owner and holds(case.owner_role):
            return case.owner, f"{why}; {case.owner} holds the role ({case.owner_role})"
        for event in reversed(case.escalations()):
            person = event.acknowledged_by
            if person is None or not event.is_acknowledged(self.at):
                continue
            rung = self.policy.escalation.level(event.level or 0)
            held = event.role or (rung.role if rung is not None else None)
            if (event.level or 0) >= level and holds(held):
                return person, f"{why}; {person} took the escalation to level {event.level}"
        return role, why

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

    # --- apology and remedy --------------------------------------------------------------

    def apologize(self, recovery: Mapping[str, object], rule: str, owner: str) -> None:
        style = str(recovery["apology"])
        facts = self.facts
        own = (
            "say plainly that we got it wrong"
            if facts["fault"] == Fault.COMPANY
            else "own the problem even though the cause was not ours; do not blame"
        )
        acknowledge = []
        if facts["history"] == "repeat":
            acknowledge.append("that it happened again")
        if facts["fix_failed"] and self.fix_failed():
            acknowledge.append("the failure and the failed fix")
        elif int(facts["channel_failures"]) > 0:  # type: ignore[call-overload]
            acknowledge.append("that we failed them when they got in touch")
        broken = int(facts["promises_broken"])  # type: ignore[call-overload]
        if broken > 1:
            acknowledge.append("the promises we broke")
        elif broken:
            acknowledge.append("the promise we broke")
        if int(facts["repeated_information"]) > 0:  # type: ignore[call-overload]
            acknowledge.append("that they had to explain again")
        listen = facts["relationship_health"] in ("at_risk", "fragile")
        summary = f"Apologise ({style}): {own}"
        if acknowledge:
            summary += "; acknowledge " + ", ".join(acknowledge)
        # Plain values, keys in sorted order: as Attributes keep them.
        details = Attributes._from_sorted(
            (
                ("acknowledge", "; ".join(acknowledge)),
                ("human", bool(recovery["human"])),
                ("listen_first", listen),
                ("own", own),
                ("style", style),
            )
        )
        reasons = [
            self.reason(rule, "the recovery row sets the apology's style", "severity", "history"),
            self.reason(
                "principles.ownership",
                "apologise and own it whatever the fault; fault shapes compensation only",
                "fault",
            ),
        ]
        if listen:
            reasons.append(
                self.reason(
                    "principles.listen_first",
                    "the relationship is strained: listen before explaining",
                    "relationship_health",
                )
            )
        self.actions.append(
            Action(
                ActionKind.APOLOGIZE,
                summary,
                owner=owner,
                details=details,
                reasons=tuple(reasons),
            )
        )

    def remedy(self, owner: str) -> datetime | None:
        policy = self.policy
        path = f"tables.{policy.remedy_table}"
        found = self.decided(
            policy.remedy_table,
            self.engine._compiled.tables[policy.remedy_table],
            path,
            "the remedy and its promise",
        )
        if found is None:
            return None
        out, row = found
        action = str(out["action"])
        self.remedy_action = action
        estimate_text = str(out["estimate"])
        estimate = self.engine._compiled.duration(estimate_text)
        calendar_name = str(out["calendar"])
        calendar = policy.calendars[calendar_name]
        margin_text, promised, promised_text = self.engine._compiled.margin(
            estimate_text, estimate
        )
        rule = f"{path}[{row}]"
        # A remedy under way since the last setback is not asked for again (its
        # promise is tracked below).
        remedied = bool(self.case.events) and self.done_since_setback(CaseEventKind.REMEDIED)
        if not remedied:
            self.actions.append(
                Action(
                    ActionKind.REMEDY,
                    f"Remedy: {action.replace('_', ' ')}",
                    owner=owner,
                    details=Attributes._from_sorted(
                        (
                            ("action", action),
                            ("calendar", calendar_name),
                            ("estimate", estimate_text),
                        )
                    ),
                    reasons=(
                        self.reason(
                            rule,
                            "the remedy row for this failure",
                            "category",
                            "service_usable",
                            "double_deviation",
                        ),
                    ),
                )
            )
        # Promise the remedy unless a pending promise already covers it.
        pending = [
            p
            for p in self.case.promises
            if p.made_at <= self.at
            and p.is_pending
            and p.due >= self.at
            and (p.settled_at is None)
        ]
        if pending:
            return min((p.due for p in pending), key=instant)
        start, quoted = self.remedy_start()
        due = calendar.add(start, promised)
        reasons = [
            self.reason(rule, f"estimate {out['estimate']} on the {calendar_name} calendar"),
            self.reason(
                "promises.margin_ratio",
                f"plus a safety margin of {margin_text}: never promise what the "
                "policy cannot meet",
            ),
            *quoted,
        ]
        if int(self.facts["promises_broken"]) > 0:  # type: ignore[call-overload]
            reasons.append(
                self.reason(
                    "principles.double_deviation",
                    "a promise was broken: the new one must hold",
                    "promises_broken",
                )
            )
        self.actions.append(
            Action(
                ActionKind.MAKE_PROMISE,
                f"Promise: {action.replace('_', ' ')} by {self.shown(due)}",
                owner=owner,
                due=due,
                details=Attributes._from_sorted(
                    (
                        ("business_time", promised_text),
                        ("calendar", calendar_name),
                        ("customer_time", _customer_time(due, self.case.customer.time_zone)),
                        ("what", action),
                    )
                ),
                reasons=tuple(reasons),
            )
        )
        return due

    # --- compensation --------------------------------------------------------------------

    def remedy_start(self) -> tuple[datetime, list[Reason]]:
        """When the remedy's work can start: now, or later when the case or the host
        gives its lead time or the time it is possible (parts on order, a technician's
        slot). A quoted wait gets the policy's margin on top (a share of it, as the
        estimate does): a promise is never earlier than what the host says is possible.
        """
        at = self.at
        candidates: list[tuple[datetime, str]] = []
        lead = self.case.remedy_lead_time
        if lead:
            candidates.append((at + lead, f"case.remedy_lead_time ({_duration_text(lead)})"))
        if self.case.remedy_ready_at is not None:
            candidates.append((self.case.remedy_ready_at, "case.remedy_ready_at"))
        if self.ready_at is not None:
            candidates.append((self.ready_at, "remedy_ready_at (the host, at decision time)"))
        later = [(when, what) for when, what in candidates if instant(when) > instant(at)]
        if not later:
            return at, []
        ready, what = max(later, key=lambda c: instant(c[0]))
        wait = instant(ready) - instant(at)
        margin = _scaled(wait, self.policy.promises.margin_ratio)
        start = ready + margin
        reason = self.reason(
            "promises.quote",
            f"the remedy is possible from {self.shown(ready)} ({what}); plus a margin of "
            f"{_duration_text(margin)} on that wait",
        )
        return start, [reason]

    def lateness(self) -> tuple[Decimal, timedelta | None]:
        """The share of the policy's lateness steps passed by the latest promise broken
        (how late it was kept, or how overdue it was at the case's last event), and the
        step reached. Counted to events, not to the decision time: goodwill is sized
        when something happens, and a re-decision with nothing new repeats it."""
        steps = self.policy.compensation.lateness_steps
        if not steps:
            return _ZERO, None
        last = self.facts_changed_at()
        late = None
        for promise in self.case.promises:
            if promise.made_at > self.at:
                continue
            settled = promise.settled_at
            if settled is not None and settled <= self.at:
                if promise.status is not PromiseStatus.BROKEN:
                    continue
                by = settled - promise.due
            elif promise.is_pending and promise.due < self.at:
                by = last - promise.due
            else:
                continue
            by = max(by, timedelta(0))
            late = by if late is None else max(late, by)
        share, reached = harm_step(late, steps)
        return share, steps[reached - 1] if reached else None

    def downtime(self) -> tuple[Decimal, timedelta | None]:
        """The share of the policy's downtime steps passed by the time without the
        service: from the failure (or the case's opening) to its resolution, or to the
        case's last event while it is open (see :meth:`lateness`)."""
        steps = self.policy.compensation.downtime_steps
        failure = self.case.failure
        if not steps or failure.service_usable:
            return _ZERO, None
        start = failure.occurred_at or self.case.opened_at
        end = self.case.resolved_at or self.case.closed_at
        if end is None or end > self.at:
            end = self.facts_changed_at()
        share, reached = harm_step(max(end - start, timedelta(0)), steps)
        return share, steps[reached - 1] if reached else None

    def owed_value(self) -> Money | None:
        """The value at stake, when the remedy gives the money back: then it is owed."""
        value = self.case.failure.value_at_stake
        refunding = (
            self.remedy_action is not None
            and self.remedy_action in self.policy.compensation.refund_remedies
        )
        return value if refunding and value is not None and value else None

    def repay(self, value: Money | None, owed_value: Money | None, owner: str) -> None:
        """Pay back what the company owes: a wrong charge, the value of a service not
        delivered (when the remedy is a refund). Not goodwill: no empowerment limit
        applies; it is its own line, recorded in the plan. Refunds already granted pay
        it first (``self.repaid``)."""
        wrong = self.case.failure.wrongly_charged
        parts: list[tuple[Money, str, str]] = []
        if wrong is not None and wrong:
            parts.append((wrong, "the charge made in error", "failure.wrongly_charged"))
        if owed_value is not None:
            parts.append(
                (
                    owed_value,
                    f"the {self.remedy_action or 'refund'} of what was paid for",
                    f"compensation.refund_remedies[{self.remedy_action}]",
                )
            )
        if not parts:
            return
        refunds: dict[str, Decimal] = {}
        for grant in self.case.grants:
            if grant.at <= self.at and grant.form in _REFUND_FORMS and grant.amount:
                cur = grant.amount.currency
                refunds[cur] = refunds.get(cur, _ZERO) + grant.amount.amount
        by_currency: dict[str, list[tuple[Money, str, str]]] = {}
        for part in parts:
            by_currency.setdefault(part[0].currency, []).append(part)
        for currency, items in by_currency.items():
            total = sum((m.amount for m, _, _ in items), _ZERO)
            paid = min(refunds.get(currency, _ZERO), total)
            if value is not None and currency == value.currency:
                self.repaid = paid
            outstanding = Money(total - paid, currency)
            reasons = [
                self.reason(
                    rule,
                    f"{money} is owed: {what}; money owed is paid back, not granted as goodwill",
                )
                for money, what, rule in items
            ]
            if paid:
                reasons.append(
                    self.reason(
                        "compensation.repaid",
                        f"{Money(paid, currency)} already refunded",
                        "granted_so_far",
                    )
                )
            if not outstanding:
                continue
            self.actions.append(
                Action(
                    ActionKind.REPAY,
                    f"Pay back {outstanding} owed: "
                    + "; ".join(f"{what} ({money})" for money, what, _ in items),
                    owner=self.agent.id if self.agent is not None else owner,
                    authority=Authority.DO_NOW,
                    amount=outstanding,
                    form=CompensationForm.REFUND,
                    details=Attributes._from_sorted(
                        (("owed", "; ".join(what for _, what, _ in items)),)
                    ),
                    reasons=tuple(reasons),
                )
            )

    def compensate(
        self, recovery: Mapping[str, object], rule: str, owner: str
    ) -> tuple[Money | None, bool, ExpectationBaseline | None]:
        policy = self.policy
        comp = policy.compensation
        facts = self.facts
        value = self.case.failure.value_at_stake
        tier = comp.tier(str(recovery["tier"]))
        reasons = [
            self.reason(
                rule,
                f"severity and history call for tier {tier.name}",
                "severity",
                "history",
                "service_usable",
            )
        ]
        # A remedy that gives the money back pays the value at stake as money owed; any
        # other remedy restores the service (so does a case already put right).
        owed_value = self.owed_value()
        restored = not (
            self.remedy_action is not None and self.remedy_action in comp.refund_remedies
        )
        refunded = _ONE if owed_value is not None else _ZERO
        lateness, late_by = self.lateness()
        downtime, down_for = self.downtime()
        sized = goodwill(
            comp,
            tier,
            fault=facts["fault"],
            history=facts["history"],
            effort=facts["effort"],
            lateness=lateness,
            downtime=downtime,
            restored=restored,
            refunded=refunded,
        )
        tier, ratio = sized.tier, sized.ratio
        for step_rule, text in sized.steps:
            names = _STEP_FACTS.get(step_rule, ())
            if step_rule == "compensation.harm.lateness" and late_by is not None:
                text = f"{text} (late by {_duration_text(late_by)} or more)"
            elif step_rule == "compensation.harm.downtime" and down_for is not None:
                text = f"{text} (without it for {_duration_text(down_for)} or more)"
            reasons.append(self.reason(step_rule, text, *names))
        baseline = self.case.customer.expectation
        if baseline.compensation_ratio > ratio + refunded and facts["fault"] != Fault.CUSTOMER:
            # What they got last time is what they expect now, a tier-0 row included
            # (Rust & Oliver 2000); unless the failure was their own doing.
            ratio = min(baseline.compensation_ratio - refunded, comp.hard_cap_ratio - refunded)
            reasons.append(
                self.reason(
                    "customer.expectation",
                    "meet the customer's raised expectation",
                    "expectation_ratio",
                )
            )
        self.repay(value, owed_value, owner)
        form = _FORMS.get(recovery["form"]) or CompensationForm(str(recovery["form"]))
        if form in _REMEDY_FORMS:
            # The remedy (repair, replacement, refund) is its own line: goodwill on top
            # of it is a credit.
            form = CompensationForm.CREDIT
        # Refunds already granted pay back money owed first; the rest was goodwill.
        granted = Decimal(facts["granted_so_far"]) - self.repaid  # type: ignore[arg-type]
        over = False
        expectation: ExpectationBaseline | None = None
        delight = [g for g in self.case.grants if g.at <= self.at and g.form in comp.delight_forms]
        if value is not None and value:
            granted_ratio = granted / value.amount
            if granted_ratio > max(ratio, tier.max) or delight:
                over = True
                new_ratio = max(granted_ratio, baseline.compensation_ratio)
                remedy = delight[-1].form if delight else baseline.remedy
                expectation = ExpectationBaseline(
                    compensation_ratio=new_ratio.quantize(_CENT),
                    remedy=remedy,
                    set_at=max(g.at for g in self.case.grants if g.at <= self.at),
                    reason=f"over-delivered on case {self.case.id}: the customer will expect "
                    "this again",
                )
        if (value is None or not value) and ratio > 0 and not self.facts["critical"]:
            # The row pays, but there is nothing to size it on: a person decides the
            # amount, never a silent omission.
            self.judge(
                f"compensation: tier {tier.name} ({tier.min}-{tier.max} of the value at "
                "stake) applies, but the case gives no value at stake; decide the amount",
                self.deciding_role(form),
                (
                    *reasons,
                    self.reason(
                        "principles.no_silent_gaps",
                        "the policy cannot size it: a person decides",
                        "value_at_stake",
                    ),
                ),
                tier=tier.name,
                form=form,
            )
            return None, over, expectation
        if value is None or not value or ratio == 0 or self.facts["critical"]:
            if (
                self.facts["critical"]
                and self.is_open
                and not self.case.done(CaseEventKind.COMPENSATED)
            ):
                self.judge(
                    "compensation for a critical failure: its human owner decides it",
                    self.deciding_role(form),
                    (
                        self.reason(
                            rule,
                            "critical failures are out of scope for automated amounts",
                            "critical",
                        ),
                    ),
                    tier=tier.name,
                )
            return None, over, expectation
        # Rounded down: a share that lands on a limit stays on it, never a cent over.
        target = value._scaled(ratio, ROUND_FLOOR)
        floor = tier.floor.get(value.currency)
        ceiling = tier.ceiling.get(value.currency)
        if floor is not None and target < floor:
            target = floor
            reasons.append(
                self.reason(f"compensation.tiers[{tier.name}].floor", f"at least {floor}")
            )
        if ceiling is not None and target > ceiling:
            target = ceiling
            reasons.append(
                self.reason(f"compensation.tiers[{tier.name}].ceiling", f"at most {ceiling}")
            )
        # Never a cent over the hard cap, the value refunded as money owed included.
        cap = value._scaled(comp.hard_cap_ratio - refunded, ROUND_FLOOR)
        already = Money(granted, value.currency)
        amount = target - already
        headroom = cap - already
        if amount > headroom:
            amount = headroom
        if amount.amount <= 0:  # nothing, or less than nothing, is left to grant
            if already:
                reasons.append(
                    self.reason(
                        "compensation.granted",
                        f"{already} already granted covers it",
                        "granted_so_far",
                    )
                )
            return None, over, expectation
        if already:
            reasons.append(
                self.reason(
                    "compensation.granted",
                    f"{already} already granted on this case",
                    "granted_so_far",
                )
            )
        # The request's case total is what was granted, read as ``already`` was, plus this.
        request = self.engine._request(
            self.case,
            facts,
            amount,
            form,
            self.spent,
            already,
            owed_value,
        )
        # The plan shows only the checks that failed (in the approval it asks for).
        auth = self.engine._ladder.authorize(
            self.role,
            request,
            critical=False,
            approval_line=comp.approval_above_ratio,
            all_checks=False,
        )
        approval = None
        if auth.allowed:
            authority = Authority.DO_NOW
            who = f"{self.role.name} may grant it now"
        else:
            authority = Authority.NEEDS_APPROVAL
            if auth.approver is None:
                who = f"no role may grant it: {auth.reason}"
                accepted = self.engine._ladder.accepts(amount.currency)
                self.judge(
                    f"compensation of {amount} as {form.value.replace('_', ' ')}: {auth.reason}",
                    self.deciding_role(form, above=True)
                    if not accepted
                    else max(self.policy.roles, key=lambda r: r.rank).name,
                    (
                        self.reason(
                            "principles.no_silent_gaps",
                            "no role's limits cover it: a person decides, never a missing limit",
                        ),
                    ),
                    amount=amount,
                    form=form,
                    tier=tier.name,
                )
            else:
                who = f"needs approval by {auth.approver}"
                # Only the failed checks are in the answer (all_checks=False).
                approval = Approval(auth.approver, auth.reason, auth.checks)
                self.approvals.append(approval)
        # (already + amount).ratio_to(value), as the request worked it out for its checks.
        share = request.case_ratio
        if share is None:  # pragma: no cover - the value at stake is not zero here
            share = request.case_total.ratio_to(value)
        if form in comp.delight_forms:
            # Granting it will raise what this customer expects next time: say so now.
            over = True
            expectation = ExpectationBaseline(
                compensation_ratio=max(share, baseline.compensation_ratio).quantize(_CENT),
                remedy=form,
                set_at=self.at,
                reason=f"if granted on case {self.case.id}, the customer will expect this again",
            )
        self.actions.append(
            Action(
                ActionKind.COMPENSATE,
                f"Compensate: {form.value.replace('_', ' ')} of {amount} "
                f"({share:.2f} of {value}); {who}",
                owner=self.agent.id
                if (self.agent is not None and auth.allowed)
                else (auth.approver or owner),
                authority=authority,
                approval=approval,
                amount=amount,
                ratio=share.quantize(_BASIS_POINT),
                form=form,
                tier=tier.name,
                details=_PREFER_IMMEDIATE,
                reasons=(
                    *reasons,
                    self.reason(
                        "compensation.prefer_immediate",
                        "immediate compensation beats a delayed voucher (Roschk & Gelbrich 2014)",
                    ),
                ),
            )
        )
        return amount, over, expectation

    # --- telling the customer ------------------------------------------------------------

    def fix_failed(self) -> bool:
        """Whether a fix itself failed: a visit (the item handed back, a technician's
        call-out) that failed after the case had moved forward. A dropped call or a
        failing web page is a channel that failed, not a fix."""
        progressed = False
        for tp in self.case.touchpoints:
            if tp.at > self.at:
                break
            if tp.outcome in _PROGRESSED:
                progressed = True
            elif progressed and tp.outcome is Outcome.FAILED and tp.kind is TouchpointKind.VISIT:
                return True
        return False

    def channel_now(self) -> tuple[Channel | None, bool]:
        """Where to tell the customer: where they are with us right now (their own
        contact in the last :data:`_HERE_FOR` on a live channel, a shop counter
        included), else their preferred channel, else the case's. The flag says
        whether they are here now."""
        at = self.at
        for tp in reversed(self.case.touchpoints):
            if tp.at > at:
                continue
            if at - tp.at > _HERE_FOR:
                break
            if (
                tp.direction is Direction.INBOUND
                and tp.channel in _LIVE
                and tp.outcome not in _GONE
            ):
                # They are here until the window closes: the plan changes then.
                self.future(tp.at + _HERE_FOR + _TICK)
                return tp.channel, True
            break
        return self.case.customer.preferred_channel or self.case.channel, False

    def notify(
        self, clocks: list[ClockState], promise_due: datetime | None, compensation: Money | None
    ) -> None:
        channel, here = self.channel_now()
        due = None
        for state in clocks:
            if (
                state.name in ("first_response", "next_update")
                and state.status
                in (
                    ClockStatus.RUNNING,
                    ClockStatus.BREACHED,
                )
                and state.due_at is not None
                and (due is None or instant(state.due_at) < instant(due))
            ):
                due = state.due_at
        # Put right already: tell them now, unless they were told since it was put right
        # (and since the last setback).
        told_now = due is None and not self.is_open and not self.told_since_put_right()
        if told_now:
            due = self.at
        states = ["an apology and what we will do"]
        if promise_due is not None:
            states.append("the fix and the time it will be done by (the promise)")
        states.extend(
            f"the money we owe back ({a.amount})"
            for a in self.actions
            if a.kind is ActionKind.REPAY and a.amount is not None
        )
        if compensation is not None:
            states.append(f"the compensation ({compensation})")
        states.append("who owns the case now")
        reasons = [
            self.reason(
                "principles.keep_informed",
                "set expectations up front and keep the customer informed",
            ),
        ]
        if any(a.kind is ActionKind.MAKE_PROMISE for a in self.actions) and (
            due is None or instant(due) >= instant(self.at)
        ):
            # The plan makes a promise now: the customer hears it now, not when the next
            # update falls due (a remake promised in 20 minutes, told by tomorrow).
            due = self.at
            reasons.append(
                self.reason(
                    "principles.promise_when_told",
                    "a promise is made when the customer hears it: tell them now",
                )
            )
        if told_now:
            reasons.append(
                self.reason(
                    "principles.tell_now",
                    "the case is put right: the apology and what it brings are told now",
                )
            )
        if here and channel is not None:
            reasons.append(
                self.reason(
                    "principles.where_the_customer_is",
                    f"the customer is with us {channel_words(channel)} now: tell them there",
                    "channel",
                )
            )
        elif channel is not None:
            reasons.append(
                self.reason(
                    "customer.preferred_channel",
                    f"the customer prefers {channel_words(channel)}",
                )
            )
        self.actions.append(
            Action(
                ActionKind.NOTIFY,
                f"Tell the customer{' ' + channel_words(channel) if channel else ''}: "
                + "; ".join(states),
                due=due,
                channel=channel,
                details=Attributes._from_sorted((("states", "; ".join(states)),)),
                reasons=tuple(reasons),
            )
        )

    def told_since_put_right(self) -> bool:
        """Whether someone wrote or spoke to the customer (an outbound touchpoint) at or
        after the case was resolved and its last setback."""
        case = self.case
        if not case.events:  # no recorded history: decided as before
            return False
        since = max(
            (t for t in (case.resolved_at, self.setback_at()) if t is not None), key=instant
        )
        return any(
            tp.direction is Direction.OUTBOUND and since <= tp.at <= self.at
            for tp in case.touchpoints
        )

    def follow_up(self, recovery: Mapping[str, object], rule: str, owner: str) -> None:
        parts = self.engine._compiled.follow_ups(recovery.get("follow_up"))
        if not parts or self.case.status is CaseStatus.CLOSED:
            return
        calendar = self.policy.calendars[self.policy.follow_up_calendar]
        base = (
            self.case.resolved_at
            if self.case.resolved_at is not None and self.case.resolved_at <= self.at
            else None
        )
        channel = self.case.customer.preferred_channel or self.case.channel
        reasons = (self.reason(rule, "close the loop after the fix", "severity", "history"),)
        done = (
            {
                e.subject
                for e in self.case.done(CaseEventKind.FOLLOWED_UP)
                if base is None or e.at >= base
            }
            if self.case.events
            else set()
        )
        for part in parts:
            if part in done:  # carried out since the fix: not asked for again
                continue
            after = self.engine._compiled.duration(part)
            due = calendar.next_open(base + after) if base is not None else None
            if due is not None:
                when = self.shown(due)
            else:
                when = f"{self.engine._compiled.duration_text(part)} after the fix"
            self.actions.append(
                Action(
                    ActionKind.FOLLOW_UP,
                    f"Follow up {when}: check the customer is satisfied and the fix held",
                    owner=owner,
                    due=due,
                    channel=channel,
                    details=Attributes._from_sorted((("after", part),)),
                    reasons=reasons,
                )
            )

    def recognise(self) -> None:
        if not self.policy.recognise_staff or not self.facts["positive_feedback"]:
            return
        seen = [tp for tp in self.case.touchpoints if tp.at <= self.at]
        praised = [
            i
            for i, tp in enumerate(seen)
            if tp.kind is TouchpointKind.FEEDBACK
            and tp.sentiment is not None
            and tp.sentiment >= Sentiment.POSITIVE
        ]
        agents: list[str] = []
        # The staff who served the customer well before the praise came in.
        for tp in seen[: praised[-1]] if praised else ():
            if (
                tp.agent
                and tp.sentiment is not None
                and tp.sentiment >= Sentiment.POSITIVE
                and tp.agent not in agents
            ):
                agents.append(tp.agent)
        recognised = {e.subject for e in self.case.done(CaseEventKind.RECOGNISED)}
        for agent in agents:
            if agent in recognised:
                continue
            self.actions.append(
                Action(
                    ActionKind.RECOGNISE,
                    f"Recognise {agent}: the customer's positive feedback names their work",
                    owner=self.case.owner,
                    details=Attributes._from_sorted((("agent", agent),)),
                    reasons=(
                        self.reason(
                            "follow_up.recognise_staff",
                            "close the loop on positive feedback",
                            "positive_feedback",
                        ),
                    ),
                )
            )

    def future_windows(self) -> None:
        # A promise is overdue, and a grant leaves the goodwill window, just after.
        for when in (*self.timeline.promise_due, *self.timeline.window_exits):
            self.future(when + _TICK)
        for bound in self.engine._limbo_bounds:
            hours = timedelta(microseconds=int(bound * 3_600_000_000))
            self.future(self.engine._settings.calendar.add(self.timeline.last_progress, hours))
