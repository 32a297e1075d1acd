"""The engine: a compiled policy that turns a case and an instant into a recovery plan.

Build it once (``Engine(policy)``: every decision table is compiled and checked against
the facts it reads), then call :meth:`Engine.decide` as often as needed. A decision
depends only on the policy, the case and the instant passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter

from cxrecovery._validation import aware_arg
from cxrecovery.businesstime import ClockSpec, PauseRule
from cxrecovery.engine import _authority
from cxrecovery.engine._clocks import compile_targets
from cxrecovery.engine._decision import _Decision
from cxrecovery.engine._support import _Compiled, case_arg, comparable
from cxrecovery.engine.sweep import SweepResult
from cxrecovery.engine.sweep import sweep as _sweep
from cxrecovery.errors import InvalidValueError, PolicyError, Problem
from cxrecovery.facts import BUILTIN_FACTS, FactProvider, FactSettings, Timeline, derive_facts
from cxrecovery.model import Agent, Case, CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan import Authorization, Reason, RecoveryPlan, TableTrace
from cxrecovery.policy import ClockPolicy, Policy, RolePolicy
from cxrecovery.tables import FactSpec, TableResult

__all__ = ["Engine"]


class Engine:
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

    def __init__(self, policy: Policy, *, facts: Sequence[FactProvider] = ()) -> None:
        if not isinstance(policy, Policy):
            raise PolicyError.at(
                "policy", f"{policy!r} is not a Policy; load one with load_policy"
            )
        specs: dict[str, FactSpec] = dict(BUILTIN_FACTS)
        problems: list[Problem] = []
        for i, provider in enumerate(facts):
            if not isinstance(provider, FactProvider):
                problems.append(Problem(f"facts[{i}]", f"{provider!r} is not a FactProvider"))
                continue
            for name, spec in provider.specs().items():
                if name in specs:
                    problems.append(
                        Problem(f"facts[{i}].{name}", "clashes with a fact already defined")
                    )
                specs[name] = spec
        if problems:
            raise PolicyError(problems)
        self.policy = policy
        self._providers = tuple(facts)
        self._compiled = _Compiled(policy, specs)
        calendars = policy.calendars
        self._settings = FactSettings(
            calendar=calendars[policy.facts.calendar],
            history_window=policy.facts.history_window,
            goodwill_window=policy.facts.goodwill_window,
            effort_medium_at=policy.facts.effort_medium_at,
            effort_high_at=policy.facts.effort_high_at,
            wait_unit_minutes=max(1, int(policy.facts.wait_unit.total_seconds() // 60)),
            recency_decay=policy.facts.recency_decay,
        )
        self._front = policy.roles[0]
        self._roles: dict[str, RolePolicy] = {}
        for role in policy.roles:
            self._roles.setdefault(role.name, role)  # the first of a name, as policy.role
        self._ladder = _authority.Ladder(policy)
        self._pause_rules = {
            clock.name: tuple(PauseRule(reason, {clock.name}) for reason in sorted(clock.pauses))
            for clock in policy.clocks
        }
        self._specs: dict[tuple[str, timedelta], ClockSpec] = {}
        self._targets = compile_targets(self)
        self._limbo_bounds = self._numeric_bounds("limbo_hours")
        # Pure pieces of a plan by the values they depend on: a table's result and trace
        # by the facts it reads, a reason by its rule, text and facts. Frozen values,
        # shared by plans; see _Decision.evaluate and _Decision.reason.
        self._table_memo: dict[tuple[object, ...], tuple[TableResult, TableTrace]] = {}
        # The facts a table's trace reads, fetched in one call, for a table reading more
        # than one (a memo key reads them: see _Decision.evaluate).
        self._trace_getters = {
            path: itemgetter(*names)
            for path, names in self._compiled.trace_inputs.items()
            if len(names) > 1
        }
        self._reason_memo: dict[tuple[object, ...], Reason] = {}

    def _numeric_bounds(self, fact: str) -> tuple[Decimal, ...]:
        """Every bound a table puts on a numeric fact: where its value changes a row."""
        bounds: set[Decimal] = set()
        for table in [*self._compiled.tables.values(), *self._compiled.clock_tables.values()]:
            if fact not in table.inputs:
                continue
            column = table.inputs.index(fact)
            for rule in table.rules:
                for interval in rule.conditions[column].intervals():
                    bounds.update(
                        Decimal(b) for b in (interval.low, interval.high) if b is not None
                    )
        return tuple(sorted(bounds))

    def _clock_spec(self, clock: ClockPolicy, target: timedelta) -> ClockSpec:
        """The clock's spec for a target, built once (targets come from a finite table)."""
        key = (clock.name, target)
        spec = self._specs.get(key)
        if spec is None:
            spec = ClockSpec(
                clock.name,
                target,
                calendar=self.policy.calendars[clock.calendar],
                max_pause=clock.max_pause,
                warnings=clock.warnings,
            )
            self._specs[key] = spec
        return spec

    # --- facts ---------------------------------------------------------------------------

    def facts(self, case: Case, at: datetime) -> dict[str, object]:
        """The facts the policy's tables read for ``case`` at ``at``."""
        return self._facts(case, comparable(aware_arg(at, "at")))[0]

    def _facts(
        self, case: Case, at: datetime, goodwill: Money | None = None
    ) -> tuple[dict[str, object], Timeline]:
        facts, timeline = derive_facts(case_arg(case), at, self._settings)
        goodwill = _money_arg(goodwill, "goodwill")
        if goodwill is not None:
            # A ledger knows the customer's goodwill better than the case document does.
            value = case.failure.value_at_stake
            if value is not None and goodwill.currency != value.currency:
                raise InvalidValueError.at(
                    "goodwill", f"{goodwill} is not in {value.currency}, the case's currency"
                )
            facts["recent_goodwill"] = goodwill.amount
        for provider in self._providers:
            facts.update(provider.compute(case, at))
        return facts, timeline

    def _role(self, agent: Agent | None) -> RolePolicy:
        if agent is None:
            return self._front
        if not isinstance(agent, Agent):
            raise InvalidValueError.at("agent", f"{agent!r} is not an Agent")
        role = self._roles.get(agent.role)
        if role is None:
            names = ", ".join(r.name for r in self.policy.roles)
            raise InvalidValueError.at(
                "agent.role", f"{agent.role!r} is not a role of this policy ({names})"
            )
        return role

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
        at = comparable(aware_arg(at, "at"))
        _money_arg(amount, "amount", optional=False)
        _money_arg(spent, "spent")
        try:
            form = CompensationForm(form)
        except ValueError:
            raise InvalidValueError.at("form", f"{form!r} is not a compensation form") from None
        role = self._role(agent)
        facts, _ = self._facts(case, at, goodwill)
        request = self._request(case, facts, amount, form, spent)
        return self._ladder.authorize(
            role,
            request,
            critical=bool(facts["critical"]),
            approval_line=self.policy.compensation.approval_above_ratio,
        )

    def _request(
        self,
        case: Case,
        facts: Mapping[str, object],
        amount: Money,
        form: CompensationForm,
        spent: Money | None,
        granted_before: Money | None = None,
    ) -> _authority.GrantRequest:
        """The request to grant ``amount``; ``granted_before`` is the ``granted_so_far``
        fact as money in ``amount``'s currency, when the caller has it already."""
        currency = amount.currency
        if spent is not None and spent.currency != currency:
            raise InvalidValueError.at(
                "spent", f"{spent} is not in {currency}, the grant's currency"
            )
        value = case.failure.value_at_stake
        if value is not None and value.currency != currency:
            raise InvalidValueError.at(
                "amount", f"{amount} is not in {value.currency}, the value at stake's currency"
            )
        return _authority.GrantRequest(
            amount=amount,
            form=form,
            value=value,
            granted_before=granted_before
            if granted_before is not None
            else Money(facts["granted_so_far"], currency),  # type: ignore[arg-type]
            recent_goodwill=Money(facts["recent_goodwill"], currency),  # type: ignore[arg-type]
            period_spent=spent if spent is not None else Money.zero(currency),
            forms_before=(g.form for g in case.grants),
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
    ) -> RecoveryPlan:
        """Decide what to do about ``case`` at ``at``, as ``agent`` (the front line if none).

        Args:
            case: the case, with everything known up to ``at``.
            at: the decision time (timezone-aware); nothing later counts.
            agent: who is acting; their role's limits decide "do it now" or "approval".
            spent: what the agent already granted in their role's period.
            goodwill: what the customer received in the goodwill window, when a ledger
                knows it (otherwise it comes from the case's grants and prior cases).
            explain: add the full "why not" trace for every row that did not match.

        Raises:
            InvalidValueError: ``at`` is naive, the agent's role is unknown, or ``spent``
                is in the wrong currency.
            PolicyError: no row of a table the decision needs matches the case (a gap
                the linter reports in advance).

        .. versionadded:: 0.1.0
        """
        when = comparable(aware_arg(at, "at"))
        _money_arg(spent, "spent")
        role = self._role(agent)
        facts, timeline = self._facts(case, when, goodwill)
        decision = _Decision(self, case, when, role, agent, spent, facts, timeline, explain)
        return decision.plan(decided_at=at)

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
        return _sweep(
            self,
            open_cases,
            at,
            next_reviews=next_reviews,
            horizon=horizon,
            promise_horizon=promise_horizon,
        )


def _money_arg(value: object, name: str, *, optional: bool = True) -> Money | None:
    """``value`` if it is Money (or ``None``, when optional); else InvalidValueError."""
    if isinstance(value, Money) or (optional and value is None):
        return value
    raise InvalidValueError.at(name, f"{value!r} is not Money")
