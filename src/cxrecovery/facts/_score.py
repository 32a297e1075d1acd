"""The relationship score: a recency-weighted mean of the events' values."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, getcontext
from functools import lru_cache
from operator import getitem
from typing import Final

_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_CENT: Final = Decimal("0.01")
# The values an event sways relationship health by, in the order a tuple indexed by the
# value holds them (-2 and -1 from its end).
_EVENT_VALUES: Final = (0, 1, 2, -2, -1)
_product: Final[Callable[[tuple[Decimal, ...], int], Decimal]] = getitem


def _recency_score(values: list[int], decay: Decimal) -> Decimal:
    """Recency-weighted mean of the events' ``values`` (in time order): the latest weighs 1,
    the one before ``decay``, …

    The sum of weight × value over the sum of the weights, each step in Decimal in the
    current context, quantized to hundredths.
    """
    if not values:
        return _ZERO
    context = getcontext()
    # (The values in time order: a case's key without reversing them first.)
    return _score(tuple(values), decay, context.prec, context.rounding)


@lru_cache(maxsize=4096)
def _score(values: tuple[int, ...], decay: Decimal, precision: int, rounding: str) -> Decimal:
    """The score of events of ``values``, in time order, in a context of ``precision``
    and ``rounding`` (the current one): cases with the same values share it."""
    products, weighed = _weights(decay, len(values), precision, rounding)
    # Each event's weight × value, looked up, the latest first; sum() adds them left to
    # right from its start, as a loop would: the same steps.
    summed: Decimal = sum(map(_product, products, reversed(values)), _ZERO)
    return (summed / weighed).quantize(_CENT)


@lru_cache(maxsize=256)
def _weights(
    decay: Decimal, count: int, precision: int, rounding: str
) -> tuple[tuple[tuple[Decimal, ...], ...], Decimal]:
    """For ``count`` events, the latest first: each one's weight (1, ``decay``, ``decay``
    × ``decay``…) times each value an event may have (-2 to 2, at that index), and the
    sum of the weights; each step in Decimal in the current context (whose
    ``precision`` and ``rounding`` are in the key): the same for every case with as many
    events."""
    weighing = _ONE
    weighed = _ZERO
    products = []
    for _ in range(count):
        products.append(tuple(weighing * value for value in _EVENT_VALUES))
        weighed += weighing
        weighing *= decay
    return tuple(products), weighed
