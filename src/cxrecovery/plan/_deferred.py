"""Frozen attrs values whose fields may be worked out on their first read.

A class that derives from :class:`Deferrable` and is made with ``@attrs.frozen`` (slotted)
stays an ordinary attrs class: its fields, ``__init__``, equality, hash, repr and pickling
are the ones attrs generates. ``cls._deferred(fill, **eager)`` makes an instance of that
same class with only the ``eager`` fields set (``cls._deferring(*names)`` is the maker
that takes them by position, for a caller that makes many alike). The others are set,
all together, from ``fill()`` the first time any of them is read: a slotted class keeps
each field in a slot, reading an empty slot raises ``AttributeError``, and Python then
calls ``__getattr__``, which fills the slots and reads again. Everything attrs generates
reads fields by name (``==``, ``hash``, ``repr``, ``attrs.evolve``, ``attrs.asdict``,
pickle's ``__getstate__``, hence ``copy`` and ``deepcopy``), so each of them sees the
filled value; a slot once set is read at C speed and ``__getattr__`` is never called
again.

The pending ``fill`` lives in a slot of its own, ``_pending`` (beside ``_left``, the
fields it is to give, one bit a field in field order), declared on this base class:
attrs rewrites the ``__slots__`` of the class it decorates, but keeps those of its
bases. Neither is an attrs field, so ``attrs.fields``, ``asdict`` and the pickled state
do not change; pickle and ``copy`` carry the filled values and never the callable. After
the fill ``_pending`` holds ``None``: ``fill``, and everything it holds on to, is
released.

Fills run under one re-entrant lock for the module: two threads reading at once see one
fill (the second waits for it), and a thread reading a field not yet set waits for it.
``fill`` runs at most once per instance (again only if it raised). Fills are pure
computations, so one lock costs nothing under the GIL and needs none made per instance.

One field read alone: a fill made of :class:`FieldParts` (one function per field) gives one of
its fields early, to :func:`early`, without working out the others; the fill then gives
that same value with the rest. This is the one way for code that needs part of a
deferred value (a replay adding up what plans decide needs their actions, not their
facts) to read it without paying for the whole.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any, Final, Self

import attrs

from cxrecovery._validation import settable_twin
from cxrecovery.errors import InvalidValueError

__all__ = ["Deferrable", "FieldParts", "Parts", "early", "source"]

Fill = Callable[[], Mapping[str, object]]

_set: Final = object.__setattr__
_get: Final = object.__getattribute__
_LOCK: Final = threading.RLock()


class _Filling:
    """What the ``_pending`` slot holds while its fill runs (a fill that reads the value it
    fills would otherwise recurse without end)."""

    __slots__ = ()


_FILLING: Final = _Filling()
_NOTHING: Final = _Filling()  # an argument not given to a maker (never a field's value)
# Each class's field setters (the slots' own descriptors), by field name.
_SETTERS: dict[type, dict[str, Callable[[object, object], None]]] = {}
# Each class's fields as bits (the first field 1, the next 2, ...), by field name.
_BITS: dict[type, dict[str, int]] = {}
# Each class's makers, by the names of the fields they set (``Deferrable._deferring``).
_MAKERS: dict[tuple[type, tuple[str, ...]], Callable[..., Any]] = {}
# Each class's settable twin, which its makers make and then give the class.
_TWINS: dict[type, type] = {}


class Deferrable:
    """Base of a frozen, slotted attrs class whose fields may be filled on first read."""

    __slots__ = ("_left", "_pending")

    @classmethod
    def _deferred(cls, fill: Fill, /, **eager: object) -> Self:
        """An instance with the ``eager`` fields set and the rest from ``fill()``.

        ``fill`` takes no argument and returns a mapping of exactly the fields not in
        ``eager``; it runs once, on the first read of any of them, and is then dropped.
        Until then it (and whatever it refers to) stays alive. No validator or converter
        runs on either part: the caller gives finished field values.

        The first call for a class puts in its place a maker written for the class's
        fields (each a keyword with no default), as attrs writes an ``__init__``. A
        caller that makes many with the same fields given gets a maker that takes them
        by position instead (``_deferring``): each keyword of a call costs more than a
        position.

        Raises:
            TypeError: a name in ``eager`` is not a field of the class.
        """
        made: Self = _install(cls)(cls, fill, **eager)
        return made

    @classmethod
    def _deferring(cls, *names: str) -> Callable[..., Self]:
        """The maker of deferred instances with the fields ``names`` set, by position:
        ``maker(fill, v1, v2, ...)`` is ``cls._deferred(fill, n1=v1, n2=v2, ...)``.

        It is written for those fields once per class and names, and kept (see
        :func:`_maker`).

        Raises:
            TypeError: a name is not a field of the class, or is given twice.
        """
        key = (cls, names)
        maker = _MAKERS.get(key)
        if maker is None:  # the same maker whichever thread writes it
            maker = _MAKERS[key] = _maker(cls, names)
        return maker

    if not TYPE_CHECKING:  # hidden from type checkers, which would accept any name then

        def __getattr__(self, name: str) -> Any:
            # Only reached when normal lookup failed: here, an empty slot.
            try:
                pending = _get(self, "_pending")
            except AttributeError:  # made by __init__, or being unpickled
                pending = None
            if pending is not None and name in _setters(type(self)):
                _fill(self)
            return _get(self, name)


class FieldParts:
    """A fill made of one function per field, each given the same argument.

    ``FieldParts(arg, {"a": f, "b": g})()`` is ``{"a": f(arg), "b": g(arg)}``; a field given
    early (:func:`early`) is worked out then, alone, and kept: the fill gives that same
    value and works out only the others. Each function runs at most once.
    """

    __slots__ = ("_arg", "_made", "_parts")

    def __init__(self, arg: object, parts: Mapping[str, Callable[[Any], object]]) -> None:
        """Raises:
        InvalidValueError: ``parts`` is not a mapping. (A part that is not a function
            of one argument is found when it is called, and said then.)
        """
        if parts.__class__ is not dict and not isinstance(parts, Mapping):
            _check_parts(parts)
        self._arg = arg
        self._parts = parts
        self._made: dict[str, object] | None = None

    def __call__(self) -> dict[str, Any]:
        made, arg = self._made, self._arg
        try:
            if made is None:
                return {name: part(arg) for name, part in self._parts.items()}
            return {
                name: made[name] if name in made else part(arg)
                for name, part in self._parts.items()
            }
        except TypeError:
            _check_parts(self._parts)  # a part not callable: say which
            raise

    def _early(self, name: str) -> object:
        made = self._made
        if made is None:
            made = self._made = {}
        elif name in made:
            return made[name]
        part = self._parts[name]
        try:
            value = made[name] = part(self._arg)
        except TypeError:
            _check_parts(self._parts)  # a part not callable: say which
            raise
        return value


class Parts:
    """A fill's function made of one function per field, each given the fill's arguments.

    ``partial(Parts({"a": f, "b": g}), x, y)()`` is ``{"a": f(x, y), "b": g(x, y)}``: one
    ``Parts`` serves every value of a kind (a constant), so the fill costs a ``partial``
    (for values made by the thousand, each read whole rarely). A field given early
    (:func:`early`) is worked out then, alone, and not kept: its function is pure, and
    the fill works out an equal value again.
    """

    __slots__ = ("_parts",)

    def __init__(self, parts: Mapping[str, Callable[..., object]]) -> None:
        """Raises:
        InvalidValueError: ``parts`` is not a mapping of field names to functions.
        """
        _check_parts(parts)
        self._parts = parts

    def __call__(self, *args: object) -> dict[str, Any]:
        return {name: part(*args) for name, part in self._parts.items()}


def early(made: Deferrable, name: str) -> Any:
    """Field ``name`` of ``made``, without filling its other fields when it can be read
    alone: when ``made`` is deferred to :class:`FieldParts` that make ``name``, that part
    alone is worked out now (and kept for the fill); to a ``partial`` of :class:`Parts`
    that make it, that part alone is worked out now (and again by the fill, if it runs);
    otherwise, the field as any read gives it (filling the deferred fields if they are
    not yet set).

    Raises:
        InvalidValueError: ``made`` is not an attrs value, or ``name`` is not one of its
            fields.
    """
    try:
        try:
            pending = _get(made, "_pending")
        except AttributeError:  # made by __init__ (every field set), or being unpickled
            return getattr(made, name)
        if type(pending) is partial:
            parts = pending.func
            if type(parts) is Parts and name in parts._parts:
                return parts._parts[name](*pending.args)
        elif type(pending) is FieldParts:
            with _LOCK:
                pending = _get(made, "_pending")  # filled meanwhile by another thread?
                if type(pending) is FieldParts and name in pending._parts:
                    return pending._early(name)
        return getattr(made, name)
    except (AttributeError, TypeError):
        _check_field(made, name)  # not a field of an attrs value: say so
        raise


def _check_parts(parts: object) -> None:
    """Raise :class:`InvalidValueError` unless ``parts`` maps field names to functions."""
    if not isinstance(parts, Mapping):
        raise InvalidValueError.at(
            "parts", f"{parts!r:.60} is not a mapping of field names to functions"
        )
    for name, part in parts.items():
        if not isinstance(name, str):
            raise InvalidValueError.at("parts", f"{name!r:.60} is not a field name")
        if not callable(part):
            raise InvalidValueError.at(f"parts[{name!r}]", f"{part!r:.60} is not a function")


def _check_field(made: object, name: object) -> None:
    """Raise :class:`InvalidValueError` unless ``name`` is a field of the attrs value
    ``made``."""
    cls = type(made)
    if not attrs.has(cls):
        raise InvalidValueError.at("made", f"{made!r:.60} is not an attrs value")
    if not isinstance(name, str) or name not in attrs.fields_dict(cls):
        raise InvalidValueError.at("name", f"{name!r:.60} is not a field of {type(made).__name__}")


def source(made: Deferrable) -> object:
    """What the fields of ``made`` still to fill are worked out from: the argument of its
    :class:`FieldParts` fill while that waits, or the arguments (a tuple) of its fill
    that is a ``partial`` of :class:`Parts`; ``None`` once it is filled (or filling),
    for a value made whole, or for a fill of another kind.

    For code that reads part of a deferred value from what the value is made of, and
    knows that argument's type (the engine, whose decision a plan's explanation is
    worked out from: a sweep lists what a decision makes due without making the plan's
    actions, and which warnings of a clock state fired without showing the others).
    Nothing is filled.
    """
    try:
        pending = _get(made, "_pending")
    except AttributeError:  # made by __init__ (every field set), or being unpickled
        return None
    kind = type(pending)
    if kind is FieldParts:
        return pending._arg
    if kind is partial and type(pending.func) is Parts:
        return pending.args
    return None


def _setters(cls: type) -> dict[str, Callable[[object, object], None]]:
    setters = _SETTERS.get(cls)
    if setters is None:  # the same value whichever thread makes it
        setters = {f.name: getattr(cls, f.name).__set__ for f in attrs.fields(cls)}
        _SETTERS[cls] = setters
    return setters


def _bits(cls: type) -> dict[str, int]:
    bits = _BITS.get(cls)
    if bits is None:  # the same value whichever thread makes it
        bits = {name: 1 << i for i, name in enumerate(_setters(cls))}
        _BITS[cls] = bits
    return bits


def _install(cls: type) -> Callable[..., Any]:
    """Write ``cls``'s maker by keyword and put it in the place of ``_deferred`` on ``cls``."""
    maker = _maker(cls, None)
    type.__setattr__(cls, "_deferred", classmethod(maker))
    return maker


