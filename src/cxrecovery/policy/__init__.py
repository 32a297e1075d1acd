"""Policies as data: load, check and describe recovery policies.

.. versionadded:: 0.1.0
"""

from cxrecovery.policy._diff import PolicyChange, diff_policies
from cxrecovery.policy._load import default_policy, load_policy, merge_documents, read_document
from cxrecovery.policy._model import (
    ClockPolicy,
    ClockStart,
    ClockStop,
    CompensationPolicy,
    EscalationLevel,
    EscalationPolicy,
    FactPolicy,
    Policy,
    PromisePolicy,
    RolePolicy,
    Tier,
)

__all__ = [
    "ClockPolicy",
    "ClockStart",
    "ClockStop",
    "CompensationPolicy",
    "EscalationLevel",
    "EscalationPolicy",
    "FactPolicy",
    "Policy",
    "PolicyChange",
    "PromisePolicy",
    "RolePolicy",
    "Tier",
    "default_policy",
    "diff_policies",
    "load_policy",
    "merge_documents",
    "read_document",
]
