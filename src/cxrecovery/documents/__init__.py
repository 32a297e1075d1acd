"""Documents in and out: cases as plain JSON-ready data, with precise errors.

One mechanism serves three jobs. For every domain type it reads a document into the
type (collecting *every* problem with its path before giving up), writes the type back
to plain data (so that ``dump(load_case(doc)) == doc`` for a canonical document), and
describes the document as JSON Schema, so a CRM written in any language can produce
valid input.

Formats: times are ISO 8601 with an offset (``2026-01-05T10:00:00+00:00``; a time with
no offset is refused), durations are ISO 8601 durations in days, hours, minutes and
seconds (``P1DT2H``, ``PT90S``), money is ``{"amount": "12.50", "currency": "EUR"}``
with the amount a string (or a whole number) and never a float.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, TypeVar

from cxrecovery._validation import kind_of
from cxrecovery.documents._history import (
    SETTLED,
    SETTLED_STATUSES,
    PolicyLike,
    check_sizes,
    fold_settlements,
    format_2_only,
    is_settled,
    policy_problems,
    renumbered,
)
from cxrecovery.errors import DocumentError, InvalidValueError, Problem
from cxrecovery.formats.codec import Codec, Codecs
from cxrecovery.formats.values import FAIL, Problems, Where, join, path_of, show
from cxrecovery.limits import Limits, read_document_file, too_big
from cxrecovery.model import Attributes, Case

__all__ = ["PolicyLike", "case_schema", "dump", "load", "load_case"]

T = TypeVar("T")

CASE_FORMAT: Final = 2
_SCHEMA_ID: Final = "https://cxrecovery.invalid/schema/case-2.json"
# The case formats this version reads: format 1 is format 2 without a recorded history
# (no ``events``, no ``settled_by``), so it reads as such.
_CASE_FORMATS: Final = (1, 2)

_LIMITS: Final = Limits()


def _load_attributes(value: object, where: Where, problems: Problems) -> object:
    if not isinstance(value, Mapping):
        problems.append(Problem(path_of(where), f"expected an object, got {kind_of(value)}"))
        return FAIL
    try:
        return Attributes(value)
    except InvalidValueError as error:
        # Attributes names its problems "attributes[.key]"; re-root them here.
        path = path_of(where)
        for p in error.problems:
            rest = p.path.removeprefix("attributes").lstrip(".")
            problems.append(Problem(join(path, rest) if rest else path, p.message))
        return FAIL


_ATTRIBUTES_SCHEMA: Final = {
    "type": "object",
    "additionalProperties": {"type": ["string", "integer", "boolean", "null"]},
}

# The codecs of the domain types (made on first use), Attributes with its own.
CODECS: Final = Codecs()
CODECS.register(
    Attributes,
    Codec(_load_attributes, lambda value: dict(value), lambda _: dict(_ATTRIBUTES_SCHEMA)),
)


def _read_source(source: object, what: str, limits: Limits = _LIMITS) -> object:
    # The common case, tested first (a slice: cheaper than a call of startswith).
    if type(source) is str and source[:1] == "{":
        # A character is one to four bytes of UTF-8: count bytes only when it matters.
        if len(source) * 4 > limits.max_document_bytes and (
            len(source) > limits.max_document_bytes
            or len(source.encode("utf-8", "surrogatepass")) > limits.max_document_bytes
        ):
            raise DocumentError.at("", too_big(what, limits))
        return _parse_json(source, what)
    if isinstance(source, Mapping):
        return source
    text: str
    if isinstance(source, bytes):
        if len(source) > limits.max_document_bytes:
            raise DocumentError.at("", too_big(what, limits))
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DocumentError.at("", f"the {what} document is not UTF-8: {error}") from None
    elif isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return _read_source(source.encode("utf-8", "surrogatepass"), what, limits)
    elif isinstance(source, str | os.PathLike):
        text = read_document_file(source, limits, what, DocumentError)
    else:
        raise DocumentError.at(
            "",
            f"expected a mapping, JSON text or a path to a {what} document, got {kind_of(source)}",
        )
    return _parse_json(text, what)


def _reject_constant(name: str) -> object:
    raise ValueError(f"{name} is not a number JSON allows")


# Made once: ``json.loads`` with these options makes a decoder (and scanner) per call.
_DECODER: Final = json.JSONDecoder(parse_float=Decimal, parse_constant=_reject_constant)


_SCAN: Final[Callable[[str, int], tuple[object, int]]] = _DECODER.scan_once  # type: ignore[attr-defined]
_JSON_SPACE: Final = " \t\n\r"


def _parse_json(text: str, what: str) -> object:
    if text[:1] == "{":
        # An object from the first character: the scanner alone, as ``decode`` calls it,
        # without its two regular-expression calls for white space around it.
        try:
            data, end = _SCAN(text, 0)
        except (StopIteration, ValueError, RecursionError):
            pass  # not valid: ``decode`` below says why, as always
        else:
            if end == len(text) or not text[end:].strip(_JSON_SPACE):
                return data
    try:
        if text.startswith("\ufeff"):  # json.loads refuses a byte order mark; so do we
            return json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
        return _DECODER.decode(text)
    except json.JSONDecodeError as error:
        raise DocumentError.at(
            "",
            f"the {what} document is not valid JSON: {error.msg} at line "
            f"{error.lineno} column {error.colno}",
        ) from None
    except (ValueError, RecursionError) as error:
        raise DocumentError.at("", f"the {what} document is not valid JSON: {error}") from None


def load(cls: type[T], data: object, *, path: str = "") -> T:
    """Read plain data (a mapping, as from JSON) into a domain type.

    Raises:
        DocumentError: with every problem found, each with its path.

    .. versionadded:: 0.1.0
    """
    return _read(CODECS, cls, data, path)


def _read(codecs: Codecs, cls: type[T], data: object, path: str) -> T:
    problems: Problems = []
    result = codecs(cls).load(data, path, problems)
    if problems or result is FAIL:
        raise DocumentError(problems or [Problem(path, "could not be read")])
    return result  # type: ignore[no-any-return]


def load_case(
    source: Mapping[str, Any] | str | bytes | os.PathLike[str],
    *,
    policy: PolicyLike | None = None,
    limits: Limits = _LIMITS,
) -> Case:
    """Read a case document: a mapping, JSON text, or the path of a JSON file.

    A string that starts with ``{`` is JSON text; any other string is a path.
    JSON numbers are read as exact decimals, never through a float. Format 2 is
    written today; a format 1 document (no history of events) reads as a format 2
    one without events.

    With ``policy``, the case's history is checked against it too: an escalation to
    a level the policy lacks, or an owner or escalation naming a role it does not have,
    is a problem at its path, listed with every other.

    Args:
        source: the document.
        policy: the policy whose roles and escalation levels the history must name.
        limits: how much is read: the document's bytes (no more is read from a file
            or a device) and the items of each list in it; see
            :class:`~cxrecovery.Limits`.

    Raises:
        DocumentError: with every problem in the document, each with its path, e.g.
            ``touchpoints[2].at: naive datetime '2026-01-05T10:00'; give an offset or
            zone``.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 format 2, ``policy`` and ``limits``.
    """
    return _load_case(CODECS, source, policy, limits)


def _load_case(codecs: Codecs, source: object, policy: PolicyLike | None, limits: Limits) -> Case:
    """:func:`load_case` reading the case with ``codecs``."""
    if limits is not _LIMITS and not isinstance(limits, Limits):
        raise DocumentError.at("limits", f"expected Limits, got {kind_of(limits)}")
    data = _read_source(source, "case", limits)
    problems: Problems = []
    if type(data) is dict or isinstance(data, Mapping):
        # JSON text holds no list or object of more items than half its characters (each
        # item takes one and a separator or a bracket one more): short text cannot break
        # the limit, and the sizes are checked only of longer text, files and mappings.
        if not (type(source) is str and len(source) <= 2 * limits.max_items and source[:1] == "{"):
            check_sizes(data, limits)
        version = data.get("format", CASE_FORMAT)
        if "format" in data:
            # The type first: comparing Decimal('sNaN') raises.
            if type(version) is not int or version not in _CASE_FORMATS:
                formats = " and ".join(map(str, _CASE_FORMATS))
                raise DocumentError.at(
                    "format",
                    f"{show(data['format'])} is not a case format this version reads ({formats})",
                )
            if data is not source and type(data) is dict:
                del data["format"]  # our own parse of the text: no need to copy it
            else:
                data = {k: v for k, v in data.items() if k != "format"}
        if version == 1:
            problems.extend(format_2_only(data))
        if policy is not None:
            problems.extend(policy_problems(data.get("events"), policy))
        events = data.get("events")
        if type(events) is list and any(is_settled(e) for e in events):
            data, where = fold_settlements(data, problems)
            try:
                case = _read(codecs, Case, data, "")
            except DocumentError as error:
                found = [renumbered(p, where) for p in error.problems]
                raise DocumentError(sorted([*found, *problems], key=lambda p: p.path)) from None
            if problems:
                raise DocumentError(sorted(problems, key=lambda p: p.path))
            return case
    if not problems:
        return _read(codecs, Case, data, "")
    try:
        _read(codecs, Case, data, "")
    except DocumentError as error:
        problems = [*error.problems, *problems]
    raise DocumentError(sorted(problems, key=lambda p: p.path))


def dump(value: object) -> Any:
    """Write a domain value (a case, a promise, money…) as plain JSON-ready data.

    Fields left at their defaults are omitted; a case carries its ``format`` number
    (2: a case is always written in the latest format). The result is deterministic:
    the same value always gives the same data.

    .. versionadded:: 0.1.0
    """
    data = CODECS(type(value)).dump(value)
    if isinstance(value, Case):
        return {"format": CASE_FORMAT, **data}
    return data


def case_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the case document, format 2.

    (A format 1 document is a format 2 one without ``events`` and ``settled_by``.)

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 format 2.
    """
    defs: dict[str, Any] = {}
    CODECS(Case).schema(defs)
    case = dict(defs.pop("Case"))
    case["properties"] = {"format": {"const": CASE_FORMAT}, **case["properties"]}
    # A history may also settle a promise (read into the promise: see load_case).
    defs["PromiseSettled"] = {
        "type": "object",
        "description": "A promise settled, said in the history instead of in the promise.",
        "properties": {
            "kind": {"const": SETTLED},
            "at": defs["CaseEvent"]["properties"]["at"],
            "by": defs["CaseEvent"]["properties"]["by"],
            "promise": {"type": "string"},
            "status": {"enum": list(SETTLED_STATUSES)},
            "note": defs["CaseEvent"]["properties"]["note"],
        },
        "required": ["kind", "at", "promise", "status"],
        "additionalProperties": False,
    }
    case["properties"]["events"] = {
        "type": "array",
        "items": {"anyOf": [{"$ref": "#/$defs/CaseEvent"}, {"$ref": "#/$defs/PromiseSettled"}]},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _SCHEMA_ID,
        "title": "cxrecovery case document",
        **case,
        "$defs": dict(sorted(defs.items())),
    }
