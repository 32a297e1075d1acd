"""Frozen attrs values whose fields may be worked out on their first read.

A class that derives from :class:`Deferrable` and is made with ``@attrs.frozen`` (slotted)
stays an ordinary attrs class: its fields, ``__init__``, equality, hash, repr and pickling
are the ones attrs generates. ``cls._deferred(fill, **eager)`` makes an instance of that
same class with only the ``eager`` fields set. The others are set, all together, from
``fill()`` the first time any of them is read: a slotted class keeps each field in a slot,
reading an empty slot raises ``AttributeError``, and Python then calls ``__getattr__``,
which fills the slots and reads again. Everything attrs generates reads fields by name
(``==``, ``hash``, ``repr``, ``attrs.evolve``, ``attrs.asdict``, pickle's
``__getstate__``, hence ``copy`` and ``deepcopy``), so each of them sees the filled value;
a slot once set is read at C speed and ``__getattr__`` is never called again.

The pending ``fill`` lives in one slot of its own, ``_pending``, declared on this base
class (attrs rewrites the ``__slots__`` of the class it decorates, but keeps those of its
bases). It is not an attrs field, so ``attrs.fields``, ``asdict`` and the pickled state do
not change; pickle and ``copy`` carry the filled values and never the callable. After the
fill, the slot holds ``None`` and ``fill`` (with everything it holds on to) is released.

Filling takes a per-instance re-entrant lock: two threads reading at once see one fill,
and a thread reading a field not yet set waits for it. ``fill`` runs at most once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Self

import attrs

__all__ = ["Deferrable"]

_set = object.__setattr__
_get = object.__getattribute__


class _Pending:
    """A fill still to run: the callable, the lock that makes it run once, and whether it
    is running (to refuse a fill that reads the value it is filling)."""

    __slots__ = ("fill", "filling", "lock")

    def __init__(self, fill: Callable[[], Mapping[str, object]]) -> None:
        self.fill = fill
        self.lock = threading.RLock()
        self.filling = False


class Deferrable:
    """Base of a frozen, slotted attrs class whose fields may be filled on first read."""

    __slots__ = ("_pending",)

    @classmethod
    def _deferred(cls, fill: Callable[[], Mapping[str, object]], /, **eager: object) -> Self:
        """An instance with the ``eager`` fields set and the rest from ``fill()``.

        ``fill`` takes no argument and returns a dict holding exactly the fields not in
        ``eager``; it runs once, on the first read of any of them, and is then dropped.
        Until then it (and whatever it refers to) stays alive. No validator or converter
        runs on either part: the caller gives finished field values.

        Raises:
            TypeError: a name in ``eager`` is not a field of the class.
        """
        names = _field_names(cls)
        unknown = eager.keys() - names
        if unknown:
            raise TypeError(f"{cls.__name__} has no field {', '.join(sorted(unknown))}")
        made = object.__new__(cls)
        for name, value in eager.items():
            _set(made, name, value)
        if len(eager) < len(names):
            _set(made, "_pending", _Pending(fill))
        return made

    if not TYPE_CHECKING:  # hidden from type checkers, which would accept any name then

        def __getattr__(self, name: str) -> Any:
            # Only reached when normal lookup failed: here, an empty slot.
            try:
                pending = _get(self, "_pending")
            except AttributeError:  # made by __init__, or being unpickled
                pending = None
            if pending is not None and name in _field_names(type(self)):
                _fill(self, pending)
            return _get(self, name)


_FIELDS: dict[type, frozenset[str]] = {}


def _field_names(cls: type) -> frozenset[str]:
    names = _FIELDS.get(cls)
    if names is None:  # the same value whichever thread computes it
        names = _FIELDS[cls] = frozenset(f.name for f in attrs.fields(cls))
    return names


def _fill(made: Deferrable, pending: _Pending) -> None:
    with pending.lock:
        if _get(made, "_pending") is not pending:
            return  # another thread filled it while this one waited
        if pending.filling:
            raise RuntimeError(
                f"the fill of a deferred {type(made).__name__} read one of the fields it fills"
            )
        pending.filling = True
        try:
            values = pending.fill()
        finally:
            pending.filling = False
        missing = sorted(n for n in _field_names(type(made)) if not _is_set(made, n))
        if not isinstance(values, Mapping) or sorted(values) != missing:
            got = sorted(values) if isinstance(values, Mapping) else type(values).__name__
            raise TypeError(
                f"the fill of a deferred {type(made).__name__} must give exactly "
                f"{missing}, gave {got}"
            )
        for name in missing:
            _set(made, name, values[name])
        _set(made, "_pending", None)


def _is_set(made: object, name: str) -> bool:
    try:
        _get(made, name)
    except AttributeError:
        return False
    return True
