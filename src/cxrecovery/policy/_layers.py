"""Layering policies: ``extends`` chains, the merge rules, ``replace`` and ``remove``.

A policy may extend the bundled default or another policy file, which may extend a
third: ``default`` → ``company.toml`` → ``team.toml``. Each layer is laid over the one
it extends by :func:`merge_documents`; its ``[policy]`` section may list paths to
``replace`` whole (instead of merging key by key) and paths to ``remove`` from what it
extends. The rules are argued in ``docs/policy-format.md``.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from cxrecovery._validation import suggest
from cxrecovery.errors import PolicyError, Problem

__all__ = ["MAX_CHAIN", "Layer", "attribute", "merge_documents", "resolve"]

DEFAULT_NAME = "default"
# Three layers (default, company, team) are the common case; eight leave room for a
# region or a product line while a runaway chain still stops with a clear error.
MAX_CHAIN = 8
_DIRECTIVES = ("extends", "replace", "remove")
# ``https://…``, ``file:…``, ``s3://…``: a policy is never fetched over a network.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//|[^\\/])")
_CALENDAR_FORMS = ("hours", "all_of", "any_of")
# How alike a new role's name must be to an existing one to be taken for a typo of it:
# 'frontline' and 'front_line' score 0.95, 'supervsor' 0.95; 'senior_duty_manager' and
# 'duty_manager' (a new role indeed) 0.77.
_TYPO = 0.85
_WHOLE = ("tables", "targets")


@attrs.frozen
class Layer:
    """One document of a chain: where it came from and what it says, as written."""

    origin: str
    document: Mapping[str, Any] = attrs.field(repr=False)
    is_file: bool = False


ReadFile = Callable[[Path], Mapping[str, Any]]


def resolve(
    data: Mapping[str, Any],
    *,
    origin: str,
    is_file: bool,
    read_file: ReadFile,
    default: Callable[[], Mapping[str, Any]],
) -> tuple[dict[str, Any], tuple[Layer, ...]]:
    """Follow ``extends`` down to its root, then lay the layers up again.

    Returns the merged document (its ``[policy]`` without the directives) and the layers,
    the root first.

    Raises:
        PolicyError: a layer's directives are wrong, a file is missing, unreadable or
            a URL, the chain loops or is too long; each problem names its file.
    """
    chain = [Layer(origin, data, is_file)]
    seen = {_key(origin, is_file): origin}
    while True:
        top = chain[-1]
        extends = _directives(top)[0]
        if extends is None:
            break
        if extends == DEFAULT_NAME:
            chain.append(Layer(DEFAULT_NAME, default()))
            break
        where = _at(top, "policy.extends")
        if _URL.match(extends):
            raise PolicyError.at(
                where,
                f"{extends!r} is a URL; a policy extends 'default' or a file path, "
                "never a URL (fetch the file and keep it with yours)",
            )
        base = Path(top.origin).parent if top.is_file else Path()
        path = base / extends
        key = _key(str(path), True)
        if key in seen:
            loop = " -> ".join([*(layer.origin for layer in chain), str(path)])
            raise PolicyError.at(where, f"{extends!r} closes a loop: {loop}")
        if len(chain) >= MAX_CHAIN:
            raise PolicyError.at(
                where, f"{extends!r} would make a chain of more than {MAX_CHAIN} policies"
            )
        try:
            document = read_file(path)
        except PolicyError as error:
            raise PolicyError(
                Problem(where, f"{extends!r}: {p.message}") for p in error.problems
            ) from None
        seen[key] = str(path)
        chain.append(Layer(str(path), document, True))
    chain.reverse()
    merged = copy.deepcopy(dict(chain[0].document))
    for layer in chain[1:]:
        merged = _lay(merged, layer)
    return merged, tuple(chain)


def _at(layer: Layer, path: str) -> str:
    """A path in a layer's document, after the layer's file name when it is a file."""
    return f"{layer.origin}: {path}" if layer.is_file else path


def _key(origin: str, is_file: bool) -> str:
    if not is_file:
        return f"<{origin}>"
    try:
        return str(Path(origin).resolve())
    except ValueError:  # a NUL byte: no such file; reading it reports the problem
        return os.path.abspath(origin)
    except (OSError, RuntimeError):  # pragma: no cover - a path resolve() cannot follow
        return os.path.abspath(origin)


def _directives(layer: Layer) -> tuple[str | None, tuple[str, ...], tuple[str, ...]]:
    """A layer's ``extends``, ``replace`` and ``remove``, checked."""
    header = layer.document.get("policy")
    if not isinstance(header, Mapping):
        return None, (), ()
    problems: list[Problem] = []
    where = _at(layer, "policy")
    extends = header.get("extends")
    if extends is not None and not (isinstance(extends, str) and extends):
        problems.append(
            Problem(f"{where}.extends", f"expected 'default' or a file path, got {extends!r}")
        )
    lists: list[tuple[str, ...]] = []
    for name in ("replace", "remove"):
        value = header.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            problems.append(
                Problem(
                    f"{where}.{name}", f"expected a list of paths such as 'roles', got {value!r}"
                )
            )
            value = []
        elif value and extends is None:
            problems.append(
                Problem(
                    f"{where}.{name}",
                    "applies to the policy this one extends, but it extends none",
                )
            )
        lists.append(tuple(value))
    if extends is not None:
        problems.extend(
            Problem(
                f"{where}.{key}",
                "missing (required): a policy that extends another names itself, "
                "so that plans cite it and not the policy it extends",
            )
            for key in ("name", "version")
            if key not in header
        )
    if problems:
        raise PolicyError(problems)
    return (extends if isinstance(extends, str) else None), lists[0], lists[1]


