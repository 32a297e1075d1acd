"""The ``simulate`` and ``synth`` commands, for ``cxrecovery.cli`` to register."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any, Literal, TextIO

from cxrecovery.documents import dump
from cxrecovery.errors import CxRecoveryError
from cxrecovery.policy import Policy, default_policy, load_policy
from cxrecovery.replay._compare import Comparison, compare
from cxrecovery.replay._replay import simulate
from cxrecovery.replay._report import html_report, write_table
from cxrecovery.replay._synth import synthetic_cases
from cxrecovery.replay._tally import Summary

__all__ = ["add_commands"]


class _Progress:
    """A one-line counter on stderr, only when stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._on = stream.isatty()
        self._start = time.perf_counter()

    def __call__(self, done: int) -> None:
        if self._on:
            rate = done / max(time.perf_counter() - self._start, 1e-9)
            self._stream.write(f"\r{done:>10,} cases  {rate:>8,.0f}/s")
            self._stream.flush()

    def close(self) -> None:
        if self._on:
            self._stream.write("\n")


def _writable(path: str) -> bool:
    """Whether ``path`` can name the report: not a folder, in a folder that exists."""
    target = Path(path)
    return not target.is_dir() and target.parent.is_dir()


def _policy(path: str | None) -> Policy:
    if not path or path == "default":
        return default_policy()
    return load_policy(Path(path))  # a path, whatever its name ends with


def _cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    try:
        policy = _policy(args.policy)
        against = _policy(args.against) if args.against else None
    except (CxRecoveryError, OSError) as error:
        sys.stderr.write(f"cxrecovery: {error}\n")
        return 2
    if args.report and not _writable(args.report):
        sys.stderr.write(
            f"cxrecovery: --report: cannot write {args.report!r}: "
            "not a file in an existing folder\n"
        )
        return 2
    progress = _Progress(sys.stderr)
    result: Summary | Comparison
    at: Literal["walk"] | None = "walk" if args.walk else None
    try:
        if against is None:
            result = simulate(policy, args.cases, at=at, on_error=args.on_error, progress=progress)
        else:
            result = compare(
                policy, against, args.cases, at=at, on_error=args.on_error, progress=progress
            )
    except (CxRecoveryError, OSError) as error:
        progress.close()
        sys.stderr.write(f"cxrecovery: {error}\n")
        return 2
    progress.close()
    if args.report:
        try:
            with open(args.report, "w", encoding="utf-8") as page:
                page.write(html_report(result))
        except OSError as error:
            sys.stderr.write(f"cxrecovery: --report: cannot write {args.report!r}: {error}\n")
            return 2
    if args.json:
        json.dump(result.to_dict(), out, indent=2, ensure_ascii=False)
        out.write("\n")
    else:
        write_table(result, out)
    return 0


def _cmd_synth(args: argparse.Namespace, out: TextIO) -> int:
    if args.cases < 0:
        sys.stderr.write(f"cxrecovery: --cases: {args.cases} is negative\n")
        return 2
    for case in synthetic_cases(args.cases, seed=args.seed):
        out.write(json.dumps(dump(case), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
    return 0


def add_commands(subparsers: Any) -> None:
    """Register ``simulate`` and ``synth`` on an argparse subparsers object.

    Each command's ``run(args, out)`` returns the exit code: 0 done, 2 unusable input.

    .. versionadded:: 0.1.0
    """
    sim = subparsers.add_parser(
        "simulate", help="replay cases (JSON Lines) under a policy, or compare two policies"
    )
    sim.add_argument("cases", help="a JSON Lines file: one case document a line")
    sim.add_argument(
        "--policy", help="the policy to replay (TOML or JSON, or 'default'); the default if none"
    )
    sim.add_argument(
        "--against", help="a second policy (a file, or 'default') to compare with the first"
    )
    sim.add_argument("--json", action="store_true", help="print the result as JSON")
    sim.add_argument(
        "--walk",
        action="store_true",
        help="decide each case at each of its event instants (as it was then) and report "
        "how often the policy would have acted earlier or later than what happened",
    )
    sim.add_argument("--report", metavar="OUT.html", help="also write an HTML report")
    sim.add_argument(
        "--on-error",
        choices=("skip", "fail"),
        default="skip",
        help="a bad line: count, list and skip it (default), or stop at it",
    )
    sim.set_defaults(run=_cmd_simulate)
    synth = subparsers.add_parser(
        "synth", help="write synthetic case histories as JSON Lines to stdout"
    )
    synth.add_argument("--cases", type=int, default=1000, help="how many cases (default 1000)")
    synth.add_argument("--seed", type=int, default=0, help="the seed (default 0)")
    synth.set_defaults(run=_cmd_synth)
