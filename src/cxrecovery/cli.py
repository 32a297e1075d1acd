"""The ``cxrecovery`` command: the library's documents and decisions from a shell.

Exit codes: 0 success, 1 the command ran and found something wrong, 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from cxrecovery.documents import case_schema, dump, load_case
from cxrecovery.errors import CxRecoveryError
from cxrecovery.model import Case, Direction

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cxrecovery", description="Service recovery decisions with their reasons."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="read a case document and summarise it")
    show.add_argument("case", help="path of a case document (JSON)")
    show.add_argument("--json", action="store_true", help="print the canonical document")
    show.set_defaults(run=_cmd_show)
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


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
