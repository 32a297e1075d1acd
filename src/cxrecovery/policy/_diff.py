"""What changed between two policies: rows, limits, clocks, calendars, every other value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from cxrecovery.policy._fingerprint import decision_content
from cxrecovery.policy._model import Policy

__all__ = ["PolicyChange", "diff_policies"]

# Lists whose items are named by a key: compared item by item under that name, so a
# row that moved is one "moved" line, not a cascade of changed indexes.
_ITEM_KEYS = ("name", "id", "level")


@attrs.frozen
class PolicyChange:
    """One difference between two policies.

    ``path`` is a path into the resolved documents, with roles, rows, tiers and levels
    named (``roles[front_line].max_per_case.EUR``, ``tables.recovery.rules[minor-first]``);
    ``before`` and ``after`` are the values as text, ``None`` where there is none.

    .. versionadded:: 0.2.0
    """

    path: str
    before: str | None
    after: str | None

    def __str__(self) -> str:
        if self.before is None:
            return f"{self.path}: added {self.after}"
        if self.after is None:
            return f"{self.path}: removed (was {self.before})"
        return f"{self.path}: {self.before} -> {self.after}"

    def to_dict(self) -> dict[str, str | None]:
        """The change as JSON-ready data."""
        return {"path": self.path, "before": self.before, "after": self.after}


def diff_policies(a: Policy, b: Policy) -> tuple[PolicyChange, ...]:
    """Every difference between two policies, after layering, in document order.

    The description and the rows' and tiers' ``source`` texts are left out, as the
    fingerprint leaves them out: they change no decision. A decision table's rows are
    compared by ``id``: a row added, removed, changed (its ``when`` or ``then``) or moved
    (row order is meaning in a ``first`` table) is one line each.

    .. versionadded:: 0.2.0
    """
    changes: list[PolicyChange] = []
    _walk(decision_content(a.document), decision_content(b.document), "", changes)
    return tuple(changes)


def _text(value: object, *, top: bool = True) -> str:
    """A value as operations staff read it: ``when severity=high; then tier=T2``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        parts = [
            f"{k} {_text(v, top=False)}"
            if top and isinstance(v, Mapping)
            else f"{k}={_text(v, top=False)}"
            for k, v in value.items()
            if not (top and k in _ITEM_KEYS and len(value) > 1)
        ]
        return ("; " if top else ", ").join(parts) if top else "{" + ", ".join(parts) + "}"
    return json.dumps(value, ensure_ascii=False)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _walk(a: object, b: object, path: str, out: list[PolicyChange]) -> None:
    if a == b:
        return
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in [*a, *(k for k in b if k not in a)]:
            here = _join(path, str(key))
            if key not in b:
                out.append(PolicyChange(here, _text(a[key]), None))
            elif key not in a:
                out.append(PolicyChange(here, None, _text(b[key])))
            else:
                _walk(a[key], b[key], here, out)
        return
    named = _named(a), _named(b)
    if named[0] is not None and named[1] is not None:
        _walk_named(named[0], named[1], path, out)
        return
    out.append(PolicyChange(path, _text(a), _text(b)))


def _named(value: object) -> dict[str, Any] | None:
    """A list of tables keyed by their name (or id, or level), if every item has one."""
    if not isinstance(value, list) or not value:
        return None
    for key in _ITEM_KEYS:
        names = [v.get(key) if isinstance(v, Mapping) else None for v in value]
        if all(n is not None for n in names) and len(set(map(str, names))) == len(names):
            return {str(n): v for n, v in zip(names, value, strict=True)}
    return None


def _walk_named(a: dict[str, Any], b: dict[str, Any], path: str, out: list[PolicyChange]) -> None:
    for name in [*a, *(n for n in b if n not in a)]:
        here = f"{path}[{name}]"
        if name not in b:
            out.append(PolicyChange(here, _text(a[name]), None))
        elif name not in a:
            out.append(PolicyChange(here, None, _text(b[name])))
        else:
            _walk(a[name], b[name], here, out)
    common_a = [n for n in a if n in b]
    common_b = [n for n in b if n in a]
    if common_a != common_b:
        out.append(PolicyChange(f"{path} order", ", ".join(common_a), ", ".join(common_b)))