def _other(cls: type, fill: Fill, given: dict[str, object]) -> Any:
    """A subclass's deferred instance, asked of the keyword maker it inherited."""
    eager = {name: value for name, value in given.items() if value is not _NOTHING}
    return _install(cls)(cls, fill, **eager)


def _maker(cls: type, names: tuple[str, ...] | None) -> Callable[..., Any]:
    """``cls``'s maker: by keyword, any of its fields (``names`` is ``None``: each field a
    keyword, set when given, counted when not); or by position, the fields ``names``.

    The maker makes an empty instance of ``cls``'s settable twin
    (:func:`cxrecovery._validation.settable_twin`), sets the given fields as plain
    attributes, the fill and the fields it owes (as bits), and then gives the instance
    ``cls`` as its class.
    """
    bits = _bits(cls)
    # Local names start with two underscores, so that no field name can shadow them.
    if names is None:
        fields = list(bits)
        given = ", ".join(f"{n!r}: {n}" for n in fields)
        lines = [
            f"def _deferred(__cls, __fill, /, *, {', '.join(f'{n}=__N' for n in fields)}):",
            "    if __cls is not __own:",
            f"        return __other(__cls, __fill, {{{given}}})",
            "    __made = __twin()",
            "    __left = 0",
        ]
        for n in fields:
            lines.append(f"    if {n} is __N: __left |= {bits[n]}")
            lines.append(f"    else: __made.{n} = {n}")
        lines += [
            "    if __left:",
            "        __made._pending = __fill",
            "        __made._left = __left",
        ]
    else:
        for i, name in enumerate(names):
            if name not in bits or name in names[:i]:
                why = "an unexpected" if name not in bits else "a repeated"
                raise TypeError(f"{cls.__qualname__}._deferring() got {why} field {name!r}")
        left = sum(bits.values()) & ~sum(bits[name] for name in names)
        lines = [f"def _deferred(__fill{''.join(f', {n}' for n in names)}, /):"]
        lines.append("    __made = __twin()")
        lines += [f"    __made.{n} = {n}" for n in names]
        if left:  # every field given: nothing to fill, the instance is whole
            lines += ["    __made._pending = __fill", f"    __made._left = {left}"]
    lines += ["    __made.__class__ = __own", "    return __made"]
    twin = _TWINS.get(cls)
    if twin is None:  # one twin for all of a class's makers
        twin = _TWINS[cls] = settable_twin(cls, "being made")
    scope: dict[str, Any] = {
        "__N": _NOTHING,
        "__twin": twin,
        "__own": cls,
        "__other": _other,
    }
    exec("\n".join(lines), scope)  # the source is made of the field names alone
    maker: Callable[..., Any] = scope["_deferred"]
    maker.__qualname__ = f"{cls.__qualname__}._deferred"
    maker.__doc__ = Deferrable._deferred.__doc__ if names is None else None
    return maker


