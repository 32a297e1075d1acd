"""What a decision needs of each table, worked out once per policy, and the memos a
decision shares its pure pieces through (a table's result and trace by the facts it
reads, a reason by its rule, text and facts)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any, Final, TypeVar

from cxrecovery.facts import BUILTIN_FACTS
from cxrecovery.model import Attributes
from cxrecovery.tables import DecisionTable, FactKind, FactSpec

T = TypeVar("T")

_Plain = str | int | bool | None
_DECIMAL: Final = FactKind.DECIMAL  # looked up once (an enum member is a Python lookup)
_is_builtin: Final = BUILTIN_FACTS.__contains__
_PLAIN_TYPES: Final = frozenset({str, int, bool, type(None)})


def scalar(value: object) -> _Plain:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def plain(value: object) -> _Plain:
    """``value`` as a plan shows a fact (``scalar``), with an exact class test first."""
    return value if value.__class__ in _PLAIN_TYPES else scalar(value)  # type: ignore[return-value]


# The classes of fact values whose class and plain form (``_scalars``) together fix
# the value as a table reads it: what a memo keyed by plain values may stand for.
_MEMO_SAFE: Final = frozenset({str, int, bool, type(None), Decimal})
# How many entries each memo of an engine (a table's results, the reasons) holds before
# it starts afresh: enough for every row combination a policy's tables meet in practice.
MEMO_LIMIT: Final = 4096


def remember(memo: dict[Any, T], key: object, value: T) -> T:
    """Keep ``value`` under ``key`` in a bounded memo (emptied when full); return it."""
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = value
    return value


def _memo_safe(facts: Mapping[str, object]) -> bool:
    """Whether every fact's value is of a class a memo key may stand for."""
    return _MEMO_SAFE.issuperset(map(type, facts.values()))


# A table's key in its memo of results, from the facts (KeyError when one of the facts
# it reads is missing).
MemoKey = Callable[[Mapping[str, object]], object]


def memo_key(
    names: Sequence[str],
    specs: Mapping[str, FactSpec],
    builtin: bool | None = None,
    decimals: list[int] | None = None,
) -> MemoKey:
    """How a table's memo keys its result, the table reading ``names``: each value as a
    plan shows it (``plain``), which with the fact's class fixes the value as the table
    reads it. A built-in fact's class is fixed by its kind (``derive_facts`` gives each
    kind one class, a decimal always a ``Decimal``), so its plain value is the key (the
    value itself for one fact, their tuple for several: an ``itemgetter``, called in C);
    a host fact's class is in the key too (True == 1). ``builtin`` (whether every one
    is a built-in fact) and ``decimals`` (the places of the decimal facts in ``names``)
    are worked out here unless given (see :func:`_kinds`).
    """
    if builtin is None or decimals is None:
        builtin, decimals = _kinds(names, specs)
    get = itemgetter(*names) if names else _nothing
    if not builtin:
        single = len(names) == 1

        def hosted(facts: Mapping[str, object]) -> tuple[object, ...]:
            values = (get(facts),) if single else get(facts)
            return (*map(plain, values), *map(type, values))

        return hosted
    if not decimals:
        return get
    if len(names) == 1:
        name = names[0]
        return lambda facts: plain(facts[name])

    def converted(facts: Mapping[str, object]) -> tuple[object, ...]:
        values = list(get(facts))
        for i in decimals:
            value = values[i]
            if value.__class__ is Decimal:
                values[i] = str(value)  # what scalar() gives a Decimal
        return tuple(values)

    return converted


def _nothing(facts: Mapping[str, object]) -> tuple[object, ...]:
    return ()


# The facts a table read, as its trace shows them: each one's plain value, by name.
Picker = Callable[[Mapping[str, object]], Attributes]
_from_sorted = Attributes._from_sorted


def _kinds(names: Sequence[str], specs: Mapping[str, FactSpec]) -> tuple[bool, list[int]]:
    """Whether every one of ``names`` is a built-in fact, and the places of those
    declared as decimals (what :func:`memo_key` and :func:`picker` build on)."""
    return all(map(_is_builtin, names)), [
        i for i, n in enumerate(names) if specs[n].kind is _DECIMAL
    ]


