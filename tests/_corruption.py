"""Shared by the corrupted-document property tests: every place in a nested document."""

from __future__ import annotations

from typing import Any


def places(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into ``data`` (keys and list indexes), the document itself first."""
    found = [path]
    if isinstance(data, dict):
        for key, value in data.items():
            found.extend(places(value, (*path, key)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found.extend(places(value, (*path, i)))
    return found
