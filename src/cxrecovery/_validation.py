"""Validators shared by the domain types: each raises InvalidValueError naming the field.

Also the one way the package builds a frozen attrs instance quickly where it knows the
values are valid (:func:`settable_twin`, :func:`settable_maker`)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from typing import Any, Final, TypeVar, cast
from zoneinfo import ZoneInfo

import attrs

from cxrecovery.errors import InvalidValueError

_SLUG = re.compile(r"[a-z][a-z0-9_]*(?:[.-][a-z0-9_]+)*\Z")

E = TypeVar("E", bound=Enum)
_Check = TypeVar("_Check", bound=Callable[..., object])

_IMPLIED = "_cxrecovery_implied_by_document_type"


def implied_by_document_type(check: _Check) -> _Check:
    """Mark a validator or converter that a value read from a document never trips.

    Such a validator checks only what the document loader's reading of the field's
    declared type already guarantees (a ``str`` field holds a string, an enum field a
    member, a time field an aware datetime…); such a converter returns a value of the
    field's type unchanged. The fast path of :mod:`cxrecovery.documents` skips them;
    host code constructing the types still runs them.
    """
    check.__dict__[_IMPLIED] = True
    return check


def is_implied_by_document_type(validator: object) -> bool:
    """Whether ``validator`` was marked with :func:`implied_by_document_type`."""
    return getattr(validator, _IMPLIED, False) is True


def kind_of(value: object, *, mapping: str = "an object", null: str = "null") -> str:
    """Name the kind of a document value for a message: ``a string``, ``a list``…

    ``mapping`` and ``null`` name those kinds in the document's own words (a TOML
    policy says "a table"; JSON says "an object").
    """
    if value is None:
        return null
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a float"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, Mapping):
        return mapping
    return f"a {type(value).__name__}"


def suggest(word: object, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """Return a "; did you mean 'x'?" hint for a near miss, or an empty string.

    ``cutoff`` is difflib's similarity ratio a choice must reach: 0.6 finds a hint for
    a word that is certainly wrong; a higher one tells a typo from a new name.
    """
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return f"; did you mean {close[0]!r}?" if close else ""


def enum_converter(enum: type[E]) -> Callable[[object], object]:
    """Return an attrs converter that turns an enum's string value into the member.

    Anything else is passed through unchanged for :func:`member_of` to reject with
    the field's name.
    """
    by_value: dict[object, E] = {m.value: m for m in enum}

    @implied_by_document_type
    def convert(value: object) -> object:
        if isinstance(value, enum):
            return value
        try:
            return by_value.get(value, value)
        except TypeError:  # unhashable
            return value

    convert.__name__ = f"to_{enum.__name__}"
    return convert


def member_of(enum: type[Enum]) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """A member of ``enum``; the error lists the allowed values and a near miss."""
    values = [str(m.value) for m in enum]
    names = ", ".join(values)

    @implied_by_document_type
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, enum):
            raise _fail(attribute, f"{value!r} is not one of {names}{suggest(value, values)}")

    return check


def optional_member_of(
    enum: type[Enum],
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """``None`` or a member of ``enum``."""
    inner = member_of(enum)

    @implied_by_document_type
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            inner(instance, attribute, value)

    return check


def enum_field(enum: type[E]) -> dict[str, Any]:
    """Converter and validator for a field holding a member of ``enum``.

    Spread into ``attrs.field(**enum_field(X))`` so the mypy plugin still sees the
    default and ``kw_only`` spelled at the call site.
    """
    return {"converter": enum_converter(enum), "validator": member_of(enum)}


def optional_enum_field(enum: type[E]) -> dict[str, Any]:
    """Converter and validator for a field holding ``None`` or a member of ``enum``."""
    return {"converter": enum_converter(enum), "validator": optional_member_of(enum)}


def _fail(attribute: attrs.Attribute[Any], message: str) -> InvalidValueError:
    return InvalidValueError.at(attribute.name, message)


@implied_by_document_type
def aware(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """A timezone-aware datetime."""
    if not isinstance(value, datetime):
        raise _fail(attribute, f"{value!r} is not a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(attribute, f"naive datetime '{value.isoformat()}'; give an offset or zone")


@implied_by_document_type
def optional_aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``None`` or a timezone-aware datetime."""
    if value is not None:
        aware(instance, attribute, value)


# --- validators whose test is an expression --------------------------------------------
# Each is made from one expression over ``{v}``, true of exactly the values it passes, and
# a function that words the error for any other. The document readers generated from
# the fields (cxrecovery.formats) test the same expression in line and call the
# validator only for a value that fails it: the rule is written once.

_PASSES = "_cxrecovery_passes"
_Validator = Callable[[object, "attrs.Attribute[Any]", object], None]
_Words = Callable[["attrs.Attribute[Any]", object], InvalidValueError]


