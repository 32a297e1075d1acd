"""The nouns of service recovery: customers, touchpoints, failures, promises, cases.

Every type is a frozen, validated attrs class. A bad value fails where it is made, with
the field's name and the value in the message. Changes go through the pure functions in
:mod:`cxrecovery.transitions`, which return new values.
"""

from cxrecovery.model._case import (
    Agent,
    Attributes,
    Case,
    CaseEvent,
    Customer,
    ExpectationBaseline,
    Failure,
    Grant,
    Pause,
    PriorCase,
    Promise,
    Role,
    SurveyAnswer,
    Touchpoint,
)
from cxrecovery.model._kinds import (
    CaseEventKind,
    CaseStatus,
    Channel,
    CompensationForm,
    Direction,
    Fault,
    Outcome,
    PromiseStatus,
    Sentiment,
    Severity,
    SurveyMetric,
    TouchpointKind,
)

__all__ = [
    "Agent",
    "Attributes",
    "Case",
    "CaseEvent",
    "CaseEventKind",
    "CaseStatus",
    "Channel",
    "CompensationForm",
    "Customer",
    "Direction",
    "ExpectationBaseline",
    "Failure",
    "Fault",
    "Grant",
    "Outcome",
    "Pause",
    "PriorCase",
    "Promise",
    "PromiseStatus",
    "Role",
    "Sentiment",
    "Severity",
    "SurveyAnswer",
    "SurveyMetric",
    "Touchpoint",
    "TouchpointKind",
]