def picker(
    names: tuple[str, ...],
    specs: Mapping[str, FactSpec],
    builtin: bool | None = None,
    decimals: list[int] | None = None,
) -> Picker:
    """How a table's trace picks the facts it read, ``names`` (sorted, unique), from
    the facts once the table has read them (so every one is there): each value as a
    plan shows it (``plain``). A built-in fact other than a decimal is plain already
    (``derive_facts`` gives each kind one class, see ``memo_key``), so a table reading
    only those takes its values as they are, in C. ``builtin`` and ``decimals`` as
    :func:`memo_key` takes them."""
    if not names:
        return lambda facts: _from_sorted(())
    if builtin is None or decimals is None:
        builtin, decimals = _kinds(names, specs)
    get = itemgetter(*names)
    single = len(names) == 1
    if builtin and not decimals:
        if single:
            name = names[0]
            return lambda facts: _from_sorted(((name, get(facts)),))
        return lambda facts: _from_sorted(tuple(zip(names, get(facts), strict=True)))

    def converted(facts: Mapping[str, object]) -> Attributes:
        values = (get(facts),) if single else get(facts)
        return _from_sorted(tuple(zip(names, map(plain, values), strict=True)))

    return converted


# A memo entry, one list per table outcome the memo keeps (see DecisionContext._entry),
# and a table's part in a decision's trace: [0] the trace once made (None until a
# plan's trace is read, see _context.traced), [1] the table's slot, [2] its outcome
# (name, outputs, matched, chosen, shadowed: ``cxrecovery.tables.table_outcome``), [3] the fact
# values it read by input column, [4] the row it decides with (its outputs and id), or
# None when it decides nothing (see DecisionContext.decided).
Entry = list[Any]
Traced = Entry
# A decided row: its outputs and its id.
Row = tuple[Mapping[str, object], str]


class TableSlot:
    """One table as a decision uses it, by its path in the policy: the facts its trace
    lists (sorted, as Attributes keep them), the host facts it reads (a person decides
    when one has no value), each row's rule and the facts that row's cells test (what a
    reason citing the row lists), its memo of results with the key to it, and the facts
    its trace shows (``picked``)."""

    __slots__ = ("_pick", "_specs", "hosts", "inputs", "key", "memo", "path", "rows", "table")

    def __init__(self, path: str, table: DecisionTable, specs: Mapping[str, FactSpec]) -> None:
        self.path = path
        self.table = table
        names = self.inputs = tuple(sorted(set(table.inputs)))
        builtin, decimals = _kinds(names, specs)
        self.hosts = () if builtin else tuple(n for n in names if n not in BUILTIN_FACTS)
        # Each row's rule and facts, worked out on the row's first use (a decision
        # reads the rows its tables chose, a few of each table's).
        self.rows: dict[str, tuple[str, tuple[str, ...]]] = {}
        self.key = memo_key(names, specs, builtin, decimals)
        # How its trace picks the facts it read, made when a trace is first made (a
        # sweep makes none).
        self._pick: Picker | None = None
        self._specs = specs
        self.memo: dict[object, Entry] = {}

    def picked(self, facts: Mapping[str, object]) -> Attributes:
        """The facts the table read, as its trace shows them (see :func:`picker`)."""
        pick = self._pick
        if pick is None:
            pick = self._pick = picker(self.inputs, self._specs)
        return pick(facts)

    def row(self, row: str) -> tuple[str, tuple[str, ...]]:
        """Row ``row``'s rule and the facts its cells test."""
        found = self.rows.get(row)
        if found is None:
            facts: tuple[str, ...] = ()
            for rule in self.table.rules:
                if rule.id == row:
                    facts = tuple(sorted({c.fact.name for c in rule.conditions if not c.is_any}))
                    break
            found = self.rows[row] = (self.rule(row), facts)
        return found

    def rule(self, row: str) -> str:
        """Row ``row``'s rule (:meth:`row`'s first part, without the facts its cells
        test: a decision cites a row it chose, its explanation the facts)."""
        return f"{self.path}[{row}]"


def table_slots(
    located: Iterable[tuple[str, DecisionTable]], specs: Mapping[str, FactSpec]
) -> dict[str, TableSlot]:
    """Each table's slot, by its path."""
    return {path: TableSlot(path, table, specs) for path, table in located}
