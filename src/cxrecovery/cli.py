"""The ``cxrecovery`` command: the library's documents and decisions from a shell.

Exit codes: 0 success, 1 the command ran and found something wrong, 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from cxrecovery._cli_policy import add_commands as _add_policy_commands
from cxrecovery._cli_policy import policy_from
from cxrecovery._version import __version__
from cxrecovery.analysis import LintReport, category_findings, check_policy
from cxrecovery.documents import case_schema, dump, load_case
from cxrecovery.engine import Engine
from cxrecovery.errors import CxRecoveryError, InvalidValueError
from cxrecovery.model import Agent, Case, Direction
from cxrecovery.plan import RecoveryPlan
from cxrecovery.replay import read_cases
from cxrecovery.replay.cli import add_commands as _add_replay_commands

__all__ = ["main"]


def _summary(case: Case, out: TextIO) -> None:
    failure = case.failure
    customer = case.customer
    value = f", {failure.value_at_stake} at stake" if failure.value_at_stake else ""
    usable = "still usable" if failure.service_usable else "not usable"
    out.write(f"Case {case.id} ({case.status}), opened {case.opened_at.isoformat()}\n")
    out.write(
        f"  customer   {customer.id}"
        + (f" ({customer.name})" if customer.name else "")
        + f", segment {customer.segment}"
        + (f", prefers {customer.preferred_channel}" if customer.preferred_channel else "")
        + "\n"
    )
    out.write(
        f"  failure    {failure.category}: {failure.severity} severity, fault "
        f"{failure.fault}{value}; service {usable}\n"
    )
    if failure.description:
        out.write(f"             {failure.description}\n")
    out.write(f"  owner      {case.owner or '(none)'}\n")
    inbound = [tp for tp in case.touchpoints if tp.direction is Direction.INBOUND]
    channels = sorted({str(tp.channel) for tp in case.touchpoints})
    out.write(
        f"  touchpoints {len(case.touchpoints)} ({len(inbound)} from the customer) on "
        f"{', '.join(channels) or 'no channel'}\n"
    )
    for tp in case.touchpoints:
        outcome = f" -> {tp.outcome}" if tp.outcome else ""
        feeling = f" [{tp.sentiment}]" if tp.sentiment else ""
        out.write(f"    {tp.at.isoformat()}  {tp.channel:<9} {tp.kind}{outcome}{feeling}\n")
    out.write(f"  promises   {len(case.promises)}\n")
    for promise in case.promises:
        out.write(
            f"    {promise.id}: {promise.what} (due {promise.due.isoformat()}, {promise.status})\n"
        )
    if case.grants:
        out.write(f"  granted    {len(case.grants)}\n")
        for grant in case.grants:
            amount = f" {grant.amount}" if grant.amount else ""
            out.write(f"    {grant.id}: {grant.form}{amount} at {grant.at.isoformat()}\n")


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    case = load_case(args.case)
    if args.json:
        json.dump(dump(case), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        _summary(case, out)
    return 0


def _cmd_schema(args: argparse.Namespace, out: TextIO) -> int:
    json.dump(case_schema(), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return 0


def _decision_time(case: Case, text: str | None) -> datetime:
    if text is None:
        # No wall clock: by default decide as of the latest thing the case records.
        return case.last_event_at()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValueError.at("--at", f"{text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise InvalidValueError.at("--at", f"naive datetime {text!r}; give an offset or zone")
    return at


def _plan_for(args: argparse.Namespace) -> tuple[Case, RecoveryPlan]:
    policy = policy_from(args.policy)
    engine = Engine(policy)
    case = load_case(args.case)
    at = _decision_time(case, args.at)
    agent = None
    if args.agent is not None or args.agent_id is not None:
        # An id alone acts in the policy's lowest role (the front line), as no agent does.
        role = args.agent if args.agent is not None else policy.roles[0].name
        agent = Agent(args.agent_id or "cli-agent", role)
    return case, engine.decide(case, at=at, agent=agent, explain=args.command == "explain")


def _when(at: datetime, case: Case) -> str:
    """An instant for people, on the case's clock (:meth:`Case.local_time`, as the plan's
    own text shows times), so that every time a plan prints reads in one zone: a change
    point one microsecond after a boundary (as ``next_review_at`` is) reads "just after
    10:45:00", not "10:45:00.000001"."""
    at = case.local_time(at)
    if at.microsecond == 1:
        return f"just after {at.replace(microsecond=0).isoformat()}"
    return at.isoformat()


