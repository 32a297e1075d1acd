"""The desk's helpers: argument checks, the case as the ledger knows it, refusals."""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

import attrs

from cxrecovery._validation import aware_arg
from cxrecovery.errors import InvalidValueError, Problem
from cxrecovery.ledger._errors import LedgerError, LimitExceededError, RequestConflictError
from cxrecovery.ledger._protocol import GrantReads, LedgerSession, LedgerView
from cxrecovery.ledger._records import CaseRecord, EventKind, GrantRecord
from cxrecovery.limits import check_instant
from cxrecovery.model import Attributes, Case, CompensationForm, Grant, PriorCase, Promise
from cxrecovery.model.arguments import case_arg
from cxrecovery.money import Money
from cxrecovery.plan import Authorization
from cxrecovery.policy import RolePolicy

__all__ = [
    "after_arg",
    "aware",
    "check_clock",
    "clock_arg",
    "ensure_case",
    "form_of",
    "goodwill",
    "identifier",
    "kinds_arg",
    "merged",
    "money_for",
    "page_limit",
    "prefetch_grant",
    "reason_arg",
    "refusal",
    "select_grants",
    "seq_arg",
    "the_case",
    "window",
]


def aware(value: object, name: str) -> datetime:
    """``value`` if it is an aware datetime within the years cxrecovery handles;
    otherwise :class:`InvalidValueError` at ``name``."""
    when = aware_arg(value, name)
    check_instant(when, name)
    return when


