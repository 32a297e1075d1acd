"""A hand-written reader of case documents: the floor under ``load_case`` in a replay.

``read_case(doc)`` turns one decoded case document (the dict ``json.loads`` gives) into
plain records (classes with ``__slots__``) holding what ``floor.floor_decision`` and the
replay floor's tally read, with the checks a library reading untrusted input must make:

- every object is a dict with no field it does not know and every required field;
- strings, booleans and integers are of their type; enumerations are one of their
  values (looked up in a dict, kept as the library's enum members so that the floor's
  identity comparisons work);
- times are ISO 8601 text read by ``datetime.fromisoformat`` and must be aware;
- money is ``{"amount": "<decimal text>", "currency": "<ISO 4217 code>"}``: the code one
  the library knows, the amount a finite Decimal with no more decimals than the
  currency's minor units, quantized to them (as ``Money`` keeps it);
- durations (a touchpoint's ``wait``) are ISO 8601 day-to-second durations (a regular
  expression, memoised per text as the library's parser is);
- the rules among fields the floor relies on: touchpoints in time order and not before
  the opening, promises not made before it, no id used twice among touchpoints or
  promises, no prior case opened after this one, a status that agrees with
  ``resolved_at``/``closed_at`` and neither before the opening, a survey score within
  its metric's scale.

Left out (the library reads them, the floor's cases do not have them or the decision
does not read them): pauses, grants, events, attributes, remedy lead times, a
customer's time zone, name and lifetime value beyond their types, a promise's
``made_by``/``channel``/``kind``, a touchpoint's ``note``. A document that has pauses,
grants, events, attributes, a remedy lead time or ready time, or a time zone raises
``floor.OutOfScope`` (the floor decision was not written for them); a bad document
raises ``BadDocument`` naming where. Error messages are short: no suggestions, no list
of every problem.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from floor import OutOfScope

import cxrecovery as cx
from cxrecovery.money import currencies, minor_units


class BadDocument(ValueError):
    """A document the reader refuses: where, and what is wrong."""


def _members(enum: Any) -> dict[str, Any]:
    return {m.value: m for m in enum}


_CHANNEL = _members(cx.Channel)
_KIND = _members(cx.TouchpointKind)
_DIRECTION = _members(cx.Direction)
_OUTCOME = _members(cx.Outcome)
_SENTIMENT = _members(cx.Sentiment)
_SEVERITY = _members(cx.Severity)
_FAULT = _members(cx.Fault)
_PROMISE_STATUS = _members(cx.PromiseStatus)
_CASE_STATUS = _members(cx.CaseStatus)
_FORMS = _members(cx.CompensationForm)
_SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
_OPEN, _RESOLVED, _CLOSED = cx.CaseStatus.OPEN, cx.CaseStatus.RESOLVED, cx.CaseStatus.CLOSED
_INBOUND = cx.Direction.INBOUND
_QUANTUM = {c: Decimal(1).scaleb(-minor_units(c)) for c in currencies()}
_ZERO = Decimal(0)


class Money:
    __slots__ = ("amount", "currency")

    def __init__(self, amount: Decimal, currency: str) -> None:
        self.amount = amount
        self.currency = currency

    def __bool__(self) -> bool:
        return bool(self.amount)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class Record:
    """A plain record: its fields set by the reader."""

    __slots__ = ()


def _record(name: str, fields: str) -> type:
    return type(name, (Record,), {"__slots__": tuple(fields.split())})


Expectation = _record("Expectation", "compensation_ratio set_at")
Customer = _record("Customer", "id segment preferred_channel expectation")
Failure = _record(
    "Failure",
    "category severity fault value_at_stake service_usable occurred_at wrongly_charged",
)
Touchpoint = _record(
    "Touchpoint",
    "at channel kind id direction agent outcome sentiment wait repeated_information "
    "escalation_requested",
)
Promise = _record("Promise", "id what made_at due status settled_at")
Prior = _record("Prior", "opened_at closed_at compensation")
Case = _record(
    "Case",
    "id customer failure opened_at status owner channel touchpoints promises prior_cases "
    "resolved_at closed_at pauses grants events remedy_lead_time remedy_ready_at",
)
_NO_EXPECTATION = Expectation()
_NO_EXPECTATION.compensation_ratio = _ZERO
_NO_EXPECTATION.set_at = None

_CASE_KEYS = frozenset(
    "format id customer failure opened_at status owner channel touchpoints promises pauses "
    "grants prior_cases events resolved_at closed_at attributes remedy_lead_time "
    "remedy_ready_at".split()
)
_CUSTOMER_KEYS = frozenset(
    "id name segment lifetime_value preferred_channel time_zone expectation attributes".split()
)
_FAILURE_KEYS = frozenset(
    "category severity fault value_at_stake service_usable description occurred_at "
    "wrongly_charged".split()
)
_TP_KEYS = frozenset(
    "at channel kind id direction agent outcome sentiment wait repeated_information "
    "escalation_requested survey note".split()
)
_PROMISE_KEYS = frozenset(
    "id what made_at due made_by channel kind implicit status settled_at settled_by".split()
)
_PRIOR_KEYS = frozenset(
    "id opened_at category severity closed_at recovered double_deviation compensation".split()
)
_EXPECTATION_KEYS = frozenset("compensation_ratio remedy set_at reason".split())
_MONEY_KEYS = frozenset(("amount", "currency"))
_OUT_OF_SCOPE = ("pauses", "grants", "events", "attributes", "remedy_lead_time", "remedy_ready_at")


def _bad(where: str, what: str) -> BadDocument:
    return BadDocument(f"{where}: {what}")


def _object(raw: object, keys: frozenset[str], where: str) -> dict[str, Any]:
    if type(raw) is not dict:
        raise _bad(where, "expected an object")
    if not raw.keys() <= keys:
        raise _bad(where, f"unknown field {sorted(raw.keys() - keys)[0]!r}")
    return raw


def _str(raw: object, where: str) -> str:
    if type(raw) is not str:
        raise _bad(where, "expected a string")
    return raw


def _opt_str(raw: object, where: str) -> str | None:
    return None if raw is None else _str(raw, where)


def _bool(raw: object, where: str) -> bool:
    if type(raw) is not bool:
        raise _bad(where, "expected true or false")
    return raw


def _enum(table: dict[str, Any], raw: object, where: str) -> Any:
    try:
        return table[raw]  # type: ignore[index]
    except (KeyError, TypeError):
        raise _bad(where, f"{raw!r} is not one of its values") from None


def _opt_enum(table: dict[str, Any], raw: object, where: str) -> Any:
    return None if raw is None else _enum(table, raw, where)


def _time(raw: object, where: str) -> datetime:
    if type(raw) is not str:
        raise _bad(where, "expected an ISO 8601 time")
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise _bad(where, f"{raw!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise _bad(where, "a time needs its offset")
    return when


def _opt_time(raw: object, where: str) -> datetime | None:
    return None if raw is None else _time(raw, where)


def _decimal(raw: object, where: str) -> Decimal:
    if type(raw) is str:
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise _bad(where, f"{raw!r} is not a decimal number") from None
        if not value.is_finite():
            raise _bad(where, f"{raw!r} is not a finite number")
        return value
    if type(raw) is int:
        return Decimal(raw)
    raise _bad(where, "expected a decimal string")


def _money(raw: object, where: str) -> Money | None:
    if raw is None:
        return None
    doc = _object(raw, _MONEY_KEYS, where)
    try:
        currency = doc["currency"]
        quantum = _QUANTUM[currency]
        amount = _decimal(doc["amount"], where + ".amount")
    except KeyError:
        missing = "currency" if "currency" not in doc else "amount"
        raise _bad(where, f"{missing} missing or unknown") from None
    if amount.as_tuple().exponent < quantum.as_tuple().exponent and amount != amount.quantize(
        quantum
    ):
        raise _bad(where, f"more decimals than {currency} has")
    return Money(amount.quantize(quantum), currency)


_DURATION = re.compile(
    r"(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d{1,6}))?S)?)?\Z"
)
_DURATIONS: dict[str, timedelta] = {}


def _duration(raw: object, where: str) -> timedelta | None:
    if raw is None:
        return None
    found = _DURATIONS.get(raw)  # type: ignore[arg-type]
    if found is not None:
        return found
    text = _str(raw, where)
    match = _DURATION.match(text) if len(text) <= 40 else None
    if match is None or text.endswith(("P", "T")):
        raise _bad(where, f"{text!r} is not an ISO 8601 duration")
    sign, weeks, days, hours, minutes, seconds, frac = match.groups()
    span = timedelta(
        weeks=int(weeks or 0),
        days=int(days or 0),
        hours=int(hours or 0),
        minutes=int(minutes or 0),
        seconds=int(seconds or 0),
        microseconds=int((frac or "").ljust(6, "0") or 0),
    )
    _DURATIONS[text] = span = -span if sign else span
    return span


def _required(doc: dict[str, Any], key: str, where: str) -> Any:
    try:
        return doc[key]
    except KeyError:
        raise _bad(f"{where}.{key}", "missing (required)") from None


def _touchpoint(raw: object, where: str) -> Any:
    doc = _object(raw, _TP_KEYS, where)
    get = doc.get
    tp = Touchpoint()
    tp.at = _time(_required(doc, "at", where), where + ".at")
    tp.channel = _enum(_CHANNEL, _required(doc, "channel", where), where + ".channel")
    tp.kind = _enum(_KIND, _required(doc, "kind", where), where + ".kind")
    tp.id = _opt_str(get("id"), where + ".id")
    direction = get("direction")
    tp.direction = _INBOUND if direction is None else _enum(_DIRECTION, direction, where)
    tp.agent = _opt_str(get("agent"), where + ".agent")
    tp.outcome = _opt_enum(_OUTCOME, get("outcome"), where + ".outcome")
    tp.sentiment = _opt_enum(_SENTIMENT, get("sentiment"), where + ".sentiment")
    tp.wait = _duration(get("wait"), where + ".wait")
    tp.repeated_information = _bool(get("repeated_information", False), where)
    tp.escalation_requested = _bool(get("escalation_requested", False), where)
    survey = get("survey")
    if survey is not None:
        _survey(survey, where + ".survey")
    _opt_str(get("note"), where + ".note")
    return tp


def _survey(raw: object, where: str) -> None:
    doc = _object(raw, frozenset(("metric", "score")), where)
    low, high = _enum(_SCALES, _required(doc, "metric", where), where + ".metric")
    score = _required(doc, "score", where)
    if type(score) is not int or not low <= score <= high:
        raise _bad(where + ".score", f"{score!r} is not a score from {low} to {high}")


def _promise(raw: object, where: str) -> Any:
    doc = _object(raw, _PROMISE_KEYS, where)
    get = doc.get
    p = Promise()
    p.id = _str(_required(doc, "id", where), where + ".id")
    p.what = _str(_required(doc, "what", where), where + ".what")
    p.made_at = _time(_required(doc, "made_at", where), where + ".made_at")
    p.due = _time(_required(doc, "due", where), where + ".due")
    status = get("status")
    p.status = (
        cx.PromiseStatus.PENDING if status is None else _enum(_PROMISE_STATUS, status, where)
    )
    p.settled_at = _opt_time(get("settled_at"), where + ".settled_at")
    if (p.settled_at is None) != (p.status is cx.PromiseStatus.PENDING):
        raise _bad(where, "a promise is settled (kept or broken) exactly when it has settled_at")
    if p.settled_at is not None and p.settled_at < p.made_at:
        raise _bad(where + ".settled_at", "before made_at")
    _opt_str(get("made_by"), where)
    _opt_enum(_CHANNEL, get("channel"), where + ".channel")
    _opt_str(get("kind"), where)
    _bool(get("implicit", False), where)
    _opt_str(get("settled_by"), where)
    return p


def _prior(raw: object, where: str) -> Any:
    doc = _object(raw, _PRIOR_KEYS, where)
    get = doc.get
    prior = Prior()
    _str(_required(doc, "id", where), where + ".id")
    prior.opened_at = _time(_required(doc, "opened_at", where), where + ".opened_at")
    _str(_required(doc, "category", where), where + ".category")
    _enum(_SEVERITY, _required(doc, "severity", where), where + ".severity")
    prior.closed_at = _opt_time(get("closed_at"), where + ".closed_at")
    _bool(get("recovered", True), where)
    _bool(get("double_deviation", False), where)
    prior.compensation = _money(get("compensation"), where + ".compensation")
    return prior


def _customer(raw: object) -> Any:
    doc = _object(raw, _CUSTOMER_KEYS, "customer")
    get = doc.get
    customer = Customer()
    customer.id = _str(_required(doc, "id", "customer"), "customer.id")
    customer.segment = _str(get("segment", "standard"), "customer.segment")
    customer.preferred_channel = _opt_enum(
        _CHANNEL, get("preferred_channel"), "customer.preferred_channel"
    )
    _opt_str(get("name"), "customer.name")
    _money(get("lifetime_value"), "customer.lifetime_value")
    if get("time_zone") is not None or get("attributes"):
        raise OutOfScope("customer")
    expectation = get("expectation")
    if expectation is None:
        customer.expectation = _NO_EXPECTATION
    else:
        exp = _object(expectation, _EXPECTATION_KEYS, "customer.expectation")
        customer.expectation = Expectation()
        ratio = _decimal(exp.get("compensation_ratio", 0), "customer.expectation")
        customer.expectation.compensation_ratio = ratio
        customer.expectation.set_at = _opt_time(exp.get("set_at"), "customer.expectation")
        _opt_enum(_FORMS, exp.get("remedy"), "customer.expectation.remedy")
        _str(exp.get("reason", ""), "customer.expectation.reason")
    return customer


def _failure(raw: object) -> Any:
    doc = _object(raw, _FAILURE_KEYS, "failure")
    get = doc.get
    f = Failure()
    f.category = _str(_required(doc, "category", "failure"), "failure.category")
    f.severity = _enum(_SEVERITY, _required(doc, "severity", "failure"), "failure.severity")
    f.fault = _enum(_FAULT, _required(doc, "fault", "failure"), "failure.fault")
    f.value_at_stake = _money(get("value_at_stake"), "failure.value_at_stake")
    f.service_usable = _bool(_required(doc, "service_usable", "failure"), "failure")
    f.occurred_at = _opt_time(get("occurred_at"), "failure.occurred_at")
    f.wrongly_charged = _money(get("wrongly_charged"), "failure.wrongly_charged")
    _str(get("description", ""), "failure.description")
    return f


def _items(doc: dict[str, Any], key: str) -> list[Any]:
    raw = doc.get(key, ())
    if type(raw) is not list and raw != ():
        raise _bad(key, "expected a list")
    return raw  # type: ignore[return-value]


def read_case(raw: object) -> Any:
    """A case document (decoded JSON) as plain records; ``BadDocument`` if it is bad."""
    doc = _object(raw, _CASE_KEYS, "case")
    for key in _OUT_OF_SCOPE:
        if doc.get(key):
            raise OutOfScope(key)
    get = doc.get
    if get("format", 2) not in (1, 2):  # 1: format 2 without events and settled_by
        raise _bad("format", "an unknown document format")
    case = Case()
    case.id = _str(_required(doc, "id", "case"), "id")
    case.customer = _customer(_required(doc, "customer", "case"))
    case.failure = _failure(_required(doc, "failure", "case"))
    case.opened_at = opened = _time(_required(doc, "opened_at", "case"), "opened_at")
    status = get("status")
    case.status = _OPEN if status is None else _enum(_CASE_STATUS, status, "status")
    case.owner = _opt_str(get("owner"), "owner")
    case.channel = _opt_enum(_CHANNEL, get("channel"), "channel")
    case.resolved_at = _opt_time(get("resolved_at"), "resolved_at")
    case.closed_at = _opt_time(get("closed_at"), "closed_at")
    case.pauses = case.grants = case.events = ()
    case.remedy_lead_time = case.remedy_ready_at = None
    _check_status(case)
    touchpoints = []
    previous = opened
    ids: set[str] = set()
    for i, item in enumerate(_items(doc, "touchpoints")):
        tp = _touchpoint(item, f"touchpoints[{i}]")
        if tp.at < previous:
            raise _bad(f"touchpoints[{i}].at", "before the opening or the touchpoint before")
        previous = tp.at
        if tp.id is not None:
            if tp.id in ids:
                raise _bad(f"touchpoints[{i}].id", f"{tp.id!r} is used twice")
            ids.add(tp.id)
        touchpoints.append(tp)
    case.touchpoints = tuple(touchpoints)
    promises = []
    ids = set()
    for i, item in enumerate(_items(doc, "promises")):
        p = _promise(item, f"promises[{i}]")
        if p.made_at < opened:
            raise _bad(f"promises[{i}].made_at", "before the case opened")
        if p.id in ids:
            raise _bad(f"promises[{i}].id", f"{p.id!r} is used twice")
        ids.add(p.id)
        promises.append(p)
    case.promises = tuple(promises)
    priors = []
    for i, item in enumerate(_items(doc, "prior_cases")):
        prior = _prior(item, f"prior_cases[{i}]")
        if prior.opened_at > opened:
            raise _bad(f"prior_cases[{i}].opened_at", "after this case opened")
        priors.append(prior)
    case.prior_cases = tuple(priors)
    return case


def _check_status(case: Any) -> None:
    opened, resolved, closed = case.opened_at, case.resolved_at, case.closed_at
    if (resolved is not None and resolved < opened) or (closed is not None and closed < opened):
        raise _bad("status", "resolved or closed before the case opened")
    status = case.status
    if status is _OPEN and (resolved or closed):
        raise _bad("status", "an open case has no resolved_at or closed_at")
    if status is _RESOLVED and (resolved is None or closed is not None):
        raise _bad("status", "a resolved case has resolved_at and no closed_at")
    if status is _CLOSED and closed is None:
        raise _bad("closed_at", "a closed case needs closed_at")


def last_event_at(case: Any) -> datetime:
    """The case's latest recorded instant (``Case.last_event_at`` for the cases read)."""
    times = [case.opened_at]
    times += [tp.at for tp in case.touchpoints]
    for p in case.promises:
        times.append(p.made_at)
        if p.settled_at is not None:
            times.append(p.settled_at)
    if case.resolved_at is not None:
        times.append(case.resolved_at)
    if case.closed_at is not None:
        times.append(case.closed_at)
    return max(times)
