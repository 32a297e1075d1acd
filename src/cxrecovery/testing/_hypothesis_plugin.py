"""Registers cxrecovery's strategies with hypothesis (its ``hypothesis`` entry point),
so that ``st.from_type(Case)`` and ``st.builds(...)`` draw valid values.

hypothesis calls the hook at the end of its own import, which may happen while
:mod:`cxrecovery.testing.strategies` is itself being imported (it imports hypothesis).
So each strategy is registered deferred: the strategies module is looked up on the first
draw, never during the hook.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import importlib
from typing import Any

from hypothesis import strategies as st

__all__ = ["_hypothesis_setup_hook"]


def _deferred(name: str) -> st.SearchStrategy[Any]:
    def strategy() -> st.SearchStrategy[Any]:
        module = importlib.import_module("cxrecovery.testing.strategies")
        made: st.SearchStrategy[Any] = getattr(module, name)()
        return made

    return st.deferred(strategy)


def _hypothesis_setup_hook() -> None:
    """Register a strategy for every cxrecovery domain type a test may ask for."""
    from cxrecovery.businesstime import BusinessCalendar
    from cxrecovery.model import Case, Customer, Failure, Promise, Touchpoint
    from cxrecovery.money import Money
    from cxrecovery.policy import Policy

    for kind, name in (
        (Case, "cases"),
        (Customer, "customers"),
        (Failure, "failures"),
        (Promise, "promises"),
        (Touchpoint, "touchpoints"),
        (Money, "money"),
        (BusinessCalendar, "business_calendars"),
        (Policy, "policies"),
    ):
        st.register_type_strategy(kind, _deferred(name))
