"""Checks of domain arguments at the public entry points (engine, ledger, replay).

Each turns a wrong argument into an :class:`~cxrecovery.errors.InvalidValueError` that
names it, instead of an ``AttributeError`` from deep inside.
"""

from __future__ import annotations

from cxrecovery.errors import InvalidValueError
from cxrecovery.model._case import Case

__all__ = ["case_arg"]


def case_arg(value: object, name: str = "case") -> Case:
    """``value`` if it is a Case; otherwise InvalidValueError at ``name``."""
    if not isinstance(value, Case):
        raise InvalidValueError.at(name, f"{value!r} is not a Case; load it with load_case")
    return value