def validator_of(name: str, passes: str, words: _Words, **names: object) -> _Validator:
    """A validator that lets through each value ``passes`` holds true of (an expression
    over ``{v}``, the other names it reads given as keywords) and raises what
    ``words(attribute, value)`` makes for any other."""
    scope: dict[str, Any] = {**names, "_words": words}
    test = passes.format(v="value")
    source = (
        f"def {name}(_, attribute, value):\n"
        f"    if not ({test}):\n"
        "        raise _words(attribute, value)\n"
    )
    exec(compile(source, f"<cxrecovery validator {name}>", "exec"), scope)
    check: _Validator = scope[name]
    check.__dict__[_PASSES] = (passes, names)
    return check


def passing_test(validator: object) -> tuple[str, dict[str, object]] | None:
    """The expression over ``{v}`` that ``validator`` (made by :func:`validator_of`)
    passes exactly, with the names it reads; ``None`` for any other validator."""
    found = getattr(validator, "__dict__", {}).get(_PASSES)
    return found if isinstance(found, tuple) else None


def _identifier_words(attribute: attrs.Attribute[Any], value: object) -> InvalidValueError:
    if not isinstance(value, str):
        return _fail(attribute, f"{value!r} is not a string")
    return _fail(attribute, f"{value!r} is empty or has white space around it")


_IDENTIFIER = "isinstance({v}, str) and {v} != '' and {v} == {v}.strip()"

#: A non-empty string with no leading or trailing white space (ids from hosts).
identifier = validator_of("identifier", _IDENTIFIER, _identifier_words)
#: ``None`` or an identifier.
optional_identifier = validator_of(
    "optional_identifier", f"{{v}} is None or ({_IDENTIFIER})", _identifier_words
)


def _slug_words(attribute: attrs.Attribute[Any], value: object) -> InvalidValueError:
    return _fail(
        attribute,
        f"{value!r} is not a lower-case name (letters, digits, '_', '-', '.'; "
        "starting with a letter)",
    )


_IS_SLUG = "isinstance({v}, str) and _slug_match({v}) is not None"

#: A lower-case name such as ``late_delivery`` (categories, segments, reasons).
slug = validator_of("slug", _IS_SLUG, _slug_words, _slug_match=_SLUG.match)
#: ``None`` or a slug.
optional_slug = validator_of(
    "optional_slug", f"{{v}} is None or ({_IS_SLUG})", _slug_words, _slug_match=_SLUG.match
)


