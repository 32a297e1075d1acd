"""The strategies for single domain values (currencies, times, money, customers,
failures, touchpoints, promises) and the small draws the case strategy builds on.
:mod:`cxrecovery.testing.strategies` offers them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import strategies as st

from cxrecovery.model import (
    Channel,
    CompensationForm,
    Customer,
    Direction,
    ExpectationBaseline,
    Failure,
    Fault,
    Outcome,
    Promise,
    PromiseStatus,
    Sentiment,
    Severity,
    SurveyAnswer,
    SurveyMetric,
    Touchpoint,
    TouchpointKind,
)
from cxrecovery.money import Money

__all__ = [
    "aware_datetimes",
    "currencies",
    "customers",
    "failures",
    "money",
    "promises",
    "touchpoints",
]

_CURRENCIES = ("EUR", "USD", "GBP", "JPY", "KWD", "CHF", "AUD")
_START = datetime(2024, 1, 1, tzinfo=UTC)
_END = datetime(2030, 1, 1, tzinfo=UTC)

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_ids = st.text(alphabet=_LOWER + "0123456789-_", min_size=1, max_size=12)
# [a-z][a-z0-9_]{0,11}, built rather than matched: a regex strategy costs far more a draw.
_slugs = st.builds(
    str.__add__, st.sampled_from(_LOWER), st.text(alphabet=_LOWER + "0123456789_", max_size=11)
)
_text = st.text(max_size=40)
# Strategies a draw uses are made once, here: a strategy made inside a draw is made and
# validated again at every draw, which made generating a case ten times slower.
_maybe_ids = st.none() | _ids
_maybe_slugs = st.none() | _slugs
_maybe_text = st.none() | _text
_channels = st.sampled_from(Channel)
_maybe_channels = st.none() | _channels
_severities = st.sampled_from(Severity)
_forms = st.sampled_from(CompensationForm)
_seconds_in_a_day = st.integers(0, 86400)
_WINDOW = timedelta(days=60)  # a generated case's events fall within this of its opening
# Fixed offsets only: a document always carries an offset, and a fixed-offset time
# compares by instant with any other zone (a time in a DST fold would not, PEP 495).
_offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5, minutes=45))]
    + [timezone(timedelta(hours=h)) for h in (-8, 1, 2, 9, 13)]
)


def currencies() -> st.SearchStrategy[str]:
    """Draw an ISO 4217 code, mixing 0-, 2- and 3-decimal currencies."""
    return st.sampled_from(_CURRENCIES)


def aware_datetimes(
    *, min_value: datetime = _START, max_value: datetime = _END
) -> st.SearchStrategy[datetime]:
    """Draw timezone-aware datetimes (whole seconds, fixed offsets) in a range."""
    lo = min_value.astimezone(UTC).replace(microsecond=0)
    hi = max_value.astimezone(UTC).replace(microsecond=0)
    span = int((hi - lo).total_seconds())
    return st.builds(
        lambda seconds, tz: (lo + timedelta(seconds=seconds)).astimezone(tz),
        st.integers(0, max(span, 0)),
        _offsets,
    )


@st.composite
def money(
    draw: st.DrawFn,
    *,
    currency: str | None = None,
    min_value: int = 0,
    max_value: int = 10_000_000,
) -> Money:
    """Draw money; bounds are in minor units (cents)."""
    code = currency if currency is not None else draw(_currencies)
    return Money.from_minor(draw(st.integers(min_value, max_value)), code)


_currencies = currencies()
_maybe_money = st.none() | money()
_some_money = money(min_value=1)


def customers() -> st.SearchStrategy[Customer]:
    """Draw customers."""
    return st.builds(
        Customer,
        id=_ids,
        name=st.none() | _text,
        segment=st.sampled_from(["standard", "gold", "member", "business"]),
        lifetime_value=_maybe_money,
        preferred_channel=_maybe_channels,
        time_zone=st.none() | st.sampled_from(["Europe/London", "America/New_York", "UTC"]),
        expectation=st.builds(
            ExpectationBaseline,
            compensation_ratio=st.decimals(0, 2, places=2),
            remedy=st.none() | st.sampled_from(CompensationForm),
            reason=_text,
        ),
        attributes=st.dictionaries(
            _slugs, st.none() | st.booleans() | st.integers(-1000, 1000) | _text, max_size=3
        ),
    )


def failures() -> st.SearchStrategy[Failure]:
    """Draw failures."""
    return st.builds(
        Failure,
        category=_slugs,
        severity=_severities,
        fault=st.sampled_from(Fault),
        value_at_stake=_maybe_money,
        service_usable=st.booleans(),
        description=_text,
        occurred_at=st.none() | aware_datetimes(),
    )


_surveys = st.one_of(
    *[
        st.builds(SurveyAnswer, metric=st.just(m), score=st.sampled_from(m.scale))
        for m in SurveyMetric
    ]
)


@st.composite
def _kind_and_survey(draw: st.DrawFn) -> tuple[TouchpointKind, SurveyAnswer | None]:
    kind = draw(st.sampled_from(TouchpointKind))
    return kind, draw(_surveys) if kind is TouchpointKind.SURVEY_ANSWER else None


def _touchpoint(
    at: datetime,
    channel: Channel,
    kind_survey: tuple[TouchpointKind, SurveyAnswer | None],
    direction: Direction,
    agent: str | None,
    outcome: Outcome | None,
    sentiment: Sentiment | None,
    wait: timedelta | None,
    repeated_information: bool,
    escalation_requested: bool,
    note: str | None,
) -> Touchpoint:
    kind, survey = kind_survey
    return Touchpoint(
        at,
        channel,
        kind,
        direction=direction,
        agent=agent,
        outcome=outcome,
        sentiment=sentiment,
        wait=wait,
        repeated_information=repeated_information,
        escalation_requested=escalation_requested,
        survey=survey,
        note=note,
    )


# Everything about a touchpoint but its time, in _touchpoint's order after ``at``.
_touchpoint_rest = (
    _channels,
    _kind_and_survey(),
    st.sampled_from(Direction),
    _maybe_ids,
    st.none() | st.sampled_from(Outcome),
    st.none() | st.sampled_from(Sentiment),
    st.none() | st.integers(0, 7200).map(lambda s: timedelta(seconds=s)),
    st.booleans(),
    st.booleans(),
    _maybe_text,
)


def touchpoints(
    *, min_value: datetime = _START, max_value: datetime = _END
) -> st.SearchStrategy[Touchpoint]:
    """Draw a touchpoint at a time between the bounds."""
    return st.builds(
        _touchpoint, aware_datetimes(min_value=min_value, max_value=max_value), *_touchpoint_rest
    )


def _promise(
    made: datetime,
    due_after: int,
    status: PromiseStatus,
    settled_after: int,
    id: str,
    what: str,
    made_by: str | None,
    channel: Channel | None,
    kind: str | None,
    implicit: bool,
) -> Promise:
    return Promise(
        id,
        what,
        made,
        made + timedelta(seconds=due_after),
        made_by=made_by,
        channel=channel,
        kind=kind,
        implicit=implicit,
        status=status,
        settled_at=None
        if status is PromiseStatus.PENDING
        else made + timedelta(seconds=settled_after),
    )


# Everything about a promise but when it was made, in _promise's order after ``made``.
_promise_rest = (
    st.integers(0, 30 * 86400),
    st.sampled_from(PromiseStatus),
    st.integers(0, 40 * 86400),
    _ids,
    _text,
    _maybe_ids,
    _maybe_channels,
    _maybe_slugs,
    st.booleans(),
)


def promises(
    *, min_value: datetime = _START, max_value: datetime = _END
) -> st.SearchStrategy[Promise]:
    """Draw a promise made between the bounds, possibly settled."""
    return st.builds(
        _promise, aware_datetimes(min_value=min_value, max_value=max_value), *_promise_rest
    )