def _fill(made: Deferrable) -> None:
    with _LOCK:
        fill = _get(made, "_pending")
        if fill is None:
            return  # another thread filled it while this one waited
        if fill is _FILLING:
            raise RuntimeError(
                f"the fill of a deferred {type(made).__name__} read one of the fields it fills"
            )
        _set(made, "_pending", _FILLING)
        try:
            values = fill()
        except BaseException:
            _set(made, "_pending", fill)  # still to fill: a later read tries again
            raise
        cls = type(made)
        # The fields given, as bits: exactly those left (a name given once each).
        given = 0
        if type(values) is dict or isinstance(values, Mapping):
            bits = _BITS[cls]
            for name in values:
                bit = bits.get(name)
                if bit is None:
                    given = -1
                    break
                given |= bit
        else:
            given = -1
        if given != _get(made, "_left"):
            _set(made, "_pending", fill)
            setters = _SETTERS[cls]
            missing = sorted(n for n in setters if not _is_set(made, n))
            got = sorted(values) if isinstance(values, Mapping) else type(values).__name__
            raise TypeError(
                f"the fill of a deferred {type(made).__name__} must give exactly "
                f"{missing}, gave {got}"
            )
        setters = _SETTERS[cls]
        for name, value in values.items():
            setters[name](made, value)
        _set(made, "_pending", None)


def _is_set(made: object, name: str) -> bool:
    try:
        _get(made, name)
    except AttributeError:
        return False
    return True
