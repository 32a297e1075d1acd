"""The small values of a case: survey answers, free-form attributes, the customer and
their expectation, roles and agents."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any, ClassVar, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from cxrecovery import _validation as v
from cxrecovery.errors import InvalidValueError, UnknownTimeZoneError
from cxrecovery.limits import check_integer
from cxrecovery.model._kinds import Channel, CompensationForm, SurveyMetric
from cxrecovery.money import Money

__all__ = ["Agent", "Attributes", "Customer", "ExpectationBaseline", "Role", "SurveyAnswer"]


def _score(instance: SurveyAnswer, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValueError.at(attribute.name, f"{value!r} is not a whole number")
    if isinstance(instance.metric, SurveyMetric) and value not in instance.metric.scale:
        check_integer(value, attribute.name)  # one too long to write out is named so
        scale = instance.metric.scale
        raise InvalidValueError.at(
            attribute.name,
            f"{value} is outside the {instance.metric.value} scale {scale.start}–{scale.stop - 1}",
        )


@attrs.frozen
class SurveyAnswer:
    """A customer's answer to one survey question.

    .. versionadded:: 0.1.0
    """

    metric: SurveyMetric = attrs.field(**v.enum_field(SurveyMetric))
    score: int = attrs.field(validator=_score)


_Scalar = str | int | bool | None
_first = itemgetter(0)
_SCALARS = (str, int, bool, type(None))


@attrs.frozen(init=False, repr=False)
class Attributes(Mapping[str, _Scalar]):
    """Free-form attributes a host attaches (``{"store": "Leeds", "vip": true}``).

    Immutable and hashable. Keys are strings; values are strings, whole numbers,
    booleans or null (no floats: use a string for a decimal value).

    .. versionadded:: 0.1.0
    """

    _items: tuple[tuple[str, _Scalar], ...]

    def __init__(self, items: Mapping[str, _Scalar] | None = None) -> None:
        if items is None or (type(items) is dict and not items):
            # No attributes (the common case, and every default): skip the checks.
            self.__attrs_init__(())
            return
        if isinstance(items, Attributes):
            pairs: tuple[tuple[str, _Scalar], ...] = items._items
        elif isinstance(items, Mapping):
            for key, value in items.items():
                if not isinstance(key, str) or not key:
                    raise InvalidValueError.at("attributes", f"key {key!r} is not a name")
                if not isinstance(value, _SCALARS):
                    raise InvalidValueError.at(
                        f"attributes.{key}",
                        f"{value!r} is a {type(value).__name__}; give a string, whole "
                        "number, boolean or null",
                    )
                if isinstance(value, int) and not isinstance(value, bool):  # writable out
                    check_integer(value, f"attributes.{key}")
            pairs = tuple(sorted(items.items()))
        else:
            raise InvalidValueError.at("attributes", f"{items!r} is not a mapping")
        self.__attrs_init__(pairs)

    @classmethod
    def _trusted(cls, items: Mapping[str, _Scalar]) -> Attributes:
        """Build from values already known to be scalars (the engine's own facts)."""
        made = object.__new__(cls)
        made.__attrs_init__(tuple(sorted(items.items())))
        return made

    # Build from scalar pairs already sorted by unique key (the engine's hot path):
    # ``_from_sorted(pairs)``, set below (the engine builds a few dozen per decision).
    _from_sorted: ClassVar[Callable[[tuple[tuple[str, _Scalar], ...]], Attributes]]

    def __getitem__(self, key: str) -> _Scalar:
        # The pairs are sorted by key: a binary search, so reading every key of a large
        # mapping (``dict(attributes)``, a dump) is n log n, not n squared.
        items = self._items
        if isinstance(key, str):
            i = bisect.bisect_left(items, key, key=_first)
            if i < len(items) and items[i][0] == key:
                return items[i][1]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return (k for k, _ in self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Attributes({dict(self._items)!r})"


# ``Attributes._from_sorted(pairs)``: the one field set as a plain attribute on a twin of
# the class, which then becomes an Attributes (see settable_maker): half the cost of
# ``object.__new__`` and ``object.__setattr__``, what the generated ``__attrs_init__`` does.
Attributes._from_sorted = staticmethod(v.settable_maker(Attributes, "made of sorted pairs"))


@v.implied_by_document_type
def _to_attributes(value: object) -> object:
    if value is None or isinstance(value, Attributes):
        return Attributes() if value is None else value
    if isinstance(value, Mapping):
        return Attributes(value)
    return value


# No attributes: one value, the default of every ``attributes`` field (it is immutable,
# so every case may share it; a factory made a new one for each, at a cost).
NO_ATTRIBUTES: Final = Attributes()

_ATTRIBUTES: dict[str, Any] = {
    "converter": _to_attributes,
    "validator": v.instance_of(Attributes),
}


def _zone_known(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def _zone_words(attribute: attrs.Attribute[Any], value: object) -> InvalidValueError:
    if not isinstance(value, str) or not value:
        return InvalidValueError.at(attribute.name, f"{value!r} is not a time zone name")
    return UnknownTimeZoneError.at(
        attribute.name, f"{value!r} is not an IANA time zone (such as 'Europe/Paris')"
    )


# ``None`` or the name of a zone this machine's IANA database has.
_time_zone = v.validator_of(
    "time_zone",
    "{v} is None or (isinstance({v}, str) and {v} != '' and _zone_known({v}))",
    _zone_words,
    _zone_known=_zone_known,
)


def _ratio(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise InvalidValueError.at(
            attribute.name, f"{value!r} is not a non-negative decimal fraction"
        )


def _to_decimal(value: object) -> object:
    if isinstance(value, int | str) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


v.implied_by_document_type(_to_decimal)  # a statement: mypy's attrs plugin needs the name


@attrs.frozen
class ExpectationBaseline:
    """What this customer now expects when something goes wrong.

    Over-delivery raises it: a customer refunded at once and told to keep the item
    expects at least that next time. ``compensation_ratio`` is the share of the value at
    stake they expect back (``Decimal("1.0")`` = all of it); ``remedy`` is the form they
    expect (``refund_keep_item``).

    .. versionadded:: 0.1.0
    """

    compensation_ratio: Decimal = attrs.field(
        default=Decimal(0), converter=_to_decimal, validator=_ratio, kw_only=True
    )
    remedy: CompensationForm | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(CompensationForm)
    )
    set_at: datetime | None = attrs.field(default=None, validator=v.optional_aware, kw_only=True)
    reason: str = attrs.field(default="", validator=v.text, kw_only=True)


# The default expectation, shared as NO_ATTRIBUTES is (immutable, so one value serves).
NOTHING_EXPECTED: Final = ExpectationBaseline()


@attrs.frozen
class Customer:
    """The person or business the case is about.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    name: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    segment: str = attrs.field(default="standard", validator=v.slug, kw_only=True)
    lifetime_value: Money | None = attrs.field(
        default=None, validator=v.optional_instance_of(Money), kw_only=True
    )
    preferred_channel: Channel | None = attrs.field(
        default=None, kw_only=True, **v.optional_enum_field(Channel)
    )
    # The JSON Schema lists the IANA names, as strict as the validator (formats).
    time_zone: str | None = attrs.field(
        default=None, validator=_time_zone, kw_only=True, metadata={"document": "time_zone"}
    )
    expectation: ExpectationBaseline = attrs.field(
        default=NOTHING_EXPECTED,
        validator=v.instance_of(ExpectationBaseline),
        kw_only=True,
    )
    attributes: Attributes = attrs.field(default=NO_ATTRIBUTES, kw_only=True, **_ATTRIBUTES)


@attrs.frozen
class Role:
    """A rung of the empowerment ladder (``rank`` 0 is the front line).

    .. versionadded:: 0.1.0
    """

    name: str = attrs.field(validator=v.slug)
    rank: int = attrs.field(validator=v.instance_of(int))
    title: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)

    @rank.validator
    def _rank(self, attribute: attrs.Attribute[Any], value: int) -> None:
        if isinstance(value, bool) or value < 0:
            raise InvalidValueError.at(attribute.name, f"{value!r} is not a rank (0 or more)")


@attrs.frozen
class Agent:
    """A member of staff acting on a case, holding one role.

    .. versionadded:: 0.1.0
    """

    id: str = attrs.field(validator=v.identifier)
    role: str = attrs.field(validator=v.slug)
    name: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
    team: str | None = attrs.field(default=None, validator=v.optional_text, kw_only=True)
