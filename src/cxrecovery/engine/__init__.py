"""The engine: a compiled policy that turns a case and an instant into a recovery plan.

Build it once (``Engine(policy)``: every decision table is compiled and checked against
the facts it reads), then call :meth:`Engine.decide` as often as needed. A decision
depends only on the policy, the case and the instant passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta

from cxrecovery._validation import aware_arg
from cxrecovery.engine._decision import DecisionContext, decided, decided_as_taken, plan
from cxrecovery.engine._grant import asked
from cxrecovery.engine._support import instant_arg
from cxrecovery.engine.compile import CompiledPolicy, _money_arg
from cxrecovery.engine.sweep import SweepResult, swept
from cxrecovery.errors import CxRecoveryError, InvalidValueError
from cxrecovery.limits import check_instant
from cxrecovery.model import Agent, Case, CompensationForm
from cxrecovery.model.arguments import case_arg
from cxrecovery.money import Money
from cxrecovery.plan import Authorization, RecoveryPlan
from cxrecovery.policy import RolePolicy

__all__ = ["Engine", "decide_as_of", "decided", "decided_as_taken"]


class Engine(CompiledPolicy):
    """A compiled recovery policy.

    Args:
        policy: the policy to compile.
        facts: providers of host facts that the policy's tables may read.

    Raises:
        PolicyError: a table names an unknown fact, a cell does not fit its column, an
            output the engine needs is missing, or a host fact clashes with a built-in
            one — every problem at once, each with its path.

    .. versionadded:: 0.1.0
    """

    # --- facts ---------------------------------------------------------------------------

    def facts(self, case: Case, at: datetime) -> dict[str, object]:
        """The facts the policy's tables read for ``case`` at ``at`` (on the case as it
        was known then: :meth:`Case.as_of`)."""
        when = instant_arg(at)
        return self._facts(_known(case, when), when)[0]

    # --- authority -----------------------------------------------------------------------

    def authorize(
        self,
        case: Case,
        amount: Money,
        form: CompensationForm | str,
        *,
        at: datetime,
        agent: Agent | None = None,
        spent: Money | None = None,
        goodwill: Money | None = None,
    ) -> Authorization:
        """May ``agent`` grant ``amount`` as ``form`` on ``case`` at ``at``?

        Checks every empowerment limit of the agent's role (``spent`` is what the agent
        already granted in the role's period; ``goodwill``, when given, is what the
        customer received in the goodwill window, as a ledger knows it); when the answer
        is no, names the lowest role that may approve it.

        .. versionadded:: 0.1.0
        """
        at = instant_arg(at)
        _money_arg(amount, "amount", optional=False)
        _money_arg(spent, "spent")
        try:
            form = CompensationForm(form)
        except ValueError:
            raise InvalidValueError.at("form", f"{form!r} is not a compensation form") from None
        role = self._role(agent)
        case = _known(case, at)
        facts, _ = self._facts(case, at, goodwill)
        request = asked(case, facts, amount, form, spent)
        return self._ladder.authorize(
            role,
            request,
            critical=bool(facts["critical"]),
            approval_line=self.policy.compensation.approval_above_ratio,
        )

    # --- the decision --------------------------------------------------------------------

    def decide(
        self,
        case: Case,
        *,
        at: datetime,
        agent: Agent | None = None,
        spent: Money | None = None,
        goodwill: Money | None = None,
        explain: bool = False,
        remedy_ready_at: datetime | None = None,
    ) -> RecoveryPlan:
        """Decide what to do about ``case`` at ``at``, as ``agent`` (the front line if none).

        The decision's first step takes the case as it was known at ``at``
        (:meth:`Case.as_of`): whatever the case records after ``at`` does not count.
        What the case records as done is not asked for again (see the docs page
        "Decisions over time"). A closed case gets a plan with nothing for an open case
        in it.

        Args:
            case: the case; anything it records after ``at`` is left out.
            at: the decision time (timezone-aware), not before the case opened.
            agent: who is acting; their role's limits decide "do it now" or "approval".
            spent: what the agent already granted in their role's period.
            goodwill: what the customer received in the goodwill window, when a ledger
                knows it (otherwise it comes from the case's grants and prior cases).
            explain: add the full "why not" trace for every row that did not match.
            remedy_ready_at: the earliest the remedy can be done, as the host knows it
                now (a technician's slot, parts arriving); with the case's own
                ``remedy_lead_time`` and ``remedy_ready_at``, the latest counts. The
                promise is that plus the policy's margin, never earlier.

        The plan's decision (owner, each action's kind, owner, due time, amount and
        approver, the clocks, the escalation level, ``next_review_at``…) is made here;
        its explanation (the actions' words and reasons, the facts, the trace) is made
        from it on first read, unless ``explain`` asks for everything now. A plan not
        yet read keeps the case and the facts it explains alive. Every error is raised
        here, never on a later read.

        Raises:
            InvalidValueError: ``at`` is naive or before the case opened, the agent's
                role is unknown, ``spent`` is in the wrong currency, or the remedy's
                time (``remedy_ready_at``, the case's ``remedy_ready_at`` or
                ``remedy_lead_time``) lies outside the years cxrecovery handles.
            PolicyError: a host fact has a value of the wrong kind, two rows of a
                ``unique`` table match, or the rows of an ``any`` table disagree. A
                table without a row for the case, or a host fact without a value, is
                no error: that part of the plan is a ``needs_judgement`` action.

        .. versionadded:: 0.1.0
        """
        when = instant_arg(at)
        check_instant(when, "at")
        if isinstance(case, Case):
            check_instant(case.opened_at, "case.opened_at")
        if spent is not None:
            _money_arg(spent, "spent")
        role = self._role(agent)
        decision = self._decision(_known(case, when), when, role, agent, spent, goodwill, explain)
        if remedy_ready_at is not None:
            decision.ready_at = aware_arg(remedy_ready_at, "remedy_ready_at")
        return plan(decision, decided_at=at)

    def _decision(
        self,
        case: Case,
        at: datetime,
        role: RolePolicy,
        agent: Agent | None,
        spent: Money | None,
        goodwill: Money | None,
        explain: bool,
    ) -> DecisionContext:
        """The decision's context for ``case``, known at ``at`` (the instant compared)."""
        facts, timeline = self._facts(case, at, goodwill, limbo=self._compiled.reads_limbo)
        return DecisionContext(self, case, at, role, agent, spent, facts, timeline, explain)

    def _decide_known(self, known: Case, at: datetime, at_us: int = 0) -> RecoveryPlan:
        """``self.decide(known, at=at)`` for ``known``, a case its caller took as of
        ``at`` already (``case.as_of(at)``): a sweep and a replay, which read the case
        as known then themselves. When ``at`` is the instant :meth:`decide` takes the
        case as of (a datetime in a fixed offset: ``instant_arg(at) is at``), the case
        is not taken as of it again: ``as_of`` at one instant gives a case that nothing
        in is later than it, which ``as_of`` at that instant gives back as it is. At any
        other ``at`` (a zone with DST, where ``decide`` takes the case as of the UTC
        instant, and ``as_of`` of a fold's times at the two can differ), this is
        ``decide`` itself. The test ``test_engine_known.py`` holds the two to the same
        plans, folds included. ``at_us``, when not 0, is ``at`` as microseconds since
        the epoch (``instant_us(at)``), from a sweep that worked it out once for all its
        cases, and checked ``at`` once for them too: in the years handled, and the
        instant itself (``instant_arg(at) is at``); its ``known`` are cases.
        """
        if not at_us:
            if instant_arg(at) is not at or not isinstance(known, Case):
                return self.decide(known, at=at)
            check_instant(at, "at")
        check_instant(known.opened_at, "case.opened_at")
        decision = self._decision(known, at, self._front, None, None, None, False)
        decision.at_us = at_us  # (0, as a decision starts, unless a sweep gave it)
        return plan(decision, at)

    # --- many cases ----------------------------------------------------------------------

    def sweep(
        self,
        open_cases: Iterable[Case],
        at: datetime,
        *,
        next_reviews: Mapping[str, datetime | None] | None = None,
        horizon: timedelta = timedelta(0),
        promise_horizon: timedelta = timedelta(hours=4),
    ) -> SweepResult:
        """Everything due at ``at`` across many open cases, most urgent first.

        A scheduler's question: see :func:`cxrecovery.replay.sweep`, which this calls
        with this engine. Pass the previous sweep's ``next_reviews`` to skip cases
        whose plans cannot have changed.

        .. versionadded:: 0.1.0
        """
        return swept(
            self,
            self._decide_known,
            open_cases,
            at,
            next_reviews=next_reviews,
            horizon=horizon,
            promise_horizon=promise_horizon,
        )


def decide_as_of(
    engines: Sequence[Engine], case: Case, at: datetime
) -> tuple[Case, list[RecoveryPlan]] | None:
    """``case.as_of(at)`` and each engine's ``decide(case, at=at)``, the case taken as of
    ``at`` once for them all (``Engine._decide_known``); ``None`` when ``at`` is not the
    instant ``decide`` takes a case as of (a datetime in a zone with DST), or when
    ``as_of`` refuses it: the caller decides as ``decide`` does then (and gets its
    error)."""
    if instant_arg(at) is not at:
        return None
    try:
        known = case.as_of(at)
    except CxRecoveryError:
        return None
    return known, [engine._decide_known(known, at) for engine in engines]


def _known(case: object, at: datetime) -> Case:
    """The case as it was known at ``at`` (the first step of every answer); ``at`` is
    an aware datetime (every caller checked it)."""
    return case_arg(case)._as_of_aware(at)
