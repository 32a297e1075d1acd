"""cxrecovery: service recovery decisions for CRMs, help desks and back offices.

The public API is what this module re-exports; everything else is private. Names are
loaded on first use (PEP 562), so ``import cxrecovery`` stays cheap for a host that
needs only part of it; ``from cxrecovery import Engine`` works as usual.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cxrecovery._version import __version__
from cxrecovery.errors import (
    CalendarError,
    CurrencyMismatchError,
    CxRecoveryError,
    DocumentError,
    InvalidValueError,
    MoneyError,
    PolicyError,
    Problem,
    TransitionError,
    UnknownTimeZoneError,
)

if TYPE_CHECKING:
    from cxrecovery.businesstime import (
        BusinessCalendar,
        Clock,
        ClockSpec,
        ClockWarning,
        ExtraOpening,
        Holiday,
        PauseRule,
        Window,
        country_holidays,
        in_zone,
    )
    from cxrecovery.documents import (
        case_schema,
        dump,
        load,
        load_case,
    )
    from cxrecovery.engine import (
        Engine,
    )
    from cxrecovery.facts import (
        FactProvider,
    )
    from cxrecovery.model import (
        Agent,
        Attributes,
        Case,
        CaseStatus,
        Channel,
        CompensationForm,
        Customer,
        Direction,
        ExpectationBaseline,
        Failure,
        Fault,
        Grant,
        Outcome,
        Pause,
        PriorCase,
        Promise,
        PromiseStatus,
        Role,
        Sentiment,
        Severity,
        SurveyAnswer,
        SurveyMetric,
        Touchpoint,
        TouchpointKind,
    )
    from cxrecovery.money import (
        Money,
    )
    from cxrecovery.plan import (
        Action,
        ActionKind,
        Approval,
        Authority,
        Authorization,
        ClockState,
        ClockStatus,
        LimitCheck,
        Reason,
        RecoveryPlan,
        TableTrace,
        WarningTime,
    )
    from cxrecovery.policy import (
        Policy,
        default_policy,
        load_policy,
    )
    from cxrecovery.tables import (
        Aggregation,
        DecisionTable,
        FactKind,
        FactSpec,
        HitPolicy,
        TableResult,
    )
    from cxrecovery.transitions import (
        assign,
        close,
        make_promise,
        pause,
        record_grant,
        record_touchpoint,
        resolve,
        resume,
        settle_promise,
    )

# Where each lazily loaded public name lives.
_LAZY: dict[str, str] = {
    "BusinessCalendar": "cxrecovery.businesstime",
    "Clock": "cxrecovery.businesstime",
    "ClockSpec": "cxrecovery.businesstime",
    "ClockWarning": "cxrecovery.businesstime",
    "ExtraOpening": "cxrecovery.businesstime",
    "Holiday": "cxrecovery.businesstime",
    "PauseRule": "cxrecovery.businesstime",
    "Window": "cxrecovery.businesstime",
    "country_holidays": "cxrecovery.businesstime",
    "in_zone": "cxrecovery.businesstime",
    "case_schema": "cxrecovery.documents",
    "dump": "cxrecovery.documents",
    "load": "cxrecovery.documents",
    "load_case": "cxrecovery.documents",
    "Engine": "cxrecovery.engine",
    "FactProvider": "cxrecovery.facts",
    "Agent": "cxrecovery.model",
    "Attributes": "cxrecovery.model",
    "Case": "cxrecovery.model",
    "CaseStatus": "cxrecovery.model",
    "Channel": "cxrecovery.model",
    "CompensationForm": "cxrecovery.model",
    "Customer": "cxrecovery.model",
    "Direction": "cxrecovery.model",
    "ExpectationBaseline": "cxrecovery.model",
    "Failure": "cxrecovery.model",
    "Fault": "cxrecovery.model",
    "Grant": "cxrecovery.model",
    "Outcome": "cxrecovery.model",
    "Pause": "cxrecovery.model",
    "PriorCase": "cxrecovery.model",
    "Promise": "cxrecovery.model",
    "PromiseStatus": "cxrecovery.model",
    "Role": "cxrecovery.model",
    "Sentiment": "cxrecovery.model",
    "Severity": "cxrecovery.model",
    "SurveyAnswer": "cxrecovery.model",
    "SurveyMetric": "cxrecovery.model",
    "Touchpoint": "cxrecovery.model",
    "TouchpointKind": "cxrecovery.model",
    "Money": "cxrecovery.money",
    "Action": "cxrecovery.plan",
    "ActionKind": "cxrecovery.plan",
    "Approval": "cxrecovery.plan",
    "Authority": "cxrecovery.plan",
    "Authorization": "cxrecovery.plan",
    "ClockState": "cxrecovery.plan",
    "ClockStatus": "cxrecovery.plan",
    "LimitCheck": "cxrecovery.plan",
    "Reason": "cxrecovery.plan",
    "RecoveryPlan": "cxrecovery.plan",
    "TableTrace": "cxrecovery.plan",
    "WarningTime": "cxrecovery.plan",
    "Policy": "cxrecovery.policy",
    "default_policy": "cxrecovery.policy",
    "load_policy": "cxrecovery.policy",
    "Aggregation": "cxrecovery.tables",
    "DecisionTable": "cxrecovery.tables",
    "FactKind": "cxrecovery.tables",
    "FactSpec": "cxrecovery.tables",
    "HitPolicy": "cxrecovery.tables",
    "TableResult": "cxrecovery.tables",
    "assign": "cxrecovery.transitions",
    "close": "cxrecovery.transitions",
    "make_promise": "cxrecovery.transitions",
    "pause": "cxrecovery.transitions",
    "record_grant": "cxrecovery.transitions",
    "record_touchpoint": "cxrecovery.transitions",
    "resolve": "cxrecovery.transitions",
    "resume": "cxrecovery.transitions",
    "settle_promise": "cxrecovery.transitions",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cxrecovery' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "Action",
    "ActionKind",
    "Agent",
    "Aggregation",
    "Approval",
    "Attributes",
    "Authority",
    "Authorization",
    "BusinessCalendar",
    "CalendarError",
    "Case",
    "CaseStatus",
    "Channel",
    "Clock",
    "ClockSpec",
    "ClockState",
    "ClockStatus",
    "ClockWarning",
    "CompensationForm",
    "CurrencyMismatchError",
    "Customer",
    "CxRecoveryError",
    "DecisionTable",
    "Direction",
    "DocumentError",
    "Engine",
    "ExpectationBaseline",
    "ExtraOpening",
    "FactKind",
    "FactProvider",
    "FactSpec",
    "Failure",
    "Fault",
    "Grant",
    "HitPolicy",
    "Holiday",
    "InvalidValueError",
    "LimitCheck",
    "Money",
    "MoneyError",
    "Outcome",
    "Pause",
    "PauseRule",
    "Policy",
    "PolicyError",
    "PriorCase",
    "Problem",
    "Promise",
    "PromiseStatus",
    "Reason",
    "RecoveryPlan",
    "Role",
    "Sentiment",
    "Severity",
    "SurveyAnswer",
    "SurveyMetric",
    "TableResult",
    "TableTrace",
    "Touchpoint",
    "TouchpointKind",
    "TransitionError",
    "UnknownTimeZoneError",
    "WarningTime",
    "Window",
    "__version__",
    "assign",
    "case_schema",
    "close",
    "country_holidays",
    "default_policy",
    "dump",
    "in_zone",
    "load",
    "load_case",
    "load_policy",
    "make_promise",
    "pause",
    "record_grant",
    "record_touchpoint",
    "resolve",
    "resume",
    "settle_promise",
]
