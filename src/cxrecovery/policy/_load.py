"""Loading a policy document: TOML, JSON or a mapping; ``extends``; every problem at once."""

from __future__ import annotations

import functools
import json
import os
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs

from cxrecovery.errors import PolicyError
from cxrecovery.limits import (
    Limits,
    document_problems,
    read_document_file,
    table_problems,
    too_big,
)
from cxrecovery.policy._layers import DEFAULT_NAME, attribute, merge_documents, resolve
from cxrecovery.policy._model import Policy
from cxrecovery.policy._parse import parse

__all__ = ["default_policy", "load_policy", "merge_documents", "read_document"]

_LIMITS = Limits()


def _read_text(
    source: str | bytes | os.PathLike[str], limits: Limits = _LIMITS
) -> tuple[Mapping[str, Any], str]:
    """Parse TOML or JSON from text, bytes or a path; name the source in errors.

    No more than ``limits.max_document_bytes`` is read (a file, a pipe, a device), and
    the document is held to ``limits`` before anything else reads it.
    """
    origin = "policy"
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".toml", ".json"))
    ):
        origin = os.fspath(source)
        text = read_document_file(source, limits, "policy", PolicyError)
    else:
        if isinstance(source, str):
            if len(source) > limits.max_document_bytes:
                source = source.encode("utf-8", "surrogatepass")
            else:
                text = source
        if isinstance(source, bytes):
            if len(source) > limits.max_document_bytes:
                raise PolicyError.at("", too_big("policy", limits))
            try:
                text = source.decode("utf-8")
            except UnicodeDecodeError as error:
                raise PolicyError.at("", f"the policy is not UTF-8: {error}") from None
    data = parse_policy_text(text, origin, limits)
    return data, origin


def read_document(path: str | os.PathLike[str], *, limits: Limits = _LIMITS) -> Mapping[str, Any]:
    """Read the policy file at ``path`` (TOML, or JSON when it starts with ``{``) as plain
    data, whatever its name ends with, held to ``limits``.

    Raises:
        PolicyError: the file cannot be read, is not TOML or JSON, or goes past a limit.
    """
    return _read_text(Path(path), limits)[0]


def parse_policy_text(text: str, origin: str, limits: Limits = _LIMITS) -> Mapping[str, Any]:
    """Parse a policy's TOML or JSON ``text`` (JSON when it starts with ``{``), held to
    ``limits``; ``origin`` names it in errors.

    Raises:
        PolicyError: the text is not TOML or JSON, or goes past a limit.
    """
    try:
        if text.lstrip().startswith("{"):
            try:
                data = json.loads(text, parse_float=Decimal)
            except (json.JSONDecodeError, ValueError) as error:
                raise PolicyError.at("", f"{origin} is not valid JSON: {error}") from None
        else:
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as error:
                raise PolicyError.at("", f"{origin} is not valid TOML: {error}") from None
            except ValueError as error:  # a number Python will not read, such as 5,000 digits
                raise PolicyError.at("", f"{origin} is not usable TOML: {error}") from None
    except RecursionError:
        raise PolicyError.at(
            "", f"{origin} is nested more than {limits.max_depth} deep (Limits.max_depth)"
        ) from None
    if not isinstance(data, Mapping):
        raise PolicyError.at("", f"{origin} is not a table of sections")
    check_document(data, limits)
    return data


def check_document(data: Mapping[str, Any], limits: Limits) -> None:
    """Hold a policy document to ``limits`` (nesting, size, numbers, value types).

    Raises:
        PolicyError: with the first problems found, each with its path.
    """
    problems = document_problems(data, limits) or table_problems(data, limits)
    if problems:
        raise PolicyError(problems)


def _default_document() -> dict[str, Any]:
    """The bundled default policy document, a fresh copy for each caller.

    Its text ships with the package and does not change while the process runs, so it
    is parsed once; each call copies the parsed document (the copy costs about a
    tenth of the parse), so that no caller sees what another does with its copy.
    """
    document: dict[str, Any] = _copied(_parsed_default())
    return document


@functools.cache
def _parsed_default() -> dict[str, Any]:
    text = resources.files("cxrecovery.policy").joinpath("default.toml").read_text("utf-8")
    return tomllib.loads(text)


def _copied(value: Any) -> Any:
    """A copy of a parsed TOML document: its tables and arrays new, its values (text,
    numbers, truth values, dates and times, all immutable) shared."""
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    return value


def load_policy(
    source: Mapping[str, Any] | str | bytes | os.PathLike[str],
    *,
    origin: str | os.PathLike[str] | None = None,
    limits: Limits = _LIMITS,
) -> Policy:
    """Read a policy: a mapping, TOML or JSON text, the path of a ``.toml``/``.json`` file,
    or ``"default"`` (the bundled default policy).

    ``extends`` in the ``[policy]`` section lays the document over ``"default"`` or over
    another policy file (a path relative to the extending file), which may extend a
    third; ``replace`` and ``remove`` there say what to replace whole and what to take
    away (``docs/policy-format.md``). The decision tables are checked when an
    :class:`~cxrecovery.Engine` compiles the policy (they may read host facts).

    Args:
        source: the policy.
        origin: the file a mapping or text was read from: its relative ``extends``
            are resolved against that file's folder, and errors name it.
        limits: how much of each document in the chain is read (size, nesting,
            values); see :class:`~cxrecovery.Limits`.

    Raises:
        PolicyError: with every problem in the document, each with its path; where a
            policy came from a file, the path is preceded by the file's name.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``extends`` takes a file; ``replace``, ``remove``,
       ``"default"`` and ``origin``.
    .. versionchanged:: 0.2.0 ``limits``.
    """
    is_file = origin is not None
    where = os.fspath(origin) if origin is not None else "policy"
    if isinstance(source, str) and source == DEFAULT_NAME:
        return default_policy()
    if not isinstance(limits, Limits):
        raise PolicyError.at("limits", f"expected Limits, got {type(limits).__name__}")
    if isinstance(source, Mapping):
        data: Mapping[str, Any] = source
        check_document(data, limits)
    elif isinstance(source, str | bytes | os.PathLike):
        data, read_from = _read_text(source, limits)
        if read_from != "policy":
            is_file, where = True, read_from
    else:
        raise PolicyError.at(
            "",
            f"expected a mapping, TOML or JSON text or a path, got {type(source).__name__}",
        )

    def read_file(path: Path) -> Mapping[str, Any]:
        return _read_text(path, limits)[0]

    merged, layers = resolve(
        data, origin=where, is_file=is_file, read_file=read_file, default=_default_document
    )
    merged_problems = table_problems(merged, limits)
    if merged_problems:
        raise PolicyError(merged_problems)
    if len(layers) == 1 and not is_file:
        return parse(merged)
    try:
        policy = parse(merged)
    except PolicyError as error:
        raise PolicyError(attribute(error.problems, merged, layers)) from None
    return attrs.evolve(policy, layers=layers)


def default_policy() -> Policy:
    """Return the bundled, evidence-based default policy.

    .. versionadded:: 0.1.0
    """
    return parse(_default_document())