@implied_by_document_type
def text(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """Any string (free text)."""
    if not isinstance(value, str):
        raise _fail(attribute, f"{value!r} is not a string")


@implied_by_document_type
def optional_text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``None`` or a string."""
    if value is not None:
        text(instance, attribute, value)


@implied_by_document_type
def boolean(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    """``True`` or ``False`` (not 0 or 1)."""
    if not isinstance(value, bool):
        raise _fail(attribute, f"{value!r} is not true or false")


def _duration_words(attribute: attrs.Attribute[Any], value: object) -> InvalidValueError:
    if not isinstance(value, timedelta):
        return _fail(attribute, f"{value!r} is not a duration")
    return _fail(attribute, f"{value!r} is negative")


#: ``None`` or a timedelta of zero or more.
non_negative_duration = validator_of(
    "non_negative_duration",
    "{v} is None or (isinstance({v}, _timedelta) and {v} >= _no_time)",
    _duration_words,
    _timedelta=timedelta,
    _no_time=timedelta(0),
)


def instance_of(*types: type) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """Like ``attrs.validators.instance_of`` but raising InvalidValueError."""
    names = " or ".join(t.__name__ for t in types)

    @implied_by_document_type
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, types):
            raise _fail(attribute, f"{value!r} is not a {names}")

    return check


def optional_instance_of(
    *types: type,
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """``None`` or an instance of ``types``."""
    inner = instance_of(*types)

    @implied_by_document_type
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None:
            inner(instance, attribute, value)

    return check


def tuple_of(
    *types: type,
) -> Callable[[object, attrs.Attribute[Any], object], None]:
    """A tuple whose items are instances of ``types``; errors name the index."""
    names = " or ".join(t.__name__ for t in types)

    @implied_by_document_type
    def check(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, tuple):
            raise _fail(attribute, f"{value!r} is not a tuple")
        for i, item in enumerate(value):
            if not isinstance(item, types):
                raise InvalidValueError.at(f"{attribute.name}[{i}]", f"{item!r} is not a {names}")

    return check


@implied_by_document_type
def to_tuple(value: object) -> object:
    """Converter: lists and other iterables (not strings or mappings) become tuples."""
    if isinstance(value, list | tuple):
        return tuple(value)
    return value


# --- arguments of the public functions ---------------------------------------------------
# The validators above check fields as attrs calls them; these check a function's
# arguments by name and hand the value back, so a call site reads ``at = aware_arg(at,
# "at")``.

T = TypeVar("T")
# The tzinfo classes whose utcoffset() is never None (checked by exact class).
_ALWAYS_AWARE: Final = (timezone, ZoneInfo)


def aware_arg(
    value: object, name: str, error: type[InvalidValueError] = InvalidValueError
) -> datetime:
    """``value`` if it is a timezone-aware datetime; otherwise ``error`` at ``name``."""
    if value.__class__ is datetime and value.tzinfo.__class__ in _ALWAYS_AWARE:
        return value  # a fixed offset or an IANA zone: its offset is never None
    if not isinstance(value, datetime):
        raise error.at(name, f"{value!r} is not a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise error.at(name, f"naive datetime '{value.isoformat()}'; give an offset or zone")
    return value


def optional_aware_arg(value: object, name: str) -> datetime | None:
    """``None`` or a timezone-aware datetime (see :func:`aware_arg`)."""
    return None if value is None else aware_arg(value, name)


def arg_of(value: object, cls: type[T], name: str) -> T:
    """``value`` if it is an instance of ``cls``; otherwise InvalidValueError at ``name``."""
    if not isinstance(value, cls):
        raise InvalidValueError.at(name, f"{value!r} is not a {cls.__name__}")
    return value


def optional_arg_of(value: object, cls: type[T], name: str) -> T | None:
    """``None`` or an instance of ``cls`` (see :func:`arg_of`)."""
    return None if value is None else arg_of(value, cls, name)


def duration_arg(value: object, name: str) -> timedelta:
    """``value`` if it is a ``timedelta`` of zero or more."""
    duration = arg_of(value, timedelta, name)
    if duration < timedelta(0):
        raise InvalidValueError.at(name, f"{duration!r} is negative")
    return duration


def items_of(values: object, cls: type[T], name: str) -> Iterator[T]:
    """The items of the iterable ``values``, each checked to be a ``cls``.

    Checks that ``values`` is iterable now, and each item as it comes (the iterable is
    read once, so a stream stays a stream); errors name ``name`` or ``name[i]``.
    """
    if isinstance(values, (str, bytes, Mapping, cls)):
        what = f"give an iterable of {cls.__name__}, not {values!r:.60}"
        raise InvalidValueError.at(name, what)
    try:
        iterator = iter(values)  # type: ignore[call-overload]
    except TypeError:
        raise InvalidValueError.at(
            name, f"{values!r:.60} is not an iterable of {cls.__name__}"
        ) from None
    return _checked(iterator, cls, name)


def _checked(iterator: Iterator[object], cls: type[T], name: str) -> Iterator[T]:
    for i, item in enumerate(iterator):
        if not isinstance(item, cls):
            raise InvalidValueError.at(f"{name}[{i}]", f"{item!r:.60} is not a {cls.__name__}")
        yield item


def settable_twin(cls: type, state: str) -> type:
    """A subclass of frozen ``cls`` whose slots are set as plain attributes (``cls`` refuses).

    It adds no slot, so an instance made of it (``twin()`` makes an empty one, no
    ``__init__`` run), its fields set, can be given ``cls`` as its class
    (``made.__class__ = cls``) and is then the instance of ``cls`` it would have been: each
    slot set by the interpreter's own attribute store, where a frozen slot's setter called
    as a function costs about four times as much. ``state`` names the twin in reprs while
    it lives (``"being read"``).
    """
    return type(
        cls.__name__,
        (cls,),
        {
            "__slots__": (),
            # Both, or neither, are the interpreter's own: they fill one type slot.
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__init__": object.__init__,
            "__module__": cls.__module__,
            "__qualname__": f"{cls.__qualname__} ({state})",
        },
    )


def settable_maker(cls: type[T], state: str) -> Callable[..., T]:
    """A function ``make(*fields)`` that returns an instance of frozen attrs class ``cls``
    whose fields (every one, by position, in ``attrs.fields`` order) are the given values,
    without ``cls``'s ``__init__``: they are set on its :func:`settable_twin` (named
    ``state``), which then becomes ``cls``. No validator or converter runs, so only for
    values known to be valid; the result is the instance ``cls(*fields)`` would be.
    """
    names = [field.name for field in attrs.fields(cast("type[attrs.AttrsInstance]", cls))]
    # Local names start with two underscores, so that no field name can shadow them.
    lines = [f"def make({', '.join(names)}):", "    __made = __twin()"]
    lines += [f"    __made.{name} = {name}" for name in names]
    lines += ["    __made.__class__ = __cls", "    return __made"]
    scope: dict[str, Any] = {"__twin": settable_twin(cls, state), "__cls": cls}
    exec("\n".join(lines), scope)  # the source is made of the field names alone
    make: Callable[..., T] = scope["make"]
    make.__qualname__ = f"{cls.__qualname__} (made {state})"
    return make
