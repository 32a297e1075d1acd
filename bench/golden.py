"""Golden output: a deterministic dump of what cxrecovery decides, to compare two trees.

A refactoring that must not change behaviour (a layout move, a faster core) proves it by
dumping the same inputs through the old code and the new and finding no difference:

    python bench/golden.py                       # the dump of this tree, to stdout
    python bench/golden.py --out golden.txt      # ... to a file
    python bench/golden.py --compare /tmp/old    # this tree against another tree
    python bench/golden.py --compare /tmp/old --cases 200   # a quicker look

Make the other tree with ``git worktree add --detach /tmp/old <commit>``. Each tree's
code runs in its own interpreter with ``PYTHONPATH=<tree>/src``; the *inputs* (this
script, the example cases, the host-test policy) always come from this tree, so only the
code differs. The comparison reports the first differing entries as unified diffs and
exits 1 when there is any difference, 0 when the dumps are identical.

What the dump holds, each entry under a key line (``== section/name``):

- the five examples in ``examples/cases`` and the host-test cases in
  ``examples/host-tests/cases`` (the latter under the host-test policy): plans as JSON and
  as the CLI's text (``decide`` and ``explain``), the explained plan's JSON, for every role
  of the policy and at several instants; the facts; authorisations of a few amounts;
- ``--cases`` synthetic cases (default 1,000, from :func:`cxrecovery.synthetic_cases`) at
  three instants each, every role of the default policy acting: each plan's JSON (as a
  SHA-256 digest, with the full text for every 25th case) and its ``next_review_at``;
  facts and an authorisation per case;
- sweeps over the synthetic cases at several instants, with and without the previous
  sweep's ``next_reviews``; a replay summary (``simulate``);
- sweeps around New York's autumn DST fold (a policy whose calendars keep New York
  time, and the default), asked in UTC, New York and Paris time: where a sweep compares
  times of one zone by wall clock and times of two zones as instants;
- the messages of errors raised by bad documents and bad arguments.

Only public names are used, so the script runs against any tree of the project.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import hashlib
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent  # the tree the inputs come from
Entry = tuple[str, str]


def _text(value: object) -> str:
    """A deterministic text of any result: JSON of the document form where there is one."""
    import cxrecovery as cx

    try:
        return json.dumps(cx.dump(value), indent=1, sort_keys=True, ensure_ascii=False)
    except Exception:  # not every value has a document form
        return repr(value)


def _error(call: Callable[[], object]) -> str:
    try:
        result = call()
    except Exception as error:  # the error is the output
        return f"{type(error).__module__.split('.')[0]}.{type(error).__name__}: {error}"
    return f"no error: {type(result).__name__}"


def _cli(*argv: str) -> str:
    from cxrecovery.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(list(argv), out=out)
    return f"exit {code}\n{out.getvalue()}{err.getvalue()}"


def _instants(case: Any) -> list[datetime]:
    last = case.last_event_at()
    return [last, last + timedelta(hours=5), last + timedelta(days=3, hours=2)]


def _story_entries(section: str, paths: list[Path], policy_path: Path | None) -> Iterator[Entry]:
    import cxrecovery as cx

    policy = cx.load_policy(policy_path) if policy_path else cx.default_policy()
    engine = cx.Engine(policy)
    roles = [r.name for r in policy.roles]
    policy_args = ["--policy", str(policy_path)] if policy_path else []
    for path in paths:
        name = f"{section}/{path.stem}"
        case = cx.load_case(path)
        yield f"{name}/case", cx.dump(case).__repr__()
        for at in _instants(case):
            stamp = at.isoformat()
            yield f"{name}/{stamp}/facts", _text(dict(sorted(engine.facts(case, at).items())))
            for role in roles:
                agent = cx.Agent("golden", role)
                plan = engine.decide(case, at=at, agent=agent)
                yield f"{name}/{stamp}/{role}/plan.json", plan.to_json()
                yield f"{name}/{stamp}/{role}/next_review_at", repr(plan.next_review_at)
                yield f"{name}/{stamp}/{role}/decision", _text(plan.decision())
                for kind in ("decide", "explain"):
                    yield (
                        f"{name}/{stamp}/{role}/{kind}.txt",
                        _cli(kind, str(path), "--at", stamp, "--agent", role, *policy_args),
                    )
                value = case.failure.value_at_stake
                currency = value.currency if value is not None else "GBP"
                for amount in ("5", "40", "250", "5000"):
                    for form in ("credit", "refund"):
                        yield (
                            f"{name}/{stamp}/{role}/authorize/{amount}/{form}",
                            _error(
                                lambda a=amount, f=form, g=agent, c=case, m=currency, t=at: (
                                    engine.authorize(c, cx.Money(Decimal(a), m), f, at=t, agent=g)
                                )
                            ),
                        )
            explained = engine.decide(case, at=at, explain=True)
            yield f"{name}/{stamp}/explain.json", explained.to_json()
        yield f"{name}/decide.json", _cli("decide", str(path), "--json", *policy_args)
        yield f"{name}/explain.json", _cli("explain", str(path), "--json", *policy_args)


def _synthetic_entries(count: int) -> Iterator[Entry]:
    import cxrecovery as cx

    policy = cx.default_policy()
    engine = cx.Engine(policy)
    roles = [r.name for r in policy.roles]
    cases = list(cx.synthetic_cases(count, seed=13))
    for index, case in enumerate(cases):
        name = f"synthetic/{index}/{case.id}"
        for at in _instants(case):
            stamp = at.isoformat()
            facts = engine.facts(case, at)
            yield f"{name}/{stamp}/facts", _text(dict(sorted(facts.items())))
            for role in roles:
                plan = engine.decide(case, at=at, agent=cx.Agent("golden", role))
                text = plan.to_json()
                if index % 25 == 0:
                    yield f"{name}/{stamp}/{role}/plan.json", text
                else:
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    yield f"{name}/{stamp}/{role}/plan.sha256", digest
                yield f"{name}/{stamp}/{role}/next_review_at", repr(plan.next_review_at)
            value = case.failure.value_at_stake
            if value is not None:
                amount = cx.Money((value.amount / 3).quantize(Decimal(1)), value.currency)
                yield (
                    f"{name}/{stamp}/authorize",
                    _error(
                        lambda m=amount, t=at, c=case: engine.authorize(
                            c, m, "credit", at=t, agent=cx.Agent("golden", roles[0])
                        )
                    ),
                )
    # Sweeps: the scheduler's question over the open cases, several times in a row.
    open_cases = [c for c in cases if not c.is_closed]
    previous: Any = None
    start = datetime(2025, 1, 20, 9, 0, tzinfo=UTC)
    for step in range(6):
        at = start + timedelta(days=step * 11, hours=step * 3)
        result = engine.sweep(open_cases, at, horizon=timedelta(hours=step))
        yield f"sweep/{at.isoformat()}", _text(result)
        if previous is not None:
            again = engine.sweep(open_cases, at, next_reviews=previous.next_reviews)
            yield f"sweep/{at.isoformat()}/incremental", _text(again)
        previous = result
    summary = cx.simulate(policy, cases[: min(300, len(cases))])
    yield "simulate/default", _text(summary)


def _fold_entries() -> Iterator[Entry]:
    """Sweeps around 2026-11-01 01:00-02:00 in New York, when that hour comes twice."""
    from zoneinfo import ZoneInfo

    import cxrecovery as cx

    new_york = ZoneInfo("America/New_York")
    ny_hours = {"time_zone": "America/New_York", "hours": {"mon-sun": ["00:00-24:00"]}}
    overlay = {
        "policy": {"name": "new-york", "version": "1", "extends": "default"},
        "calendars": {"support": ny_hours, "always": ny_hours},
    }
    engines = {
        "new-york": cx.Engine(cx.load_policy(overlay)),
        "default": cx.Engine(cx.default_policy()),
    }
    first = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 23:00 in New York, before the fold
    for severity in (cx.Severity.MEDIUM, cx.Severity.CRITICAL):
        for promised in (False, True):
            failure = cx.Failure(
                "late_delivery",
                severity,
                cx.Fault.COMPANY,
                value_at_stake=cx.Money("80", "USD"),
                service_usable=True,
            )
            for opened_after in range(0, 180, 30):
                opened = first + timedelta(minutes=opened_after)
                due = opened + timedelta(hours=3)
                case = cx.Case(
                    f"fold-{severity.value}-{promised}-{opened_after}",
                    cx.Customer("u-1", time_zone="America/New_York" if promised else None),
                    failure,
                    opened,
                    channel=cx.Channel.EMAIL if promised else cx.Channel.CHAT,
                    promises=(cx.Promise("p-1", "call back", opened, due),) if promised else (),
                )
                for name, engine in engines.items():
                    texts = []
                    for after in range(0, 300, 10):
                        at = (opened + timedelta(minutes=after)).astimezone(new_york)
                        for horizon in (timedelta(0), timedelta(minutes=30)):
                            result = engine.sweep(
                                [case], at, horizon=horizon, promise_horizon=timedelta(minutes=45)
                            )
                            texts.append(
                                repr((at, result.items, sorted(result.next_reviews.items())))
                            )
                    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()
                    yield f"fold/{case.id}/{name}", digest
    start = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    cases = list(cx.synthetic_cases(60, seed=5, start=start, span=timedelta(hours=6)))
    for after in (1, 2, 3, 5, 8, 13, 20, 30):
        for zone in (UTC, new_york, ZoneInfo("Europe/Paris")):
            at = (start + timedelta(hours=after)).astimezone(zone)
            for name, engine in engines.items():
                result = engine.sweep(cases, at, horizon=timedelta(hours=8))
                yield f"fold/synthetic/{at.isoformat()}/{name}", _text(result)


def _error_entries() -> Iterator[Entry]:
    import cxrecovery as cx

    good = json.loads((HERE / "examples/cases/laptop-repair.json").read_text())
    bad_cases: dict[str, Any] = {
        "not-a-mapping": [1, 2],
        "empty": {},
        "bad-severity": {**good, "failure": {**good["failure"], "severity": "hgih"}},
        "naive-time": {**good, "opened_at": "2026-01-05T09:00:00"},
        "bad-money": {**good, "failure": {**good["failure"], "value_at_stake": "12 XYZ"}},
        "extra-field": {**good, "surprise": True},
        "bad-touchpoint": {**good, "touchpoints": [{"at": "x", "channel": "owl"}]},
    }
    for name, document in bad_cases.items():
        yield f"errors/case/{name}", _error(lambda d=document: cx.load_case(d))
    yield "errors/case/not-json", _error(lambda: cx.load_case(b"{not json"))
    bad_policies: dict[str, Any] = {
        "empty": {},
        "unknown-parent": {"policy": {"name": "x", "version": "1", "extends": "nope"}},
        "bad-role": {
            "policy": {"name": "x", "version": "1", "extends": "default"},
            "roles": [{"name": "Bad Role", "rank": "high"}],
        },
        "bad-table": {
            "policy": {"name": "x", "version": "1", "extends": "default"},
            "tables": {"recovery": {"hit_policy": "sometimes", "rules": [{"when": 3}]}},
        },
    }
    for name, document in bad_policies.items():
        yield (
            f"errors/policy/{name}",
            _error(lambda d=document: cx.Engine(cx.load_policy(d))),
        )
    engine = cx.Engine(cx.default_policy())
    case = cx.load_case(good)
    at = case.last_event_at()
    yield "errors/decide/naive", _error(lambda: engine.decide(case, at=at.replace(tzinfo=None)))
    yield (
        "errors/decide/role",
        _error(lambda: engine.decide(case, at=at, agent=cx.Agent("a", "ceo"))),
    )
    yield (
        "errors/decide/spent",
        _error(lambda: engine.decide(case, at=at, spent=cx.Money(Decimal("1"), "JPY"))),
    )
    yield (
        "errors/authorize/form",
        _error(lambda: engine.authorize(case, cx.Money(Decimal("1"), "GBP"), "gold bars", at=at)),
    )
    yield "errors/cli/missing", _cli("decide", "/nonexistent/case.json")
    yield "schema", json.dumps(cx.case_schema(), indent=1, sort_keys=True)


def entries(count: int) -> Iterator[Entry]:
    """Every entry of the dump, in a fixed order."""
    yield from _story_entries("examples", sorted((HERE / "examples/cases").glob("*.json")), None)
    host = HERE / "examples/host-tests"
    host_cases = sorted(p for p in (host / "cases").glob("*.json") if ".plan." not in p.name)
    yield from _story_entries("host-tests", host_cases, host / "policy.toml")
    yield from _error_entries()
    yield from _synthetic_entries(count)
    yield from _fold_entries()


def _write(count: int, out: io.TextIOBase | Any) -> None:
    for key, text in entries(count):
        out.write(json.dumps([key, text], ensure_ascii=False) + "\n")


def _run_in(tree: Path, count: int, target: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    argv = [sys.executable, __file__, "--cases", str(count), "--jsonl", str(target)]
    return subprocess.Popen(argv, env=env, cwd=HERE)


def _read(path: Path) -> Iterator[Entry]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            key, text = json.loads(line)
            yield key, text


def compare(other: Path, count: int, *, show: int = 3) -> int:
    """Dump this tree and ``other`` side by side; print the first differences."""
    with tempfile.TemporaryDirectory() as scratch:
        mine, theirs = Path(scratch, "this.jsonl"), Path(scratch, "other.jsonl")
        runs = [_run_in(HERE, count, mine), _run_in(other.resolve(), count, theirs)]
        if any(run.wait() for run in runs):
            print("golden: a dump failed (see above)", file=sys.stderr)
            return 2
        differences = total = 0
        by_section: dict[str, int] = {}
        a_entries, b_entries = _read(mine), _read(theirs)
        for (a_key, a_text), (b_key, b_text) in zip(a_entries, b_entries, strict=False):
            total += 1
            if a_key == b_key and a_text == b_text:
                continue
            differences += 1
            section = "/".join(
                a_key.split("/")[:2]
                if a_key.startswith(("examples", "host-tests"))
                else a_key.split("/")[:1]
            )
            by_section[section] = by_section.get(section, 0) + 1
            if differences <= show:
                print(f"--- {other} {b_key}\n+++ {HERE} {a_key}")
                diff = difflib.unified_diff(
                    b_text.splitlines(), a_text.splitlines(), lineterm="", n=2
                )
                print("\n".join(list(diff)[2:42]))
        rest = sum(1 for _ in a_entries) + sum(1 for _ in b_entries)
        if rest:
            differences += 1
            print(f"the dumps differ in length ({rest} entries more on one side)")
        for section, number in by_section.items():
            print(f"  {section}: {number} entries differ")
        print(f"golden: {total} entries compared, {differences} differ ({HERE} vs {other})")
        return 1 if differences else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1000, help="synthetic cases (1000)")
    parser.add_argument("--out", help="write the readable dump here (default: stdout)")
    parser.add_argument("--compare", metavar="TREE", help="another source tree to compare")
    parser.add_argument("--show", type=int, default=3, help="differences to print (3)")
    parser.add_argument("--jsonl", help=argparse.SUPPRESS)  # one entry a line, for --compare
    args = parser.parse_args()
    if args.compare:
        return compare(Path(args.compare), args.cases, show=args.show)
    if args.jsonl:
        with open(args.jsonl, "w", encoding="utf-8") as out:
            _write(args.cases, out)
        return 0
    with (
        open(args.out, "w", encoding="utf-8")
        if args.out
        else contextlib.nullcontext(sys.stdout) as out
    ):
        for key, text in entries(args.cases):
            out.write(f"== {key}\n{text}" + ("" if text.endswith("\n") else "\n"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
