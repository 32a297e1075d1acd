"""The ``policy`` commands: see a policy after layering, and compare two.

``cxrecovery policy show [--resolved] [--json] POLICY`` and
``cxrecovery policy diff A B [--cases FILE] [--json]``; ``default`` names the bundled
policy wherever a policy path goes.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from cxrecovery.analysis import read_policy_document
from cxrecovery.policy import Policy, PolicyChange, default_policy, diff_policies, load_policy
from cxrecovery.policy.toml import dumps as toml_dumps
from cxrecovery.replay import Comparison, compare

__all__ = ["add_commands", "policy_from"]

_DEFAULT = "default"


def policy_from(source: str | None) -> Policy:
    """The policy a command line names: a file, ``default``, or (none) the default."""
    if source is None or source == _DEFAULT:
        return default_policy()
    # Always a path, whatever its name ends with: never read as the text of a policy.
    return load_policy(Path(source))


def _cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    document: Mapping[str, Any]
    if args.resolved or args.policy == _DEFAULT:
        document = policy_from(args.policy).document
    else:
        # As written: checked by loading it (with what it extends), shown as it stands.
        policy_from(args.policy)
        document = read_policy_document(args.policy)
    if args.json:
        json.dump(document, out, indent=2, ensure_ascii=False, default=str)
        out.write("\n")
    else:
        out.write(toml_dumps(document))
    return 0


def _aspects(comparison: Comparison) -> Counter[str]:
    """How many changed plans changed in each aspect (compensation, owner, clocks…)."""
    counts: Counter[str] = Counter()
    for change in comparison.changes:
        counts.update({line.split(":", 1)[0] for line in change.changes})
    return counts


def _cmd_diff(args: argparse.Namespace, out: TextIO) -> int:
    a, b = policy_from(args.a), policy_from(args.b)
    changes = diff_policies(a, b)
    comparison = (
        compare(a, b, os.fspath(args.cases), keep_changes=args.keep)
        if args.cases is not None
        else None
    )
    if args.json:
        data: dict[str, Any] = {
            "a": {"name": a.name, "version": a.version, "fingerprint": a.fingerprint},
            "b": {"name": b.name, "version": b.version, "fingerprint": b.fingerprint},
            "changes": [c.to_dict() for c in changes],
        }
        if comparison is not None:
            data["plans"] = {
                "decisions": comparison.a.decisions,
                "changed": comparison.changed,
                "by_aspect": dict(sorted(_aspects(comparison).items())),
                "comparison": comparison.to_dict(),
            }
        json.dump(data, out, indent=2, ensure_ascii=False)
        out.write("\n")
        return 0
    out.write(f"A: {a.name} {a.version} ({a.fingerprint[:19]}…)\n")
    out.write(f"B: {b.name} {b.version} ({b.fingerprint[:19]}…)\n")
    _write_changes(changes, out)
    if comparison is not None:
        _write_plans(comparison, out)
    return 0


def _write_changes(changes: tuple[PolicyChange, ...], out: TextIO) -> None:
    if not changes:
        out.write("\nThe policies decide alike: no row, limit, clock or calendar differs.\n")
        return
    out.write(f"\n{len(changes)} difference(s) in the policies\n")
    section = None
    for change in changes:
        head = change.path.split(".", 1)[0].split("[", 1)[0]
        if head != section:
            out.write(f"  [{head}]\n")
            section = head
        out.write(f"    {change}\n")


def _write_plans(comparison: Comparison, out: TextIO) -> None:
    decisions = comparison.a.decisions
    out.write(f"\nPlans: {comparison.changed} of {decisions} decision(s) change\n")
    for aspect, count in sorted(_aspects(comparison).items(), key=lambda kv: (-kv[1], kv[0])):
        out.write(f"  {aspect:<24} {count}\n")
    shown = comparison.changes[:10]
    for change in shown:
        out.write(f"  {change.case_id} at {change.at}\n")
        for what in change.changes:
            out.write(f"    {what}\n")
    if comparison.changed > len(shown):
        out.write(f"  … and {comparison.changed - len(shown)} more (see --json)\n")


def add_commands(subparsers: Any) -> None:
    """Register ``policy show`` and ``policy diff`` on an argparse subparsers object.

    .. versionadded:: 0.2.0
    """
    policy = subparsers.add_parser("policy", help="see a policy after layering, compare two")
    commands = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    show = commands.add_parser("show", help="print a policy as TOML (or JSON)")
    show.add_argument("policy", help="a policy file (TOML or JSON), or 'default'")
    show.add_argument(
        "--resolved",
        action="store_true",
        help="after layering: what extends, replace and remove add up to",
    )
    show.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    show.set_defaults(run=_cmd_show)
    diff = commands.add_parser(
        "diff", help="what changed from policy A to B; with --cases, which plans change"
    )
    diff.add_argument("a", help="policy A: a file, or 'default'")
    diff.add_argument("b", help="policy B: a file, or 'default'")
    diff.add_argument(
        "--cases", metavar="FILE", help="JSON Lines cases: replay both and count changed plans"
    )
    diff.add_argument(
        "--keep",
        type=int,
        default=100_000,
        help="how many changed plans to keep for the per-aspect counts (default 100000)",
    )
    diff.add_argument("--json", action="store_true", help="print the differences as JSON")
    diff.set_defaults(run=_cmd_diff)
