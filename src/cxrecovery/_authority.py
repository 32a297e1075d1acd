"""Empowerment limits: may this role grant this, and if not, who is the lowest that may?"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

from cxrecovery.model import CompensationForm
from cxrecovery.money import Money
from cxrecovery.plan import Authorization, LimitCheck
from cxrecovery.policy import Policy, RolePolicy

__all__ = ["GrantRequest", "authorize", "check_role"]


class GrantRequest:
    """What a grant would add, with what is already known of the case and the agent."""

    __slots__ = (
        "amount",
        "form",
        "forms_before",
        "granted_before",
        "period_spent",
        "recent_goodwill",
        "value",
    )

    def __init__(
        self,
        *,
        amount: Money,
        form: CompensationForm,
        value: Money | None,
        granted_before: Money,
        recent_goodwill: Money,
        period_spent: Money,
        forms_before: Iterable[CompensationForm] = (),
    ) -> None:
        self.amount = amount
        self.form = form
        self.value = value
        self.granted_before = granted_before
        self.recent_goodwill = recent_goodwill
        self.period_spent = period_spent
        self.forms_before = frozenset(forms_before)


def _money_limit(
    checks: list[LimitCheck], rule: str, limits: dict[str, Money] | object, total: Money, what: str
) -> None:
    if not limits:
        return
    assert isinstance(limits, dict)
    limit = limits.get(total.currency)
    if limit is None:
        checks.append(LimitCheck(rule, f"no limit in {total.currency}", f"{what} {total}", False))
    else:
        checks.append(LimitCheck(rule, f"at most {limit}", f"{what} {total}", total <= limit))


def check_role(
    role: RolePolicy, request: GrantRequest, *, with_period: bool = True
) -> tuple[LimitCheck, ...]:
    """Check every limit of ``role`` against ``request``; each check says its verdict."""
    base = f"roles[{role.name}]"
    checks: list[LimitCheck] = []
    allowed = ", ".join(sorted(f.value for f in role.forms)) or "none"
    checks.append(
        LimitCheck(
            f"{base}.forms", f"one of {allowed}", request.form.value, request.form in role.forms
        )
    )
    case_total = request.granted_before + request.amount
    if role.max_ratio is not None and request.value is not None and request.value:
        ratio = case_total.ratio_to(request.value)
        checks.append(
            LimitCheck(
                f"{base}.max_ratio",
                f"at most {role.max_ratio} of the value at stake",
                f"{_fmt(ratio)} of {request.value}",
                ratio <= role.max_ratio,
            )
        )
    _money_limit(checks, f"{base}.max_per_case", dict(role.max_per_case), case_total, "case total")
    if with_period:
        _money_limit(
            checks,
            f"{base}.max_per_period",
            dict(role.max_per_period),
            request.period_spent + request.amount,
            "agent's spend this period",
        )
    _money_limit(
        checks,
        f"{base}.max_per_customer",
        dict(role.max_per_customer),
        request.recent_goodwill + request.amount,
        "customer's recent goodwill",
    )
    if role.max_forms is not None:
        forms = request.forms_before | {request.form}
        checks.append(
            LimitCheck(
                f"{base}.max_forms",
                f"at most {role.max_forms} forms on one case",
                f"{len(forms)} ({', '.join(sorted(f.value for f in forms))})",
                len(forms) <= role.max_forms,
            )
        )
    return tuple(checks)


def _fmt(ratio: Decimal) -> str:
    return str(ratio.quantize(Decimal("0.01")))


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
    checks = check_role(role, request)
    failed = [c for c in checks if not c.ok]
    over_line = (
        approval_line is not None
        and request.value is not None
        and bool(request.value)
        and (request.granted_before + request.amount).ratio_to(request.value) > approval_line
    )
    needs_critical = critical and not role.handles_critical
    if not failed and not over_line and not needs_critical:
        return Authorization(True, role.name, None, "within the agent's own limits", checks)
    reasons = [f"{c.rule}: {c.value} is over {c.limit}" for c in failed]
    if over_line:
        reasons.append(
            f"compensation above {approval_line} of the value at stake needs a human approval"
        )
    if needs_critical:
        reasons.append("a critical failure needs a role that handles critical cases")
    candidates: Sequence[RolePolicy] = [
        r
        for r in policy.roles
        if r.rank > role.rank or (not failed and not needs_critical and r is role)
    ]
    for candidate in sorted(candidates, key=lambda r: r.rank):
        if critical and not candidate.handles_critical:
            continue
        if over_line and candidate.rank <= role.rank:
            continue
        if all(c.ok for c in check_role(candidate, request, with_period=False)):
            return Authorization(False, role.name, candidate.name, "; ".join(reasons), checks)
    return Authorization(
        False,
        role.name,
        None,
        "; ".join([*reasons, "no role in the policy may grant this much"]),
        checks,
    )
