"""What the tests of deferred values share."""

from __future__ import annotations


def is_set(value: object, name: str) -> bool:
    """Whether field ``name`` of ``value`` is set, read without filling it (a deferred
    value's ``__getattr__`` fills on a read of an empty slot; this reads past it)."""
    try:
        object.__getattribute__(value, name)
    except AttributeError:
        return False
    return True
