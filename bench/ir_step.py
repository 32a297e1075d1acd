"""Instructions spent inside one step of ``decide()``, under callgrind.

Run (from a tree with this script; ``--tree`` defaults to it)::

    .venv/bin/python bench/ir_step.py                                  # whole decide()
    .venv/bin/python bench/ir_step.py --step cxrecovery.engine._decision:compensate
    .venv/bin/python bench/ir_step.py --cases synthetic --ops 60 --tree /work/wt/base

Decides the typical case of ``bench/ab_driver.py`` (an hour after its last event,
warm), or ``--cases synthetic``: synthetic cases of seed 7 by an engine warmed on seed 8,
as ``ab.py`` does. With ``--step module:name`` (a dotted ``name`` for a method) the
function is wrapped, where the module looks it up, by one that calls ``os.getppid()``
before and after it; callgrind (``--dump-before=os_getppid``) writes one dump part per
marker, so every other part is one call of the step. The marker's own cost (two markers
back to back) is subtracted; the wrapper's call adds a few hundred instructions. The
median and the mean over the calls are printed. ``PYTHONHASHSEED=0``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from ab import run_callgrind  # bench/ is the script's own folder, first on sys.path

HERE = Path(__file__).resolve().parent


def _child(cases: str, ops: int, step: str | None) -> None:
    sys.path.insert(0, str(HERE))
    import ab_driver

    import cxrecovery as cx

    mark = os.getppid
    on = [False]
    if step:
        module, _, name = step.rpartition(":")
        *path, last = name.split(".")
        owner: Any = importlib.import_module(module)
        for part in path:
            owner = getattr(owner, part)
        inner = getattr(owner, last)

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not on[0]:
                return inner(*args, **kwargs)
            mark()
            found = inner(*args, **kwargs)
            mark()
            return found

        setattr(owner, last, wrapped)
    engine = cx.Engine(cx.default_policy())
    if cases == "typical":
        case = ab_driver.typical_case()
        for _ in range(20):
            engine.decide(case, at=ab_driver.after_last_event(case))
        work = [(case, ab_driver.after_last_event(case))] * ops
    else:
        for case in cx.synthetic_cases(30, seed=8):
            engine.decide(case, at=ab_driver.after_last_event(case))
        work = [(c, ab_driver.after_last_event(c)) for c in cx.synthetic_cases(ops, seed=7)]
    mark()
    mark()
    on[0] = True
    for case, at in work:
        if not step:
            mark()
        engine.decide(case, at=at)
        if not step:
            mark()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=HERE.parent)
    parser.add_argument("--cases", choices=("typical", "synthetic"), default="typical")
    parser.add_argument("--ops", type=int, default=20)
    parser.add_argument("--step", default="")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.cases, args.ops, args.step or None)
        return 0
    env = dict(os.environ, PYTHONPATH=str(args.tree.resolve() / "src"), PYTHONHASHSEED="0")
    with tempfile.TemporaryDirectory(prefix="ir-step-") as tmp:
        argv = [os.path.realpath(sys.executable), __file__, "--child", f"--cases={args.cases}"]
        argv += [f"--ops={args.ops}", f"--step={args.step}"]
        _, parts = run_callgrind(Path(tmp), argv, env)
    # The setup, the two markers, then (before, inside) pairs and the exit.
    marker = parts[1]
    inside = [p - marker for p in parts[3:-1:2]]
    print(
        f"{args.step or 'decide'} ({args.cases}, {args.tree}): {len(inside)} calls, "
        f"median {statistics.median(inside):,.0f} Ir, mean {statistics.mean(inside):,.0f} Ir"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
