"""A hand-written reader of case documents: the floor under ``load_case`` in a replay.

``read_case(doc)`` turns one decoded case document (the dict ``json.loads`` gives) into
plain records (classes with ``__slots__``) holding what ``floor.floor_decision`` and the
replay floor's tally read, with the checks a library reading untrusted input must make:

- every object is a dict with no field it does not know and every required field;
- strings, booleans and integers are of their type; ids are non-empty strings without
  white space around them, categories and segments lower-case names (a regular
  expression); enumerations are one of their values (looked up in a dict, kept as the
  library's enum members so that the floor's identity comparisons work);
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
  its metric's scale and a ``survey_answer`` touchpoint with its survey; a promise
  settled (kept or broken) exactly when it has ``settled_at``, never before made.

The path of a bad field is built only when one is found. Checked against ``load_case``
on mutated documents (each field of 60 synthetic documents replaced by junk of every
kind or removed): the two accept and refuse the same ones.

Left out (the library reads them; the floor's cases do not have them, or the decision
does not read them beyond their type): pauses, grants, events, attributes, remedy lead
and ready times, a customer's time zone (a document with any of them raises
``floor.OutOfScope``: the floor decision was not written for them); a customer's name,
a failure's description, a touchpoint's note are type-checked only. A bad document
raises ``BadDocument`` naming where; messages are short (no suggestions, no list of
every problem). Records are plain slotted objects, not the model's frozen classes.
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
_PENDING = cx.PromiseStatus.PENDING
_SURVEY_ANSWER = cx.TouchpointKind.SURVEY_ANSWER
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
_SURVEY_KEYS = frozenset(("metric", "score"))
_OUT_OF_SCOPE = (
    ("pauses", list),
    ("grants", list),
    ("events", list),
    ("attributes", dict),
    ("remedy_lead_time", str),
    ("remedy_ready_at", str),
)


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


def _ident(raw: object, where: str) -> str:
    """A host's id: a non-empty string without white space around it."""
    if type(raw) is not str or not raw or raw != raw.strip():
        raise _bad(where, f"{raw!r} is not an id")
    return raw


def _opt_ident(raw: object, where: str) -> str | None:
    return None if raw is None else _ident(raw, where)


_SLUG = re.compile(r"[a-z][a-z0-9_]*(?:[.-][a-z0-9_]+)*\Z").match


def _slug(raw: object, where: str) -> str:
    """A lower-case name (a category, a segment)."""
    if type(raw) is not str or _SLUG(raw) is None:
        raise _bad(where, f"{raw!r} is not a lower-case name")
    return raw


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
    currency = doc.get("currency")
    quantum = _QUANTUM.get(currency) if type(currency) is str else None
    if quantum is None:
        raise _bad(where, "currency missing or not an ISO 4217 code")
    if "amount" not in doc:
        raise _bad(where, "amount missing")
    try:
        amount = _decimal(doc["amount"], "amount")
    except BadDocument as error:
        raise _under(where, error) from None
    try:
        exact = amount.quantize(quantum)
    except InvalidOperation:
        raise _bad(where, "too large an amount") from None
    if exact != amount:
        raise _bad(where, f"more decimals than {currency} has")
    return Money(exact, currency)


_DURATION = re.compile(
    r"(-)?P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)(?:[.,](\d{1,6}))?S)?)?\Z"
)
_DURATIONS: dict[str, timedelta] = {}


def _duration(raw: object, where: str) -> timedelta | None:
    if raw is None:
        return None
    text = _str(raw, where)
    found = _DURATIONS.get(text)
    if found is not None:
        return found
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


# The record readers name a bad field by its key alone; the path to the record is put in
# front only when one is bad (``_under``), so reading a good document builds no path.


def _under(where: str, error: Exception) -> BadDocument:
    if isinstance(error, KeyError):
        return _bad(f"{where}.{error.args[0]}", "missing (required)")
    text = str(error)
    return BadDocument(f"{where}{text}" if text.startswith(":") else f"{where}.{text}")