def _render(case: Case, plan: RecoveryPlan, out: TextIO, *, trace: bool) -> None:
    out.write(f"Recovery plan for case {plan.case_id} at {_when(plan.decided_at, case)}\n")
    out.write(
        f"  policy   {plan.policy_name} {plan.policy_version} ({plan.policy_fingerprint[:19]}…)\n"
    )
    out.write(f"  acting   {plan.agent or '-'} as {plan.role}\n")
    out.write(f"  owner    {plan.owner}\n")
    out.write(f"  health   {plan.relationship_health}; escalation level {plan.escalation_level}\n")
    out.write("\nActions\n")
    for i, action in enumerate(plan.actions, 1):
        out.write(f"  {i}. {action.summary}\n")
        if action.due is not None:
            late = "  OVERDUE: past due at the decision time" if action.overdue else ""
            out.write(f"     due {_when(action.due, case)}{late}\n")
        for reason in action.reasons:
            facts = ", ".join(f"{k}={v}" for k, v in reason.facts.items())
            out.write(f"     why: {reason.text} [{reason.rule}{'; ' + facts if facts else ''}]\n")
    if plan.approvals:
        out.write("\nApprovals needed\n")
        for approval in plan.approvals:
            out.write(f"  {approval.role}: {approval.reason}\n")
    if plan.over_delivery and plan.expectation is not None:
        out.write(
            "\nOver-delivery: the customer's expectation baseline rises to "
            f"{plan.expectation.compensation_ratio} of the value at stake"
            f"{' (' + plan.expectation.remedy.value + ')' if plan.expectation.remedy else ''}\n"
        )
    if plan.clocks:
        out.write("\nClocks\n")
        for clock in plan.clocks:
            due = _when(clock.due_at, case) if clock.due_at else "-"
            out.write(f"  {clock.name:<15} {clock.status:<9} due {due}\n")
    review = _when(plan.next_review_at, case) if plan.next_review_at else "nothing can change"
    out.write(f"\nNext review: {review}\n")
    if trace:
        out.write("\nTrace\n")
        for item in plan.trace:
            inputs = ", ".join(f"{k}={v}" for k, v in item.inputs.items())
            out.write(f"  {item.table}: {inputs}\n")
            matched = ", ".join(item.matched) or "none"
            used = ", ".join(item.chosen) or "none"
            out.write(f"    matched {matched}; used {used}\n")
            if item.shadowed:
                out.write(f"    also matched but not used: {', '.join(item.shadowed)}\n")
            for why in item.why_not:
                out.write(f"    not matched: {why}\n")


def _cmd_decide(args: argparse.Namespace, out: TextIO) -> int:
    case, plan = _plan_for(args)
    if args.json:
        out.write(plan.to_json())
    else:
        _render(case, plan, out, trace=args.command == "explain")
    return 0


def _cmd_check(args: argparse.Namespace, out: TextIO) -> int:
    report = check_policy(args.policy)
    if args.cases is not None and not report.errors:
        counts = Counter(case.failure.category for case in read_cases(args.cases))
        policy = policy_from(args.policy)
        report = LintReport(report.policy, [*report.findings, *category_findings(policy, counts)])
    out.write(report.to_json() if args.json else f"{report}\n")
    return 0 if report.is_clean else 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxrecovery", description="Service recovery decisions with their reasons."
    )
    parser.add_argument("--version", action="version", version=f"cxrecovery {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="read a case document and summarise it")
    show.add_argument("case", help="path of a case document (JSON)")
    show.add_argument("--json", action="store_true", help="print the canonical document")
    show.set_defaults(run=_cmd_show)
    for name, text in (
        ("decide", "decide what to do about a case (the recovery plan)"),
        ("explain", "the plan with its full trace: every row, matched or not, and why"),
    ):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("case", help="path of a case document (JSON)")
        cmd.add_argument(
            "--policy",
            help="a policy file (TOML or JSON), or 'default' (the bundled one, also if none)",
        )
        cmd.add_argument(
            "--at",
            help="the decision time, ISO 8601 with an offset (default: the case's latest event)",
        )
        cmd.add_argument(
            "--agent",
            metavar="ROLE",
            help="the acting agent's role (default: the policy's lowest, the front line)",
        )
        cmd.add_argument(
            "--agent-id",
            metavar="ID",
            help="the acting agent's id (alone: an agent in the lowest role; default cli-agent)",
        )
        cmd.add_argument("--json", action="store_true", help="print the plan as JSON")
        cmd.set_defaults(run=_cmd_decide)
    _add_replay_commands(commands)
    _add_policy_commands(commands)
    check = commands.add_parser("check", help="lint a policy: gaps, dead rows, broken ladders")
    check.add_argument("policy", help="a policy file (TOML or JSON), or 'default'")
    check.add_argument(
        "--cases",
        metavar="FILE",
        help="JSON Lines cases: also report their failure categories that no row names",
    )
    check.add_argument("--json", action="store_true", help="print the findings as JSON")
    check.set_defaults(run=_cmd_check)
    schema = commands.add_parser("schema", help="print the JSON Schema of case documents")
    schema.set_defaults(run=_cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; return its exit code.

    .. versionadded:: 0.1.0
    """
    out = sys.stdout if out is None else out
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse has already printed the usage
        return int(stop.code or 0)
    try:
        return int(args.run(args, out))
    except CxRecoveryError as error:
        sys.stderr.write(f"cxrecovery: {error}\n")
        return 2
    except (RecursionError, MemoryError) as error:
        # The library refuses what goes past its limits; this is the last guard, so that
        # an input never ends in a traceback.
        sys.stderr.write(f"cxrecovery: the input is too large or too deeply nested ({error!r})\n")
        return 2
    except BrokenPipeError:
        # The reader went away (``cxrecovery synth | head``): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