def _lay(base: dict[str, Any], layer: Layer) -> dict[str, Any]:
    _, replace, remove = _directives(layer)
    problems: list[Problem] = []
    for path in remove:
        problem = _remove(base, path)
        if problem is not None:
            problems.append(Problem(_at(layer, "policy.remove"), problem))
    problems.extend(
        Problem(
            _at(layer, "policy.replace"),
            f"{path!r}: this policy gives nothing there to replace with",
        )
        for path in replace
        if _find(layer.document, _parts(path)) is None
    )
    override = dict(layer.document)
    override["policy"] = {
        k: v for k, v in dict(layer.document.get("policy") or {}).items() if k not in _DIRECTIVES
    }
    problems.extend(_new_role_typos(base, override, layer))
    if problems:
        raise PolicyError(problems)
    merged = merge_documents(base, override, replace=replace)
    header = merged.get("policy")
    if isinstance(header, dict):
        # Name, version and description belong to one document each: never inherited.
        for key in ("description",):
            if key not in override["policy"]:
                header.pop(key, None)
    return merged


def _parts(path: str) -> list[str]:
    return path.split(".")


def _find(document: Any, parts: list[str]) -> Any:
    """The value at a dotted path; roles are addressed by name (``roles.front_line``)."""
    node = document
    for part in parts:
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list):
            named = [r for r in node if isinstance(r, Mapping) and r.get("name") == part]
            if not named:
                return None
            node = named[0]
        else:
            return None
    return node