def _touchpoint(raw: object) -> Any:
    doc = _object(raw, _TP_KEYS, "")
    get = doc.get
    tp = Touchpoint()
    tp.at = _time(doc["at"], "at")
    tp.channel = _enum(_CHANNEL, doc["channel"], "channel")
    tp.kind = _enum(_KIND, doc["kind"], "kind")
    tp.id = _opt_ident(get("id"), "id")
    direction = get("direction")
    tp.direction = _INBOUND if direction is None else _enum(_DIRECTION, direction, "direction")
    tp.agent = _opt_ident(get("agent"), "agent")
    tp.outcome = _opt_enum(_OUTCOME, get("outcome"), "outcome")
    tp.sentiment = _opt_enum(_SENTIMENT, get("sentiment"), "sentiment")
    tp.wait = _duration(get("wait"), "wait")
    tp.repeated_information = _bool(get("repeated_information", False), "repeated_information")
    tp.escalation_requested = _bool(get("escalation_requested", False), "escalation_requested")
    survey = get("survey")
    if survey is not None:
        _survey(survey)
    elif tp.kind is _SURVEY_ANSWER:
        raise _bad("survey", "a survey_answer touchpoint needs its answer")
    _opt_str(get("note"), "note")
    return tp


def _survey(raw: object) -> None:
    doc = _object(raw, _SURVEY_KEYS, "survey")
    low, high = _enum(_SCALES, doc["metric"], "survey.metric")
    score = doc["score"]
    if type(score) is not int or not low <= score <= high:
        raise _bad("survey.score", f"{score!r} is not a score from {low} to {high}")


def _promise(raw: object) -> Any:
    doc = _object(raw, _PROMISE_KEYS, "")
    get = doc.get
    p = Promise()
    p.id = _ident(doc["id"], "id")
    p.what = _str(doc["what"], "what")
    p.made_at = _time(doc["made_at"], "made_at")
    p.due = _time(doc["due"], "due")
    status = get("status")
    p.status = _PENDING if status is None else _enum(_PROMISE_STATUS, status, "status")
    p.settled_at = _opt_time(get("settled_at"), "settled_at")
    if (p.settled_at is None) != (p.status is _PENDING):
        raise _bad(
            "status", "a promise is settled (kept or broken) exactly when it has settled_at"
        )
    if p.settled_at is not None and p.settled_at < p.made_at:
        raise _bad("settled_at", "before made_at")
    _opt_ident(get("made_by"), "made_by")
    _opt_enum(_CHANNEL, get("channel"), "channel")
    if get("kind") is not None:
        _slug(get("kind"), "kind")
    _bool(get("implicit", False), "implicit")
    _opt_ident(get("settled_by"), "settled_by")
    return p


def _prior(raw: object) -> Any:
    doc = _object(raw, _PRIOR_KEYS, "")
    get = doc.get
    prior = Prior()
    _ident(doc["id"], "id")
    prior.opened_at = _time(doc["opened_at"], "opened_at")
    _slug(doc["category"], "category")
    _enum(_SEVERITY, doc["severity"], "severity")
    prior.closed_at = _opt_time(get("closed_at"), "closed_at")
    _bool(get("recovered", True), "recovered")
    _bool(get("double_deviation", False), "double_deviation")
    prior.compensation = _money(get("compensation"), "compensation")
    return prior


def _customer(raw: object) -> Any:
    doc = _object(raw, _CUSTOMER_KEYS, "")
    get = doc.get
    customer = Customer()
    customer.id = _ident(doc["id"], "id")
    customer.segment = _slug(get("segment", "standard"), "segment")
    customer.preferred_channel = _opt_enum(_CHANNEL, get("preferred_channel"), "preferred_channel")
    _opt_str(get("name"), "name")
    _money(get("lifetime_value"), "lifetime_value")
    if get("time_zone") is not None or get("attributes"):
        raise OutOfScope("customer")
    expectation = get("expectation")
    if expectation is None:
        customer.expectation = _NO_EXPECTATION
    else:
        exp = _object(expectation, _EXPECTATION_KEYS, "expectation")
        customer.expectation = Expectation()
        ratio = _decimal(exp.get("compensation_ratio", 0), "expectation.compensation_ratio")
        customer.expectation.compensation_ratio = ratio
        customer.expectation.set_at = _opt_time(exp.get("set_at"), "expectation.set_at")
        _opt_enum(_FORMS, exp.get("remedy"), "expectation.remedy")
        _str(exp.get("reason", ""), "expectation.reason")
    return customer


