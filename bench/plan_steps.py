"""Where a replay's or a cold sweep's instructions go, step by step, under callgrind.

Run (from a tree with this script; ``--tree`` defaults to it)::

    .venv/bin/python bench/plan_steps.py --measure replay --cases 100
    .venv/bin/python bench/plan_steps.py --measure sweep --cases 100 \\
        --step cxrecovery.engine.sweep:_due --step cxrecovery.engine:Engine.decide

Runs ``bench/ab_driver.py``'s operation for ``--measure`` (``replay``: ``simulate`` of
``--cases`` synthetic documents, seed 7; ``sweep``: a new ``Engine`` and a cold sweep of
``--cases`` open cases, seed 11) once, after the driver's own warm-up on other cases. Each ``--step
module:name`` (a dotted name for a method) is wrapped where the module looks it up by one
that calls ``os.getppid()`` on entry and on exit; callgrind (``--dump-before=os_getppid``)
writes one dump part per marker. A part is counted to the innermost step open when it
starts (steps nested in others are counted apart, not in their caller), less the
markers' own cost; what no step covers is ``(rest)``. Prints instructions per case for
each step, its calls, and the whole operation's. ``PYTHONHASHSEED=0``. Give steps that
are not called from inside one another's wrappers twice over (recursion) only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from ab import run_callgrind  # bench/ is the script's own folder, first on sys.path

HERE = Path(__file__).resolve().parent
DEFAULT_STEPS = {
    "replay": [
        "cxrecovery.replay._replay:_case_of",
        "cxrecovery.engine:Engine.decide",
        "cxrecovery.replay._tally:_Tally.add",
    ],
    "sweep": [
        "cxrecovery.engine:Engine",
        "cxrecovery.engine:Engine.decide",
        "cxrecovery.engine.sweep:_due",
    ],
}


def _wrap(step: str, labels: list[str], on: list[bool]) -> None:
    mark = os.getppid
    module, _, name = step.rpartition(":")
    *path, last = name.split(".")
    owner: Any = importlib.import_module(module)
    for part in path:
        owner = getattr(owner, part)
    inner = getattr(owner, last)
    if isinstance(inner, type):  # a class: its construction

        class Wrapped(inner):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                if not on[0]:
                    super().__init__(*args, **kwargs)
                    return
                labels.append("+" + step)
                mark()
                super().__init__(*args, **kwargs)
                labels.append("-" + step)
                mark()

        Wrapped.__name__ = Wrapped.__qualname__ = inner.__name__
        setattr(owner, last, Wrapped)
        return

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not on[0]:
            return inner(*args, **kwargs)
        labels.append("+" + step)
        mark()
        found = inner(*args, **kwargs)
        labels.append("-" + step)
        mark()
        return found

    setattr(owner, last, wrapped)


def _child(measure: str, cases: int, steps: list[str], docs_file: str) -> None:
    sys.path.insert(0, str(HERE))
    import ab_driver

    labels: list[str] = []
    on = [False]
    if os.environ.get("PLAN_STEPS_NO_GC"):
        import gc

        gc.disable()
    for step in steps:
        _wrap(step, labels, on)
    with tempfile.TemporaryDirectory() as tmp:
        docs_path = Path(docs_file) if docs_file else Path(tmp) / "docs.json"
        if not docs_file:
            ab_driver.write_docs(docs_path, cases)
        docs = json.loads(docs_path.read_text(encoding="utf-8"))
        # The setup warms up as ab_driver's does (on other cases): the measured
        # operation is the first on its cases.
        operations, units = ab_driver.setup(measure, docs, 1, Path(tmp))
        mark = os.getppid
        mark()
        mark()
        on[0] = True
        operations[0]()
        on[0] = False
        mark()
    print(json.dumps({"units": units, "labels": labels}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE.parent)
    parser.add_argument("--measure", choices=("replay", "sweep"), default="replay")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--step", action="append", default=[])
    parser.add_argument("--docs", default="", help="the input documents ab_driver wrote")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    steps = args.step or DEFAULT_STEPS[args.measure]
    if args.child:
        _child(args.measure, args.cases, steps, args.docs)
        return 0
    env = dict(os.environ, PYTHONPATH=str(args.tree.resolve() / "src"), PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="plan-steps-") as tmp:
        argv = [os.path.realpath(sys.executable), __file__, "--child"]
        argv += [f"--measure={args.measure}", f"--cases={args.cases}"]
        argv += [f"--step={s}" for s in steps]
        if args.docs:
            argv.append(f"--docs={Path(args.docs).resolve()}")
        stdout, parts = run_callgrind(Path(tmp), argv, env)
    report = json.loads(stdout.strip().splitlines()[-1])
    units, labels = report["units"], report["labels"]
    # parts: the setup, the marker alone, then one part after each label's marker (the
    # first starts the measured operation), the last the operation's end to the exit.
    marker = parts[1]
    measured = parts[2:-1]
    assert len(measured) == len(labels) + 1, (len(measured), len(labels))
    totals: dict[str, int] = {}
    calls: dict[str, int] = {}
    stack: list[str] = ["(rest)"]
    for i, part in enumerate(measured):
        totals[stack[-1]] = totals.get(stack[-1], 0) + part - marker
        if i < len(labels):
            label = labels[i]
            if label[0] == "+":
                stack.append(label[1:])
                calls[label[1:]] = calls.get(label[1:], 0) + 1
            else:
                assert stack.pop() == label[1:], label
    whole = sum(totals.values())
    print(f"{args.measure}, {units} cases, {args.tree}: {whole / units:,.0f} Ir a case", end="")
    print(f" (marker {marker:,} Ir, {len(labels)} markers)")
    for name, total in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"  {total / units:>10,.0f}  {calls.get(name, 0):>6}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