def _remove(document: dict[str, Any], path: str) -> str | None:
    """Delete the value at ``path`` from ``document``; a message when there is none."""
    parts = _parts(path)
    parent = _find(document, parts[:-1]) if parts[:-1] else document
    last = parts[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
        return None
    if isinstance(parent, list):
        for i, item in enumerate(parent):
            if isinstance(item, Mapping) and item.get("name") == last:
                del parent[i]
                return None
        names = [str(r.get("name")) for r in parent if isinstance(r, Mapping)]
        return f"{path!r}: there is no {last!r} to remove{suggest(last, names)}"
    if isinstance(parent, Mapping):
        hint = suggest(last, [str(k) for k in parent])
        return f"{path!r}: the policy this one extends has no {last!r} there{hint}"
    return f"{path!r}: the policy this one extends has nothing at {'.'.join(parts[:-1])!r}"


def _new_role_typos(
    base: Mapping[str, Any], override: Mapping[str, Any], layer: Layer
) -> list[Problem]:
    """A new role named almost like an existing one is a typo until proven otherwise."""
    mine, theirs = override.get("roles"), base.get("roles")
    if not isinstance(mine, list) or not isinstance(theirs, list):
        return []
    names = [
        r["name"] for r in theirs if isinstance(r, Mapping) and isinstance(r.get("name"), str)
    ]
    problems = []
    for i, role in enumerate(mine):
        name = role.get("name") if isinstance(role, Mapping) else None
        if not isinstance(name, str) or name in names:
            continue
        hint = suggest(name, names, cutoff=_TYPO)
        if hint:
            problems.append(
                Problem(
                    _at(layer, f"roles[{i}].name"),
                    f"{name!r} is a new role, named like one the policy extends{hint} "
                    "(to add a role, give it a name unlike the others)",
                )
            )
    return problems


def merge_documents(
    base: Mapping[str, Any], override: Mapping[str, Any], *, replace: Iterable[str] = ()
) -> dict[str, Any]:
    """Lay ``override`` over ``base``.

    Tables (mappings) merge key by key, at every depth: a key ``override`` gives
    replaces the base's value for that key, a key it leaves out keeps the base's, so
    ``max_per_case = { EUR = "20.00" }`` changes the euro limit and keeps the others.
    ``[[roles]]`` merge by ``name``: a role given replaces the same-named role's keys,
    a new name adds a role. Three things are one choice and are replaced whole: a
    decision table, a clock's ``targets`` (rows are never merged: their order is their
    meaning) and a calendar's opening hours (``hours``, ``all_of`` or ``any_of``). Any
    other value (a string, a number, a list) replaces the base's.

    Args:
        base: the document laid over.
        override: the document laid on top.
        replace: dotted paths (roles by name: ``roles.front_line.max_per_case``) where
            ``override``'s value replaces the base's whole instead of merging.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``replace``.
    """
    return _merge(base, override, "", frozenset(replace))


def _merge(
    base: Mapping[str, Any], override: Mapping[str, Any], path: str, whole: frozenset[str]
) -> dict[str, Any]:
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        here = f"{path}.{key}" if path else str(key)
        mine = merged.get(key)
        if here in whole:
            merged[key] = copy.deepcopy(value)
        elif key == "roles" and isinstance(value, list) and isinstance(mine, list):
            merged[key] = _merge_roles(mine, value, here, whole)
        elif key == "calendars" and isinstance(value, Mapping) and isinstance(mine, Mapping):
            merged[key] = _merge_calendars(mine, value, here, whole)
        elif key in _WHOLE and isinstance(value, Mapping):
            tables = dict(mine) if isinstance(mine, Mapping) else {}
            tables.update(copy.deepcopy(dict(value)))
            merged[key] = tables
        elif isinstance(value, Mapping) and isinstance(mine, Mapping):
            merged[key] = _merge(mine, value, here, whole)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_calendars(
    base: Mapping[str, Any], override: Mapping[str, Any], path: str, whole: frozenset[str]
) -> dict[str, Any]:
    calendars = copy.deepcopy(dict(base))
    for name, calendar in override.items():
        mine = calendars.get(name)
        here = f"{path}.{name}"
        if here in whole or not (isinstance(calendar, Mapping) and isinstance(mine, Mapping)):
            calendars[name] = copy.deepcopy(calendar)
            continue
        if any(form in calendar for form in _CALENDAR_FORMS):
            mine = {k: v for k, v in mine.items() if k not in _CALENDAR_FORMS}
        calendars[name] = _merge(mine, calendar, here, whole)
    return calendars


def _merge_roles(
    base: list[Any], override: list[Any], path: str, whole: frozenset[str]
) -> list[Any]:
    roles = [copy.deepcopy(r) for r in base]
    names = [r.get("name") if isinstance(r, Mapping) else None for r in roles]
    for role in override:
        name = role.get("name") if isinstance(role, Mapping) else None
        here = f"{path}.{name}"
        if name is not None and name in names:
            i = names.index(name)
            roles[i] = (
                copy.deepcopy(role) if here in whole else _merge(roles[i], role, here, whole)
            )
        else:
            roles.append(copy.deepcopy(role))
            names.append(name)
    return roles


_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]*)\]")


def attribute(
    problems: Iterable[Problem], merged: Mapping[str, Any], layers: tuple[Layer, ...]
) -> list[Problem]:
    """Name, for each problem in a merged document, the file and the path in that file.

    A role is found by its name in the layer that gave it (``roles[4]`` of the merged
    list is ``roles[0]`` of ``team.toml``). Any other path belongs to the layer that
    gives the most of it, the upper layer on a tie. Problems in the bundled default or
    in a document that is not a file keep their plain path.
    """
    located = []
    for problem in problems:
        tokens = [
            m.group(1) if m.group(1) is not None else m.group(2)
            for m in _TOKEN.finditer(problem.path)
        ]
        layer, path = _locate(tokens, problem.path, merged, layers)
        if layer is not None and layer.is_file:
            located.append(Problem(f"{layer.origin}: {path}", problem.message))
        else:
            located.append(problem)
    return located


def _locate(
    tokens: list[str], path: str, merged: Mapping[str, Any], layers: tuple[Layer, ...]
) -> tuple[Layer | None, str]:
    if not tokens:
        return layers[-1], path
    if tokens[0] == "roles" and len(tokens) > 1 and tokens[1].isdigit():
        roles = merged.get("roles")
        index = int(tokens[1])
        if isinstance(roles, list) and index < len(roles) and isinstance(roles[index], Mapping):
            name = roles[index].get("name")
            for layer in reversed(layers):
                mine = layer.document.get("roles")
                if not isinstance(mine, list):
                    continue
                for j, role in enumerate(mine):
                    if isinstance(role, Mapping) and role.get("name") == name:
                        rest = path[path.index("]") + 1 :]
                        return layer, f"roles[{j}]{rest}"
    best: Layer | None = None
    depth = 0
    for layer in reversed(layers):
        found = _depth(layer.document, tokens)
        if found > depth:
            best, depth = layer, found
    return best, path


def _depth(document: Any, tokens: list[str]) -> int:
    node, depth = document, 0
    for token in tokens:
        if isinstance(node, Mapping) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        elif isinstance(node, list):
            named = [r for r in node if isinstance(r, Mapping) and r.get("id") == token]
            if not named:
                break
            node = named[0]
        else:
            break
        depth += 1
    return depth
