"""Writing a policy document as TOML that operations staff can read (and tomllib reads back).

The policy document holds only what TOML and JSON share (strings, whole numbers,
booleans, lists and tables), so a small writer does: no dependency for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cxrecovery.errors import PolicyError

__all__ = ["dumps"]

_BARE = re.compile(r"[A-Za-z0-9_-]+")
# A table this small, holding only plain values, reads best on one line: a rule's
# `when`/`then`, a role's limits per currency, a calendar's hours.
_INLINE_MAX = 8


def dumps(document: Mapping[str, Any]) -> str:
    """The document as TOML: sections in the document's order, rows as ``[[...]]``."""
    lines: list[str] = []
    for key, value in document.items():
        path = _key(str(key))
        if isinstance(value, Mapping):
            _table(lines, path, value, header=f"[{path}]")
        elif _is_table_list(value):
            for item in value:
                _table(lines, path, item, header=f"[[{path}]]")
        else:
            lines.append(f"{path} = {_value(value, path)}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(lines: list[str], path: str, table: Mapping[str, Any], *, header: str) -> None:
    lines.extend(("", header))
    later: list[tuple[str, Any]] = []
    for key, value in table.items():
        name = _key(str(key))
        if (isinstance(value, Mapping) and not _is_inline(value)) or _is_table_list(value):
            later.append((name, value))
        else:
            lines.append(f"{name} = {_value(value, f'{path}.{name}')}")
    for name, value in later:
        here = f"{path}.{name}"
        if isinstance(value, Mapping):
            _table(lines, here, value, header=f"[{here}]")
        else:
            for item in value:
                _table(lines, here, item, header=f"[[{here}]]")


def _is_table_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _is_inline(table: Mapping[str, Any]) -> bool:
    return len(table) <= _INLINE_MAX and all(_is_plain(v) for v in table.values())


def _is_plain(value: object) -> bool:
    if isinstance(value, list):
        return all(_is_plain(v) and not isinstance(v, list) for v in value)
    return isinstance(value, str | int | bool)


_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped
    (JSON's escaping leaves DEL, U+007F, which TOML forbids raw)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif char < " " or char == "\x7f":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(key: str) -> str:
    return key if _BARE.fullmatch(key) else _string(key)


def _value(value: object, path: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, f"{path}[{i}]") for i, v in enumerate(value)) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_key(str(k))} = {_value(v, f'{path}.{k}')}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise PolicyError.at(path, f"{value!r} cannot be written as TOML")
