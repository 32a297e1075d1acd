"""Many cases at once: replay a policy over history, compare two, sweep what is due.

.. versionadded:: 0.1.0
"""

from cxrecovery.engine.sweep import DueItem, DueKind, SweepResult, sweep
from cxrecovery.replay._compare import CaseChange, Comparison, compare, plan_digest
from cxrecovery.replay._replay import read_cases, simulate, walk_instants
from cxrecovery.replay._report import html_report, write_table
from cxrecovery.replay._synth import synthetic_cases
from cxrecovery.replay._tally import BadLine, Summary

__all__ = [
    "BadLine",
    "CaseChange",
    "Comparison",
    "DueItem",
    "DueKind",
    "Summary",
    "SweepResult",
    "compare",
    "html_report",
    "plan_digest",
    "read_cases",
    "simulate",
    "sweep",
    "synthetic_cases",
    "walk_instants",
    "write_table",
]
