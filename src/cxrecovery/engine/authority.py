"""Empowerment limits: may this role grant this, and if not, who is the lowest that may?"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final, NamedTuple

from cxrecovery.engine._grant import GrantRequest
from cxrecovery.money import Money
from cxrecovery.plan import Authorization, LimitCheck
from cxrecovery.policy import Policy, RolePolicy

__all__ = ["GrantRequest", "Ladder", "RoleLimits", "authorize", "check_role"]


# A money limit: its rule, its limits by currency and, per currency, the text a check
# shows (written on its first use: a decision writes only the checks that fail).
_MoneyLimit = tuple[str, Mapping[str, Money], dict[str, str]]
# What a total is compared with (``total <= bound``) for one money limit in the grant's
# currency: the limit's amount; for a limit not set in that currency, minus infinity
# (no total is within it); for a limit given in another currency than its key, a
# bound that compares as Money does (it raises why not). None: the role has no such limit.
_NOT_SET: Final = Decimal("-Infinity")


class _Mismatched:
    """A money limit given in another currency than its key: comparing a total with it
    raises what comparing the two as Money raises."""

    __slots__ = ("currency", "limit")

    def __init__(self, currency: str, limit: Money) -> None:
        self.currency = currency
        self.limit = limit

    def __ge__(self, total: Decimal) -> bool:  # ``total <= self``
        return Money._made(total, self.currency) <= self.limit


_Bound = Decimal | _Mismatched | None


def _money_limits(rule: str, limits: Mapping[str, Money]) -> _MoneyLimit | None:
    if not limits:
        return None
    return rule, limits, {}


def _bound(limits: Mapping[str, Money], currency: str) -> _Bound:
    """What a total in ``currency`` is compared with for ``limits`` (see ``_Bound``)."""
    if not limits:
        return None
    limit = limits.get(currency)
    if limit is None:
        return _NOT_SET
    return limit.amount if limit.currency == currency else _Mismatched(currency, limit)


def _money_check(
    checks: list[LimitCheck],
    limits: _MoneyLimit,
    bound: _Bound,
    total: Decimal,
    currency: str,
    what: str,
    keep_ok: bool,
) -> None:
    rule, money, texts = limits
    limit = money.get(currency)
    if limit is None:
        checks.append(
            LimitCheck(rule, f"no limit in {currency}", f"{what} {total} {currency}", False)
        )
    else:
        ok = bound is None or total <= bound
        if keep_ok or not ok:
            text = texts.get(currency)
            if text is None:
                text = texts[currency] = f"at most {limit}"
            checks.append(LimitCheck(rule, text, f"{what} {total} {currency}", ok))


class RoleLimits:
    """A role's limits with the rule paths and texts its checks show: the money limits'
    rules worked out once, their bounds once a currency (on first use), and the texts
    of the other checks when a check is written (a decision writes only those that
    fail)."""

    __slots__ = (
        "_base",
        "_bounds",
        "_elsewhere",
        "_mismatched",
        "per_case",
        "per_customer",
        "per_period",
        "role",
    )

    def __init__(self, role: RolePolicy) -> None:
        self.role = role
        base = self._base = f"roles[{role.name}]"
        self.per_case = _money_limits(f"{base}.max_per_case", role.max_per_case)
        self.per_period = _money_limits(f"{base}.max_per_period", role.max_per_period)
        self.per_customer = _money_limits(f"{base}.max_per_customer", role.max_per_customer)
        self._mismatched: bool | None = None
        # The bounds of the case, period and customer limits in each currency, worked
        # out on the currency's first use (_bounds_in): those ``_elsewhere`` in one the
        # role sets no limit in.
        self._bounds: dict[str, tuple[_Bound, _Bound, _Bound]] = {}
        self._elsewhere: tuple[_Bound, _Bound, _Bound] = (
            None if not role.max_per_case else _NOT_SET,
            None if not role.max_per_period else _NOT_SET,
            None if not role.max_per_customer else _NOT_SET,
        )

    @property
    def forms_rule(self) -> str:
        return f"{self._base}.forms"

    @property
    def forms_limit(self) -> str:
        allowed = ", ".join(sorted(f.value for f in self.role.forms)) or "none"
        return f"one of {allowed}"

    @property
    def ratio_rule(self) -> str:
        return f"{self._base}.max_ratio"

    @property
    def ratio_limit(self) -> str:
        return f"at most {self.role.max_ratio} of the value at stake"

    @property
    def max_forms_rule(self) -> str:
        return f"{self._base}.max_forms"

    @property
    def max_forms_limit(self) -> str:
        return f"at most {self.role.max_forms} forms on one case"

    @property
    def mismatched(self) -> bool:
        """Whether a money limit is given in another currency than its key."""
        found = self._mismatched
        if found is None:
            role = self.role
            found = self._mismatched = any(
                limit.currency != currency
                for limits in (role.max_per_case, role.max_per_period, role.max_per_customer)
                for currency, limit in limits.items()
            )
        return found

    def _bounds_in(self, currency: str) -> tuple[_Bound, _Bound, _Bound]:
        """The bounds of the case, period and customer limits in ``currency``, kept."""
        role = self.role
        money = (role.max_per_case, role.max_per_period, role.max_per_customer)
        if any(currency in limits for limits in money):
            found = (
                _bound(money[0], currency),
                _bound(money[1], currency),
                _bound(money[2], currency),
            )
        else:
            found = self._elsewhere
        self._bounds[currency] = found
        return found

    def check(
        self, request: GrantRequest, *, with_period: bool = True, keep_ok: bool = True
    ) -> tuple[LimitCheck, ...]:
        """Check every limit against ``request``; each check says its verdict.

        ``keep_ok=False`` leaves out the checks that pass: a caller that only reports
        failures does not need them written out. Every check passes exactly when
        :meth:`passes` says so.
        """
        role = self.role
        form = request.form
        currency = request.currency
        checks: list[LimitCheck] = []
        ok = form in role.forms
        if keep_ok or not ok:
            checks.append(LimitCheck(self.forms_rule, self.forms_limit, form.value, ok))
        ratio = request.case_ratio
        if role.max_ratio is not None and ratio is not None:
            ok = ratio <= role.max_ratio
            if keep_ok or not ok:
                checks.append(
                    LimitCheck(
                        self.ratio_rule, self.ratio_limit, f"{_fmt(ratio)} of {request.value}", ok
                    )
                )
        case, period, customer = self._bounds.get(currency) or self._bounds_in(currency)
        if self.per_case is not None:
            total = request._case
            _money_check(checks, self.per_case, case, total, currency, "case total", keep_ok)
        if with_period and self.per_period is not None:
            what = "agent's spend this period"
            total = request._period
            _money_check(checks, self.per_period, period, total, currency, what, keep_ok)
        if self.per_customer is not None:
            what = "customer's recent goodwill"
            total = request._customer
            _money_check(checks, self.per_customer, customer, total, currency, what, keep_ok)
        if role.max_forms is not None:
            forms = request._forms_after
            ok = len(forms) <= role.max_forms
            if keep_ok or not ok:
                checks.append(
                    LimitCheck(
                        self.max_forms_rule,
                        self.max_forms_limit,
                        f"{len(forms)} ({', '.join(sorted(f.value for f in forms))})",
                        ok,
                    )
                )
        return tuple(checks)

    def passes(self, request: GrantRequest, with_period: bool = False) -> bool:
        """Whether every limit holds (the period budget only ``with_period``): whether
        every check of :meth:`check` is ok, without writing the checks out."""
        role = self.role
        ratio = request.case_ratio
        currency = request.currency
        case, period, customer = self._bounds.get(currency) or self._bounds_in(currency)
        return (
            request.form in role.forms
            and (role.max_ratio is None or ratio is None or ratio <= role.max_ratio)
            and (case is None or request._case <= case)
            and (not with_period or period is None or request._period <= period)
            and (customer is None or request._customer <= customer)
            and (role.max_forms is None or len(request._forms_after) <= role.max_forms)
        )


def check_role(
    role: RolePolicy, request: GrantRequest, *, with_period: bool = True
) -> tuple[LimitCheck, ...]:
    """Check every limit of ``role`` against ``request``; each check says its verdict."""
    return RoleLimits(role).check(request, with_period=with_period)


_CENT = Decimal("0.01")


def _fmt(ratio: Decimal) -> str:
    return str(ratio.quantize(_CENT))


def limited_currencies(policy: Policy) -> frozenset[str]:
    """The currencies any role of ``policy`` has a money limit in: the ones it accepts.

    A role without money limits of its own is unbounded in these (the top of a ladder,
    say); in any other currency no role may grant at all, as no limit was thought about.
    An empty set means the policy limits money only by ratios: every currency is open.
    """
    found: set[str] = set()
    for role in policy.roles:
        for limits in (role.max_per_case, role.max_per_period, role.max_per_customer):
            found.update(limits)
    return frozenset(found)


class Verdict(NamedTuple):
    """What :meth:`Ladder.verdict` decides, before any of it is written out."""

    allowed: bool
    """The acting role may grant it now."""
    approver: str | None
    """The lowest role that may approve it, when the acting role may not."""
    accepted: bool
    """Some role's limits were set in the grant's currency."""
    failed: bool
    """A limit of the acting role fails."""
    over_line: bool
    """The grant is above the approval line."""
    needs_critical: bool
    """A critical failure, and the acting role does not handle critical cases."""
    signs_off: bool = False
    """The acting role tops the ladder and its limits hold: above the approval line it
    signs its own grant off."""


# A verdict made from the tuple of all its fields in order, as ``Verdict._make`` makes
# one (the generated ``__new__`` with its keywords costs more).
_new: Final = tuple.__new__


_ALLOWED: Final = Verdict(True, None, True, False, False, False)


def _ranked_above(
    ranked: tuple[tuple[RolePolicy, RoleLimits], ...], rank: int
) -> tuple[tuple[RolePolicy, RoleLimits], ...]:
    """The roles of ``ranked`` (lowest rank first) ranked above ``rank``, with their limits."""
    return tuple(pair for pair in ranked if pair[0].rank > rank)


class Ladder:
    """A policy's empowerment ladder, compiled: every role's limits, lowest rank first."""

    __slots__ = ("_above", "_by_rank", "_limits", "_ranked", "_verdicts", "currencies", "policy")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._limits = {id(role): RoleLimits(role) for role in policy.roles}
        self._by_rank: Sequence[RolePolicy] = sorted(policy.roles, key=lambda r: r.rank)
        # Each role with its limits, lowest rank first: the approvers a verdict looks at.
        self._ranked = tuple((role, self._limits[id(role)]) for role in self._by_rank)
        # Each role's limits and the roles ranked above it (the only ones that may
        # approve what it may not grant), lowest first, by the role's identity: worked
        # out on the role's first verdict (see verdict).
        self._above: dict[int, tuple[RoleLimits, tuple[tuple[RolePolicy, RoleLimits], ...]]]
        self._above = {}
        # The verdicts naming an approver, kept by their fields: they take few values
        # (a role's name and three flags), and looking one up costs less than making it.
        self._verdicts: dict[tuple[object, ...], Verdict] = {}
        self.currencies = limited_currencies(policy)
        """The currencies the policy gives money limits in (see :func:`limited_currencies`)."""

    def accepts(self, currency: str) -> bool:
        """Whether some role's limits were set for ``currency`` (or none are by currency)."""
        return not self.currencies or currency in self.currencies

    def _of(self, role: RolePolicy) -> RoleLimits:
        found = self._limits.get(id(role))
        if found is None or found.role is not role:  # a role from another policy
            return RoleLimits(role)
        return found

    def verdict(
        self,
        role: RolePolicy,
        request: GrantRequest,
        critical: bool = False,
        approval_line: Decimal | None = None,
    ) -> Verdict:
        """See :func:`authorize`: who may grant it, without the checks written out
        (:meth:`written` writes them). ``critical`` and ``approval_line`` may be given by
        position (cheaper per call)."""
        found = self._above.get(id(role))
        if found is None or found[0].role is not role:  # see _of
            limits = self._limits.get(id(role))
            if limits is not None and limits.role is role:  # a role of this policy: kept
                found = self._above[id(role)] = (limits, _ranked_above(self._ranked, role.rank))
            else:
                found = (RoleLimits(role), _ranked_above(self._ranked, role.rank))
        limits, above = found
        failed = not limits.passes(request, True)
        if failed and limits.mismatched:
            # A limit given in another currency than its key: checking every limit
            # raises what comparing it raises, as the checks written out would.
            limits.check(request)
        currencies = self.currencies
        if currencies and request.currency not in currencies:  # see accepts()
            # No role's limits were set in this currency: a missing limit approves
            # nothing. A person decides (the plan says so).
            return _new(Verdict, (False, None, False, failed, False, False, False))
        ratio = request.line_ratio
        over_line = approval_line is not None and ratio is not None and ratio > approval_line
        needs_critical = critical and not role.handles_critical
        if not failed and not over_line and not needs_critical:
            return _ALLOWED
        # The approver ranks above the acting role: the role itself could only approve
        # its own grant were its limits to hold, it not need a critical handler and the
        # grant not be above the line, and then it is allowed (above).
        for candidate, its_limits in above:
            if critical and not candidate.handles_critical:
                continue
            if its_limits.passes(request):
                fields = (False, candidate.name, True, failed, over_line, needs_critical, False)
                found_verdict = self._verdicts.get(fields)
                if found_verdict is None:
                    found_verdict = self._verdicts[fields] = _new(Verdict, fields)
                return found_verdict
        rank = role.rank
        top = self._by_rank[-1].rank if self._by_rank else rank
        if over_line and not failed and not needs_critical and rank >= top:
            # Nobody ranks above the acting role, and its own limits hold: the human
            # above the approval line is the one acting. It is theirs to sign off.
            return _new(Verdict, (False, role.name, True, False, True, False, True))
        return _new(Verdict, (False, None, True, failed, over_line, needs_critical, False))

    def written(
        self,
        role: RolePolicy,
        request: GrantRequest,
        verdict: Verdict,
        *,
        approval_line: Decimal | None = None,
        all_checks: bool = True,
    ) -> Authorization:
        """The authorization ``verdict`` stands for, its reason and checks written out;
        ``all_checks=False`` keeps only the failed checks (all a plan shows)."""
        checks = self._of(role).check(request, keep_ok=all_checks)
        if not verdict.accepted:
            return Authorization(
                False,
                role.name,
                None,
                f"the policy sets no limits in {request.currency}: no role may grant in it "
                "until a person decides",
                checks,
            )
        if verdict.allowed:
            return Authorization(True, role.name, None, "within the agent's own limits", checks)
        reasons = [f"{c.rule}: {c.value} is over {c.limit}" for c in checks if not c.ok]
        if verdict.over_line:
            reasons.append(
                f"compensation above {approval_line} of the value at stake needs a human approval"
            )
        if verdict.needs_critical:
            reasons.append("a critical failure needs a role that handles critical cases")
        approver = verdict.approver
        if approver is None:
            reasons.append("no role in the policy may grant this much")
        elif verdict.signs_off:
            reasons.append(f"{role.name} is the top of the ladder: they sign it off themselves")
        return Authorization(False, role.name, approver, "; ".join(reasons), checks)

    def authorize(
        self,
        role: RolePolicy,
        request: GrantRequest,
        *,
        critical: bool = False,
        approval_line: Decimal | None = None,
        all_checks: bool = True,
    ) -> Authorization:
        """See :func:`authorize`; ``all_checks=False`` keeps only the failed checks in
        the answer (all a plan shows)."""
        verdict = self.verdict(role, request, critical=critical, approval_line=approval_line)
        return self.written(
            role, request, verdict, approval_line=approval_line, all_checks=all_checks
        )


def authorize(
    policy: Policy,
    role: RolePolicy,
    request: GrantRequest,
    *,
    critical: bool = False,
    approval_line: Decimal | None = None,
) -> Authorization:
    """May ``role`` grant ``request``? If not, name the lowest role that may approve it.

    An approver is checked on the case and customer limits (its own period budget is
    its own business). Above ``approval_line`` (a share of the value at stake) a grant
    always needs a human approval from a rank above the acting role. A critical failure
    needs a role that handles critical cases.
    """
    return Ladder(policy).authorize(role, request, critical=critical, approval_line=approval_line)