def identifier(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise InvalidValueError.at(path, f"{value!r} is not an id (a non-empty string)")
    return value


the_case = case_arg


def reason_arg(reason: object) -> str:
    """Why a correction is made: required, non-blank text."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidValueError.at("reason", f"{reason!r} is not a reason (non-blank text)")
    return reason


def wall_clock() -> datetime:
    """The host's wall clock in UTC: the embedded stores' clock unless one is given."""
    return datetime.now(UTC)


def clock_arg(clock: object) -> Callable[[], datetime]:
    if clock is None:
        return wall_clock
    if not callable(clock):
        raise InvalidValueError.at("clock", f"{clock!r} is not callable")
    return clock


def page_limit(limit: object) -> int | None:
    """A page size: ``None`` (everything) or a positive whole number."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidValueError.at("limit", f"{limit!r} is not a positive whole number")
    return limit


def seq_arg(after_seq: object) -> int:
    """A page's start in the event history: a whole number, 0 for the beginning."""
    if isinstance(after_seq, bool) or not isinstance(after_seq, int) or after_seq < 0:
        raise InvalidValueError.at("after_seq", f"{after_seq!r} is not a whole number >= 0")
    return after_seq


def kinds_arg(kinds: object) -> frozenset[EventKind] | None:
    """The event kinds asked for (``None``: all of them)."""
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = (kinds,)
    try:
        return frozenset(EventKind(k) for k in kinds)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        names = ", ".join(k.value for k in EventKind)
        raise InvalidValueError.at("kinds", f"{kinds!r} is not a set of ({names})") from None


def after_arg(after: object) -> GrantRecord | None:
    if after is not None and not isinstance(after, GrantRecord):
        raise InvalidValueError.at("after", f"{after!r:.60} is not a GrantRecord (a page's last)")
    return after


def select_grants(
    grants: Iterable[GrantRecord],
    *,
    case_id: str | None,
    customer_id: str | None,
    agent_id: str | None,
    since: datetime | None,
    until: datetime | None,
    voided: bool | None,
    after: GrantRecord | None,
    limit: int | None,
) -> tuple[GrantRecord, ...]:
    """The grants filtering and paging of :meth:`LedgerView.grants`, in plain Python."""
    limit = page_limit(limit)
    after = after_arg(after)
    key = None if after is None else (after.at, after.request_id)
    found = sorted(
        (
            g
            for g in grants
            if (case_id is None or g.case_id == case_id)
            and (customer_id is None or g.customer_id == customer_id)
            and (agent_id is None or g.agent_id == agent_id)
            and (since is None or g.at >= since)
            and (until is None or g.at < until)
            and (voided is None or g.is_voided is voided)
            and (key is None or (g.at, g.request_id) > key)
        ),
        key=lambda g: (g.at, g.request_id),
    )
    return tuple(found if limit is None else found[:limit])


def check_clock(session: LedgerSession, at: datetime, tolerance: timedelta) -> None:
    """Refuse a time further than ``tolerance`` from the store's clock, either way.

    A grant dated ahead would spend a budget window that has not begun; one dated far
    back would land in a window already closed. Either moves money past a limit.
    """
    now = aware_arg(session.now(), "ledger.now()", LedgerError)
    if abs(at - now) > tolerance:
        side = "ahead of" if at > now else "behind"
        raise LedgerError.at(
            "at",
            f"{at.isoformat()} is {abs(at - now)} {side} the ledger's clock"
            f" ({now.astimezone(UTC).isoformat()}); the desk accepts times within {tolerance}",
        )


def money_for(amount: object, case: Case) -> Money:
    if not isinstance(amount, Money):
        raise InvalidValueError.at("amount", f"{amount!r} is not Money")
    value = case.failure.value_at_stake
    if value is not None and value.currency != amount.currency:
        raise InvalidValueError.at(
            "amount", f"{amount} is not in {value.currency}, the currency of the case's budget"
        )
    return amount


def form_of(form: object) -> CompensationForm:
    try:
        return CompensationForm(form if isinstance(form, str) else repr(form))
    except ValueError:
        raise InvalidValueError.at("form", f"{form!r} is not a compensation form") from None


def merged(
    view: LedgerView, case: Case, *, full: bool, counted_at: datetime | None = None
) -> Case:
    """The case with what the ledger holds on it that its document does not.

    With ``counted_at`` (a grant's time) every grant dated after it is moved to it, so
    the engine, which counts what happened by a decision's time, counts every grant on
    the case: a limit checked for a backdated grant must see the later ones too.
    """
    recorded = view.grants(case_id=case.id)
    # A voided grant counts nowhere, also when the case document still carries it.
    voided = {g.request_id for g in recorded if g.is_voided}
    grant_ids = {g.id for g in case.grants}
    extra = tuple(
        Grant(
            g.request_id,
            g.form,
            g.at,
            amount=g.amount,
            granted_by=g.agent_id,
            role=g.role,
            note=g.note,
        )
        for g in recorded
        if g.request_id not in grant_ids and not g.is_voided
    )
    grants = tuple(g for g in case.grants if g.id not in voided) + extra
    if counted_at is not None and any(g.at > counted_at for g in grants):
        grants = tuple(g if g.at <= counted_at else attrs.evolve(g, at=counted_at) for g in grants)
    changes: dict[str, object] = {"grants": grants} if grants != case.grants else {}
    if full:
        promises = list(case.promises)
        for record in view.promises(case_id=case.id):
            known = case.promise(record.promise_id)
            if known is None:
                promises.append(
                    Promise(
                        record.promise_id,
                        record.what,
                        record.made_at,
                        record.due,
                        made_by=record.made_by,
                        status=record.status,
                        settled_at=record.settled_at,
                    )
                )
            elif known.is_pending and not record.is_open:
                settled = attrs.evolve(known, status=record.status, settled_at=record.settled_at)
                promises[promises.index(known)] = settled
        if promises != list(case.promises):
            changes["promises"] = tuple(promises)
        prior_ids = {p.id for p in case.prior_cases}
        prior = tuple(
            PriorCase(
                c.case_id,
                c.opened_at,
                c.category,
                c.severity,
                double_deviation=any(
                    p.is_broken(case.opened_at) for p in view.promises(case_id=c.case_id)
                ),
            )
            for c in view.cases(case.customer.id)
            if c.case_id != case.id and c.case_id not in prior_ids and c.opened_at < case.opened_at
        )
        if prior:
            changes["prior_cases"] = case.prior_cases + prior
    return attrs.evolve(case, **changes) if changes else case  # type: ignore[arg-type]


def goodwill(
    view: LedgerView, case: Case, currency: str, at: datetime, window: timedelta
) -> Money:
    after, before = _window(at, window)
    ledger = view.goodwill(case.customer.id, currency, after=after, before=before)
    # Grants on the case document that never went through the ledger count too.
    recorded = {g.request_id for g in view.grants(case_id=case.id)}
    outside = (
        g.amount
        for g in case.grants
        if g.id not in recorded
        and g.amount is not None
        and g.amount.currency == currency
        and after < g.at <= before
    )
    return ledger + Money.sum(outside, currency)


def window(at: datetime, length: timedelta) -> tuple[datetime, datetime]:
    """The budget window a grant at ``at`` counts in: ``(at - length, at + length]``.

    A grant recorded later than ``at`` counts too, so that no window of that length
    holds more than the limit.
    """
    return at - length, at + length


_window = window


def prefetch_grant(session: LedgerSession, record: GrantRecord, role: RolePolicy) -> None:
    """Announce a grant's reads to a session that can fetch them at once (see
    :class:`GrantReads`); the reads that follow ask for exactly these."""
    prefetch = getattr(session, "prefetch_grant", None)
    if prefetch is not None:
        prefetch(
            GrantReads(
                record.request_id,
                record.case_id,
                record.customer_id,
                record.agent_id,
                record.amount.currency,
                window(record.at, role.period),
                window(record.at, role.customer_window),
                record.approval_id,
            )
        )


def ensure_case(session: LedgerSession, case: Case) -> None:
    known = session.case(case.id)
    if known is None:
        session.add_case(
            CaseRecord(
                case.id,
                case.customer.id,
                case.opened_at,
                case.failure.category,
                case.failure.severity,
            )
        )
        session.add_event(
            EventKind.CASE_OPENED,
            case.id,
            at=case.opened_at,
            ref=case.id,
            body=Attributes(
                {
                    "customer_id": case.customer.id,
                    "category": case.failure.category,
                    "severity": case.failure.severity.value,
                }
            ),
        )
    elif known.customer_id != case.customer.id:
        raise RequestConflictError.at(
            "case.customer.id",
            f"case {case.id!r} is recorded for customer {known.customer_id!r},"
            f" not {case.customer.id!r}",
        )


# --- decide --------------------------------------------------------------------------


def _room(limit: Money | None, used: Money) -> Money | None:
    if limit is None or limit.currency != used.currency:
        return None
    return max(limit - used, Money.zero(used.currency))


def refusal(
    auth: Authorization,
    role: RolePolicy,
    case: Case,
    amount: Money,
    spent: Money,
    goodwill: Money,
) -> LimitExceededError:
    """The error for a refused grant: each failed limit, with the room that was left."""
    currency = amount.currency
    granted = Money.sum(
        (g.amount for g in case.grants if g.amount is not None and g.amount.currency == currency),
        currency,
    )
    value = case.failure.value_at_stake
    ratio_limit = None
    if role.max_ratio is not None and value is not None:
        ratio_limit = value.times(role.max_ratio, rounding=decimal.ROUND_FLOOR)
    rooms = {
        "max_per_period": _room(role.max_per_period.get(currency), spent),
        "max_per_customer": _room(role.max_per_customer.get(currency), goodwill),
        "max_per_case": _room(role.max_per_case.get(currency), granted),
        "max_ratio": _room(ratio_limit, granted),
    }
    problems: list[Problem] = []
    room: dict[str, Money] = {}
    for check in auth.checks:
        if check.ok:
            continue
        left = rooms.get(check.rule.rpartition(".")[2])
        text = f"{check.value} is over {check.limit}"
        if left is not None:
            room[check.rule] = left
            text += f"; {left} was left"
        problems.append(Problem(check.rule, text))
    # Limits aside, a grant may need an approval for a reason of its own (above the
    # approval line, a critical failure): then the reason is the engine's.
    why = "" if problems else f"{auth.reason}; "
    if auth.approver is not None:
        problems.append(Problem("approval", f"{why}ask a {auth.approver} to approve {amount}"))
    else:
        problems.append(Problem("approval", f"{why}no role in the policy may grant {amount}"))
    return LimitExceededError(problems, authorization=auth, room=room)