def _failure(raw: object) -> Any:
    doc = _object(raw, _FAILURE_KEYS, "")
    get = doc.get
    f = Failure()
    f.category = _slug(doc["category"], "category")
    f.severity = _enum(_SEVERITY, doc["severity"], "severity")
    f.fault = _enum(_FAULT, doc["fault"], "fault")
    f.value_at_stake = _money(get("value_at_stake"), "value_at_stake")
    f.service_usable = _bool(doc["service_usable"], "service_usable")
    f.occurred_at = _opt_time(get("occurred_at"), "occurred_at")
    f.wrongly_charged = _money(get("wrongly_charged"), "wrongly_charged")
    _str(get("description", ""), "description")
    return f


def _items(doc: dict[str, Any], key: str) -> list[Any]:
    raw = doc.get(key, ())
    if type(raw) is not list and raw != ():
        raise _bad(key, "expected a list")
    return raw  # type: ignore[return-value]


def read_case(raw: object) -> Any:
    """A case document (decoded JSON) as plain records; ``BadDocument`` if it is bad."""
    doc = _object(raw, _CASE_KEYS, "case")
    get = doc.get
    for key, kind in _OUT_OF_SCOPE:  # present: of its type, and empty (or none)
        if key not in doc:
            continue
        value = doc[key]
        if value is None and kind is str:  # a time or a duration: may be null
            continue
        if type(value) is not kind:
            raise _bad(key, f"expected a {kind.__name__}")
        if value:
            raise OutOfScope(key)
    fmt = get("format", 2)
    if type(fmt) is not int or fmt not in (1, 2):  # 1: format 2 without events, settled_by
        raise _bad("format", "an unknown document format")
    case = Case()
    try:
        case.id = _ident(doc["id"], "id")
        customer, failure = doc["customer"], doc["failure"]
        case.opened_at = opened = _time(doc["opened_at"], "opened_at")
    except KeyError as error:
        raise _bad(str(error.args[0]), "missing (required)") from None
    try:
        case.customer = _customer(customer)
    except (KeyError, BadDocument) as error:
        raise _under("customer", error) from None
    try:
        case.failure = _failure(failure)
    except (KeyError, BadDocument) as error:
        raise _under("failure", error) from None
    status = get("status")
    case.status = _OPEN if status is None else _enum(_CASE_STATUS, status, "status")
    case.owner = _opt_ident(get("owner"), "owner")
    case.channel = _opt_enum(_CHANNEL, get("channel"), "channel")
    case.resolved_at = _opt_time(get("resolved_at"), "resolved_at")
    case.closed_at = _opt_time(get("closed_at"), "closed_at")
    case.pauses = case.grants = case.events = ()
    case.remedy_lead_time = case.remedy_ready_at = None
    _check_status(case)
    case.touchpoints = _touchpoints(_items(doc, "touchpoints"), opened)
    case.promises = _promises(_items(doc, "promises"), opened)
    case.prior_cases = _priors(_items(doc, "prior_cases"), opened)
    return case


def _touchpoints(items: list[Any], opened: datetime) -> tuple[Any, ...]:
    touchpoints = []
    previous = opened
    ids: set[str] = set()
    for i, item in enumerate(items):
        try:
            tp = _touchpoint(item)
        except (KeyError, BadDocument) as error:
            raise _under(f"touchpoints[{i}]", error) from None
        if tp.at < previous:
            raise _bad(f"touchpoints[{i}].at", "before the opening or the touchpoint before")
        previous = tp.at
        if tp.id is not None:
            if tp.id in ids:
                raise _bad(f"touchpoints[{i}].id", f"{tp.id!r} is used twice")
            ids.add(tp.id)
        touchpoints.append(tp)
    return tuple(touchpoints)


def _promises(items: list[Any], opened: datetime) -> tuple[Any, ...]:
    promises = []
    ids: set[str] = set()
    for i, item in enumerate(items):
        try:
            p = _promise(item)
        except (KeyError, BadDocument) as error:
            raise _under(f"promises[{i}]", error) from None
        if p.made_at < opened:
            raise _bad(f"promises[{i}].made_at", "before the case opened")
        if p.id in ids:
            raise _bad(f"promises[{i}].id", f"{p.id!r} is used twice")
        ids.add(p.id)
        promises.append(p)
    return tuple(promises)


def _priors(items: list[Any], opened: datetime) -> tuple[Any, ...]:
    priors = []
    for i, item in enumerate(items):
        try:
            prior = _prior(item)
        except (KeyError, BadDocument) as error:
            raise _under(f"prior_cases[{i}]", error) from None
        if prior.opened_at > opened:
            raise _bad(f"prior_cases[{i}].opened_at", "after this case opened")
        priors.append(prior)
    return tuple(priors)


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
