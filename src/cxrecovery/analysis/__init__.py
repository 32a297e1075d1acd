"""Policy assurance: prove things about a policy before it decides anything.

:func:`check_policy` reads a policy (a file, text, a mapping or a loaded
:class:`~cxrecovery.policy.Policy`), compiles it and reports every :class:`Finding`:
gaps, overlaps, shadowed, subsumed and duplicate rows in each decision table (decided by
exact sweeps over the typed columns, not by sampling), and across the policy,
compensation that falls as severity or history rises, tiers above the hard cap, a
ladder whose limits fall, approvals no role can give, escalation that climbs down,
clock targets that contradict each other, calendars that never open and definitions
nothing uses.  A policy the loader refuses is reported too: each of its problems is an
error finding.

The finding codes are listed in ``docs/assurance.md``.

.. versionadded:: 0.1.0
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from cxrecovery.analysis._compensation import compensation_findings
from cxrecovery.analysis._findings import Finding, FindingSeverity, LintReport, merged
from cxrecovery.analysis._policy import (
    calendar_findings,
    clock_findings,
    escalation_findings,
    ladder_findings,
    role_findings,
    unused_findings,
)
from cxrecovery.analysis._sweep import Cell, Region, column_cells, regions
from cxrecovery.analysis._tables import analyze_table
from cxrecovery.engine.compile import compile_policy
from cxrecovery.errors import PolicyError
from cxrecovery.facts import FactProvider
from cxrecovery.limits import Limits
from cxrecovery.policy import Policy, load_policy, read_document

__all__ = [
    "Cell",
    "Finding",
    "FindingSeverity",
    "LintReport",
    "Region",
    "analyze_policy",
    "analyze_table",
    "category_findings",
    "check_policy",
    "column_cells",
    "read_policy_document",
    "regions",
]


def read_policy_document(
    path: str | os.PathLike[str], *, limits: Limits | None = None
) -> Mapping[str, Any]:
    """Read a policy file (TOML, or JSON when it starts with ``{``) as plain data.

    Args:
        path: the file, whatever its name ends with.
        limits: how much of it is read (see :class:`~cxrecovery.Limits`).

    Raises:
        PolicyError: the file cannot be read, is not TOML or JSON or goes past a limit
            (one problem at the document's root): the input is unusable, not a policy
            with findings.

    .. versionadded:: 0.1.0
    .. versionchanged:: 0.2.0 ``limits``; no more than its byte limit is read.
    """
    return read_document(path, limits=limits or Limits())


def _invalid(error: PolicyError, origin: str | None = None) -> list[Finding]:
    # A problem in the checked file itself needs no file name (the report names it); one
    # in a file it extends keeps its own.
    mine = f"{origin}: " if origin else None
    return [
        Finding(
            "policy.invalid",
            FindingSeverity.ERROR,
            p.path.removeprefix(mine) if mine else p.path,
            p.message,
        )
        for p in error.problems
    ]


def check_policy(
    source: Policy | Mapping[str, Any] | str | os.PathLike[str],
    *,
    facts: Sequence[FactProvider] = (),
    as_of: datetime | None = None,
    limits: Limits | None = None,
) -> LintReport:
    """Load, compile and lint a policy; report what the loader refuses as findings too.

    Args:
        source: a loaded policy, a policy mapping, or the path of a TOML or JSON file.
        facts: the host fact providers the policy's tables may read.
        as_of: where the year in which every calendar must have open time starts
            (default: today, UTC).
        limits: how much of a policy document is read (see :class:`~cxrecovery.Limits`).

    Returns:
        The report; :attr:`LintReport.is_clean` when nothing was found.

    Raises:
        PolicyError: ``source`` is a file that cannot be read or parsed.

    .. versionadded:: 0.1.0
    """
    if isinstance(source, Policy):
        return analyze_policy(source, facts=facts, as_of=as_of)
    origin: str | None = None
    data: Mapping[str, Any] | str
    if isinstance(source, str) and source == "default":
        name, data = source, source
    elif isinstance(source, str | os.PathLike):
        name = origin = os.fspath(source)
        data = read_policy_document(source, limits=limits)
    else:
        name, data = "policy", source
    try:
        policy = load_policy(data, origin=origin, limits=limits or Limits())
    except PolicyError as error:
        return LintReport(name, _invalid(error, origin))
    report = analyze_policy(policy, facts=facts, as_of=as_of)
    mine = f"{origin}: " if origin else None
    # As in _invalid: the checked file's own paths need no file name.
    findings = [
        attrs.evolve(f, path=f.path.removeprefix(mine)) if mine else f for f in report.findings
    ]
    return LintReport(name, findings)


def analyze_policy(
    policy: Policy,
    *,
    facts: Sequence[FactProvider] = (),
    as_of: datetime | None = None,
) -> LintReport:
    """Lint a loaded policy: compile it, then check every table and the whole.

    Args:
        policy: the policy.
        facts: the host fact providers its tables may read.
        as_of: start of the year in which every calendar must open (default: today).

    Returns:
        The report, named after the policy.

    .. versionadded:: 0.1.0
    """
    name = f"{policy.name} {policy.version}"
    try:
        compiled = compile_policy(policy, facts=facts)
    except PolicyError as error:
        return LintReport(name, _invalid(error))
    start = as_of if as_of is not None else datetime.now(UTC)
    start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    tables = compiled.tables
    table_findings: list[Finding] = []
    for table_name, table in tables.items():
        table_findings.extend(analyze_table(table, path=f"tables.{table_name}"))
    for clock_name, table in compiled.clock_tables.items():
        table_findings.extend(analyze_table(table, path=f"clocks.{clock_name}.targets"))
    calendars, never_open = calendar_findings(policy, start)
    findings = merged(
        table_findings,
        compensation_findings(policy, tables),
        role_findings(policy),
        ladder_findings(policy),
        escalation_findings(policy),
        calendars,
        clock_findings(policy, compiled.clock_tables, never_open),
        unused_findings(policy, tables),
    )
    return LintReport(name, findings)


def category_findings(
    policy: Policy, categories: Mapping[str, int], *, facts: Sequence[FactProvider] = ()
) -> list[Finding]:
    """The failure categories no table row names, as warnings.

    A host's own category (``billing_dispute``) is welcome in a case, but where no row
    of a table that reads ``category`` names it, the case gets only the rows that do not
    ask for one (the default's generic remedy). Each such category is one finding.

    Args:
        policy: the policy.
        categories: the categories to look up, each with how many cases carry it.
        facts: the host fact providers the policy's tables may read.

    .. versionadded:: 0.2.0
    """
    tables = compile_policy(policy, facts=facts).tables
    readers = {name: t for name, t in tables.items() if "category" in t.inputs}
    findings: list[Finding] = []
    for category, count in sorted(categories.items()):
        named = any(
            not cell.is_any and cell.admits(category)
            for table in readers.values()
            for rule in table.rules
            for cell in rule.conditions
            if cell.column == "category"
        )
        if readers and not named:
            findings.append(
                Finding(
                    "cases.category_unnamed",
                    FindingSeverity.WARNING,
                    "failure.category",
                    f"{category!r} ({count} case(s)) is named by no row of "
                    f"{', '.join(f'tables.{n}' for n in sorted(readers))}: such cases get "
                    "only the rows that ask for no category",
                )
            )
    return findings
