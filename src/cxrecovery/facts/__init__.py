"""What a case means at a time: the facts a policy's tables read.

:func:`derive_facts` turns a case and an instant into a flat mapping of named, typed
values (severity, effort, time in limbo, broken promises, history, relationship
health…). It reads nothing but its arguments. Hosts add facts of their own through the
:class:`FactProvider` protocol; a policy that names a fact nobody provides fails when it
is compiled.
"""

from cxrecovery.facts._builtin import (
    BUILTIN_FACTS,
    EFFORT_LEVELS,
    HEALTH_LEVELS,
    HISTORY_LEVELS,
    FactProvider,
    FactSettings,
    Timeline,
)
from cxrecovery.facts._derive import derive_facts, derive_facts_but_limbo, limbo_hours

__all__ = [
    "BUILTIN_FACTS",
    "EFFORT_LEVELS",
    "HEALTH_LEVELS",
    "HISTORY_LEVELS",
    "FactProvider",
    "FactSettings",
    "Timeline",
    "derive_facts",
    "derive_facts_but_limbo",
    "limbo_hours",
]
